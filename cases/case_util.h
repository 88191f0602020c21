/*
 * Helpers shared by the C reproduction cases.  A case must either behave exactly as its header
 * declares or fail loudly with a non-zero exit; it must never hang, because the runner would then
 * report a child-hang the case never meant to show.  So every check dies on an unexpected result,
 * every process arms a watchdog, and the wait for a child is bounded.
 *
 * The lock calls that carry a marker are written directly in the case file, wrapped in the
 * CASE_OK() macro rather than in a helper function, so that the call's line in the case file is
 * the frame the report shows.  Code in a forked child must not call these helpers: a child only
 * computes an exit status and passes it to _exit(), which keeps it async-signal-safe.
 */
#ifndef FS_CASE_UTIL_H
#define FS_CASE_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Far below the runner's default timeout (10 s), far above a case's normal run time (< 1 s). */
#define CASE_WATCHDOG_SECONDS 5
#define CASE_CHILD_WAIT_MS    3000
#define CASE_CHILD_LOCK_MS    200
/* A child about to block on an inherited lock arms this: forksan's abort policy ends it at once,
 * so the alarm fires only when the case runs without the shim. */
#define CASE_CHILD_WATCHDOG_SECONDS 2

/* _exit, not exit: a failing case must not add an exit-path finding of its own. */
static inline void case_die(const char *file, int line, const char *what, int err)
{
    fprintf(stderr, "case %s:%d: %s: %s\n", file, line, what, err ? strerror(err) : "failed");
    _exit(2);
}

/* For calls that return 0 or an error number (the pthread and C11 thread families). */
#define CASE_OK(expr)                                                                              \
    do {                                                                                           \
        int case_rc_ = (expr);                                                                     \
        if (case_rc_ != 0)                                                                         \
            case_die(__FILE__, __LINE__, #expr, case_rc_ > 0 ? case_rc_ : 0);                      \
    } while (0)

/* For calls that return -1 and set errno. */
#define CASE_SYS(expr)                                                                             \
    do {                                                                                           \
        if ((expr) == -1)                                                                          \
            case_die(__FILE__, __LINE__, #expr, errno);                                            \
    } while (0)

/* For anything else that must hold, such as a C11 thrd_* result being thrd_success. */
#define CASE_TRUE(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            case_die(__FILE__, __LINE__, #cond, 0);                                                \
    } while (0)

/* SIGALRM's default action ends the process; pending alarms are not inherited by fork. */
static inline void case_watchdog(void)
{
    alarm(CASE_WATCHDOG_SECONDS);
}

static inline void case_barrier_wait(pthread_barrier_t *b)
{
    int rc = pthread_barrier_wait(b);

    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        case_die(__FILE__, __LINE__, "pthread_barrier_wait", rc);
}

/* An absolute CLOCK_REALTIME deadline, as pthread_mutex_timedlock and its relatives want. */
static inline struct timespec case_deadline_ms(long ms)
{
    struct timespec ts;

    /* Async-signal-safe, so a child may call it. */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/*
 * Reaps the child within CASE_CHILD_WAIT_MS and returns its wait status; a child that overstays is
 * killed first and the case dies, so the case never waits forever.
 */
static inline int case_reap_child(pid_t pid)
{
    const struct timespec tick = {0, 2 * 1000000L};
    int status = 0;
    long waited_ms = 0;

    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);

        if (got == pid)
            return status;
        if (got == -1 && errno != EINTR)
            case_die(__FILE__, __LINE__, "waitpid", errno);
        if (waited_ms >= CASE_CHILD_WAIT_MS) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
                ;
            case_die(__FILE__, __LINE__, "child did not finish in time", 0);
        }
        nanosleep(&tick, NULL);
        waited_ms += 2;
    }
}

/* Reaps the child (see case_reap_child) and dies unless it exited with status 0. */
static inline void case_wait_child(pid_t pid)
{
    int status = case_reap_child(pid);

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "case: child %d ended with status 0x%x (expected exit 0)\n", (int)pid,
                status);
        _exit(2);
    }
}

/*
 * Reaps a child that must have been ended by forksan's `on-deadlock: abort` policy, and dies
 * otherwise.  Without the shim such a child would block for good; it arms
 * CASE_CHILD_WATCHDOG_SECONDS first, so it is then killed by SIGALRM instead and the case fails
 * saying why.
 */
static inline void case_wait_child_aborted(pid_t pid)
{
    int status = case_reap_child(pid);

    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fprintf(stderr,
                "case: child %d ended with status 0x%x, expected SIGABRT from forksan's "
                "abort policy (run it with forksan run --on-deadlock abort)\n",
                (int)pid, status);
        _exit(2);
    }
}

/*
 * Waits until process pid sleeps in a futex wait (blocked on a lock), for at most
 * CASE_CHILD_WAIT_MS; returns quietly when /proc cannot tell, so the case only loses precision.
 * Lets a parent release a lock while its child is really blocked on it.
 */
static inline void case_wait_futex_sleep(pid_t pid)
{
    const struct timespec tick = {0, 2 * 1000000L};
    char path[64], buf[64];

    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (long waited_ms = 0; waited_ms < CASE_CHILD_WAIT_MS; waited_ms += 2) {
        FILE *f = fopen(path, "r");
        if (!f)
            return;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "futex"))
            return;
        nanosleep(&tick, NULL);
    }
}

/*
 * Cases that declare a child-hang block on purpose until the runner's time limit (a few seconds)
 * expires and forksan ends them.  Run without forksan, they would block for good, so every process
 * that blocks arms this longer watchdog instead of case_watchdog(): the case then ends by itself,
 * reporting the hang as a failure, long after any runner's limit.
 */
#define CASE_HANG_WATCHDOG_SECONDS 30

static inline void case_hang_watchdog(void)
{
    alarm(CASE_HANG_WATCHDOG_SECONDS);
}

/* Waits for the child without a bound of its own (it is meant to hang): the process's watchdog
 * bounds it.  Dies unless the child exited with status 0, which a hanging child never does. */
static inline void case_wait_child_forever(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            case_die(__FILE__, __LINE__, "waitpid", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr,
                "case: child %d ended with status 0x%x (it was meant to hang until forksan "
                "ended the tree)\n",
                (int)pid, status);
        _exit(2);
    }
}

#endif /* FS_CASE_UTIL_H */
