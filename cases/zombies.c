/* forksan case: a parent starts two workers and never waits for them: they stay zombies until it ends
 * expect: unreaped-child warning fork=@fork
 */

/*
 * Each worker ends with _exit at once.  The parent waits until both have ended without reaping
 * them (waitid with WNOWAIT, so the zombies surely exist when it ends: the case does not depend on
 * timing), then returns from main without a wait: both were zombies from their end to the parent's.
 */
#include "case_util.h"

int main(void)
{
    pid_t pids[2];

    case_watchdog();
    for (int i = 0; i < 2; i++) {
        pids[i] = fork(); // @fork
        CASE_SYS(pids[i]);
        if (pids[i] == 0)
            _exit(0);
    }
    for (int i = 0; i < 2; i++) {
        siginfo_t info;
        CASE_SYS(waitid(P_PID, (id_t)pids[i], &info, WEXITED | WNOWAIT));
    }
    return 0;
}
