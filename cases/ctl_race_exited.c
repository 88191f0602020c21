/* forksan case: control: the thread that used the mutex ended before main forks
 * expect: none
 */

/*
 * The worker took and released the mutex in a loop, then returned, and main joined it before the
 * fork: nobody can hold the mutex at any instant of the fork, so the child's use is safe and the
 * process is single-threaded when it forks.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_OK(pthread_mutex_lock(&lock));
        CASE_OK(pthread_mutex_unlock(&lock));
    }
    case_barrier_wait(&done);
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);
    CASE_OK(pthread_join(thread, NULL));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);
    return 0;
}
