/* forksan case: a single-threaded program forks while it holds a mutex itself
 * expect: lock-held-by-forker note acquire=@held fork=@fork
 */

/*
 * The forking thread's own locks come along into the child held by the child's only thread, which
 * can release them: usually harmless, so only a note.  There is no other thread, so no
 * threads-at-fork.  The child leaves the mutex alone and ends at once.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_mutex_lock(&lock)); // @held

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        _exit(0);
    case_wait_child(pid);

    CASE_OK(pthread_mutex_unlock(&lock));
    return 0;
}
