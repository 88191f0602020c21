/* How a process ends, and what it leaves behind: the exit handlers it inherited
 * (child-exit-runs-parent-cleanup), what became of the output pending at fork
 * (stdio-unflushed-at-fork), and the children it never waited for (unreaped-child).
 *
 * __cxa_atexit and on_exit are interposed (rare calls) to know every handler and which process
 * registered it: the table is static memory, so a child inherits its parent's entries and can
 * tell them from the ones it registers itself.  (atexit() is libc_nonshared's wrapper around
 * __cxa_atexit, and C++ static destructors register through __cxa_atexit too.)
 *
 * The `end` record is written from the shim's destructor (exit(), a return from main, Python's
 * sys.exit and the end of a script all run it, after the program's own atexit handlers and
 * before libc flushes stdio), from the _exit/_Exit hooks, and before exec.  Whether the process
 * waited for its children is the kernel's to say: at the end, a child that is still a zombie
 * was never reaped (a parent whose SIGCHLD is ignored, or that set SA_NOCLDWAIT, has none).  A
 * forked child that has nothing to say writes nothing, so the common fork-_exit child still
 * creates no trace file. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HANDLERS_MAX 64
#define ZOMBIES_MAX  64

struct handler {
    uintptr_t fn, site;
    int pid; /* the process that registered it (0: before the shim started) */
};
static struct handler handlers[HANDLERS_MAX];
static unsigned nhandlers;
static unsigned handlers_lost;
static int handlers_lock;

static void remember_handler(uintptr_t fn, uintptr_t site)
{
    /* Registration is rare and may come from any thread: a bounded owner lock; a handler that
     * does not fit is counted. */
    if (fs_owner_lock_try(&handlers_lock, fs_gettid()) < 0)
        return;
    if (nhandlers < HANDLERS_MAX)
        handlers[nhandlers++] = (struct handler){fn, site, fs_pid};
    else
        handlers_lost++;
    fs_spin_release(&handlers_lock);
}

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    FS_REAL_READY();
    int rc = fs_real.__cxa_atexit ? fs_real.__cxa_atexit(fn, arg, dso) : -1;
    if (rc == 0)
        remember_handler((uintptr_t)fn, FS_CALLER());
    return rc;
}

int on_exit(void (*fn)(int, void *), void *arg)
{
    FS_REAL_READY();
    int rc = fs_real.on_exit ? fs_real.on_exit(fn, arg) : -1;
    if (rc == 0)
        remember_handler((uintptr_t)fn, FS_CALLER());
    return rc;
}

/* In the child handler: fs_proc's line is written there anyway, so these cost no extra
 * copy-on-write fault. */
FS_CHILD_PATH void fs_exit_forked(void)
{
    fs_proc.forked_image = 1;
    if (fs_proc.ended)
        fs_proc.ended = 0;
    if (fs_proc.spawned)
        fs_proc.spawned = 0;
}

void fs_exit_spawned(void)
{
    fs_proc.spawned = 1;
}

static const char *sigchld_name(void)
{
    struct sigaction sa;
    if (sigaction(SIGCHLD, NULL, &sa) < 0)
        return "unknown";
    if (sa.sa_handler == SIG_IGN)
        return "ign";
    if (sa.sa_flags & SA_NOCLDWAIT)
        return "nocldwait";
    return sa.sa_handler == SIG_DFL ? "dfl" : "handler";
}

/* Reads "/proc/self/task/<tid>/children" into pids; returns the new count. */
static size_t children_of(int tid, int *pids, size_t n)
{
    char buf[2048];
    if (fs_read_proc(0, tid, "children", buf, sizeof buf) <= 0)
        return n;
    for (char *p = buf; *p && n < ZOMBIES_MAX;) {
        int v = 0, any = 0;
        for (; *p >= '0' && *p <= '9'; p++, any = 1)
            v = v * 10 + (*p - '0');
        if (any)
            pids[n++] = v;
        while (*p && (*p < '0' || *p > '9'))
            p++;
    }
    return n;
}

struct children {
    int pids[ZOMBIES_MAX];
    size_t n;
};

static void thread_children(int tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct children *c = arg;
    if (tid > 0)
        c->n = children_of(tid, c->pids, c->n);
}

/* Children of every thread of this process that are zombies now. */
static size_t zombies(int *out)
{
    struct children c = {.n = 0};
    if (fs_proc_dir_numbers("/proc/self/task", thread_children, &c) < 0)
        return 0;
    size_t z = 0;
    for (size_t i = 0; i < c.n; i++)
        if (fs_proc_state(c.pids[i], 0) == 'Z')
            out[z++] = c.pids[i];
    return z;
}

/* Exit handlers inherited from an ancestor (registered by another pid). */
static size_t inherited_handlers(uintptr_t *inh, uintptr_t *sites)
{
    size_t ninh = 0;
    for (unsigned i = 0; i < nhandlers && i < HANDLERS_MAX; i++)
        if (handlers[i].pid != fs_pid) {
            if (sites)
                sites[ninh] = handlers[i].site;
            if (inh)
                inh[ninh] = handlers[i].fn;
            ninh++;
        }
    return ninh;
}

static void end_write(int how, int status, int is_exit, long pyatexit, const int *zpids,
                      size_t nz);

FS_CHILD_PATH void fs_end_record(int how, int status)
{
    if (fs_config.active && fs_trace_owned())
        fs_end_record_owned(how, status);
}

FS_CHILD_PATH void fs_end_record_owned(int how, int status)
{
    if (!fs_config.active || fs_proc.ended)
        return;
    int *ep = fs_errno_loc(), saved = *ep;
    int is_exit = how == FS_END_EXIT, is_exec = how == FS_END_EXEC;
    /* Read only for exit() or a record to write: in a program without Python its page was
     * never touched, and reading it would cost a trivial child's _exit a page fault. */
    long pyatexit = 0;
    if (is_exit && fs_proc.forked_image && fs_pystate_fork.valid)
        pyatexit = fs_pystate_fork.atexit_count;
    int zpids[ZOMBIES_MAX];
    /* A forked child that never forked or spawned has no children: no /proc scan at its end,
     * which keeps the common fork-_exit child at the cost it had. */
    int may_have_children = !fs_proc.forked_image || fs_proc.fork_seq > 0 || fs_proc.spawned;
    size_t nz = is_exec || !may_have_children ? 0 : zombies(zpids);
    /* The handler table is read only when it can matter: a trivial child's _exit touches
     * neither its page nor the record's stack buffers (end_write). */
    int says =
        nz || fs_nstreams ||
        (fs_proc.forked_image && is_exit && (pyatexit > 0 || inherited_handlers(NULL, NULL)));
    if (!says && fs_proc.child_file_pending) {
        *ep = saved;
        return; /* a trivial child with nothing to say: no file at all */
    }
    fs_proc.ended = !is_exec;
    if (!is_exit && fs_proc.forked_image && fs_pystate_fork.valid)
        pyatexit = fs_pystate_fork.atexit_count;
    end_write(how, status, is_exit, pyatexit, zpids, nz);
    *ep = saved;
}

static __attribute__((noinline)) void end_write(int how, int status, int is_exit,
                                                long pyatexit, const int *zpids, size_t nz)
{
    uintptr_t inh[HANDLERS_MAX], sites[HANDLERS_MAX];
    size_t ninh = fs_proc.forked_image ? inherited_handlers(inh, sites) : 0;
    uintptr_t frames[FS_FORK_STACK_MAX];
    int nframes = 0;
    if (is_exit && fs_proc.forked_image) {
        FS_INTERNAL_BEGIN();
        nframes = fs_backtrace(frames, FS_FORK_STACK_MAX, 0);
        FS_INTERNAL_END();
    }
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    /* `end` comes last: a file whose header promised one (ends=1) and whose last record is
     * neither `end` nor `exec` was cut (docs/trace-format.md). */
    for (size_t i = 0; i < nz; i++) {
        fs_lb_begin(lb, FS_REC_ZOMBIE);
        fs_lb_dec(lb, "pid", zpids[i]);
        fs_lb_end(lb);
    }
    fs_stdio_write_fates(lb);
    fs_lb_begin(lb, FS_REC_END);
    static const char *const how_names[] = {
        [FS_END_EXIT] = "exit", [FS_END__EXIT] = "_exit", [FS_END_EXEC] = "exec"};
    fs_lb_str(lb, "how", how_names[how]);
    if (status >= 0)
        fs_lb_dec(lb, "status", status);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_dec(lb, "forked", fs_proc.forked_image);
    fs_lb_str(lb, "sigchld", sigchld_name());
    fs_lb_hexlist(lb, "frames", frames, (size_t)(nframes > 0 ? nframes : 0));
    fs_lb_hexlist(lb, "handlers", inh, ninh);
    fs_lb_hexlist(lb, "hsites", sites, ninh);
    fs_lb_dec(lb, "pyatexit", pyatexit);
    fs_lb_end(lb);
    fs_trace_end(lb);
    if (handlers_lost)
        fs_complain("more exit handlers than the shim keeps");
}
