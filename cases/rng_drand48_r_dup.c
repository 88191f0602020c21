/* forksan case: parent and child both draw lrand48_r() from one struct drand48_data copied by fork
 * expect: rng-duplicated error
 */

/*
 * The _r forms of the drand48 family take their state from a struct drand48_data the caller owns,
 * seeded here with srand48_r(31) before fork.  fork copies the struct to the same address, so
 * parent and child draw the same values.  The child sends its four values through a pipe and the
 * parent checks they equal its own.
 */
#include "case_util.h"

#define NDRAWS 4

static struct drand48_data data;

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
    long mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));
    CASE_SYS(srand48_r(31, &data));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        long v[NDRAWS];
        int bad = 0;

        for (int i = 0; i < NDRAWS; i++)
            bad |= lrand48_r(&data, &v[i]);
        if (bad)
            _exit(1);
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        CASE_SYS(lrand48_r(&data, &mine[i]));
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
