/* Interposers for condition variables (pthread_cond_* and C11 cnd_*).
 *
 * A thread inside a condition wait does not hold the mutex: it is released for the wait and
 * taken again before the call returns (also on timeout, and for a robust mutex on EOWNERDEAD).
 * So the entry leaves the registry for the duration of the wait and comes back after, with the
 * wait's call site as the acquisition site.  Only an entry that was there is put back: a wait on
 * a mutex the registry did not know about stays unknown.  See hooks_mutex.c for the two paths. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

#define SLOW __attribute__((noinline, cold))

/* The entry leaves before the wait and comes back after it; fs_tls_fast decides the path. */
static inline __attribute__((always_inline)) int forget_for_wait(const void *m)
{
    return fs_fast_pop(m) || fs_held_pop_slow(m);
}

static inline __attribute__((always_inline)) void back_after_wait(const void *m, int kind,
                                                                  uintptr_t site)
{
    struct fs_thread *t = fs_fast_prepare(m, kind, FS_MODE_EXCL, site);
    if (FS_LIKELY(t))
        fs_fast_commit(t);
    else
        fs_held_push(m, kind, FS_MODE_EXCL, site);
}

/* The slow path: start-up (the real functions may not be resolved yet) and a child's check of
 * inherited locks. */
#define COND_HOOK(name, kind, fail, optional, params, args, m)                                     \
    static SLOW int name##_slow(uintptr_t site_, UNPAREN params)                                   \
    {                                                                                              \
        FS_REAL_READY();                                                                           \
        FS_CHILD_CHECK_AS(#name, m, FS_MODE_EXCL, 0, fail);                                        \
        if (!fs_real.name)                                                                         \
            return ENOSYS;                                                                         \
        int had = fs_held_pop_slow(m);                                                             \
        int r = fs_real.name args;                                                                 \
        if (had)                                                                                   \
            back_after_wait(m, kind, site_);                                                       \
        return r;                                                                                  \
    }                                                                                              \
    int name params                                                                                \
    {                                                                                              \
        if (FS_UNLIKELY(!fs_tls_fast) || ((optional) && !fs_real.name))                            \
            return name##_slow(FS_CALLER(), UNPAREN args);                                         \
        int had = forget_for_wait(m);                                                              \
        int r = fs_real.name args;                                                                 \
        if (had)                                                                                   \
            back_after_wait(m, kind, FS_CALLER());                                                 \
        return r;                                                                                  \
    }
#define UNPAREN(...) __VA_ARGS__

COND_HOOK(pthread_cond_wait, FS_LOCK_MUTEX, ETIMEDOUT, 0, (pthread_cond_t * c, pthread_mutex_t *m),
          (c, m), m)
COND_HOOK(pthread_cond_timedwait, FS_LOCK_MUTEX, ETIMEDOUT, 0,
          (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *t), (c, m, t), m)
COND_HOOK(pthread_cond_clockwait, FS_LOCK_MUTEX, ETIMEDOUT, 1,
          (pthread_cond_t * c, pthread_mutex_t *m, clockid_t clk, const struct timespec *t),
          (c, m, clk, t), m)
COND_HOOK(cnd_wait, FS_LOCK_MTX, thrd_timedout, 0, (cnd_t * c, mtx_t *m), (c, m), m)
COND_HOOK(cnd_timedwait, FS_LOCK_MTX, thrd_timedout, 0,
          (cnd_t *__restrict c, mtx_t *__restrict m, const struct timespec *__restrict t),
          (c, m, t), m)
