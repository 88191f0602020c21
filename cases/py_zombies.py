# forksan case: a Python parent starts two workers and never waits for them: they stay zombies until it ends
# requires: python3
# expect: unreaped-child warning

# The workers end with os._exit at once; the parent waits for their end without reaping them
# (os.waitid with WNOWAIT, so the zombies surely exist when it ends) and then ends itself.
import os
import signal


def main():
    signal.alarm(5)
    pids = []
    for _ in range(2):
        pid = os.fork()  # @fork
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


main()
