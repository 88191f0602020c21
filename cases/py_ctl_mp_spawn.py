# forksan case: control, a multiprocessing Pool with the "spawn" start method while a thread holds a lock
# requires: python3
# python: 3.10-3.13
# expect: none

# spawn starts each worker as a fresh interpreter (fork and exec at once inside _posixsubprocess,
# or posix_spawn), so nothing of the parent's memory, and no lock a parent thread holds, reaches a
# worker.  A thread holds cache_lock through the whole pool's life, and the workers take a lock of
# their own: forksan reports nothing.  (On 3.8 and 3.9 _posixsubprocess forks rather than vforks,
# so each worker's start is a fork with the holder thread alive, followed at once by exec: a
# threads-at-fork note each, as for any program; the case runs on 3.10 and later.)
import multiprocessing
import os
import signal
import sys
import threading

cache_lock = threading.Lock()
worker_lock = None


def square(x):
    with worker_lock:
        return x * x


def init():
    global worker_lock
    worker_lock = threading.Lock()


def main():
    signal.alarm(20)
    r, w = os.pipe()

    def hold():
        with cache_lock:
            os.read(r, 1)

    t = threading.Thread(target=hold, name="holder")
    t.start()
    with multiprocessing.get_context("spawn").Pool(2, initializer=init) as pool:
        result = pool.map(square, range(8))
    os.write(w, b"x")
    t.join(5)
    if result != [x * x for x in range(8)]:
        sys.exit("case: wrong results %r" % result)


if __name__ == "__main__":
    main()
