# forksan case: a Python job loop whose child forgets os._exit: it goes back into the loop and forks jobs of its own
# requires: python3
# expect: child-repeats-fork warning

# Four jobs; each child runs its job and, missing os._exit, returns into the loop and forks the
# remaining jobs again: 16 processes.  Every process reaps its children.  The native stacks of
# all os.fork calls are the interpreter's loop; forksan compares the Python stacks.  The case
# counts the processes through a pipe and fails natively unless there are 16.
import os
import signal
import sys


def run_job(n):
    pass


def main():
    signal.alarm(5)
    r, w = os.pipe()
    root = os.getpid()
    for job in range(4):
        pid = os.fork()  # @fork
        if pid == 0:
            run_job(job)  # missing: os._exit(0)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    os.write(w, b"x")
    if os.getpid() != root:
        return
    os.close(w)
    total = 0
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        total += len(chunk)
    if total != 16:
        sys.exit("case: %d processes, expected 16" % total)


main()
