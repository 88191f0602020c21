/* forksan case: control, a double fork whose daemon ends while the original parent runs on for seconds: the daemon was never the parent's zombie
 * expect: none
 * env: FORKSAN_ZOMBIE_THRESHOLD_MS=1000
 */

/*
 * main forks an intermediate that forks the daemon and _exits at once; main reaps the
 * intermediate at once.  The daemon, re-parented (to forksan, the run's subreaper), ends while
 * main spends 2 s on other work: main had no zombie of its own, and the daemon's first parent,
 * the intermediate, had ended before it.
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
    pid_t mid = fork();
    CASE_SYS(mid);
    if (mid == 0) {
        pid_t daemon_pid = fork();
        if (daemon_pid < 0)
            _exit(2);
        if (daemon_pid == 0) {
            other_work(200); /* surely outlives the intermediate */
            _exit(0);
        }
        _exit(0);
    }
    case_wait_child(mid);
    other_work(2000);
    return 0;
}
