/* forksan case: control, a child registers its own exit handler after fork and ends with exit()
 * expect: none
 */

/*
 * The parent registers nothing; the child registers its own handler after the fork and exits
 * through exit(), which runs only what the child asked for.
 */
#include "case_util.h"

static void child_cleanup(void)
{
}

int main(void)
{
    case_watchdog();
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        if (atexit(child_cleanup) != 0)
            _exit(2);
        exit(0);
    }
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
