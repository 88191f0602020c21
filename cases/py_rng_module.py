# forksan case: control, Python's random module is used by parent and child after os.fork
# requires: python3
# expect: none

# Python's random module is not libc's generator: its Mersenne Twister is seeded from getrandom
# at import, and CPython reseeds it in every forked child (random.py registers
# os.register_at_fork(after_in_child=...)), again from getrandom.  So parent and child draw
# different values, and forksan, which sees only the safe getrandom calls, must report nothing.
# The child sends its four values through a pipe and the parent checks they differ from its own.
import os
import random
import signal
import struct
import sys
import time

NDRAWS = 4


def wait_child(pid, limit=3.0):
    end = time.monotonic() + limit
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


def read_full(fd, size):
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            sys.exit("case: the child sent %d bytes, expected %d" % (len(data), size))
        data += chunk
    return data


def main():
    signal.alarm(5)
    r, w = os.pipe()

    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            values = [random.random() for _ in range(NDRAWS)]
            os.write(w, struct.pack("%dd" % NDRAWS, *values))
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    mine = [random.random() for _ in range(NDRAWS)]
    wait_child(pid)

    theirs = list(struct.unpack("%dd" % NDRAWS, read_full(r, 8 * NDRAWS)))
    if theirs == mine:
        sys.exit("case: parent and child drew the same values %r" % mine)


main()
