# forksan case: a multiprocessing "fork" child waits for a job on a pipe nobody writes to; the parent joins it
# requires: python3
# python: 3.8-3.13
# timeout: 3
# expect: child-hang error hang=@join
# expect: child-hang error hang=@waitjob

# Both processes are alive at the 3 s limit.  forksan reports each one's threads where they are
# blocked, with their Python frames: CPython dumps them itself (its faulthandler traceback
# dumper, called in the stopped process), merged with the native stacks.  The parent's is
# located at the user's proc.join(), the child's at its read.  Each process ends itself after 30 s
# (far beyond the limit) if run without forksan.
import multiprocessing
import os
import signal


def wait_for_job(r):
    signal.alarm(30)
    os.read(r, 1)  # @waitjob


def main():
    signal.alarm(30)
    r, w = os.pipe()
    proc = multiprocessing.get_context("fork").Process(target=wait_for_job, args=(r,))
    proc.start()
    proc.join()  # @join


if __name__ == "__main__":
    main()
