# forksan case: a named thread takes and releases a threading.Lock; main forks while it is free
# requires: python3
# python: 3.8-3.13
# expect: lock-held-at-fork note holder=@parked python=3.8-3.12
# expect: threads-at-fork warning fork=@fork
# expect: fork-lock-race warning holder=@parked fork=@fork child=@child

# The thread is alive at the fork (so threads-at-fork), parked in a read, and released cache_lock
# before: the child takes the lock at once.  But the fork could as well have landed inside the
# thread's `with cache_lock:`, and the child's acquire would then wait forever: fork-lock-race.
# The thread's own tstate lock, which CPython forgets in the child, stays a note.
import os
import signal
import sys
import threading
import time

cache_lock = threading.Lock()


def wait_blocked_in_read(tid, fd, limit=3.0):
    path = "/proc/self/task/%d/syscall" % tid
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            with open(path) as f:
                fields = f.read().split()
        except OSError:
            time.sleep(0.1)
            return
        if len(fields) > 1 and fields[1] != "running" and int(fields[1], 16) == fd:
            return
        time.sleep(0.002)
    sys.exit("case: thread never blocked in read")


def flush(park, done):
    for _ in range(100):
        with cache_lock:
            pass
    os.write(done, b"d")
    os.read(park, 1)  # @parked


def main():
    signal.alarm(5)
    park_r, park_w = os.pipe()
    done_r, done_w = os.pipe()
    t = threading.Thread(target=flush, args=(park_r, done_w), name="flusher")
    t.start()
    os.read(done_r, 1)
    wait_blocked_in_read(t.native_id, park_r)
    pid = os.fork()  # @fork
    if pid == 0:
        got = cache_lock.acquire(timeout=1.0)  # @child
        os._exit(0 if got else 3)
    _, status = os.waitpid(pid, 0)
    os.write(park_w, b"x")
    t.join(3)
    if status != 0:
        sys.exit("case: child could not take the released lock (status %#x)" % status)


main()
