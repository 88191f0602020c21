/* forksan case: control, the classic double fork of a daemon: the intermediate exits, the grandchild is re-parented
 * expect: none
 */

/*
 * main forks an intermediate that forks the daemon and _exits at once; main reaps the intermediate.
 * The daemon outlives its parent, so it was never its zombie, and is re-parented (to forksan, the
 * subreaper of the run, which reaps it).  The daemon waits until main closes a pipe, so that it
 * surely outlives the intermediate.  Two forks from two different lines: no child repeats its
 * creator's fork.
 */
#include "case_util.h"

int main(void)
{
    int gate[2];

    case_watchdog();
    CASE_SYS(pipe(gate));
    pid_t mid = fork();
    CASE_SYS(mid);
    if (mid == 0) {
        close(gate[1]);
        if (setsid() < 0)
            _exit(2);
        pid_t daemon_pid = fork();
        if (daemon_pid < 0)
            _exit(2);
        if (daemon_pid == 0) {
            char c;
            while (read(gate[0], &c, 1) > 0)
                ;
            _exit(0);
        }
        _exit(0);
    }
    close(gate[0]);
    CASE_TRUE(case_reap_child(mid) == 0);
    close(gate[1]);
    return 0;
}
