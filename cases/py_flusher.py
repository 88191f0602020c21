# forksan case: a worker thread named "flusher" holds a module-level threading.Lock while main forks
# requires: python3
# python: 3.8-3.13
# expect: lock-held-at-fork warning holder=@flushing fork=@fork
# expect: lock-held-at-fork note holder=@flushing python=3.8-3.12
# expect: threads-at-fork warning fork=@fork
# expect: child-deadlock warning child=@childlock fork=@fork

# The program of forksan's Python documentation: a cache flushed by a background thread under
# cache_lock, and a main thread that forks a worker which then takes the same lock.  The report must
# speak Python: the lock as __main__.cache_lock, the holder as "flusher" with the line it was at
# when main forked (inside `with cache_lock:`), main's os.fork() line, and the child's acquire line.
# The flusher's slow write is a read of a pipe nobody writes to until the child is reaped, so it
# holds the lock at the fork every time; it is parked in that read before main forks.
import os
import signal
import sys
import threading
import time

cache = {}
cache_lock = threading.Lock()


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
    sys.exit("case: flusher never blocked in its write")


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


def flush(sink, entered):
    with cache_lock:
        os.write(entered, b"f")
        os.read(sink, 1)  # the slow write to storage  # @flushing
        cache.clear()


def worker():
    # A bounded attempt: without forksan it must fail too, the lock came along taken.
    got = cache_lock.acquire(timeout=0.2)  # @childlock
    os._exit(3 if got else 0)


def main():
    signal.alarm(5)
    sink_r, sink_w = os.pipe()
    entered_r, entered_w = os.pipe()
    flusher = threading.Thread(target=flush, args=(sink_r, entered_w), name="flusher")
    flusher.start()
    os.read(entered_r, 1)
    wait_blocked_in_read(flusher.native_id, sink_r)
    pid = os.fork()  # @fork
    if pid == 0:
        worker()
    wait_child(pid)
    os.write(sink_w, b"x")
    flusher.join(3)
    if flusher.is_alive():
        sys.exit("case: flusher did not end")


main()
