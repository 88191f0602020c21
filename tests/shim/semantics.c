/* Self-checking program: the shim must not change what any interposed call returns or does.
 *
 * Every function libforksan.so interposes is called here on its normal and error paths, and each
 * result (return value, errno, ownership afterwards, what a child or an exec'd program sees) is
 * compared with what glibc itself documents.  CTest runs it twice, natively and under the shim,
 * with the same expectations, so any difference is a shim bug.  Output is TAP-like:
 * "ok - ..." / "not ok - ...", then "N passed, N failed"; the exit status is non-zero on any
 * failure.  Forked children never print: they compute an exit status that the parent checks.
 * Timeouts are only used to provoke ETIMEDOUT; no check depends on how long anything took. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SENTINEL_ERRNO 1234
#define TIMEOUT_MS     20
#define NO_SUCH_PATH   "/nonexistent-forksan-dir/no-such-program"
#define NO_SUCH_NAME   "forksan-semantics-no-such-program"

static int npassed, nfailed, nskipped;
static char *const true_argv[] = {"true", NULL};

static const char *errname(long e)
{
    if (e <= 0 || e > 4095)
        return "-";
    const char *s = strerrorname_np((int)e);
    return s ? s : "-";
}

static void vreport(int ok, const char *detail, const char *fmt, va_list ap)
{
    fputs(ok ? "ok - " : "not ok - ", stdout);
    vprintf(fmt, ap);
    if (!ok && detail)
        printf(" (%s)", detail);
    putchar('\n');
    if (ok)
        npassed++;
    else
        nfailed++;
}

static void __attribute__((format(printf, 2, 3))) expect(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(ok, NULL, fmt, ap);
    va_end(ap);
}

/* For values that are error numbers (0, EBUSY, ...) or plain integers. */
static void __attribute__((format(printf, 3, 4)))
expect_eq(long got, long want, const char *fmt, ...)
{
    char detail[128];
    snprintf(detail, sizeof detail, "got %ld %s, want %ld %s", got, errname(got), want,
             errname(want));
    va_list ap;
    va_start(ap, fmt);
    vreport(got == want, detail, fmt, ap);
    va_end(ap);
}

/* For plain numbers: exit codes, counts, values. */
static void __attribute__((format(printf, 3, 4)))
expect_num(long got, long want, const char *fmt, ...)
{
    char detail[96];
    snprintf(detail, sizeof detail, "got %ld, want %ld", got, want);
    va_list ap;
    va_start(ap, fmt);
    vreport(got == want, detail, fmt, ap);
    va_end(ap);
}

/* For calls that return -1 and set errno. */
static void __attribute__((format(printf, 4, 5)))
expect_fail(long r, int err, int want_err, const char *fmt, ...)
{
    char detail[128];
    snprintf(detail, sizeof detail, "got %ld errno %d %s, want -1 errno %d %s", r, err,
             errname(err), want_err, errname(want_err));
    va_list ap;
    va_start(ap, fmt);
    vreport(r == -1 && err == want_err, detail, fmt, ap);
    va_end(ap);
}

static void skip(const char *what, const char *why)
{
    printf("ok - %s # SKIP %s\n", what, why);
    nskipped++;
}

/* The harness itself failing (not the behaviour under test): stop. */
static void __attribute__((noreturn)) die(const char *what, int err)
{
    fflush(stdout);
    fprintf(stderr, "semantics: %s: %s\n", what, strerror(err));
    exit(2);
}

static struct timespec deadline(clockid_t clk, long ms)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        die("clock_gettime", errno);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* ---- running a probe in another thread ------------------------------------------------- */

struct job {
    int (*fn)(void *);
    void *arg;
    int result;
};

static void *job_main(void *p)
{
    struct job *j = p;
    j->result = j->fn(j->arg);
    return NULL;
}

static int in_thread(int (*fn)(void *), void *arg)
{
    struct job j = {fn, arg, -1};
    pthread_t t;
    int r = pthread_create(&t, NULL, job_main, &j);
    if (r != 0)
        die("pthread_create", r);
    r = pthread_join(t, NULL);
    if (r != 0)
        die("pthread_join", r);
    return j.result;
}

/* Probes that leave the lock as they found it. */
static int probe_mutex_trylock(void *m)
{
    int r = pthread_mutex_trylock(m);
    if (r == 0 || r == EOWNERDEAD)
        pthread_mutex_unlock(m);
    return r;
}

static int probe_mutex_timedlock(void *m)
{
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    int r = pthread_mutex_timedlock(m, &ts);
    if (r == 0)
        pthread_mutex_unlock(m);
    return r;
}

static int probe_mutex_clocklock(void *m)
{
    struct timespec ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    int r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
    if (r == 0)
        pthread_mutex_unlock(m);
    return r;
}

static int probe_mutex_unlock(void *m)
{
    return pthread_mutex_unlock(m);
}

static int probe_mutex_lock_and_exit(void *m)
{
    return pthread_mutex_lock(m); /* and the thread ends holding it */
}

static int probe_rw_tryrd(void *l)
{
    int r = pthread_rwlock_tryrdlock(l);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_rw_trywr(void *l)
{
    int r = pthread_rwlock_trywrlock(l);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_rw_timedrd(void *l)
{
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    int r = pthread_rwlock_timedrdlock(l, &ts);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_rw_timedwr(void *l)
{
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    int r = pthread_rwlock_timedwrlock(l, &ts);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_rw_clockrd(void *l)
{
    struct timespec ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    int r = pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &ts);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_rw_clockwr(void *l)
{
    struct timespec ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    int r = pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &ts);
    if (r == 0)
        pthread_rwlock_unlock(l);
    return r;
}

static int probe_mtx_trylock(void *m)
{
    int r = mtx_trylock(m);
    if (r == thrd_success)
        mtx_unlock(m);
    return r;
}

static int probe_mtx_timedlock(void *m)
{
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    int r = mtx_timedlock(m, &ts);
    if (r == thrd_success)
        mtx_unlock(m);
    return r;
}

static int probe_sem_post(void *s)
{
    return sem_post(s);
}

/* ---- mutexes ------------------------------------------------------------------------------ */

static void test_mutex_normal(void)
{
    pthread_mutex_t m;
    expect_eq(pthread_mutex_init(&m, NULL), 0, "pthread_mutex_init");
    errno = SENTINEL_ERRNO;
    int r1 = pthread_mutex_lock(&m);
    int e1 = errno;
    expect_eq(r1, 0, "pthread_mutex_lock");
    expect_eq(e1, SENTINEL_ERRNO, "errno unchanged by a successful pthread_mutex_lock");
    expect_eq(in_thread(probe_mutex_trylock, &m), EBUSY, "pthread_mutex_trylock, held: EBUSY");
    expect_eq(in_thread(probe_mutex_timedlock, &m), ETIMEDOUT,
              "pthread_mutex_timedlock, held: ETIMEDOUT");
    expect_eq(in_thread(probe_mutex_clocklock, &m), ETIMEDOUT,
              "pthread_mutex_clocklock(CLOCK_MONOTONIC), held: ETIMEDOUT");
    expect_eq(pthread_mutex_destroy(&m), EBUSY, "pthread_mutex_destroy, locked: EBUSY");
    errno = SENTINEL_ERRNO;
    int r2 = pthread_mutex_unlock(&m);
    int e2 = errno;
    expect_eq(r2, 0, "pthread_mutex_unlock");
    expect_eq(e2, SENTINEL_ERRNO, "errno unchanged by a successful pthread_mutex_unlock");

    expect_eq(pthread_mutex_trylock(&m), 0, "pthread_mutex_trylock, free");
    expect_eq(pthread_mutex_trylock(&m), EBUSY, "pthread_mutex_trylock by the owner: EBUSY");
    expect_eq(pthread_mutex_unlock(&m), 0, "pthread_mutex_unlock after trylock");

    struct timespec past = {0, 0};
    expect_eq(pthread_mutex_timedlock(&m, &past), 0, "pthread_mutex_timedlock, free, past: 0");
    expect_eq(pthread_mutex_unlock(&m), 0, "unlock after timedlock");
    struct timespec ts = deadline(CLOCK_MONOTONIC, 1000);
    expect_eq(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), 0,
              "pthread_mutex_clocklock, free: 0");
    expect_eq(pthread_mutex_unlock(&m), 0, "unlock after clocklock");

    expect_eq(pthread_mutex_lock(&m), 0, "lock before invalid timedlock");
    struct timespec bad = {time(NULL) + 10, 1000000000L};
    expect_eq(pthread_mutex_timedlock(&m, &bad), EINVAL,
              "pthread_mutex_timedlock, held, tv_nsec out of range: EINVAL");
    struct timespec cts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &cts), EINVAL,
              "pthread_mutex_clocklock with an unsupported clock: EINVAL");
    expect_eq(pthread_mutex_unlock(&m), 0, "unlock after invalid timedlock");
    expect_eq(pthread_mutex_destroy(&m), 0, "pthread_mutex_destroy, free: 0");

    pthread_mutex_t s = PTHREAD_MUTEX_INITIALIZER;
    expect_eq(pthread_mutex_lock(&s), 0, "statically initialised mutex: lock");
    expect_eq(pthread_mutex_unlock(&s), 0, "statically initialised mutex: unlock");
}

static void test_mutex_errorcheck(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) != 0)
        die("mutexattr", EINVAL);
    expect_eq(pthread_mutex_init(&m, &a), 0, "errorcheck: init");
    pthread_mutexattr_destroy(&a);
    expect_eq(pthread_mutex_unlock(&m), EPERM, "errorcheck: unlock when unlocked: EPERM");
    expect_eq(pthread_mutex_lock(&m), 0, "errorcheck: lock");
    expect_eq(pthread_mutex_lock(&m), EDEADLK, "errorcheck: relock by the owner: EDEADLK");
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_mutex_timedlock(&m, &ts), EDEADLK,
              "errorcheck: timedlock by the owner: EDEADLK");
    expect_eq(pthread_mutex_trylock(&m), EBUSY, "errorcheck: trylock by the owner: EBUSY");
    expect_eq(in_thread(probe_mutex_unlock, &m), EPERM, "errorcheck: unlock by a non-owner: EPERM");
    expect_eq(pthread_mutex_unlock(&m), 0, "errorcheck: unlock by the owner");
    expect_eq(pthread_mutex_unlock(&m), EPERM, "errorcheck: second unlock: EPERM");
    expect_eq(pthread_mutex_destroy(&m), 0, "errorcheck: destroy");
}

static void test_mutex_recursive(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE) != 0)
        die("mutexattr", EINVAL);
    expect_eq(pthread_mutex_init(&m, &a), 0, "recursive: init");
    pthread_mutexattr_destroy(&a);
    expect_eq(pthread_mutex_lock(&m), 0, "recursive: lock depth 1");
    expect_eq(pthread_mutex_lock(&m), 0, "recursive: lock depth 2");
    expect_eq(pthread_mutex_trylock(&m), 0, "recursive: trylock depth 3");
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_mutex_timedlock(&m, &ts), 0, "recursive: timedlock depth 4");
    int depth = 4;
    for (int i = 0; i < depth; i++) {
        expect_eq(in_thread(probe_mutex_trylock, &m), EBUSY,
                  "recursive: other thread trylock at depth %d: EBUSY", depth - i);
        expect_eq(pthread_mutex_unlock(&m), 0, "recursive: unlock at depth %d", depth - i);
    }
    expect_eq(pthread_mutex_unlock(&m), EPERM, "recursive: unlock at depth 0: EPERM");
    expect_eq(in_thread(probe_mutex_trylock, &m), 0, "recursive: free after 4 unlocks");
    expect_eq(pthread_mutex_destroy(&m), 0, "recursive: destroy");
}

static void test_mutex_robust(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m, n;
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0)
        die("mutexattr", EINVAL);
    expect_eq(pthread_mutex_init(&m, &a), 0, "robust: init");
    expect_eq(pthread_mutex_init(&n, &a), 0, "robust: init second");
    pthread_mutexattr_destroy(&a);

    expect_eq(in_thread(probe_mutex_lock_and_exit, &m), 0, "robust: owner thread locks, exits");
    expect_eq(pthread_mutex_lock(&m), EOWNERDEAD, "robust: lock after owner died: EOWNERDEAD");
    expect_eq(pthread_mutex_consistent(&m), 0, "robust: pthread_mutex_consistent");
    expect_eq(pthread_mutex_unlock(&m), 0, "robust: unlock after consistent");
    expect_eq(pthread_mutex_lock(&m), 0, "robust: usable again: lock");
    expect_eq(in_thread(probe_mutex_trylock, &m), EBUSY, "robust: held again: other EBUSY");
    expect_eq(pthread_mutex_unlock(&m), 0, "robust: usable again: unlock");

    expect_eq(in_thread(probe_mutex_lock_and_exit, &m), 0, "robust: owner dies again");
    expect_eq(pthread_mutex_trylock(&m), EOWNERDEAD, "robust: trylock after owner died");
    expect_eq(pthread_mutex_consistent(&m), 0, "robust: consistent after trylock");
    expect_eq(pthread_mutex_unlock(&m), 0, "robust: unlock after trylock recovery");
    expect_eq(pthread_mutex_destroy(&m), 0, "robust: destroy");

    /* Not made consistent: the mutex becomes permanently unusable. */
    expect_eq(in_thread(probe_mutex_lock_and_exit, &n), 0, "robust: second mutex owner dies");
    expect_eq(pthread_mutex_lock(&n), EOWNERDEAD, "robust: second: EOWNERDEAD");
    expect_eq(pthread_mutex_unlock(&n), 0, "robust: unlock without consistent");
    expect_eq(pthread_mutex_lock(&n), ENOTRECOVERABLE, "robust: then lock: ENOTRECOVERABLE");
    expect_eq(pthread_mutex_trylock(&n), ENOTRECOVERABLE, "robust: then trylock: ENOTRECOVERABLE");
    expect_eq(pthread_mutex_destroy(&n), 0, "robust: destroy unrecoverable");
}

/* ---- reader-writer locks, spin locks ------------------------------------------------------ */

static void test_rwlock(void)
{
    pthread_rwlock_t l;
    expect_eq(pthread_rwlock_init(&l, NULL), 0, "rwlock: init");
    expect_eq(pthread_rwlock_rdlock(&l), 0, "rwlock: rdlock");
    expect_eq(pthread_rwlock_rdlock(&l), 0, "rwlock: second rdlock by the same thread");
    expect_eq(pthread_rwlock_tryrdlock(&l), 0, "rwlock: tryrdlock while read-held");
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_rwlock_timedrdlock(&l, &ts), 0, "rwlock: timedrdlock while read-held");
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &ts), 0,
              "rwlock: clockrdlock while read-held");
    expect_eq(in_thread(probe_rw_tryrd, &l), 0, "rwlock: other tryrdlock while read-held");
    expect_eq(in_thread(probe_rw_trywr, &l), EBUSY, "rwlock: other trywrlock, read-held: EBUSY");
    expect_eq(in_thread(probe_rw_timedwr, &l), ETIMEDOUT,
              "rwlock: other timedwrlock, read-held: ETIMEDOUT");
    expect_eq(in_thread(probe_rw_clockwr, &l), ETIMEDOUT,
              "rwlock: other clockwrlock, read-held: ETIMEDOUT");
    for (int i = 5; i > 0; i--)
        expect_eq(pthread_rwlock_unlock(&l), 0, "rwlock: read unlock, %d readers left", i - 1);

    errno = SENTINEL_ERRNO;
    int r = pthread_rwlock_wrlock(&l);
    int e = errno;
    expect_eq(r, 0, "rwlock: wrlock");
    expect_eq(e, SENTINEL_ERRNO, "errno unchanged by a successful pthread_rwlock_wrlock");
    expect_eq(pthread_rwlock_wrlock(&l), EDEADLK, "rwlock: wrlock by the writer: EDEADLK");
    expect_eq(pthread_rwlock_rdlock(&l), EDEADLK, "rwlock: rdlock by the writer: EDEADLK");
    expect_eq(pthread_rwlock_trywrlock(&l), EBUSY, "rwlock: trywrlock by the writer: EBUSY");
    expect_eq(in_thread(probe_rw_tryrd, &l), EBUSY, "rwlock: other tryrdlock, write-held: EBUSY");
    expect_eq(in_thread(probe_rw_trywr, &l), EBUSY, "rwlock: other trywrlock, write-held: EBUSY");
    expect_eq(in_thread(probe_rw_timedrd, &l), ETIMEDOUT,
              "rwlock: other timedrdlock, write-held: ETIMEDOUT");
    expect_eq(in_thread(probe_rw_timedwr, &l), ETIMEDOUT,
              "rwlock: other timedwrlock, write-held: ETIMEDOUT");
    expect_eq(in_thread(probe_rw_clockrd, &l), ETIMEDOUT,
              "rwlock: other clockrdlock, write-held: ETIMEDOUT");
    expect_eq(in_thread(probe_rw_clockwr, &l), ETIMEDOUT,
              "rwlock: other clockwrlock, write-held: ETIMEDOUT");
    struct timespec bad = {time(NULL) + 10, -1};
    expect_eq(pthread_rwlock_timedrdlock(&l, &bad), EINVAL,
              "rwlock: timedrdlock, negative tv_nsec: EINVAL");
    expect_eq(pthread_rwlock_timedwrlock(&l, &bad), EINVAL,
              "rwlock: timedwrlock, negative tv_nsec: EINVAL");
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_rwlock_clockwrlock(&l, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL,
              "rwlock: clockwrlock with an unsupported clock: EINVAL");
    expect_eq(pthread_rwlock_unlock(&l), 0, "rwlock: write unlock");
    expect_eq(in_thread(probe_rw_trywr, &l), 0, "rwlock: other trywrlock after unlock: 0");

    ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_rwlock_timedwrlock(&l, &ts), 0, "rwlock: timedwrlock, free");
    expect_eq(pthread_rwlock_unlock(&l), 0, "rwlock: unlock after timedwrlock");
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts), 0, "rwlock: clockwrlock, free");
    expect_eq(pthread_rwlock_unlock(&l), 0, "rwlock: unlock after clockwrlock");
    expect_eq(pthread_rwlock_trywrlock(&l), 0, "rwlock: trywrlock, free");
    expect_eq(pthread_rwlock_unlock(&l), 0, "rwlock: unlock after trywrlock");
    expect_eq(pthread_rwlock_destroy(&l), 0, "rwlock: destroy");
}

static void test_spin(void)
{
    pthread_spinlock_t s;
    expect_eq(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE), 0, "spin: init");
    expect_eq(pthread_spin_lock(&s), 0, "spin: lock");
    expect_eq(pthread_spin_trylock(&s), EBUSY, "spin: trylock, held: EBUSY");
    expect_eq(pthread_spin_unlock(&s), 0, "spin: unlock");
    expect_eq(pthread_spin_trylock(&s), 0, "spin: trylock, free");
    expect_eq(pthread_spin_unlock(&s), 0, "spin: unlock after trylock");
    expect_eq(pthread_spin_destroy(&s), 0, "spin: destroy");
}

/* ---- semaphores --------------------------------------------------------------------------- */

static void test_sem(void)
{
    sem_t s;
    int v = -1;
    expect_eq(sem_init(&s, 0, 1), 0, "sem_init(1)");
    expect_eq(sem_getvalue(&s, &v), 0, "sem_getvalue");
    expect_num(v, 1, "sem_getvalue after init is 1");
    errno = SENTINEL_ERRNO;
    int r = sem_trywait(&s);
    int e = errno;
    expect_eq(r, 0, "sem_trywait, value 1");
    expect_eq(e, SENTINEL_ERRNO, "errno unchanged by a successful sem_trywait");
    errno = 0;
    r = sem_trywait(&s);
    expect_fail(r, errno, EAGAIN, "sem_trywait, value 0: -1 EAGAIN");
    errno = 0;
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    r = sem_timedwait(&s, &ts);
    expect_fail(r, errno, ETIMEDOUT, "sem_timedwait, value 0: -1 ETIMEDOUT");
    errno = 0;
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    r = sem_clockwait(&s, CLOCK_MONOTONIC, &ts);
    expect_fail(r, errno, ETIMEDOUT, "sem_clockwait(CLOCK_MONOTONIC), value 0: -1 ETIMEDOUT");
    errno = 0;
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    r = sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &ts);
    expect_fail(r, errno, EINVAL, "sem_clockwait with an unsupported clock: -1 EINVAL");
    errno = 0;
    struct timespec bad = {time(NULL) + 10, 1000000000L};
    r = sem_timedwait(&s, &bad);
    expect_fail(r, errno, EINVAL, "sem_timedwait, tv_nsec out of range: -1 EINVAL");

    errno = SENTINEL_ERRNO;
    r = sem_post(&s);
    e = errno;
    expect_eq(r, 0, "sem_post");
    expect_eq(e, SENTINEL_ERRNO, "errno unchanged by a successful sem_post");
    expect_eq(sem_getvalue(&s, &v), 0, "sem_getvalue after post");
    expect_num(v, 1, "sem value after post is 1");
    errno = SENTINEL_ERRNO;
    r = sem_wait(&s);
    e = errno;
    expect_eq(r, 0, "sem_wait, value 1");
    expect_eq(e, SENTINEL_ERRNO, "errno unchanged by a successful sem_wait");
    expect_eq(in_thread(probe_sem_post, &s), 0, "sem_post from another thread");
    ts = deadline(CLOCK_REALTIME, 1000);
    expect_eq(sem_timedwait(&s, &ts), 0, "sem_timedwait after a post: 0");
    expect_eq(sem_post(&s), 0, "sem_post before clockwait");
    ts = deadline(CLOCK_MONOTONIC, 1000);
    expect_eq(sem_clockwait(&s, CLOCK_MONOTONIC, &ts), 0, "sem_clockwait after a post: 0");
    expect_eq(sem_getvalue(&s, &v), 0, "sem_getvalue at the end");
    expect_num(v, 0, "sem value at the end is 0");
    expect_eq(sem_destroy(&s), 0, "sem_destroy");

    sem_t big;
    errno = 0;
    r = sem_init(&big, 0, (unsigned)SEM_VALUE_MAX + 1u);
    expect_fail(r, errno, EINVAL, "sem_init above SEM_VALUE_MAX: -1 EINVAL");
    expect_eq(sem_init(&big, 0, SEM_VALUE_MAX), 0, "sem_init(SEM_VALUE_MAX)");
    errno = 0;
    r = sem_post(&big);
    expect_fail(r, errno, EOVERFLOW, "sem_post at SEM_VALUE_MAX: -1 EOVERFLOW");
    expect_eq(sem_destroy(&big), 0, "sem_destroy(SEM_VALUE_MAX)");
}

/* ---- condition variables ------------------------------------------------------------------ */

struct cond_state {
    pthread_mutex_t m; /* error-checking: a relock by the owner says EDEADLK */
    pthread_cond_t c;
    int generation;
    int waiting;
    int woken;
    int wait_rc[8];
    int relock_rc[8];
};

struct waiter {
    struct cond_state *st;
    int idx;
    int use_clock; /* 0 pthread_cond_wait, 1 timedwait, 2 clockwait (long deadlines) */
};

static void *cond_waiter(void *p)
{
    struct waiter *w = p;
    struct cond_state *st = w->st;
    if (pthread_mutex_lock(&st->m) != 0)
        return (void *)1;
    int gen = st->generation;
    st->waiting++;
    int rc = 0;
    /* A broadcast that woke only some waiters would leave the rest here: the alarm ends it. */
    while (st->generation == gen && rc == 0) {
        if (w->use_clock == 0) {
            rc = pthread_cond_wait(&st->c, &st->m);
        } else if (w->use_clock == 1) {
            struct timespec ts = deadline(CLOCK_REALTIME, 30000);
            rc = pthread_cond_timedwait(&st->c, &st->m, &ts);
        } else {
            struct timespec ts = deadline(CLOCK_MONOTONIC, 30000);
            rc = pthread_cond_clockwait(&st->c, &st->m, CLOCK_MONOTONIC, &ts);
        }
    }
    st->wait_rc[w->idx] = rc;
    st->relock_rc[w->idx] = pthread_mutex_lock(&st->m); /* EDEADLK: we own it */
    st->woken++;
    pthread_mutex_unlock(&st->m);
    return NULL;
}

static void cond_state_init(struct cond_state *st)
{
    pthread_mutexattr_t a;
    memset(st, 0, sizeof *st);
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) != 0 ||
        pthread_mutex_init(&st->m, &a) != 0 || pthread_cond_init(&st->c, NULL) != 0)
        die("cond state init", EINVAL);
    pthread_mutexattr_destroy(&a);
}

static void wait_for_waiters(struct cond_state *st, int n)
{
    for (;;) {
        if (pthread_mutex_lock(&st->m) != 0)
            die("lock", EINVAL);
        int w = st->waiting;
        pthread_mutex_unlock(&st->m);
        if (w >= n)
            return;
        sched_yield();
    }
}

/* Wakes n waiters with one signal each (broadcast == 0) or one broadcast. */
static void run_wakeup(int n, int broadcast, int use_clock, const char *what)
{
    struct cond_state st;
    struct waiter w[8];
    pthread_t t[8];
    cond_state_init(&st);
    for (int i = 0; i < n; i++) {
        w[i] = (struct waiter){&st, i, use_clock};
        if (pthread_create(&t[i], NULL, cond_waiter, &w[i]) != 0)
            die("pthread_create", EAGAIN);
    }
    wait_for_waiters(&st, n);
    /* Every waiter is inside the wait (it released the mutex we now hold). */
    pthread_mutex_lock(&st.m);
    st.generation++;
    if (broadcast) {
        expect_eq(pthread_cond_broadcast(&st.c), 0, "%s: pthread_cond_broadcast", what);
    } else {
        for (int i = 0; i < n; i++)
            if (pthread_cond_signal(&st.c) != 0)
                expect(0, "%s: pthread_cond_signal", what);
    }
    pthread_mutex_unlock(&st.m);
    for (int i = 0; i < n; i++)
        if (pthread_join(t[i], NULL) != 0)
            die("pthread_join", EINVAL);
    expect_num(st.woken, n, "%s: every waiter woke", what);
    for (int i = 0; i < n; i++) {
        expect_eq(st.wait_rc[i], 0, "%s: waiter %d wait returned 0", what, i);
        expect_eq(st.relock_rc[i], EDEADLK, "%s: waiter %d held the mutex after the wait", what, i);
    }
    pthread_cond_destroy(&st.c);
    pthread_mutex_destroy(&st.m);
}

static void test_cond(void)
{
    struct cond_state st;
    cond_state_init(&st);

    expect_eq(pthread_mutex_lock(&st.m), 0, "cond: lock");
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_cond_timedwait(&st.c, &st.m, &ts), ETIMEDOUT,
              "pthread_cond_timedwait: ETIMEDOUT");
    expect_eq(in_thread(probe_mutex_trylock, &st.m), EBUSY,
              "pthread_cond_timedwait: mutex held after timeout (other trylock EBUSY)");
    expect_eq(pthread_mutex_lock(&st.m), EDEADLK,
              "pthread_cond_timedwait: the caller owns the mutex after timeout");
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_cond_clockwait(&st.c, &st.m, CLOCK_MONOTONIC, &ts), ETIMEDOUT,
              "pthread_cond_clockwait(CLOCK_MONOTONIC): ETIMEDOUT");
    expect_eq(in_thread(probe_mutex_trylock, &st.m), EBUSY,
              "pthread_cond_clockwait: mutex held after timeout (other trylock EBUSY)");
    ts = deadline(CLOCK_MONOTONIC, TIMEOUT_MS);
    expect_eq(pthread_cond_clockwait(&st.c, &st.m, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL,
              "pthread_cond_clockwait with an unsupported clock: EINVAL");
    expect_eq(pthread_mutex_unlock(&st.m), 0, "cond: unlock");
    ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(pthread_cond_timedwait(&st.c, &st.m, &ts), EPERM,
              "pthread_cond_timedwait on an unowned errorcheck mutex: EPERM");
    expect_eq(pthread_cond_wait(&st.c, &st.m), EPERM,
              "pthread_cond_wait on an unowned errorcheck mutex: EPERM");
    expect_eq(in_thread(probe_mutex_trylock, &st.m), 0, "cond: mutex free after EPERM waits");
    pthread_cond_destroy(&st.c);
    pthread_mutex_destroy(&st.m);

    run_wakeup(1, 0, 0, "pthread_cond_signal wakes pthread_cond_wait");
    run_wakeup(4, 1, 0, "pthread_cond_broadcast wakes 4 pthread_cond_wait");
    run_wakeup(3, 0, 1, "pthread_cond_signal x3 wakes 3 pthread_cond_timedwait");
    run_wakeup(4, 1, 2, "pthread_cond_broadcast wakes 4 pthread_cond_clockwait");
}

/* ---- C11 threads -------------------------------------------------------------------------- */

struct c11_cond {
    mtx_t m;
    cnd_t c;
    int flag;
    int wait_rc;
};

static int c11_waiter(void *p)
{
    struct c11_cond *s = p;
    if (mtx_lock(&s->m) != thrd_success)
        return 100;
    s->wait_rc = thrd_success;
    while (!s->flag && s->wait_rc == thrd_success)
        s->wait_rc = cnd_wait(&s->c, &s->m);
    mtx_unlock(&s->m);
    return 7;
}

static int c11_result(void *p)
{
    return (int)(intptr_t)p + 1;
}

static int c11_exits(void *p)
{
    thrd_exit((int)(intptr_t)p);
}

static void test_c11(void)
{
    mtx_t m;
    expect_eq(mtx_init(&m, mtx_timed), thrd_success, "mtx_init(mtx_timed)");
    expect_eq(mtx_lock(&m), thrd_success, "mtx_lock");
    expect_eq(in_thread(probe_mtx_trylock, &m), thrd_busy, "mtx_trylock, held: thrd_busy");
    expect_eq(in_thread(probe_mtx_timedlock, &m), thrd_timedout,
              "mtx_timedlock, held: thrd_timedout");
    expect_eq(mtx_unlock(&m), thrd_success, "mtx_unlock");
    expect_eq(mtx_trylock(&m), thrd_success, "mtx_trylock, free");
    expect_eq(mtx_unlock(&m), thrd_success, "mtx_unlock after trylock");
    struct timespec ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(mtx_timedlock(&m, &ts), thrd_success, "mtx_timedlock, free");

    cnd_t c;
    expect_eq(cnd_init(&c), thrd_success, "cnd_init");
    ts = deadline(CLOCK_REALTIME, TIMEOUT_MS);
    expect_eq(cnd_timedwait(&c, &m, &ts), thrd_timedout, "cnd_timedwait: thrd_timedout");
    expect_eq(in_thread(probe_mtx_trylock, &m), thrd_busy,
              "cnd_timedwait: mutex held after timeout (other mtx_trylock busy)");
    expect_eq(mtx_unlock(&m), thrd_success, "mtx_unlock after cnd_timedwait");
    cnd_destroy(&c);
    mtx_destroy(&m);

    mtx_t r;
    expect_eq(mtx_init(&r, mtx_plain | mtx_recursive), thrd_success, "mtx_init(recursive)");
    expect_eq(mtx_lock(&r), thrd_success, "recursive mtx_lock depth 1");
    expect_eq(mtx_lock(&r), thrd_success, "recursive mtx_lock depth 2");
    expect_eq(mtx_trylock(&r), thrd_success, "recursive mtx_trylock depth 3");
    for (int i = 3; i > 0; i--) {
        expect_eq(in_thread(probe_mtx_trylock, &r), thrd_busy,
                  "recursive mtx: other trylock at depth %d busy", i);
        expect_eq(mtx_unlock(&r), thrd_success, "recursive mtx_unlock at depth %d", i);
    }
    expect_eq(in_thread(probe_mtx_trylock, &r), thrd_success, "recursive mtx free after unlocks");
    mtx_destroy(&r);

    struct c11_cond s = {.flag = 0};
    expect_eq(mtx_init(&s.m, mtx_plain), thrd_success, "mtx_init for cnd_wait");
    expect_eq(cnd_init(&s.c), thrd_success, "cnd_init for cnd_wait");
    thrd_t t;
    expect_eq(thrd_create(&t, c11_waiter, &s), thrd_success, "thrd_create (cnd_wait waiter)");
    if (mtx_lock(&s.m) != thrd_success)
        die("mtx_lock", EINVAL);
    s.flag = 1;
    expect_eq(cnd_signal(&s.c), thrd_success, "cnd_signal");
    mtx_unlock(&s.m);
    int res = -1;
    expect_eq(thrd_join(t, &res), thrd_success, "thrd_join (cnd_wait waiter)");
    expect_num(res, 7, "thrd_join result of the waiter");
    expect_eq(s.wait_rc, thrd_success, "cnd_wait returned thrd_success");
    cnd_destroy(&s.c);
    mtx_destroy(&s.m);

    res = -1;
    expect_eq(thrd_create(&t, c11_result, (void *)(intptr_t)41), thrd_success, "thrd_create");
    expect_eq(thrd_join(t, &res), thrd_success, "thrd_join");
    expect_num(res, 42, "thrd_join result value");
    res = -1;
    expect_eq(thrd_create(&t, c11_exits, (void *)(intptr_t)17), thrd_success,
              "thrd_create (thread calls thrd_exit)");
    expect_eq(thrd_join(t, &res), thrd_success, "thrd_join after thrd_exit");
    expect_num(res, 17, "thrd_exit value reaches thrd_join");
    expect_eq(thrd_create(&t, c11_result, NULL), thrd_success, "thrd_create (to detach)");
    expect_eq(thrd_detach(t), thrd_success, "thrd_detach");
}

/* ---- pthread_create, names ---------------------------------------------------------------- */

static void *add_one(void *p)
{
    return (void *)((intptr_t)p + 1);
}

static void *exits_early(void *p)
{
    pthread_exit((void *)((intptr_t)p * 2));
}

struct cancel_state {
    pthread_mutex_t m;
    pthread_cond_t c;
    sem_t s;
    int in_wait;
    int cleanup_ran;
    int cleanup_unlock_rc;
};

static void cancel_cleanup(void *p)
{
    struct cancel_state *cs = p;
    cs->cleanup_ran++;
    /* glibc re-acquires the mutex before running cleanup handlers of a cancelled wait. */
    cs->cleanup_unlock_rc = pthread_mutex_unlock(&cs->m);
}

static void *cancelled_in_cond_wait(void *p)
{
    struct cancel_state *cs = p;
    if (pthread_mutex_lock(&cs->m) != 0)
        return NULL;
    cs->in_wait = 1;
    pthread_cleanup_push(cancel_cleanup, cs);
    for (;;)
        pthread_cond_wait(&cs->c, &cs->m);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *cancelled_in_sem_wait(void *p)
{
    struct cancel_state *cs = p;
    for (;;)
        sem_wait(&cs->s);
    return NULL;
}

static void test_cancel(void)
{
    struct cancel_state cs = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    pthread_t t;
    void *ret = NULL;
    expect_eq(pthread_create(&t, NULL, cancelled_in_cond_wait, &cs), 0,
              "pthread_create (to be cancelled in pthread_cond_wait)");
    for (;;) {
        pthread_mutex_lock(&cs.m);
        int in = cs.in_wait;
        pthread_mutex_unlock(&cs.m);
        if (in)
            break;
        sched_yield();
    }
    expect_eq(pthread_cancel(t), 0, "pthread_cancel a thread in pthread_cond_wait");
    expect_eq(pthread_join(t, &ret), 0, "join the cancelled thread");
    expect(ret == PTHREAD_CANCELED, "cancelled in pthread_cond_wait: PTHREAD_CANCELED");
    expect_num(cs.cleanup_ran, 1, "cleanup handler ran once");
    expect_eq(cs.cleanup_unlock_rc, 0, "mutex re-held in the cleanup handler (unlock 0)");
    expect_eq(pthread_mutex_trylock(&cs.m), 0, "mutex free after the cancelled wait");
    pthread_mutex_unlock(&cs.m);

    if (sem_init(&cs.s, 0, 0) != 0)
        die("sem_init", errno);
    expect_eq(pthread_create(&t, NULL, cancelled_in_sem_wait, &cs), 0,
              "pthread_create (to be cancelled in sem_wait)");
    expect_eq(pthread_cancel(t), 0, "pthread_cancel a thread in sem_wait");
    expect_eq(pthread_join(t, &ret), 0, "join the thread cancelled in sem_wait");
    expect(ret == PTHREAD_CANCELED, "cancelled in sem_wait: PTHREAD_CANCELED");
    int v = -1;
    expect(sem_getvalue(&cs.s, &v) == 0 && v == 0, "semaphore untouched by the cancellation");
    sem_destroy(&cs.s);

    expect_eq(pthread_create(&t, NULL, exits_early, (void *)(intptr_t)21), 0,
              "pthread_create (thread calls pthread_exit)");
    expect_eq(pthread_join(t, &ret), 0, "join after pthread_exit");
    expect_num((intptr_t)ret, 42, "pthread_exit value reaches pthread_join");
}

static void *name_sleeper(void *p)
{
    sem_t *s = p;
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
    return NULL;
}

static void test_threads(void)
{
    pthread_t t;
    void *ret = NULL;
    expect_eq(pthread_create(&t, NULL, add_one, (void *)(intptr_t)99), 0, "pthread_create");
    expect_eq(pthread_join(t, &ret), 0, "pthread_join");
    expect_num((intptr_t)ret, 100, "pthread_join result value");

    /* More threads than the shim's registry has slots, one after the other. */
    long sum = 0, bad = 0;
    for (int i = 0; i < 4500; i++) {
        if (pthread_create(&t, NULL, add_one, (void *)(intptr_t)i) != 0 ||
            pthread_join(t, &ret) != 0) {
            bad++;
            continue;
        }
        sum += (intptr_t)ret;
    }
    expect_num(bad, 0, "4500 sequential pthread_create/join all return 0");
    expect_num(sum, 4500L * 4501L / 2, "4500 sequential threads: results add up");

    pthread_attr_t a;
    if (pthread_attr_init(&a) != 0)
        die("pthread_attr_init", EINVAL);
    expect_eq(pthread_attr_setstacksize(&a, (size_t)1 << 46), 0, "setstacksize(64 TiB)");
    expect_eq(pthread_create(&t, &a, add_one, NULL), EAGAIN,
              "pthread_create with an impossible stack: EAGAIN");
    expect_eq(pthread_attr_setstacksize(&a, 1 << 20), 0, "setstacksize(1 MiB)");
    expect_eq(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0, "setdetachstate");
    expect_eq(pthread_create(&t, &a, add_one, NULL), 0, "pthread_create detached");
    pthread_attr_destroy(&a);
    expect_eq(pthread_create(&t, NULL, add_one, (void *)(intptr_t)1), 0,
              "pthread_create after a failed one");
    expect_eq(pthread_join(t, &ret), 0, "pthread_join after a failed one");
    expect_num((intptr_t)ret, 2, "result after a failed create");

    char name[32];
    expect_eq(pthread_setname_np(pthread_self(), "fs-semantics"), 0, "pthread_setname_np(self)");
    expect_eq(pthread_getname_np(pthread_self(), name, sizeof name), 0, "pthread_getname_np");
    expect(strcmp(name, "fs-semantics") == 0, "thread name read back: '%s'", name);
    expect_eq(pthread_setname_np(pthread_self(), "a-name-longer-than-15"), ERANGE,
              "pthread_setname_np, too long: ERANGE");
    expect_eq(pthread_getname_np(pthread_self(), name, sizeof name), 0, "getname after ERANGE");
    expect(strcmp(name, "fs-semantics") == 0, "name unchanged after ERANGE: '%s'", name);
    expect_eq(pthread_getname_np(pthread_self(), name, 4), ERANGE,
              "pthread_getname_np, small buffer: ERANGE");

    sem_t s;
    if (sem_init(&s, 0, 0) != 0)
        die("sem_init", errno);
    expect_eq(pthread_create(&t, NULL, name_sleeper, &s), 0, "pthread_create (to be named)");
    expect_eq(pthread_setname_np(t, "fs-other"), 0, "pthread_setname_np(other thread)");
    expect_eq(pthread_getname_np(t, name, sizeof name), 0, "pthread_getname_np(other)");
    expect(strcmp(name, "fs-other") == 0, "other thread's name read back: '%s'", name);
    sem_post(&s);
    expect_eq(pthread_join(t, NULL), 0, "join named thread");
    sem_destroy(&s);
}

/* ---- fork and _Fork ----------------------------------------------------------------------- */

static int wait_status(pid_t pid, int *status)
{
    pid_t r;
    do
        r = waitpid(pid, status, 0);
    while (r < 0 && errno == EINTR);
    return r;
}

/* The exit code of pid, or 1000 + signal number, or -1 when it could not be waited for. */
static int child_exit(pid_t pid)
{
    int st;
    if (pid <= 0 || wait_status(pid, &st) != pid)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : -1;
}

static volatile int atfork_prepare_n, atfork_parent_n, atfork_child_n;

static void user_prepare(void)
{
    atfork_prepare_n++;
}

static void user_parent(void)
{
    atfork_parent_n++;
}

static void user_child(void)
{
    atfork_child_n++;
}

struct holder {
    pthread_mutex_t m;
    sem_t held, release;
};

static void *hold_mutex(void *p)
{
    struct holder *h = p;
    if (pthread_mutex_lock(&h->m) != 0)
        return (void *)1;
    sem_post(&h->held);
    while (sem_wait(&h->release) != 0)
        ;
    pthread_mutex_unlock(&h->m);
    return NULL;
}

static void test_fork(void)
{
    if (pthread_atfork(user_prepare, user_parent, user_child) != 0)
        die("pthread_atfork", EINVAL);
    fflush(stdout);
    int p0 = atfork_prepare_n, q0 = atfork_parent_n, c0 = atfork_child_n;
    errno = 4321;
    pid_t pid = fork();
    int err = errno;
    if (pid == 0) {
        int code = 0;
        if (err != 4321)
            code |= 1;
        if (atfork_child_n != c0 + 1 || atfork_prepare_n != p0 + 1 || atfork_parent_n != q0)
            code |= 2;
        if (getppid() <= 1)
            code |= 4;
        _exit(code);
    }
    expect(pid > 0, "fork returns the child's pid in the parent (%d)", (int)pid);
    expect_eq(err, 4321, "errno unchanged by fork in the parent");
    expect_num(atfork_prepare_n - p0, 1, "fork ran the user's prepare handler once");
    expect_num(atfork_parent_n - q0, 1, "fork ran the user's parent handler once");
    expect_num(atfork_child_n - c0, 0, "fork did not run the child handler in the parent");
    int code = child_exit(pid);
    expect_num(code & 1, 0, "errno unchanged by fork in the child (child code %d)", code);
    expect_num(code, 0, "fork child: 0 returned, child handler ran once, exit 0");

    fflush(stdout);
    p0 = atfork_prepare_n, q0 = atfork_parent_n, c0 = atfork_child_n;
    errno = 4322;
    pid = _Fork();
    err = errno;
    if (pid == 0) {
        int c = 0;
        if (err != 4322)
            c |= 1;
        if (atfork_child_n != c0 || atfork_prepare_n != p0 || atfork_parent_n != q0)
            c |= 2;
        _exit(c);
    }
    expect(pid > 0, "_Fork returns the child's pid in the parent (%d)", (int)pid);
    expect_eq(err, 4322, "errno unchanged by _Fork in the parent");
    expect(atfork_prepare_n == p0 && atfork_parent_n == q0 && atfork_child_n == c0,
           "_Fork ran no user atfork handler in the parent");
    code = child_exit(pid);
    expect_num(code & 1, 0, "errno unchanged by _Fork in the child (child code %d)", code);
    expect_num(code, 0, "_Fork child: no user atfork handler ran, exit 0");

    /* Fork while another thread holds a mutex: the child inherits it locked. */
    struct holder h = {.m = PTHREAD_MUTEX_INITIALIZER};
    pthread_mutex_t free_m = PTHREAD_MUTEX_INITIALIZER;
    pthread_t t;
    if (sem_init(&h.held, 0, 0) != 0 || sem_init(&h.release, 0, 0) != 0)
        die("sem_init", errno);
    if (pthread_create(&t, NULL, hold_mutex, &h) != 0)
        die("pthread_create", EAGAIN);
    while (sem_wait(&h.held) != 0)
        ;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int c = 0;
        if (pthread_mutex_trylock(&h.m) != EBUSY)
            c |= 1;
        if (pthread_mutex_lock(&free_m) != 0 || pthread_mutex_unlock(&free_m) != 0)
            c |= 2;
        pthread_t ct;
        void *ret = NULL;
        if (pthread_create(&ct, NULL, add_one, (void *)(intptr_t)5) != 0 ||
            pthread_join(ct, &ret) != 0 || (intptr_t)ret != 6)
            c |= 4;
        _exit(c);
    }
    expect(pid > 0, "fork with a second thread holding a mutex");
    code = child_exit(pid);
    expect_num(code & 1, 0, "child of a multi-threaded parent: inherited mutex trylock EBUSY");
    expect_num(code & 2, 0, "child of a multi-threaded parent: free mutex lock/unlock 0");
    expect_num(code & 4, 0, "child of a multi-threaded parent: pthread_create/join work");
    expect_num(code, 0, "child of a multi-threaded parent exits 0");
    sem_post(&h.release);
    expect_eq(pthread_join(t, NULL), 0, "join the holder");
    expect_eq(pthread_mutex_trylock(&h.m), 0, "parent: mutex free after the holder released it");
    pthread_mutex_unlock(&h.m);
    sem_destroy(&h.held);
    sem_destroy(&h.release);

    /* Nested: a child forks a grandchild. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0)
            _exit(9);
        int gs;
        if (g < 0 || wait_status(g, &gs) != g || !WIFEXITED(gs))
            _exit(1);
        _exit(WEXITSTATUS(gs) == 9 ? 0 : 2);
    }
    expect_num(child_exit(pid), 0, "fork in a forked child: grandchild exit status seen");

    if (geteuid() == 0)
        skip("fork failing with EAGAIN under RLIMIT_NPROC", "running as root");
}

/* Locks in shared memory, used by two processes. */
struct shared_sync {
    pthread_mutex_t m; /* robust, process-shared */
    sem_t s;           /* process-shared */
};

static void test_process_shared(void)
{
    struct shared_sync *sh =
        mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap", errno);
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0)
        die("mutexattr", EINVAL);
    expect_eq(pthread_mutex_init(&sh->m, &a), 0, "process-shared robust mutex: init");
    pthread_mutexattr_destroy(&a);
    expect_eq(sem_init(&sh->s, 1, 0), 0, "process-shared semaphore: init");

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Dies holding the mutex, after telling the parent through the semaphore. */
        if (pthread_mutex_lock(&sh->m) != 0)
            _exit(1);
        _exit(sem_post(&sh->s) == 0 ? 0 : 2);
    }
    int r;
    while ((r = sem_wait(&sh->s)) != 0 && errno == EINTR)
        ;
    expect_eq(r, 0, "sem_wait on a semaphore posted by a child process");
    expect_num(child_exit(pid), 0, "child locked the shared mutex and exited");
    expect_eq(pthread_mutex_lock(&sh->m), EOWNERDEAD,
              "process-shared robust mutex, owner process died: EOWNERDEAD");
    expect_eq(pthread_mutex_consistent(&sh->m), 0, "pthread_mutex_consistent (owner process)");
    expect_eq(pthread_mutex_unlock(&sh->m), 0, "unlock the recovered shared mutex");
    expect_eq(pthread_mutex_destroy(&sh->m), 0, "destroy the shared mutex");
    expect_eq(sem_destroy(&sh->s), 0, "destroy the shared semaphore");
    munmap(sh, sizeof *sh);
}

static volatile sig_atomic_t handler_child_status = -1;

/* fork and waitpid are async-signal-safe: a handler may fork. */
static void forking_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    int st;
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
        handler_child_status = WEXITSTATUS(st);
    errno = saved;
}

static void test_fork_in_handler(void)
{
    struct sigaction sa = {.sa_handler = forking_handler};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction", errno);
    fflush(stdout);
    expect_eq(raise(SIGUSR1), 0, "raise(SIGUSR1) whose handler forks");
    expect_num(handler_child_status, 3, "fork in a signal handler: child exit status 3");
    signal(SIGUSR1, SIG_DFL);
}

static void test_vfork(void)
{
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        execve("/bin/true", true_argv, environ);
        _exit(127);
    }
    expect(pid > 0, "vfork returns the child's pid");
    expect_num(child_exit(pid), 0, "vfork + execve /bin/true: exit 0");
    pid = vfork();
    if (pid == 0) {
        execv(NO_SUCH_PATH, true_argv);
        _exit(errno == ENOENT ? 7 : 8);
    }
    expect_num(child_exit(pid), 7, "vfork + failing execv: ENOENT seen in the child, _exit(7)");
}

/* ---- exec --------------------------------------------------------------------------------- */

static void test_exec_failures(void)
{
    char *const argv[] = {"x", NULL};
    int r;

    errno = 0;
    r = execve(NO_SUCH_PATH, argv, environ);
    expect_fail(r, errno, ENOENT, "execve, missing file: -1 ENOENT");
    errno = 0;
    r = execv(NO_SUCH_PATH, argv);
    expect_fail(r, errno, ENOENT, "execv, missing file: -1 ENOENT");
    errno = 0;
    r = execvp(NO_SUCH_NAME, argv);
    expect_fail(r, errno, ENOENT, "execvp, not on PATH: -1 ENOENT");
    errno = 0;
    r = execvp(NO_SUCH_PATH, argv);
    expect_fail(r, errno, ENOENT, "execvp, missing path with a slash: -1 ENOENT");
    errno = 0;
    r = execvpe(NO_SUCH_NAME, argv, environ);
    expect_fail(r, errno, ENOENT, "execvpe, not on PATH: -1 ENOENT");
    errno = 0;
    r = execl(NO_SUCH_PATH, "x", "a", (char *)NULL);
    expect_fail(r, errno, ENOENT, "execl, missing file: -1 ENOENT");
    errno = 0;
    r = execle(NO_SUCH_PATH, "x", "a", (char *)NULL, environ);
    expect_fail(r, errno, ENOENT, "execle, missing file: -1 ENOENT");
    errno = 0;
    r = execlp(NO_SUCH_NAME, "x", (char *)NULL);
    expect_fail(r, errno, ENOENT, "execlp, not on PATH: -1 ENOENT");
    errno = 0;
    r = execve("/", argv, environ);
    expect_fail(r, errno, EACCES, "execve of a directory: -1 EACCES");
    errno = 0;
    r = execv("/etc/passwd", argv);
    expect_fail(r, errno, EACCES, "execv of a non-executable file: -1 EACCES");
    char script[] = "/tmp/forksan-semantics-XXXXXX";
    int fd = mkstemp(script);
    if (fd < 0)
        die("mkstemp", errno);
    static const char body[] = "exit 6\n"; /* no #! line */
    if (write(fd, body, sizeof body - 1) != (ssize_t)(sizeof body - 1) || fchmod(fd, 0700) != 0)
        die("write script", errno);
    close(fd);
    errno = 0;
    r = execv(script, argv);
    expect_fail(r, errno, ENOEXEC, "execv of a script without #!: -1 ENOEXEC");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(script, argv);
        _exit(127);
    }
    expect_num(child_exit(pid), 6, "execvp of a script without #! runs it with /bin/sh");
    unlink(script);

    errno = 0;
    r = fexecve(-1, argv, environ);
    expect_fail(r, errno, EINVAL, "fexecve(-1): -1 EINVAL");
    errno = 0;
    r = execveat(AT_FDCWD, NO_SUCH_PATH, argv, environ, 0);
    expect_fail(r, errno, ENOENT, "execveat, missing file: -1 ENOENT");
    errno = 0;
    r = execveat(-1, "relative-name", argv, environ, 0);
    expect_fail(r, errno, EBADF, "execveat, bad dirfd: -1 EBADF");
}

enum exec_kind {
    EX_EXECVE,
    EX_EXECV,
    EX_EXECVP,
    EX_EXECVPE,
    EX_EXECL,
    EX_EXECLE,
    EX_EXECLP,
    EX_FEXECVE,
    EX_EXECVEAT,
};

static const char *const exec_names[] = {"execve", "execv",  "execvp",  "execvpe", "execl",
                                         "execle", "execlp", "fexecve", "execveat"};

/* In a child: run /bin/true through the given variant.  Never returns. */
static void exec_true(enum exec_kind k)
{
    int fd;
    switch (k) {
    case EX_EXECVE:
        execve("/bin/true", true_argv, environ);
        break;
    case EX_EXECV:
        execv("/bin/true", true_argv);
        break;
    case EX_EXECVP:
        execvp("true", true_argv);
        break;
    case EX_EXECVPE:
        execvpe("true", true_argv, environ);
        break;
    case EX_EXECL:
        execl("/bin/true", "true", (char *)NULL);
        break;
    case EX_EXECLE:
        execle("/bin/true", "true", (char *)NULL, environ);
        break;
    case EX_EXECLP:
        execlp("true", "true", (char *)NULL);
        break;
    case EX_FEXECVE:
        fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            fexecve(fd, true_argv, environ);
        break;
    case EX_EXECVEAT:
        execveat(AT_FDCWD, "/bin/true", true_argv, environ, 0);
        break;
    }
    _exit(127);
}

/* In a child: run `sh -c 'exit $#' zero a b c` (exit 3) through the given variant. */
static void exec_argcount(enum exec_kind k)
{
    char *const argv[] = {"sh", "-c", "exit $#", "zero", "a", "b", "c", NULL};
    switch (k) {
    case EX_EXECL:
        execl("/bin/sh", "sh", "-c", "exit $#", "zero", "a", "b", "c", (char *)NULL);
        break;
    case EX_EXECLE:
        execle("/bin/sh", "sh", "-c", "exit $#", "zero", "a", "b", "c", (char *)NULL, environ);
        break;
    case EX_EXECLP:
        execlp("sh", "sh", "-c", "exit $#", "zero", "a", "b", "c", (char *)NULL);
        break;
    default:
        execv("/bin/sh", argv);
        break;
    }
    _exit(127);
}

static void test_exec_success(void)
{
    for (int k = EX_EXECVE; k <= EX_EXECVEAT; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            exec_true((enum exec_kind)k);
        expect_num(child_exit(pid), 0, "%s of /bin/true in a child: exit 0", exec_names[k]);
    }
    const enum exec_kind counted[] = {EX_EXECL, EX_EXECLE, EX_EXECLP, EX_EXECV};
    for (size_t i = 0; i < sizeof counted / sizeof *counted; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            exec_argcount(counted[i]);
        expect_num(child_exit(pid), 3, "%s passes every argument (sh sees $# == 3)",
                   exec_names[counted[i]]);
    }
    /* execle's environment follows the NULL that ends the arguments. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *const env[] = {"FS_EXIT=5", "PATH=/usr/bin:/bin", NULL};
        execle("/bin/sh", "sh", "-c", "exit $FS_EXIT", (char *)NULL, env);
        _exit(127);
    }
    expect_num(child_exit(pid), 5, "execle passes its envp (FS_EXIT=5)");
}

/* ---- what an exec'd program sees of the environment --------------------------------------- */

#define PROBE_SCRIPT "printf '%s|%s|%s' \"$FS_PROBE\" \"$LD_PRELOAD\" \"$FORKSAN_TRACE_DIR\""

static char *const clean_env[] = {"PATH=/usr/bin:/bin", "FS_PROBE=probe", NULL};
static char *const probe_argv[] = {"sh", "-c", PROBE_SCRIPT, NULL};

/* The vfork child shares the parent's memory: whatever the shim's exec hook changes there
 * before the exec succeeds stays changed in the parent, so the variants after it check that
 * the parent's later execs and spawns still behave. */
enum env_kind {
    ENV_EXECVE,
    ENV_EXECLE,
    ENV_EXECVPE,
    ENV_EXECV_UNSET,
    ENV_VFORK_EXECVE,
    ENV_SPAWN,
    ENV_SPAWNP,
    ENV_EXECVE_AGAIN,
};
static const char *const env_names[] = {
    "execve",       "execle",      "execvpe",      "execv after unsetenv(LD_PRELOAD)",
    "vfork+execve", "posix_spawn", "posix_spawnp", "execve after vfork+execve"};

/* Runs the probe script through the variant with stdout on a pipe; returns what it printed
 * (static buffer) and its exit code in *code. */
static const char *run_probe(enum env_kind k, int *code)
{
    static char out[8192];
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        die("pipe2", errno);
    pid_t pid = -1;
    fflush(stdout);
    if (k == ENV_SPAWN || k == ENV_SPAWNP) {
        posix_spawn_file_actions_t fa;
        if (posix_spawn_file_actions_init(&fa) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO) != 0)
            die("posix_spawn_file_actions", EINVAL);
        int r = k == ENV_SPAWN ? posix_spawn(&pid, "/bin/sh", &fa, NULL, probe_argv, clean_env)
                               : posix_spawnp(&pid, "sh", &fa, NULL, probe_argv, clean_env);
        posix_spawn_file_actions_destroy(&fa);
        expect_eq(r, 0, "%s of the env probe: 0", env_names[k]);
    } else if (k == ENV_VFORK_EXECVE) {
        pid = vfork();
        if (pid == 0) {
            if (dup2(fds[1], STDOUT_FILENO) < 0)
                _exit(126);
            execve("/bin/sh", probe_argv, clean_env);
            _exit(127);
        }
    } else {
        pid = fork();
        if (pid == 0) {
            if (dup2(fds[1], STDOUT_FILENO) < 0)
                _exit(126);
            switch (k) {
            case ENV_EXECVE:
            case ENV_EXECVE_AGAIN:
                execve("/bin/sh", probe_argv, clean_env);
                break;
            case ENV_EXECLE:
                execle("/bin/sh", "sh", "-c", PROBE_SCRIPT, (char *)NULL, clean_env);
                break;
            case ENV_EXECVPE:
                execvpe("sh", probe_argv, clean_env);
                break;
            default:
                if (unsetenv("LD_PRELOAD") != 0 || setenv("FS_PROBE", "probe", 1) != 0)
                    _exit(125);
                execv("/bin/sh", probe_argv);
                break;
            }
            _exit(127);
        }
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + n, sizeof out - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
    close(fds[0]);
    *code = child_exit(pid);
    return out;
}

static void test_exec_env(void)
{
    const char *preload = getenv("LD_PRELOAD");
    const char *tdir = getenv("FORKSAN_TRACE_DIR");
    int shim = preload && *preload && tdir && *tdir;
    char want[8192];
    if (!preload || !*preload)
        snprintf(want, sizeof want, "probe||");
    else if (shim)
        snprintf(want, sizeof want, "probe|%s|%s", preload, tdir);
    else
        want[0] = '\0';
    for (int k = ENV_EXECVE; k <= ENV_EXECVE_AGAIN; k++) {
        int code = -1;
        const char *got = run_probe((enum env_kind)k, &code);
        expect_num(code, 0, "%s with an environment lacking LD_PRELOAD: exit 0", env_names[k]);
        if (!want[0]) {
            skip("exec'd program's view of LD_PRELOAD", "LD_PRELOAD set without a trace dir");
            continue;
        }
        expect(strcmp(got, want) == 0,
               "%s with an environment lacking LD_PRELOAD: the program sees '%s' (want '%s')",
               env_names[k], got, want);
    }
}

/* ---- posix_spawn -------------------------------------------------------------------------- */

static void test_spawn(void)
{
    pid_t pid = -12345;
    expect_eq(posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ), 0,
              "posix_spawn /bin/true: 0");
    expect(pid > 0, "posix_spawn stores the child pid (%d)", (int)pid);
    expect_num(child_exit(pid), 0, "posix_spawn child exits 0");
    pid = -12345;
    expect_eq(posix_spawnp(&pid, "true", NULL, NULL, true_argv, environ), 0,
              "posix_spawnp true: 0");
    expect(pid > 0, "posix_spawnp stores the child pid (%d)", (int)pid);
    expect_num(child_exit(pid), 0, "posix_spawnp child exits 0");

    char *const argv[] = {"sh", "-c", "exit $#", "zero", "a", "b", NULL};
    pid = -1;
    expect_eq(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ), 0, "posix_spawn sh");
    expect_num(child_exit(pid), 2, "posix_spawn passes every argument (sh sees $# == 2)");

    errno = SENTINEL_ERRNO;
    pid = -12345;
    int r = posix_spawn(&pid, NO_SUCH_PATH, NULL, NULL, true_argv, environ);
    expect_eq(r, ENOENT, "posix_spawn, missing file: returns ENOENT");
    expect_num(pid, -12345, "posix_spawn failure leaves *pid alone");
    pid = -12345;
    r = posix_spawnp(&pid, NO_SUCH_NAME, NULL, NULL, true_argv, environ);
    expect_eq(r, ENOENT, "posix_spawnp, not on PATH: returns ENOENT");
    expect_num(pid, -12345, "posix_spawnp failure leaves *pid alone");
    r = posix_spawn(&pid, "/", NULL, NULL, true_argv, environ);
    expect_eq(r, EACCES, "posix_spawn of a directory: returns EACCES");

    expect_eq(posix_spawn(NULL, "/bin/true", NULL, NULL, true_argv, environ), 0,
              "posix_spawn with a NULL pid pointer: 0");
    int st;
    pid_t w;
    do
        w = wait(&st);
    while (w < 0 && errno == EINTR);
    expect(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "child of posix_spawn(NULL pid) exits 0");
    do
        w = wait(&st);
    while (w < 0 && errno == EINTR);
    expect_fail(w, errno, ECHILD, "no child left over: wait -1 ECHILD");
}

/* ---- small thread stacks ------------------------------------------------------------------ */

/* The shim's hooks run on the caller's stack: a thread with the smallest stack allowed must
 * still be able to call them.  The glibc calls themselves need little stack here. */
/* 0, or 100 + signal when the grandchild was killed, or 2 for another failure. */
static void *grandchild_code(pid_t pid)
{
    int c = child_exit(pid);
    if (c >= 1000)
        return (void *)(intptr_t)(100 + c - 1000);
    return (void *)(intptr_t)(c == 0 ? 0 : 2);
}

static void *small_stack_spawn(void *p)
{
    (void)p;
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ) != 0)
        return (void *)1;
    return grandchild_code(pid);
}

static void *small_stack_fork_exec(void *p)
{
    (void)p;
    pid_t pid = fork();
    if (pid == 0) {
        execv("/bin/true", true_argv);
        _exit(127);
    }
    return grandchild_code(pid);
}

static void *small_stack_locks(void *p)
{
    (void)p;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    sem_t s;
    int bad = 0;
    for (int i = 0; i < 100; i++) {
        bad |= pthread_mutex_lock(&m) | pthread_mutex_unlock(&m);
        bad |= pthread_rwlock_wrlock(&l) | pthread_rwlock_unlock(&l);
    }
    bad |= sem_init(&s, 0, 1) | sem_wait(&s) | sem_post(&s) | sem_destroy(&s);
    return (void *)(intptr_t)(bad ? 1 : 0);
}

/* Runs fn on a PTHREAD_STACK_MIN thread in a child process, so that a crash is contained;
 * returns the child's exit code (1000 + signal when it died). */
static int on_small_stack(void *(*fn)(void *))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_attr_t a;
        pthread_t t;
        void *ret = (void *)(intptr_t)9;
        if (pthread_attr_init(&a) != 0 || pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN) != 0)
            _exit(10);
        if (pthread_create(&t, &a, fn, NULL) != 0)
            _exit(11);
        if (pthread_join(t, &ret) != 0)
            _exit(12);
        _exit((int)(intptr_t)ret);
    }
    return child_exit(pid);
}

static void test_small_stack(void)
{
    /* Codes: 1000 + N: the child died of signal N; 100 + N: the exec'd grandchild did. */
    expect_num(on_small_stack(small_stack_locks), 0,
               "lock calls from a thread with a PTHREAD_STACK_MIN stack");
    expect_num(on_small_stack(small_stack_spawn), 0,
               "posix_spawn from a thread with a PTHREAD_STACK_MIN stack");
    expect_num(on_small_stack(small_stack_fork_exec), 0,
               "fork + execv from a thread with a PTHREAD_STACK_MIN stack");
}

/* The wait family (interposed to time zombies): results, statuses, errno, stop reports. */
static pid_t child_exiting(int code)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0)
        _exit(code);
    return pid;
}

static void test_wait(void)
{
    int st = 0, r;
    struct rusage ru;
    siginfo_t info;

    errno = 0;
    r = wait(NULL);
    expect_fail(r, errno, ECHILD, "wait, no children: -1 ECHILD");
    errno = 0;
    r = waitpid(-1, &st, WNOHANG);
    expect_fail(r, errno, ECHILD, "waitpid, no children: -1 ECHILD");
    errno = 0;
    r = waitpid(-1, &st, 0x40000);
    expect_fail(r, errno, EINVAL, "waitpid, bad options: -1 EINVAL");
    errno = 0;
    r = wait3(&st, 0, &ru);
    expect_fail(r, errno, ECHILD, "wait3, no children: -1 ECHILD");
    errno = 0;
    r = waitid(P_ALL, 0, &info, WEXITED);
    expect_fail(r, errno, ECHILD, "waitid, no children: -1 ECHILD");

    pid_t pid = child_exiting(7);
    errno = SENTINEL_ERRNO;
    r = waitpid(pid, &st, 0);
    expect(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7 && errno == SENTINEL_ERRNO,
           "waitpid reaps the child: its pid, exit status 7, errno untouched");
    pid = child_exiting(3);
    r = wait(&st);
    expect(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3, "wait reaps the child: status 3");
    pid = child_exiting(4);
    r = wait3(&st, 0, &ru);
    expect(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 4, "wait3 reaps the child: status 4");
    pid = child_exiting(5);
    r = wait4(pid, NULL, 0, &ru);
    expect_num(r, pid, "wait4 with a NULL status reaps the child");
    pid = child_exiting(6);
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
    expect(r == 0 && info.si_pid == pid && info.si_code == CLD_EXITED && info.si_status == 6,
           "waitid WNOWAIT reports the exit without reaping");
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, (id_t)pid, &info, WEXITED);
    expect(r == 0 && info.si_pid == pid && info.si_status == 6, "waitid then reaps it");

    /* A running child: WNOHANG returns 0; a stopped one is reported, not reaped. */
    int fds[2];
    if (pipe(fds) < 0)
        die("pipe", errno);
    pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0) {
        char c;
        close(fds[1]);
        raise(SIGSTOP);
        _exit(read(fds[0], &c, 1) == 0 ? 0 : 1);
    }
    close(fds[0]);
    r = waitpid(pid, &st, WUNTRACED);
    expect(r == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
           "waitpid WUNTRACED reports the stopped child");
    kill(pid, SIGCONT);
    r = waitpid(pid, &st, WNOHANG);
    expect_num(r, 0, "waitpid WNOHANG, child running (blocked on a pipe): 0");
    close(fds[1]);
    r = waitpid(pid, &st, 0);
    expect(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "waitpid then reaps it");
}

int main(void)
{
    /* A hang is a failure: SIGALRM's default action ends the process. */
    alarm(60);
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        die("setvbuf", errno);
    printf("# semantics: LD_PRELOAD=%s FORKSAN_TRACE_DIR=%s\n",
           getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "(unset)",
           getenv("FORKSAN_TRACE_DIR") ? getenv("FORKSAN_TRACE_DIR") : "(unset)");

    test_mutex_normal();
    test_mutex_errorcheck();
    test_mutex_recursive();
    test_mutex_robust();
    test_rwlock();
    test_spin();
    test_sem();
    test_cond();
    test_c11();
    test_threads();
    test_cancel();
    test_fork();
    test_process_shared();
    test_fork_in_handler();
    test_vfork();
    test_exec_failures();
    test_exec_success();
    test_exec_env();
    test_spawn();
    test_small_stack();
    test_wait();

    printf("%d passed, %d failed", npassed, nfailed);
    if (nskipped)
        printf(", %d skipped", nskipped);
    putchar('\n');
    return nfailed ? 1 : 0;
}
