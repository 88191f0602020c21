/* forksan case: a line printed to a file before fork is still buffered; parent and child both write it
 * expect: stdio-unflushed-at-fork error fork=@fork
 */

/*
 * stdout goes to a file (the runner's log), so it is fully buffered: the "starting 2 jobs" line is
 * still in the buffer when main forks.  The child prints its own line and flushes, which writes the
 * inherited line too, then ends with _exit; the parent writes it once more at exit.  The log holds
 * the line twice, which the case checks itself: it fails natively if the line was not duplicated.
 */
#include "case_util.h"

int main(void)
{
    case_watchdog();
    printf("starting 2 jobs\n");
    pid_t pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        printf("job 1 running in %d\n", (int)getpid());
        fflush(stdout);
        _exit(0);
    }
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
