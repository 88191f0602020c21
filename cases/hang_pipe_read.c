/* forksan case: the child blocks reading a pipe nobody writes to: a hang with no lock in it
 * timeout: 3
 * expect: child-hang error
 * expect: child-hang error
 */

/*
 * Not every hang is a deadlock on an inherited lock, and forksan must not make one up: the parent
 * is single-threaded and holds no lock at fork, so nothing about the fork is a hazard.  The child
 * reads from a pipe whose write end only the parent has, and the parent never writes; the parent
 * waits for the child.  When the time limit expires both are alive, so there are exactly two
 * child-hang findings, one per process (the child in read, the parent in waitpid), and nothing
 * else.  Both arm a watchdog far beyond the limit, so that without forksan the case still ends,
 * failing.
 */
#include "case_util.h"

int main(void)
{
    int fds[2];
    pid_t pid;

    case_hang_watchdog();
    CASE_SYS(pipe(fds));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        char c;

        case_hang_watchdog();
        if (close(fds[1]) != 0)
            _exit(1);
        _exit(read(fds[0], &c, 1) == 1 ? 0 : 1); /* blocks: the parent never writes */
    }
    case_wait_child_forever(pid);
    return 0;
}
