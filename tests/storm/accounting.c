/* How many forks --max-processes refuses, for children that end in four ways.  The shim counts a
 * child alive from its fork to its end; ended children that no one has reaped yet (zombies), and
 * children reaped by the kernel (SIGCHLD ignored), must not hold the count up, while children
 * that are still running must (storm.c, the split accounting).  Prints "refused N".
 *
 * usage: storm_accounting reaped|zombies|autoreap|live */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORKS 60

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 2 ? argv[1] : "";
    int reaped = !strcmp(mode, "reaped"), zombies = !strcmp(mode, "zombies"),
        autoreap = !strcmp(mode, "autoreap"), live = !strcmp(mode, "live");
    if (!reaped && !zombies && !autoreap && !live) {
        fprintf(stderr, "usage: storm_accounting reaped|zombies|autoreap|live\n");
        return 2;
    }
    if (autoreap)
        signal(SIGCHLD, SIG_IGN);
    pid_t kids[FORKS];
    int nkids = 0, refused = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            if (errno != EAGAIN) {
                perror("fork");
                return 1;
            }
            refused++;
            continue;
        }
        if (pid == 0) {
            if (live)
                pause(); /* until the parent kills it */
            _exit(0);
        }
        if (reaped)
            waitpid(pid, NULL, 0);
        else if (!autoreap)
            kids[nkids++] = pid;
        pause_ms(2); /* the child has ended (but for live ones) before the next fork */
    }
    for (int i = 0; i < nkids; i++) {
        if (live)
            kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    printf("refused %d\n", refused);
    return 0;
}
