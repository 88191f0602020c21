# forksan case: control, a Python child registers its own atexit callback after fork and ends with sys.exit()
# requires: python3
# expect: none

# The parent registers nothing and has nothing buffered; the child registers its own callback and
# ends through sys.exit(), which runs only what the child asked for.
import atexit
import os
import signal
import sys


def main():
    signal.alarm(5)
    pid = os.fork()
    if pid == 0:
        atexit.register(lambda: None)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
