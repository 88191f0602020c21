/* Interposers for condition variables (pthread_cond_* and C11 cnd_*).
 *
 * A thread inside a condition wait does not hold the mutex: it is released for the wait and
 * taken again before the call returns (also on timeout, and for a robust mutex on EOWNERDEAD).
 * So the entry leaves the registry for the duration of the wait and comes back after, with the
 * wait's call site as the acquisition site.  Only an entry that was there is put back: a wait on
 * a mutex the registry did not know about stays unknown. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, ETIMEDOUT);
    int had = fs_held_pop(m);
    int r = fs_real.pthread_cond_wait(c, m);
    if (had)
        fs_held_push(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    return r;
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, ETIMEDOUT);
    int had = fs_held_pop(m);
    int r = fs_real.pthread_cond_timedwait(c, m, t);
    if (had)
        fs_held_push(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    return r;
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                           const struct timespec *t)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, ETIMEDOUT);
    if (!fs_real.pthread_cond_clockwait)
        return ENOSYS;
    int had = fs_held_pop(m);
    int r = fs_real.pthread_cond_clockwait(c, m, clk, t);
    if (had)
        fs_held_push(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    return r;
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, thrd_timedout);
    int had = fs_held_pop(m);
    int r = fs_real.cnd_wait(c, m);
    if (had)
        fs_held_push(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    return r;
}

int cnd_timedwait(cnd_t *__restrict c, mtx_t *__restrict m, const struct timespec *__restrict t)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, thrd_timedout);
    int had = fs_held_pop(m);
    int r = fs_real.cnd_timedwait(c, m, t);
    if (had)
        fs_held_push(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    return r;
}
