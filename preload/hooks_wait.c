/* unreaped-child for a parent that runs on: how long each child stayed a zombie before its
 * parent waited for it.
 *
 * A process that ends stamps its pid, its parent's pid and the time into a small table shared by
 * the whole traced tree (the `exits` file of the private trace directory, mapped MAP_SHARED by
 * every image, inherited by forked children, mapped again by exec'd ones).  The wait family
 * (wait, waitpid, wait3, wait4, waitid: rare calls, never on a lock path) is interposed: after a
 * call that reaped a child, its stamp gives how long it was a zombie, and a zombie older than the
 * threshold (FORKSAN_ZOMBIE_THRESHOLD_MS, `forksan run --zombie-threshold`) is recorded at once
 * as a `reaped` record, so the finding survives a parent killed later.  The real call's result,
 * status and errno are returned untouched.  A child that ended by a signal, or whose stamp was
 * overwritten (4096 slots, by pid), has no stamp: no verdict.  Anything that fails here (no
 * directory, no mmap) turns the check off, never the program's wait. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct exit_stamp {
    int32_t pid; /* written last, cleared first: a reader that sees it sees the rest */
    int32_t ppid;
    int64_t time;
};
/* A page of stamps opens with the count of the ends stamped in it that storm.c counts (those of
 * processes it counted alive): an ending process then writes one shared page, its stamp's; each
 * shared page a forked child writes is a page fault, and on a disk file system a journal entry. */
#define EXIT_PAGES      16
#define STAMPS_PER_PAGE 255
struct exit_page {
    int64_t ended;
    uint32_t magic; /* page 0 only */
    uint32_t pad;
    struct exit_stamp slot[STAMPS_PER_PAGE];
};
struct exits_shm {
    struct exit_page page[EXIT_PAGES];
};
_Static_assert(sizeof(struct exit_page) == 4096, "one page per exit_page");
#define EXITS_MAGIC 0x666b7a32u /* "fkz2" */

static struct exits_shm *shm FS_HOT;
static int64_t threshold_ns FS_HOT = (int64_t)FS_ZOMBIE_DEFAULT_MS * 1000000;

void fs_wait_init(void)
{
    const char *t = getenv("FORKSAN_ZOMBIE_THRESHOLD_MS");
    if (t && *t) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v < 0)
            fs_complain("ignoring a malformed FORKSAN_ZOMBIE_THRESHOLD_MS");
        else
            threshold_ns = (int64_t)v * 1000000;
    }
    char path[FS_PATH_MAX];
    size_t n = fs_fmt_str(path, sizeof path, 0, fs_config.trace_dir);
    n = fs_fmt_str(path, sizeof path, n, "/exits");
    if (n == (size_t)-1)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    struct stat st;
    /* Growing a file to the same size from several processes at once is harmless. */
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode) ||
        (st.st_size < (off_t)sizeof *shm && ftruncate(fd, sizeof *shm) < 0)) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    struct exits_shm *s = m;
    uint32_t zero = 0;
    __atomic_compare_exchange_n(&s->page[0].magic, &zero, EXITS_MAGIC, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->page[0].magic, __ATOMIC_ACQUIRE) != EXITS_MAGIC) {
        munmap(m, sizeof *shm);
        return;
    }
    shm = s;
}

/* fs_now_ns's clock with the system call itself: this runs in every exiting child, where the
 * vDSO's page and libc's clock_gettime page are two page faults (a fork's child gets no page
 * table entries for them), against one system call. */
static int64_t now_raw(void)
{
#if defined(__x86_64__)
    struct timespec ts = {0, 0}; /* written by the kernel; the analyzers cannot see through asm */
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)SYS_clock_gettime), "D"((long)CLOCK_MONOTONIC), "S"(&ts)
                     : "rcx", "r11", "memory");
    if (r == 0)
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
    return fs_now_ns();
}

static struct exit_page *page_of(int pid)
{
    return &shm->page[(unsigned)pid % (EXIT_PAGES * STAMPS_PER_PAGE) / STAMPS_PER_PAGE];
}

static struct exit_stamp *stamp_of(int pid)
{
    return &page_of(pid)->slot[(unsigned)pid % (EXIT_PAGES * STAMPS_PER_PAGE) % STAMPS_PER_PAGE];
}

int fs_wait_ready(void)
{
    return shm != NULL;
}

int64_t fs_wait_ended_total(void)
{
    int64_t n = 0;
    for (int i = 0; shm && i < EXIT_PAGES; i++)
        n += __atomic_load_n(&shm->page[i].ended, __ATOMIC_ACQUIRE);
    return n;
}

int fs_wait_has_ended(int pid)
{
    return shm && pid > 0 && __atomic_load_n(&stamp_of(pid)->pid, __ATOMIC_ACQUIRE) == pid;
}

FS_CHILD_PATH void fs_wait_stamp_exit(int counted)
{
    if (!shm)
        return;
    /* A forked child that has not forked itself still has the record of the fork that made it:
     * its parent without a system call on the fork-_exit path. */
    int ppid = fs_proc.forked_image && fs_proc.fork_seq == 0 && fs_fork_ctx.valid
                   ? fs_fork_ctx.parent_pid
                   : (int)getppid();
    struct exit_stamp *e = stamp_of(fs_pid);
    __atomic_store_n(&e->pid, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&e->ppid, (int32_t)ppid, __ATOMIC_RELAXED);
    __atomic_store_n(&e->time, now_raw(), __ATOMIC_RELAXED);
    __atomic_store_n(&e->pid, (int32_t)fs_pid, __ATOMIC_RELEASE);
    /* After the stamp: a recount between the two sees an ended process, not one alive. */
    if (counted)
        __atomic_add_fetch(&page_of(fs_pid)->ended, 1, __ATOMIC_ACQ_REL);
}

static void record_late(int pid, int64_t zombie_ns, int64_t now)
{
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    fs_lb_begin(lb, FS_REC_REAPED);
    fs_lb_dec(lb, "pid", pid);
    fs_lb_dec(lb, "zombie", zombie_ns);
    fs_lb_dec(lb, "threshold", threshold_ns);
    fs_lb_dec(lb, "time", now);
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}

/* A child this process reaped had been killed by a signal: its trace then ends without an `end`
 * record, and this says why (the analyzer warns only of ends nothing explains).  Rare. */
static void record_killed(int pid, int sig)
{
    if (!fs_config.active || pid <= 0)
        return;
    int saved = errno;
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) == 0) {
        fs_lb_begin(lb, FS_REC_KILLED);
        fs_lb_dec(lb, "pid", pid);
        fs_lb_dec(lb, "signal", sig);
        fs_lb_dec(lb, "time", fs_now_ns());
        fs_lb_end(lb);
        fs_trace_end_local(lb);
    }
    errno = saved;
}

/* pid was reaped by this process just now. */
FS_FORK_PATH static void reaped(int pid)
{
    if (!shm || pid <= 0 || !fs_config.active)
        return;
    int saved = errno;
    fs_storm_reaped(pid);
    struct exit_stamp *e = stamp_of(pid);
    int32_t want = pid;
    if (__atomic_load_n(&e->pid, __ATOMIC_ACQUIRE) == pid) {
        int32_t ppid = __atomic_load_n(&e->ppid, __ATOMIC_RELAXED);
        int64_t at = __atomic_load_n(&e->time, __ATOMIC_RELAXED);
        /* Ours only if the child's parent was this process (a subreaper's orphans report
         * their first parent; they were not this process's to wait for until re-parented). */
        if (__atomic_compare_exchange_n(&e->pid, &want, 0, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED) &&
            ppid == fs_pid) {
            int64_t now = fs_now_ns();
            if (now - at > threshold_ns)
                record_late(pid, now - at, now);
        }
    }
    errno = saved;
}

/* A successful wait with a status: did it reap (not a stop or a continue report)? */
FS_FORK_PATH static void after_wait(pid_t r, const int *status, int options)
{
    if (r <= 0)
        return;
    if (status ? (WIFEXITED(*status) || WIFSIGNALED(*status))
               : !(options & (WUNTRACED | WCONTINUED)))
        reaped(r);
    if (status && WIFSIGNALED(*status))
        record_killed(r, WTERMSIG(*status));
}

/* Each hook forwards to the same libc function with the same arguments. */
pid_t wait(int *status)
{
    FS_REAL_READY();
    if (!fs_real.wait)
        return fs_real_missing();
    pid_t r = fs_real.wait(status);
    after_wait(r, status, 0);
    return r;
}

FS_FORK_PATH pid_t waitpid(pid_t pid, int *status, int options)
{
    FS_REAL_READY();
    if (!fs_real.waitpid)
        return fs_real_missing();
    pid_t r = fs_real.waitpid(pid, status, options);
    after_wait(r, status, options);
    return r;
}

pid_t wait3(int *status, int options, struct rusage *usage)
{
    FS_REAL_READY();
    if (!fs_real.wait3)
        return fs_real_missing();
    pid_t r = fs_real.wait3(status, options, usage);
    after_wait(r, status, options);
    return r;
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    FS_REAL_READY();
    if (!fs_real.wait4)
        return fs_real_missing();
    pid_t r = fs_real.wait4(pid, status, options, usage);
    after_wait(r, status, options);
    return r;
}

int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    FS_REAL_READY();
    if (!fs_real.waitid)
        return fs_real_missing();
    int r = fs_real.waitid(idtype, id, info, options);
    /* WNOWAIT leaves the child a zombie; WNOHANG with nothing to report leaves si_pid 0. */
    if (r == 0 && info && !(options & WNOWAIT) && info->si_pid > 0 &&
        (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
         info->si_code == CLD_DUMPED)) {
        reaped(info->si_pid);
        if (info->si_code != CLD_EXITED)
            record_killed(info->si_pid, info->si_status);
    }
    return r;
}
