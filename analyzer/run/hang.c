/* Capturing the stacks of a hung process tree from outside, the way `eu-stack -p` does: libdwfl
 * reads the module map from /proc/<pid>/maps, ptrace-attaches each thread in turn (stopping only
 * that thread, only while it is unwound) and unwinds it with the modules' CFI.  What /proc says
 * of each thread (name, state, wchan) is read before any attach, so it is the state the program
 * was hung in.  The result is one `<pid>.hang` file per process (docs/trace-format.md), written
 * with the shim's record writer so that both sides share one format.
 *
 * The capture is bounded: at most FS_HANG_MAX_PROCS processes, FS_HANG_MAX_THREADS threads each,
 * FS_HANG_MAX_FRAMES frames per thread; threads in uninterruptible sleep (D) or already dead (Z,
 * X) are not attached at all, since a ptrace stop would never arrive and libdwfl would wait for
 * it forever; and no debug info is looked up (no debuginfod, no separate files): unwinding
 * needs only the CFI of the loaded files, and symbolization happens later, offline. */
#include "hang.h"
#include "hang_py.h"
#include "diag.h"
#include "finding.h"
#include "linebuf.h"
#include "trace_format.h"
#include "tree.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hthread {
    int tid;
    char name[64];
    char state; /* before any attach; '?' when unknown */
    char wchan[128];
    uintptr_t pcs[FS_HANG_MAX_FRAMES];
    size_t npcs;
    char *error; /* why this thread's stack could not be read */
};

struct hmod {
    uint64_t start, end, bias;
    char *buildid;
    char *path;
};

struct capture {
    pid_t pid;
    int ppid;
    char comm[64];
    char exe[4096];
    struct hthread *threads;
    size_t nthreads;
    size_t dropped; /* threads beyond FS_HANG_MAX_THREADS */
    struct hmod *mods;
    size_t nmods;
    bool unwound; /* at least one thread's stack was read */
    struct fs_hang_py py; /* Python tracebacks, when a CPython process */
    char *error;  /* the first reason a stack could not be read */
};

/* ---- /proc ----------------------------------------------------------------------------------- */

/* Reads a small /proc file into buf without its final newline; -1 when it cannot be read. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return n;
}

/* The state letter and parent pid from a stat file; the command name may contain spaces and
 * parentheses, so the fields are parsed after the last ')'. */
static bool read_stat(const char *path, char *state, int *ppid)
{
    char buf[512];
    if (read_small(path, buf, sizeof buf) < 0)
        return false;
    const char *rp = strrchr(buf, ')');
    char st;
    int pp;
    if (!rp || sscanf(rp + 1, " %c %d", &st, &pp) != 2)
        return false;
    *state = st;
    if (ppid)
        *ppid = pp;
    return true;
}

static char thread_state_now(pid_t pid, int tid)
{
    char path[64], st = '?';
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, tid);
    if (!read_stat(path, &st, NULL))
        return '?';
    return st;
}

static void thread_read_proc(pid_t pid, struct hthread *t)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, t->tid);
    if (read_small(path, t->name, sizeof t->name) < 0)
        t->name[0] = '\0';
    t->state = thread_state_now(pid, t->tid);
    snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", (int)pid, t->tid);
    /* "0" is what the kernel shows for a thread that is not sleeping (or when it hides the
     * symbol). */
    if (read_small(path, t->wchan, sizeof t->wchan) < 0 || strcmp(t->wchan, "0") == 0)
        t->wchan[0] = '\0';
}

static struct hthread *thread_find(struct capture *c, int tid)
{
    for (size_t i = 0; i < c->nthreads; i++)
        if (c->threads[i].tid == tid)
            return &c->threads[i];
    return NULL;
}

/* The slot of tid, added (with its /proc view) when new; NULL when the table is full. */
static struct hthread *thread_slot(struct capture *c, int tid)
{
    struct hthread *t = thread_find(c, tid);
    if (t)
        return t;
    if (c->nthreads == FS_HANG_MAX_THREADS) {
        c->dropped++;
        return NULL;
    }
    t = &c->threads[c->nthreads++];
    t->tid = tid;
    thread_read_proc(c->pid, t);
    return t;
}

static void threads_from_proc(struct capture *c)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)c->pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (tid > 0 && *end == '\0')
            thread_slot(c, (int)tid);
    }
    closedir(d);
}

static void process_read_proc(struct capture *c)
{
    char path[64], st;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)c->pid);
    if (!read_stat(path, &st, &c->ppid))
        c->ppid = 0;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)c->pid);
    if (read_small(path, c->comm, sizeof c->comm) < 0)
        c->comm[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/exe", (int)c->pid);
    ssize_t n = readlink(path, c->exe, sizeof c->exe - 1);
    c->exe[n > 0 ? n : 0] = '\0';
}

/* ---- libdwfl -------------------------------------------------------------------------------- */

static void set_error(struct capture *c, const char *msg)
{
    if (!c->error)
        c->error = fs_xstrdup(msg && *msg ? msg : "unknown error");
}

/* No separate debug files: unwinding uses the CFI of the loaded files, and looking further
 * (debuginfod, /usr/lib/debug) could take unbounded time while the tree is still running. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                        char **debuginfo_file_name)
{
    (void)mod;
    (void)userdata;
    (void)modname;
    (void)base;
    (void)file_name;
    (void)debuglink_file;
    (void)debuglink_crc;
    (void)debuginfo_file_name;
    return -1;
}

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = no_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
    struct hthread *t = arg;
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(frame, &pc, &activation)) {
        if (!t->error)
            t->error = fs_xstrdup(dwfl_errmsg(-1));
        return DWARF_CB_ABORT;
    }
    /* The readers look every address up at pc - 1, as a return address needs; the interrupted
     * frame's pc is the instruction itself, so it is stored one past. */
    t->pcs[t->npcs++] = (uintptr_t)(activation ? pc + 1 : pc);
    return t->npcs < FS_HANG_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
    struct capture *c = arg;
    struct hthread *t = thread_slot(c, (int)dwfl_thread_tid(thread));
    if (!t)
        return DWARF_CB_OK;
    /* Checked again right before the attach: the first look may be a moment old. */
    char now = thread_state_now(c->pid, t->tid);
    if (now == 'D' || now == 'Z' || now == 'X' || now == '?') {
        if (!t->error)
            t->error = now == '?' ? fs_xstrdup(strerror(ESRCH))
                                  : fs_xasprintf("thread in state %c cannot be stopped", now);
        return DWARF_CB_OK;
    }
    int rc = dwfl_thread_getframes(thread, frame_cb, t);
    /* An error after some frames is how an unwind usually ends (no CFI for the outermost
     * frame); only a thread with no frame at all has failed. */
    if (t->npcs > 0) {
        c->unwound = true;
        if (rc == -1)
            dwfl_errno(); /* clears it */
    } else if (rc == -1 && !t->error) {
        t->error = fs_xstrdup(dwfl_errmsg(-1));
    }
    return DWARF_CB_OK;
}

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                     void *arg)
{
    (void)userdata;
    struct capture *c = arg;
    Dwarf_Addr start = base, end = base;
    const char *mainfile = NULL;
    if (!dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, &mainfile, NULL))
        return DWARF_CB_OK;
    GElf_Addr bias = 0;
    /* Without the file its bias is unknown; the lowest mapped address is right for the usual
     * shared object linked at 0, and the symbolizer cannot read the file anyway. */
    if (!dwfl_module_getelf(mod, &bias))
        bias = start;
    const unsigned char *bits = NULL;
    GElf_Addr id_vaddr;
    int len = dwfl_module_build_id(mod, &bits, &id_vaddr);
    char *hex = fs_xcalloc(len > 0 ? (size_t)len * 2 + 1 : 1, 1);
    for (int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", bits[i]);

    c->mods = fs_xrealloc(c->mods, c->nmods + 1, sizeof *c->mods);
    struct hmod *m = &c->mods[c->nmods++];
    m->start = start;
    m->end = end;
    m->bias = bias;
    m->buildid = hex;
    /* The name is the path mapped in the process (or "[vdso: N]"); mainfile is only set once
     * libdwfl found and opened a file, which it did for the build-id just above. */
    m->path = fs_xstrdup(name ? name : mainfile ? mainfile : "");
    return DWARF_CB_OK;
}

/* Reports the modules and unwinds every thread; any failure ends up in c->error. */
static void unwind_process(struct capture *c)
{
    Dwfl *dwfl = dwfl_begin(&proc_callbacks);
    if (!dwfl) {
        set_error(c, dwfl_errmsg(-1));
        return;
    }
    dwfl_report_begin(dwfl);
    int rc = dwfl_linux_proc_report(dwfl, c->pid);
    if (rc != 0) {
        /* A positive value is the errno of opening /proc/<pid>/maps: ENOENT means it is gone. */
        set_error(c, rc > 0 ? strerror(rc == ENOENT ? ESRCH : rc) : dwfl_errmsg(-1));
        dwfl_end(dwfl);
        return;
    }
    if (dwfl_report_end(dwfl, NULL, NULL) != 0) {
        set_error(c, dwfl_errmsg(-1));
        dwfl_end(dwfl);
        return;
    }
    if (dwfl_getmodules(dwfl, module_cb, c, 0) == -1)
        fs_warn("pid %d: cannot list its modules (%s)", (int)c->pid, dwfl_errmsg(-1));
    rc = dwfl_linux_proc_attach(dwfl, c->pid, false);
    if (rc != 0) {
        set_error(c, rc > 0 ? strerror(rc == ENOENT ? ESRCH : rc) : dwfl_errmsg(-1));
        dwfl_end(dwfl);
        return;
    }
    if (dwfl_getthreads(dwfl, thread_cb, c) == -1 && !c->unwound)
        set_error(c, dwfl_errmsg(-1));
    dwfl_end(dwfl); /* every thread was detached after its own unwind */
}

/* ---- the file ------------------------------------------------------------------------------- */

static int write_file(const struct capture *c, const char *dir, double after, const char *ended)
{
    char *path = fs_xasprintf("%s/%d.hang", dir, (int)c->pid);
    /* As for traces: never follow or overwrite what is already there. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fs_warn("cannot create %s (%s): the stacks of pid %d are not recorded", path,
                strerror(errno), (int)c->pid);
        free(path);
        return -1;
    }
    size_t cap = 64 * 1024;
    char *buf = fs_xcalloc(cap, 1);
    struct fs_linebuf lb;
    fs_lb_init(&lb, fd, buf, cap);

    fs_lb_begin(&lb, FS_TRACE_MAGIC);
    fs_lb_dec(&lb, "version", FS_TRACE_VERSION);
    fs_lb_dec(&lb, "pid", c->pid);
    fs_lb_end(&lb);

    char secs[64];
    snprintf(secs, sizeof secs, "%.3f", after);
    fs_lb_begin(&lb, FS_REC_HANG);
    fs_lb_dec(&lb, "pid", c->pid);
    fs_lb_dec(&lb, "ppid", c->ppid);
    fs_lb_str(&lb, "comm", c->comm);
    fs_lb_str(&lb, "exe", c->exe);
    fs_lb_str(&lb, "after", secs);
    fs_lb_dec(&lb, "attached", c->unwound ? 1 : 0);
    fs_lb_str(&lb, "error", c->unwound ? "" : c->error ? c->error : "unknown error");
    if (ended)
        fs_lb_str(&lb, "ended", ended);
    fs_lb_end(&lb);

    for (size_t i = 0; i < c->nmods; i++) {
        const struct hmod *m = &c->mods[i];
        fs_lb_begin(&lb, FS_REC_MOD);
        fs_lb_hex(&lb, "start", m->start);
        fs_lb_hex(&lb, "end", m->end);
        fs_lb_hex(&lb, "bias", m->bias);
        fs_lb_str(&lb, "buildid", m->buildid);
        fs_lb_str(&lb, "path", m->path);
        fs_lb_end(&lb);
    }
    for (size_t i = 0; i < c->nthreads; i++) {
        const struct hthread *t = &c->threads[i];
        fs_lb_begin(&lb, FS_REC_HANGTHREAD);
        fs_lb_dec(&lb, "tid", t->tid);
        fs_lb_str(&lb, "name", t->name);
        fs_lb_strn(&lb, "state", &t->state, 1);
        fs_lb_str(&lb, "wchan", t->wchan);
        fs_lb_hexlist(&lb, "frames", t->pcs, t->npcs);
        fs_lb_end(&lb);
    }
    fs_hang_py_write(&lb, &c->py);
    int rc = fs_lb_flush(&lb);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0)
        fs_warn("%s: write failed; the stacks of pid %d may be incomplete", path, (int)c->pid);
    free(buf);
    free(path);
    return rc;
}

static void capture_release(struct capture *c)
{
    for (size_t i = 0; i < c->nthreads; i++)
        free(c->threads[i].error);
    free(c->threads);
    for (size_t i = 0; i < c->nmods; i++) {
        free(c->mods[i].buildid);
        free(c->mods[i].path);
    }
    free(c->mods);
    free(c->error);
    fs_hang_py_release(&c->py);
}

int fs_hang_capture(pid_t pid, const char *trace_dir, double after)
{
    return fs_hang_capture_ended(pid, trace_dir, after, NULL);
}

int fs_hang_capture_ended(pid_t pid, const char *trace_dir, double after, const char *ended)
{
    struct capture c = {.pid = pid};
    c.threads = fs_xcalloc(FS_HANG_MAX_THREADS, sizeof *c.threads);
    process_read_proc(&c);
    threads_from_proc(&c);

    bool alive = false;
    for (size_t i = 0; i < c.nthreads; i++)
        alive |= c.threads[i].state != 'Z' && c.threads[i].state != 'X';
    if (c.nthreads == 0)
        set_error(&c, strerror(ESRCH));
    else if (!alive)
        set_error(&c, "the process has exited (zombie)");
    else
        unwind_process(&c);
    if (c.unwound) {
        /* After the native stacks (which it does not disturb): CPython's own traceback dump,
         * from the threads that can be stopped (not D, Z, X). */
        int *tids = fs_xcalloc(c.nthreads, sizeof *tids);
        size_t n = 0;
        for (size_t i = 0; i < c.nthreads; i++)
            if (!strchr("DZX", c.threads[i].state))
                tids[n++] = c.threads[i].tid;
        (void)fs_hang_py_capture(pid, tids, n, trace_dir, &c.py);
        free(tids);
    }
    /* The first thread's reason is the one worth telling (usually the same for all). */
    for (size_t i = 0; i < c.nthreads && !c.unwound; i++)
        if (c.threads[i].error)
            set_error(&c, c.threads[i].error);
    if (c.dropped)
        fs_warn("pid %d has more than %d threads: only the first %d are in its hang file", (int)pid,
                FS_HANG_MAX_THREADS, FS_HANG_MAX_THREADS);

    int rc = write_file(&c, trace_dir, after, ended);
    capture_release(&c);
    return rc;
}

int fs_hang_capture_tree(pid_t root, const char *trace_dir, double after)
{
    if (!trace_dir)
        return -1;
    pid_t pids[FS_HANG_MAX_PROCS];
    size_t n = fs_tree_descendants(root, pids, FS_HANG_MAX_PROCS);
    if (n > FS_HANG_MAX_PROCS) {
        fs_warn("%zu processes still running: stacks captured for the first %d only", n,
                FS_HANG_MAX_PROCS);
        n = FS_HANG_MAX_PROCS;
    }
    int written = 0;
    for (size_t i = 0; i < n; i++)
        if (fs_hang_capture(pids[i], trace_dir, after) == 0)
            written++;
    return written;
}
