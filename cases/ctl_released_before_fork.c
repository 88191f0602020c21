/* forksan case: control, a thread took and released a mutex before main forks
 * expect: threads-at-fork warning
 */

/*
 * Locks held once but released before the fork must leave no trace in the child: only the live
 * second thread is worth reporting.  The thread stays alive across the fork, parked on a barrier,
 * so threads-at-fork is certain.  The child's trylock must succeed.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    CASE_OK(pthread_mutex_lock(&lock));
    CASE_OK(pthread_mutex_unlock(&lock));
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
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
