# forksan case: a line printed before os.fork is still in sys.stdout's buffer; parent and child both write it
# requires: python3
# expect: stdio-unflushed-at-fork error

# sys.stdout goes to a file (the runner's log), so Python buffers it; the "starting 2 jobs" line is
# still in Python's own buffer (above libc) at os.fork.  The child prints its own line and flushes,
# which writes the inherited line too, then ends with os._exit; the parent writes it again at exit.
import os
import signal
import sys


def main():
    signal.alarm(5)
    print("starting 2 jobs")
    pid = os.fork()  # @fork
    if pid == 0:
        print("job 1 running in", os.getpid())
        sys.stdout.flush()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
