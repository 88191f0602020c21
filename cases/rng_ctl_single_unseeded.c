/* forksan case: a program that never forks draws from rand() without ever seeding it
 * expect: rng-unseeded note
 */

/*
 * Without fork there is nothing to duplicate or inherit, but rand() was never seeded, so this
 * program draws the same sequence on every run: a note, nothing more.
 */
#include "case_util.h"

#define NDRAWS 4

int main(void)
{
    case_watchdog();
    for (int i = 0; i < NDRAWS; i++)
        CASE_TRUE(rand() >= 0);
    return 0;
}
