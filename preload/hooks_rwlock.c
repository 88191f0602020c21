/* Interposers for reader-writer locks: read and write holders are recorded with their mode, so
 * the child can tell a write-held lock (any acquisition blocks) from a read-held one (writers
 * block).  See hooks_mutex.c for the two paths and how to add one.  The reader count the child
 * confirms a read entry against is not per thread, so entries are published only after the real
 * call succeeded. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

#define SLOW __attribute__((noinline, cold))

#define UNPAREN(...) __VA_ARGS__

/* `optional`: libc may lack it (the clock variants, glibc >= 2.30), fs_real.name is then NULL. */
#define RW_HOOK(name, mode, is_try, optional, params, args)                                        \
    static SLOW int name##_slow(uintptr_t site_, UNPAREN params)                                   \
    {                                                                                              \
        FS_REAL_READY();                                                                           \
        FS_CHILD_CHECK_AS(#name, l, mode, is_try, ETIMEDOUT);                                      \
        if (!fs_real.name)                                                                         \
            return ENOSYS;                                                                         \
        struct fs_thread *self_ = fs_held_prepare(l, FS_LOCK_RWLOCK, mode, site_);                 \
        int r = fs_real.name args;                                                                 \
        if (FS_LIKELY(r == 0))                                                                     \
            fs_held_commit(self_);                                                                 \
        return r;                                                                                  \
    }                                                                                              \
    int name params                                                                                \
    {                                                                                              \
        struct fs_thread *self_ = fs_fast_prepare(l, FS_LOCK_RWLOCK, mode, FS_CALLER());           \
        if (FS_UNLIKELY(!self_) || ((optional) && !fs_real.name))                                  \
            return name##_slow(FS_CALLER(), UNPAREN args);                                         \
        int r = fs_real.name args;                                                                 \
        if (FS_LIKELY(r == 0))                                                                     \
            fs_fast_commit(self_);                                                                 \
        return r;                                                                                  \
    }

RW_HOOK(pthread_rwlock_rdlock, FS_MODE_READ, 0, 0, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_tryrdlock, FS_MODE_READ, 1, 0, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_timedrdlock, FS_MODE_READ, 1, 0,
        (pthread_rwlock_t * l, const struct timespec *t), (l, t))
RW_HOOK(pthread_rwlock_clockrdlock, FS_MODE_READ, 1, 1,
        (pthread_rwlock_t * l, clockid_t c, const struct timespec *t), (l, c, t))
RW_HOOK(pthread_rwlock_wrlock, FS_MODE_WRITE, 0, 0, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_trywrlock, FS_MODE_WRITE, 1, 0, (pthread_rwlock_t * l), (l))
RW_HOOK(pthread_rwlock_timedwrlock, FS_MODE_WRITE, 1, 0,
        (pthread_rwlock_t * l, const struct timespec *t), (l, t))
RW_HOOK(pthread_rwlock_clockwrlock, FS_MODE_WRITE, 1, 1,
        (pthread_rwlock_t * l, clockid_t c, const struct timespec *t), (l, c, t))

static SLOW int rwlock_unlock_slow(pthread_rwlock_t *l)
{
    FS_REAL_READY();
    fs_held_pop_slow(l);
    return fs_real.pthread_rwlock_unlock(l);
}

int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    if (FS_UNLIKELY(!fs_fast_pop(l)))
        return rwlock_unlock_slow(l);
    return fs_real.pthread_rwlock_unlock(l);
}

int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *attr)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(l);
    fs_held_forget(l);
    return fs_real.pthread_rwlock_init(l, attr);
}

int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(l);
    int r = fs_real.pthread_rwlock_destroy(l);
    if (r == 0)
        fs_held_forget(l);
    return r;
}
