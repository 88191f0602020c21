/* forksan case: the child blocks in pthread_mutex_lock on a mutex held by a vanished thread
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * The deadlock itself, not just its risk: the child calls the blocking pthread_mutex_lock on the
 * mutex it inherited locked, and would wait forever.  forksan writes the child-deadlock record
 * before the call can block, and the case's abort policy then ends the child with SIGABRT, which
 * the parent checks for.  The child arms a short watchdog first, so that without forksan it dies
 * of SIGALRM instead of hanging and the case fails.
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
        pthread_mutex_lock(&lock); // @childlock
        _exit(1);                  /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
