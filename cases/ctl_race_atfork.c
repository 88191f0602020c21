/* forksan case: control: the pthread_atfork idiom makes a mutex another thread uses fork-safe
 * expect: threads-at-fork warning
 * expect: lock-held-by-forker note
 */

/*
 * The worker takes and releases the mutex in a loop and is alive at the fork, but the program
 * registered the classic handlers: prepare takes the mutex, parent and child release it.  The fork
 * then always lands while the forking thread holds it, never inside the worker's critical
 * section, so the child's lock is always free: no fork-lock-race (the forker's lock is a note).
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done, release;

static void prepare(void)
{
    CASE_OK(pthread_mutex_lock(&lock));
}

static void release_lock(void)
{
    CASE_OK(pthread_mutex_unlock(&lock));
}

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
    CASE_OK(pthread_atfork(prepare, release_lock, release_lock));
    CASE_OK(pthread_barrier_init(&done, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, worker, NULL));
    case_barrier_wait(&done);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
