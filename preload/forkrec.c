/* The parent side of fork in the trace: one `fork` record per fork, made before the fork and
 * buffered, written in batches (see below for why). */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

/* The parent's fork records are buffered and written in batches: writing one after each fork
 * would cost three syscalls and copy-on-write faults on every fork.  The record is made before
 * the fork (the child pid is in the child's own record); the buffer belongs to the process that
 * filled it, so a child never flushes its parent's records. */
static char forkbuf[4096];
static struct fs_linebuf forklb;
static pid_t forkbuf_owner;

static void forkbuf_reset_if_inherited(void)
{
    if (forkbuf_owner != fs_pid) {
        fs_lb_init(&forklb, -1, forkbuf, sizeof forkbuf);
        forkbuf_owner = fs_pid;
    }
}

void fs_fork_records_flush(void)
{
    if (forkbuf_owner != fs_pid || forklb.len == 0)
        return;
    struct fs_linebuf *lb = fs_trace_begin_raw();
    if (lb) {
        fs_lb_begin(lb, "");
        fs_lb_raw(lb, forkbuf, forklb.rec_start ? forklb.rec_start - 1 : 0);
        fs_lb_end(lb);
        fs_trace_end(lb);
    }
    fs_lb_init(&forklb, -1, forkbuf, sizeof forkbuf);
}

void fs_fork_record(const struct fs_fork_ctx *ctx)
{
    forkbuf_reset_if_inherited();
    if (forklb.len > sizeof forkbuf - 1024)
        fs_fork_records_flush();
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
