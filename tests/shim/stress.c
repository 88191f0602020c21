/* Stress program: many threads and forks at once, to show the shim neither deadlocks its host
 * nor loses any of its lock operations.
 *
 * Worker threads run in waves of WAVE (TOTAL_THREADS in all); each takes shared and private
 * mutexes, a rwlock, a counting semaphore, a spin lock, a C11 mutex, and plays ping-pong with a
 * partner over a condition variable.  Meanwhile the main thread and FORKERS other threads fork
 * (TOTAL_FORKS in all); each child try-locks what the parent may hold, sometimes execs /bin/true,
 * and _exits.  Checked: every counter adds up, the semaphore never admits more than its count,
 * every call returns what it must, every child exits 0, and nothing hangs (alarm(60) ends the
 * process otherwise).  CTest runs it natively and under the shim.
 *
 * `shim_stress scale`: FORKSAN_STRESS_THREADS threads (default 1000) alive at once, churning a
 * shared mutex, a private one, a rwlock and a counting semaphore, while FORKERS threads fork
 * without pause, for FORKSAN_STRESS_SECONDS (default 3; the long run is 30).  Checked as
 * above: every counter adds up, no call fails, every child exits 0. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

/* Overridable with -D for experiments; the test uses these values. */
#ifndef TOTAL_THREADS
#define TOTAL_THREADS 2000
#endif
#ifndef ITERS
#define ITERS 100
#endif
#ifndef TOTAL_FORKS
#define TOTAL_FORKS 200
#endif
#define WAVE             64 /* even: threads are paired */
#define FORKERS          4  /* besides the main thread */
#define FORKS_PER_FORKER (TOTAL_FORKS / (FORKERS + 1))
#define SEM_COUNT        3
#define CHILD_WAIT_MS    30000

static pthread_mutex_t shared_m = PTHREAD_MUTEX_INITIALIZER;
static long shared_count;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_count;
static pthread_spinlock_t spin;
static long spin_count;
static mtx_t c11_m;
static long c11_count;
static sem_t sem;
static atomic_int sem_inside;
static atomic_int sem_violations;
static atomic_long call_errors;

static atomic_int forks_done, fork_failures, child_failures;

static int npassed, nfailed;

static void __attribute__((format(printf, 2, 3))) expect(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "ok - " : "not ok - ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    if (ok)
        npassed++;
    else
        nfailed++;
}

static void __attribute__((noreturn)) die(const char *what, int err)
{
    fflush(stdout);
    fprintf(stderr, "stress: %s: %s\n", what, strerror(err));
    exit(2);
}

/* A call that must return 0. */
static inline void must(int rc)
{
    if (rc != 0)
        atomic_fetch_add(&call_errors, 1);
}

struct pair {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
    long exchanges;
};

struct worker {
    pthread_t thread;
    int started;
    struct pair *pair;
    int parity;
    long private_count;
    long turns;
};

static void pair_wait(struct worker *w, int timed)
{
    struct pair *p = w->pair;
    must(pthread_mutex_lock(&p->m));
    while (p->turn != w->parity) {
        if (timed) {
            struct timespec ts;
            if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                die("clock_gettime", errno);
            ts.tv_sec += 1;
            int rc = pthread_cond_timedwait(&p->c, &p->m, &ts);
            if (rc != 0 && rc != ETIMEDOUT)
                atomic_fetch_add(&call_errors, 1);
        } else {
            must(pthread_cond_wait(&p->c, &p->m));
        }
    }
    p->turn = !w->parity;
    p->exchanges++;
    w->turns++;
    must(pthread_cond_signal(&p->c));
    must(pthread_mutex_unlock(&p->m));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;
    for (int i = 0; i < ITERS; i++) {
        must(pthread_mutex_lock(&shared_m));
        shared_count++;
        must(pthread_mutex_unlock(&shared_m));

        must(pthread_mutex_lock(&mine));
        w->private_count++;
        must(pthread_mutex_unlock(&mine));

        if (i % 4 == 0) {
            must(pthread_rwlock_wrlock(&rw));
            rw_count++;
            must(pthread_rwlock_unlock(&rw));
        } else {
            must(pthread_rwlock_rdlock(&rw));
            if (rw_count < 0)
                atomic_fetch_add(&call_errors, 1);
            must(pthread_rwlock_unlock(&rw));
        }

        while (sem_wait(&sem) != 0)
            if (errno != EINTR) {
                atomic_fetch_add(&call_errors, 1);
                break;
            }
        if (atomic_fetch_add(&sem_inside, 1) + 1 > SEM_COUNT)
            atomic_fetch_add(&sem_violations, 1);
        atomic_fetch_sub(&sem_inside, 1);
        must(sem_post(&sem));

        must(pthread_spin_lock(&spin));
        spin_count++;
        must(pthread_spin_unlock(&spin));

        if (mtx_lock(&c11_m) != thrd_success)
            atomic_fetch_add(&call_errors, 1);
        c11_count++;
        if (mtx_unlock(&c11_m) != thrd_success)
            atomic_fetch_add(&call_errors, 1);

        pair_wait(w, i % 2);
    }
    must(pthread_mutex_destroy(&mine));
    return NULL;
}

/* ---- forking ------------------------------------------------------------------------------ */

/* The child: only async-signal-safe calls, then _exit with what went wrong. */
static void __attribute__((noreturn)) child_main(int n)
{
    int code = 0;
    int rc = pthread_mutex_trylock(&shared_m);
    if (rc == 0)
        rc = pthread_mutex_unlock(&shared_m);
    else if (rc == EBUSY)
        rc = 0;
    if (rc != 0)
        code |= 1;
    rc = pthread_rwlock_tryrdlock(&rw);
    if (rc == 0)
        rc = pthread_rwlock_unlock(&rw);
    else if (rc == EBUSY)
        rc = 0;
    if (rc != 0)
        code |= 2;
    if (sem_trywait(&sem) == 0) {
        if (sem_post(&sem) != 0)
            code |= 4;
    } else if (errno != EAGAIN) {
        code |= 4;
    }
    if (code == 0 && n % 8 == 0) {
        execl("/bin/true", "true", (char *)NULL);
        code |= 8;
    }
    _exit(code);
}

static long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime", errno);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* What a child that overstays is doing, for the test's log: where the kernel has it, and its
 * stack when gdb is installed (a hang in the shim is otherwise invisible). */
static void describe_stuck(pid_t pid)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "echo \"# wchan: $(cat /proc/%d/wchan 2>/dev/null) syscall: "
             "$(cut -d' ' -f1 /proc/%d/syscall 2>/dev/null)\"; "
             "command -v gdb >/dev/null && env -u LD_PRELOAD timeout 60 gdb -nx -batch -p %d "
             "-ex 'thread apply all bt' 2>&1 | grep '^#' | sed 's/^/# /' | head -40",
             (int)pid, (int)pid, (int)pid);
    fflush(stdout);
    if (system(cmd) == -1)
        fprintf(stderr, "stress: cannot describe child %d\n", (int)pid);
}

/* Waits for pid with a bounded loop; kills it when it overstays. */
static void reap(pid_t pid)
{
    long until = now_ms() + CHILD_WAIT_MS;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            atomic_fetch_add(&child_failures, 1);
            return;
        }
        if (now_ms() > until) {
            fprintf(stderr, "stress: child %d did not exit: killing it\n", (int)pid);
            describe_stuck(pid);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            atomic_fetch_add(&child_failures, 1);
            return;
        }
        struct timespec d = {0, 1000000L};
        nanosleep(&d, NULL);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "stress: child %d: status 0x%x\n", (int)pid, st);
        atomic_fetch_add(&child_failures, 1);
    }
}

static void fork_once(int n)
{
    pid_t pid = fork();
    if (pid == 0)
        child_main(n);
    if (pid < 0) {
        fprintf(stderr, "stress: fork: %s\n", strerror(errno));
        atomic_fetch_add(&fork_failures, 1);
        return;
    }
    atomic_fetch_add(&forks_done, 1);
    reap(pid);
}

static void *forker_main(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < FORKS_PER_FORKER; i++) {
        fork_once(id * FORKS_PER_FORKER + i);
        sched_yield();
    }
    return NULL;
}

/* ---- scale: a thousand threads alive at once ------------------------------------------- */

static atomic_int scale_stop;

struct churner {
    pthread_t thread;
    long iters, writes;
};

static void *churn_main(void *arg)
{
    struct churner *c = arg;
    pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;
    long own = 0;
    while (!atomic_load_explicit(&scale_stop, memory_order_relaxed)) {
        must(pthread_mutex_lock(&shared_m));
        shared_count++;
        must(pthread_mutex_unlock(&shared_m));
        must(pthread_mutex_lock(&mine));
        own++;
        must(pthread_mutex_unlock(&mine));
        if (c->iters % 4 == 0) {
            must(pthread_rwlock_wrlock(&rw));
            rw_count++;
            must(pthread_rwlock_unlock(&rw));
            c->writes++;
        } else {
            must(pthread_rwlock_rdlock(&rw));
            if (rw_count < 0)
                atomic_fetch_add(&call_errors, 1);
            must(pthread_rwlock_unlock(&rw));
        }
        while (sem_wait(&sem) != 0)
            if (errno != EINTR) {
                atomic_fetch_add(&call_errors, 1);
                break;
            }
        if (atomic_fetch_add(&sem_inside, 1) + 1 > SEM_COUNT)
            atomic_fetch_add(&sem_violations, 1);
        atomic_fetch_sub(&sem_inside, 1);
        must(sem_post(&sem));
        c->iters++;
        if (c->iters % 64 == 0)
            sched_yield(); /* a thousand threads on a few CPUs: let the forkers in */
    }
    if (own != c->iters)
        atomic_fetch_add(&call_errors, 1);
    must(pthread_mutex_destroy(&mine));
    return NULL;
}

static void *scale_forker(void *arg)
{
    int id = (int)(long)arg, n = 0;
    while (!atomic_load(&scale_stop))
        fork_once(id * 1000000 + 8 * n++ + 1); /* never a multiple of 8: no exec, only _exit */
    return NULL;
}

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v <= 0 ? def : v;
}

static int run_scale(void)
{
    long nthreads = env_long("FORKSAN_STRESS_THREADS", 1000);
    long seconds = env_long("FORKSAN_STRESS_SECONDS", 3);
    alarm((unsigned)seconds + 120);
    struct churner *c = calloc((size_t)nthreads, sizeof *c);
    if (!c)
        die("calloc", ENOMEM);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 256 * 1024) != 0)
        die("pthread_attr", EINVAL);
    long started = 0;
    int rc;
    for (long i = 0; i < nthreads; i++) {
        rc = pthread_create(&c[i].thread, &attr, churn_main, &c[i]);
        if (rc != 0) {
            fprintf(stderr, "stress: pthread_create: %s\n", strerror(rc));
            break;
        }
        started++;
    }
    pthread_t forkers[FORKERS];
    for (int i = 0; i < FORKERS; i++)
        if ((rc = pthread_create(&forkers[i], NULL, scale_forker, (void *)(long)(i + 1))) != 0)
            die("pthread_create(forker)", rc);
    struct timespec d = {seconds, 0};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
    atomic_store(&scale_stop, 1);
    long iters = 0, writes = 0;
    int join_failures = 0;
    for (int i = 0; i < FORKERS; i++)
        join_failures += pthread_join(forkers[i], NULL) != 0;
    for (long i = 0; i < started; i++) {
        join_failures += pthread_join(c[i].thread, NULL) != 0;
        iters += c[i].iters;
        writes += c[i].writes;
    }
    expect(started == nthreads, "%ld threads alive at once (%ld asked)", started, nthreads);
    expect(join_failures == 0, "every join returned 0 (%d failures)", join_failures);
    expect(atomic_load(&call_errors) == 0, "every lock call returned 0 (%ld errors)",
           atomic_load(&call_errors));
    expect(shared_count == iters, "shared mutex counter %ld == %ld iterations", shared_count,
           iters);
    expect(rw_count == writes, "rwlock write counter %ld == %ld", rw_count, writes);
    expect(atomic_load(&sem_violations) == 0, "semaphore never admitted more than %d", SEM_COUNT);
    int v = -1;
    rc = sem_getvalue(&sem, &v);
    expect(rc == 0 && v == SEM_COUNT, "semaphore back at %d (%d)", SEM_COUNT, v);
    expect(atomic_load(&forks_done) > 0 && atomic_load(&fork_failures) == 0,
           "%d forks made in %ld s with %ld threads (%d failed)", atomic_load(&forks_done), seconds,
           started, atomic_load(&fork_failures));
    expect(atomic_load(&child_failures) == 0, "every child exited 0 (%d did not)",
           atomic_load(&child_failures));
    printf("%d passed, %d failed\n", npassed, nfailed);
    free(c);
    return nfailed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "scale") == 0) {
        if (setvbuf(stdout, NULL, _IOLBF, 0) != 0 || sem_init(&sem, 0, SEM_COUNT) != 0)
            die("setup", errno);
        return run_scale();
    }
    alarm(60);
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        die("setvbuf", errno);
    printf("# stress: LD_PRELOAD=%s\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "(unset)");
    fflush(stdout);
    int rc;
    if ((rc = pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE)) != 0)
        die("pthread_spin_init", rc);
    if (mtx_init(&c11_m, mtx_plain) != thrd_success)
        die("mtx_init", EINVAL);
    if (sem_init(&sem, 0, SEM_COUNT) != 0)
        die("sem_init", errno);

    pthread_t forkers[FORKERS];
    int forkers_started = 0;
    for (int i = 0; i < FORKERS; i++) {
        rc = pthread_create(&forkers[i], NULL, forker_main, (void *)(long)(i + 1));
        if (rc != 0)
            die("pthread_create(forker)", rc);
        forkers_started++;
    }

    static struct worker workers[WAVE];
    static struct pair pairs[WAVE / 2];
    int created = 0, create_failures = 0, join_failures = 0, bad_private = 0, bad_pairs = 0;
    long private_total = 0, turns_total = 0;
    int main_forks = 0;
    for (int wave = 0; created < TOTAL_THREADS; wave++) {
        int n = TOTAL_THREADS - created < WAVE ? TOTAL_THREADS - created : WAVE;
        for (int p = 0; p < n / 2; p++) {
            pairs[p] = (struct pair){.turn = 0, .exchanges = 0};
            if (pthread_mutex_init(&pairs[p].m, NULL) != 0 ||
                pthread_cond_init(&pairs[p].c, NULL) != 0)
                die("pair init", EINVAL);
        }
        for (int i = 0; i < n; i++) {
            workers[i] = (struct worker){.pair = &pairs[i / 2], .parity = i % 2};
            rc = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
            if (rc != 0) {
                fprintf(stderr, "stress: pthread_create: %s\n", strerror(rc));
                create_failures++;
                continue;
            }
            workers[i].started = 1;
        }
        created += n;
        for (int f = 0; f < 2 && main_forks < FORKS_PER_FORKER; f++)
            fork_once(main_forks++);
        for (int i = 0; i < n; i++) {
            if (!workers[i].started)
                continue;
            if (pthread_join(workers[i].thread, NULL) != 0)
                join_failures++;
            private_total += workers[i].private_count;
            turns_total += workers[i].turns;
            if (workers[i].private_count != ITERS || workers[i].turns != ITERS)
                bad_private++;
        }
        for (int p = 0; p < n / 2; p++) {
            if (pairs[p].exchanges != 2 * ITERS)
                bad_pairs++;
            if (pthread_cond_destroy(&pairs[p].c) != 0 || pthread_mutex_destroy(&pairs[p].m) != 0)
                join_failures++;
        }
    }
    while (main_forks < FORKS_PER_FORKER)
        fork_once(main_forks++);
    for (int i = 0; i < forkers_started; i++)
        if (pthread_join(forkers[i], NULL) != 0)
            join_failures++;

    const long total_iters = (long)TOTAL_THREADS * ITERS;
    expect(create_failures == 0, "%d threads created (%d failures)", created, create_failures);
    expect(join_failures == 0, "every join and destroy returned 0 (%d failures)", join_failures);
    expect(atomic_load(&call_errors) == 0, "every lock call returned 0 (%ld errors)",
           atomic_load(&call_errors));
    expect(shared_count == total_iters, "shared mutex counter %ld == %ld", shared_count,
           total_iters);
    expect(private_total == total_iters && bad_private == 0,
           "private mutex counters add up (%ld, %d threads off)", private_total, bad_private);
    expect(rw_count == (long)TOTAL_THREADS * ((ITERS + 3) / 4), "rwlock write counter %ld",
           rw_count);
    expect(spin_count == total_iters, "spin lock counter %ld == %ld", spin_count, total_iters);
    expect(c11_count == total_iters, "C11 mutex counter %ld == %ld", c11_count, total_iters);
    expect(turns_total == total_iters && bad_pairs == 0,
           "condition ping-pong turns add up (%ld, %d pairs off)", turns_total, bad_pairs);
    expect(atomic_load(&sem_violations) == 0, "semaphore never admitted more than %d", SEM_COUNT);
    int v = -1;
    rc = sem_getvalue(&sem, &v);
    expect(rc == 0 && v == SEM_COUNT, "semaphore back at %d (%d)", SEM_COUNT, v);
    expect(atomic_load(&forks_done) == TOTAL_FORKS && atomic_load(&fork_failures) == 0,
           "%d forks made (%d failed)", atomic_load(&forks_done), atomic_load(&fork_failures));
    expect(atomic_load(&child_failures) == 0, "every child exited 0 (%d did not)",
           atomic_load(&child_failures));
    printf("%d passed, %d failed\n", npassed, nfailed);
    return nfailed ? 1 : 0;
}
