# forksan case: control, Python output pending at fork but the child execs at once
# requires: python3
# expect: none

# The line is still in sys.stdout's buffer at os.fork, but the child replaces its image with
# /bin/true at once: its copy is gone with the image, only the parent writes the line.
import os
import signal
import sys


def main():
    signal.alarm(5)
    print("running /bin/true")
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/true", ["true"])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
