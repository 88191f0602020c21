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
 * write: a record is never written twice nor copied while it is being filled.
 *
 * Everything the parent writes around each fork shares one page: after fork() every page
 * either process writes costs a copy-on-write fault (tens of microseconds on a VM), and the
 * parent writes this state both before the fork (context, record) and after it (the fork
 * lock's release).  On one page that is one fault each time instead of one per variable's page.
 * fs_proc (trace.c's scalars) and fs_fork_ctx (the context; its head up to the first tids is on
 * the page, the rest of tids[] is written only by processes with that many threads) keep their
 * names: the assembler defines them at their offsets in the page. */
#define FORKBUF_SIZE    2560
#define FORKREC_MAX     1280 /* room kept free for one record (64 frames) */
#define FORK_CTX_OFFSET 2816

struct fork_page {
    struct fs_proc proc;
    struct fs_linebuf forklb;
    pid_t forkbuf_owner;
    char forkbuf[FORKBUF_SIZE];
    char pad_[FORK_CTX_OFFSET - sizeof(struct fs_proc) - sizeof(struct fs_linebuf) - sizeof(pid_t) -
              FORKBUF_SIZE - 4];
    struct fs_fork_ctx ctx;
};
_Static_assert(__builtin_offsetof(struct fork_page, ctx) == FORK_CTX_OFFSET, "fork page layout");
_Static_assert(FORK_CTX_OFFSET + __builtin_offsetof(struct fs_fork_ctx, tids) + 16 * sizeof(int) <=
                   4096,
               "the fork context's head must share the fork page");

FS_HIDDEN struct fork_page fs_fork_page
    __attribute__((aligned(4096), section(".data.fs_hot.3"))) = {.proc = {.created_fd = -1}};
#define XSTR_(x) #x
#define XSTR(x)  XSTR_(x)
__asm__(".globl fs_proc\n\t.hidden fs_proc\n\t.set fs_proc, fs_fork_page\n\t"
        ".globl fs_fork_ctx\n\t.hidden fs_fork_ctx\n\t"
        ".set fs_fork_ctx, fs_fork_page + " XSTR(FORK_CTX_OFFSET));
#define forkbuf       (fs_fork_page.forkbuf)
#define forklb        (fs_fork_page.forklb)
#define forkbuf_owner (fs_fork_page.forkbuf_owner)
/* Forks the recorder could not take (its lock busy): written as `lost what=fork`. */
static int forks_unrecorded;

FS_CHILD_PATH static void forkbuf_reset_if_inherited(void)
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

FS_FORK_PATH static int my_tid(void)
{
    struct fs_thread *t = fs_tls_self;
    return t ? t->tid : fs_gettid();
}

FS_CHILD_PATH static void flush(int wait)
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

FS_CHILD_PATH void fs_fork_records_flush_final(void)
{
    flush(1);
}

void fs_fork_unrecorded(void)
{
    __atomic_fetch_add(&forks_unrecorded, 1, __ATOMIC_RELAXED);
}

FS_FORK_PATH void fs_fork_record(const struct fs_fork_ctx *ctx)
{
    forkbuf_reset_if_inherited();
    if (forklb.len > sizeof forkbuf - FORKREC_MAX)
        flush_locked();
    struct fs_linebuf *lb = &forklb;
    fs_lb_begin(lb, FS_REC_FORK);
    fs_lb_dec(lb, "seq", ctx->seq);
    fs_lb_dec(lb, "tid", ctx->forker_tid);
    fs_fork_write_where(lb, ctx);
    fs_lb_end(lb);
}

FS_FORK_PATH void fs_fork_write_where(struct fs_linebuf *lb, const struct fs_fork_ctx *ctx)
{
    fs_lb_str(lb, "via", fs_fork_via_name(ctx->via));
    fs_lb_dec(lb, "time", ctx->time);
    fs_lb_hexlist(lb, "frames", ctx->frames, (size_t)ctx->nframes);
    if (ctx->pykey) {
        fs_lb_hex(lb, "pykey", ctx->pykey);
        fs_lb_dec(lb, "pydepth", ctx->pydepth);
    }
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
