/* Interposers for spin locks.  See hooks_mutex.c for the two paths and how to add one.  A spin
 * lock has no owner field for the forked child to confirm an entry against, so the entry is
 * published only after the real call returned (a thread still spinning holds nothing). */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

#define SLOW __attribute__((noinline, cold))

static SLOW int spin_lock_slow(pthread_spinlock_t *l, int is_try, uintptr_t site)
{
    FS_REAL_READY();
    FS_CHILD_CHECK_AS(is_try ? "pthread_spin_trylock" : "pthread_spin_lock", (const void *)l,
                      FS_MODE_EXCL, is_try, is_try ? 0 : EBUSY);
    struct fs_thread *t = fs_held_prepare((const void *)l, FS_LOCK_SPIN, FS_MODE_EXCL, site);
    int r = is_try ? fs_real.pthread_spin_trylock(l) : fs_real.pthread_spin_lock(l);
    if (r == 0)
        fs_held_commit(t);
    return r;
}

static SLOW int spin_unlock_slow(pthread_spinlock_t *l)
{
    FS_REAL_READY();
    fs_held_pop_slow((const void *)l);
    return fs_real.pthread_spin_unlock(l);
}

int pthread_spin_lock(pthread_spinlock_t *l)
{
    struct fs_thread *t = fs_fast_prepare((const void *)l, FS_LOCK_SPIN, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return spin_lock_slow(l, 0, FS_CALLER());
    int r = fs_real.pthread_spin_lock(l);
    if (FS_LIKELY(r == 0))
        fs_fast_commit(t);
    return r;
}

int pthread_spin_trylock(pthread_spinlock_t *l)
{
    struct fs_thread *t = fs_fast_prepare((const void *)l, FS_LOCK_SPIN, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return spin_lock_slow(l, 1, FS_CALLER());
    int r = fs_real.pthread_spin_trylock(l);
    if (r == 0)
        fs_fast_commit(t);
    return r;
}

int pthread_spin_unlock(pthread_spinlock_t *l)
{
    if (FS_UNLIKELY(!fs_fast_pop((const void *)l)))
        return spin_unlock_slow(l);
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
