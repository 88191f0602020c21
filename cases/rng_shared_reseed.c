/* forksan case: three workers each reseed with srand(getppid()), the same value, then draw
 * expect: rng-duplicated error
 */

/*
 * Reseeding in the child is the right idea, but only with a value no other process uses.  Each
 * worker here seeds with its parent's pid, which all three share, so they draw the same values
 * although every one of them reseeded: the lineage is the seed value, not the seeding call.  One
 * finding naming the three siblings.  The parent never seeds or draws.  Each worker writes its four
 * values to one shared pipe in a single (atomic) write, and the parent checks that they agree.
 */
#include "case_util.h"

#define NWORKERS 3
#define NDRAWS   4

/* Reads exactly size bytes; the writers have already exited, so this cannot block for long. */
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
    int drawn[NWORKERS][NDRAWS];
    pid_t workers[NWORKERS];
    int fds[2];

    case_watchdog();
    CASE_SYS(pipe(fds));

    for (int w = 0; w < NWORKERS; w++) {
        pid_t pid = fork();

        CASE_SYS(pid);
        if (pid == 0) {
            int v[NDRAWS];

            srand((unsigned int)getppid());
            for (int i = 0; i < NDRAWS; i++)
                v[i] = rand();
            _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
        }
        workers[w] = pid;
    }
    CASE_SYS(close(fds[1]));
    for (int w = 0; w < NWORKERS; w++)
        case_wait_child(workers[w]);

    read_full(fds[0], drawn, sizeof drawn);
    for (int w = 1; w < NWORKERS; w++)
        CASE_TRUE(memcmp(drawn[0], drawn[w], sizeof drawn[0]) == 0);
    return 0;
}
