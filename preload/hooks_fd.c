/* Descriptors that cross an exec (fd-inherited): what a new image finds open at its start, and
 * which descriptors the image before it put in place on purpose.
 *
 * Every descriptor a new image finds open crossed the exec without close-on-exec.  The shim lists
 * /proc/self/fd at start-up, before it opens anything itself, and writes one `fd` record per
 * descriptor above 2.  Deliberate ones are told apart by the side that exec'd: dup2/dup3 onto a
 * descriptor (rare calls, interposed) makes it a placed one, and so do posix_spawn's dup2 file
 * actions; the exec and spawn records carry that list.  The bitmap is static memory,
 * so a child forked after a shell's `exec 3>file` still knows fd 3 was placed. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PLACED_MAX    1024 /* descriptors tracked as placed: 0..1023 */
#define START_FDS_MAX 64
#define SPAWN_FA_MAX  64

static uint64_t placed[PLACED_MAX / 64];

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
    for (int fd = 3; fd < PLACED_MAX; fd++) {
        int on = (__atomic_load_n(&placed[fd / 64], __ATOMIC_RELAXED) >> (fd % 64)) & 1;
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
