/* A child that forked with nothing to report gives its registry slot its own tid only when
 * something may read it (preload/snapshot.c, fs_registry_settle).  main (single-threaded, holding
 * nothing at its forks) makes two such workers.  The first forks while holding a mutex (so its
 * child writes a snapshot at once), the second starts a thread and forks.  Each grandchild's
 * snapshot must name the worker's own thread as the forker, tid = the worker's pid (not main's),
 * and the second's thread record must name the worker as the thread's creator.
 * shim_settle_tid.sh reads the traces. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t started, done;

static void *idle(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&done);
    return NULL;
}

static int wait_ok(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
                                                                                          : -1;
}

static int fork_and_wait(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(0);
    return wait_ok(pid);
}

static int worker_locked(void)
{
    pthread_mutex_lock(&lock);
    int rc = fork_and_wait();
    pthread_mutex_unlock(&lock);
    return rc == 0 ? 0 : 1;
}

static int worker_thread(void)
{
    pthread_t t;
    if (pthread_barrier_init(&started, NULL, 2) != 0 || pthread_barrier_init(&done, NULL, 2) != 0 ||
        pthread_create(&t, NULL, idle, NULL) != 0)
        return 1;
    pthread_barrier_wait(&started);
    int rc = fork_and_wait();
    pthread_barrier_wait(&done);
    pthread_join(t, NULL);
    return rc == 0 ? 0 : 1;
}

static pid_t start(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    if (pid < 0 || wait_ok(pid) < 0) {
        fprintf(stderr, "settle_tid: a worker failed\n");
        return -1;
    }
    return pid;
}

int main(void)
{
    pid_t a = start(worker_locked);
    pid_t b = a > 0 ? start(worker_thread) : -1;
    if (b < 0)
        return 1;
    printf("%d %d\n", (int)a, (int)b);
    return 0;
}
