# forksan case: a runaway Python fork loop stopped by a small process limit: os.fork raises BlockingIOError
# requires: python3
# env: FORKSAN_MAX_PROCESSES=16
# expect: fork-storm error
# expect: child-repeats-fork warning

# Twelve jobs with the forgotten os._exit would make 4096 processes.  forksan's limit (16 alive at
# once) makes fork fail with EAGAIN, which Python raises as BlockingIOError; the loop stops there,
# every process reaps its children, and the tree ends by itself.  The case checks that some fork
# raised BlockingIOError with errno EAGAIN.
import errno
import os
import signal
import sys


def main():
    signal.alarm(5)
    r, w = os.pipe()
    root = os.getpid()
    for job in range(12):
        try:
            os.fork()  # @fork
        except BlockingIOError as e:
            if e.errno != errno.EAGAIN:
                os._exit(2)
            os.write(w, b"E")
            break
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    if os.getpid() != root:
        return
    os.close(w)
    if not os.read(r, 1):
        sys.exit("case: no fork was refused")


main()
