/* forksan case: parent and child both draw erand48() from one caller-held xsubi buffer
 * expect: rng-duplicated error
 */

/*
 * erand48() keeps its state in a buffer the caller passes, here an array initialised once in
 * main.  fork copies it to the same address with the same contents, so the two processes draw the
 * same doubles.  No seeding call is involved: the caller filled the buffer itself, which is this
 * family's way of seeding, so rng-unseeded does not apply.  The child sends its four values
 * through a pipe and the parent checks they are bit-for-bit its own.
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
    unsigned short xsubi[3] = {0x1234, 0x5678, 0x9abc};
    double mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        double v[NDRAWS];

        for (int i = 0; i < NDRAWS; i++)
            v[i] = erand48(xsubi);
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = erand48(xsubi);
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
