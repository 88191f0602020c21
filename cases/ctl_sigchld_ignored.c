/* forksan case: control, SIGCHLD set to SIG_IGN: the kernel reaps the children, none becomes a zombie
 * expect: none
 */

/*
 * With SIGCHLD ignored, children that end are reaped by the kernel at once.  The parent waits for
 * their end without reaping (waitid with WNOWAIT blocks until they are gone, then fails with
 * ECHILD), and ends without a wait: there is no zombie to report.
 */
#include "case_util.h"

int main(void)
{
    case_watchdog();
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        CASE_SYS(pid);
        if (pid == 0)
            _exit(0);
    }
    siginfo_t info;
    while (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) == 0)
        ;
    CASE_TRUE(errno == ECHILD);
    return 0;
}
