# forksan case: a forked child ends with sys.exit() and terminates its parent's daemonic multiprocessing worker
# requires: python3
# expect: child-exit-runs-parent-cleanup warning

# multiprocessing's atexit callback (util._exit_function) terminates the daemonic children of the
# process it runs in.  A child made with os.fork() inherits the parent's list of them and ends
# with sys.exit(0): its shutdown sends SIGTERM to the parent's worker, which the parent still
# needs.  The callback is the standard library's, but the children are the parent's.
import multiprocessing
import os
import signal
import sys
import time


def serve():
    time.sleep(30)


def main():
    signal.alarm(5)
    worker = multiprocessing.get_context("fork").Process(target=serve, daemon=True)
    worker.start()
    pid = os.fork()  # @fork
    if pid == 0:
        sys.exit(0)
    os.waitpid(pid, 0)
    worker.join(2)
    if worker.exitcode is None:
        print("case: the worker survived the child's exit")
        worker.terminate()
        worker.join()


main()
