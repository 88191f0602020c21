/* forksan case: control, a prefork server: the master alone forks its workers in a loop, each worker ends with _exit
 * expect: none
 */

/*
 * Four workers from one loop in the master; each worker serves (here: nothing) and ends with _exit,
 * never reaching the loop again.  The master reaps them all.
 */
#include "case_util.h"

static void serve(void)
{
}

int main(void)
{
    pid_t workers[4];

    case_watchdog();
    for (int i = 0; i < 4; i++) {
        workers[i] = fork();
        CASE_SYS(workers[i]);
        if (workers[i] == 0) {
            serve();
            _exit(0);
        }
    }
    for (int i = 0; i < 4; i++)
        CASE_TRUE(case_reap_child(workers[i]) == 0);
    return 0;
}
