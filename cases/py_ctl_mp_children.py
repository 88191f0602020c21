# forksan case: control, multiprocessing's fork children end with os._exit, so the parent's atexit callbacks stay in the parent
# requires: python3
# expect: none

# A pool of two workers with the fork start method maps a function over four items.  The parent has
# an atexit callback; the workers end through os._exit (multiprocessing's own bootstrap), and the
# pool is closed and joined, so no worker is left unreaped.  Output is flushed before the pool starts:
# multiprocessing's children flush sys.stdout before they end, so pending output would be
# written twice (a real stdio-unflushed-at-fork).
import atexit
import multiprocessing
import os
import signal
import sys


def square(x):
    return x * x


def main():
    signal.alarm(5)
    atexit.register(lambda: None)
    print("starting the pool", flush=True)
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2)
    result = pool.map(square, range(4))
    pool.close()
    pool.join()
    if result != [0, 1, 4, 9]:
        sys.exit("case: wrong result %r" % result)


main()
