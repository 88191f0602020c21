/* forksan case: a C11 mtx_t is held by a thrd_create thread when main forks
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * The C11 threads API is a thin layer over pthreads, and the hazard is the same one: the child
 * inherits the mtx_t locked by a thread it does not have.  The child's mtx_trylock must return
 * thrd_busy.  The barriers are pthread ones because C11 has none; glibc's barrier takes no lock.
 * forksan reports the attempt as a child-deadlock warning: a bounded call fails, never hangs.
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
    if (pid == 0)
        _exit(mtx_trylock(&lock) == thrd_busy ? 0 : 1); // @childlock
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_TRUE(thrd_join(thread, &result) == thrd_success);
    CASE_TRUE(result == 0);
    mtx_destroy(&lock);
    return 0;
}
