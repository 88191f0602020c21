/* forksan case: control, the tutorials' safe pattern: flush, fork, _exit in the child, wait in the parent
 * expect: none
 */

/*
 * Output is flushed before fork, the child prints and flushes its own line and ends with _exit, the
 * parent reaps it: nothing is written twice, no handler runs in the child, no zombie is left.
 */
#include "case_util.h"

static void cleanup(void)
{
}

int main(void)
{
    case_watchdog();
    CASE_TRUE(atexit(cleanup) == 0);
    printf("starting the job\n");
    fflush(stdout);
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        printf("job running in %d\n", (int)getpid());
        fflush(stdout);
        _exit(0);
    }
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
