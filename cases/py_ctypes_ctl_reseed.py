# forksan case: control: rand() through CDLL(find_library("c")), the child reseeds first
# requires: python3
# expect: none

# The counterpart of py_ctypes_findlib_rand.py: the child's libc.srand(os.getpid()) starts a
# lineage no other process uses, so the draws recorded through forksan's interposers differ.
import ctypes_libc

if __name__ == "__main__":
    ctypes_libc.rand_reseeded("findlib")
