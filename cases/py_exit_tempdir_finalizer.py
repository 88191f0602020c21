# forksan case: a forked child ends with sys.exit() and removes its parent's tempfile.TemporaryDirectory
# requires: python3
# expect: child-exit-runs-parent-cleanup warning

# TemporaryDirectory removes its directory through weakref.finalize, whose atexit callback runs
# every live finalizer.  The child inherits the parent's finalizer and ends with sys.exit(0): the
# interpreter's shutdown in the child deletes the directory the parent is still using.  The
# callback is the standard library's, but the cleanup is the parent's.
import os
import signal
import sys
import tempfile


def main():
    signal.alarm(5)
    work = tempfile.TemporaryDirectory(prefix="forksan-case-")
    pid = os.fork()  # @fork
    if pid == 0:
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")
    gone = not os.path.isdir(work.name)
    work.cleanup()
    if not gone:
        print("case: the directory survived the child (the finalizer did not run there)")


main()
