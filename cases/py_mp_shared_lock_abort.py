# forksan case: control: py_mp_shared_lock under --on-deadlock abort
# requires: python3
# on-deadlock: abort
# expect: lock-held-at-fork note
# expect: lock-held-at-fork note python=3.8-3.12
# expect: threads-at-fork warning

# The multiprocessing lock is a process-shared semaphore (mp_shared_lock.py says how the run goes):
# its holder, in the parent, releases it, so the child's acquire() is no child-deadlock and the
# abort policy must leave it alone; the held state stays visible as a note.  The second note is
# the holder thread's tstate lock (a semaphore on CPython 3.8-3.12, gone in 3.13), which CPython itself destroys in the child
# before any use.  The warning is the thread alive at a fork without exec.
import mp_shared_lock

if __name__ == "__main__":
    mp_shared_lock.run()
