# forksan case: control, a single-threaded Python program forks and the child ends with os._exit
# requires: python3
# expect: none

# The interpreter's own locks must not be mistaken for hazards: the main thread holds its tstate
# lock and, during os.fork, the import lock, both semaphores it took itself, so they are the
# forker's and not binary-used locks of another thread.  No thread, no lock, nothing to report.
import os
import signal
import sys
import time


def main():
    signal.alarm(5)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            if status != 0:  # exited with 0 (os.waitstatus_to_exitcode is 3.9+)
                sys.exit("case: child ended with status %#x" % status)
            return
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    sys.exit("case: child did not finish in time")


main()
