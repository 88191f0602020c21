# forksan case: control: a ctypes mutex (CDLL("libc.so.6")) released before the fork
# requires: python3
# expect: lock-held-at-fork note
# expect: threads-at-fork warning

# The counterpart of py_ctypes_soname_mutex.py: the lock calls reach forksan's interposers through
# libc's handle, and a lock released before the fork leaves nothing behind; the child's trylock
# succeeds.  The note is the parked thread's tstate lock (CPython 3.11/3.12), which CPython
# destroys in the child before any use; the warning is the thread alive at the fork.
import ctypes_libc

if __name__ == "__main__":
    ctypes_libc.mutex_released("soname")
