# forksan case: control, a logging thread is inside its handler (holding the handler's lock) when main forks
# requires: python3
# python: 3.8-3.13
# expect: lock-held-at-fork note holder=@emitting
# expect: lock-held-at-fork note holder=@emitting python=3.8-3.12
# expect: threads-at-fork warning fork=@fork

# logging takes care of fork itself: it registers every handler's lock and re-creates it in the
# child (os.register_at_fork, Handler._at_fork_reinit), so the child never waits on the copy the
# logging thread held.  forksan must not warn about that lock: it names it (a logging handler lock,
# re-created in the child) and reports it as a note, like the thread's own tstate lock.  The
# threads-at-fork warning stays: a thread was alive at the fork.
# The handler writes with os.write to a pipe (no buffered-file lock in between); the thread's
# record is bigger than the pipe, so it blocks in emit() with the handler lock held until main
# drains the pipe after the fork.  The child then logs through the same handler: its record gets
# through only because its copy of the lock was re-created.
import logging
import os
import signal
import sys
import threading
import time


class PipeHandler(logging.Handler):
    def __init__(self, fd):
        super().__init__()
        self.fd = fd

    def emit(self, record):
        data = (self.format(record) + "\n").encode()
        while data:
            n = os.write(self.fd, data)  # @emitting
            data = data[n:]


def wait_blocked_in_write(tid, fd, limit=3.0):
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
    sys.exit("case: logging thread never blocked in its write")


def main():
    signal.alarm(5)
    log_r, log_w = os.pipe()
    log = logging.getLogger("case")
    log.addHandler(PipeHandler(log_w))
    log.setLevel(logging.INFO)
    big = "x" * (1 << 18)
    t = threading.Thread(target=lambda: log.info("%s", big), name="logger")
    t.start()
    wait_blocked_in_write(t.native_id, log_w)
    pid = os.fork()  # @fork
    if pid == 0:
        signal.alarm(3)  # without the re-created lock this would wait forever
        log.info("child %d", os.getpid())
        os._exit(0)
    # The thread's record and the child's may interleave in the pipe: read until both are in.
    child_line = b"child %d\n" % pid
    want = len(big) + 1 + len(child_line)
    got = b""
    while len(got) < want:
        got += os.read(log_r, 65536)
    if child_line not in got:
        sys.exit("case: the child's record is missing")
    _, status = os.waitpid(pid, 0)
    t.join(3)
    if status != 0:
        sys.exit("case: child ended with status %#x" % status)


main()
