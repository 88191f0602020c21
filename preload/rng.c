/* Randomness: placeholder until the generator hooks land (see shim.h). */
#include "shim.h"

void fs_rng_before_fork(void)
{
}

void fs_rng_after_fork(int in_child)
{
    (void)in_child;
}

void fs_rng_flush(void)
{
}
