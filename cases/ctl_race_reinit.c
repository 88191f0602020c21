/* forksan case: control: the child re-initialises the mutex another thread used before it takes it
 * expect: threads-at-fork warning
 */

/*
 * The worker uses the mutex in a loop and is alive at the fork, but the child gives the mutex a
 * fresh state with pthread_mutex_init before using it: whatever the fork caught, the child's mutex
 * is a new, free one.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done, release;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        CASE_OK(pthread_mutex_lock(&lock));
        CASE_OK(pthread_mutex_unlock(&lock));
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
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_init(&lock, NULL) != 0)
            _exit(1);
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
