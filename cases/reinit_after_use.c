/* forksan case: the child tries the inherited mutex first and re-initialises it only afterwards
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock acquire=@held
 */

/*
 * The counterpart of ctl_child_reinit.c: the child's first use of the mutex is a trylock, which
 * fails with EBUSY because the lock came along held by a thread the child does not have.  That
 * is the hazard at work, so re-initialising the mutex afterwards (as a recovery) does not make it
 * a note: the lock-held-at-fork warning and the child-deadlock warning stand.
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
        if (pthread_mutex_trylock(&lock) != EBUSY) // @childlock
            _exit(1);
        if (pthread_mutex_init(&lock, NULL) != 0 || pthread_mutex_lock(&lock) != 0 ||
            pthread_mutex_unlock(&lock) != 0)
            _exit(2);
        _exit(0);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
