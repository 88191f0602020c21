/* forksan case: a pthread spin lock is held by another thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * A spin lock inherited locked is worse than a mutex: a child that takes it spins at full CPU
 * forever instead of sleeping.  The child only tries it, and the try must fail with EBUSY.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
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
    if (pid == 0)
        _exit(pthread_spin_trylock(&lock) == EBUSY ? 0 : 1); // @childlock
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(pthread_spin_destroy(&lock));
    return 0;
}
