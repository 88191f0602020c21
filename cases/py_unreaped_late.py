# forksan case: a Python parent forks a worker, then runs on with other work for seconds before os.waitpid: the worker stays a zombie all that time
# requires: python3
# expect: unreaped-child warning
# env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000

# The worker ends at once with os._exit.  The parent makes sure it has ended without reaping it
# (os.waitid with WNOWAIT, so the case does not depend on timing), then spends 2 s on other work
# before os.waitpid: past the 1 s threshold the header sets.
import os
import signal
import sys
import time


def main():
    signal.alarm(10)
    pid = os.fork()  # @fork
    if pid == 0:
        os._exit(0)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    time.sleep(2)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: worker failed")


main()
