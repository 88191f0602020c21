# forksan case: control, a forked child ends with sys.exit() and runs only the standard library's own atexit callbacks
# requires: python3
# expect: none

# The program imports modules that register atexit callbacks for their own state: logging
# (logging.shutdown, which flushes and closes the handlers), multiprocessing (util._exit_function,
# which terminates the process's multiprocessing children: it has none) and weakref.finalize
# (finalize._exitfunc, run on the first finalize(): no finalizer is left at the fork).  The
# program registers nothing; its child ends with sys.exit(0).  Those callbacks touch only the
# child's own copy: nothing of the parent's cleanup runs twice, so there is nothing to report.
import logging
import multiprocessing  # noqa: F401 (registers multiprocessing.util._exit_function)
import multiprocessing.util  # noqa: F401
import os
import signal
import sys
import weakref


class Resource:
    pass


def main():
    signal.alarm(5)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.info("parent starting")
    r = Resource()
    weakref.finalize(r, lambda: None)
    del r  # the finalizer ran: none is left
    pid = os.fork()  # @fork
    if pid == 0:
        logging.info("child working")
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
