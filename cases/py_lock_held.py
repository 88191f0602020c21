# forksan case: a threading.Lock is held by a Python thread when the main thread calls os.fork
# requires: python3
# python: 3.8-3.13
# expect: lock-held-at-fork warning holder=@holding fork=@fork
# expect: lock-held-at-fork note holder=@holding fork=@fork python=3.8-3.12
# expect: threads-at-fork warning fork=@fork
# expect: child-deadlock warning child=@childlock fork=@fork

# CPython 3.8 to 3.12 build threading.Lock on a POSIX semaphore, so the shim sees a binary-used
# semaphore at 0 whose taker is the holder thread.  The acquisition is inside libpython and its
# Python line cannot be known without touching the lock hot path; the holder's Python stack at the
# fork (holder=) is.  The lock-held-at-fork finding is listed twice: every live threading.Thread
# also holds its own "tstate lock", a semaphore it took itself at start (Thread._set_tstate_lock)
# and that the interpreter releases only when the thread ends; CPython forgets it in the child, so
# forksan names it and reports it as a note.  The holder is known to be blocked in os.read,
# holding neither the GIL nor any pthread mutex of the interpreter, before main forks, so the run
# is deterministic.  The child's bounded acquire must fail.
# That acquire is a sem_trywait, then a sem_clockwait, inside libpython: forksan reports one
# child-deadlock warning (both only fail), at the child's Python line.
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


def main():
    signal.alarm(5)
    # 3.12+ warns about forking a threaded process; that warning is this case's very point.
    warnings.simplefilter("ignore", DeprecationWarning)
    lock = threading.Lock()
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

    pid = os.fork()  # @fork
    if pid == 0:
        os._exit(0 if not lock.acquire(timeout=0.2) else 3)  # @childlock
    wait_child(pid)

    os.write(release_w, b"r")
    thread.join(3)
    if thread.is_alive():
        sys.exit("case: holder thread did not end")


main()
