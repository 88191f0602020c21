/* forksan case: a pipe opened without close-on-exec leaks into a program the child execs
 * expect: fd-inherited note
 * expect: fd-inherited note
 */

/*
 * main makes a pipe for its own use (pipe(), not pipe2 with O_CLOEXEC), forks a child that execs
 * /bin/true: both ends of the pipe cross the exec, and /bin/true holds them open for its whole life
 * (a reader waiting for EOF on that pipe would wait for it too).  One note per descriptor: the
 * identical notes of the two ends are separate findings, so the header lists the hazard twice.
 */
#include "case_util.h"

int main(void)
{
    int p[2];

    case_watchdog();
    CASE_SYS(pipe(p));
    pid_t pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    CASE_TRUE(case_reap_child(pid) == 0);
    return 0;
}
