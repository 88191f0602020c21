/* forksan case: a thread write-locks an rwlock in a loop; main forks while it is free and the child read-locks it
 * expect: fork-lock-race warning acquire=@take child=@child
 * expect: threads-at-fork warning
 */

/*
 * The lucky timing of a child deadlock on an rwlock the worker write-locks: the worker takes and releases the write lock 100 times, then parks on
 * a barrier, alive, before main forks.  The fork lands while the lock is free, so nothing is held
 * at the fork and the child's bounded call succeeds; a fork inside any of those critical sections
 * would have left the lock taken forever in the child, which uses it too.
 */
#include "case_util.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_OK(pthread_rwlock_wrlock(&lock)); // @take
        CASE_OK(pthread_rwlock_unlock(&lock));
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
        struct timespec until = case_deadline_ms(CASE_CHILD_LOCK_MS);
        if (pthread_rwlock_timedrdlock(&lock, &until) != 0) // @child
            _exit(1);
        _exit(pthread_rwlock_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
