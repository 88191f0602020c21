/* Interposers for POSIX semaphores.
 *
 * A semaphore has no owner, so it counts as "held" only when used as a lock: a successful
 * decrement goes on the calling thread's stack of held locks (once), a post by that thread takes
 * it off, and a post by any other thread marks the semaphore a signal in the registry's table
 * (registry.c), which the forked child then never reports.  While a thread sits in sem_wait, its
 * slot notes which semaphore, so that a thread blocked on a semaphore it decremented itself
 * (CPython's Condition waiters) is seen as waiting for a signal, not holding a lock.
 * The fast paths are those of the lock hooks (hooks_mutex.c): fs_tls_fast set, one store to
 * publish, and a post by the holder compares the newest entry only.  sem_wait and friends set
 * errno on failure: the hooks never touch it. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>

#define SLOW __attribute__((noinline, cold))

static inline void blocked_on(const sem_t *s)
{
    struct fs_thread *t = fs_tls_self;
    if (t)
        __atomic_store_n(&t->blocked_on_sem, (uintptr_t)s, __ATOMIC_RELAXED);
}

/* The fast path's decrement, prepared (fs_fast_prepare) before the call: published unless the
 * semaphore is already on the stack (one used as a signal is taken again and again by a thread
 * that never posts it).  Only the slot stays live across the call: the entry holds the rest. */
static SLOW void acquired_nested(struct fs_thread *t, unsigned n)
{
    if (!fs_sem_on_stack(t, (const sem_t *)t->held[n].lock, n))
        __atomic_store_n(&t->nheld, n + 1, __ATOMIC_RELEASE);
}

static inline void acquired_fast(struct fs_thread *t)
{
    unsigned n = t->nheld;
    if (FS_LIKELY(n == 0))
        __atomic_store_n(&t->nheld, 1, __ATOMIC_RELEASE);
    else
        acquired_nested(t, n);
}

enum sem_call { SEM_WAIT, SEM_TRYWAIT, SEM_TIMEDWAIT, SEM_CLOCKWAIT };

static SLOW int sem_slow(sem_t *s, enum sem_call call, clockid_t clk, const struct timespec *ts,
                         uintptr_t site)
{
    static const char *const names[] = {"sem_wait", "sem_trywait", "sem_timedwait",
                                        "sem_clockwait"};
    FS_REAL_READY();
    int is_try = call != SEM_WAIT;
    FS_CHILD_CHECK_AS(names[call], s, FS_MODE_EXCL, is_try,
                      call == SEM_TRYWAIT ? 0 : (errno = ETIMEDOUT, -1));
    if (call == SEM_CLOCKWAIT && !fs_real.sem_clockwait)
        return fs_real_missing();
    int r;
    if (call == SEM_TRYWAIT) {
        r = fs_real.sem_trywait(s);
    } else {
        blocked_on(s);
        r = call == SEM_WAIT        ? fs_real.sem_wait(s)
            : call == SEM_TIMEDWAIT ? fs_real.sem_timedwait(s, ts)
                                    : fs_real.sem_clockwait(s, clk, ts);
        blocked_on(NULL);
    }
    if (r == 0) {
        /* fs_sem_acquired's push, inlined here: with FORKSAN_LOCK_STACK the captured frames start
         * at this function's caller (it is tail-called), as every lock hook's do. */
        struct fs_thread *t = fs_self();
        if (t && !(t->nheld && fs_sem_on_stack(t, s, t->nheld)))
            fs_held_commit(fs_held_prepare(s, FS_LOCK_SEM, FS_MODE_EXCL, site));
    }
    return r;
}

int sem_wait(sem_t *s)
{
    struct fs_thread *t = fs_fast_prepare(s, FS_LOCK_SEM, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return sem_slow(s, SEM_WAIT, 0, NULL, FS_CALLER());
    __atomic_store_n(&t->blocked_on_sem, (uintptr_t)s, __ATOMIC_RELAXED);
    int r = fs_real.sem_wait(s);
    __atomic_store_n(&t->blocked_on_sem, 0, __ATOMIC_RELAXED);
    if (FS_LIKELY(r == 0)) {
        acquired_fast(t);
        return 0;
    }
    return r;
}

int sem_trywait(sem_t *s)
{
    struct fs_thread *t = fs_fast_prepare(s, FS_LOCK_SEM, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return sem_slow(s, SEM_TRYWAIT, 0, NULL, FS_CALLER());
    int r = fs_real.sem_trywait(s);
    if (r == 0) {
        acquired_fast(t);
        return 0;
    }
    return r;
}

int sem_timedwait(sem_t *s, const struct timespec *ts)
{
    struct fs_thread *t = fs_fast_prepare(s, FS_LOCK_SEM, FS_MODE_EXCL, FS_CALLER());
    if (FS_UNLIKELY(!t))
        return sem_slow(s, SEM_TIMEDWAIT, 0, ts, FS_CALLER());
    __atomic_store_n(&t->blocked_on_sem, (uintptr_t)s, __ATOMIC_RELAXED);
    int r = fs_real.sem_timedwait(s, ts);
    __atomic_store_n(&t->blocked_on_sem, 0, __ATOMIC_RELAXED);
    if (r == 0) {
        acquired_fast(t);
        return 0;
    }
    return r;
}

/* Rare: the slow path alone. */
int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *ts)
{
    return sem_slow(s, SEM_CLOCKWAIT, clk, ts, FS_CALLER());
}

static SLOW int sem_post_slow(sem_t *s)
{
    FS_REAL_READY();
    fs_sem_posted(s);
    return fs_real.sem_post(s);
}

/* Told before the real post: once posted, a waiter may take it and record itself. */
int sem_post(sem_t *s)
{
    if (FS_UNLIKELY(!fs_fast_pop(s)))
        return sem_post_slow(s);
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
