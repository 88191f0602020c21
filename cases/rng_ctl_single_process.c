/* forksan case: control, a program that never forks seeds rand() and draws from it
 * expect: none
 */

/*
 * A seeded generator in a single process is just a generator: there is no second process to
 * repeat its values, and it was seeded, so nothing at all is reported.
 */
#include "case_util.h"

#define NDRAWS 4

int main(void)
{
    case_watchdog();
    srand(42);
    for (int i = 0; i < NDRAWS; i++)
        CASE_TRUE(rand() >= 0);
    return 0;
}
