/* forksan case: output pending at fork and a child ending with exit(): both mistakes of one tutorial program
 * expect: stdio-unflushed-at-fork error fork=@fork
 * expect: child-exit-runs-parent-cleanup warning fork=@fork exit=@exit
 */

/*
 * The program from the fork tutorials with both classic mistakes: it prints a greeting to a fully
 * buffered stdout, registers a cleanup handler, forks, and the child ends with exit().  The child's
 * exit runs the parent's handler and flushes the inherited greeting, which the parent writes again.
 */
#include "case_util.h"

static void cleanup(void)
{
    fprintf(stderr, "cleanup in %d\n", (int)getpid());
}

int main(void)
{
    case_watchdog();
    CASE_TRUE(atexit(cleanup) == 0);
    printf("hello from %d\n", (int)getpid());
    pid_t pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        exit(0); // @exit
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
