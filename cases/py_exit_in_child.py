# forksan case: a forked child ends with sys.exit() and runs the atexit callback its parent registered
# requires: python3
# expect: child-exit-runs-parent-cleanup warning

# The parent registers remove_lock_file with atexit and forks a worker; the worker ends with
# sys.exit(0), which runs the interpreter's shutdown in the child: the parent's callback too.
import atexit
import os
import signal
import sys


def remove_lock_file():
    pass  # stands for os.unlink("/run/app.lock")


def main():
    signal.alarm(5)
    atexit.register(remove_lock_file)
    pid = os.fork()  # @fork
    if pid == 0:
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
