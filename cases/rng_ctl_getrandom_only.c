/* forksan case: control, parent and child take their randomness from getrandom() only
 * expect: none
 */

/*
 * getrandom() has no state in the process, so fork cannot duplicate it: each call asks the
 * kernel.  forksan records these calls as safe randomness, which must not turn into a finding.
 * The child sends its 16 bytes through a pipe and the parent checks they differ from its own.
 */
#include "case_util.h"

#include <sys/random.h>

#define NBYTES 16

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
    unsigned char mine[NBYTES], theirs[NBYTES];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        unsigned char v[NBYTES];

        if (getrandom(v, sizeof v, 0) != (ssize_t)sizeof v)
            _exit(1);
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    CASE_TRUE(getrandom(mine, sizeof mine, 0) == (ssize_t)sizeof mine);
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) != 0);
    return 0;
}
