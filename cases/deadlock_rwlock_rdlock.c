/* forksan case: the child blocks in pthread_rwlock_rdlock on a rwlock it inherited write-held
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * A reader waits for a writer to leave, and the writer here is a thread the child does not have:
 * pthread_rwlock_rdlock blocks forever.  (A reader on a read-held rwlock would go through, and is
 * no deadlock.)  forksan records the child-deadlock before the call blocks; the abort policy then
 * ends the child with SIGABRT, which the parent checks for.
 */
#include "case_util.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_rwlock_wrlock(&lock)); // @held
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
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        pthread_rwlock_rdlock(&lock); // @childlock
        _exit(1);                     /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
