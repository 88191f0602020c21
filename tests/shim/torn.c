/* Torn-record program: trace writes from many threads and from a signal handler while other
 * threads fork, to show that the parent's trace never gets a torn, empty or duplicated record.
 *
 * usage: shim_torn threads NCHURN NFORKERS FORKS   lock-churning threads that also write
 *                                                   records (srandom), plus forking threads
 *        shim_torn alarm FORKS                      forks from the main thread and from a
 *                                                   SIGALRM handler at once
 *        shim_torn atfork FORKS                     each child forks from a pthread_atfork
 *                                                   child handler, then once more itself
 * Prints "forks=N" (forks made, both sides counted) for the checking script; exits 0 when every
 * fork and every child succeeded. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_int forks, failures, stop;

static void fork_once(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    if (p < 0) {
        atomic_fetch_add(&failures, 1);
        return;
    }
    int st;
    while (waitpid(p, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        atomic_fetch_add(&failures, 1);
    atomic_fetch_add(&forks, 1);
}

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 2000 && !atomic_load(&stop); i++) {
        pthread_mutex_lock(&m);
        counter++;
        pthread_mutex_unlock(&m);
        if (i % 1000 == 0) { /* a reseed starts a segment: a trace write from this thread */
            srandom(seed + (unsigned)i);
            for (int k = 0; k < 4; k++)
                (void)random();
        }
    }
    return NULL;
}

static int nforks_each;

static void *forker(void *arg)
{
    (void)arg;
    for (int i = 0; i < nforks_each; i++)
        fork_once();
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    fork_once();
    errno = saved;
}

static int run_threads(int nchurn, int nforkers, int nforks)
{
    pthread_t *t = calloc((size_t)(nchurn + nforkers), sizeof *t);
    if (!t)
        return 2;
    nforks_each = nforks / nforkers;
    for (int i = 0; i < nforkers; i++)
        if (pthread_create(&t[i], NULL, forker, NULL) != 0)
            return 2;
    for (int i = 0; i < nchurn; i++)
        if (pthread_create(&t[nforkers + i], NULL, churn, (void *)(uintptr_t)(i + 1)) != 0)
            return 2;
    for (int i = 0; i < nchurn + nforkers; i++)
        pthread_join(t[i], NULL);
    free(t);
    return counter == 0 ? 1 : 0;
}

static int in_child_handler;

/* A pthread_atfork child handler that forks: its fork runs every fork handler again, the
 * shim's included, inside the first fork's child. */
static void child_handler(void)
{
    if (in_child_handler++)
        return;
    fork_once();
}

static int run_atfork(int nforks)
{
    if (pthread_atfork(NULL, NULL, child_handler) != 0)
        return 2;
    for (int i = 0; i < nforks; i++) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            fork_once();
            _exit(atomic_load(&failures) != 0);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            atomic_fetch_add(&failures, 1);
        atomic_fetch_add(&forks, 3); /* this one, the handler's, the child's own */
    }
    return 0;
}

static int run_alarm(int nforks)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < nforks; i++) {
        fork_once();
        if (i % 50 == 0) {
            srandom((unsigned)i);
            (void)random();
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc == 5 && strcmp(argv[1], "threads") == 0)
        rc = run_threads(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    else if (argc == 3 && strcmp(argv[1], "alarm") == 0)
        rc = run_alarm(atoi(argv[2]));
    else if (argc == 3 && strcmp(argv[1], "atfork") == 0)
        rc = run_atfork(atoi(argv[2]));
    else
        fprintf(stderr,
                "usage: shim_torn threads NCHURN NFORKERS FORKS | alarm FORKS | atfork FORKS\n");
    printf("forks=%d failures=%d\n", atomic_load(&forks), atomic_load(&failures));
    return rc ? rc : atomic_load(&failures) != 0;
}
