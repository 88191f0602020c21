/* forksan case: parent and child both draw random_r() from one struct random_data copied by fork
 * expect: rng-duplicated error
 */

/*
 * The reentrant random_r family keeps its state in a struct random_data and a state table that
 * the caller owns; initstate_r(77) seeds them before fork.  Like rand_r, reentrant means
 * thread-safe, not fork-safe: the child gets both copied and draws the parent's values.  The child
 * sends its four values through a pipe and the parent checks they equal its own.
 */
#include "case_util.h"

#include <stdint.h>

#define NDRAWS 4

static struct random_data data;
static char table[64];

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
    int32_t mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));
    CASE_SYS(initstate_r(77, table, sizeof table, &data));

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        int32_t v[NDRAWS];
        int bad = 0;

        for (int i = 0; i < NDRAWS; i++)
            bad |= random_r(&data, &v[i]);
        if (bad)
            _exit(1);
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        CASE_SYS(random_r(&data, &mine[i]));
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
