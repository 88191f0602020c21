/* A program that stops its own workers with a signal to its process group, as apache does:
 * forks two workers that wait for SIGTERM, then signals the whole group twice (kill(0, sig) or
 * killpg, by argv[1]), waits for the workers and exits 7.  Under forksan, which shares the
 * program's group, both signals reach forksan too; they are the program's and must not be taken
 * for the user's interrupt (tests/cli/run.sh compares with a native run). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopped;

static void on_term(int sig)
{
    (void)sig;
    stopped = 1;
}

int main(int argc, char **argv)
{
    int use_killpg = argc > 1 && strcmp(argv[1], "killpg") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0)
        return 1;
    sigset_t term, none;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &term, NULL); /* no signal lost between the check and the wait */
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            while (!stopped)
                sigsuspend(&none);
            _exit(0);
        }
    }
    struct timespec pause = {0, 100 * 1000 * 1000};
    for (int round = 0; round < 2; round++) {
        nanosleep(&pause, NULL);
        if (use_killpg ? killpg(getpgrp(), SIGTERM) : kill(0, SIGTERM))
            return 1;
        sigsuspend(&none); /* our own copy of the signal */
    }
    int status, ok = 0;
    while (wait(&status) > 0)
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("workers stopped: %d\n", ok);
    return ok == 2 ? 7 : 1;
}
