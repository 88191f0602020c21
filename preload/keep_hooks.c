/* Interposers that keep the shim's descriptors usable and hidden: the privilege, chroot and
 * limit calls prepare them (keep.c says what and why); close, dup2/dup3, close_range and
 * closefrom leave them alone, as if they were not open. */
#include "keep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <unistd.h>

/* ---- interposers: privilege changes, chroot, limits ---------------------------------------- */

int setuid(uid_t uid)
{
    FS_REAL_READY();
    fs_keep_prepare(uid, (gid_t)-1, "setuid");
    return fs_real.setuid ? fs_real.setuid(uid) : fs_real_missing();
}

int seteuid(uid_t uid)
{
    FS_REAL_READY();
    fs_keep_prepare(uid, (gid_t)-1, "setuid");
    return fs_real.seteuid ? fs_real.seteuid(uid) : fs_real_missing();
}

int setreuid(uid_t r, uid_t e)
{
    FS_REAL_READY();
    fs_keep_prepare(e, (gid_t)-1, "setuid");
    return fs_real.setreuid ? fs_real.setreuid(r, e) : fs_real_missing();
}

int setresuid(uid_t r, uid_t e, uid_t s)
{
    FS_REAL_READY();
    fs_keep_prepare(e, (gid_t)-1, "setuid");
    return fs_real.setresuid ? fs_real.setresuid(r, e, s) : fs_real_missing();
}

/* Group changes (setgid, setgroups) are not interposed: access to the trace directory (owner
 * only, mode 0700) depends on the effective uid alone, and a privilege drop changes the uid
 * last, which is where the shim prepares. */
int chroot(const char *path)
{
    FS_REAL_READY();
    fs_keep_prepare((uid_t)-1, (gid_t)-1, "chroot");
    return fs_real.chroot ? fs_real.chroot(path) : fs_real_missing();
}

static void limit_prepare(int resource, const struct rlimit *rl)
{
    struct rlimit cur;
    if (resource == RLIMIT_NOFILE && rl && getrlimit(RLIMIT_NOFILE, &cur) == 0 &&
        rl->rlim_cur < cur.rlim_cur)
        fs_keep_prepare((uid_t)-1, (gid_t)-1, "rlimit");
}

int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl)
{
    FS_REAL_READY();
    limit_prepare((int)resource, rl);
    return fs_real.setrlimit ? fs_real.setrlimit((int)resource, rl) : fs_real_missing();
}

/* The 64-bit names are aliases on 64-bit glibc, but a program may call them by name. */
int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rl)
{
    FS_REAL_READY();
    struct rlimit r;
    /* Declared nonnull, but a NULL must fail in the kernel (EFAULT), not crash here. */
    const volatile uintptr_t addr = (uintptr_t)rl;
    if (addr) {
        r.rlim_cur = (rlim_t)rl->rlim_cur;
        r.rlim_max = (rlim_t)rl->rlim_max;
        limit_prepare((int)resource, &r);
    }
    return fs_real.setrlimit64 ? fs_real.setrlimit64((int)resource, rl) : fs_real_missing();
}

int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *rl,
              struct rlimit64 *old)
{
    FS_REAL_READY();
    if (rl && (pid == 0 || pid == getpid())) {
        struct rlimit r;
        r.rlim_cur = (rlim_t)rl->rlim_cur;
        r.rlim_max = (rlim_t)rl->rlim_max;
        limit_prepare((int)resource, &r);
    }
    return fs_real.prlimit64 ? fs_real.prlimit64(pid, (int)resource, rl, old) : fs_real_missing();
}

int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *rl, struct rlimit *old)
{
    FS_REAL_READY();
    if (pid == 0 || pid == getpid())
        limit_prepare((int)resource, rl);
    return fs_real.prlimit ? fs_real.prlimit(pid, (int)resource, rl, old) : fs_real_missing();
}

/* ---- interposers: keeping our descriptors out of the program's closes --------------------- */

int close(int fd)
{
    if (FS_UNLIKELY(fs_keep_is(fd))) {
        errno = EBADF; /* as for a descriptor that is not open: ours are not the program's */
        return -1;
    }
    FS_REAL_READY();
    return fs_real.close ? fs_real.close(fd) : fs_real_missing();
}

int dup2(int old, int fd)
{
    FS_REAL_READY();
    if (FS_UNLIKELY(fs_keep_is(fd)) && old != fd)
        fs_keep_vacate(fd);
    int r = fs_real.dup2 ? fs_real.dup2(old, fd) : fs_real_missing();
    if (r >= 0)
        fs_fd_placed(fd, 0); /* put in place on purpose (fd-inherited) */
    return r;
}

int dup3(int old, int fd, int flags)
{
    FS_REAL_READY();
    if (FS_UNLIKELY(fs_keep_is(fd)) && old != fd)
        fs_keep_vacate(fd);
    int saved = errno;
    int r = fs_real.dup3 ? fs_real.dup3(old, fd, flags) : fs_real_missing();
    if (r >= 0) {
        fs_fd_placed(fd, flags);
        errno = saved;
    }
    return r;
}

int close_range(unsigned lo, unsigned hi, int flags)
{
    int a = fs_keep.file_fd, b = fs_keep.dir_fd;
    if (FS_LIKELY((a < 0 || (unsigned)a < lo || (unsigned)a > hi) &&
                  (b < 0 || (unsigned)b < lo || (unsigned)b > hi)) ||
        lo > hi)
        return (int)syscall(SYS_close_range, lo, hi, flags);
    return fs_keep_close_range_around(lo, hi, flags);
}

void closefrom(int lo)
{
    FS_REAL_READY();
    int top = fs_keep.file_fd > fs_keep.dir_fd ? fs_keep.file_fd : fs_keep.dir_fd;
    if (FS_LIKELY(top < 0 || top < lo)) {
        if (fs_real.closefrom)
            fs_real.closefrom(lo);
        return;
    }
    int saved = errno;
    if (fs_keep_close_range_around((unsigned)lo, (unsigned)top, 0) < 0)
        for (int fd = lo; fd < top; fd++) /* no close_range(2): one by one, below ours */
            if (!fs_keep_is(fd))
                fs_keep_raw_close(fd);
    errno = saved;
    if (fs_real.closefrom)
        fs_real.closefrom(top + 1);
}
