# forksan case: Python forks while a native pthread started through ctypes holds a pthread mutex
# requires: python3
# args: {casebin}/libcase_native_holder.so
# expect: lock-held-at-fork warning acquire=native_holder.c@held
# expect: threads-at-fork warning

# Threads that Python's threading module never sees (those of C extensions and native libraries)
# hold locks across os.fork all the same.  The holder lives in native_holder.c, built as a shared
# library; its acquisition site is in that file.  start_holder() returns once the mutex is held.
# The child only ends; the parent reaps it and then lets the native thread go.
import ctypes
import os
import signal
import sys
import time
import warnings


def wait_child(pid, limit=3.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            if status != 0:  # exited with 0 (os.waitstatus_to_exitcode is 3.9+)
                sys.exit("case: child ended with status %#x" % status)
            return
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    sys.exit("case: child did not finish in time")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: py_native_thread.py PATH/libcase_native_holder.so")
    signal.alarm(5)
    warnings.simplefilter("ignore", DeprecationWarning)
    native = ctypes.CDLL(sys.argv[1])
    native.start_holder.restype = ctypes.c_int
    native.release_holder.restype = None
    if native.start_holder() != 0:
        sys.exit("case: start_holder failed")

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    wait_child(pid)

    native.release_holder()


main()
