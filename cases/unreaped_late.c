/* forksan case: a parent forks a worker, then runs on with other work for seconds before it waits: the worker stays a zombie all that time
 * expect: unreaped-child warning fork=@fork
 * env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000
 */

/*
 * The worker ends at once.  The parent makes sure it has ended without reaping it (waitid with
 * WNOWAIT, so the case does not depend on timing), then does 2 s of other work before its
 * waitpid: the worker was a zombie for 2 s, past the 1 s threshold the header sets.
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
    other_work(2000);
    int status;
    CASE_SYS(waitpid(pid, &status, 0));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
