/* forksan case: wait policy: the child blocks for good, the time limit catches the hang
 * on-deadlock: wait
 * timeout: 3
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=@childlock acquire=@held
 * expect: child-hang error
 * expect: child-hang error
 */

/*
 * The default policy changes nothing: the child's pthread_mutex_lock blocks forever, as it would
 * without forksan, and the parent blocks in waitpid for that child.  forksan wrote the
 * child-deadlock record before the call blocked; when the case's time limit expires it captures
 * the stacks of both live processes, one child-hang each (the child, in pthread_mutex_lock; the
 * parent, in waitpid, with its holder thread parked), and ends the tree.  Both processes arm a
 * watchdog far beyond that limit instead of the usual one, so that the case still ends, failing,
 * when run without forksan.
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

    case_hang_watchdog();
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        case_hang_watchdog();
        pthread_mutex_lock(&lock); // @childlock
        _exit(1);                  /* only reached if the lock was not inherited locked */
    }
    case_wait_child_forever(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
