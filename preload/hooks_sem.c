/* Interposers for POSIX semaphores.
 *
 * A semaphore has no owner, so it counts as "held" only when used as a lock: the last successful
 * decrement and the thread that made it go to the semaphore table (registry.c); a post by that
 * thread releases it, a post by another thread marks it a signal.  While a thread sits in
 * sem_wait, the registry notes which semaphore, so that a thread blocked on a semaphore it
 * decremented itself (CPython's Condition waiters) is seen as waiting for a signal, not holding a
 * lock.  sem_wait and friends set errno on failure: the hooks never touch it. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

static inline void blocked_on(const sem_t *s)
{
    struct fs_thread *t = fs_tls_self;
    if (t)
        __atomic_store_n(&t->blocked_on_sem, (uintptr_t)s, __ATOMIC_RELAXED);
}

int sem_wait(sem_t *s)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(s, FS_MODE_EXCL, 0, (errno = ETIMEDOUT, -1));
    blocked_on(s);
    int r = fs_real.sem_wait(s);
    blocked_on(NULL);
    if (r == 0)
        fs_sem_acquired(s, FS_CALLER());
    return r;
}

int sem_trywait(sem_t *s)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(s, FS_MODE_EXCL, 1, 0);
    int r = fs_real.sem_trywait(s);
    if (r == 0)
        fs_sem_acquired(s, FS_CALLER());
    return r;
}

int sem_timedwait(sem_t *s, const struct timespec *t)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(s, FS_MODE_EXCL, 1, (errno = ETIMEDOUT, -1));
    blocked_on(s);
    int r = fs_real.sem_timedwait(s, t);
    blocked_on(NULL);
    if (r == 0)
        fs_sem_acquired(s, FS_CALLER());
    return r;
}

int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *t)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(s, FS_MODE_EXCL, 1, (errno = ETIMEDOUT, -1));
    if (!fs_real.sem_clockwait) {
        errno = ENOSYS;
        return -1;
    }
    blocked_on(s);
    int r = fs_real.sem_clockwait(s, clk, t);
    blocked_on(NULL);
    if (r == 0)
        fs_sem_acquired(s, FS_CALLER());
    return r;
}

/* Told before the real post: once posted, a waiter may take it and record itself. */
int sem_post(sem_t *s)
{
    FS_REAL_READY();
    fs_sem_posted(s);
    return fs_real.sem_post(s);
}

int sem_init(sem_t *s, int pshared, unsigned value)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(s);
    int r = fs_real.sem_init(s, pshared, value);
    if (r == 0)
        fs_sem_initialized(s, value);
    return r;
}

int sem_destroy(sem_t *s)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(s);
    fs_sem_forget(s);
    return fs_real.sem_destroy(s);
}
