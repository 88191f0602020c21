/* forksan case: a POSIX semaphore used as a lock is taken by another thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * A semaphore initialised to 1, taken with sem_wait and given back by the same thread, is a lock
 * in all but name (CPython 3.11 builds threading.Lock this way).  At fork its value is 0 and the
 * taker is another thread, so the child inherits it taken for good.  The holder posts it back
 * itself, after the fork, so it stays a binary-used semaphore.  The child's sem_trywait must fail
 * with EAGAIN.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
 */
#include <semaphore.h>

#include "case_util.h"

static sem_t sem;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_SYS(sem_wait(&sem)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_SYS(sem_post(&sem));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_SYS(sem_init(&sem, 0, 1));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        _exit(sem_trywait(&sem) == -1 && errno == EAGAIN ? 0 : 1); // @childlock
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_SYS(sem_destroy(&sem));
    return 0;
}
