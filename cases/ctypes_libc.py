# Shared body of the py_ctypes_*.py cases (not a case itself: it has no case header).
#
# Programs reach libc through ctypes with a library handle, ctypes.CDLL("libc.so.6") or
# ctypes.CDLL(ctypes.util.find_library("c")): every attribute is a dlsym on libc's handle, which
# natively returns libc's own function.  forksan's dlsym hands out its interposer instead, so these
# calls are traced like a C program's.
import ctypes
import ctypes.util
import errno
import os
import signal
import struct
import sys
import threading
import time
import warnings

NDRAWS = 4


def open_libc(how):
    if how == "soname":
        return ctypes.CDLL("libc.so.6", use_errno=True)
    name = ctypes.util.find_library("c")
    if not name:
        sys.exit("case: ctypes.util.find_library('c') found nothing")
    return ctypes.CDLL(name, use_errno=True)


def wait_blocked_in_read(tid, fd, limit=3.0):
    """Return once thread tid sits in a syscall whose first argument is fd (its read)."""
    path = "/proc/self/task/%d/syscall" % tid
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            with open(path) as f:
                fields = f.read().split()
        except OSError:
            time.sleep(0.1)  # no syscall file: a grace period is the best we can do
            return
        if len(fields) > 1 and fields[1] != "running" and int(fields[1], 16) == fd:
            return
        time.sleep(0.002)
    sys.exit("case: holder thread never blocked in read")


def wait_child(pid, limit=3.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            if status != 0:
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


def mutex_held(how):
    """A thread locks a pthread mutex through ctypes and parks; main forks; the child's
    pthread_mutex_trylock must fail with EBUSY."""
    signal.alarm(5)
    warnings.simplefilter("ignore", DeprecationWarning)
    libc = open_libc(how)
    mutex = ctypes.create_string_buffer(64)  # all zero: PTHREAD_MUTEX_INITIALIZER
    held_r, held_w = os.pipe()
    release_r, release_w = os.pipe()

    def holder():
        if libc.pthread_mutex_lock(mutex) != 0:
            os._exit(5)
        os.write(held_w, b"h")
        os.read(release_r, 1)
        libc.pthread_mutex_unlock(mutex)

    thread = threading.Thread(target=holder, name="holder")
    thread.start()
    os.read(held_r, 1)
    wait_blocked_in_read(thread.native_id, release_r)

    pid = os.fork()
    if pid == 0:
        os._exit(0 if libc.pthread_mutex_trylock(mutex) == errno.EBUSY else 3)
    wait_child(pid)
    os.write(release_w, b"r")
    thread.join(3)
    if thread.is_alive():
        sys.exit("case: holder thread did not end")


def rand_duplicated(how):
    """libc.srand(3), fork, both processes draw libc.rand(): the same values."""
    signal.alarm(5)
    libc = open_libc(how)
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


def mutex_released(how):
    """Control: the thread locks and unlocks the mutex through ctypes before main forks."""
    signal.alarm(5)
    warnings.simplefilter("ignore", DeprecationWarning)
    libc = open_libc(how)
    mutex = ctypes.create_string_buffer(64)
    done_r, done_w = os.pipe()
    release_r, release_w = os.pipe()

    def user():
        if libc.pthread_mutex_lock(mutex) != 0 or libc.pthread_mutex_unlock(mutex) != 0:
            os._exit(5)
        os.write(done_w, b"d")
        os.read(release_r, 1)

    thread = threading.Thread(target=user, name="user")
    thread.start()
    os.read(done_r, 1)
    wait_blocked_in_read(thread.native_id, release_r)

    pid = os.fork()
    if pid == 0:
        ok = libc.pthread_mutex_trylock(mutex) == 0 and libc.pthread_mutex_unlock(mutex) == 0
        os._exit(0 if ok else 3)
    wait_child(pid)
    os.write(release_w, b"r")
    thread.join(3)


def rand_reseeded(how):
    """Control: the child reseeds with its own pid before drawing; the values differ."""
    signal.alarm(5)
    libc = open_libc(how)
    r, w = os.pipe()
    libc.srand(3)

    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            libc.srand(os.getpid())
            values = [libc.rand() for _ in range(NDRAWS)]
            os.write(w, struct.pack("%di" % NDRAWS, *values))
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    mine = [libc.rand() for _ in range(NDRAWS)]
    wait_child(pid)
    theirs = list(struct.unpack("%di" % NDRAWS, read_full(r, 4 * NDRAWS)))
    if theirs == mine:
        sys.exit("case: the reseeded child drew the parent's values %r" % mine)
