# forksan case: control, Python descriptors passed on purpose: os.dup2 before exec, subprocess pass_fds
# requires: python3
# expect: none

# The child dup2()s the pipe's read end onto fd 5 before it execs; subprocess.run passes the write
# end with pass_fds (Python's own child code makes it inheritable and closes the rest).  Both are
# deliberate; nothing else is inheritable in Python by default.
import os
import signal
import subprocess
import sys


def main():
    signal.alarm(5)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(r, 5)
            os.execv("/bin/true", ["true"])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")
    subprocess.run(["/bin/true"], pass_fds=[w], check=True)


main()
