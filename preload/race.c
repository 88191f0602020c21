/* fork-lock-race, from inside the child: a forked child (before exec) uses a lock that a parent
 * thread which does not exist here had also used, so a fork at another instant could have left
 * the lock held forever.
 *
 * Every thread notes the locks it uses in a small direct-mapped table in its registry slot
 * (fs_used_note, on the path that already writes the held entry).  The child has its own copy of
 * those tables; at fork, snapshot.c calls fs_race_collect, which keeps the entries of the threads
 * that vanished, minus what cannot race: locks the forker held at the fork (the pthread_atfork
 * idiom), a mutex the other thread was parked on in a condition wait (quiesced), a semaphore it
 * was blocked on or that is used as a signal, locks already inherited held (lock-held-at-fork and
 * child-deadlock speak for those) and the locks CPython re-creates in the child.  A lock the
 * child re-initialises leaves the set (fs_race_forget); process-shared primitives are checked at
 * the child's call.  All of it is async-signal-safe: static memory, raw syscalls. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* One per lock: the first vanished thread found to have used it (a writer preferred for an
 * rwlock), and how many others did. */
struct fs_race_cand {
    uintptr_t lock;
    uintptr_t site; /* the other thread's last use of the lock */
    int tid;
    int others; /* further vanished threads that used it */
    uint8_t kind, mode;
    char state;   /* the other thread's state in /proc just after the fork, '?' unknown */
    int reported; /* a race record was written for it */
};

/* Every page the child writes costs it a fault (a copy, or a zeroed page), so the usual few
 * candidates are found by a scan of cands (its first page) and the hash table is built only
 * past RACE_SCAN of them: a hash spreads even four locks over four of its pages. */
static struct fs_race_cand cands[FS_RACE_MAX];
static unsigned cands_lost;
static int cands_lost_told;
#define RACE_SCAN 32
/* Open addressing over cands, by lock: index + 1, 0 empty.  Twice the capacity.  Filled only
 * while fs_nrace > RACE_SCAN. */
#define RACE_HASH (2 * FS_RACE_MAX)
static uint16_t cand_hash[RACE_HASH];
/* /proc reads per fork: a child of a parent with thousands of threads reads a bounded number. */
#define STATE_READS_MAX 64

static uint16_t *hash_slot(uintptr_t lock)
{
    unsigned h = (unsigned)(((lock >> 3) * 0x9E3779B97F4A7C15ull) >> 40) & (RACE_HASH - 1);
    for (;; h = (h + 1) & (RACE_HASH - 1))
        if (!cand_hash[h] || cands[cand_hash[h] - 1].lock == lock)
            return &cand_hash[h];
}

/* The candidate for lock, or NULL. */
static struct fs_race_cand *cand_find(uintptr_t lock)
{
    unsigned n = fs_nrace;
    if (n > RACE_SCAN) {
        uint16_t *slot = hash_slot(lock);
        return *slot ? &cands[*slot - 1] : NULL;
    }
    for (unsigned i = 0; i < n; i++)
        if (cands[i].lock == lock)
            return &cands[i];
    return NULL;
}

/* Appends c (its lock not yet a candidate; fs_nrace < FS_RACE_MAX). */
static void cand_add(const struct fs_race_cand *c)
{
    cands[fs_nrace] = *c;
    unsigned n = ++fs_nrace;
    if (n < RACE_SCAN + 1)
        return;
    if (n == RACE_SCAN + 1) { /* past the scan: index every candidate so far */
        for (unsigned i = 0; i < n; i++)
            *hash_slot(cands[i].lock) = (uint16_t)(i + 1);
        return;
    }
    *hash_slot(c->lock) = (uint16_t)n;
}

#define GLIBC_MUTEX_PSHARED_BIT 128
#define GLIBC_SEM_SHARED        128

/* The parent thread's scheduler state ('R', 'S', 'D', 'T'...), read right after the fork: the
 * child cannot see the instant of the fork itself, and the parent goes on meanwhile. */
static char thread_state(int ppid, int tid)
{
    char state = fs_snapshot_thread_state(tid); /* read with the thread's name, if it was */
    if (!state)
        state = fs_proc_state(ppid, tid);
    return state ? state : (char)'?';
}

static int held_by(const struct fs_thread *t, uintptr_t lock)
{
    unsigned n = __atomic_load_n(&t->nheld, __ATOMIC_ACQUIRE);
    if (n > FS_HELD_MAX)
        n = FS_HELD_MAX;
    for (unsigned i = 0; i < n; i++)
        if (t->held[i].lock == lock)
            return 1;
    return 0;
}

static int inherited(uintptr_t lock)
{
    for (unsigned i = 0; i < fs_ninherited; i++)
        if (fs_inherited[i].lock == lock)
            return 1;
    return 0;
}

/* The locks CPython itself resets in the child (thread-state locks, _at_fork_reinit). */
static int runtime_resets(uintptr_t lock)
{
    const struct fs_py_capture *c = &fs_py_fork;
    for (int i = 0; c->owner_tid && i < c->nlocks && i < FS_PY_LOCKS_MAX; i++)
        if (c->locks[i].addr == lock && c->locks[i].role != FS_PY_LOCK_USER)
            return 1;
    return 0;
}

static void collect_thread(const struct fs_thread *t, const struct fs_thread *forker, int ppid,
                           unsigned *state_reads)
{
    char state = 0; /* read once per thread, for the first STATE_READS_MAX threads */
    for (unsigned b = 0; b < FS_USED_MAX; b++) {
        const struct fs_used_entry *u = &t->used[b];
        uintptr_t lock = __atomic_load_n(&u->lock, __ATOMIC_ACQUIRE);
        if (!lock)
            continue;
        uint8_t kind = u->tag & 15, mode = u->tag >> 4;
        if (forker && held_by(forker, lock))
            continue; /* prepare took it, the child handler releases it: the atfork idiom */
        if (t->cond_wait == lock)
            continue; /* parked in a condition wait on it: it could not have held it */
        if (kind == FS_LOCK_SEM && (t->blocked_on_sem == lock || fs_sem_is_signal(lock)))
            continue;
        if (inherited(lock) || runtime_resets(lock))
            continue;
        struct fs_race_cand *c = cand_find(lock);
        if (c) {
            if (c->reported)
                continue; /* from further up, and already told or re-initialised */
            c->others++;
            if (mode == FS_MODE_WRITE && c->mode != FS_MODE_WRITE) {
                c->tid = t->tid;
                c->site = u->site & FS_USED_SITE_MASK;
                c->mode = mode;
                c->state = '?';
            }
            continue;
        }
        if (fs_nrace >= FS_RACE_MAX) {
            cands_lost++;
            continue;
        }
        if (!state)
            state = (*state_reads)++ < STATE_READS_MAX ? thread_state(ppid, t->tid) : '?';
        cand_add(&(struct fs_race_cand){lock, u->site & FS_USED_SITE_MASK, t->tid, 0, kind, mode,
                                        state, 0});
    }
}

void fs_race_collect(void)
{
    const struct fs_fork_ctx *ctx = &fs_fork_ctx;
    /* Candidates from further up (a grandparent's vanished threads) stay: the child of a child
     * can lose the same race. */
    if (!ctx->valid)
        return;
    unsigned state_reads = 0;
    const struct fs_thread *forker = NULL;
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE &&
            t->tid == ctx->forker_tid)
            forker = t;
    }
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != FS_SLOT_LIVE || t == forker)
            continue;
        collect_thread(t, forker, ctx->parent_pid, &state_reads);
    }
}

/* Lost from the tables of the vanished threads: overwritten entries, and candidates past the
 * set's capacity.  Written into the child's snapshot. */
void fs_race_write_lost(struct fs_linebuf *lb, int forker_tid)
{
    long overwritten = 0;
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE &&
            t->tid != forker_tid)
            overwritten += t->used_overwritten;
    }
    if (overwritten)
        fs_trace_lost(lb, "lockuse", overwritten);
}

/* Process-shared primitives: a holder elsewhere can release them. */
static int process_shared(const struct fs_race_cand *c)
{
    switch (c->kind) {
    case FS_LOCK_MUTEX:
    case FS_LOCK_MTX:
        return (((const pthread_mutex_t *)c->lock)->__data.__kind & GLIBC_MUTEX_PSHARED_BIT) != 0;
    case FS_LOCK_RWLOCK:
        return ((const pthread_rwlock_t *)c->lock)->__data.__shared != 0;
    case FS_LOCK_SEM: {
        const int *words = (const int *)c->lock;
        return words[sizeof(uintptr_t) / sizeof(int)] == GLIBC_SEM_SHARED;
    }
    default:
        return 0;
    }
}

static void record(const struct fs_race_cand *c, int mode, const char *call, int is_try,
                   const uintptr_t *frames, int nframes)
{
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    char state[2] = {c->state ? c->state : '?', '\0'};
    fs_lb_begin(lb, FS_REC_RACE);
    fs_lb_hex(lb, "lock", c->lock);
    fs_lb_str(lb, "kind", fs_lock_kind_name(c->kind));
    fs_lb_str(lb, "mode", fs_lock_mode_name(mode));
    fs_lb_dec(lb, "tid", c->tid);
    fs_lb_str(lb, "othermode", fs_lock_mode_name(c->mode));
    fs_lb_hex(lb, "site", c->site);
    fs_lb_str(lb, "state", state);
    fs_lb_dec(lb, "others", c->others);
    fs_lb_str(lb, "call", call);
    fs_lb_dec(lb, "try", is_try);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, nframes > 0 ? (size_t)nframes : 0);
    fs_lb_end(lb);
    if (cands_lost && !cands_lost_told) {
        cands_lost_told = 1; /* candidates past FS_RACE_MAX: told once, with the first race */
        fs_trace_lost(lb, "racelocks", cands_lost);
    }
    fs_trace_end(lb);
}

/* The child calls a lock function on `lock` (mode: how).  Never changes what the call does. */
__attribute__((noinline)) void fs_race_check(const void *lock, int mode, const char *call, int is_try)
{
    int saved = errno;
    struct fs_race_cand *c = cand_find((uintptr_t)lock);
    if (c) {
        if (c->reported)
            goto out;
        /* Readers share a read-held rwlock: only a writer on either side waits. */
        if (c->kind == FS_LOCK_RWLOCK && c->mode == FS_MODE_READ && mode == FS_MODE_READ)
            goto out;
        c->reported = 1;
        if (process_shared(c))
            goto out;
        uintptr_t frames[FS_FORK_STACK_MAX];
        int n;
        {
            FS_INTERNAL_BEGIN();
            n = fs_backtrace(frames, FS_FORK_STACK_MAX, 3); /* from the hook's caller */
            FS_INTERNAL_END();
        }
        record(c, mode, call, is_try, frames, n);
        fs_py_child_stack("race");
    }
out:
    errno = saved; /* after the Python capture too: nothing here may change the call's errno */
}

/* The child re-initialised or destroyed the lock: from now on it is not the parent's. */
void fs_race_forget(const void *lock)
{
    struct fs_race_cand *c = cand_find((uintptr_t)lock);
    if (c)
        c->reported = 1;
}
