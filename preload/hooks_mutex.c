/* Interposers for pthread mutexes and C11 mtx_t.
 *
 * Every hot hook has two paths.  The fast one, taken while fs_tls_fast is set, is straight
 * line: write the entry (fs_fast_prepare), call the real function, publish the entry with one
 * store when the call succeeded; unlock compares the newest entry and drops it before the real
 * release (fs_fast_pop).  Everything else (start-up, deeper lock stacks, a child's inherited-lock
 * check, a full stack, an unlock out of order) is in the out-of-line slow path, which the fast
 * path tail-calls with the caller's address.  `r == 0` is tested first: EOWNERDEAD (a robust
 * mutex whose owner died, acquired all the same) is the rare case.
 * Return values and errno are the real call's, untouched.  glibc's mtx_* call the pthread
 * internals directly, not these symbols, so they need interposers of their own.
 * How to add one: resolve it in real.c, write the slow path as the whole recording (prepare,
 * call, commit) and the fast path in front of it. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

#define SLOW __attribute__((noinline, cold))

static inline int acquired(int r)
{
    return FS_LIKELY(r == 0) || r == EOWNERDEAD;
}

/* ---- slow paths: the whole recording, for whatever fs_tls_fast excludes ----------------- */

/* The shim's own calls (libunwind, the Python capture) lock mutexes too: noted, so that a forked
 * child knows whether a vanished thread held one (unwind.c).  Noted before the call and taken
 * back if it failed: noted after it, a fork between the acquisition and the note left a child
 * that unwound into the held lock and blocked for ever (shim/stress, 1 child in some runs). */
static int internal_undo(pthread_mutex_t *m, int r)
{
    if (!acquired(r))
        fs_internal_lock_released(m);
    return r;
}

static SLOW int mutex_lock_slow(pthread_mutex_t *m, uintptr_t site)
{
    FS_REAL_READY();
    if (fs_tls_internal) {
        fs_internal_lock_taken(m);
        return internal_undo(m, fs_real.pthread_mutex_lock(m));
    }
    FS_CHILD_CHECK_AS("pthread_mutex_lock", m, FS_MODE_EXCL, 0, ETIMEDOUT);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, site);
    int r = fs_real.pthread_mutex_lock(m);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

static SLOW int mutex_trylock_slow(pthread_mutex_t *m, uintptr_t site)
{
    FS_REAL_READY();
    if (fs_tls_internal) {
        fs_internal_lock_taken(m);
        return internal_undo(m, fs_real.pthread_mutex_trylock(m));
    }
    FS_CHILD_CHECK_AS("pthread_mutex_trylock", m, FS_MODE_EXCL, 1, 0);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, site);
    int r = fs_real.pthread_mutex_trylock(m);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

static SLOW int mutex_timedlock_slow(pthread_mutex_t *m, const struct timespec *abstime,
                                     uintptr_t site)
{
    FS_REAL_READY();
    if (fs_tls_internal) {
        fs_internal_lock_taken(m);
        return internal_undo(m, fs_real.pthread_mutex_timedlock(m, abstime));
    }
    FS_CHILD_CHECK_AS("pthread_mutex_timedlock", m, FS_MODE_EXCL, 1, ETIMEDOUT);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, site);
    int r = fs_real.pthread_mutex_timedlock(m, abstime);
    if (acquired(r))
        fs_held_commit(t);
    return r;
}

static SLOW int mutex_unlock_slow(pthread_mutex_t *m)
{
    FS_REAL_READY();
    if (fs_tls_internal) {
        int r = fs_real.pthread_mutex_unlock(m);
        if (r == 0)
            fs_internal_lock_released(m);
        return r;
    }
    fs_held_pop_slow(m);
    return fs_real.pthread_mutex_unlock(m);
}

static SLOW int mtx_lock_slow(mtx_t *m, uintptr_t site)
{
    FS_REAL_READY();
    FS_CHILD_CHECK_AS("mtx_lock", m, FS_MODE_EXCL, 0, thrd_timedout);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, site);
    int r = fs_real.mtx_lock(m);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

static SLOW int mtx_trylock_slow(mtx_t *m, uintptr_t site)
{
    FS_REAL_READY();
    FS_CHILD_CHECK_AS("mtx_trylock", m, FS_MODE_EXCL, 1, 0);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, site);
    int r = fs_real.mtx_trylock(m);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

static SLOW int mtx_timedlock_slow(mtx_t *m, const struct timespec *abstime, uintptr_t site)
{
    FS_REAL_READY();
    FS_CHILD_CHECK_AS("mtx_timedlock", m, FS_MODE_EXCL, 1, thrd_timedout);
    struct fs_thread *t = fs_held_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, site);
    int r = fs_real.mtx_timedlock(m, abstime);
    if (r == thrd_success)
        fs_held_commit(t);
    return r;
}

static SLOW int mtx_unlock_slow(mtx_t *m)
{
    FS_REAL_READY();
    fs_held_pop_slow(m);
    return fs_real.mtx_unlock(m);
}

/* ---- the interposers ---------------------------------------------------------------------- */

/* Published before the call and jumped to (fs_fast_push): no frame, no test of the result. */
int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (FS_UNLIKELY(!fs_fast_push(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER())))
        return mutex_lock_slow(m, FS_CALLER());
    return fs_real.pthread_mutex_lock(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    struct fs_thread *t = fs_fast_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return mutex_trylock_slow(m, FS_CALLER());
    int r = fs_real.pthread_mutex_trylock(m);
    if (acquired(r))
        fs_fast_commit(t);
    return r;
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    struct fs_thread *t = fs_fast_prepare(m, FS_LOCK_MUTEX, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return mutex_timedlock_slow(m, abstime, FS_CALLER());
    int r = fs_real.pthread_mutex_timedlock(m, abstime);
    if (acquired(r))
        fs_fast_commit(t);
    return r;
}

/* Rare (glibc >= 2.30 only): the slow path alone. */
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
    if (FS_UNLIKELY(!fs_fast_pop(m)))
        return mutex_unlock_slow(m);
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
    if (FS_UNLIKELY(!fs_fast_push(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER())))
        return mtx_lock_slow(m, FS_CALLER());
    return fs_real.mtx_lock(m);
}

int mtx_trylock(mtx_t *m)
{
    struct fs_thread *t = fs_fast_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return mtx_trylock_slow(m, FS_CALLER());
    int r = fs_real.mtx_trylock(m);
    if (r == thrd_success)
        fs_fast_commit(t);
    return r;
}

int mtx_timedlock(mtx_t *__restrict m, const struct timespec *__restrict abstime)
{
    struct fs_thread *t = fs_fast_prepare(m, FS_LOCK_MTX, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return mtx_timedlock_slow(m, abstime, FS_CALLER());
    int r = fs_real.mtx_timedlock(m, abstime);
    if (r == thrd_success)
        fs_fast_commit(t);
    return r;
}

int mtx_unlock(mtx_t *m)
{
    if (FS_UNLIKELY(!fs_fast_pop(m)))
        return mtx_unlock_slow(m);
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
