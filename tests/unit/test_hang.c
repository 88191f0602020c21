/* Unit tests of the hang capture (analyzer/run/hang.c) and the child-hang rule (rules/hang.c):
 * the test forks a child that really hangs (its main thread in read() on a pipe nobody writes,
 * a second thread in nanosleep), captures it from outside as the runner does at a time limit,
 * reads the `<pid>.hang` file back, and checks that the rule's symbolized stacks show where it
 * blocked.  The ways a capture can fail (process gone, zombie, already traced) must still give a
 * file. */
#include "trace_read.h"
#include "diag.h"
#include "hang.h"
#include "rules.h"
#include "symbolize.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/forksan-hang-XXXXXX";

static void setup(void)
{
    /* Stay offline whatever the environment says about debuginfod servers. */
    unsetenv("DEBUGINFOD_URLS");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char *cmd = fs_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
}

TestSuite(hang, .init = setup, .fini = teardown);

/* ---- the stuck child ---------------------------------------------------------------------- */

/* GCC's noipa: no inter-procedural analysis and no clone renaming the function.  Clang has no
 * such attribute (and does not clone noinline functions). */
#ifdef __clang__
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noinline, noipa))
#endif

/* noipa: a real call that the stack must show by this name; the asm keeps read() from being a
 * tail call, which would leave this function off the stack. */
static NOIPA ssize_t hang_blocking_read(int fd)
{
    char c;
    ssize_t n = read(fd, &c, 1);
    __asm__ volatile("" ::: "memory");
    return n;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {3600, 0};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* The first line of /proc/<pid>/task/<tid>/syscall: the number of the call it is blocked in. */
static long blocked_syscall(pid_t pid, pid_t tid)
{
    char path[96], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    long nr = -2;
    if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%ld", &nr) != 1)
        nr = -2;
    fclose(f);
    return nr;
}

static int thread_count(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = -1;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* Every thread of pid sleeping (state S), as the capture will see it: a thread can be in its
 * syscall and still show R for a moment on a loaded machine. */
static bool all_asleep(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool asleep = true;
    struct dirent *e;
    while (asleep && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char stat_path[400], buf[512];
        snprintf(stat_path, sizeof stat_path, "%s/%s/stat", path, e->d_name);
        FILE *f = fopen(stat_path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')');
        asleep = rp && rp[1] == ' ' && rp[2] == 'S';
    }
    closedir(d);
    return asleep;
}

/* Forks a child stuck in hang_blocking_read, with a second thread asleep; returns once the main
 * thread is inside read(2).  traceme: the child makes the test its tracer first, so that nobody
 * else can attach to it. */
static pid_t start_stuck_child(bool traceme)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (traceme && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(2);
        int never[2];
        if (pipe(never) != 0)
            _exit(3);
        pthread_t t;
        if (pthread_create(&t, NULL, sleeper, NULL) != 0)
            _exit(4);
        pthread_setname_np(t, "sleeper");
        close(ready[0]);
        close(ready[1]);
        /* The child keeps the write end: the read never sees end of file. */
        hang_blocking_read(never[0]);
        _exit(5);
    }
    close(ready[1]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 0, "the child did not get to its read");
    close(ready[0]);
    /* Polled, not timed: done when the kernel shows both threads where the child put them. */
    struct timespec tick = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000; i++) {
        if (thread_count(pid) == 2 && blocked_syscall(pid, pid) == 0 /* read */ && all_asleep(pid))
            return pid;
        nanosleep(&tick, NULL);
    }
    cr_assert_fail("the child never blocked in read(2)");
    return -1;
}

static void end_child(pid_t pid)
{
    kill(pid, SIGKILL);
    /* __WALL and any pid: the threads the test traces report their own exits first, and the
     * leader's cannot be collected before theirs are. */
    int st;
    pid_t got;
    while ((got = waitpid(-1, &st, __WALL)) != pid)
        if (got < 0 && errno != EINTR)
            cr_assert_fail("waitpid: %s", strerror(errno));
}

/* Makes the test the tracer of every thread of pid but its main one (which traced itself), without
 * stopping them: a clone of a traced thread is not traced unless the tracer asked for it. */
static void seize_other_threads(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        long tid = strtol(e->d_name, NULL, 10);
        if (tid > 0 && tid != pid)
            cr_assert_eq(ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL), 0, "seize %ld: %s", tid,
                         strerror(errno));
    }
    closedir(d);
}

/* ---- reading back ----------------------------------------------------------------------- */

static void read_hang(pid_t pid, struct fs_trace_file *tf)
{
    char *path = fs_xasprintf("%s/%d.hang", dir, (int)pid);
    cr_assert_eq(fs_trace_read(path, tf), 0, "%s: %s", path, tf->error);
    free(path);
    cr_assert_eq(tf->bad_lines, 0);
    cr_assert(!tf->truncated);
}

static const struct fs_record *first_tag(const struct fs_trace_file *tf, const char *tag)
{
    for (size_t i = 0; i < tf->nrecs; i++)
        if (strcmp(tf->recs[i].tag, tag) == 0)
            return &tf->recs[i];
    cr_assert_fail("no %s record", tag);
    return NULL;
}

static const char *str_of(const struct fs_record *r, const char *key)
{
    const char *s = fs_rec_str(r, key);
    cr_assert_not_null(s, "no %s", key);
    return s;
}

static const struct fs_stack *stack_of(const struct fs_finding *f, int tid)
{
    for (size_t i = 0; i < f->nstacks; i++)
        if (f->stacks[i].tid == tid)
            return &f->stacks[i];
    cr_assert_fail("no stack for thread %d", tid);
    return NULL;
}

/* The index of the first frame whose function is fn (or contains it, when partial). */
static long frame_index(const struct fs_stack *s, const char *fn, bool partial)
{
    for (size_t i = 0; i < s->nframes; i++) {
        const char *name = s->frames[i].function;
        if (name && (partial ? strstr(name, fn) != NULL : strcmp(name, fn) == 0))
            return (long)i;
    }
    return -1;
}

/* ---- tests ------------------------------------------------------------------------------ */

Test(hang, stuck_child_is_captured_and_symbolized)
{
    pid_t pid = start_stuck_child(false);
    int written = fs_hang_capture_tree(getpid(), dir, 1.5);
    struct fs_trace_file tf;
    read_hang(pid, &tf);

    cr_assert_eq(written, 1);
    /* The reader checked and consumed the header line. */
    cr_assert_eq(tf.version, 1);
    cr_assert_str_eq(tf.recs[0].tag, "hang");
    const struct fs_record *h = first_tag(&tf, "hang");
    cr_assert_eq(fx_dec(h, "pid"), pid);
    cr_assert_eq(fx_dec(h, "ppid"), getpid());
    cr_assert_eq(fx_dec(h, "attached"), 1, "error=%s", str_of(h, "error"));
    cr_assert_str_eq(str_of(h, "after"), "1.500");
    cr_assert_str_eq(str_of(h, "error"), "");
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(len, 0);
    self[len] = '\0';
    cr_assert_str_eq(str_of(h, "exe"), self);

    /* The test binary itself is among the modules, with its build-id and a range around main. */
    cr_assert_gt(fx_count_tag(&tf, "mod"), 1);
    bool found_self = false;
    for (size_t i = 0; i < tf.nrecs; i++) {
        const struct fs_record *r = &tf.recs[i];
        if (strcmp(r->tag, "mod") != 0 || strcmp(str_of(r, "path"), self) != 0)
            continue;
        uint64_t start, end, bias;
        cr_assert_eq(fs_rec_hex(r, "start", &start), 0);
        cr_assert_eq(fs_rec_hex(r, "end", &end), 0);
        cr_assert_eq(fs_rec_hex(r, "bias", &bias), 0);
        uint64_t fn = (uint64_t)(uintptr_t)&hang_blocking_read;
        cr_assert(start <= fn && fn < end, "%" PRIx64 " not in %" PRIx64 "-%" PRIx64, fn, start,
                  end);
        cr_assert_neq(str_of(r, "buildid")[0], '\0');
        found_self = true;
    }
    cr_assert(found_self, "no mod record for %s", self);

    cr_assert_eq(fx_count_tag(&tf, "hangthread"), 2);
    bool saw_sleeper = false;
    for (size_t i = 0; i < tf.nrecs; i++) {
        const struct fs_record *r = &tf.recs[i];
        if (strcmp(r->tag, "hangthread") != 0)
            continue;
        cr_assert_str_eq(str_of(r, "state"), "S");
        uint64_t *pcs = NULL;
        long n = fs_rec_hexlist(r, "frames", &pcs);
        cr_assert_gt(n, 1, "thread %s has %ld frames", str_of(r, "tid"), n);
        free(pcs);
        saw_sleeper |= strcmp(str_of(r, "name"), "sleeper") == 0;
    }
    cr_assert(saw_sleeper);
    end_child(pid);

    /* The rule, with a real symbolizer and the hang's own module map. */
    struct fs_model m = {0};
    cr_assert_eq(fs_model_add_hang(&m, &tf), 0);
    fs_trace_release(&tf);
    fs_model_link(&m);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_findings out = {0};
    fs_diag_set_quiet(true); /* libc has no debug info here: that warning is not the subject */
    fs_rules_hang(&m, sym, &out);
    fs_diag_set_quiet(false);
    cr_assert_eq(out.n, 1);
    const struct fs_finding *f = &out.items[0];
    cr_assert_str_eq(f->hazard, "child-hang");
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    cr_assert_eq(f->pid, pid);
    char *want = fs_xasprintf("process %d (test_hang) was still running after 1.5 s: 2 threads, "
                              "all asleep",
                              (int)pid);
    cr_assert_str_eq(f->summary, want);
    free(want);
    cr_assert_str_eq(fs_finding_detail_get(f, "after"), "1.5 s");
    cr_assert_str_eq(fs_finding_detail_get(f, "threads"), "2");
    cr_assert_str_eq(fs_finding_detail_get(f, "shim"),
                     "not traced (static binary or LD_PRELOAD cleared): stacks only");
    cr_assert_null(fs_finding_detail_get(f, "stacks"));
    cr_assert_eq(f->npath, 1);
    cr_assert_eq(f->path[0].pid, pid);
    cr_assert_eq(f->nstacks, 2);

    const struct fs_stack *s = stack_of(f, pid);
    cr_assert_str_eq(s->role, "thread");
    long mine = frame_index(s, "hang_blocking_read", false);
    long rd = frame_index(s, "read", true);
    cr_assert_geq(mine, 0, "hang_blocking_read is not on the blocked thread's stack");
    cr_assert_geq(rd, 0, "no read frame on the blocked thread's stack");
    cr_assert_lt(rd, mine, "read must be inner to hang_blocking_read");
    const struct fs_frame *fr = &s->frames[mine];
    cr_assert_not_null(fr->file);
    cr_assert_not_null(strstr(fr->file, "test_hang.c"), "file %s", fr->file);
    cr_assert_gt(fr->line, 0);

    fs_symbolizer_free(sym);
    fs_findings_release(&out);
    fs_model_release(&m);
}

Test(hang, process_already_gone_still_gets_a_file)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);

    cr_assert_eq(fs_hang_capture(pid, dir, 0.25), 0);
    struct fs_trace_file tf;
    read_hang(pid, &tf);
    const struct fs_record *h = first_tag(&tf, "hang");
    cr_assert_eq(fx_dec(h, "pid"), pid);
    cr_assert_eq(fx_dec(h, "attached"), 0);
    cr_assert_str_eq(str_of(h, "error"), strerror(ESRCH));
    cr_assert_eq(fx_count_tag(&tf, "hangthread"), 0);

    struct fs_model m = {0};
    cr_assert_eq(fs_model_add_hang(&m, &tf), 0);
    fs_trace_release(&tf);
    struct fs_findings out = {0};
    fs_rules_hang(&m, NULL, &out);
    cr_assert_eq(out.n, 1);
    const struct fs_finding *f = &out.items[0];
    char *want = fs_xasprintf("not available: %s", strerror(ESRCH));
    cr_assert_str_eq(fs_finding_detail_get(f, "stacks"), want);
    free(want);
    cr_assert_not_null(strstr(f->summary, "its stacks could not be read"), "%s", f->summary);
    cr_assert_eq(f->nstacks, 0);
    fs_findings_release(&out);
    fs_model_release(&m);
}

Test(hang, zombie_is_not_attached)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    siginfo_t si;
    /* WNOWAIT: it has exited but stays a zombie for the capture. */
    cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);

    cr_assert_eq(fs_hang_capture(pid, dir, 0.25), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    struct fs_trace_file tf;
    read_hang(pid, &tf);
    const struct fs_record *h = first_tag(&tf, "hang");
    cr_assert_eq(fx_dec(h, "attached"), 0);
    cr_assert_not_null(strstr(str_of(h, "error"), "zombie"), "%s", str_of(h, "error"));
    cr_assert_eq(fx_count_tag(&tf, "hangthread"), 1);
    cr_assert_str_eq(str_of(first_tag(&tf, "hangthread"), "state"), "Z");
    fs_trace_release(&tf);
}

Test(hang, traced_process_gives_state_without_stacks)
{
    /* The test is already the child's tracer, and a thread has only one: attaching again fails
     * with EPERM, as it does under ptrace_scope 3 or for a program run under a debugger. */
    pid_t pid = start_stuck_child(true);
    seize_other_threads(pid);
    int rc = fs_hang_capture(pid, dir, 2);
    struct fs_trace_file tf;
    read_hang(pid, &tf);
    end_child(pid);
    cr_assert_eq(rc, 0);
    const struct fs_record *h = first_tag(&tf, "hang");
    cr_assert_eq(fx_dec(h, "attached"), 0);
    cr_assert_str_eq(str_of(h, "error"), strerror(EPERM));
    cr_assert_eq(fx_count_tag(&tf, "hangthread"), 2);
    for (size_t i = 0; i < tf.nrecs; i++) {
        const struct fs_record *r = &tf.recs[i];
        if (strcmp(r->tag, "hangthread") != 0)
            continue;
        cr_assert_str_eq(str_of(r, "state"), "S");
        cr_assert_str_eq(str_of(r, "frames"), "");
    }
    /* The modules come from /proc/<pid>/maps, which needs no attach. */
    cr_assert_gt(fx_count_tag(&tf, "mod"), 0);
    fs_trace_release(&tf);
}

Test(hang, nothing_running_writes_nothing)
{
    cr_assert_eq(fs_hang_capture_tree(getpid(), dir, 1), 0);
    cr_assert_eq(fs_hang_capture_tree(getpid(), NULL, 1), -1);
}

/* ---- the rule on a hand-written model ---------------------------------------------------- */

#define TRACED_CHILD                                                                               \
    "forksan-trace version=1 pid=4243\n"                                                           \
    "proc pid=4243 ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a.out "             \
    "cmdline=./a.out\n"                                                                            \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "deadlock lock=55d0c0a04040 kind=mutex mode=excl holder=4201 call=pthread_mutex_lock try=0 "   \
    "policy=wait time=2000 frames=55d0c0a01300,55d0c0a01400\n"                                     \
    "deadlock lock=55d0c0a04080 kind=mutex mode=excl holder=4201 call=pthread_mutex_trylock "      \
    "try=1 policy=wait time=2000 frames=55d0c0a01300\n"

#define HANG_4243                                                                                  \
    "forksan-trace version=1 pid=4243\n"                                                           \
    "hang pid=4243 ppid=4200 comm=a.out exe=/tmp/a.out after=10.004 attached=1 error=\n"           \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "hangthread tid=4243 name=a.out state=S wchan=futex_wait_queue "                               \
    "frames=55d0c0a01301,55d0c0a01400\n"                                                           \
    "hangthread tid=4250 name=io state=D wchan=io_schedule frames=\n"

static size_t detail_count(const struct fs_finding *f, const char *key)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ndetails; i++)
        n += strcmp(f->details[i].key, key) == 0;
    return n;
}

Test(hang, rule_names_the_inherited_lock_and_the_states)
{
    struct fs_model m = {0};
    fx_add(&m, "4243.0.trace", TRACED_CHILD);
    fx_add_hang(&m, "4243.hang", HANG_4243);
    fs_model_link(&m);
    struct fs_findings out = {0};
    fs_rules_hang(&m, NULL, &out);
    cr_assert_eq(out.n, 1);
    const struct fs_finding *f = &out.items[0];
    cr_assert_str_eq(f->summary, "process 4243 (a.out) was still running after 10 s: 2 threads: "
                                 "1 asleep, 1 in uninterruptible sleep (D), blocked on an "
                                 "inherited lock");
    cr_assert_str_eq(fs_finding_detail_get(f, "shim"), "traced");
    cr_assert_str_eq(fs_finding_detail_get(f, "after"), "10 s");
    /* Only the blocking call: the trylock returned to the program. */
    cr_assert_eq(detail_count(f, "blocked_on"), 1);
    cr_assert_str_eq(fs_finding_detail_get(f, "blocked_on"),
                     "pthread mutex 0x55d0c0a04040 inherited held by thread 4201, taken with "
                     "pthread_mutex_lock: see child-deadlock");
    cr_assert_eq(detail_count(f, "thread"), 2);
    cr_assert_str_eq(fs_finding_detail_get(f, "thread"), "4243 \"a.out\": asleep, in "
                                                         "futex_wait_queue");
    /* A thread without frames has no stack; the other keeps its addresses unsymbolized. */
    cr_assert_eq(f->nstacks, 1);
    cr_assert_eq(f->stacks[0].tid, 4243);
    cr_assert_eq(f->stacks[0].nframes, 2);
    cr_assert_eq(f->stacks[0].frames[0].pc, 0x55d0c0a01301);
    cr_assert_eq(f->npath, 1);
    cr_assert_str_eq(f->path[0].name, "a.out");
    fs_findings_release(&out);
    fs_model_release(&m);
}

Test(hang, rule_single_thread_wording)
{
    struct fs_model m = {0};
    fx_add_hang(&m, "77.hang",
                "forksan-trace version=1 pid=77\n"
                "hang pid=77 ppid=1 comm=static exe=/bin/static after=0.5 attached=0 "
                "error=Operation%20not%20permitted\n"
                "hangthread tid=77 name=static state=R wchan= frames=\n");
    fs_model_link(&m);
    struct fs_findings out = {0};
    fs_rules_hang(&m, NULL, &out);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(out.items[0].summary,
                     "process 77 (static) was still running after 0.5 s: 1 thread, running; its "
                     "stacks could not be read (Operation not permitted)");
    cr_assert_str_eq(fs_finding_detail_get(&out.items[0], "stacks"),
                     "not available: Operation not permitted");
    cr_assert_str_eq(fs_finding_detail_get(&out.items[0], "thread"), "77 \"static\": running");
    fs_findings_release(&out);
    fs_model_release(&m);
}

Test(hang, rule_tells_a_loaded_shim_without_trace)
{
    struct fs_model m = {0};
    fx_add_hang(&m, "78.hang",
                "forksan-trace version=1 pid=78\n"
                "hang pid=78 ppid=1 comm=w exe=/bin/w after=3 attached=1 error=\n"
                "mod start=7f0000000000 end=7f0000010000 bias=7f0000000000 buildid= "
                "path=/opt/forksan/lib/forksan/libforksan.so\n"
                "hangthread tid=78 name=w state=S wchan= frames=7f0000001234\n");
    fs_model_link(&m);
    struct fs_findings out = {0};
    fs_rules_hang(&m, NULL, &out);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(fs_finding_detail_get(&out.items[0], "shim"),
                     "loaded, but it had written no trace for this process: stacks only");
    cr_assert_str_eq(out.items[0].summary,
                     "process 78 (w) was still running after 3 s: 1 thread, asleep");
    cr_assert_eq(out.items[0].nstacks, 1);
    fs_findings_release(&out);
    fs_model_release(&m);
}
