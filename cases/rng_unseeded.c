/* forksan case: rand() is never seeded, and parent and child both draw from its default state
 * expect: rng-duplicated error
 * expect: rng-unseeded note
 */

/*
 * Two findings.  Parent and child draw at the same position of the same lineage, the default
 * seed, so they draw the same values: rng-duplicated.  And the program never seeded rand() at
 * all, so every run of it, in every process, starts from the same sequence: rng-unseeded, once
 * for the program (parent and child are the same executable and the same generator family).  The
 * child sends its four values through a pipe and the parent checks they equal its own.
 */
#include "case_util.h"

#define NDRAWS 4

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

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        int v[NDRAWS];

        for (int i = 0; i < NDRAWS; i++)
            v[i] = rand();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
