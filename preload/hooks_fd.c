/* Descriptors that cross an exec (fd-inherited): what a new image finds open at its start, and
 * which descriptors the image before it put in place on purpose.
 *
 * Every descriptor a new image finds open crossed the exec without close-on-exec.  The shim lists
 * /proc/self/fd at start-up, before it opens anything itself, and writes one `fd` record per
 * descriptor above 2.  Deliberate ones are told apart by the side that exec'd: dup2/dup3 onto a
 * descriptor (rare calls, interposed) makes it a placed one, and so do posix_spawn's dup2 file
 * actions, and so does clearing close-on-exec by hand in the process that then execs (fcntl
 * F_SETFD, ioctl FIONCLEX in a forked child: subprocess's pass_fds on CPython 3.8 and 3.9, whose
 * child is forked rather than vforked; cleared in a parent before its fork, the descriptor
 * reaches every child that execs, which is the leak); the exec and spawn records carry that list.  The bitmap is static memory,
 * so a child forked after a shell's `exec 3>file` still knows fd 3 was placed. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PLACED_MAX    1024 /* descriptors tracked as placed: 0..1023 */
#define START_FDS_MAX 64
#define SPAWN_FA_MAX  64

static uint64_t placed[PLACED_MAX / 64];
/* Close-on-exec cleared by hand, valid for process cleared_pid only (no write in a child). */
static uint64_t cleared[PLACED_MAX / 64];
static pid_t cleared_pid;

struct start_fd {
    int fd;
    char target[128];
};
static struct start_fd start_fds[START_FDS_MAX];
static unsigned nstart_fds, start_fds_lost;

/* posix_spawn file actions seen being built: which descriptors each one puts in place. */
struct fa_entry {
    const void *fa;
    int fd;
};
static struct fa_entry fa_table[SPAWN_FA_MAX];
static unsigned fa_next;
static int fa_lock;

static void mark_placed(int fd)
{
    if (fd > 2 && fd < PLACED_MAX)
        __atomic_fetch_or(&placed[fd / 64], 1ULL << (fd % 64), __ATOMIC_RELAXED);
}

/* dup2/dup3 are interposed in keep_hooks.c (which also keeps the shim's own descriptors out of
 * their way); they report each descriptor they place here. */
void fs_fd_placed(int fd, int flags)
{
    if (!(flags & O_CLOEXEC))
        mark_placed(fd);
}

static void mark_cleared(int fd)
{
    if (fd <= 2 || fd >= PLACED_MAX)
        return;
    pid_t me = fs_pid;
    if (__atomic_load_n(&cleared_pid, __ATOMIC_RELAXED) != me) {
        for (unsigned i = 0; i < PLACED_MAX / 64; i++)
            __atomic_store_n(&cleared[i], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&cleared_pid, me, __ATOMIC_RELAXED);
    }
    __atomic_fetch_or(&cleared[fd / 64], 1ULL << (fd % 64), __ATOMIC_RELAXED);
}

static int fcntl_done(int fd, int cmd, void *arg, int r)
{
    if (FS_UNLIKELY(cmd == F_SETFD) && r == 0 && !((uintptr_t)arg & FD_CLOEXEC))
        mark_cleared(fd);
    return r;
}

/* fcntl and ioctl take one optional word; glibc's own wrappers read it unconditionally too. */
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    FS_REAL_READY();
    return fcntl_done(fd, cmd, arg, fs_real.fcntl(fd, cmd, arg));
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    FS_REAL_READY();
    return fcntl_done(fd, cmd, arg,
                      fs_real.fcntl64 ? fs_real.fcntl64(fd, cmd, arg) : fs_real.fcntl(fd, cmd, arg));
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    FS_REAL_READY();
    int r = fs_real.ioctl(fd, request, arg);
    if (FS_UNLIKELY(request == FIONCLEX) && r == 0)
        mark_cleared(fd);
    return r;
}

static void remember_fa(const void *fa, int fd)
{
    if (fd <= 2 || fs_owner_lock_try(&fa_lock, fs_gettid()) < 0)
        return;
    fa_table[fa_next % SPAWN_FA_MAX] = (struct fa_entry){fa, fd};
    fa_next++;
    fs_spin_release(&fa_lock);
}

int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
    FS_REAL_READY();
    int r = fs_real.posix_spawn_file_actions_adddup2(fa, fd, newfd);
    if (r == 0)
        remember_fa(fa, newfd);
    return r;
}

/* "3,7": the placed descriptors, for the exec record; fa adds a spawn's file actions. */
void fs_fd_placed_list(const void *fa, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    int mine = __atomic_load_n(&cleared_pid, __ATOMIC_RELAXED) == fs_pid;
    for (int fd = 3; fd < PLACED_MAX; fd++) {
        uint64_t bits = __atomic_load_n(&placed[fd / 64], __ATOMIC_RELAXED);
        if (mine)
            bits |= __atomic_load_n(&cleared[fd / 64], __ATOMIC_RELAXED);
        int on = (bits >> (fd % 64)) & 1;
        for (unsigned i = 0; fa && !on && i < SPAWN_FA_MAX && i < fa_next; i++)
            on = fa_table[i].fa == fa && fa_table[i].fd == fd;
        if (!on)
            continue;
        size_t m = n ? fs_fmt_str(out, cap, n, ",") : n;
        m = m == (size_t)-1 ? m : fs_fmt_dec(out, cap, m, (uint64_t)fd);
        if (m == (size_t)-1)
            break;
        n = m;
    }
}

static void note_start_fd(int fd, int dirfd, void *arg)
{
    (void)arg;
    if (fd <= 2 || fd == dirfd)
        return;
    if (nstart_fds >= START_FDS_MAX) {
        start_fds_lost++;
        return;
    }
    struct start_fd *s = &start_fds[nstart_fds++];
    s->fd = fd;
    fs_fd_target(fd, s->target, sizeof s->target);
}

void fs_fd_scan_start(void)
{
    nstart_fds = 0;
    start_fds_lost = 0;
    fs_proc_dir_numbers("/proc/self/fd", note_start_fd, NULL);
}

void fs_fd_write_start(struct fs_linebuf *lb)
{
    for (unsigned i = 0; i < nstart_fds; i++) {
        fs_lb_begin(lb, FS_REC_FD);
        fs_lb_dec(lb, "fd", start_fds[i].fd);
        fs_lb_str(lb, "target", start_fds[i].target);
        fs_lb_end(lb);
    }
    if (start_fds_lost)
        fs_trace_lost(lb, "fds", start_fds_lost);
}
