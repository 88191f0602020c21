/* This process's trace file: creating it safely, writing record batches, the module map and the
 * process identity.
 *
 * No descriptor stays open between batches (open O_APPEND, write, close): a program that closes
 * every descriptor, or reuses numbers, can never make the shim write into one of its files.
 * Everything here may run in a forked child of a multi-threaded parent, so it uses only
 * async-signal-safe calls and static buffers guarded by a bounded spin lock. */
#include "shim.h"
#include "keep.h"
#include "linebuf.h"
#include "trace_format.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* fs_proc lives on the fork page (forkrec.c). */

static char trace_path[FS_PATH_MAX]; /* empty: not recording */
/* trace_path is set: what the fork path and a child's _exit test, on the hot page (hot.ld). */
static int have_trace FS_HOT;
static int trace_index;
static struct fs_linebuf writer;
/* Large enough for a child's first batch (its parent's module map and threads) in one write(2),
 * so that a child killed right after fork leaves whole records or none. */
static char writer_buf[65536];

/* Process identity, read once per image and inherited by forked children. */
static char exe_path[FS_PATH_MAX];
static char comm[32];
static char cmdline[256];

/* Serialized `mod` records of the current module set, replayed into each child's file. */
static char modbuf[65536];
static size_t modbuf_len FS_HOT;
static int modbuf_lost;
static unsigned long long mod_adds FS_HOT = ~0ull, mod_subs FS_HOT = ~0ull;

FS_FORK_PATH int64_t fs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int fs_read_self(uintptr_t addr, void *out, size_t size)
{
    struct iovec local = {out, size}, remote = {(void *)addr, size};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -1;
}

ssize_t fs_read_small(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

ssize_t fs_read_proc(int pid, int tid, const char *file, char *buf, size_t cap)
{
    char path[96];
    size_t n = fs_fmt_str(path, sizeof path, 0, "/proc/");
    n = pid > 0 ? fs_fmt_dec(path, sizeof path, n, (uint64_t)pid)
                : fs_fmt_str(path, sizeof path, n, "self");
    if (tid > 0) {
        n = fs_fmt_str(path, sizeof path, n, "/task/");
        n = fs_fmt_dec(path, sizeof path, n, (uint64_t)tid);
    }
    n = fs_fmt_str(path, sizeof path, n, "/");
    n = fs_fmt_str(path, sizeof path, n, file);
    if (n == (size_t)-1) {
        buf[0] = '\0';
        return -1;
    }
    return fs_read_small(path, buf, cap);
}

void fs_fd_target(int fd, char *out, size_t cap)
{
    char path[64];
    size_t n = fs_fmt_str(path, sizeof path, 0, "/proc/self/fd/");
    n = fs_fmt_dec(path, sizeof path, n, (uint64_t)fd);
    ssize_t r = n == (size_t)-1 ? -1 : readlink(path, out, cap - 1);
    out[r > 0 ? r : 0] = '\0';
}

/* getdents64's record (glibc declares no type for the raw system call). */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int fs_proc_dir_numbers(const char *path, void (*fn)(int num, int dirfd, void *arg), void *arg)
{
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    char buf[2048] __attribute__((aligned(8)));
    for (;;) {
        long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (got <= 0)
            break;
        for (long off = 0; off < got;) {
            const struct linux_dirent64 *d = (const struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            int num = 0, any = 0;
            for (const char *p = d->d_name; *p >= '0' && *p <= '9'; p++, any = 1)
                num = num * 10 + (*p - '0');
            if (any)
                fn(num, dfd, arg);
        }
    }
    close(dfd);
    return 0;
}

char fs_proc_state_name(int pid, int tid, char *name, size_t cap)
{
    char buf[512];
    if (name && cap)
        name[0] = '\0';
    if (fs_read_proc(pid, tid, "stat", buf, sizeof buf) <= 0)
        return 0;
    /* "pid (comm) S ...": comm may hold anything, even ") ", so the last ')' ends it. */
    const char *open_paren = strchr(buf, '(');
    const char *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
        return 0;
    if (name && cap) { /* cut to cap - 1 bytes, as a read of the comm file would be */
        size_t n = (size_t)(close_paren - open_paren - 1);
        if (n > cap - 1)
            n = cap - 1;
        memcpy(name, open_paren + 1, n);
        name[n] = '\0';
    }
    return close_paren[2];
}

char fs_proc_state(int pid, int tid)
{
    return fs_proc_state_name(pid, tid, NULL, 0);
}

void fs_proc_identity_load(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
    n = fs_read_small("/proc/self/comm", comm, sizeof comm);
    if (n > 0 && comm[n - 1] == '\n')
        comm[n - 1] = '\0';
    n = fs_read_small("/proc/self/cmdline", cmdline, sizeof cmdline);
    if (n < 0)
        n = 0;
    for (ssize_t i = 0; i < n; i++)
        if (cmdline[i] == '\0')
            cmdline[i] = ' ';
    while (n > 0 && cmdline[n - 1] == ' ')
        cmdline[--n] = '\0';
}

/* The directory must be ours and private: never follow a planted symlink, never write where
 * others can. */
static int check_dir(void)
{
    struct stat st;
    if (lstat(fs_config.trace_dir, &st) < 0) {
        if (errno != ENOENT || mkdir(fs_config.trace_dir, 0700) < 0 ||
            lstat(fs_config.trace_dir, &st) < 0)
            return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022)) {
        fs_complain("FORKSAN_TRACE_DIR is not a private directory owned by this user; "
                    "not recording");
        return -1;
    }
    if (!fs_config.have_dir_id) {
        fs_config_set_dir_id((unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    } else if (st.st_dev != (dev_t)fs_config.dir_dev || st.st_ino != (ino_t)fs_config.dir_ino) {
        /* Same path, another directory: a chroot, or one swapped in since the run began. */
        fs_complain("FORKSAN_TRACE_DIR is not the directory the run started with; "
                    "not recording");
        return -1;
    }
    return 0;
}

const char *fs_trace_path(void)
{
    return trace_path;
}

/* This image's file for one batch: the kept descriptor once there is one (keep.c), else opened
 * by path.  -1: the batch is lost. */
static int open_own(void)
{
    if (fs_keep.active)
        return fs_keep_file_fd();
    int fd = open(trace_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EMFILE)
        fd = fs_keep_own_on_emfile();
    return fd;
}

static void close_own(int fd)
{
    if (fd != fs_keep.file_fd)
        close(fd);
}

/* Creating a file through the kept directory: the process can no longer use the path. */
static int open_new_kept(void)
{
    for (int idx = 0; idx < 1000; idx++) {
        char name[64];
        size_t n = fs_fmt_dec(name, sizeof name, 0, (uint64_t)fs_pid);
        n = fs_fmt_str(name, sizeof name, n, ".");
        n = fs_fmt_dec(name, sizeof name, n, (uint64_t)idx);
        n = fs_fmt_str(name, sizeof name, n, FS_TRACE_SUFFIX);
        if (n == (size_t)-1)
            return -1;
        if (fs_keep_create(name) == 0) {
            memcpy(trace_path, name, n + 1); /* a name only: never opened as a path */
            have_trace = 1;
            trace_index = idx;
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    fs_complain("cannot create a trace file through the kept directory; not recording");
    errno = err;
    return -1;
}

int fs_trace_open_new(int check)
{
    trace_path[0] = '\0';
    have_trace = 0;
    if (!fs_config.active)
        return -1;
    if (fs_keep.active || fs_keep.dir_fd >= 0)
        return open_new_kept();
    if (check && check_dir() < 0)
        return -1;
    char path[FS_PATH_MAX];
    for (int idx = 0; idx < 1000; idx++) {
        size_t n = fs_fmt_str(path, sizeof path, 0, fs_config.trace_dir);
        n = fs_fmt_str(path, sizeof path, n, "/");
        n = fs_fmt_dec(path, sizeof path, n, (uint64_t)fs_pid);
        n = fs_fmt_str(path, sizeof path, n, ".");
        n = fs_fmt_dec(path, sizeof path, n, (uint64_t)idx);
        n = fs_fmt_str(path, sizeof path, n, FS_TRACE_SUFFIX);
        if (n == (size_t)-1)
            return -1;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            fs_proc.created_fd = fd;
            memcpy(trace_path, path, n + 1);
            have_trace = 1;
            trace_index = idx;
            return 0;
        }
        if (errno == EMFILE && fs_keep_on_emfile() == 0)
            return open_new_kept();
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    fs_complain("cannot create a trace file; not recording this process");
    errno = err;
    return -1;
}

/* A vfork child runs in its parent's memory under a pid of its own: everything it would write
 * (an exec, pending records) belongs to the parent's trace, so it writes nothing. */
FS_CHILD_PATH int fs_trace_owned(void)
{
    return have_trace && getpid() == fs_pid;
}

struct fs_linebuf *fs_trace_begin(void)
{
    if (!fs_trace_owned())
        return NULL;
    fs_snapshot_flush();
    fs_fork_records_flush();
    return fs_trace_begin_raw();
}

struct fs_linebuf *fs_trace_begin_raw(void)
{
    if (!have_trace || fs_owner_lock_try(&fs_proc.writer_lock, fs_gettid()) < 0)
        return NULL;
    int fd = fs_proc.created_fd;
    fs_proc.created_fd = -1;
    if (fd < 0)
        fd = open_own();
    if (fd < 0) {
        fs_spin_release(&fs_proc.writer_lock);
        return NULL;
    }
    fs_lb_init(&writer, fd, writer_buf, sizeof writer_buf);
    return &writer;
}

/* A small record written from a stack buffer: no shared writer, no writer lock, and no write to
 * the shim's static buffer (which right after a fork would cost a copy-on-write fault). */
int fs_trace_begin_local(struct fs_linebuf *lb, char *buf, size_t cap)
{
    if (!fs_trace_owned())
        return -1;
    fs_snapshot_flush();
    fs_fork_records_flush();
    if (!have_trace)
        return -1;
    int fd = open_own();
    if (fd < 0)
        return -1;
    fs_lb_init(lb, fd, buf, cap);
    return 0;
}

void fs_trace_end_local(struct fs_linebuf *lb)
{
    int saved = errno;
    fs_lb_flush(lb);
    close_own(lb->fd);
    errno = saved;
}

void fs_trace_end(struct fs_linebuf *lb)
{
    int saved = errno;
    fs_lb_flush(lb);
    close_own(lb->fd);
    lb->fd = -1;
    fs_spin_release(&fs_proc.writer_lock);
    errno = saved;
}

void fs_trace_lost(struct fs_linebuf *lb, const char *what, long count)
{
    if (count <= 0)
        return;
    fs_lb_begin(lb, FS_REC_LOST);
    fs_lb_str(lb, "what", what);
    fs_lb_dec(lb, "count", count);
    fs_lb_end(lb);
}

/* ---- module map -------------------------------------------------------------------------- */

/* The module's GNU build-id note, read from its loaded segments; *n is 0 when it has none. */
static const unsigned char *build_id_of(const struct dl_phdr_info *info, size_t *n)
{
    *n = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *nh;
            const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                *n = nh->n_descsz;
                return desc;
            }
            p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return NULL;
}

struct modscan {
    struct fs_linebuf *lb; /* NULL: only read the counters */
    unsigned long long adds, subs;
};

static int mod_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct modscan *ms = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        ms->adds = info->dlpi_adds;
        ms->subs = info->dlpi_subs;
    }
    if (!ms->lb)
        return 1; /* the counters are the same in every callback */
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    if (lo >= hi)
        return 0;
    const char *path = info->dlpi_name;
    if (!path || !*path)
        path = exe_path;
    size_t bid_len;
    const unsigned char *bid = build_id_of(info, &bid_len);
    fs_lb_begin(ms->lb, FS_REC_MOD);
    fs_lb_hex(ms->lb, "start", lo);
    fs_lb_hex(ms->lb, "end", hi);
    fs_lb_hex(ms->lb, "bias", info->dlpi_addr);
    fs_lb_bytes(ms->lb, "buildid", bid, bid_len);
    fs_lb_str(ms->lb, "path", path);
    fs_lb_end(ms->lb);
    return 0;
}

/* Re-serializes the module map into modbuf when dlopen/dlclose changed it.  Runs in the parent
 * (start-up, fork prepare), never in a child. */
FS_FORK_PATH int fs_modmap_refresh(void)
{
    if (fs_tls_loader)
        return 0; /* re-entered from a signal handler: the lock is this thread's already */
    /* The load count unchanged, read without the loader's lock (unwind.c): nothing was loaded
     * since the last refresh.  A load under way is seen at the next fork.  One fork in 64 takes
     * the locked way anyway, which checks the word against what dl_iterate_phdr says. */
    const unsigned long long *c = fs_loader_counters;
    if (c && modbuf_len > 0 && (fs_proc.fork_seq & 63) != 0 &&
        __atomic_load_n(c, __ATOMIC_RELAXED) == mod_adds)
        return 0;
    struct modscan probe = {0};
    fs_tls_loader++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    dl_iterate_phdr(mod_cb, &probe);
    /* The count where it was found must say what the call said (a load that slipped in between
     * only costs the lock-free check until the next start-up). */
    if (c && __atomic_load_n(c, __ATOMIC_RELAXED) != probe.adds)
        fs_loader_counters = NULL;
    if (probe.adds == mod_adds && probe.subs == mod_subs && modbuf_len > 0) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        fs_tls_loader--;
        return 0;
    }
    /* A linebuf without a descriptor accumulates complete records in modbuf itself. */
    struct fs_linebuf lb;
    fs_lb_init(&lb, -1, modbuf, sizeof modbuf);
    struct modscan ms = {.lb = &lb};
    dl_iterate_phdr(mod_cb, &ms);
    modbuf_lost = lb.failed;
    modbuf_len = lb.rec_start;
    mod_adds = ms.adds;
    mod_subs = ms.subs;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    fs_tls_loader--;
    return 1;
}

FS_FORK_PATH unsigned long long fs_modmap_generation(void)
{
    return mod_adds;
}

void fs_modmap_write(struct fs_linebuf *lb)
{
    /* modbuf holds complete lines; each becomes one record of lb. */
    for (size_t off = 0; off < modbuf_len;) {
        const char *nl = memchr(modbuf + off, '\n', modbuf_len - off);
        size_t len = nl ? (size_t)(nl - (modbuf + off)) : modbuf_len - off;
        fs_lb_begin(lb, "");
        fs_lb_raw(lb, modbuf + off, len);
        fs_lb_end(lb);
        off += len + 1;
    }
    if (modbuf_lost)
        fs_trace_lost(lb, "modules", 1);
}

/* ---- start of an image ------------------------------------------------------------------- */

static void write_header(struct fs_linebuf *lb, const char *origin)
{
    fs_lb_begin(lb, FS_TRACE_MAGIC);
    fs_lb_dec(lb, "version", FS_TRACE_VERSION);
    fs_lb_dec(lb, "pid", fs_pid);
    fs_lb_dec(lb, "ends", 1); /* this file's last record will be `end` (or `exec`) */
    fs_lb_end(lb);
    fs_lb_begin(lb, FS_REC_PROC);
    fs_lb_dec(lb, "pid", fs_pid);
    fs_lb_dec(lb, "ppid", getppid());
    fs_lb_str(lb, "origin", origin);
    fs_lb_dec(lb, "image", trace_index);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_str(lb, "exe", exe_path);
    fs_lb_str(lb, "comm", comm);
    fs_lb_str(lb, "cmdline", cmdline);
    fs_lb_end(lb);
}

void fs_trace_write_start(struct fs_linebuf *lb, const char *origin)
{
    write_header(lb, origin);
    fs_modmap_write(lb);
}

FS_CHILD_PATH void fs_trace_child_reset(void)
{
    /* Written only when they differ: a write to an unchanged page is a needless COW fault. */
    if (fs_proc.writer_lock)
        fs_proc.writer_lock = 0;
    if (fs_proc.created_fd != -1)
        fs_proc.created_fd = -1;
    fs_keep_child_reset();
    fs_proc.pid = getpid();
}
