/* forksan case: control, a program that made itself a child subreaper reaps its orphaned grandchild
 * expect: none
 */

/*
 * main sets PR_SET_CHILD_SUBREAPER, forks a launcher that forks a worker and _exits.  main reaps
 * the launcher; the worker, orphaned, becomes main's child, and main reaps it too.  The worker
 * waits on a pipe until main has reaped the launcher, so it cannot end (and be the launcher's
 * zombie) first.
 */
#include "case_util.h"

#include <sys/prctl.h>

int main(void)
{
    int gate[2];

    case_watchdog();
    CASE_SYS(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    CASE_SYS(pipe(gate));
    pid_t launcher = fork();
    CASE_SYS(launcher);
    if (launcher == 0) {
        close(gate[1]);
        pid_t worker = fork();
        if (worker < 0)
            _exit(2);
        if (worker == 0) {
            char c;
            while (read(gate[0], &c, 1) > 0)
                ;
            _exit(0);
        }
        _exit(0);
    }
    close(gate[0]);
    CASE_TRUE(case_reap_child(launcher) == 0);
    close(gate[1]);
    int status;
    pid_t got = wait(&status); /* the worker, re-parented to us */
    CASE_TRUE(got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}
