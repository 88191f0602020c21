/* Children killed right after fork: a multi-threaded parent (its children write their file at
 * once, from the fork handler) forks and sends SIGKILL at once, over and over.  Whatever each
 * child had written must read back whole: no file, an empty one, or complete records (the
 * first batch is one write), never a torn record that `forksan report` would call damage. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *busy(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        usleep(50);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, busy, NULL) != 0)
        return 2;
    int killed = 0;
    for (int i = 0; i < 300; i++) {
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                pause();
        }
        if (p < 0)
            return 1;
        if (i % 3)
            usleep((useconds_t)(i % 7) * 100); /* kill at various points of the child's start */
        kill(p, SIGKILL);
        int st;
        if (waitpid(p, &st, 0) == p && WIFSIGNALED(st))
            killed++;
    }
    printf("ok - %d children killed right after fork\n", killed);
    return killed == 300 ? 0 : 1;
}
