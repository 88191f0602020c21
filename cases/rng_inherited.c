/* forksan case: the parent seeds rand() with srand(5) and forks one child, and only the child draws
 * expect: rng-inherited warning
 */

/*
 * The child draws from the state it inherited without reseeding.  Nothing was duplicated in this
 * run, since no other process drew from that position, but the child's values are fixed by the
 * parent's seed: a second child forked the same way, or a parent that draws later, would repeat
 * them.  Hence a warning rather than an error.  The parent must not draw, even to check the
 * child's values, or the case would become rng-duplicated.
 */
#include "case_util.h"

#define NDRAWS 4

int main(void)
{
    pid_t pid;

    case_watchdog();
    srand(5);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        int bad = 0;

        for (int i = 0; i < NDRAWS; i++)
            bad |= rand() < 0;
        _exit(bad);
    }
    case_wait_child(pid);
    return 0;
}
