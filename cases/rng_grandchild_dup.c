/* forksan case: a grandchild draws the same rand() values as its grandparent, through two forks
 * expect: rng-duplicated error
 */

/*
 * The seeded state survives any number of forks: main seeds with srand(11) and forks a child
 * that draws nothing and only forks a grandchild.  Main and the grandchild then each draw four
 * values from the same lineage at the same position, so they are equal although the two
 * processes are not parent and child.  The grandchild passes its values up to the middle child
 * through one pipe, the middle child relays them to main through another, and main checks they
 * equal its own, so the case fails natively too if the hazard did not happen.  The children use
 * only async-signal-safe calls and leave with _exit, passing any failure as their status.
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

/* The grandchild: draws and writes its values to its parent. */
static void grandchild(int up)
{
    int v[NDRAWS];

    for (int i = 0; i < NDRAWS; i++)
        v[i] = rand();
    _exit(write(up, v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
}

/* The middle child: forks the grandchild, reaps it and relays its values to main.  No stdio and
 * no case_util helpers here (a forked child); the exit status says what went wrong. */
static void middle(int up)
{
    int fds[2], status = 0, v[NDRAWS];
    ssize_t got;
    pid_t pid;

    alarm(CASE_WATCHDOG_SECONDS); /* alarms are not inherited by fork */
    if (pipe(fds) == -1)
        _exit(3);
    pid = fork();
    if (pid == -1)
        _exit(4);
    if (pid == 0) {
        close(fds[0]);
        grandchild(fds[1]);
    }
    close(fds[1]);
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            _exit(5);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        _exit(6);
    /* The writer has exited and wrote less than PIPE_BUF in one call: one read gets it all. */
    do
        got = read(fds[0], v, sizeof v);
    while (got == -1 && errno == EINTR);
    if (got != (ssize_t)sizeof v)
        _exit(7);
    _exit(write(up, v, sizeof v) == (ssize_t)sizeof v ? 0 : 8);
}

int main(void)
{
    int mine[NDRAWS], theirs[NDRAWS];
    int fds[2];
    pid_t pid;

    case_watchdog();
    CASE_SYS(pipe(fds));
    srand(11);

    pid = fork();
    CASE_SYS(pid);
    if (pid == 0) {
        close(fds[0]);
        middle(fds[1]);
    }
    CASE_SYS(close(fds[1]));
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand();
    case_wait_child(pid);

    read_full(fds[0], theirs, sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);
    return 0;
}
