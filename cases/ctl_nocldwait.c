/* forksan case: control, SA_NOCLDWAIT on SIGCHLD: children are not turned into zombies
 * expect: none
 */

/*
 * sigaction with SA_NOCLDWAIT keeps the default action but tells the kernel not to keep zombies.
 * The parent waits until both children are gone (wait blocks until then and fails with ECHILD: no
 * status is kept) and ends.
 */
#include "case_util.h"

int main(void)
{
    struct sigaction sa;

    case_watchdog();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDWAIT;
    CASE_SYS(sigaction(SIGCHLD, &sa, NULL));
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        CASE_SYS(pid);
        if (pid == 0)
            _exit(0);
    }
    while (wait(NULL) > 0)
        ;
    CASE_TRUE(errno == ECHILD);
    return 0;
}
