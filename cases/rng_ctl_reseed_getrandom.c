/* forksan case: control, the child reseeds rand() from getrandom() bytes before drawing
 * expect: none
 */

/*
 * The robust fix: the child takes its new seed from the kernel (getrandom, a fork-safe source the
 * report counts as such), so it differs from the parent's srand(42) and from any other process's.
 * The parent draws from its own seed; nothing is shared.  A random seed that happened to be 42 is
 * drawn again, so the case is deterministic.  The child sends its four values through a pipe and
 * the parent checks they differ from its own.
 */
#include "case_util.h"

#include <sys/random.h>

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
        unsigned int seed;
        int v[NDRAWS];

        do {
            if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
                _exit(1);
        } while (seed == PARENT_SEED);
        srand(seed);
        for (int i = 0; i < NDRAWS; i++)
            v[i] = rand();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) != 0);
    return 0;
}
