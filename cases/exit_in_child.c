/* forksan case: a forked child ends with exit() and runs the cleanup handler its parent registered
 * expect: child-exit-runs-parent-cleanup warning fork=@fork exit=@exit
 */

/*
 * The parent registers remove_lock_file() with atexit(), flushes its output, and forks a worker.
 * The worker does its job and calls exit(0): the handler registered by the parent runs in the
 * child too, and would remove the parent's lock file while the parent still works.
 */
#include "case_util.h"

static void remove_lock_file(void)
{
    /* stands for unlink("/run/app.lock") */
}

int main(void)
{
    case_watchdog();
    CASE_TRUE(atexit(remove_lock_file) == 0);
    pid_t pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        exit(0); // @exit
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
