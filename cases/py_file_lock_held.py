# forksan case: a thread blocked inside a Python file's write() holds the file's internal lock at os.fork
# requires: python3
# expect: lock-held-at-fork warning holder=@blocked
# expect: lock-held-at-fork note python=3.8-3.12
# expect: threads-at-fork warning

# A reporter thread writes a large record to a file object over a pipe whose reader is slow, so
# it sits inside write(), holding the BufferedWriter's internal lock, when the main thread forks.
# A child that wrote to the same file would wait on that lock forever; this one only exits.
# forksan names the lock: "internal lock of the BufferedWriter of pipe:[N]" (tests/cli checks the
# name).  The note is the reporter's tstate lock (a semaphore on 3.8-3.12).
import os
import signal
import threading
import time

r, w = os.pipe()
report = os.fdopen(w, "w")


def reporter():
    report.write("x" * (1 << 20))  # @blocked
    report.flush()


def main():
    signal.alarm(5)
    t = threading.Thread(target=reporter, name="reporter")
    t.start()
    time.sleep(0.3)  # the pipe is full: the reporter is blocked in write()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    got = 0
    while got < (1 << 20):
        got += len(os.read(r, 65536))
    t.join()


main()
