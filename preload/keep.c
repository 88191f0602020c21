/* Descriptors the shim keeps when a process is about to lose the way to its trace directory.
 *
 * A process that drops its privileges (setuid-family calls, as nginx, apache and sshd workers
 * do), changes its root directory, or lowers RLIMIT_NOFILE can no longer open its trace by path:
 * the directory is private to the user who ran forksan (mode 0700), another root hides it, or no
 * descriptor number is free.  Just before such a call, while the process still can, the shim
 * opens what it will need and keeps it at a high descriptor number:
 *
 *   - its own trace file, for appending (the deferred file of a forked child is created first);
 *   - a directory for the files of its descendants: the trace directory itself, or, when the
 *     effective uid changes, a per-process subdirectory `<pid>.d` made inside it and handed to
 *     the new uid (mode 0700).  The trace directory keeps its owner and mode: the subdirectory is
 *     reachable only through the kept descriptor, by this process and its children, which run as
 *     that uid anyway.
 *
 * From then on the process never opens a trace by path again (after chroot a path could name a
 * file outside the trace directory).  The kept descriptors are hidden from the program: close()
 * of one fails with EBADF as if it were not open, close_range() and closefrom() skip them, and a
 * dup2()/dup3() onto one first moves ours away.  Before each use the descriptor's device and inode
 * are checked, so a program that closed it by other means (a raw syscall) and reused the number
 * never gets trace records in its own file: such a batch is dropped.
 *
 * Every call here is rare (privilege changes, chroot, limits, whole-range closes); close(),
 * dup2() and dup3() cost one predictable branch while nothing is kept. */
#include "keep.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

FS_HIDDEN struct fs_keep fs_keep FS_HOT = {.file_fd = -1, .dir_fd = -1, .parent_fd = -1};

/* ---- kept descriptors ---------------------------------------------------------------------- */

int fs_keep_raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

/* A number the program is unlikely to reach or to expect: just below the smaller of the soft
 * limit and 1024 (a higher base would grow the descriptor table of a process with a large
 * limit).  The original descriptor is closed. */
static int move_high(int fd)
{
    struct rlimit rl;
    long base = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)base)
        base = (long)rl.rlim_cur;
    base -= 24;
    if (base <= fd)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
    if (high < 0)
        return fd;
    fs_keep_raw_close(fd);
    return high;
}

static void remember(int fd, dev_t *dev, ino_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        *dev = st.st_dev;
        *ino = st.st_ino;
    }
}

/* The kept descriptor is still the one we opened (a program's raw close and reuse would make it
 * another file). */
static int still_ours(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

int fs_keep_file_fd(void)
{
    if (still_ours(fs_keep.file_fd, fs_keep.file_dev, fs_keep.file_ino))
        return fs_keep.file_fd;
    return -1;
}

int fs_keep_is(int fd)
{
    return fd >= 0 && (fd == fs_keep.file_fd || fd == fs_keep.dir_fd);
}

/* While the soft limit leaves no descriptor free, open with it raised (towards the hard limit)
 * for the one call.  Rare (the program lowered its limit); a thread of the program opening at that
 * very moment could get a number above its own limit, which is harmless. */
static int with_room(int (*fn)(const void *), const void *arg)
{
    int fd = fn(arg);
    if (fd >= 0 || errno != EMFILE)
        return fd;
    struct rlimit rl, raised;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
        return -1;
    raised = rl;
    /* Enough for the descriptors the program holds above the limit (inherited ones). */
    raised.rlim_cur = rl.rlim_max - rl.rlim_cur > 64 ? rl.rlim_cur + 64 : rl.rlim_max;
    FS_REAL_READY();
    if (!fs_real.setrlimit || fs_real.setrlimit(RLIMIT_NOFILE, &raised) < 0)
        return -1;
    fd = fn(arg);
    int saved = errno;
    fs_real.setrlimit(RLIMIT_NOFILE, &rl);
    errno = saved;
    return fd;
}

static int open_own_path(const void *path)
{
    return open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
}

static int open_dir_path(const void *path)
{
    return open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void keep_file(int fd)
{
    fd = move_high(fd);
    remember(fd, &fs_keep.file_dev, &fs_keep.file_ino);
    fs_keep.file_fd = fd;
    fs_keep.active = 1;
}

static void keep_dir(int fd, int sub)
{
    fd = move_high(fd);
    remember(fd, &fs_keep.dir_dev, &fs_keep.dir_ino);
    if (fs_keep.dir_fd >= 0)
        fs_keep_raw_close(fs_keep.dir_fd);
    fs_keep.dir_fd = fd;
    fs_keep.sub = sub;
}

/* Opens what the process will need once it can no longer use paths.  `uid` is the effective
 * uid it is about to take ((uid_t)-1: unchanged); `why` says why, for the exec record. */
void fs_keep_prepare(uid_t uid, gid_t gid, const char *why)
{
    if (!fs_config.active || !fs_trace_owned())
        return;
    /* A setuid-family call that keeps the effective uid (setuid(getuid()) in an ordinary
     * program) changes nothing the shim cares about. */
    if (why[0] == 's' && (uid == (uid_t)-1 || uid == geteuid()))
        return;
    int saved = errno;
    fs_snapshot_flush(); /* a deferred child file: create it while the process still can */
    if (!fs_trace_owned())
        goto out;
    if (!fs_keep.active) {
        int fd = with_room(open_own_path, fs_trace_path());
        if (fd < 0) {
            fs_complain("cannot keep the trace file open; not recording this process");
            goto out;
        }
        keep_file(fd);
        fd = with_room(open_dir_path, fs_config.trace_dir);
        if (fd >= 0)
            keep_dir(fd, 0);
    }
    fs_keep.why = why;
    uid_t euid = geteuid();
    if (uid != (uid_t)-1 && uid != euid && !fs_keep.sub && fs_keep.dir_fd >= 0) {
        /* The descendants of a process that leaves this uid create their files in a directory
         * of the new uid, reachable only through the kept descriptor. */
        char name[32];
        size_t n = fs_fmt_dec(name, sizeof name, 0, (uint64_t)fs_pid);
        n = fs_fmt_str(name, sizeof name, n, ".d");
        int dfd = -1;
        if (n != (size_t)-1 && (mkdirat(fs_keep.dir_fd, name, 0700) == 0 || errno == EEXIST))
            dfd = openat(fs_keep.dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        /* Ours only if we made it (owned by us now, not a planted one), then handed over. */
        if (dfd >= 0 && fstat(dfd, &st) == 0 && st.st_uid == euid && (st.st_mode & 07777) == 0700 &&
            fchownat(dfd, "", uid, gid, AT_EMPTY_PATH) == 0)
            keep_dir(dfd, 1);
        else if (dfd >= 0)
            fs_keep_raw_close(dfd);
    }
out:
    errno = saved;
}

/* A forked child: the kept file is its parent's; its own is created through the kept directory
 * (fs_keep_create).  Only touched when something is kept, so ordinary children write nothing
 * here. */
FS_CHILD_PATH void fs_keep_child_reset(void)
{
    if (fs_keep.file_fd < 0)
        return;
    if (fs_keep.parent_fd >= 0)
        fs_keep_raw_close(fs_keep.parent_fd);
    fs_keep.parent_fd = fs_keep.file_fd;
    fs_keep.parent_dev = fs_keep.file_dev;
    fs_keep.parent_ino = fs_keep.file_ino;
    fs_keep.file_fd = -1;
}

void fs_keep_child_file_done(int ok, int seq, int err)
{
    int fd = fs_keep.parent_fd;
    if (fd < 0)
        return;
    fs_keep.parent_fd = -1;
    if (!ok && still_ours(fd, fs_keep.parent_dev, fs_keep.parent_ino)) {
        /* Whole records on an O_APPEND descriptor: this one lands intact in the parent's file. */
        struct fs_linebuf lb;
        char buf[256];
        fs_lb_init(&lb, fd, buf, sizeof buf);
        fs_lb_begin(&lb, FS_REC_UNTRACED);
        fs_lb_dec(&lb, "pid", fs_pid);
        fs_lb_dec(&lb, "seq", seq);
        fs_lb_str(&lb, "why", err == EMFILE ? "rlimit" : fs_keep.why ? fs_keep.why : "create");
        fs_lb_dec(&lb, "errno", err);
        fs_lb_dec(&lb, "time", fs_now_ns());
        fs_lb_end(&lb);
        fs_lb_flush(&lb);
    }
    fs_keep_raw_close(fd);
}

struct create_args {
    const char *name;
};

static int create_at(const void *arg)
{
    const struct create_args *a = arg;
    return openat(fs_keep.dir_fd, a->name,
                  O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

int fs_keep_create(const char *name)
{
    if (!still_ours(fs_keep.dir_fd, fs_keep.dir_dev, fs_keep.dir_ino)) {
        errno = EBADF;
        return -1;
    }
    struct create_args a = {name};
    int fd = with_room(create_at, &a);
    if (fd < 0)
        return -1;
    keep_file(fd);
    return 0;
}

/* This image's own file, opened by path when no descriptor was free (the limit was lowered
 * behind our back, e.g. by a raw prlimit): kept from then on. */
int fs_keep_own_on_emfile(void)
{
    if (fs_keep.active)
        return fs_keep_file_fd();
    int fd = with_room(open_own_path, fs_trace_path());
    if (fd < 0)
        return -1;
    keep_file(fd);
    fs_keep.why = "rlimit";
    return fs_keep.file_fd;
}

/* An open of a new trace file by path failed for want of a free descriptor: keep the directory
 * (with the limit raised for the one call) and create through it from now on. */
int fs_keep_on_emfile(void)
{
    if (fs_keep.active || fs_keep.dir_fd >= 0)
        return fs_keep.dir_fd >= 0 ? 0 : -1;
    int fd = with_room(open_dir_path, fs_config.trace_dir);
    if (fd < 0)
        return -1;
    keep_dir(fd, 0);
    fs_keep.why = "rlimit";
    return 0;
}

/* A dup onto a kept number: move ours away first, then let the program have its number. */
void fs_keep_vacate(int fd)
{
    /* A vfork child shares our memory but has its own descriptor table: its dup2 only clobbers
     * its own copy, and the numbers recorded here must stay the parent's. */
    if (getpid() != fs_pid)
        return;
    int *slot = fd == fs_keep.file_fd ? &fs_keep.file_fd : &fs_keep.dir_fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
    if (moved >= 0)
        *slot = moved;
    else
        *slot = -1; /* lost: later writes are counted as lost, never sent to the program's file */
}

/* Closes [lo, hi] except the kept descriptors, in at most three calls. */
int fs_keep_close_range_around(unsigned lo, unsigned hi, int flags)
{
    int keep[2] = {fs_keep.file_fd, fs_keep.dir_fd};
    if (keep[0] > keep[1]) {
        int t = keep[0];
        keep[0] = keep[1];
        keep[1] = t;
    }
    int rc = 0, err = 0;
    unsigned from = lo;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < from || (unsigned)keep[i] > hi)
            continue;
        if ((unsigned)keep[i] > from && syscall(SYS_close_range, from, keep[i] - 1, flags) < 0 &&
            !rc) {
            rc = -1;
            err = errno;
        }
        from = (unsigned)keep[i] + 1;
    }
    if (from <= hi && from != 0 && syscall(SYS_close_range, from, hi, flags) < 0 && !rc) {
        rc = -1;
        err = errno;
    }
    if (rc)
        errno = err;
    return rc;
}
