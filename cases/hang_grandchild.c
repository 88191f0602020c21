/* forksan case: a grandchild blocks reading a pipe; its parent and grandparent wait for it
 * timeout: 3
 * expect: child-hang error
 * expect: child-hang error
 * expect: child-hang error
 */

/*
 * A hang deep in a process tree holds up every process that waits for it.  main forks a child,
 * the child forks a grandchild, and the grandchild reads from a pipe that nobody writes to (main
 * and the child keep its write end open and never write).  The child waits for the grandchild and
 * main for the child, so when the time limit expires all three are alive: three child-hang
 * findings, one per process, whatever each is blocked in.  No process has a second thread or holds
 * a lock at any fork, so there is nothing else to report.  Every process arms a watchdog far
 * beyond the limit, so that without forksan the case still ends, failing.
 */
#include "case_util.h"

/* The middle process: forks the grandchild and waits for it, with only async-signal-safe calls. */
static void child(int read_fd)
{
    int status = 0;
    pid_t pid;

    case_hang_watchdog();
    pid = fork();
    if (pid == -1)
        _exit(1);
    if (pid == 0) {
        char c;

        case_hang_watchdog();
        _exit(read(read_fd, &c, 1) == 1 ? 0 : 1); /* blocks: nobody writes */
    }
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            _exit(1);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int main(void)
{
    int fds[2];
    pid_t pid;

    case_hang_watchdog();
    CASE_SYS(pipe(fds));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0)
        child(fds[0]);
    case_wait_child_forever(pid);
    return 0;
}
