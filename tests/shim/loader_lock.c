/* A child must never block in the shim on a lock that a parent thread held at the fork.  One
 * thread churns a mutex and calls dl_iterate_phdr (which holds ld.so's dl_load_write_lock, a
 * lock glibc does not reset in the child) in a loop; the main thread forks children that use
 * that mutex (the shim unwinds there: fork-lock-race, child-deadlock) and end with exit(), whose
 * hook unwinds too.  Natively no child blocks; under the shim a child that unwinds while the
 * loader's lock is held by the vanished thread would block forever.  Each child gets 5 s.
 *
 * usage: shim_loader_lock [CHILDREN]   prints "ok - ..." or "not ok - ..." */
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static int count_modules(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    ++*(int *)arg;
    return 0;
}

static void *churn(void *arg)
{
    (void)arg;
    for (;;) {
        int n = 0;
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        dl_iterate_phdr(count_modules, &n);
    }
    return NULL;
}

/* Waits up to 5 s for the child; 1 when it had to be killed. */
static int reap(pid_t pid)
{
    struct timespec tick = {0, 2000000};
    for (int i = 0; i < 2500; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0)
            return 0;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
}

int main(int argc, char **argv)
{
    int children = argc > 1 ? atoi(argv[1]) : 200;
    pthread_t t;
    if (pthread_create(&t, NULL, churn, NULL) != 0) {
        printf("not ok - pthread_create failed\n");
        return 1;
    }
    int hung = 0;
    for (int i = 0; i < children; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("not ok - fork failed\n");
            return 1;
        }
        if (pid == 0) {
            if (pthread_mutex_trylock(&m) == 0)
                pthread_mutex_unlock(&m);
            exit(0);
        }
        hung += reap(pid);
    }
    if (hung) {
        printf("not ok - %d of %d children blocked\n", hung, children);
        return 1;
    }
    printf("ok - %d children, none blocked\n", children);
    return 0;
}
