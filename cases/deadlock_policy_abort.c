/* forksan case: abort policy: the child goes on after a trylock, its blocking lock ends it
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childtry acquire=@held
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * The policy applies to calls that would block forever, never to try and timed variants, which
 * fail by themselves: the child's pthread_mutex_trylock is recorded (a warning) and returns EBUSY
 * as usual, and the child goes on, as a program that backs off on a busy lock would.  Its next
 * call is the blocking pthread_mutex_lock: forksan records it (an error) and then, under the abort
 * policy, raises SIGABRT in the child, which the parent checks for.  The record is on disk before
 * the abort, so the report has the child's stack at the call.
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
        if (pthread_mutex_trylock(&lock) != EBUSY) // @childtry
            _exit(1);
        pthread_mutex_lock(&lock); // @childlock
        _exit(1);                  /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
