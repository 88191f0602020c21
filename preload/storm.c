/* fork-storm: tree-wide limits on processes alive at once and forks in total, so that a runaway
 * fork loop under forksan cannot take the machine down.  Past a limit the fork() wrapper fails
 * with EAGAIN without forking, exactly as RLIMIT_NPROC would (Python raises BlockingIOError).
 *
 * The counts must be shared by every process of the tree, so they live in a small file of the
 * private trace directory (`limits`, created by `forksan run` or by the first shim to need it),
 * which every image maps MAP_SHARED; forked children inherit the mapping.  The file also holds
 * one bit per pid: a process counts as alive from the fork that made it (or the start of the
 * first image of a process the shim did not see forked) until its exit or _exit.  A process
 * killed by a signal never says it ended, so when a limit is reached the bits are recounted
 * against the kernel (kill(pid, 0): zombies still count, as they do for RLIMIT_NPROC) before a
 * fork is refused.  Anything that fails here (no directory, no mmap) turns the limits off: the
 * program is never refused a fork because of the shim's own trouble.
 *
 * The split accounting (when the `exits` file is mapped too, hooks_wait.c): a forked child writes
 * no page of this file.  Every shared page a child writes is a page fault (it gets no page table
 * entries for shared mappings), and on a disk file system a journal entry, several microseconds
 * per fork.  So the parent, not the child, sets the child's bit once the fork returned; an ending
 * process counts its end in its exit stamp's page, which it writes anyway; a bit is cleared by
 * the wait hook that reaps the process, or by a recount.  Alive is then `alive` (every process
 * ever counted) minus the ends counted in the exits file minus `adjust`, which each recount sets
 * so that the difference is what it found: bits of existing processes whose stamp does not say
 * they ended. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PID_LIMIT       4194304 /* PID_MAX_LIMIT on 64-bit Linux */
#define REFUSED_RECORDS 4       /* per process; the rest are only counted */

struct storm_shm {
    uint32_t magic;
    int32_t alive; /* processes counted alive (an upper bound between recounts); split
                    * accounting: processes ever counted */
    int64_t forks; /* forks made by the tree, refused ones excluded */
    int64_t refused;
    int64_t adjust; /* split accounting: set by recounts (see above) */
    int64_t ends_seen; /* split accounting: the ends total as last summed, never more than it */
    uint64_t bits[PID_LIMIT / 64];
};
#define STORM_MAGIC 0x666b7333u /* "fks3" */

static struct storm_shm *shm FS_HOT;
static int split FS_HOT; /* the split accounting: the exits file counts ends */
static long max_processes FS_HOT, max_forks FS_HOT;
static int refused_here FS_HOT; /* records written by this process */
static __thread int tls_reserved __attribute__((tls_model("initial-exec")));

static int bit_set(int pid) /* returns the bit's old value */
{
    if (pid <= 0 || pid >= PID_LIMIT)
        return 1;
    uint64_t m = 1ULL << (pid & 63);
    return (__atomic_fetch_or(&shm->bits[pid >> 6], m, __ATOMIC_ACQ_REL) & m) != 0;
}

static int bit_clear(int pid)
{
    if (pid <= 0 || pid >= PID_LIMIT)
        return 0;
    uint64_t m = 1ULL << (pid & 63);
    return (__atomic_fetch_and(&shm->bits[pid >> 6], ~m, __ATOMIC_ACQ_REL) & m) != 0;
}

static void count_alive(int pid)
{
    if (!bit_set(pid))
        __atomic_add_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
}

/* The ends counted in the exits file, summed over its 16 pages, and kept in ends_seen.  Ends only
 * grow, and so does ends_seen (the larger of two racing sums wins). */
FS_FORK_PATH static int64_t ends_now(void)
{
    int64_t n = fs_wait_ended_total(), seen = __atomic_load_n(&shm->ends_seen, __ATOMIC_ACQUIRE);
    while (seen < n && !__atomic_compare_exchange_n(&shm->ends_seen, &seen, n, 1, __ATOMIC_ACQ_REL,
                                                    __ATOMIC_ACQUIRE))
        ;
    return n;
}

/* Processes alive as the counters say, given the ends counted (split accounting): an upper bound
 * between recounts, and a higher one for fewer ends. */
FS_FORK_PATH static int64_t alive_given(int64_t ends)
{
    int64_t n = __atomic_load_n(&shm->alive, __ATOMIC_ACQUIRE);
    if (split)
        n -= ends + __atomic_load_n(&shm->adjust, __ATOMIC_ACQUIRE);
    return n;
}

FS_FORK_PATH static int64_t alive_now(void)
{
    return alive_given(split ? ends_now() : 0);
}

/* Whether alive_now() may exceed max.  With the ends last summed (ends_seen, never more than the
 * ends counted now) the count is an upper bound, read from this file's first page alone: the 16
 * pages of ends are summed only when that bound reaches the limit, so a fork does not touch 16
 * more pages (each a TLB miss after the previous fork flushed them) on the way. */
FS_FORK_PATH static int alive_may_exceed(long max)
{
    if (split && alive_given(__atomic_load_n(&shm->ends_seen, __ATOMIC_ACQUIRE)) <= max)
        return 0;
    return alive_now() > max;
}

void fs_storm_init(void)
{
    const char *p = getenv("FORKSAN_MAX_PROCESSES"), *f = getenv("FORKSAN_MAX_FORKS");
    char *end;
    max_processes = FS_STORM_DEFAULT_PROCESSES;
    max_forks = FS_STORM_DEFAULT_FORKS;
    if (p && *p) {
        long v = strtol(p, &end, 10);
        if (*end || v < 0)
            fs_complain("ignoring a malformed FORKSAN_MAX_PROCESSES");
        else
            max_processes = v;
    }
    if (f && *f) {
        long v = strtol(f, &end, 10);
        if (*end || v < 0)
            fs_complain("ignoring a malformed FORKSAN_MAX_FORKS");
        else
            max_forks = v;
    }
    if (!max_processes && !max_forks)
        return; /* 0 and 0: no limits */
    char path[FS_PATH_MAX];
    size_t n = fs_fmt_str(path, sizeof path, 0, fs_config.trace_dir);
    n = fs_fmt_str(path, sizeof path, n, "/limits");
    if (n == (size_t)-1)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fs_complain("fork limits off: cannot open the limits file");
        return;
    }
    struct stat st;
    /* Growing a file to the same size from several processes at once is harmless. */
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode) ||
        (st.st_size < (off_t)sizeof *shm && ftruncate(fd, sizeof *shm) < 0)) {
        close(fd);
        fs_complain("fork limits off: the limits file is unusable");
        return;
    }
    void *m = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        fs_complain("fork limits off: cannot map the limits file");
        return;
    }
    shm = m;
    split = fs_wait_ready();
    uint32_t zero = 0;
    __atomic_compare_exchange_n(&shm->magic, &zero, STORM_MAGIC, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&shm->magic, __ATOMIC_ACQUIRE) != STORM_MAGIC) {
        munmap(m, sizeof *shm);
        shm = NULL;
        return;
    }
    count_alive(fs_pid); /* a new process (the root, a spawned one), or an exec'd one: no-op */
    if (split && !fs_proc.storm_counted)
        fs_proc.storm_counted = 1;
}

/* Clears the bits of processes that no longer exist; returns how many are alive. */
static int64_t recount(void)
{
    int64_t live = 0;
    for (size_t w = 0; w < PID_LIMIT / 64; w++) {
        uint64_t v = __atomic_load_n(&shm->bits[w], __ATOMIC_ACQUIRE);
        while (v) {
            int b = __builtin_ctzll(v);
            v &= v - 1;
            int pid = (int)(w * 64 + (size_t)b);
            if (kill(pid, 0) < 0 && errno == ESRCH) {
                if (bit_clear(pid) && !split)
                    __atomic_sub_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
            } else if (split && !fs_wait_has_ended(pid)) {
                live++; /* an ended process still unreaped was counted by its end */
            }
        }
    }
    if (!split)
        return __atomic_load_n(&shm->alive, __ATOMIC_ACQUIRE);
    /* Processes forking or ending meanwhile move the counters by a few: an upper bound again
     * until the next recount. */
    int64_t counted = __atomic_load_n(&shm->alive, __ATOMIC_ACQUIRE) - ends_now();
    __atomic_store_n(&shm->adjust, counted - live, __ATOMIC_RELEASE);
    return live;
}

static void record_refused(const char *limit, long max, const uintptr_t *frames, int nframes)
{
    if (refused_here >= REFUSED_RECORDS) {
        refused_here++;
        return;
    }
    refused_here++;
    struct fs_linebuf local, *lb = &local;
    char buf[FS_LOCAL_RECORD_MAX];
    if (fs_trace_begin_local(lb, buf, sizeof buf) < 0)
        return;
    fs_lb_begin(lb, FS_REC_REFUSED);
    fs_lb_str(lb, "limit", limit);
    fs_lb_dec(lb, "max", max);
    fs_lb_dec(lb, "alive", alive_now());
    fs_lb_dec(lb, "forks", __atomic_load_n(&shm->forks, __ATOMIC_RELAXED));
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, (size_t)(nframes > 0 ? nframes : 0));
    fs_lb_end(lb);
    fs_trace_end_local(lb);
}

FS_FORK_PATH int fs_storm_reserve(const uintptr_t *frames, int nframes)
{
    tls_reserved = 0;
    if (!shm)
        return 0;
    const char *limit = NULL;
    long max = 0;
    if (max_forks && __atomic_add_fetch(&shm->forks, 1, __ATOMIC_ACQ_REL) > max_forks) {
        __atomic_sub_fetch(&shm->forks, 1, __ATOMIC_ACQ_REL);
        limit = "forks";
        max = max_forks;
    } else if (max_processes) {
        __atomic_add_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
        if (alive_may_exceed(max_processes)) {
            __atomic_sub_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
            if (recount() + 1 > max_processes) {
                if (max_forks)
                    __atomic_sub_fetch(&shm->forks, 1, __ATOMIC_ACQ_REL);
                limit = "processes";
                max = max_processes;
            } else {
                __atomic_add_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
            }
        }
        if (!limit)
            tls_reserved = 1;
    }
    if (!limit)
        return 0;
    __atomic_add_fetch(&shm->refused, 1, __ATOMIC_RELAXED);
    record_refused(limit, max, frames, nframes);
    return -1;
}

void fs_storm_fork_failed(void)
{
    if (shm && tls_reserved)
        __atomic_sub_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
    tls_reserved = 0;
}

FS_FORK_PATH void fs_storm_forked(pid_t pid)
{
    if (shm && split && tls_reserved)
        (void)bit_set(pid);
}

FS_CHILD_PATH void fs_storm_child(void)
{
    if (!shm)
        return;
    /* Written only when it differs: every page a child writes costs a copy-on-write fault. */
    if (refused_here)
        refused_here = 0;
    /* Reserved by the parent's wrapper: the count is in already, only the bit is missing (the
     * next reservation resets tls_reserved), which the split accounting leaves to the parent.
     * A fork the wrapper did not see (daemon()) is counted now. */
    if (!tls_reserved)
        count_alive(fs_pid);
    else if (!split)
        (void)bit_set(fs_pid);
    if (fs_proc.storm_counted != split)
        fs_proc.storm_counted = split;
}

FS_CHILD_PATH int fs_storm_end(void)
{
    if (!shm)
        return 0;
    if (split) {
        /* Counted with the exit stamp, once (a destructor may still call _exit after exit's
         * handlers ended the process); the bit waits for the reaping. */
        int counted = fs_proc.storm_counted;
        if (counted)
            fs_proc.storm_counted = 0;
        return counted;
    }
    if (bit_clear(fs_pid))
        __atomic_sub_fetch(&shm->alive, 1, __ATOMIC_ACQ_REL);
    return 0;
}

FS_FORK_PATH void fs_storm_reaped(pid_t pid)
{
    if (shm && split)
        (void)bit_clear(pid);
}
