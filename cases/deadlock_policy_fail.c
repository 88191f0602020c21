/* forksan case: fail policy: the child's pthread_mutex_lock returns ETIMEDOUT instead of blocking
 * on-deadlock: fail
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * The fail policy turns a child's deadlock into an error it can handle: the blocking call returns
 * the error its timed variant would give (ETIMEDOUT for pthread_mutex_lock) once forksan has
 * written the child-deadlock record.  The finding is still an error, because the program called a
 * function that would have blocked forever.  The child checks the value and exits 0 only on
 * ETIMEDOUT.  Without forksan its short watchdog kills it and the case fails.
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
        int rc = pthread_mutex_lock(&lock); // @childlock

        _exit(rc == ETIMEDOUT ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
