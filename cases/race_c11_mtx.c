/* forksan case: a thread takes a C11 mtx_t in a loop; main forks while it is free and the child takes it
 * expect: fork-lock-race warning acquire=@take child=@child
 * expect: threads-at-fork warning
 */

/*
 * The lucky timing of a child deadlock on a C11 mtx_t: the worker takes and releases the mutex 100 times, then parks on
 * a barrier, alive, before main forks.  The fork lands while the lock is free, so nothing is held
 * at the fork and the child's bounded call succeeds; a fork inside any of those critical sections
 * would have left the lock taken forever in the child, which uses it too.
 */
#include "case_util.h"
#include <threads.h>

static mtx_t lock;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_TRUE(mtx_lock(&lock) == thrd_success); // @take
        CASE_TRUE(mtx_unlock(&lock) == thrd_success);
    }
    case_barrier_wait(&done);
    case_barrier_wait(&release);
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_TRUE(mtx_init(&lock, mtx_plain) == thrd_success);
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (mtx_trylock(&lock) != thrd_success) // @child
            _exit(1);
        _exit(mtx_unlock(&lock) == thrd_success ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
