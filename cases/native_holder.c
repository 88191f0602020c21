/*
 * Helper library of the py_native_thread.py case, not a case itself: a native pthread, invisible
 * to Python's threading module, that holds a pthread mutex while Python forks.  The marker below
 * is the acquisition site that case's header points at.  start_holder() returns only once the
 * mutex is held; release_holder() lets the thread unlock and joins it.  Both are what ctypes calls.
 */
#include "case_util.h"

int start_holder(void);
void release_holder(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held, release;
static pthread_t thread;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(pthread_mutex_lock(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_OK(pthread_mutex_unlock(&lock));
    return NULL;
}

int start_holder(void)
{
    if (pthread_barrier_init(&held, NULL, 2) != 0 || pthread_barrier_init(&release, NULL, 2) != 0)
        return -1;
    if (pthread_create(&thread, NULL, holder, NULL) != 0)
        return -1;
    case_barrier_wait(&held);
    return 0;
}

void release_holder(void)
{
    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
}
