# forksan case: control, SIGCHLD ignored in Python: the kernel reaps the children, none becomes a zombie
# requires: python3
# expect: none

# With SIGCHLD set to SIG_IGN the children are reaped by the kernel as they end.  The parent waits
# until both are gone (os.waitid with WNOWAIT then fails with ChildProcessError) and ends without
# a wait.
import os
import signal


def main():
    signal.alarm(5)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for _ in range(2):
        if os.fork() == 0:
            os._exit(0)
    try:
        while True:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        pass


main()
