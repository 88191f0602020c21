/* forksan case: a thread takes and releases a mutex in a loop; main forks while it is free
 * expect: fork-lock-race warning acquire=@take child=@child
 * expect: threads-at-fork warning
 */

/*
 * The lucky timing of a child deadlock: the worker takes and releases the mutex 100 times, then
 * parks on a barrier, alive, before main forks.  The fork lands while the mutex is free, so
 * nothing is held at the fork (no lock-held-at-fork) and the child's trylock succeeds; but a fork
 * during any of those 100 critical sections would have left the mutex locked forever in the
 * child, which takes it too: fork-lock-race.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_OK(pthread_mutex_lock(&lock)); // @take
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
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_trylock(&lock) != 0) // @child
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
