/* forksan case: a normal pthread mutex is held by another thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * The textbook fork hazard: the child inherits the mutex locked by a thread that does not exist
 * in the child, so nobody there can ever unlock it.  The holder is kept parked on a barrier until
 * the parent has reaped the child, so the lock is held at fork on every run.  The child proves it
 * inherited the lock locked with a bounded timedlock that must time out.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
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
        struct timespec deadline = case_deadline_ms(CASE_CHILD_LOCK_MS);

        _exit(pthread_mutex_timedlock(&lock, &deadline) == ETIMEDOUT ? 0 : 1); // @childlock
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
