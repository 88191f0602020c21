/* The statistics-thread program of issue 11, written the way users write it: a statistics thread
 * takes stats_lock for a few microseconds every millisecond, and the main thread forks 20 report
 * writers, each of which takes stats_lock to read the counters and then exits.  Natively every
 * run succeeds; one fork in a few hundred lands inside the statistics thread's critical section
 * and leaves a writer hung.  forksan must say so on the first run (fork-lock-race).  The writers
 * take the lock with a bounded call so that an unlucky run cannot hang the test. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long requests, bytes;
static volatile int stop;

static void *stats_thread(void *arg)
{
    (void)arg;
    struct timespec ms = {0, 1000 * 1000};
    while (!stop) {
        pthread_mutex_lock(&stats_lock); /* @stats */
        for (int i = 0; i < 200; i++) /* a few microseconds of bookkeeping */
            requests++, bytes += (unsigned long)i;
        pthread_mutex_unlock(&stats_lock);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

static void write_report(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    if (pthread_mutex_timedlock(&stats_lock, &until) != 0) /* @writer */
        _exit(3);
    unsigned long r = requests, b = bytes;
    pthread_mutex_unlock(&stats_lock);
    _exit(r + b > 0 ? 0 : 0);
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, stats_thread, NULL) != 0)
        return 1;
    struct timespec warm = {0, 5 * 1000 * 1000};
    nanosleep(&warm, NULL);
    int failed = 0;
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0)
            write_report();
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    stop = 1;
    pthread_join(t, NULL);
    if (failed)
        fprintf(stderr, "stats: %d writers failed\n", failed);
    return 0;
}
