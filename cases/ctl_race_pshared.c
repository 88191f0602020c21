/* forksan case: control: a process-shared mutex used by another thread, then by the child
 * expect: threads-at-fork warning
 */

/*
 * A PTHREAD_PROCESS_SHARED mutex is meant to be used across processes: a holder in the parent
 * releases it for the child as well, so a fork inside the worker's critical section does not
 * leave it locked forever.  No fork-lock-race.
 */
#include "case_util.h"

static pthread_mutex_t lock;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_OK(pthread_mutex_lock(&lock));
        CASE_OK(pthread_mutex_unlock(&lock));
    }
    case_barrier_wait(&done);
    case_barrier_wait(&release);
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    pthread_mutexattr_t attr;
    CASE_OK(pthread_mutexattr_init(&attr));
    CASE_OK(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
    CASE_OK(pthread_mutex_init(&lock, &attr));
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
