/* forksan case: the child blocks in sem_wait on a semaphore a vanished thread had taken
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * A semaphore used as a lock (initial value 1, taken and given back by the same thread) is at 0
 * in the child, and the only thread that would post it is gone: sem_wait blocks forever.  This is
 * the shape of a CPython 3.11/3.12 threading.Lock.  forksan records the child-deadlock before the
 * call blocks; the abort policy then ends the child with SIGABRT, which the parent checks for.
 */
#include <semaphore.h>

#include "case_util.h"

static sem_t lock;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_SYS(sem_wait(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_SYS(sem_post(&lock));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_SYS(sem_init(&lock, 0, 1));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        sem_wait(&lock); // @childlock
        _exit(1);        /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_SYS(sem_destroy(&lock));
    return 0;
}
