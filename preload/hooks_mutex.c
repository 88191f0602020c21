/* Interposers for pthread mutexes and C11 mtx_t.
 *
 * How to add one: resolve it in real.c, then call the real function and report a success to the
 * registry: fs_held_prepare before the real acquisition and fs_held_commit when it succeeded,
 * fs_held_pop BEFORE the real release.
 * Return values and errno are the real call's, untouched.  glibc's mtx_* call the pthread
 * internals directly, not these symbols, so they need interposers of their own. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

/* A robust mutex whose owner died is acquired all the same (EOWNERDEAD). */
static inline int acquired(int r)
{
    return FS_LIKELY(r == 0) || r == EOWNERDEAD;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, ETIMEDOUT);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_mutex_lock(m);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 1, 0);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_mutex_trylock(m);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 1, ETIMEDOUT);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_mutex_timedlock(m, abstime);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abstime)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 1, ETIMEDOUT);
    if (!fs_real.pthread_mutex_clocklock)
        return ENOSYS;
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.pthread_mutex_clocklock(m, clk, abstime);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    FS_REAL_READY();
    fs_held_pop(m);
    return fs_real.pthread_mutex_unlock(m);
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(m);
    fs_held_forget(m);
    return fs_real.pthread_mutex_init(m, attr);
}

/* Forgotten only when destroyed: glibc refuses (EBUSY) to destroy a locked mutex, and an
 * inherited one stays locked. */
int pthread_mutex_destroy(pthread_mutex_t *m)
{
    FS_REAL_READY();
    int r = fs_real.pthread_mutex_destroy(m);
    if (r == 0) {
        FS_CHILD_FORGET(m);
        fs_held_forget(m);
    }
    return r;
}

int mtx_lock(mtx_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 0, thrd_timedout);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.mtx_lock(m);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

int mtx_trylock(mtx_t *m)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 1, 0);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.mtx_trylock(m);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

int mtx_timedlock(mtx_t *__restrict m, const struct timespec *__restrict abstime)
{
    FS_REAL_READY();
    FS_CHILD_CHECK(m, FS_MODE_EXCL, 1, thrd_timedout);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    int r = fs_real.mtx_timedlock(m, abstime);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

int mtx_unlock(mtx_t *m)
{
    FS_REAL_READY();
    fs_held_pop(m);
    return fs_real.mtx_unlock(m);
}

int mtx_init(mtx_t *m, int type)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(m);
    fs_held_forget(m);
    return fs_real.mtx_init(m, type);
}

void mtx_destroy(mtx_t *m)
{
    FS_REAL_READY();
    FS_CHILD_FORGET(m);
    fs_held_forget(m);
    fs_real.mtx_destroy(m);
}
