/* forksan case: control: the child re-initialises the inherited mutex before it locks it
 * expect: lock-held-at-fork note acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * on-deadlock: abort
 */

/*
 * The lock was held by another thread at fork, but the child gives the mutex a fresh state with
 * pthread_mutex_init before any use: the child's lock is a new one, so the inherited state is no
 * hazard (a note that keeps the evidence) and the blocking lock that follows succeeds at once, no
 * child-deadlock.  Under the abort policy a wrongly flagged call would kill the child.  The
 * threads-at-fork warning stands: the child goes on without exec after a multi-threaded fork.
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
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        if (pthread_mutex_init(&lock, NULL) != 0 || pthread_mutex_lock(&lock) != 0 ||
            pthread_mutex_unlock(&lock) != 0)
            _exit(1);
        _exit(0);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
