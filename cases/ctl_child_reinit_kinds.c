/* forksan case: control: the child re-initialises an inherited rwlock, spin, sem and mtx_t
 * expect: lock-held-at-fork note acquire=@rwlock fork=@fork
 * expect: lock-held-at-fork note acquire=@spin fork=@fork
 * expect: lock-held-at-fork note acquire=@sem fork=@fork
 * expect: lock-held-at-fork note acquire=@mtx fork=@fork
 * expect: threads-at-fork warning
 * on-deadlock: abort
 */

/*
 * ctl_child_reinit.c for the other lock kinds: a thread holds all four at fork, and the child
 * gives each a fresh state before it takes it with a blocking call (the rwlock through
 * pthread_rwlock_destroy then pthread_rwlock_init).  Each child lock is then a new one, so the
 * inherited state is no hazard: notes that keep the evidence, and no child-deadlock, which under
 * the abort policy would kill the child.  The threads-at-fork warning stands.
 */
#include <semaphore.h>
#include <threads.h>

#include "case_util.h"

static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static sem_t sem;
static mtx_t mtx;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_rwlock_wrlock(&rwlock));   // @rwlock
    CASE_OK(pthread_spin_lock(&spin));         // @spin
    CASE_SYS(sem_wait(&sem));                  // @sem
    CASE_TRUE(mtx_lock(&mtx) == thrd_success); // @mtx
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_TRUE(mtx_unlock(&mtx) == thrd_success);
    CASE_SYS(sem_post(&sem));
    CASE_OK(pthread_spin_unlock(&spin));
    CASE_OK(pthread_rwlock_unlock(&rwlock));
    return NULL;
}

static int child(void)
{
    if (pthread_rwlock_destroy(&rwlock) != 0 || pthread_rwlock_init(&rwlock, NULL) != 0 ||
        pthread_rwlock_wrlock(&rwlock) != 0 || pthread_rwlock_unlock(&rwlock) != 0)
        return 1;
    if (pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE) != 0 || pthread_spin_lock(&spin) != 0 ||
        pthread_spin_unlock(&spin) != 0)
        return 2;
    if (sem_init(&sem, 0, 1) != 0 || sem_wait(&sem) != 0 || sem_post(&sem) != 0)
        return 3;
    if (mtx_init(&mtx, mtx_plain) != thrd_success || mtx_lock(&mtx) != thrd_success ||
        mtx_unlock(&mtx) != thrd_success)
        return 4;
    return 0;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE));
    CASE_SYS(sem_init(&sem, 0, 1));
    CASE_TRUE(mtx_init(&mtx, mtx_plain) == thrd_success);
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        _exit(child());
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    mtx_destroy(&mtx);
    CASE_SYS(sem_destroy(&sem));
    CASE_OK(pthread_spin_destroy(&spin));
    CASE_OK(pthread_rwlock_destroy(&rwlock));
    return 0;
}
