# Shared body of the py_mp_shared_lock*.py cases (not a case itself: it has no case header).
#
# A multiprocessing.Lock is a process-shared semaphore (sem_open, or sem_init with pshared):
# a thread of the parent holds it when a "fork" Process starts, the child takes it with a plain
# acquire(), and the holder releases it from the parent once the child blocks on it.  The child then gets the lock and ends normally, whatever forksan's --on-deadlock policy:
# nothing in the child waits for a vanished thread.
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings


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


def wait_futex_sleep(pid, limit=3.0):
    """Return once process pid sleeps in a futex wait (blocked on a lock), or after limit."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            with open("/proc/%d/wchan" % pid) as f:
                if "futex" in f.read():
                    return
        except OSError:
            return  # /proc cannot tell: the case only loses precision
        time.sleep(0.002)


def child(lock, go_w):
    signal.alarm(5)  # a child that never gets the lock dies instead of hanging
    os.write(go_w, b"%d\n" % os.getpid())
    lock.acquire()  # a plain blocking acquire: the parent releases it
    lock.release()


def run():
    signal.alarm(5)
    warnings.simplefilter("ignore", DeprecationWarning)
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    held_r, held_w = os.pipe()
    go_r, go_w = os.pipe()

    def holder():
        lock.acquire()
        os.write(held_w, b"h")
        child_pid = int(os.read(go_r, 32))
        wait_futex_sleep(child_pid)  # the child blocks on the lock
        lock.release()

    thread = threading.Thread(target=holder, name="holder")
    thread.start()
    os.read(held_r, 1)
    wait_blocked_in_read(thread.native_id, go_r)

    proc = ctx.Process(target=child, args=(lock, go_w), name="child")
    proc.start()
    proc.join(4)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        sys.exit("case: the child did not finish")
    if proc.exitcode != 0:
        sys.exit("case: the child ended with exit code %d, expected 0" % proc.exitcode)
    thread.join(3)
    if thread.is_alive():
        sys.exit("case: holder thread did not end")
