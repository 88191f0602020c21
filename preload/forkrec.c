/* The parent side of fork in the trace: one `fork` record per fork, made before the fork and
 * buffered, written in batches (see below for why). */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

/* The parent's fork records are buffered and written in batches: writing one after each fork
 * would cost three syscalls and copy-on-write faults on every fork.  The record is made before
 * the fork (the child pid is in the child's own record); the buffer belongs to the process that
 * filled it, so a child never flushes its parent's records.
 *
 * The buffer is guarded by the fork lock: the forking thread fills it while holding that lock,
 * and any other writer (another thread's trace write, a signal handler on the forking thread)
 * flushes it only if it can take the lock at once.  Otherwise it leaves the records for a later
 * write: a record is never written twice nor copied while it is being filled. */
static char forkbuf[4096];
static struct fs_linebuf forklb;
static pid_t forkbuf_owner;
/* Forks the recorder could not take (its lock busy): written as `lost what=fork`. */
static int forks_unrecorded;

static void forkbuf_reset_if_inherited(void)
{
    if (forkbuf_owner != fs_pid) {
        fs_lb_init(&forklb, -1, forkbuf, sizeof forkbuf);
        forkbuf_owner = fs_pid;
        if (forks_unrecorded)
            forks_unrecorded = 0;
    }
}

/* With the fork lock held. */
static void flush_locked(void)
{
    int lost = forkbuf_owner == fs_pid ? __atomic_load_n(&forks_unrecorded, __ATOMIC_RELAXED) : 0;
    if ((forkbuf_owner != fs_pid || forklb.rec_start == 0) && !lost)
        return;
    struct fs_linebuf *lb = fs_trace_begin_raw();
    if (!lb)
        return; /* the writer is busy (a signal handler on its thread): the records wait */
    if (forkbuf_owner == fs_pid && forklb.rec_start > 0) {
        fs_lb_begin(lb, "");
        fs_lb_raw(lb, forkbuf, forklb.rec_start - 1); /* the buffer's complete records */
        fs_lb_end(lb);
        fs_lb_init(&forklb, -1, forkbuf, sizeof forkbuf);
    }
    if (lost) {
        fs_trace_lost(lb, "fork", lost);
        __atomic_fetch_sub(&forks_unrecorded, lost, __ATOMIC_RELAXED);
    }
    fs_trace_end(lb);
}

static int my_tid(void)
{
    struct fs_thread *t = fs_tls_self;
    return t ? t->tid : fs_gettid();
}

static void flush(int wait)
{
    if (forkbuf_owner != fs_pid ||
        (forklb.rec_start == 0 && !__atomic_load_n(&forks_unrecorded, __ATOMIC_RELAXED)))
        return;
    int me = my_tid(), free_ = 0;
    if (wait ? fs_owner_lock_try(&fs_proc.fork_lock, me) < 0
             : !__atomic_compare_exchange_n(&fs_proc.fork_lock, &free_, me, 0, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
        return; /* a fork in progress: its thread, or a later write, flushes */
    flush_locked();
    fs_spin_release(&fs_proc.fork_lock);
}

void fs_fork_records_flush(void)
{
    flush(0);
}

void fs_fork_records_flush_final(void)
{
    flush(1);
}

void fs_fork_unrecorded(void)
{
    __atomic_fetch_add(&forks_unrecorded, 1, __ATOMIC_RELAXED);
}

void fs_fork_record(const struct fs_fork_ctx *ctx)
{
    forkbuf_reset_if_inherited();
    if (forklb.len > sizeof forkbuf - 1024)
        flush_locked();
    struct fs_linebuf *lb = &forklb;
    fs_lb_begin(lb, FS_REC_FORK);
    fs_lb_dec(lb, "seq", ctx->seq);
    fs_lb_dec(lb, "tid", ctx->forker_tid);
    fs_lb_str(lb, "via", fs_fork_via_name(ctx->via));
    fs_lb_dec(lb, "time", ctx->time);
    fs_lb_hexlist(lb, "frames", ctx->frames, (size_t)ctx->nframes);
    if (ctx->pykey) {
        fs_lb_hex(lb, "pykey", ctx->pykey);
        fs_lb_dec(lb, "pydepth", ctx->pydepth);
    }
    fs_lb_end(lb);
}

void fs_fork_record_failed(int seq, int err)
{
    struct fs_linebuf local, *lb = &local;
    char buf[256];
    fs_fork_records_flush();
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    fs_lb_begin(lb, "forkfail");
    fs_lb_dec(lb, "seq", seq);
    fs_lb_dec(lb, "errno", err);
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}
