# forksan case: multiprocessing starts a "fork" Process while a Python thread holds a threading.Lock
# requires: python3
# python: 3.8-3.13
# expect: lock-held-at-fork warning holder=@holding fork=@start
# expect: lock-held-at-fork note holder=@holding python=3.8-3.12
# expect: threads-at-fork warning fork=@start
# expect: child-deadlock warning child=@childlock fork=@start

# The same hazard as py_lock_held.py reached the way real programs reach it: the fork start method
# of multiprocessing, whose fork is inside the standard library: forksan locates it at the user's
# proc.start().  The two lock findings are the user's lock (a warning) and the holder thread's
# own tstate lock (a note; see py_lock_held.py).  The child function
# proves the lock came along taken, with a bounded acquire that must fail, and returns; the
# multiprocessing child then ends with os._exit.
# That acquire is a sem_trywait, then a sem_clockwait, inside libpython: forksan reports one
# child-deadlock warning (both only fail), at the child's Python line.
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings

lock = threading.Lock()


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


def child():
    if lock.acquire(timeout=0.2):  # @childlock
        sys.exit(3)


def main():
    signal.alarm(5)
    warnings.simplefilter("ignore", DeprecationWarning)
    held_r, held_w = os.pipe()
    release_r, release_w = os.pipe()

    def holder():
        lock.acquire()
        os.write(held_w, b"h")
        os.read(release_r, 1)  # @holding
        lock.release()

    thread = threading.Thread(target=holder, name="holder")
    thread.start()
    os.read(held_r, 1)
    wait_blocked_in_read(thread.native_id, release_r)

    proc = multiprocessing.get_context("fork").Process(target=child, name="child")
    proc.start()  # @start
    proc.join(3)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        sys.exit("case: child did not finish in time")
    if proc.exitcode != 0:
        sys.exit("case: child ended with exit code %d" % proc.exitcode)

    os.write(release_w, b"r")
    thread.join(3)
    if thread.is_alive():
        sys.exit("case: holder thread did not end")


if __name__ == "__main__":
    main()
