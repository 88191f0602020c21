/* forksan case: a pre-fork server seeds rand() once, then four workers all draw the same values
 * expect: rng-duplicated error
 */

/*
 * The pre-fork server pattern: the parent seeds once at start-up (srand(7)), forks a pool of
 * workers and never draws itself; every worker then draws "its own" random numbers, which are the
 * same in all of them.  One finding, naming the four siblings, not one per pair.  Each worker
 * writes its four values to one shared pipe in a single write (below PIPE_BUF, so atomic), and the
 * parent checks that all four workers drew the same values.
 */
#include "case_util.h"

#define NWORKERS 4
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
    srand(7);

    for (int w = 0; w < NWORKERS; w++) {
        pid_t pid = fork();

        CASE_SYS(pid);
        if (pid == 0) {
            int v[NDRAWS];

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
