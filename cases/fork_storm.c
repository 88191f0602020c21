/* forksan case: a runaway fork loop stopped by a small process limit: fork fails with EAGAIN and the loop ends
 * env: FORKSAN_MAX_PROCESSES=16
 * expect: fork-storm error fork=@fork
 * expect: child-repeats-fork warning fork=@fork
 */

/*
 * Twelve jobs with the forgotten exit would make 4096 processes.  forksan's limit (16 alive at once,
 * set by the header) makes fork fail with EAGAIN, as RLIMIT_NPROC would; the program handles the
 * error the usual way (stop forking), every process reaps its children, and the tree ends by
 * itself.  The case checks that at least one fork failed with EAGAIN.
 */
#include "case_util.h"

int main(void)
{
    int refused[2];

    case_watchdog();
    CASE_SYS(pipe(refused));
    pid_t self = getpid();
    for (int job = 0; job < 12; job++) {
        pid_t pid = fork(); // @fork
        if (pid < 0) {
            CASE_TRUE(errno == EAGAIN);
            CASE_TRUE(write(refused[1], "E", 1) == 1);
            break;
        }
        /* the child should _exit here, and does not */
    }
    while (wait(NULL) > 0)
        ;
    if (getpid() != self)
        return 0;
    /* Every process reaped its own children, so the whole tree has ended: count the refusals. */
    close(refused[1]);
    char c;
    CASE_TRUE(read(refused[0], &c, 1) == 1);
    return 0;
}
