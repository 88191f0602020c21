/* The caller-held generators' per-thread cache (rng.c, hooks_rng.c) under the conditions that
 * broke the shared one: two threads drawing at once, each from its own states, while a timer
 * signal handler interrupts one of them and draws from states of its own (erand48 and
 * drand48_r, so both the content-checked and the count-only fast paths run).  Then the process
 * forks and the child draws once from every state.
 *
 * What must hold, checked by rng_cache.sh in the traces: every drand48_r state's segment in the
 * child starts at exactly the number of draws made from it before the fork (a draw counted into
 * another state's instance, or lost, shifts it), and every erand48 state has exactly one `draw`
 * record in the parent (a cache entry mixing two states would see its state "rewritten" and
 * start new lineages).  This program prints the states' addresses and draw counts for it. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define DRAWS 2000000

struct states {
    unsigned short x[3];
    struct drand48_data d;
    volatile long nx, nd;
};

static struct states thr[2], hnd;
static volatile sig_atomic_t stop;
static double sink_; /* keeps the draws */

static void on_alarm(int sig)
{
    (void)sig;
    double v;
    sink_ += erand48(hnd.x);
    hnd.nx++;
    if (drand48_r(&hnd.d, &v) == 0) {
        sink_ += v;
        hnd.nd++;
    }
}

static void *drawer(void *arg)
{
    struct states *s = arg;
    /* The handler runs on thread 0 only (main and thread 1 block the signal): its states are
     * never drawn from by two threads at once. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(s == &thr[0] ? SIG_UNBLOCK : SIG_BLOCK, &set, NULL);
    double acc = 0, v;
    for (long i = 0; i < DRAWS; i++) {
        acc += erand48(s->x);
        s->nx++;
        if (drand48_r(&s->d, &v) == 0) {
            acc += v;
            s->nd++;
        }
    }
    return (void *)(long)(acc > 0);
}

static void init_states(struct states *s, long seed)
{
    s->x[0] = (unsigned short)seed;
    s->x[1] = (unsigned short)(seed * 7);
    s->x[2] = (unsigned short)(seed * 13);
    srand48_r(seed, &s->d);
}

int main(void)
{
    init_states(&thr[0], 11);
    init_states(&thr[1], 22);
    init_states(&hnd, 33);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by both threads; thread 0 unblocks */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return 2;
    struct itimerval it = {{0, 100}, {0, 100}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        return 2;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, drawer, &thr[i]) != 0)
            return 2;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    /* A signal still pending would run the handler after the counts are printed. */
    signal(SIGALRM, SIG_IGN);

    struct states *all[3] = {&thr[0], &thr[1], &hnd};
    for (int i = 0; i < 3; i++)
        printf("state %d erand48=%lx drand48_r=%lx nd=%ld nx=%ld\n", i,
               (unsigned long)(uintptr_t)all[i]->x, (unsigned long)(uintptr_t)&all[i]->d,
               all[i]->nd, all[i]->nx);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        double v;
        for (int i = 0; i < 3; i++) {
            sink_ += erand48(all[i]->x);
            if (drand48_r(&all[i]->d, &v) == 0)
                sink_ += v;
        }
        _exit(sink_ > 0 ? 0 : 1);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    printf("%s - handler drew %ld times during the threads' draws\n", hnd.nd > 0 ? "ok" : "not ok",
           hnd.nd);
    return hnd.nd > 0 ? 0 : 1;
}
