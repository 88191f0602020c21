/* forksan case: control, a parent that waits for its worker late, but well within the zombie threshold
 * expect: none
 * env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000
 */

/*
 * unreaped_late.c with 100 ms of other work between the worker's end and the parent's waitpid:
 * a zombie for a moment is how every fork-wait works, not a leak.
 */
#include "case_util.h"

static void other_work(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int main(void)
{
    case_watchdog();
    pid_t pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0)
        _exit(0);
    siginfo_t info;
    CASE_SYS(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT));
    other_work(100);
    int status;
    CASE_SYS(waitpid(pid, &status, 0));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
