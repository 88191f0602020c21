# forksan case: control: a Python parent that waits for its worker late, but well within the zombie threshold
# requires: python3
# expect: none
# env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000

# py_unreaped_late.py with 100 ms of other work between the worker's end and os.waitpid: a zombie
# for a moment is how every fork-wait works.
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
    time.sleep(0.1)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: worker failed")


main()
