/* forksan case: daemon(3) forks inside libc while another thread holds a mutex
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock
 */

/*
 * daemon() forks where the program cannot see it, and only the child returns: the parent process
 * ends inside daemon() with _exit(0), taking the holder thread with it.  The daemonized child
 * inherits the mutex locked by that thread; it checks so with a trylock that must fail with EBUSY
 * and ends at once with _exit, so nothing of the case outlives it by more than an instant.  The
 * child's status is seen by nobody but its new parent, so the check only matters to a reader
 * running it under strace.  noclose=1 keeps the runner's descriptors, nochdir=1 the directory.
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
    /* Never released: the process that runs this thread ends inside daemon(). */
    case_barrier_wait(&release);
    return NULL;
}

int main(void)
{
    pthread_t thread;
    int rc;

    case_watchdog();
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    rc = daemon(1, 1); // @fork
    /* Only the daemonized child (or a failed call) gets here: single-threaded, no watchdog. */
    if (rc == -1)
        case_die(__FILE__, __LINE__, "daemon", errno);
    _exit(pthread_mutex_trylock(&lock) == EBUSY ? 0 : 1); // @childlock
}
