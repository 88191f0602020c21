/* forksan case: control, a single-threaded program that holds nothing forks
 * expect: none
 */

/*
 * The plain fork that every hazard rule must leave alone: one thread, no lock held, a child that
 * ends with _exit, a parent that reaps it.  Nothing at all may be reported.
 */
#include "case_util.h"

int main(void)
{
    pid_t pid;

    case_watchdog();
    pid = fork();
    CASE_SYS(pid);
    if (pid == 0)
        _exit(0);
    case_wait_child(pid);
    return 0;
}
