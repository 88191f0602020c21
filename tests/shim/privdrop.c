/* Privilege-drop program: a process that loses the way to its trace directory, then forks
 * while another thread holds a lock, in every way daemons do it.  Each scenario runs in a
 * process of its own:
 *
 *   setuid  setgroups, setgid, setuid(65534) (as nginx and apache workers), chdir("/"), fork;
 *           then close_range(3, ~0U), fork; closefrom(3), fork; dup2 onto the shim's kept
 *           descriptor numbers, fork
 *   rlimit  setrlimit(RLIMIT_NOFILE) soft limit 3, fork
 *   hard    soft and hard limit 3, fork: the child cannot have a file (named as untraced)
 *   chroot  chroot into an empty directory, chdir("/"), fork
 *
 * What the program can observe (return values, errno, the descriptor numbers it gets) is
 * printed, so that the test can compare a native run with a run under the shim; the last line
 * is "procs=N", the processes made, for the coverage check.  Needs root (exit 77 otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t go = PTHREAD_MUTEX_INITIALIZER;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&go);
    for (;;)
        pause();
    return NULL;
}

/* A thread holding `m` for good: every fork after this one copies a held lock. */
static void hold_lock(void)
{
    pthread_t t;
    pthread_mutex_lock(&go);
    if (pthread_create(&t, NULL, holder, NULL) != 0)
        _exit(3);
    pthread_mutex_lock(&go); /* until the holder has it */
}

/* Forks a child that only exits; returns 1 (one process made) or 0. */
static int fork_child(const char *what)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    int st = -1;
    if (p > 0)
        waitpid(p, &st, 0);
    printf("%s: fork %s, child status %d\n", what, p > 0 ? "ok" : "failed", st);
    return p > 0;
}

static void report(const char *what, int rc)
{
    printf("%s: %d (%s)\n", what, rc, rc < 0 ? strerror(errno) : "ok");
}

static int scenario_setuid(void)
{
    int n = 0;
    report("setgroups", setgroups(0, NULL));
    report("setgid", setgid(65534));
    report("setuid", setuid(65534));
    report("chdir", chdir("/"));
    hold_lock();
    n += fork_child("after setuid");
    report("close_range(3, ~0)", close_range(3, ~0U, 0));
    n += fork_child("after close_range");
    closefrom(3);
    int fd = open("/dev/null", O_RDONLY);
    printf("open after closefrom: fd %d\n", fd);
    n += fork_child("after closefrom");
    /* Where the shim keeps its descriptors (just below 1024): the program's dup2 wins. */
    for (int k = 990; k < 1024; k++)
        if (dup2(fd, k) != k)
            printf("dup2 onto %d failed: %s\n", k, strerror(errno));
    report("close(1000)", close(1000));
    n += fork_child("after dup2 onto high numbers");
    return n;
}

static int scenario_rlimit(int hard)
{
    hold_lock();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 3;
    if (hard)
        rl.rlim_max = 3;
    report(hard ? "setrlimit(NOFILE, 3, 3)" : "setrlimit(NOFILE, 3)",
           setrlimit(RLIMIT_NOFILE, &rl));
    int fd = open("/dev/null", O_RDONLY);
    printf("open at the limit: %d (%s)\n", fd, fd < 0 ? strerror(errno) : "ok");
    return fork_child(hard ? "after hard limit" : "after soft limit");
}

static int scenario_chroot(const char *jail)
{
    hold_lock();
    report("chroot", chroot(jail));
    report("chdir", chdir("/"));
    return fork_child("after chroot");
}

int main(int argc, char **argv)
{
    if (geteuid() != 0) {
        printf("# SKIP: needs root\n");
        return 77;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: shim_privdrop JAIL_DIR\n");
        return 2;
    }
    int procs = 1;
    const char *names[] = {"setuid", "rlimit", "hard", "chroot"};
    for (int i = 0; i < 4; i++) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            /* The count comes back as the exit status: the scenarios close every descriptor. */
            int n = i == 0   ? scenario_setuid()
                    : i == 1 ? scenario_rlimit(0)
                    : i == 2 ? scenario_rlimit(1)
                             : scenario_chroot(argv[1]);
            fflush(stdout);
            _exit(n);
        }
        int st = -1;
        waitpid(p, &st, 0);
        printf("%s: scenario made %d processes\n", names[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        procs += 1 + (WIFEXITED(st) ? WEXITSTATUS(st) : 0);
    }
    printf("procs=%d\n", procs);
    return 0;
}
