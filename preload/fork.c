/* Fork: where it was called, what the parent looked like, and the child's first records.
 *
 * The work sits in pthread_atfork handlers registered at start-up, so forks the shim cannot
 * interpose (glibc's daemon() calls its internal fork) are seen too; the fork() wrapper only
 * captures the caller's stack and, after the fork, records the child pid in the parent.  _Fork
 * runs no handlers, so its wrapper calls them itself.  vfork is not interposed: a wrapper would
 * return into a stack frame the child has already reused; a vfork child shows up when it execs.
 *
 * prepare (parent, before the fork): list the threads from /proc (threads the shim never saw are
 * found too), refresh the module map.  child (async-signal-safe): write the child's trace from
 * its own copy of the registry.  A bounded lock serializes concurrent forks; if it cannot be had
 * (a signal handler forking while its thread held it) the fork is simply not recorded. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <sys/single_threaded.h>
#include <errno.h>
#include <unistd.h>

/* Set by the fork()/_Fork() wrappers for the handlers of the fork they are making. */
static __thread int tls_fork_via __attribute__((tls_model("initial-exec")));
static __thread int tls_nframes __attribute__((tls_model("initial-exec")));
static __thread uintptr_t tls_frames[FS_FORK_STACK_MAX] __attribute__((tls_model("initial-exec")));
static __thread int tls_seq __attribute__((tls_model("initial-exec")));
/* The tid this thread took the fork lock under, for fork_is_mine: read from this thread's TLS page,
 * which a child touches anyway, not from its registry slot's page. */
static __thread int tls_fork_tid __attribute__((tls_model("initial-exec")));

FS_FORK_PATH static void add_task(int tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct fs_fork_ctx *ctx = arg;
    if (ctx->ntids < FS_MAX_THREADS)
        ctx->tids[ctx->ntids++] = tid;
    else
        ctx->tids_lost++;
}

/* /proc/self/task with getdents64 (fs_proc_dir_numbers): no opendir (it mallocs).  glibc clears
 * __libc_single_threaded for good when a second thread starts; while it is set, the forker is
 * the only thread and four syscalls per fork can be saved. */
FS_FORK_PATH static void list_tasks(struct fs_fork_ctx *ctx, int self_tid)
{
    ctx->ntids = 0;
    ctx->tids_lost = 0;
    if (__libc_single_threaded) {
        ctx->tids[ctx->ntids++] = self_tid;
        return;
    }
    (void)fs_proc_dir_numbers("/proc/self/task", add_task, ctx);
}

/* Checked on every fork (dl_iterate_phdr's counters): dlopen is not interposed, because glibc
 * resolves a dlopen's search path from its caller's address, which a wrapper would change. */
FS_FORK_PATH static void write_modmap_if_changed(void)
{
    if (!fs_modmap_refresh())
        return;
    struct fs_linebuf *lb = fs_trace_begin();
    if (lb) {
        fs_modmap_write(lb);
        fs_trace_end(lb);
    }
}

FS_FORK_PATH static void atfork_prepare(void)
{
    if (!fs_config.active)
        return;
    int saved = errno;
    fs_registry_settle(); /* a trivial child's slot gets its tid before anything reads it */
    struct fs_thread *self = fs_self();
    int me = self ? self->tid : fs_gettid();
    /* The fork lock's owner tid tells the handlers after the fork whether fs_fork_ctx is
     * theirs, without writing a flag of their own then (every page written after fork costs a
     * copy-on-write fault).  Only the holder writes fs_fork_ctx. */
    if (fs_owner_lock_try(&fs_proc.fork_lock, me) < 0) {
        fs_complain("fork not recorded: recorder busy");
        fs_fork_unrecorded(); /* written as `lost what=fork` with the next records */
        tls_seq = -1;         /* disarm the wrapper's state: it belongs to no recorded fork */
        errno = saved;
        return;
    }
    tls_fork_tid = me;
    fs_snapshot_flush(); /* a deferred child file reads fs_fork_ctx, about to be overwritten */
    fs_fork_ctx.valid = 0;
    struct fs_fork_ctx *ctx = &fs_fork_ctx;
    ctx->forker_tid = me;
    ctx->parent_pid = fs_pid;
    ctx->seq = ++fs_proc.fork_seq;
    ctx->time = fs_now_ns();
    if (tls_fork_via && tls_seq == 0) { /* armed by our wrapper for this very fork */
        ctx->via = tls_fork_via;
        ctx->nframes = tls_nframes;
        for (int i = 0; i < tls_nframes; i++)
            ctx->frames[i] = tls_frames[i];
    } else {
        /* Not through our wrapper: the stack starts in glibc's fork machinery. */
        ctx->via = FS_VIA_ATFORK;
        FS_INTERNAL_BEGIN();
        ctx->nframes = fs_backtrace(ctx->frames, FS_FORK_STACK_MAX, 0);
        FS_INTERNAL_END();
    }
    ctx->pykey = 0;
    ctx->pydepth = 0;
    if (ctx->via != FS_VIA_ATFORK && fs_pystate_fork.valid) {
        ctx->pykey = fs_pystate_fork.stack_key;
        ctx->pydepth = fs_pystate_fork.stack_depth;
    }
    list_tasks(ctx, ctx->forker_tid);
    fs_stdio_at_fork(ctx->ntids == 1 && !ctx->tids_lost);
    fs_rng_before_fork();
    FS_INTERNAL_BEGIN();
    write_modmap_if_changed();
    FS_INTERNAL_END();
    fs_fork_record(ctx);
    ctx->valid = 1;
    tls_seq = ctx->seq;
    errno = saved;
}

/* Whether fs_fork_ctx describes the fork this thread is making: it holds the fork lock and its
 * prepare handler recorded this very fork.  The lock alone is not enough: a signal handler that
 * forks while its thread holds the lock (flushing fork records) made an unrecorded fork. */
FS_CHILD_PATH static int fork_is_mine(void)
{
    int t = tls_fork_tid;
    return t && __atomic_load_n(&fs_proc.fork_lock, __ATOMIC_RELAXED) == t && tls_seq > 0 &&
           tls_seq == fs_fork_ctx.seq;
}

FS_FORK_PATH static void atfork_parent(void)
{
    if (!fs_config.active || !fork_is_mine())
        return;
    fs_rng_after_fork(0);
    fs_spin_release(&fs_proc.fork_lock);
}

FS_CHILD_PATH static void atfork_child(void)
{
    if (!fs_config.active)
        return;
    int *ep = fs_errno_loc(), saved = *ep;
    if (fs_fork_ctx.valid && !fork_is_mine())
        fs_fork_ctx.valid = 0; /* another fork owned it: not ours to report */
    fs_proc.fork_lock = 0;
    fs_proc.fork_seq = 0;
    fs_unwind_after_fork_child(); /* before anything in the child captures a stack */
    fs_trace_child_reset();
    fs_exit_forked();
    fs_storm_child();
    fs_snapshot_write();
    if (fs_ninherited || fs_nrace) /* every acquisition is checked against them: no fast path */
        fs_tls_fast = NULL;
    fs_rng_after_fork(1);
    if (*ep != saved)
        *ep = saved;
}

void fs_fork_init(void)
{
    if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
        fs_complain("pthread_atfork failed: forks will not be recorded");
}

/* Puts back the state an outer wrapper of this thread armed for its own prepare handler. */
static void rearm(int via, const uintptr_t *frames, int nframes)
{
    tls_nframes = nframes;
    for (int i = 0; i < nframes; i++)
        tls_frames[i] = frames[i];
    tls_fork_via = via;
    tls_seq = 0;
}

/* Shared by fork() and _Fork(): capture the caller's stack for the handlers, then record the
 * child pid in the parent.  Always inlined, so that the stack it captures starts at the
 * wrapper's caller. */
static inline __attribute__((always_inline)) pid_t forking(pid_t (*real)(void), int via,
                                                           int run_handlers)
{
    if (!fs_config.active)
        return real();
    /* fork() leaves errno alone when it succeeds; the unwinder and the handlers may not. */
    int entry_errno = errno;
    fs_registry_settle();
    fs_py_before_fork(); /* the GIL is still held here: Python stacks and names */
    /* A signal handler may fork inside an outer fork() of this thread.  Between the outer
     * wrapper's arming and its prepare handler (tls_seq 0, via set), the inner fork would
     * consume the outer's armed state and stack: the outer fork would then be recorded with
     * the handler's stack, or as via=atfork.  Between prepare and the parent handler, the inner
     * fork cannot be recorded (the lock is ours) and leaves tls_seq at -1, which must not stop
     * the outer parent handler from recognising its fork.  Read now, written back only in
     * those two cases (writes after a fork cost copy-on-write faults). */
    int outer_seq = tls_seq, outer_via = tls_fork_via;
    int nested_armed = outer_via != 0 && outer_seq == 0;
    int outer_nframes = 0;
    uintptr_t outer_frames[nested_armed ? FS_FORK_STACK_MAX : 1];
    if (FS_UNLIKELY(nested_armed)) {
        outer_nframes = tls_nframes;
        for (int i = 0; i < outer_nframes; i++)
            outer_frames[i] = tls_frames[i];
    }
    uintptr_t frames[FS_FORK_STACK_MAX];
    int nframes;
    {
        FS_INTERNAL_BEGIN();
        nframes = fs_backtrace(frames, FS_FORK_STACK_MAX, 1);
        FS_INTERNAL_END();
    }
    /* Armed for the handlers of this fork: tls_seq 0 says "set by the wrapper, not yet used";
     * prepare replaces it with the fork's number.  Nothing is reset after the fork, on purpose.
     * Armed before the frames are copied, so that a handler's fork in the middle of the copy
     * sees an armed outer fork and puts back what it found. */
    tls_fork_via = via;
    tls_seq = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    for (int i = 0; i < nframes; i++)
        tls_frames[i] = frames[i];
    tls_nframes = nframes;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    fs_pystate_before_fork(); /* streams, atexit count, stack key (copied-state family) */
    if (fs_storm_reserve(frames, nframes) < 0) {
        /* Past a fork limit: fail as RLIMIT_NPROC would, before anything is forked. */
        tls_fork_via = 0;
        if (FS_UNLIKELY(nested_armed))
            rearm(outer_via, outer_frames, outer_nframes);
        errno = EAGAIN;
        return -1;
    }
    if (run_handlers)
        atfork_prepare();
    if (errno != entry_errno)
        errno = entry_errno;
    int *ep = fs_errno_loc(); /* read again in the child, where a libc call is a page fault */
    pid_t pid = real();
    int err = *ep;
    if (pid < 0)
        fs_storm_fork_failed();
    if (pid == 0) {
        if (run_handlers)
            atfork_child();
        if (FS_UNLIKELY(nested_armed)) /* the outer fork goes on in this child too */
            rearm(outer_via, outer_frames, outer_nframes);
        if (*ep != entry_errno)
            *ep = entry_errno;
        return 0;
    }
    if (tls_seq > 0 && pid < 0)
        fs_fork_record_failed(tls_seq, err);
    if (pid > 0)
        fs_storm_forked(pid);
    if (run_handlers)
        atfork_parent();
    /* After our own parent handler (for _Fork): it must not take the outer fork for its own. */
    if (FS_UNLIKELY(tls_seq < 0) && outer_seq > 0) {
        tls_seq = outer_seq;
        tls_fork_via = outer_via;
    } else if (FS_UNLIKELY(nested_armed)) {
        rearm(outer_via, outer_frames, outer_nframes);
    }
    if (errno != (pid < 0 ? err : entry_errno))
        errno = pid < 0 ? err : entry_errno;
    return pid;
}

FS_CHILD_PATH pid_t fork(void)
{
    FS_REAL_READY();
    return forking(fs_real.fork, FS_VIA_FORK, 0);
}

pid_t _Fork(void)
{
    FS_REAL_READY();
    if (!fs_real._Fork) {
        errno = ENOSYS;
        return -1;
    }
    return forking(fs_real._Fork, FS_VIA_UFORK, 1);
}
