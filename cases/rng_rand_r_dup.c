/* forksan case: parent and child both draw rand_r() from one seed variable copied by fork
 * expect: rng-duplicated error
 */

/*
 * rand_r() is the "reentrant" rand: its whole state is the unsigned int the caller passes.  That
 * makes it thread-safe, not fork-safe: fork copies the variable, and parent and child draw the same
 * values.  Setting the variable is this generator's seeding, so rng-unseeded does not apply.  The
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
    unsigned int seed = 2024;
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
            v[i] = rand_r(&seed);
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand_r(&seed);
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
