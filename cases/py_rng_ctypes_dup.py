# forksan case: a Python program seeds libc's rand() through ctypes, forks, and both processes draw
# requires: python3
# expect: rng-duplicated error

# The C bug reached from Python: libc.srand(3) before os.fork, then libc.rand() in parent and child
# gives both the same values.  libc is opened with CDLL(None), the program's global symbol scope,
# where forksan's interposed rand and srand come first, exactly as for a C program; the
# py_ctypes_*_rand.py cases open libc's own handle instead, where forksan's dlsym redirects the
# lookups.  The interpreter
# itself takes its randomness from getrandom, which is safe and not a finding.  The child sends
# its four values through a pipe and the parent checks they equal its own.
import ctypes
import os
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
    libc = ctypes.CDLL(None)
    r, w = os.pipe()
    libc.srand(3)

    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            values = [libc.rand() for _ in range(NDRAWS)]
            os.write(w, struct.pack("%di" % NDRAWS, *values))
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    mine = [libc.rand() for _ in range(NDRAWS)]
    wait_child(pid)

    theirs = list(struct.unpack("%di" % NDRAWS, read_full(r, 4 * NDRAWS)))
    if theirs != mine:
        sys.exit("case: the child drew %r, the parent %r: no duplicate" % (theirs, mine))


main()
