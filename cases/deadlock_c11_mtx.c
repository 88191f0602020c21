/* forksan case: the child blocks in mtx_lock on a C11 mtx_t held by a vanished thrd_create thread
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 */

/*
 * c11_mtx_held.c with the child calling the blocking mtx_lock, which would wait forever for a
 * thread the child does not have.  forksan records the child-deadlock before the call blocks; the
 * abort policy then ends the child with SIGABRT, which the parent checks for.  Without forksan the
 * child's short watchdog kills it and the case fails.
 */
#include <threads.h>

#include "case_util.h"

static mtx_t lock;
static pthread_barrier_t held, release;

static int holder(void *arg)
{
    (void)arg;
    CASE_TRUE(mtx_lock(&lock) == thrd_success); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_TRUE(mtx_unlock(&lock) == thrd_success);
    return 0;
}

int main(void)
{
    thrd_t thread;
    pid_t pid;
    int result = -1;

    case_watchdog();
    CASE_TRUE(mtx_init(&lock, mtx_plain) == thrd_success);
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_TRUE(thrd_create(&thread, holder, NULL) == thrd_success);
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        mtx_lock(&lock); // @childlock
        _exit(1);        /* only reached if the lock was not inherited locked */
    }
    case_wait_child_aborted(pid);

    case_barrier_wait(&release);
    CASE_TRUE(thrd_join(thread, &result) == thrd_success);
    CASE_TRUE(result == 0);
    mtx_destroy(&lock);
    return 0;
}
