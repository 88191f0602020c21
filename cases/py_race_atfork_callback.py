# forksan case: a lock used by a parked thread, taken again by the program's own after-fork callback (os.register_at_fork)
# requires: python3
# expect: fork-lock-race warning fork=@fork child=@child
# expect: lock-held-at-fork note python=3.8-3.12
# expect: threads-at-fork warning

# A "stats" thread takes stats_lock now and then and is parked when the main thread forks; the
# program's after_in_child callback takes the same lock to reset its counters.  CPython runs that
# callback from inside os.fork (run_at_forkers), but it is the program's code: had the fork landed
# while the stats thread held the lock, the child would wait forever inside os.fork.  The note is
# the stats thread's tstate lock (a semaphore on 3.8-3.12).
import os
import signal
import threading
import time

stats_lock = threading.Lock()
counters = {"requests": 0}
running = True


def stats():
    with stats_lock:
        counters["requests"] += 1
    while running:
        time.sleep(0.01)


def reset_counters():
    if stats_lock.acquire(timeout=1.0):  # @child
        counters["requests"] = 0
        stats_lock.release()


def main():
    signal.alarm(5)
    os.register_at_fork(after_in_child=reset_counters)
    t = threading.Thread(target=stats, name="stats")
    t.start()
    time.sleep(0.2)  # the stats thread has taken and released the lock, and sleeps
    pid = os.fork()  # @fork
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    global running
    running = False
    t.join()


main()
