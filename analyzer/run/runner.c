/* Running a program under the shim and waiting for its whole process tree.
 *
 * forksan becomes a child subreaper, so descendants orphaned by their parents (daemon(), double
 * forks) are re-parented to it and the run ends only when the last of them has.  Signals are
 * handled synchronously with sigtimedwait: SIGCHLD reaps, the time limit ends the tree, and an
 * interrupt is passed on to the program unless the terminal already sent it to the whole
 * foreground group (a second interrupt ends the tree).
 *
 * The program stays in forksan's process group, so the terminal treats both as one job exactly as
 * it would treat the program alone (Ctrl-C and Ctrl-Z reach the program directly, it can read the
 * terminal, `fg`/`bg` work).  The price is that a program signalling its own group (apache
 * stopping its workers, `kill(0, sig)`, `killpg`, a script's `kill 0`) signals forksan too.  Those
 * are the program's signals, not the user's: a signal whose sender (si_pid, for SI_USER, SI_QUEUE
 * and SI_TKILL) is forksan's descendant, alive or a zombie, is neither counted nor forwarded (the
 * sender already chose its targets).  A sender that has already exited and been reaped cannot be
 * placed and counts as outside.  The same signal again from the same outside sender within a
 * second is the same interrupt (GNU timeout signals its child, then its whole group). */
#include "run.h"
#include "finding.h"
#include "deadwatch.h"
#include "diag.h"
#include "hang.h"
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool same_name(const char *entry, const char *name_eq)
{
    size_t n = strcspn(name_eq, "=") + 1;
    return strncmp(entry, name_eq, n) == 0;
}

/* environ with LD_PRELOAD (ours first, the user's preloads kept), FORKSAN_TRACE_DIR and the
 * extra entries set. */
static char **child_env(const struct fs_run_opts *o)
{
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    while (o->extra_env && o->extra_env[extra])
        extra++;
    char **env = fs_xcalloc(n + extra + 4, sizeof *env);
    const char *old_preload = getenv("LD_PRELOAD");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* FORKSAN_TRACE_DIR_ID belongs to another run (forksan run under forksan run): the
         * first image of this one sets it anew. */
        bool replaced = same_name(environ[i], "LD_PRELOAD=") ||
                        same_name(environ[i], "FORKSAN_TRACE_DIR=") ||
                        same_name(environ[i], "FORKSAN_TRACE_DIR_ID=");
        for (size_t j = 0; j < extra && !replaced; j++)
            replaced = same_name(environ[i], o->extra_env[j]);
        if (!replaced)
            env[k++] = environ[i];
    }
    if (old_preload && *old_preload)
        env[k++] = fs_xasprintf("LD_PRELOAD=%s:%s", o->shim_path, old_preload);
    else
        env[k++] = fs_xasprintf("LD_PRELOAD=%s", o->shim_path);
    /* Absolute, and with the directory's identity: the shim then has nothing to add to the
     * program's environment (it would for a relative path or a missing identity). */
    char cwd[PATH_MAX];
    if (o->trace_dir[0] != '/' && getcwd(cwd, sizeof cwd))
        env[k++] = fs_xasprintf("FORKSAN_TRACE_DIR=%s/%s", cwd, o->trace_dir);
    else
        env[k++] = fs_xasprintf("FORKSAN_TRACE_DIR=%s", o->trace_dir);
    struct stat st;
    if (stat(o->trace_dir, &st) == 0)
        env[k++] = fs_xasprintf("FORKSAN_TRACE_DIR_ID=%llx:%llx", (unsigned long long)st.st_dev,
                                (unsigned long long)st.st_ino);
    for (size_t j = 0; j < extra; j++)
        env[k++] = o->extra_env[j];
    env[k] = NULL;
    return env;
}

static pid_t start_child(const struct fs_run_opts *o, const sigset_t *old_mask, int *err_fd)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    char **env = child_env(o);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        if (o->stdout_fd >= 0)
            dup2(o->stdout_fd, STDOUT_FILENO);
        if (o->stderr_fd >= 0)
            dup2(o->stderr_fd, STDERR_FILENO);
        execvpe(o->argv[0], o->argv, env);
        int e = errno;
        if (write(pipefd[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    int e = errno;
    close(pipefd[1]);
    /* Only our own strings are freed; the rest point into environ. */
    for (char **p = env; *p; p++)
        if (same_name(*p, "LD_PRELOAD=") || same_name(*p, "FORKSAN_TRACE_DIR=") ||
            same_name(*p, "FORKSAN_TRACE_DIR_ID="))
            free(*p);
    free(env);
    if (pid < 0) {
        close(pipefd[0]);
        errno = e;
        return -1;
    }
    *err_fd = pipefd[0];
    return pid;
}

/* sigtimedwait, or when the traces are watched, a poll on a signalfd and the watch: returns the
 * signal, 0 when the watch has news, -1 on timeout. */
static int wait_event(const sigset_t *set, int sig_fd, int watch_fd, const struct timespec *ts,
                      siginfo_t *si)
{
    if (sig_fd < 0)
        return sigtimedwait(set, si, ts);
    struct pollfd fds[2] = {{.fd = sig_fd, .events = POLLIN}, {.fd = watch_fd, .events = POLLIN}};
    int ms = (int)(ts->tv_sec * 1000 + ts->tv_nsec / 1000000) + 1;
    if (poll(fds, 2, ms) <= 0)
        return -1;
    if (fds[0].revents & POLLIN) {
        struct signalfd_siginfo ssi;
        if (read(sig_fd, &ssi, sizeof ssi) == (ssize_t)sizeof ssi) {
            memset(si, 0, sizeof *si);
            si->si_code = ssi.ssi_code;
            si->si_pid = (pid_t)ssi.ssi_pid; /* who sent it: the program's own group or not */
            return (int)ssi.ssi_signo;
        }
    }
    return 0;
}

/* Pids forksan itself reaped lately (the program, and orphans it inherited as the subreaper): a
 * signal the program sent to its own group just before it ended is read after the reap, when
 * /proc no longer places the sender in the tree. */
#define REAPED_KEEP 256
static pid_t reaped[REAPED_KEEP];
static unsigned nreaped;

static bool reaped_lately(pid_t pid)
{
    for (unsigned i = 0; i < REAPED_KEEP && i < nreaped; i++)
        if (reaped[i] == pid)
            return true;
    return false;
}

static void reap(pid_t child, struct fs_run_result *res, bool *child_done)
{
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        reaped[nreaped++ % REAPED_KEEP] = p;
        /* The run saw this end: the report need not call its trace's missing `end` a mystery. */
        if (WIFSIGNALED(st)) {
            int *grown = realloc(res->signalled, (res->nsignalled + 1) * sizeof *grown);
            if (grown) {
                res->signalled = grown;
                res->signalled[res->nsignalled++] = p;
            }
        }
        if (p == child) {
            res->status = st;
            *child_done = true;
        }
    }
}

int fs_run_program(const struct fs_run_opts *o, struct fs_run_result *res)
{
    memset(res, 0, sizeof *res);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fs_warn("cannot become a subreaper (%s): orphaned descendants will not be waited for",
                strerror(errno));

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, &old);

    int err_fd = -1;
    pid_t child = start_child(o, &old, &err_fd);
    if (child < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        errno = e;
        return -1;
    }
    int exec_err = 0;
    ssize_t got;
    do
        got = read(err_fd, &exec_err, sizeof exec_err);
    while (got < 0 && errno == EINTR);
    close(err_fd);
    res->started = got != (ssize_t)sizeof exec_err;
    res->exec_errno = res->started ? 0 : exec_err;

    double started = now_s();
    clock_gettime(CLOCK_REALTIME, &res->start_wall);
    res->start_mono_ns = (int64_t)(started * 1e9);
    double deadline = o->timeout > 0 ? started + o->timeout : 0;
    bool child_done = false;
    int last_sig = 0;
    pid_t last_sender = 0;
    double last_time = 0;
    struct fs_deadwatch *watch =
        o->watch_deadlocks ? fs_deadwatch_open(o->trace_dir, o->end_deadlocked, started) : NULL;
    int sig_fd = watch ? signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK) : -1;
    for (;;) {
        reap(child, res, &child_done);
        if (child_done && !fs_tree_has_descendants(getpid()))
            break;
        if (watch)
            res->deadlocks_ended += fs_deadwatch_service(watch, now_s());
        struct timespec ts = {1, 0};
        double next = watch ? fs_deadwatch_next(watch, now_s()) : -1;
        if (next >= 0 && next < 1) {
            ts.tv_sec = 0;
            ts.tv_nsec = (long)(next * 1e9) + 1;
        }
        if (deadline) {
            double left = deadline - now_s();
            if (left <= 0) {
                res->timed_out = true;
                /* The stacks first: ending the tree destroys the evidence of why it hung. */
                fs_hang_capture_tree(getpid(), o->trace_dir, now_s() - started);
                res->leftovers = fs_tree_end(getpid(), 2.0);
                reap(child, res, &child_done);
                break;
            }
            if (left < 1 && (next < 0 || left < next)) {
                ts.tv_sec = 0;
                ts.tv_nsec = (long)(left * 1e9) + 1;
            }
        }
        siginfo_t si;
        int sig = wait_event(&set, sig_fd, fs_deadwatch_fd(watch), &ts, &si);
        if (sig <= 0 || sig == SIGCHLD)
            continue;
        bool user_sent = si.si_code == SI_USER || si.si_code == SI_QUEUE || si.si_code == SI_TKILL;
        if (user_sent && si.si_pid > 0 &&
            (fs_tree_contains(getpid(), si.si_pid) || reaped_lately(si.si_pid)))
            continue; /* the program's own signal, to its own group */
        double t = now_s();
        if (res->interrupted && user_sent && sig == last_sig && si.si_pid == last_sender &&
            t - last_time < 1.0)
            continue;
        last_sig = sig;
        last_sender = user_sent ? si.si_pid : 0;
        last_time = t;
        if (res->interrupted) {
            fs_warn("interrupted again: ending the program's process tree");
            fs_hang_capture_tree(getpid(), o->trace_dir, now_s() - started);
            res->leftovers = fs_tree_end(getpid(), 1.0);
            reap(child, res, &child_done);
            break;
        }
        res->interrupted = sig;
        /* A terminal's interrupt already reached the whole foreground group. */
        if (si.si_code == SI_USER || si.si_code == SI_QUEUE || sig == SIGTERM || sig == SIGHUP)
            kill(child, sig);
    }
    /* Anything still there (a descendant outside our reach): wait for nothing more. */
    if (watch)
        res->deadlocks_ended += fs_deadwatch_service(watch, 0); /* announce late records */
    fs_deadwatch_close(watch);
    if (sig_fd >= 0)
        close(sig_fd);
    res->duration = now_s() - started;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}
