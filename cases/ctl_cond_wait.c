/* forksan case: control, a thread waits in pthread_cond_wait when main forks
 * expect: threads-at-fork warning
 */

/*
 * A thread blocked in pthread_cond_wait has given its mutex back and takes it again only when the
 * wait returns, so at fork the mutex is free and the child may use it.  Still two threads are
 * alive at a fork not followed by exec, which is the one finding expected.  The waiter announces
 * itself under the mutex and then waits, so once main can take the mutex and sees the flag, the
 * waiter is inside pthread_cond_wait.  The child's trylock must succeed.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int ready, go;

static void *waiter(void *arg)
{
    (void)arg;
    CASE_OK(pthread_mutex_lock(&lock));
    ready = 1;
    CASE_OK(pthread_cond_signal(&ready_cond));
    while (!go)
        CASE_OK(pthread_cond_wait(&go_cond, &lock));
    CASE_OK(pthread_mutex_unlock(&lock));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_create(&thread, NULL, waiter, NULL));
    CASE_OK(pthread_mutex_lock(&lock));
    while (!ready)
        CASE_OK(pthread_cond_wait(&ready_cond, &lock));
    CASE_OK(pthread_mutex_unlock(&lock));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (pthread_mutex_trylock(&lock) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(&lock) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    CASE_OK(pthread_mutex_lock(&lock));
    go = 1;
    CASE_OK(pthread_cond_signal(&go_cond));
    CASE_OK(pthread_mutex_unlock(&lock));
    CASE_OK(pthread_join(thread, NULL));
    return 0;
}
