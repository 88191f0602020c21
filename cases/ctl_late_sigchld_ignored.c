/* forksan case: control, SIGCHLD set to SIG_IGN and the parent runs on for seconds after its workers ended: the kernel reaped them, no zombie
 * expect: none
 * env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000
 */

/*
 * unreaped_late.c with SIGCHLD ignored: the workers are reaped by the kernel as they end, so the
 * 2 s of other work before the parent's wait hold no zombie, and the wait itself reaps nothing
 * (it fails with ECHILD once the children are gone).
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
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        CASE_SYS(pid);
        if (pid == 0)
            _exit(0);
    }
    other_work(2000);
    int status;
    CASE_TRUE(waitpid(-1, &status, 0) == -1 && errno == ECHILD);
    return 0;
}
