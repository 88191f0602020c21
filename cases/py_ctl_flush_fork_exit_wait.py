# forksan case: control, the tutorials' safe pattern in Python: print(flush=True), os.fork, os._exit in the child, os.waitpid in the parent
# requires: python3
# expect: none

# The pattern of the fork articles: output flushed before the fork, the child flushes its own
# output and ends with os._exit, the parent reaps it.  An atexit callback of the parent's does not
# run in the child.
import atexit
import os
import signal
import sys


def main():
    signal.alarm(5)
    atexit.register(lambda: None)
    print("starting the job", flush=True)
    pid = os.fork()
    if pid == 0:
        print("job running in", os.getpid(), flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
