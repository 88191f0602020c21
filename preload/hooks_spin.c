/* Interposers for spin locks.  See hooks_mutex.c for how to add one. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

int pthread_spin_lock(pthread_spinlock_t *l)
{
    FS_REAL_READY();
    FS_CHILD_CHECK((const void *)l, FS_MODE_EXCL, 0, EBUSY);
    struct fs_thread *t = fs_held_prepare((const void *)l, FS_LOCK_SPIN, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_spin_lock(l);
    if (FS_LIKELY(r == 0))
        fs_held_commit(t);
    return r;
}

int pthread_spin_trylock(pthread_spinlock_t *l)
{
    FS_REAL_READY();
    FS_CHILD_CHECK((const void *)l, FS_MODE_EXCL, 1, 0);
    struct fs_thread *t = fs_held_prepare((const void *)l, FS_LOCK_SPIN, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_spin_trylock(l);
    if (r == 0)
        fs_held_commit(t);
    return r;
}

int pthread_spin_unlock(pthread_spinlock_t *l)
{
    FS_REAL_READY();
    fs_held_pop((const void *)l);
    return fs_real.pthread_spin_unlock(l);
}

int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
    FS_REAL_READY();
    FS_CHILD_FORGET((const void *)l);
    fs_held_forget((const void *)l);
    return fs_real.pthread_spin_init(l, pshared);
}

int pthread_spin_destroy(pthread_spinlock_t *l)
{
    FS_REAL_READY();
    FS_CHILD_FORGET((const void *)l);
    int r = fs_real.pthread_spin_destroy(l);
    if (r == 0)
        fs_held_forget((const void *)l);
    return r;
}
