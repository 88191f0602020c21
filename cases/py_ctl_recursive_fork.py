# forksan case: control, recursive divide and conquer in Python: each child forks one level deeper in the Python stack
# requires: python3
# expect: none

# Every os.fork is the same line of total(), but each child forks one recursion level deeper than
# the fork that made it: a different Python stack (the native stacks are all the interpreter's
# loop), so no child repeats its creator's fork.  Each child returns its partial sum as its exit
# status through os._exit.
import os
import signal
import sys


def total(lo, hi, depth):
    if depth == 0 or hi - lo < 2:
        return sum(range(lo, hi))
    mid = (lo + hi) // 2
    pid = os.fork()
    if pid == 0:
        os._exit(total(lo, mid, depth - 1) & 0x7F)
    right = total(mid, hi, depth - 1)
    _, status = os.waitpid(pid, 0)
    return right + os.WEXITSTATUS(status)


def main():
    signal.alarm(5)
    if total(0, 16, 3) != 120:
        sys.exit("case: wrong sum")


main()
