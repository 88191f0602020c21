# forksan case: rand() through CDLL("libc.so.6"): parent and child draw the same values
# requires: python3
# expect: rng-duplicated error

# libc.srand(3) before os.fork, then libc.rand() in parent and child: the same values, which the
# parent checks.  ctypes looks srand and rand up in libc's own handle; forksan's dlsym hands out
# its interposers, so the draws are recorded as a C program's would be (ctypes_libc.py).
import ctypes_libc

if __name__ == "__main__":
    ctypes_libc.rand_duplicated("soname")
