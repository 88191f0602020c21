/*
 * forksan-bench: what LD_PRELOAD=libforksan.so costs on the calls it interposes. The driver
 * re-executes itself as a worker for every (workload, variant) pair: natively, under an empty
 * pass-through interposer (the floor any LD_PRELOAD tool pays) and under libforksan.so recording
 * into a fresh trace directory. Variants are interleaved and rotated across rounds so that drift
 * (frequency scaling, a noisy neighbour) hits them alike; the median per variant is reported.
 * A measurement, not a test: it exits 0 whether or not the targets are met. See bench/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#ifndef FORKSAN_BENCH_SHIM
#define FORKSAN_BENCH_SHIM "libforksan.so"
#endif
#ifndef FORKSAN_BENCH_EMPTY_SHIM
#define FORKSAN_BENCH_EMPTY_SHIM "libforksan_empty.so"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ROUNDS    99
#define NOTE_SIZE     128

extern char **environ;

/* ---------------------------------------------------------------- worker side */

struct wl_result {
    double ns_per_op;
    unsigned long long ops;
    unsigned long long
        ops_total;        /* every op the worker made, warm-up included (0: ops + warm-up) */
    char note[NOTE_SIZE]; /* extra "key=value ..." evidence, e.g. that a lock really contended */
    const char *suspect;  /* why this measurement may not show what it claims, or NULL */
};

static void die(const char *what, int err)
{
    fprintf(stderr, "forksan-bench: %s: %s\n", what, strerror(err));
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime(CLOCK_MONOTONIC)", errno);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Scheduling of the workers (--sched): pinned to a CPU of their own (two-thread workloads: one
 * CPU per thread), and under SCHED_FIFO when the system allows it, so that another job cannot
 * take the CPU in the middle of a measurement.  What was applied is reported with the result.
 */
static bool sched_pin, sched_rt;
static int pin_cpus[2] = {-1, -1}; /* [0]: single-threaded workloads and lane 0; [1]: lane 1 */

static void pin_to(int cpu)
{
    cpu_set_t set;

    if (!sched_pin || cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        die("sched_setaffinity", errno);
}

/* Picks the CPUs (the last two allowed ones: CPU 0 takes most interrupts) and applies the
 * policy to the calling thread; writes what it did into `what`. */
static void apply_sched(char *what, size_t cap)
{
    cpu_set_t set;
    int n = 0;

    if (sched_pin && sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int cpu = CPU_SETSIZE - 1; cpu >= 0 && n < 2; cpu--)
            if (CPU_ISSET(cpu, &set))
                pin_cpus[n++] = cpu;
    }
    if (n == 0)
        sched_pin = false;
    if (n == 1)
        pin_cpus[1] = pin_cpus[0];
    pin_to(pin_cpus[0]);
    if (sched_rt) {
        struct sched_param sp = {.sched_priority = 1};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
            sched_rt = false; /* EPERM without CAP_SYS_NICE: say so, run anyway */
    }
    snprintf(what, cap, "%s%s%s", sched_pin ? (n == 2 ? "pinned" : "pinned-1cpu") : "unpinned",
             sched_rt ? "+fifo" : "", "");
}

/* Untimed first pass: faults pages in, resolves lazy PLT entries, wakes the CPU up. */
static unsigned long warmup_iters(unsigned long iters)
{
    return iters / 16 + 1;
}

/*
 * The single-threaded loops touch a volatile counter inside each critical section and OR the
 * return codes together: the calls are opaque to the compiler anyway, but this keeps the loops
 * honest and checks every return code without a branch per call.
 */
static volatile unsigned long sink;

static int mutex_pairs(pthread_mutex_t *m, unsigned long n)
{
    int bad = 0;

    for (unsigned long i = 0; i < n; i++) {
        bad |= pthread_mutex_lock(m);
        sink++;
        bad |= pthread_mutex_unlock(m);
    }
    return bad;
}

static int run_mutex_1t(unsigned long iters, struct wl_result *res)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    uint64_t t0, t1;

    if (mutex_pairs(&m, warmup_iters(iters)) != 0)
        die("pthread_mutex_lock/unlock", EINVAL);
    t0 = now_ns();
    int bad = mutex_pairs(&m, iters);
    t1 = now_ns();
    if (bad != 0)
        die("pthread_mutex_lock/unlock", bad);
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

static int run_rwlock_rd(unsigned long iters, struct wl_result *res)
{
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    unsigned long total = warmup_iters(iters) + iters;
    uint64_t t0 = 0, t1;
    int bad = 0;

    for (unsigned long i = 0; i < total; i++) {
        if (i == total - iters)
            t0 = now_ns();
        bad |= pthread_rwlock_rdlock(&rw);
        sink++;
        bad |= pthread_rwlock_unlock(&rw);
    }
    t1 = now_ns();
    if (bad != 0)
        die("pthread_rwlock_rdlock/unlock", bad);
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

static int run_spin_1t(unsigned long iters, struct wl_result *res)
{
    static pthread_spinlock_t s;
    unsigned long total = warmup_iters(iters) + iters;
    uint64_t t0 = 0, t1;
    int bad;

    bad = pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE);
    if (bad != 0)
        die("pthread_spin_init", bad);
    for (unsigned long i = 0; i < total; i++) {
        if (i == total - iters)
            t0 = now_ns();
        bad |= pthread_spin_lock(&s);
        sink++;
        bad |= pthread_spin_unlock(&s);
    }
    t1 = now_ns();
    if (bad != 0)
        die("pthread_spin_lock/unlock", bad);
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

static int run_sem_1t(unsigned long iters, struct wl_result *res)
{
    static sem_t s;
    unsigned long total = warmup_iters(iters) + iters;
    uint64_t t0 = 0, t1;
    int bad = 0;

    /* A binary semaphore used as a lock, as CPython's threading.Lock does. */
    if (sem_init(&s, 0, 1) != 0)
        die("sem_init", errno);
    for (unsigned long i = 0; i < total; i++) {
        if (i == total - iters)
            t0 = now_ns();
        bad |= sem_wait(&s);
        sink++;
        bad |= sem_post(&s);
    }
    t1 = now_ns();
    if (bad != 0)
        die("sem_wait/sem_post", errno);
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

/* Minor page faults so far of this process (who = RUSAGE_SELF) or its waited-for children. */
static long minor_faults(int who)
{
    struct rusage ru;

    if (getrusage(who, &ru) != 0)
        die("getrusage", errno);
    return ru.ru_minflt;
}

/* CPU time (user + system) so far of the waited-for children, in ns. */
static double children_cpu_ns(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        die("getrusage", errno);
    return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

/* Besides the time, the page faults per fork of parent and child: every page either process
 * writes after fork() costs a copy-on-write fault, what a fork's cost is mostly made of on a VM,
 * and a count that does not depend on the machine's load. */
static int run_fork_wait(unsigned long iters, struct wl_result *res)
{
    unsigned long total = 8 + iters;
    uint64_t t0 = 0, t1;
    long pf0 = 0, cf0 = 0;
    double ccpu0 = 0;

    for (unsigned long i = 0; i < total; i++) {
        int status;
        pid_t pid;

        if (i == total - iters) {
            pf0 = minor_faults(RUSAGE_SELF);
            cf0 = minor_faults(RUSAGE_CHILDREN);
            ccpu0 = children_cpu_ns();
            t0 = now_ns();
        }
        pid = fork();
        if (pid < 0)
            die("fork", errno);
        if (pid == 0)
            _exit(0);
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid", errno);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "forksan-bench: fork-wait: child %d ended with status 0x%x\n", (int)pid,
                    (unsigned)status);
            exit(1);
        }
    }
    t1 = now_ns();
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    res->ops_total = total;
    snprintf(res->note, sizeof(res->note), "faults/fork: parent=%.1f child=%.1f child-cpu=%.1fus",
             (double)(minor_faults(RUSAGE_SELF) - pf0) / (double)iters,
             (double)(minor_faults(RUSAGE_CHILDREN) - cf0) / (double)iters,
             (children_cpu_ns() - ccpu0) / (double)iters / 1000);
    return 0;
}

/*
 * The generator workloads draw from a fixed seed, so every variant draws the same sequence, and
 * XOR the values into the sink so that no call can be dropped.  Under forksan a draw is counted and
 * the first values of each segment are kept; only the first four of the run are written out, so
 * these loops measure the per-draw bookkeeping, not trace writing.
 */
static unsigned long rand_draws(unsigned long n)
{
    unsigned long acc = 0;

    for (unsigned long i = 0; i < n; i++)
        acc ^= (unsigned long)rand();
    return acc;
}

static int run_rand(unsigned long iters, struct wl_result *res)
{
    uint64_t t0, t1;

    srand(1);
    sink ^= rand_draws(warmup_iters(iters));
    t0 = now_ns();
    sink ^= rand_draws(iters);
    t1 = now_ns();
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

/* Sums the doubles and checks each is in [0, 1), as drand48 promises, outside the timed calls. */
static double drand48_draws(unsigned long n, int *bad)
{
    double acc = 0;

    for (unsigned long i = 0; i < n; i++) {
        double x = drand48();

        *bad |= !(x >= 0.0 && x < 1.0);
        acc += x;
    }
    return acc;
}

static int run_drand48(unsigned long iters, struct wl_result *res)
{
    uint64_t t0, t1;
    int bad = 0;

    srand48(1);
    sink ^= (unsigned long)drand48_draws(warmup_iters(iters), &bad);
    t0 = now_ns();
    sink ^= (unsigned long)drand48_draws(iters, &bad);
    t1 = now_ns();
    if (bad)
        die("drand48: a value outside [0, 1)", EINVAL);
    res->ns_per_op = (double)(t1 - t0) / (double)iters;
    res->ops = iters;
    return 0;
}

/*
 * The other workloads of one thread share one loop: `op` is one op, `setup` runs once before,
 * `check` after (with `bad` the OR of the return codes, or a count of bad values).
 */
#define LOOP_WORKLOAD(fname, what, setup, op, check)                                               \
    static int fname(unsigned long iters, struct wl_result *res)                                   \
    {                                                                                              \
        unsigned long total = warmup_iters(iters) + iters;                                         \
        uint64_t t0 = 0, t1;                                                                       \
        int bad = 0;                                                                               \
        setup;                                                                                     \
        for (unsigned long i = 0; i < total; i++) {                                                \
            if (i == total - iters)                                                                \
                t0 = now_ns();                                                                     \
            op;                                                                                    \
        }                                                                                          \
        t1 = now_ns();                                                                             \
        check;                                                                                     \
        if (bad != 0)                                                                              \
            die(what, EINVAL);                                                                     \
        res->ns_per_op = (double)(t1 - t0) / (double)iters;                                        \
        res->ops = iters;                                                                          \
        res->ops_total = total;                                                                    \
        return 0;                                                                                  \
    }

static pthread_rwlock_t wr_lock = PTHREAD_RWLOCK_INITIALIZER;
LOOP_WORKLOAD(
    run_rwlock_wr, "pthread_rwlock_wrlock/unlock", (void)0,
    {
        bad |= pthread_rwlock_wrlock(&wr_lock);
        sink++;
        bad |= pthread_rwlock_unlock(&wr_lock);
    },
    (void)0)

static mtx_t c11_mtx;
LOOP_WORKLOAD(
    run_mtx_1t, "mtx_lock/mtx_unlock",
    if (mtx_init(&c11_mtx, mtx_plain) != thrd_success) die("mtx_init", EINVAL),
    {
        bad |= mtx_lock(&c11_mtx) != thrd_success;
        sink++;
        bad |= mtx_unlock(&c11_mtx) != thrd_success;
    },
    (void)0)

/* A condition wait whose deadline has passed: glibc releases the mutex, finds the time up in
 * the futex call and takes the mutex back, returning ETIMEDOUT; one syscall per op. */
static pthread_mutex_t cond_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond_var = PTHREAD_COND_INITIALIZER;
static const struct timespec cond_past = {1, 0};
LOOP_WORKLOAD(
    run_cond_wait, "pthread_cond_timedwait", (void)0,
    {
        bad |= pthread_mutex_lock(&cond_mutex);
        bad |= pthread_cond_timedwait(&cond_var, &cond_mutex, &cond_past) != ETIMEDOUT;
        bad |= pthread_mutex_unlock(&cond_mutex);
    },
    (void)0)

LOOP_WORKLOAD(run_random, "random", srandom(1), sink ^= (unsigned long)random(), (void)0)
LOOP_WORKLOAD(run_lrand48, "lrand48", srand48(1), sink ^= (unsigned long)lrand48(), (void)0)

static unsigned short xsubi[3] = {1, 2, 3};
LOOP_WORKLOAD(
    run_erand48, "erand48", (void)0,
    {
        double x = erand48(xsubi);
        bad |= !(x >= 0.0 && x < 1.0);
        sink += (unsigned long)(x * 1024);
    },
    (void)0)

static unsigned rand_r_seed = 1;
LOOP_WORKLOAD(run_rand_r, "rand_r", (void)0, sink ^= (unsigned long)rand_r(&rand_r_seed), (void)0)

static struct random_data rdata;
static char rstate[64];
LOOP_WORKLOAD(
    run_random_r, "random_r",
    if (initstate_r(1, rstate, sizeof rstate, &rdata) != 0) die("initstate_r", errno),
    {
        int32_t v;
        bad |= random_r(&rdata, &v);
        sink ^= (unsigned long)v;
    },
    (void)0)

static struct drand48_data d48data;
LOOP_WORKLOAD(
    run_drand48_r, "drand48_r", if (srand48_r(1, &d48data) != 0) die("srand48_r", errno),
    {
        double x;
        bad |= drand48_r(&d48data, &x);
        sink += (unsigned long)(x * 1024);
    },
    (void)0)

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        die("clock_gettime(CLOCK_THREAD_CPUTIME_ID)", errno);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Elapsed wall time of the parallel section: earliest start to latest end. */
static uint64_t span_ns(uint64_t s0, uint64_t e0, uint64_t s1, uint64_t e1)
{
    return (e0 > e1 ? e0 : e1) - (s0 < s1 ? s0 : s1);
}

/*
 * CPU time of both threads over the wall time of the section: near 2 when they ran at once,
 * near 1 (or below, on a loaded machine) when they took turns on one CPU. Below 1.5 a
 * two-thread workload measured time-sharing rather than what it claims; say so.
 */
static double parallelism(uint64_t cpu0, uint64_t cpu1, uint64_t span, struct wl_result *res)
{
    double p = (double)(cpu0 + cpu1) / (double)span;

    if (p < 1.5)
        res->suspect = "threads-time-shared-one-cpu";
    return p;
}

/* One per thread, on its own cache lines, so mutex-2t measures locking and not false sharing. */
struct lane {
    _Alignas(64) pthread_mutex_t mutex;
    volatile unsigned long count;
    unsigned long iters;
    pthread_barrier_t *go;
    uint64_t start, end, cpu_ns;
    int bad;
    int cpu; /* index into pin_cpus */
};

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    int bad = 0;

    pin_to(pin_cpus[l->cpu]);
    bad |= mutex_pairs(&l->mutex, warmup_iters(l->iters));
    int rc = pthread_barrier_wait(l->go);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die("pthread_barrier_wait", rc);
    l->cpu_ns = thread_cpu_ns();
    l->start = now_ns();
    for (unsigned long i = 0; i < l->iters; i++) {
        bad |= pthread_mutex_lock(&l->mutex);
        l->count++;
        bad |= pthread_mutex_unlock(&l->mutex);
    }
    l->end = now_ns();
    l->cpu_ns = thread_cpu_ns() - l->cpu_ns;
    l->bad = bad;
    return NULL;
}

static int run_mutex_2t(unsigned long iters, struct wl_result *res)
{
    static struct lane lanes[2];
    pthread_barrier_t go;
    pthread_t tid[2];
    uint64_t span;
    int rc;

    rc = pthread_barrier_init(&go, NULL, 2);
    if (rc != 0)
        die("pthread_barrier_init", rc);
    for (int i = 0; i < 2; i++) {
        rc = pthread_mutex_init(&lanes[i].mutex, NULL);
        if (rc != 0)
            die("pthread_mutex_init", rc);
        lanes[i].iters = iters;
        lanes[i].go = &go;
        lanes[i].cpu = i;
        rc = pthread_create(&tid[i], NULL, lane_main, &lanes[i]);
        if (rc != 0)
            die("pthread_create", rc);
    }
    for (int i = 0; i < 2; i++) {
        rc = pthread_join(tid[i], NULL);
        if (rc != 0)
            die("pthread_join", rc);
        if (lanes[i].bad != 0 || lanes[i].count != iters)
            die("mutex-2t: lock/unlock failed or pairs lost", EINVAL);
    }
    pthread_barrier_destroy(&go);
    span = span_ns(lanes[0].start, lanes[0].end, lanes[1].start, lanes[1].end);
    res->ns_per_op = (double)span / (double)iters;
    res->ops = iters;
    res->ops_total = 2 * (warmup_iters(iters) + iters); /* pairs of both threads */
    snprintf(res->note, sizeof(res->note), "parallel=%.2f",
             parallelism(lanes[0].cpu_ns, lanes[1].cpu_ns, span, res));
    return 0;
}

/*
 * Both threads draw pairs from one shared budget under the one mutex, so neither can finish
 * early and leave the other running uncontended: contention lasts until the budget is spent.
 * The critical section updates a few words of protected data, as a real one would, so the lock
 * is held for a good part of each iteration. The evidence that it did contend, gathered without
 * touching the loop: handoffs (the owner changed since the last pair), sleeps (a thread blocked
 * in the futex) and parallel (see parallelism(): threads taking turns on one CPU hardly contend).
 */
struct contended {
    _Alignas(64) pthread_mutex_t mutex;
    unsigned long done, goal;       /* guarded by mutex */
    unsigned long handoffs;         /* guarded by mutex */
    int last_owner;                 /* guarded by mutex */
    volatile unsigned long data[4]; /* guarded by mutex: the "work" */
    pthread_barrier_t go;
};

struct contender {
    _Alignas(64) struct contended *shared;
    int id;
    unsigned long mine;
    long sleeps;     /* voluntary context switches during the loop */
    uint64_t cpu_ns; /* thread CPU time during the loop */
    uint64_t start, end;
    int bad;
};

static long voluntary_switches(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        die("getrusage(RUSAGE_THREAD)", errno);
    return ru.ru_nvcsw;
}

static void *contender_main(void *arg)
{
    struct contender *c = arg;
    struct contended *s = c->shared;
    int bad = 0;

    pin_to(pin_cpus[c->id]);
    int rc = pthread_barrier_wait(&s->go);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die("pthread_barrier_wait", rc);
    c->sleeps = voluntary_switches();
    c->cpu_ns = thread_cpu_ns();
    c->start = now_ns();
    for (;;) {
        bad |= pthread_mutex_lock(&s->mutex);
        if (s->done >= s->goal) {
            bad |= pthread_mutex_unlock(&s->mutex);
            break;
        }
        s->done++;
        if (s->last_owner != c->id) {
            s->last_owner = c->id;
            s->handoffs++;
        }
        for (size_t i = 0; i < ARRAY_SIZE(s->data); i++)
            s->data[i]++;
        bad |= pthread_mutex_unlock(&s->mutex);
        c->mine++;
    }
    c->end = now_ns();
    c->cpu_ns = thread_cpu_ns() - c->cpu_ns;
    c->sleeps = voluntary_switches() - c->sleeps;
    c->bad = bad;
    return NULL;
}

static void contended_phase(struct contended *s, struct contender c[2], unsigned long goal)
{
    pthread_t tid[2];
    int rc;

    s->done = 0;
    s->goal = goal;
    s->handoffs = 0;
    s->last_owner = -1;
    for (int i = 0; i < 2; i++) {
        c[i] = (struct contender){.shared = s, .id = i};
        rc = pthread_create(&tid[i], NULL, contender_main, &c[i]);
        if (rc != 0)
            die("pthread_create", rc);
    }
    for (int i = 0; i < 2; i++) {
        rc = pthread_join(tid[i], NULL);
        if (rc != 0)
            die("pthread_join", rc);
        if (c[i].bad != 0)
            die("mutex-contended: pthread_mutex_lock/unlock", c[i].bad);
    }
    if (s->done != goal || c[0].mine + c[1].mine != goal)
        die("mutex-contended: pairs lost", EINVAL);
}

static int run_mutex_contended(unsigned long iters, struct wl_result *res)
{
    static struct contended s;
    static struct contender c[2];
    uint64_t span;
    int rc;

    rc = pthread_mutex_init(&s.mutex, NULL);
    if (rc != 0)
        die("pthread_mutex_init", rc);
    rc = pthread_barrier_init(&s.go, NULL, 2);
    if (rc != 0)
        die("pthread_barrier_init", rc);
    contended_phase(&s, c, warmup_iters(iters));
    contended_phase(&s, c, iters);
    pthread_barrier_destroy(&s.go);
    span = span_ns(c[0].start, c[0].end, c[1].start, c[1].end);
    res->ns_per_op = (double)span / (double)iters;
    res->ops = iters;
    double par = parallelism(c[0].cpu_ns, c[1].cpu_ns, span, res);
    long sleeps = c[0].sleeps + c[1].sleeps;
    /*
     * Contended means: both threads ran at once (parallel >= 1.5) and the lock changed hands
     * at least once per 100 pairs (each handoff is a pair that found the lock's line, and
     * mostly the lock itself, on the other CPU).  Futex waits that slept are reported as well;
     * with two CPUs a loser mostly finds the lock free again on its way into the futex, so they
     * are evidence, not a requirement.
     */
    bool contended = par >= 1.5 && s.handoffs * 100 >= iters;
    snprintf(res->note, sizeof(res->note),
             "contended=%d parallel=%.2f handoffs=%lu sleeps=%ld share0=%.3f", contended, par,
             s.handoffs, sleeps, (double)c[0].mine / (double)iters);
    return 0;
}

/* ---------------------------------------------------------------- the workload table */

/*
 * One row per workload. iters is sized for ~100-300 ms natively on the 2-core Firecracker VM we
 * develop on, where one fork+wait costs 0.7-3 ms (bare metal: ~0.1 ms, so 2000 there); --quick
 * divides it by 10. target is the largest acceptable forksan/native ratio, 0 when there is none.
 * Adding a workload is one function and one row; if it calls something new, give the empty shim
 * a pass-through for it too, or the empty-shim column stops being the interposition floor.
 */
static const struct workload {
    const char *name;
    int (*run)(unsigned long iters, struct wl_result *res);
    unsigned long iters;
    double target;  /* largest acceptable forksan / native (against empty-shim if vs_empty) */
    const char *op; /* what one "op" is */
    bool vs_empty;  /* the target is against the empty interposer (contended) */
} workloads[] = {
    {"mutex-1t", run_mutex_1t, 10000000, 1.3, "pthread_mutex_lock+unlock pair, one thread", false},
    {"mutex-2t", run_mutex_2t, 10000000, 1.3,
     "lock+unlock pair per thread, two threads each on its own mutex", false},
    {"mutex-contended", run_mutex_contended, 2000000, 1.1,
     "lock+unlock pair, two threads on one mutex (pairs of both threads counted)", true},
    {"rwlock-rd", run_rwlock_rd, 8000000, 1.3, "pthread_rwlock_rdlock+unlock pair, one thread",
     false},
    {"rwlock-wr", run_rwlock_wr, 8000000, 1.3, "pthread_rwlock_wrlock+unlock pair, one thread",
     false},
    {"mtx-1t", run_mtx_1t, 10000000, 1.3, "C11 mtx_lock+mtx_unlock pair, one thread", false},
    {"spin-1t", run_spin_1t, 15000000, 1.3, "pthread_spin_lock+unlock pair, one thread", false},
    {"sem-1t", run_sem_1t, 10000000, 1.4, "sem_wait+sem_post pair on a binary semaphore", false},
    {"cond-wait", run_cond_wait, 400000, 1.3,
     "mutex lock, pthread_cond_timedwait with a past deadline (ETIMEDOUT), unlock", false},
    {"fork-wait", run_fork_wait, 500, 1.2, "fork, child _exit(0), parent waitpid", false},
    {"rand", run_rand, 10000000, 1.15, "rand() draw after srand(1), one thread", false},
    {"random", run_random, 10000000, 1.15, "random() draw after srandom(1), one thread", false},
    {"drand48", run_drand48, 30000000, 1.15, "drand48() draw after srand48(1), one thread", false},
    {"lrand48", run_lrand48, 30000000, 1.15, "lrand48() draw after srand48(1), one thread", false},
    {"erand48", run_erand48, 20000000, 1.15, "erand48(xsubi) draw, caller's state", false},
    {"rand_r", run_rand_r, 30000000, 1.15, "rand_r(&seed) draw, caller's state", false},
    {"random_r", run_random_r, 20000000, 1.15, "random_r(&data) draw, caller's state", false},
    {"drand48_r", run_drand48_r, 20000000, 1.15, "drand48_r(&data) draw, caller's state", false},
};

static const struct workload *find_workload(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

static void *idle_thread(void *arg)
{
    return arg;
}

/*
 * glibc skips the atomic instructions of a mutex while the process has never had a second
 * thread (SINGLE_THREAD_P), and fork skips its lock dance likewise: ~4 ns instead of ~13 ns per
 * pair here. forksan matters for threaded programs, and a shim that starts a thread of its own
 * would otherwise flip the native and preloaded runs onto different glibc paths; so every
 * worker starts one thread and joins it first. The flag stays off after the join.
 */
static void leave_single_threaded(void)
{
    pthread_t tid;
    int rc = pthread_create(&tid, NULL, idle_thread, NULL);

    if (rc != 0)
        die("pthread_create", rc);
    rc = pthread_join(tid, NULL);
    if (rc != 0)
        die("pthread_join", rc);
}

static int worker_main(const char *name, const char *iters_arg, const char *sched)
{
    const struct workload *w = find_workload(name);
    struct wl_result res = {0};
    char *end, applied[32];
    unsigned long iters;

    if (w == NULL) {
        fprintf(stderr, "forksan-bench: --worker: unknown workload '%s'\n", name);
        return 2;
    }
    errno = 0;
    iters = strtoul(iters_arg ? iters_arg : "", &end, 10);
    if (errno != 0 || end == iters_arg || *end != '\0' || iters == 0) {
        fprintf(stderr, "forksan-bench: --worker needs --iters N (N > 0)\n");
        return 2;
    }
    sched_pin = sched != NULL && (strcmp(sched, "pin") == 0 || strcmp(sched, "auto") == 0);
    sched_rt = sched != NULL && (strcmp(sched, "rt") == 0 || strcmp(sched, "auto") == 0);
    apply_sched(applied, sizeof(applied));
    /* CPU time of the whole process (every thread, not a forked child) over every op made:
     * unlike the wall time it leaves out the time the worker waited for a CPU, so it holds up
     * on a loaded machine (the caches another job leaves cold still count). */
    struct timespec c0, c1;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0) != 0)
        die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)", errno);
    leave_single_threaded();
    if (w->run(iters, &res) != 0)
        return 1;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1) != 0)
        die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)", errno);
    if (res.ops_total == 0)
        res.ops_total = res.ops + warmup_iters(iters);
    double cpu = ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) /
                 (double)res.ops_total;
    if (printf("ns=%.4f ops=%llu ops_total=%llu cpu_ns=%.4f sched=%s%s%s%s%s\n", res.ns_per_op,
               res.ops, res.ops_total, cpu, applied, res.note[0] ? " " : "", res.note,
               res.suspect ? " suspect=" : "", res.suspect ? res.suspect : "") < 0 ||
        fflush(stdout) != 0)
        die("writing the result", errno);
    return 0;
}

/* ---------------------------------------------------------------- driver side */

/* The variants, in the order of the table columns; the first is the baseline of every ratio. */
static struct variant {
    const char *name;  /* JSON key */
    const char *label; /* column head */
    const char *shim;  /* LD_PRELOAD, NULL for native */
    bool traces;       /* gets a fresh FORKSAN_TRACE_DIR */
    bool present;      /* the shim file exists */
} variants[] = {
    {"native", "native", NULL, false, true},
    {"empty_shim", "empty-shim", FORKSAN_BENCH_EMPTY_SHIM, false, true},
    {"forksan", "forksan", FORKSAN_BENCH_SHIM, true, true},
};

enum status { ST_OK, ST_MISSING, ST_FAILED };

struct cell {
    double ns[MAX_ROUNDS];
    double cpu[MAX_ROUNDS]; /* CPU ns per op of the same runs */
    int n;
    enum status status;
    char note[NOTE_SIZE];
    int suspect_runs;     /* runs whose worker said "suspect=": the column may not mean much */
    int uncontended_runs; /* mutex-contended runs that did not contend: not in ns[] */
    unsigned long trace_files;
    double instr; /* instructions per op; < 0 when not measured */
};

/* How instructions are counted: hardware counters through perf, else callgrind. */
enum counter { CNT_NONE, CNT_PERF, CNT_CALLGRIND };

struct options {
    int rounds;
    bool quick, json;
    bool instr;          /* count instructions per op */
    const char *sched;   /* auto, pin, rt, none */
    unsigned long iters; /* 0: each workload's own */
    bool selected[ARRAY_SIZE(workloads)];
};

/* What one worker run reported. */
struct run_out {
    double ns;
    double cpu_ns; /* process CPU time per op, warm-up included */
    unsigned long long ops_total;
    char note[NOTE_SIZE];
    char sched[32];
};

static char self_exe[PATH_MAX];
static enum counter counter;
static char sched_seen[32]; /* what the timed workers said they applied */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: forksan-bench [--shim PATH] [--empty-shim PATH] [--rounds R] [--quick]\n"
            "                     [--only W[,W...]] [--iters N] [--json] [--sched MODE]\n"
            "                     [--no-instr]\n"
            "\n"
            "Runs each workload natively, under an empty LD_PRELOAD interposer and under\n"
            "libforksan.so (recording into a temporary FORKSAN_TRACE_DIR), interleaved over R\n"
            "rounds, and prints the median ns per op of each and its ratio to native.\n"
            "\n"
            "  --shim PATH        libforksan.so to measure (default %s)\n"
            "  --empty-shim PATH  reference interposer (default %s)\n"
            "  --rounds R         rounds, 1..%d (default 5; 3 with --quick)\n"
            "  --quick            a tenth of the iterations, for a smoke run\n"
            "  --only LIST        only these workloads (comma-separated)\n"
            "  --iters N          N iterations for every workload instead of its own count\n"
            "  --json             machine-readable output on stdout\n"
            "  --sched MODE       auto (default: pinned, and SCHED_FIFO when permitted), pin,\n"
            "                     rt (SCHED_FIFO only) or none; the table says what applied\n"
            "  --no-instr         skip counting instructions per op (perf stat, else callgrind)\n"
            "  --help             this text\n"
            "\n"
            "Workloads (one op is):\n",
            FORKSAN_BENCH_SHIM, FORKSAN_BENCH_EMPTY_SHIM, MAX_ROUNDS);
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        fprintf(out, "  %-16s %s", workloads[i].name, workloads[i].op);
        if (workloads[i].target > 0)
            fprintf(out, " [target <= %.2fx]", workloads[i].target);
        fputc('\n', out);
    }
    fprintf(out, "\nExit status: 0 when measured (targets met or not), 1 when the native runs\n"
                 "failed or the setup did, 2 on a usage error.\n");
}

/*
 * The workers get the driver's environment minus anything that interposes or configures
 * forksan, so a driver that itself runs under a preload cannot leak it into the native column.
 * FORKSAN_* settings other than the trace directory are passed to the forksan variant only,
 * so `FORKSAN_X=y forksan-bench` measures forksan configured that way.
 */
static char **worker_env(const struct variant *v, const char *trace_dir)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    env = calloc(n + 3, sizeof(*env));
    if (env == NULL)
        die("calloc", ENOMEM);
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, "LD_", 3) == 0 || strncmp(e, "FORKSAN_TRACE_DIR=", 18) == 0)
            continue;
        if (strncmp(e, "FORKSAN_", 8) == 0 && !v->traces)
            continue;
        env[k++] = (char *)e;
    }
    if (v->shim != NULL && asprintf(&env[k++], "LD_PRELOAD=%s", v->shim) < 0)
        die("asprintf", ENOMEM);
    if (trace_dir != NULL && asprintf(&env[k++], "FORKSAN_TRACE_DIR=%s", trace_dir) < 0)
        die("asprintf", ENOMEM);
    env[k] = NULL;
    return env;
}

static void free_worker_env(const struct variant *v, const char *trace_dir, char **env)
{
    size_t k = 0;

    while (env[k] != NULL)
        k++;
    /* Only the tail we asprintf'ed is ours. */
    if (trace_dir != NULL)
        free(env[--k]);
    if (v->shim != NULL)
        free(env[--k]);
    free(env);
}

static unsigned long removed_files;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_DP && type != FTW_D)
        removed_files++;
    if (remove(path) != 0) {
        fprintf(stderr, "forksan-bench: cannot remove %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes the trace directory and returns how many files forksan had written into it. */
static unsigned long remove_trace_dir(const char *dir)
{
    removed_files = 0;
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "forksan-bench: could not fully remove %s\n", dir);
    return removed_files;
}

/* Finds the worker's "ns=... ops=... ops_total=... sched=... [note]" line; a shim may have
 * printed other lines. */
static bool parse_result(char *out, struct run_out *r)
{
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        unsigned long long ops;
        int used = 0;

        if (sscanf(line, "ns=%lf ops=%llu ops_total=%llu cpu_ns=%lf sched=%31s%n", &r->ns, &ops,
                   &r->ops_total, &r->cpu_ns, r->sched, &used) == 5 &&
            r->ns > 0) {
            const char *rest = line + used;
            while (*rest == ' ')
                rest++;
            snprintf(r->note, NOTE_SIZE, "%s", rest);
            return true;
        }
    }
    return false;
}

/*
 * Runs one worker, under `prefix` (an instruction counter's command line, NULL-terminated) when
 * not NULL; returns false (after saying why on stderr) when it produced no result.
 */
static bool run_worker(const struct workload *w, unsigned long iters, const struct variant *v,
                       const char *sched, char *const *prefix, struct run_out *res,
                       unsigned long *trace_files)
{
    char trace_dir[PATH_MAX], iters_buf[32], out[1024];
    const char *tmp = getenv("TMPDIR");
    char *wargv[] = {self_exe,  "--worker", (char *)w->name, "--iters",
                     iters_buf, "--sched",  (char *)sched,   NULL};
    char *argv[32];
    posix_spawn_file_actions_t fa;
    size_t len = 0, k = 0;
    int fds[2], rc, status;
    char **env;
    pid_t pid;
    bool ok = false;

    for (; prefix != NULL && prefix[k] != NULL; k++)
        argv[k] = prefix[k];
    for (size_t j = 0; j < ARRAY_SIZE(wargv); j++)
        argv[k + j] = wargv[j];
    snprintf(iters_buf, sizeof(iters_buf), "%lu", iters);
    if (v->traces) {
        snprintf(trace_dir, sizeof(trace_dir), "%s/forksan-bench.XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        if (mkdtemp(trace_dir) == NULL)
            die("mkdtemp", errno);
    }
    env = worker_env(v, v->traces ? trace_dir : NULL);
    if (pipe2(fds, O_CLOEXEC) != 0)
        die("pipe2", errno);
    rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    if (rc != 0)
        die("posix_spawn_file_actions", rc);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "forksan-bench: spawning the %s worker: %s\n", w->name, strerror(rc));
        close(fds[0]);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fds[0], out + len, sizeof(out) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof(out) - 1) {
            char scratch[256]; /* keep draining so the worker never blocks on a full pipe */
            while (read(fds[0], scratch, sizeof(scratch)) > 0)
                ;
            break;
        }
    }
    out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            die("waitpid", errno);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "forksan-bench: %s under %s: worker killed by signal %d\n", w->name,
                    v->label, WTERMSIG(status));
        else
            fprintf(stderr, "forksan-bench: %s under %s: worker exited with %d\n", w->name,
                    v->label, WEXITSTATUS(status));
    } else if (!parse_result(out, res)) {
        fprintf(stderr, "forksan-bench: %s under %s: worker printed no result\n", w->name,
                v->label);
    } else {
        ok = true;
    }
out:
    if (v->traces)
        *trace_files += remove_trace_dir(trace_dir);
    free_worker_env(v, v->traces ? trace_dir : NULL, env);
    return ok;
}

/* ---- instructions per op --------------------------------------------------------------------
 * Hardware counters (perf stat, user-space instructions of the worker and its children) when
 * the machine has them, else callgrind (valgrind's instruction count of every process of the
 * worker: a forked child's share of fork-wait included).  Either way the worker runs twice, N
 * and 2N iterations, and instructions per op = the difference over the difference of ops made:
 * start-up, trace files and the rest of the fixed cost cancel out. */

static char counter_dir[PATH_MAX];

static bool perf_works(void)
{
    FILE *p = popen("perf stat -x, -e instructions:u true 2>&1 >/dev/null", "r");
    char line[256];
    bool ok = false;

    if (p == NULL)
        return false;
    while (fgets(line, sizeof(line), p) != NULL)
        if (strstr(line, "instructions") != NULL && line[0] >= '0' && line[0] <= '9')
            ok = true;
    pclose(p);
    return ok;
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
        if (n > 0 && access(buf, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

static enum counter pick_counter(void)
{
    if (perf_works())
        return CNT_PERF;
    if (in_path("valgrind"))
        return CNT_CALLGRIND;
    return CNT_NONE;
}

static const char *counter_name(enum counter c)
{
    return c == CNT_PERF        ? "perf stat -e instructions:u"
           : c == CNT_CALLGRIND ? "callgrind (no hardware counters here)"
                                : "unavailable (neither perf counters nor valgrind)";
}

/* Sums the counts the counter left in counter_dir, and empties it. */
static double collected(void)
{
    char cmd[PATH_MAX + 64];
    double sum = 0;

    snprintf(cmd, sizeof(cmd), "cat %s/* 2>/dev/null", counter_dir);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char line[512];
    while (fgets(line, sizeof(line), p) != NULL) {
        const char *at = strstr(line, "Collected :");
        if (counter == CNT_CALLGRIND && at != NULL)
            sum += strtod(at + strlen("Collected :"), NULL);
        else if (counter == CNT_PERF && strstr(line, "instructions") && line[0] >= '0' &&
                 line[0] <= '9')
            sum += strtod(line, NULL);
    }
    pclose(p);
    snprintf(cmd, sizeof(cmd), "rm -f %s/*", counter_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "forksan-bench: could not empty %s\n", counter_dir);
    return sum;
}

static double count_run(const struct workload *w, unsigned long iters, const struct variant *v,
                        unsigned long long *ops, unsigned long *trace_files)
{
    char log_opt[PATH_MAX + 32], out_file[PATH_MAX + 16];
    /* Only the worker's own count: a forked child's copy of callgrind starts from its
     * parent's totals, so its count would add the parent's history again; under callgrind,
     * fork-wait counts the parent's side only (perf counts the children's own work). */
    char *cg[] = {"valgrind",
                  "--tool=callgrind",
                  "--callgrind-out-file=/dev/null",
                  "--child-silent-after-fork=yes",
                  log_opt,
                  NULL};
    char *pf[] = {"perf", "stat", "-x,", "-e", "instructions:u", "-o", out_file, "--", NULL};
    struct run_out r = {0};

    snprintf(log_opt, sizeof(log_opt), "--log-file=%s/cg.%%p", counter_dir);
    snprintf(out_file, sizeof(out_file), "%s/perf.out", counter_dir);
    if (!run_worker(w, iters, v, "none", counter == CNT_PERF ? pf : cg, &r, trace_files))
        return -1;
    *ops = r.ops_total;
    return collected();
}

static double instructions_per_op(const struct workload *w, unsigned long iters,
                                  const struct variant *v, unsigned long *trace_files)
{
    unsigned long n = iters / 500 < 10 ? 10 : iters / 500;
    unsigned long long o1 = 0, o2 = 0;
    double i1 = count_run(w, n, v, &o1, trace_files);
    double i2 = i1 < 0 ? -1 : count_run(w, 2 * n, v, &o2, trace_files);

    if (i1 < 0 || i2 < 0 || o2 <= o1)
        return -1;
    return (i2 - i1) / (double)(o2 - o1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const struct cell *c)
{
    double s[MAX_ROUNDS];

    memcpy(s, c->ns, (size_t)c->n * sizeof(s[0]));
    qsort(s, (size_t)c->n, sizeof(s[0]), cmp_double);
    return c->n % 2 ? s[c->n / 2] : (s[c->n / 2 - 1] + s[c->n / 2]) / 2;
}

static double median_cpu(const struct cell *c)
{
    struct cell tmp;

    memcpy(tmp.ns, c->cpu, sizeof(tmp.ns));
    tmp.n = c->n;
    return median(&tmp);
}

static double minimum(const struct cell *c)
{
    double lo = c->ns[0];

    for (int i = 1; i < c->n; i++)
        lo = c->ns[i] < lo ? c->ns[i] : lo;
    return lo;
}

/* (max - min) / median: how far apart the rounds were, the noise this run saw. */
static double spread(const struct cell *c)
{
    double lo = c->ns[0], hi = c->ns[0];

    for (int i = 1; i < c->n; i++) {
        lo = c->ns[i] < lo ? c->ns[i] : lo;
        hi = c->ns[i] > hi ? c->ns[i] : hi;
    }
    return (hi - lo) / median(c);
}

static const char *status_word(enum status st)
{
    return st == ST_MISSING ? "missing" : st == ST_FAILED ? "failed" : "ok";
}

static unsigned long iters_for(const struct options *o, const struct workload *w)
{
    unsigned long n = o->iters ? o->iters : w->iters;

    if (o->quick && o->iters == 0)
        n /= 10;
    return n ? n : 1;
}

/* A row's figure for a variant: "not contended" rows have none (see below). */
static bool has_figure(const struct cell *c)
{
    return c->status == ST_OK && c->n > 0;
}

/* The variant a workload's target and ratios are against. */
static size_t baseline_of(const struct workload *w)
{
    return w->vs_empty ? 1 : 0;
}

static void print_table(const struct options *o, struct cell cells[][ARRAY_SIZE(variants)])
{
    printf("forksan-bench: median of %d rounds, ns per op; (ratio) is against native\n", o->rounds);
    for (size_t v = 1; v < ARRAY_SIZE(variants); v++)
        printf("  %-10s LD_PRELOAD=%s%s\n", variants[v].label, variants[v].shim,
               variants[v].present ? "" : "  (missing)");
    printf("  scheduling: %s (--sched %s)\n", sched_seen[0] ? sched_seen : "n/a", o->sched);
    printf("  instr/op:   %s\n", o->instr ? counter_name(counter) : "not measured (--no-instr)");
    printf("\n%-16s %9s %20s %20s %7s %8s  %-26s\n", "workload", "native ns", "empty-shim ns (x)",
           "forksan ns (x)", "spread", "cpu x", "instr/op native/empty/fs");
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        struct cell *row = cells[i];
        double base = has_figure(&row[0]) ? median(&row[0]) : 0, worst = 0;
        bool no_figure = false;

        if (!o->selected[i])
            continue;
        printf("%-16s", workloads[i].name);
        for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
            char buf[40];
            if (row[v].status != ST_OK)
                snprintf(buf, sizeof(buf), "%s", status_word(row[v].status));
            else if (!has_figure(&row[v])) {
                snprintf(buf, sizeof(buf), "-");
                no_figure = true;
            } else if (v == 0)
                snprintf(buf, sizeof(buf), "%.1f", base);
            else if (base > 0)
                snprintf(buf, sizeof(buf), "%.1f (%.2fx)", median(&row[v]), median(&row[v]) / base);
            else
                snprintf(buf, sizeof(buf), "%.1f", median(&row[v]));
            printf(v == 0 ? " %9s" : " %20s", buf);
            if (has_figure(&row[v]) && spread(&row[v]) > worst)
                worst = spread(&row[v]);
        }
        printf(" %6.0f%%", worst * 100);
        /* forksan / native in CPU time per op (see worker_main): the load-proof time figure. */
        if (has_figure(&row[0]) && has_figure(&row[ARRAY_SIZE(variants) - 1]))
            printf(" %7.2fx ", median_cpu(&row[ARRAY_SIZE(variants) - 1]) / median_cpu(&row[0]));
        else
            printf(" %8s ", "-");
        if (o->instr) {
            char buf[64];
            const struct cell *n = &row[0], *f = &row[ARRAY_SIZE(variants) - 1];
            if (n->instr > 0 && f->instr > 0 && row[1].instr > 0)
                snprintf(buf, sizeof(buf), "%.0f/%.0f/%.0f (%.2fx)", n->instr, row[1].instr,
                         f->instr, f->instr / n->instr);
            else
                snprintf(buf, sizeof(buf), "n/a");
            printf(" %s", buf);
        }
        putchar('\n');
        if (no_figure)
            printf("  %-14s not contended, no figure: %s\n", "", row[0].note[0] ? row[0].note : "");
    }

    bool noted = false;
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
            const struct cell *c = &cells[i][v];
            if (!o->selected[i] || c->status != ST_OK || c->note[0] == '\0')
                continue;
            if (!noted)
                printf("\nworker notes (last round):\n");
            noted = true;
            printf("  %-16s %-11s %s", workloads[i].name, variants[v].label, c->note);
            if (c->uncontended_runs)
                printf("  [%d of %d runs did not contend]", c->uncontended_runs,
                       c->uncontended_runs + c->n);
            putchar('\n');
        }
    }

    printf("\ntargets (forksan / native; contended: forksan / empty-shim):\n");
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        const struct cell *row = cells[i];
        const struct cell *fs = &row[ARRAY_SIZE(variants) - 1];
        const struct cell *b = &row[baseline_of(&workloads[i])];

        if (!o->selected[i] || workloads[i].target <= 0)
            continue;
        printf("  %-16s <= %.2fx  ", workloads[i].name, workloads[i].target);
        if (b->status != ST_OK || fs->status != ST_OK) {
            printf("n/a (%s %s)\n",
                   b->status != ST_OK ? variants[baseline_of(&workloads[i])].label : "forksan",
                   status_word(b->status != ST_OK ? b->status : fs->status));
            continue;
        }
        if (!has_figure(b) || !has_figure(fs)) {
            printf("not contended, no figure (see worker notes)\n");
            continue;
        }
        double ratio = median(fs) / median(b);
        int suspect = 0, runs = 0;
        for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
            suspect += row[v].suspect_runs;
            runs += row[v].n;
        }
        printf("%.2fx  %s", ratio, ratio <= workloads[i].target ? "ok" : "OVER");
        if (suspect > 0)
            printf("  (suspect in %d of %d runs, see worker notes)", suspect, runs);
        putchar('\n');
    }
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_json(const struct options *o, struct cell cells[][ARRAY_SIZE(variants)])
{
    bool first_w = true;

    printf("{\"rounds\":%d,\"quick\":%s,\"sched\":", o->rounds, o->quick ? "true" : "false");
    json_str(sched_seen[0] ? sched_seen : "n/a");
    printf(",\"instr_counter\":");
    json_str(o->instr ? counter_name(counter) : "none");
    printf(",\"variants\":{");
    for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
        printf("%s", v ? "," : "");
        json_str(variants[v].name);
        printf(":{\"preload\":");
        if (variants[v].shim)
            json_str(variants[v].shim);
        else
            printf("null");
        printf(",\"present\":%s}", variants[v].present ? "true" : "false");
    }
    printf("},\"workloads\":[");
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        const struct workload *w = &workloads[i];
        struct cell *row = cells[i];
        double base = has_figure(&row[0]) ? median(&row[0]) : 0;

        if (!o->selected[i])
            continue;
        printf("%s{\"name\":", first_w ? "" : ",");
        first_w = false;
        json_str(w->name);
        printf(",\"op\":");
        json_str(w->op);
        printf(",\"iters\":%lu,\"target\":", iters_for(o, w));
        if (w->target > 0)
            printf("%.2f", w->target);
        else
            printf("null");
        printf(",\"variants\":{");
        for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
            const struct cell *c = &row[v];
            printf("%s", v ? "," : "");
            json_str(variants[v].name);
            printf(":{\"status\":\"%s\"", status_word(c->status));
            if (c->instr > 0)
                printf(",\"instr_per_op\":%.2f", c->instr);
            if (c->uncontended_runs)
                printf(",\"uncontended_runs\":%d", c->uncontended_runs);
            if (has_figure(c)) {
                printf(",\"median_ns\":%.4f,\"min_ns\":%.4f,\"spread\":%.4f,\"median_cpu_ns\":%.4f",
                       median(c), minimum(c), spread(c), median_cpu(c));
                if (base > 0)
                    printf(",\"ratio\":%.4f", median(c) / base);
                printf(",\"suspect_runs\":%d,\"samples_ns\":[", c->suspect_runs);
                for (int k = 0; k < c->n; k++)
                    printf("%s%.4f", k ? "," : "", c->ns[k]);
                printf("]");
                if (c->note[0]) {
                    printf(",\"note\":");
                    json_str(c->note);
                }
            }
            if (variants[v].traces)
                printf(",\"trace_files\":%lu", c->trace_files);
            printf("}");
        }
        printf("}");
        const struct cell *fs = &row[ARRAY_SIZE(variants) - 1];
        const struct cell *b = &row[baseline_of(w)];
        if (w->target > 0 && has_figure(b) && has_figure(fs))
            printf(",\"verdict\":\"%s\"", median(fs) / median(b) <= w->target ? "ok" : "OVER");
        else if (w->target > 0)
            printf(",\"verdict\":%s",
                   has_figure(b) || b->status != ST_OK ? "null" : "\"not contended\"");
        printf("}");
    }
    printf("]}\n");
}

static bool select_workloads(struct options *o, const char *list)
{
    char *copy = strdup(list), *save = NULL;

    if (copy == NULL)
        die("strdup", ENOMEM);
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const struct workload *w = find_workload(name);
        if (w == NULL) {
            fprintf(stderr, "forksan-bench: unknown workload '%s' (see --help)\n", name);
            free(copy);
            return false;
        }
        o->selected[w - workloads] = true;
    }
    free(copy);
    return true;
}

static bool parse_count(const char *arg, long max, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(arg, &end, 10);
    return errno == 0 && end != arg && *end == '\0' && *out >= 1 && *out <= max;
}

int main(int argc, char **argv)
{
    enum {
        OPT_SHIM = 256,
        OPT_EMPTY,
        OPT_ROUNDS,
        OPT_QUICK,
        OPT_ONLY,
        OPT_ITERS,
        OPT_JSON,
        OPT_WORKER,
        OPT_SCHED,
        OPT_NO_INSTR
    };
    static const struct option longopts[] = {
        {"shim", required_argument, NULL, OPT_SHIM},
        {"empty-shim", required_argument, NULL, OPT_EMPTY},
        {"rounds", required_argument, NULL, OPT_ROUNDS},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"only", required_argument, NULL, OPT_ONLY},
        {"iters", required_argument, NULL, OPT_ITERS},
        {"json", no_argument, NULL, OPT_JSON},
        {"worker", required_argument, NULL, OPT_WORKER},
        {"sched", required_argument, NULL, OPT_SCHED},
        {"no-instr", no_argument, NULL, OPT_NO_INSTR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options o = {.instr = true, .sched = "auto"};
    const char *worker = NULL, *iters_arg = NULL;
    bool only = false;
    long n;
    int opt;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SHIM:
            variants[ARRAY_SIZE(variants) - 1].shim = optarg;
            break;
        case OPT_EMPTY:
            variants[1].shim = optarg;
            break;
        case OPT_ROUNDS:
            if (!parse_count(optarg, MAX_ROUNDS, &n)) {
                fprintf(stderr, "forksan-bench: --rounds wants 1..%d\n", MAX_ROUNDS);
                return 2;
            }
            o.rounds = (int)n;
            break;
        case OPT_QUICK:
            o.quick = true;
            break;
        case OPT_ONLY:
            if (!select_workloads(&o, optarg))
                return 2;
            only = true;
            break;
        case OPT_ITERS:
            iters_arg = optarg;
            if (!parse_count(optarg, LONG_MAX, &n)) {
                fprintf(stderr, "forksan-bench: --iters wants a positive count\n");
                return 2;
            }
            o.iters = (unsigned long)n;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        case OPT_WORKER:
            worker = optarg;
            break;
        case OPT_SCHED:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "pin") != 0 &&
                strcmp(optarg, "rt") != 0 && strcmp(optarg, "none") != 0) {
                fprintf(stderr, "forksan-bench: --sched wants auto, pin, rt or none\n");
                return 2;
            }
            o.sched = optarg;
            break;
        case OPT_NO_INSTR:
            o.instr = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "forksan-bench: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (worker != NULL)
        return worker_main(worker, iters_arg, o.sched);

    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (len <= 0)
        die("readlink(/proc/self/exe)", errno);
    self_exe[len] = '\0';

    if (o.rounds == 0)
        o.rounds = o.quick ? 3 : 5;
    if (!only)
        for (size_t i = 0; i < ARRAY_SIZE(workloads); i++)
            o.selected[i] = true;
    for (size_t v = 0; v < ARRAY_SIZE(variants); v++)
        variants[v].present = variants[v].shim == NULL || access(variants[v].shim, R_OK) == 0;

    static struct cell cells[ARRAY_SIZE(workloads)][ARRAY_SIZE(variants)];
    bool progress = !o.json && isatty(STDERR_FILENO);
    unsigned long trace_files = 0;
    bool forksan_ran = false;

    /*
     * Round-major, and within a workload the variant order rotates each round, so no variant is
     * always first after a fork-heavy run or always last when the machine warms up.
     */
    for (int r = 0; r < o.rounds; r++) {
        for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
            if (!o.selected[i])
                continue;
            for (size_t k = 0; k < ARRAY_SIZE(variants); k++) {
                size_t v = (k + (size_t)r) % ARRAY_SIZE(variants);
                struct cell *c = &cells[i][v];

                if (!variants[v].present) {
                    c->status = ST_MISSING;
                    continue;
                }
                if (c->status == ST_FAILED)
                    continue;
                if (progress)
                    fprintf(stderr, "\rround %d/%d  %-16s %-11s", r + 1, o.rounds,
                            workloads[i].name, variants[v].label);
                struct run_out out = {0};
                if (run_worker(&workloads[i], iters_for(&o, &workloads[i]), &variants[v], o.sched,
                               NULL, &out, &c->trace_files)) {
                    snprintf(c->note, sizeof(c->note), "%s", out.note);
                    snprintf(sched_seen, sizeof(sched_seen), "%s", out.sched);
                    c->suspect_runs += strstr(out.note, "suspect=") != NULL;
                    /* A contended workload that did not contend measured something else. */
                    if (strstr(out.note, "contended=0") != NULL)
                        c->uncontended_runs++;
                    else {
                        c->cpu[c->n] = out.cpu_ns;
                        c->ns[c->n++] = out.ns;
                    }
                    forksan_ran |= variants[v].traces;
                } else {
                    c->status = ST_FAILED;
                }
            }
        }
    }
    /* Instructions per op: load-independent, measured once per cell after the timings. */
    if (o.instr) {
        const char *tmpd = getenv("TMPDIR");
        counter = pick_counter();
        snprintf(counter_dir, sizeof(counter_dir), "%s/forksan-bench-count.XXXXXX",
                 tmpd != NULL && tmpd[0] != '\0' ? tmpd : "/tmp");
        if (counter != CNT_NONE && mkdtemp(counter_dir) == NULL)
            die("mkdtemp", errno);
        for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
            for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
                struct cell *c = &cells[i][v];
                c->instr = -1;
                if (!o.selected[i] || c->status != ST_OK || counter == CNT_NONE)
                    continue;
                if (progress)
                    fprintf(stderr, "\rcounting instructions  %-16s %-11s", workloads[i].name,
                            variants[v].label);
                c->instr = instructions_per_op(&workloads[i], iters_for(&o, &workloads[i]),
                                               &variants[v], &c->trace_files);
            }
        }
        if (counter != CNT_NONE)
            rmdir(counter_dir);
    }
    if (progress)
        fprintf(stderr, "\r%50s\r", "");

    int rc = 0;
    for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
        for (size_t v = 0; v < ARRAY_SIZE(variants); v++)
            if (variants[v].traces)
                trace_files += cells[i][v].trace_files;
        if (o.selected[i] && cells[i][0].status != ST_OK)
            rc = 1;
    }
    if (o.json)
        print_json(&o, cells);
    else
        print_table(&o, cells);
    if (fflush(stdout) != 0)
        die("writing the report", errno);
    /* After the report, where it is seen: timings of a shim that records nothing flatter it. */
    if (forksan_ran && trace_files == 0)
        fprintf(stderr,
                "forksan-bench: warning: %s wrote no trace files into FORKSAN_TRACE_DIR; "
                "is it recording?\n",
                variants[ARRAY_SIZE(variants) - 1].shim);
    return rc;
}
