# forksan case: control, the classic double fork of a Python daemon: the intermediate exits, the grandchild is re-parented
# requires: python3
# expect: none

# The intermediate forks the daemon from another line and ends with os._exit; main reaps it.  The
# daemon waits until main closes a pipe, so it surely outlives the intermediate, and is re-parented
# to the run's subreaper.
import os
import signal


def main():
    signal.alarm(5)
    r, w = os.pipe()
    mid = os.fork()
    if mid == 0:
        os.close(w)
        os.setsid()
        if os.fork() == 0:
            while os.read(r, 1):
                pass
            os._exit(0)
        os._exit(0)
    os.close(r)
    os.waitpid(mid, 0)
    os.close(w)


main()
