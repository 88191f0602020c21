# forksan case: a thread holds a pthread mutex locked through CDLL("libc.so.6") at fork
# requires: python3
# expect: lock-held-at-fork warning
# expect: lock-held-at-fork note python=3.8-3.12
# expect: threads-at-fork warning
# expect: child-deadlock warning

# ctypes looks pthread_mutex_lock up in libc's own handle; forksan's dlsym hands out its
# interposer, so the lock the holder thread took is in the registry at fork and the child's
# bounded pthread_mutex_trylock (EBUSY) is a child-deadlock warning (ctypes_libc.py says how the
# run goes).  The calls are made by libffi, hence no markers.  The note is the holder thread's
# tstate lock (a semaphore on CPython 3.8-3.12, gone in 3.13), which CPython destroys in the child before any use.
import ctypes_libc

if __name__ == "__main__":
    ctypes_libc.mutex_held("soname")
