/* forksan case: the child spins in pthread_spin_lock on a spin lock held by a vanished thread
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * A spin lock inherited locked does not even sleep: the child would burn a CPU forever in
 * pthread_spin_lock.  forksan records the child-deadlock before the call spins; the abort policy
 * then ends the child with SIGABRT, which the parent checks for.
 */
#include "case_util.h"

static pthread_spinlock_t lock;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_spin_lock(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_OK(pthread_spin_unlock(&lock));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        pthread_spin_lock(&lock); // @childlock
        _exit(1);                 /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(pthread_spin_destroy(&lock));
    return 0;
}
