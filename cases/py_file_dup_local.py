# forksan case: a file held only in a function's local variable has a line buffered at os.fork; both processes write it
# requires: python3
# python: 3.10-3.13
# expect: stdio-unflushed-at-fork error

# The way most programs hold a file: a local variable of the function that works with it, here a
# `with` block.  The first line is still in the file's buffer at os.fork(); the child writes its
# own line and leaves the block (closing, so flushing, its copy) before os._exit, the parent after
# the wait: the file holds the first line twice.  (3.10+: the shim reads frame locals only while
# it can pause the cyclic GC, docs/python.md.)
import os
import signal
import sys
import tempfile


def work(path):
    with open(path, "w") as out:
        out.write("start\n")
        pid = os.fork()  # @fork
        if pid == 0:
            out.write("child\n")
            out.close()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
    return status


def main():
    signal.alarm(5)
    workdir = tempfile.mkdtemp()
    path = os.path.join(workdir, "out.txt")
    status = work(path)
    with open(path) as f:
        lines = f.read().splitlines()
    os.unlink(path)
    os.rmdir(workdir)
    if status != 0 or lines.count("start") != 2:
        sys.exit("case: the line was not written twice: %r" % lines)


main()
