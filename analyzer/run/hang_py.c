/* Python tracebacks of a hung CPython process, taken by CPython itself: every thread of the
 * process is stopped with ptrace, and one of them is made to call the interpreter's own
 * _Py_DumpTracebackThreads(fd, NULL, NULL), the function faulthandler calls from its signal
 * handlers and its watchdog thread (it reads the thread states and frames without taking any
 * lock, and writes with write(2)).  The output goes to a file the process opens for the purpose
 * (an injected open/close), in the trace directory; then the thread's registers are restored and
 * every thread is let go, a moment before forksan ends the tree.
 *
 * An injected call is the way gdb calls functions: registers set to the call, a return address
 * of 0 so that the return stops the thread with SIGSEGV under ptrace, orig_rax = -1 so that the
 * kernel does not restart the system call the thread was stopped in with the call's registers.
 * x86-64 only.  Whatever fails (no such symbol, a thread that never stops, the call not returning
 * within a second) leaves the native stacks alone: the dump is simply missing. */
#include "hang_py.h"
#include "diag.h"
#include "finding.h"
#include "linebuf.h"
#include "trace_format.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#define CALL_TIMEOUT_MS 1000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- symbols -------------------------------------------------------------------------------- */

struct want {
    const char *name;
    uint64_t addr;
    bool interp_only; /* look only in the interpreter's modules */
};

static bool is_interp_module(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return strncmp(b, "python", 6) == 0 || strncmp(b, "libpython", 9) == 0;
}

static int find_syms_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                        void *arg)
{
    (void)userdata;
    (void)base;
    struct want *w = arg;
    const char *path = name;
    const char *file = NULL;
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
    if (file)
        path = file;
    int n = dwfl_module_getsymtab(mod);
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (!s || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
            continue;
        for (struct want *x = w; x->name; x++)
            if (!x->addr && strcmp(s, x->name) == 0 && (!x->interp_only || is_interp_module(path)))
                x->addr = addr;
    }
    return DWARF_CB_OK;
}

static const Dwfl_Callbacks report_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static int find_syms(pid_t pid, struct want *w)
{
    Dwfl *dwfl = dwfl_begin(&report_callbacks);
    if (!dwfl)
        return -1;
    dwfl_report_begin(dwfl);
    int rc = dwfl_linux_proc_report(dwfl, pid);
    if (rc == 0 && dwfl_report_end(dwfl, NULL, NULL) == 0)
        dwfl_getmodules(dwfl, find_syms_cb, w, 0);
    dwfl_end(dwfl);
    for (struct want *x = w; x->name; x++)
        if (!x->addr)
            return -1;
    return 0;
}

/* ---- ptrace ------------------------------------------------------------------------------- */

/* Waits for tid to stop; returns the wait status, or -1 on timeout or when it is gone. */
static int wait_stop(pid_t tid, int64_t deadline)
{
    for (;;) {
        int st;
        pid_t r = waitpid(tid, &st, __WALL | WNOHANG);
        if (r == tid) {
            if (WIFSTOPPED(st))
                return st;
            return -1; /* exited or killed */
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() > deadline)
            return -1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Runs fn(a0, a1, a2) in the stopped thread tid on the stack below sp; the result in *ret. */
static int call(pid_t tid, const struct user_regs_struct *base, uint64_t sp, uint64_t fn,
                uint64_t a0, uint64_t a1, uint64_t a2, uint64_t *ret)
{
    struct user_regs_struct r = *base;
    r.rip = fn;
    r.rdi = a0;
    r.rsi = a1;
    r.rdx = a2;
    r.rax = 0; /* no vector registers for a variadic callee (open) */
    r.orig_rax = (unsigned long long)-1;
    r.rsp = sp - 8; /* a return address of 0: the return faults, and ptrace sees it */
    uint64_t zero = 0;
    struct iovec local = {&zero, sizeof zero}, remote = {(void *)(uintptr_t)r.rsp, sizeof zero};
    if (process_vm_writev(tid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof zero)
        return -1;
    if (ptrace(PTRACE_SETREGS, tid, NULL, &r) != 0 || ptrace(PTRACE_CONT, tid, NULL, NULL) != 0)
        return -1;
    int64_t deadline = now_ms() + CALL_TIMEOUT_MS;
    for (;;) {
        int st = wait_stop(tid, deadline);
        if (st < 0) {
            /* Did not come back in time: stop it where it is, so the caller can restore it. */
            ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
            (void)wait_stop(tid, now_ms() + CALL_TIMEOUT_MS);
            return -1;
        }
        struct user_regs_struct now;
        if (ptrace(PTRACE_GETREGS, tid, NULL, &now) != 0)
            return -1;
        if (WSTOPSIG(st) == SIGSEGV && now.rip == 0) {
            *ret = now.rax;
            return 0;
        }
        /* Another signal or a ptrace stop on the way: not for the call; go on, suppressed (the
         * tree is about to be ended anyway). */
        if (ptrace(PTRACE_CONT, tid, NULL, NULL) != 0)
            return -1;
    }
}

struct stopped {
    pid_t tid;
    bool stopped;
    uint64_t fs_base; /* pthread_self() of the thread: threading.get_ident() */
};

static size_t stop_all(const int *tids, size_t n, struct stopped *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k] = (struct stopped){.tid = tids[i]};
        if (ptrace(PTRACE_SEIZE, tids[i], NULL, NULL) != 0)
            continue;
        k++;
        if (ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL) == 0 &&
            wait_stop(tids[i], now_ms() + CALL_TIMEOUT_MS) >= 0) {
            struct user_regs_struct r;
            out[k - 1].stopped = true;
            if (ptrace(PTRACE_GETREGS, tids[i], NULL, &r) == 0)
                out[k - 1].fs_base = r.fs_base;
        }
    }
    return k;
}

static void release_all(struct stopped *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ptrace(PTRACE_DETACH, s[i].tid, NULL, NULL);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = fs_xcalloc(cap, 1);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap && cap < (1u << 22)) {
            buf = fs_xrealloc(buf, cap * 2, 1);
            cap *= 2;
        }
        if (len + 1 == cap)
            break;
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

int fs_hang_py_capture(pid_t pid, const int *tids, size_t ntids, const char *dir,
                       struct fs_hang_py *out)
{
    memset(out, 0, sizeof *out);
    struct want w[] = {{"_Py_DumpTracebackThreads", 0, true},
                       {"open", 0, false},
                       {"close", 0, false},
                       {NULL, 0, false}};
    if (find_syms(pid, w) != 0)
        return -1; /* not a CPython process, or one without the symbol */
    struct stopped *st = fs_xcalloc(ntids ? ntids : 1, sizeof *st);
    size_t nst = stop_all(tids, ntids, st);
    const struct stopped *runner = NULL;
    for (size_t i = 0; i < nst; i++)
        if (st[i].stopped && (!runner || st[i].tid == pid))
            runner = &st[i];
    char *path = fs_xasprintf("%s/%d.pytb", dir, (int)pid);
    struct user_regs_struct base;
    int rc = -1;
    if (runner && ptrace(PTRACE_GETREGS, runner->tid, NULL, &base) == 0) {
        /* Well below the red zone; the path just above the calls' stack. */
        uint64_t str = (base.rsp - 1024) & ~(uint64_t)15;
        uint64_t sp = (str - 512) & ~(uint64_t)15;
        size_t len = strlen(path) + 1;
        struct iovec local = {path, len}, remote = {(void *)(uintptr_t)str, len};
        uint64_t fd = (uint64_t)-1, ignored;
        if (len < 512 && process_vm_writev(runner->tid, &local, 1, &remote, 1, 0) == (ssize_t)len &&
            call(runner->tid, &base, sp, w[1].addr, str,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600, &fd) == 0 &&
            (int)fd >= 0) {
            if (call(runner->tid, &base, sp, w[0].addr, fd, 0, 0, &ignored) == 0)
                rc = 0;
            (void)call(runner->tid, &base, sp, w[2].addr, fd, 0, 0, &ignored);
        }
        ptrace(PTRACE_SETREGS, runner->tid, NULL, &base);
    }
    out->nids = 0;
    out->ids = fs_xcalloc(nst ? nst : 1, sizeof *out->ids);
    for (size_t i = 0; i < nst; i++)
        if (st[i].fs_base) {
            out->ids[out->nids].tid = st[i].tid;
            out->ids[out->nids++].ident = st[i].fs_base;
        }
    release_all(st, nst);
    free(st);
    if (rc == 0)
        out->dump = read_file(path);
    unlink(path);
    free(path);
    return out->dump ? 0 : -1;
}

#else
int fs_hang_py_capture(pid_t pid, const int *tids, size_t ntids, const char *dir,
                       struct fs_hang_py *out)
{
    (void)pid;
    (void)tids;
    (void)ntids;
    (void)dir;
    memset(out, 0, sizeof *out);
    return -1;
}
#endif

void fs_hang_py_release(struct fs_hang_py *py)
{
    free(py->dump);
    free(py->ids);
    memset(py, 0, sizeof *py);
}

static int tid_of(const struct fs_hang_py *py, uint64_t ident)
{
    for (size_t i = 0; i < py->nids; i++)
        if (py->ids[i].ident == ident)
            return py->ids[i].tid;
    return 0;
}

/* The dump, as CPython 3.8 to 3.13 write it:
 *   Thread 0x00007f... (most recent call first):
 *     File "/path/app.py", line 12 in main
 *   Current thread 0x... (most recent call first):
 * into `pythread of=hang` and `pyframe of=hang` records. */
void fs_hang_py_write(struct fs_linebuf *lb, const struct fs_hang_py *py)
{
    if (!py->dump)
        return;
    /* The dump does not say where the standard library is: a frame's file under
     * <prefix>/lib/python3.N/ does. */
    const char *lib = strstr(py->dump, "/lib/python3.");
    const char *start = lib, *end = lib ? strchr(lib + 13, '/') : NULL;
    while (start && start > py->dump && start[-1] != '"')
        start--;
    fs_lb_begin(lb, FS_REC_PYTHON);
    fs_lb_str(lb, "of", "hang");
    fs_lb_str(lb, "version", "");
    fs_lb_str(lb, "status", "ok");
    if (start && end)
        fs_lb_strn(lb, "stdlib", start, (size_t)(end - start));
    else
        fs_lb_str(lb, "stdlib", "");
    fs_lb_end(lb);
    int tid = -1;
    for (char *line = py->dump, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned long long ident;
        const char *t = strstr(line, "hread 0x");
        if ((strncmp(line, "Thread 0x", 9) == 0 || strncmp(line, "Current thread 0x", 17) == 0) &&
            t && sscanf(t + 6, "%llx", &ident) == 1) {
            tid = tid_of(py, ident);
            fs_lb_begin(lb, FS_REC_PYTHREAD);
            fs_lb_str(lb, "of", "hang");
            fs_lb_dec(lb, "tid", tid);
            fs_lb_hex(lb, "ident", ident);
            fs_lb_str(lb, "name", "");
            fs_lb_dec(lb, "forker", 0);
            fs_lb_end(lb);
            continue;
        }
        const char *f = strstr(line, "File \"");
        const char *q = f ? strstr(f + 6, "\", line ") : NULL;
        int lineno;
        int used = 0;
        if (tid < 0 || !q || sscanf(q + 8, "%d in %n", &lineno, &used) != 1 || !used)
            continue;
        fs_lb_begin(lb, FS_REC_PYFRAME);
        fs_lb_str(lb, "of", "hang");
        fs_lb_dec(lb, "tid", tid);
        fs_lb_dec(lb, "line", lineno);
        fs_lb_strn(lb, "file", f + 6, (size_t)(q - (f + 6)));
        fs_lb_str(lb, "func", q + 8 + used);
        fs_lb_end(lb);
    }
}
