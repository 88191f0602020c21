/* The child side of a fork: what the parent looked like at the instant of fork.
 *
 * Runs in the child before fork() returns, possibly in the child of a multi-threaded parent, so
 * everything here is async-signal-safe: static memory, raw syscalls, no malloc, no stdio.  The
 * registry it reads is the child's private copy of the parent's, so no parent thread can change
 * it under us.  A registry entry is written out only if the lock's own memory agrees that the
 * thread holds it (read with process_vm_readv, so a stale address fails cleanly instead of
 * faulting).  Afterwards the slots of threads that do not exist in the child are freed. */
#include "shim.h"
#include "keep.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* fs_fork_ctx lives on the fork page (forkrec.c). */

enum verdict { HELD, NOT_HELD, UNKNOWN };

/* Copies the lock's memory; -1 when the address is not readable, 1 when reading is not
 * possible at all here (seccomp, old kernel) and the registry must be trusted alone. */
static int copy_lock(uintptr_t addr, void *out, size_t size)
{
    struct iovec local = {out, size};
    struct iovec remote = {(void *)addr, size};
    /* fs_pid: fs_trace_child_reset has just asked the kernel (one getpid per lock was one
     * system call more per held entry). */
    ssize_t n = process_vm_readv(fs_pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)size)
        return 0;
    if (n < 0 && (errno == ENOSYS || errno == EPERM))
        return 1;
    return -1;
}

/* glibc's layout of a semaphore (nptl's struct new_sem): the futex flag follows the counter,
 * FUTEX_SHARED (128) for sem_init(..., pshared != 0, ...) and every sem_open semaphore, else 0. */
union glibc_sem {
    sem_t sem;
    struct {
#if UINTPTR_MAX == UINT64_MAX
        uint64_t data;
#else
        unsigned value;
#endif
        int futex_flag;
    } in;
};
#define GLIBC_MUTEX_PSHARED_BIT 128 /* PTHREAD_MUTEX_PSHARED_BIT in the mutex's __kind */
#define GLIBC_SEM_SHARED        128

/* `shared`: the lock is process-shared (glibc records it in the object), so a holder in another
 * process can release it: never an inherited lock nobody can release. */
static enum verdict check_lock(const struct fs_held_entry *e, int tid, int *mtype, int *shared)
{
    *mtype = -1;
    *shared = 0;
    switch (e->kind) {
    case FS_LOCK_MUTEX:
    case FS_LOCK_MTX: {
        /* glibc records the owner's tid for every mutex kind; mtx_t shares the layout. */
        pthread_mutex_t m;
        int rc = copy_lock(e->lock, &m, sizeof m);
        if (rc)
            return rc > 0 ? UNKNOWN : NOT_HELD;
        *mtype = m.__data.__kind;
        *shared = (m.__data.__kind & GLIBC_MUTEX_PSHARED_BIT) != 0;
        return m.__data.__owner == tid ? HELD : NOT_HELD;
    }
    case FS_LOCK_RWLOCK: {
        pthread_rwlock_t l;
        int rc = copy_lock(e->lock, &l, sizeof l);
        if (rc)
            return rc > 0 ? UNKNOWN : NOT_HELD;
        *shared = l.__data.__shared != 0;
        if (e->mode == FS_MODE_WRITE)
            return l.__data.__cur_writer == tid ? HELD : NOT_HELD;
        return (l.__data.__readers >> 3) > 0 ? HELD : NOT_HELD; /* reader count above 3 bits */
    }
    case FS_LOCK_SPIN: {
        int v;
        int rc = copy_lock(e->lock, &v, sizeof v);
        if (rc)
            return rc > 0 ? UNKNOWN : NOT_HELD;
#if defined(__x86_64__) || defined(__i386__)
        /* glibc's x86 spin lock counts down: 1 is free, 0 (or below, contended) is taken. */
        return v <= 0 ? HELD : NOT_HELD;
#else
        return v != 0 ? HELD : NOT_HELD;
#endif
    }
    case FS_LOCK_SEM: {
        union glibc_sem s;
        int v = 1;
        int rc = copy_lock(e->lock, &s.sem, sizeof s.sem);
        if (rc)
            return rc > 0 ? UNKNOWN : NOT_HELD;
        if (sem_getvalue(&s.sem, &v) < 0)
            return UNKNOWN;
        *shared = s.in.futex_flag == GLIBC_SEM_SHARED;
        return v == 0 ? HELD : NOT_HELD;
    }
    default:
        return NOT_HELD;
    }
}

static const struct fs_thread *live_slot_of(int tid)
{
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE && t->tid == tid)
            return t;
    }
    return NULL;
}

/* A thread created but not yet running its first instruction: its creator noted the tid
 * (hooks_thread.c), so its start routine is known; it holds nothing yet. */
static const struct fs_thread *starting_slot_of(int tid)
{
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_RESERVED &&
            __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE) == tid)
            return t;
    }
    return NULL;
}

/* Locks inherited from further up (a grandparent's vanished thread) stay in the set: they are
 * just as locked here. */
static void remember_inherited(uintptr_t lock, int kind, int mode, int holder)
{
    for (unsigned i = 0; i < fs_ninherited; i++)
        if (fs_inherited[i].lock == lock)
            return;
    if (fs_ninherited >= FS_INHERITED_MAX)
        return;
    fs_inherited[fs_ninherited++] = (struct fs_inherited){lock, kind, mode, holder, 0, 0};
}

static void write_held(struct fs_linebuf *lb, int tid, const struct fs_held_entry *e, int count,
                       int mtype, int shared, const uintptr_t *frames, size_t nframes)
{
    fs_lb_begin(lb, FS_REC_HELD);
    fs_lb_dec(lb, "tid", tid);
    fs_lb_hex(lb, "lock", e->lock);
    fs_lb_str(lb, "kind", fs_lock_kind_name(e->kind));
    fs_lb_str(lb, "mode", fs_lock_mode_name(e->mode));
    fs_lb_dec(lb, "count", count);
    fs_lb_hexlist(lb, "frames", frames, nframes);
    if (mtype >= 0)
        fs_lb_dec(lb, "type", mtype);
    if (shared)
        fs_lb_dec(lb, "shared", 1);
    fs_lb_end(lb);
}

/* A semaphore on a thread's stack counts as a held lock only when used as one: its value is 0
 * (check_lock), the thread is not the forker (which lives on in the child), nobody else ever
 * posted it, and the thread is not itself waiting on it (then it waits for a signal). */
static int sem_used_as_lock(const struct fs_thread *t, uintptr_t sem, int forker)
{
    return !forker && t->blocked_on_sem != sem && !fs_sem_is_signal(sem);
}

static void write_thread_locks(struct fs_linebuf *lb, const struct fs_thread *t, int forker)
{
    unsigned n = __atomic_load_n(&t->nheld, __ATOMIC_ACQUIRE);
    if (n > FS_HELD_MAX)
        n = FS_HELD_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct fs_held_entry *e = &t->held[i];
        if (!e->lock)
            continue;
        int dup = 0, count = 1;
        for (unsigned j = 0; j < n; j++) {
            if (t->held[j].lock != e->lock || j == i)
                continue;
            if (j < i)
                dup = 1;
            else
                count++;
        }
        if (dup)
            continue;
        if (e->kind == FS_LOCK_SEM && !sem_used_as_lock(t, e->lock, forker))
            continue;
        int mtype, shared;
        if (check_lock(e, t->tid, &mtype, &shared) == NOT_HELD)
            continue;
        const uintptr_t *frames = &e->site;
        size_t nframes = 1;
        if (fs_config.lock_stack > 1) {
            frames = fs_lock_stacks[fs_slot_index(t)][i];
            nframes = 0;
            while (nframes < (size_t)fs_config.lock_stack && frames[nframes])
                nframes++;
            if (!nframes) {
                frames = &e->site;
                nframes = 1;
            }
        }
        write_held(lb, t->tid, e, count, mtype, shared, frames, nframes);
        if (!forker && !shared)
            remember_inherited(e->lock, e->kind, e->mode, t->tid);
    }
    if (t->lost)
        fs_trace_lost(lb, "held", t->lost);
}

/* The scheduler states read with the names of the threads (stat holds both), for race.c, which
 * wants them just after the fork too: one read per thread instead of two.  Written only in a
 * child, reset by each child's snapshot. */
#define STATES_MAX 64
static struct {
    unsigned n;
    struct {
        int tid;
        char state;
    } of[STATES_MAX];
} states;

char fs_snapshot_thread_state(int tid)
{
    for (unsigned i = 0; i < states.n && i < STATES_MAX; i++)
        if (states.of[i].tid == tid)
            return states.of[i].state;
    return 0;
}

static void thread_name(int ppid, int tid, const char *known, char *out, size_t cap)
{
    if (known[0]) {
        fs_fmt_str(out, cap, 0, known);
        return;
    }
    char state = fs_proc_state_name(ppid, tid, out, cap);
    if (state && states.n < STATES_MAX) {
        states.of[states.n].tid = tid;
        states.of[states.n].state = state;
        states.n++;
    }
}

static void write_thread(struct fs_linebuf *lb, int ppid, int tid, const struct fs_thread *t,
                         int forker)
{
    char name[32];
    thread_name(ppid, tid, t ? t->name : "", name, sizeof name);
    fs_lb_begin(lb, FS_REC_THREAD);
    fs_lb_dec(lb, "tid", tid);
    fs_lb_str(lb, "name", name);
    fs_lb_dec(lb, "forker", forker);
    fs_lb_dec(lb, "known", t != NULL);
    fs_lb_hex(lb, "start", t ? t->start_routine : 0);
    fs_lb_hex(lb, "arg0", t ? t->start_arg0 : 0);
    if (t && t->py_line > 0) {
        fs_lb_str(lb, "pyfile", t->py_file);
        fs_lb_dec(lb, "pyline", t->py_line);
        fs_lb_str(lb, "pyfunc", t->py_func);
    }
    fs_lb_dec(lb, "creator", t ? t->creator : 0);
    fs_lb_hex(lb, "site", t ? t->create_site : 0);
    fs_lb_end(lb);
}

/* `deferred`: written after the fact for a trivial snapshot, when the registry already
 * describes the child; by definition the parent then had only the forker, holding nothing. */
static void write_snapshot(struct fs_linebuf *lb, int deferred)
{
    const struct fs_fork_ctx *ctx = &fs_fork_ctx;
    fs_lb_begin(lb, FS_REC_CHILD);
    fs_lb_dec(lb, "seq", ctx->seq);
    fs_lb_dec(lb, "parent", ctx->parent_pid);
    fs_lb_dec(lb, "forker", ctx->forker_tid);
    fs_fork_write_where(lb, ctx);
    fs_lb_end(lb);
    fs_stdio_write_streams(lb);
    if (deferred) {
        const struct fs_thread *self = fs_tls_self;
        write_thread(lb, ctx->parent_pid, ctx->forker_tid, self, 1);
        fs_py_write_fork(lb, ctx->forker_tid);
        return;
    }

    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE)
            write_thread(lb, ctx->parent_pid, t->tid, t, t->tid == ctx->forker_tid);
    }
    for (int k = 0; k < ctx->ntids; k++)
        if (!live_slot_of(ctx->tids[k]))
            write_thread(lb, ctx->parent_pid, ctx->tids[k], starting_slot_of(ctx->tids[k]),
                         ctx->tids[k] == ctx->forker_tid);
    fs_trace_lost(lb, "threads", ctx->tids_lost + (long)fs_threads_lost);
    fs_trace_lost(lb, "stacks", fs_proc.unwind_blocked); /* this child captures none */

    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE)
            write_thread_locks(lb, t, t->tid == ctx->forker_tid);
    }
    fs_race_write_lost(lb, ctx->forker_tid);
    fs_py_write_fork(lb, ctx->forker_tid);
}

/* Only the forking thread exists in the child: free every other slot, and give the forker's
 * slot its new tid. */
FS_CHILD_PATH static void registry_after_fork(int forker_tid)
{
    /* The child's one thread leads its thread group: its tid is the pid that
     * fs_trace_child_reset has just read (no gettid system call). */
    int tid = fs_pid;
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        struct fs_thread *t = &fs_threads[i];
        int st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
        if (st == FS_SLOT_FREE)
            continue;
        if (st == FS_SLOT_LIVE && t->tid == forker_tid && t == fs_tls_self)
            t->tid = tid;
        else
            fs_slot_release(t);
    }
    if (fs_threads_lost)
        fs_threads_lost = 0;
}

/* A snapshot with nothing in it but the forker: one thread, holding no lock. */
FS_CHILD_PATH static int snapshot_is_trivial(void)
{
    const struct fs_fork_ctx *ctx = &fs_fork_ctx;
    if (!ctx->valid || ctx->ntids > 1 || ctx->tids_lost || fs_threads_lost || fs_nstreams)
        return 0;
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_FREE)
            continue;
        if (t->tid != ctx->forker_tid || t->nheld || t->lost)
            return 0;
    }
    return 1;
}

/* Writes the child's file now; from fs_snapshot_write, or later for a deferred snapshot. */
static void write_child_file(int deferred)
{
    /* The parent checked the directory; one open, one batch. */
    if (fs_trace_open_new(0) < 0) {
        fs_keep_child_file_done(0, fs_fork_ctx.valid ? fs_fork_ctx.seq : 0, errno);
        return;
    }
    fs_keep_child_file_done(1, 0, 0);
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    lb->flush_at = lb->cap; /* one write(2): a child killed now leaves whole records or none */
    fs_trace_write_start(lb, "fork");
    if (fs_fork_ctx.valid)
        write_snapshot(lb, deferred);
    else
        fs_trace_lost(lb, "fork", 1);
    fs_trace_end(lb);
}

/* In a trivial child the registry holds only the forker's slot, and giving it the child's tid is
 * the one write into its page: a copy-on-write fault of every fork-and-exit child.  It waits
 * until something may read that tid: a record (fs_snapshot_flush), a fork (fork.c), a thread
 * creation (hooks_thread.c).  Until then the slot names the parent's thread, which is what the
 * child's fork handlers compare with. */
FS_CHILD_PATH void fs_registry_settle(void)
{
    int forker = fs_proc.registry_pending;
    if (!forker)
        return;
    fs_proc.registry_pending = 0;
    registry_after_fork(forker);
}

FS_CHILD_PATH void fs_snapshot_write(void)
{
    /* Most forks of single-threaded programs have nothing to report, and most such children
     * exit or exec at once.  Writing their file costs a create and copy-on-write faults on
     * every fork, so it waits until the child records something (fs_snapshot_flush). */
    if (snapshot_is_trivial()) {
        fs_proc.child_file_pending = 1;
        fs_proc.registry_pending = fs_fork_ctx.forker_tid;
        return;
    }
    if (fs_proc.registry_pending) /* a grandchild's copy of a trivial child's */
        fs_proc.registry_pending = 0;
    fs_proc.child_file_pending = 0;
    if (states.n) /* a grandchild's copy of its parent's: another process's threads */
        states.n = 0;
    write_child_file(0);
    fs_race_collect(); /* needs the inherited set, and the vanished threads' slots */
    registry_after_fork(fs_fork_ctx.forker_tid);
}

FS_CHILD_PATH void fs_snapshot_flush(void)
{
    fs_registry_settle();
    /* Threads started by the child, and signal handlers, may all get here first: one writes. */
    if (!fs_proc.child_file_pending ||
        !__atomic_exchange_n(&fs_proc.child_file_pending, 0, __ATOMIC_ACQ_REL))
        return;
    write_child_file(1);
}
