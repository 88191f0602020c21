/* forksan case: a reader-writer lock is read-held by another thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * A read hold is a hold too: the child inherits a reader count that no thread of its own will
 * ever drop, so any writer in the child waits forever.  The child's trywrlock must fail with EBUSY.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
 */
#include "case_util.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_rwlock_rdlock(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_OK(pthread_rwlock_unlock(&lock));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        _exit(pthread_rwlock_trywrlock(&lock) == EBUSY ? 0 : 1); // @childlock
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
