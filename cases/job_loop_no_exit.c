/* forksan case: a job loop whose child forgets to exit: it goes back into the loop and forks jobs of its own
 * expect: child-repeats-fork warning fork=@fork
 */

/*
 * Four jobs, one child each; the child runs its job and, missing its _exit, returns into the loop
 * and forks the remaining jobs again: 4 jobs make 16 processes.  Every process reaps what it forked,
 * so nothing else is wrong.  The case checks the process count itself through a pipe: each process
 * writes one byte, and main expects 16.
 */
#include "case_util.h"

static int counter[2];

static void run_job(int n)
{
    (void)n; /* the job's work */
}

int main(void)
{
    case_watchdog();
    CASE_SYS(pipe(counter));
    pid_t self = getpid();
    for (int job = 0; job < 4; job++) {
        pid_t pid = fork(); // @fork
        CASE_SYS(pid);
        if (pid == 0)
            run_job(job); /* missing: _exit(0); */
    }
    while (wait(NULL) > 0)
        ;
    CASE_TRUE(write(counter[1], "x", 1) == 1);
    if (getpid() != self)
        return 0;
    close(counter[1]);
    char buf[64];
    ssize_t n, total = 0;
    while ((n = read(counter[0], buf, sizeof buf)) > 0)
        total += n;
    CASE_TRUE(total == 16);
    return 0;
}
