# forksan case: a multiprocessing "fork" child blocks on a threading.Lock that a parent thread holds
# requires: python3
# python: 3.8-3.13
# on-deadlock: abort
# expect: lock-held-at-fork warning holder=@holding fork=@start
# expect: lock-held-at-fork note holder=@holding python=3.8-3.12
# expect: threads-at-fork warning fork=@start
# expect: child-deadlock error child=@childlock fork=@start

# py_mp_fork.py with the child doing what real code does: a plain lock.acquire(), which would wait
# forever for a thread the child does not have.  CPython 3.11/3.12 acquire a threading.Lock in two
# steps, both inside libpython (hence no markers): a non-blocking sem_trywait while holding the
# GIL, which fails, then, with the GIL released, the blocking sem_wait.  That is one acquisition:
# one child-deadlock error (the blocking call's, its tried_first detail naming the sem_trywait),
# located at the child's Python line.  The abort policy ends the child at that second call
# with SIGABRT, so the Process's exitcode is -6.  The two lock-held-at-fork findings are the
# user's lock (__main__.lock, a warning, with the holder's Python stack at the fork) and the holder
# thread's tstate lock, which CPython itself forgets in the child (a note; see py_lock_held.py).
# The fork is located at the user's proc.start(), not inside multiprocessing.  The join is bounded, so
# that without forksan (the child then blocks for good) the case kills the child and fails.
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
    lock.acquire()  # blocks forever without forksan's abort policy  # @childlock
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
        sys.exit("case: child did not finish in time (is forksan's abort policy on?)")
    if proc.exitcode != -signal.SIGABRT:
        sys.exit("case: child ended with exit code %d, expected %d (SIGABRT from forksan's abort "
                 "policy)" % (proc.exitcode, -signal.SIGABRT))

    os.write(release_w, b"r")
    thread.join(3)
    if thread.is_alive():
        sys.exit("case: holder thread did not end")


if __name__ == "__main__":
    main()
