/* forksan case: parent and child both draw random() from a 64-byte state set up by initstate()
 * expect: rng-duplicated error
 */

/*
 * initstate() makes random() draw from a buffer the program owns (here a 64-byte static one, a
 * TYPE_3-sized table of the smaller kind), seeded with 1234.  fork copies that buffer like any
 * other memory, so parent and child draw the same values.  The child sends its four values through
 * a pipe and the parent checks they equal its own.
 */
#include "case_util.h"

#define NDRAWS 4

static char state[64];

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
    CASE_TRUE(initstate(1234, state, sizeof state) != NULL);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        long v[NDRAWS];

        for (int i = 0; i < NDRAWS; i++)
            v[i] = random();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = random();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
