/* forksan case: control: the child unlocks and relocks the mutex the forking thread held
 * expect: lock-held-by-forker note acquire=@held fork=@fork
 */

/*
 * The forking thread lives on in the child, so a lock it held at fork is the child's own: the
 * child may release it and take it again with a blocking call.  That is no child-deadlock (the
 * note about the forker's lock stands), and the process is single-threaded: no threads-at-fork.
 */
#include "case_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    pid_t pid;

    case_watchdog();
    CASE_OK(pthread_mutex_lock(&lock)); // @held
    pid = fork();                       // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        if (pthread_mutex_unlock(&lock) != 0 || pthread_mutex_lock(&lock) != 0 ||
            pthread_mutex_unlock(&lock) != 0)
            _exit(1);
        _exit(0);
    }
    case_wait_child(pid);
    CASE_OK(pthread_mutex_unlock(&lock));
    return 0;
}
