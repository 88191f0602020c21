/* forksan case: an error-checking mutex is held by another thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * Error checking catches relocking and foreign unlocks, not inheritance: the child still gets the
 * mutex owned by a thread it does not have.  The child's trylock must fail with EBUSY.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
 */
#include "case_util.h"

static pthread_mutex_t lock;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_mutex_lock(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_OK(pthread_mutex_unlock(&lock));
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_mutexattr_init(&attr));
    CASE_OK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK));
    CASE_OK(pthread_mutex_init(&lock, &attr));
    CASE_OK(pthread_mutexattr_destroy(&attr));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        _exit(pthread_mutex_trylock(&lock) == EBUSY ? 0 : 1); // @childlock
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(pthread_mutex_destroy(&lock));
    return 0;
}
