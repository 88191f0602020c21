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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fork_lock;
static int fork_seq;

/* Set by the fork()/_Fork() wrappers for the handlers of the fork they are making. */
static __thread int tls_fork_via __attribute__((tls_model("initial-exec")));
static __thread int tls_nframes __attribute__((tls_model("initial-exec")));
static __thread uintptr_t tls_frames[FS_FORK_STACK_MAX] __attribute__((tls_model("initial-exec")));
static __thread int tls_seq __attribute__((tls_model("initial-exec")));

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* /proc/self/task with getdents64: no opendir (it mallocs). */
static void list_tasks(struct fs_fork_ctx *ctx)
{
    ctx->ntids = 0;
    ctx->tids_lost = 0;
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            int tid = 0;
            const char *p = d->d_name;
            if (*p < '0' || *p > '9')
                continue;
            for (; *p >= '0' && *p <= '9'; p++)
                tid = tid * 10 + (*p - '0');
            if (ctx->ntids < FS_MAX_THREADS)
                ctx->tids[ctx->ntids++] = tid;
            else
                ctx->tids_lost++;
        }
    }
    close(fd);
}

static void write_modmap_if_changed(void)
{
    if (!fs_modmap_refresh())
        return;
    struct fs_linebuf *lb = fs_trace_begin();
    if (lb) {
        fs_modmap_write(lb);
        fs_trace_end(lb);
    }
}

static void atfork_prepare(void)
{
    fs_fork_ctx.valid = 0;
    if (!fs_config.active)
        return;
    int saved = errno;
    if (fs_spin_try_hard(&fork_lock) < 0) {
        fs_complain("fork not recorded: recorder busy");
        errno = saved;
        return;
    }
    struct fs_fork_ctx *ctx = &fs_fork_ctx;
    struct fs_thread *self = fs_self();
    ctx->forker_tid = self ? self->tid : fs_gettid();
    ctx->parent_pid = fs_pid;
    ctx->seq = ++fork_seq;
    tls_seq = ctx->seq;
    ctx->time = fs_now_ns();
    if (tls_fork_via) {
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
    list_tasks(ctx);
    FS_INTERNAL_BEGIN();
    write_modmap_if_changed();
    FS_INTERNAL_END();
    ctx->valid = 1;
    errno = saved;
}

static void record_fork_parent(int seq, int tid, pid_t child, int err, int via,
                               const uintptr_t *frames, int nframes)
{
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    fs_lb_begin(lb, FS_REC_FORK);
    fs_lb_dec(lb, "seq", seq);
    fs_lb_dec(lb, "child", child);
    if (child < 0)
        fs_lb_dec(lb, "errno", err);
    fs_lb_dec(lb, "tid", tid);
    fs_lb_str(lb, "via", fs_fork_via_name(via));
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, nframes > 0 ? (size_t)nframes : 0);
    fs_lb_end(lb);
    fs_trace_end(lb);
}

static void atfork_parent(void)
{
    if (!fs_fork_ctx.valid)
        return;
    int saved = errno;
    /* A fork made behind our back (daemon()): the parent never learns the child's pid here;
     * the child's own record links the two. */
    if (!tls_fork_via)
        record_fork_parent(fs_fork_ctx.seq, fs_fork_ctx.forker_tid, 0, 0, FS_VIA_ATFORK,
                           fs_fork_ctx.frames, fs_fork_ctx.nframes);
    fs_spin_release(&fork_lock);
    errno = saved;
}

static void atfork_child(void)
{
    if (!fs_config.active)
        return;
    int saved = errno;
    fork_lock = 0;
    fork_seq = 0;
    tls_fork_via = 0;
    fs_trace_child_reset();
    fs_snapshot_write();
    errno = saved;
}

void fs_fork_init(void)
{
    if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
        fs_complain("pthread_atfork failed: forks will not be recorded");
}

/* Shared by fork() and _Fork(): capture the caller's stack for the handlers, then record the
 * child pid in the parent.  Always inlined, so that the stack it captures starts at the
 * wrapper's caller. */
static inline __attribute__((always_inline)) pid_t forking(pid_t (*real)(void), int via, int run_handlers)
{
    if (!fs_config.active)
        return real();
    struct fs_thread *t = fs_tls_self;
    {
        FS_INTERNAL_BEGIN();
        tls_nframes = fs_backtrace(tls_frames, FS_FORK_STACK_MAX, 1);
        FS_INTERNAL_END();
    }
    tls_fork_via = via;
    tls_seq = 0;
    if (run_handlers)
        atfork_prepare();
    pid_t pid = real();
    int err = errno;
    if (pid == 0) {
        if (run_handlers)
            atfork_child();
        tls_fork_via = 0;
        errno = err;
        return 0;
    }
    if (tls_seq)
        record_fork_parent(tls_seq, t ? t->tid : fs_gettid(), pid, err, via, tls_frames,
                           tls_nframes);
    tls_fork_via = 0;
    if (run_handlers && fs_fork_ctx.valid)
        fs_spin_release(&fork_lock);
    errno = err;
    return pid;
}

pid_t fork(void)
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
