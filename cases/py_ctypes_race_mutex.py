# forksan case: a ctypes mutex (CDLL("libc.so.6")) used by a thread and released before the fork
# requires: python3
# expect: lock-held-at-fork note python=3.8-3.12
# expect: threads-at-fork warning
# expect: fork-lock-race warning

# The counterpart of py_ctypes_soname_mutex.py: the lock calls reach forksan's interposers through
# libc's handle.  The lock is released before the fork and the child's trylock succeeds, but the
# thread that used it was alive at the fork: a fork inside its critical section would have left
# the child a locked mutex (fork-lock-race).  The note is the parked thread's tstate lock (a semaphore on CPython 3.8-3.12, gone in 3.13), which CPython
# destroys in the child before any use; the warning is the thread alive at the fork.
import ctypes_libc

if __name__ == "__main__":
    ctypes_libc.mutex_released("soname")
