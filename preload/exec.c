/* exec and posix_spawn: record that this image ends, and keep the shim in the next one.
 *
 * forksan follows the whole process tree, so a program that execs with an environment lacking
 * LD_PRELOAD or FORKSAN_* (env -i, a sanitized envp) gets them back, as they were at start-up,
 * other preloads included (FORKSAN_FOLLOW_EXEC=0 turns this off).  An exec can come from the
 * child of a multi-threaded parent, where only async-signal-safe calls are allowed: the new
 * environment is built on the stack, never with malloc.  All exec variants funnel into execve or
 * execvpe here because glibc's own variants call its internal execve, not ours. */
#include "shim.h"
#include "keep.h"
#include "linebuf.h"
#include "trace_format.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define ENV_MAX     1024
#define ENV_EXTRA   64
#define PRELOAD_MAX 4096

/* The rebuilt environment lives in static memory, not on the stack: exec and posix_spawn are
 * called from threads with PTHREAD_STACK_MIN stacks.  The lock is bounded; when it cannot be had
 * (two threads exec'ing at once), the second passes its environment through unchanged.  It is an
 * owner lock: a vfork child that execs takes it in our shared memory and never releases it. */
static char *env_out[ENV_MAX + ENV_EXTRA];
static char preload_buf[PRELOAD_MAX];
static int env_lock;

static int env_has_name(char *const *envp, const char *entry)
{
    size_t klen = strcspn(entry, "=") + 1;
    for (; envp && *envp; envp++)
        if (strncmp(*envp, entry, klen) == 0)
            return 1;
    return 0;
}

/* Does this LD_PRELOAD value (after "LD_PRELOAD=") name our library? */
static int preload_has_self(const char *value)
{
    size_t n = strlen(fs_config.self_path);
    for (const char *p = value; n && (p = strstr(p, fs_config.self_path)); p += n)
        if ((p == value || p[-1] == ':' || p[-1] == ' ') &&
            (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
            return 1;
    return 0;
}

/* Does envp lack anything the shim needs in the next image? */
static int env_needs_fix(char *const *envp)
{
    if (!fs_config.active || !fs_config.follow_exec || !fs_config.self_path[0])
        return 0;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && !preload_has_self(*e + 11))
            return 1;
    for (size_t off = 0; off < fs_config.saved_env_len;
         off += strlen(fs_config.saved_env + off) + 1)
        if (!env_has_name(envp, fs_config.saved_env + off))
            return 1;
    return 0;
}

/* Fills out[] with envp plus what the shim needs (env_needs_fix said something is missing);
 * returns out, or envp unchanged when the result would not fit (the child then runs untraced). */
static char *const *fixed_env(char *const *envp, char **out, char *preload_buf)
{
    size_t n = 0;
    for (char *const *e = envp; e && *e; e++) {
        if (n >= ENV_MAX)
            return envp;
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && !preload_has_self(*e + 11)) {
            size_t at = fs_fmt_str(preload_buf, PRELOAD_MAX, 0, "LD_PRELOAD=");
            at = fs_fmt_str(preload_buf, PRELOAD_MAX, at, fs_config.self_path);
            if ((*e)[11])
                at = fs_fmt_str(preload_buf, PRELOAD_MAX, at, ":");
            at = fs_fmt_str(preload_buf, PRELOAD_MAX, at, *e + 11);
            if (at == (size_t)-1)
                return envp;
            out[n++] = preload_buf;
        } else {
            out[n++] = *e;
        }
    }
    for (size_t off = 0; off < fs_config.saved_env_len;
         off += strlen(fs_config.saved_env + off) + 1) {
        char *saved = fs_config.saved_env + off;
        if (env_has_name(envp, saved))
            continue;
        if (n >= ENV_MAX + ENV_EXTRA - 1)
            return envp;
        out[n++] = saved;
    }
    out[n] = NULL;
    return out;
}

/* Why the program about to run will not load the shim, when that can be told from its file:
 * a set-user-ID or set-group-ID program (the dynamic linker ignores LD_PRELOAD paths then), or
 * a static one (no PT_INTERP: no dynamic linker at all).  NULL when it should be traced.  Reads
 * at most 1 KiB of the file; async-signal-safe (exec may come from a forked child). */
static const char *next_untraced(const char *path)
{
    if (!path || !strchr(path, '/'))
        return NULL; /* a PATH search: the file is not known here */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    const char *why = NULL;
    struct stat st;
    union {
        ElfW(Ehdr) eh;
        unsigned char raw[1024];
    } u;
    ssize_t n;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto out;
    if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
        ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
        why = "setuid";
        goto out;
    }
    n = read(fd, u.raw, sizeof u.raw);
    if (n < (ssize_t)sizeof u.eh || memcmp(u.eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        u.eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        u.eh.e_phentsize != sizeof(ElfW(Phdr)) ||
        u.eh.e_phoff + (size_t)u.eh.e_phnum * sizeof(ElfW(Phdr)) > (size_t)n)
        goto out; /* a script, or headers beyond what was read: no verdict */
    why = "static";
    for (int i = 0; i < u.eh.e_phnum; i++) {
        ElfW(Phdr) ph;
        memcpy(&ph, u.raw + u.eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_INTERP)
            why = NULL;
    }
out:
    close(fd);
    return why;
}

/* A vfork child (posix_spawn, subprocess, dash) writes no record of its own, but when the
 * program it execs cannot load the shim, its parent's file says so: otherwise that process
 * would vanish from the report without a word.  Stack buffer only: this memory is the
 * parent's. */
static void record_vfork_untraced(const char *path)
{
    const char *why = next_untraced(path);
    if (!why || !fs_trace_path()[0])
        return;
    int fd = fs_keep.active ? fs_keep_file_fd()
                            : open(fs_trace_path(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct fs_linebuf lb;
    char buf[FS_LOCAL_RECORD_MAX];
    fs_lb_init(&lb, fd, buf, sizeof buf);
    fs_lb_begin(&lb, FS_REC_UNTRACED);
    fs_lb_dec(&lb, "pid", getpid());
    fs_lb_dec(&lb, "seq", 0);
    fs_lb_str(&lb, "why", why);
    fs_lb_str(&lb, "program", path);
    fs_lb_dec(&lb, "time", fs_now_ns());
    fs_lb_end(&lb);
    fs_lb_flush(&lb);
    if (fd != fs_keep.file_fd)
        close(fd);
}

static void vfork_untraced(const char *path)
{
    int saved = errno;
    record_vfork_untraced(path);
    errno = saved;
}

static void record_exec(const char *path)
{
    fs_rng_flush();
    fs_fork_records_flush_final(); /* the image ends: its fork records must not wait */
    if (fs_nstreams)
        fs_end_record(FS_END_EXEC, -1); /* what exec discards of the output pending at fork */
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    char placed_fds[256];
    fs_fd_placed_list(NULL, placed_fds, sizeof placed_fds);
    fs_lb_begin(lb, FS_REC_EXEC);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_str(lb, "path", path);
    fs_lb_str(lb, "placed", placed_fds);
    /* Kept descriptors do not cross exec: the next image must open the trace directory by path,
     * which a dropped uid or another root may forbid.  Said here, for the report. */
    if (fs_keep.active && fs_keep.why)
        fs_lb_str(lb, "kept", fs_keep.why);
    const char *why = next_untraced(path);
    if (why)
        fs_lb_str(lb, "next", why);
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}

static void record_exec_failed(int err)
{
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    fs_lb_begin(lb, "execfail");
    fs_lb_dec(lb, "errno", err);
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}

/* The environment to pass on: envp itself, or the rebuilt one (then *locked is set and
 * env_unlock must follow the call). */
static char *const *env_begin(char *const *envp, int *locked)
{
    *locked = 0;
    int saved = errno;
    if (!env_needs_fix(envp) || fs_owner_lock_try(&env_lock, fs_gettid()) < 0) {
        errno = saved;
        return envp;
    }
    errno = saved;
    *locked = 1;
    return fixed_env(envp, env_out, preload_buf);
}

static void env_end(int locked)
{
    if (locked)
        fs_spin_release(&env_lock);
}

/* The body every exec hook shares: CALL is the real call with `env` as its environment. */
#define EXEC_WITH_ENV(path, envp, CALL)                                                            \
    do {                                                                                           \
        FS_REAL_READY();                                                                           \
        int locked_;                                                                               \
        char *const *env = env_begin(envp, &locked_);                                              \
        int own_ = fs_trace_owned(); /* not a vfork child's exec */                                \
        if (own_)                                                                                  \
            record_exec(path);                                                                     \
        else if (fs_config.active)                                                                 \
            vfork_untraced(path);                                                                  \
        int r_ = CALL;                                                                             \
        int err_ = errno;                                                                          \
        env_end(locked_);                                                                          \
        if (own_)                                                                                  \
            record_exec_failed(err_);                                                              \
        errno = err_;                                                                              \
        return r_;                                                                                 \
    } while (0)

int execve(const char *path, char *const argv[], char *const envp[])
{
    EXEC_WITH_ENV(path, envp, fs_real.execve(path, argv, env));
}

int execv(const char *path, char *const argv[])
{
    EXEC_WITH_ENV(path, environ, fs_real.execve(path, argv, env));
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    EXEC_WITH_ENV(file, envp, fs_real.execvpe(file, argv, env));
}

int execvp(const char *file, char *const argv[])
{
    EXEC_WITH_ENV(file, environ, fs_real.execvpe(file, argv, env));
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
    EXEC_WITH_ENV("(fexecve)", envp, fs_real.fexecve(fd, argv, env));
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    if (!fs_real.execveat)
        return fs_real_missing();
    EXEC_WITH_ENV(path, envp, fs_real.execveat(dirfd, path, argv, env, flags));
}

/* The execl family: the arguments go into a variable-length array, as glibc's own execl does,
 * so there is no limit of ours on their number. */
static size_t count_args(const char *arg, va_list ap)
{
    size_t n = 1;
    if (arg)
        while (va_arg(ap, char *))
            n++;
    return n;
}

#define EXECL_BODY(arg, last, tail)                                                                \
    va_list ap;                                                                                    \
    va_start(ap, last);                                                                            \
    size_t n = count_args(arg, ap);                                                                \
    va_end(ap);                                                                                    \
    char *argv[n + 1];                                                                             \
    argv[0] = (char *)(arg);                                                                       \
    va_start(ap, last);                                                                            \
    for (size_t i = 1; i < n; i++)                                                                 \
        argv[i] = va_arg(ap, char *);                                                              \
    argv[n] = NULL;                                                                                \
    tail;                                                                                          \
    va_end(ap)

int execl(const char *path, const char *arg, ...)
{
    EXECL_BODY(arg, arg, (void)0);
    return execv(path, argv);
}

int execlp(const char *file, const char *arg, ...)
{
    EXECL_BODY(arg, arg, (void)0);
    return execvp(file, argv);
}

int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    /* The environment follows the NULL that ends the arguments: skip that NULL, unless arg
     * itself was it. */
    EXECL_BODY(arg, arg, if (argv[0])(void) va_arg(ap, char *); envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

static void record_spawn(pid_t pid, int rc, const char *path, const uintptr_t *frames, int n,
                         const void *fa)
{
    char placed_fds[256];
    fs_fd_placed_list(fa, placed_fds, sizeof placed_fds);
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    fs_lb_begin(lb, FS_REC_SPAWN);
    fs_lb_dec(lb, "child", rc == 0 ? pid : -1);
    fs_lb_str(lb, "path", path);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, n > 0 ? (size_t)n : 0);
    fs_lb_str(lb, "placed", placed_fds);
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}

#define SPAWN_WITH_ENV(REAL, pid, path, fa, attr, argv, envp)                                      \
    do {                                                                                           \
        FS_REAL_READY();                                                                           \
        if (!fs_config.active)                                                                     \
            return fs_real.REAL(pid, path, fa, attr, argv, envp);                                  \
        int locked_;                                                                               \
        char *const *env = env_begin(envp, &locked_);                                              \
        pid_t child_ = -1;                                                                         \
        int rc_ = fs_real.REAL(&child_, path, fa, attr, argv, env);                                \
        env_end(locked_);                                                                          \
        fs_exit_spawned();                                                                         \
        if (pid && rc_ == 0)                                                                       \
            *pid = child_;                                                                         \
        uintptr_t frames_[16];                                                                     \
        int n_;                                                                                    \
        {                                                                                          \
            FS_INTERNAL_BEGIN();                                                                   \
            n_ = fs_backtrace(frames_, 16, 1);                                                     \
            FS_INTERNAL_END();                                                                     \
        }                                                                                          \
        record_spawn(child_, rc_, path, frames_, n_, fa);                                          \
        return rc_;                                                                                \
    } while (0)

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SPAWN_WITH_ENV(posix_spawn, pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    SPAWN_WITH_ENV(posix_spawnp, pid, file, fa, attr, argv, envp);
}
