/* forksan case: control, the child reseeds rand() with its own pid before drawing
 * expect: none
 */

/*
 * The fix for rng_rand_dup.c: the parent keeps drawing from srand(42) and the child reseeds with
 * srand(getpid()), a value no other process of the tree used, so the two lineages differ and
 * nothing is duplicated or inherited.  The parent was seeded, so not rng-unseeded either.  The
 * child sends its four values through a pipe and the parent checks they differ from its own.
 */
#include "case_util.h"

#define NDRAWS      4
#define PARENT_SEED 42

/* Reads exactly size bytes; the writer has already exited, so this cannot block for long. */
static void read_full(int fd, void *buf, size_t size)
{
    char *p = buf;

    while (size > 0) {
        ssize_t got = read(fd, p, size);

        if (got == -1 && errno == EINTR)
            continue;
        CASE_TRUE(got > 0);
        p += got;
        size -= (size_t)got;
    }
}

int main(void)
{
    int mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));
    srand(PARENT_SEED);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        int v[NDRAWS];

        srand((unsigned int)getpid());
        for (int i = 0; i < NDRAWS; i++)
            v[i] = rand();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    /* A child pid equal to the parent's seed would make this a duplicate: fail rather than lie. */
    CASE_TRUE(pid != PARENT_SEED);
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) != 0);
    return 0;
}
