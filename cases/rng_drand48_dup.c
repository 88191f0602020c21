/* forksan case: parent and child both draw drand48() after srand48(99) seeded it before fork
 * expect: rng-duplicated error
 */

/*
 * The drand48 family keeps one global 48-bit state in libc's data, copied by fork: after
 * srand48(99) in the parent, parent and child draw the same doubles.  The child sends its four
 * values through a pipe and the parent checks they are bit-for-bit its own.
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
    double mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));
    srand48(99);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        double v[NDRAWS];

        for (int i = 0; i < NDRAWS; i++)
            v[i] = drand48();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = drand48();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
