/* forksan case: control: a process-shared mutex held at fork, taken by the child once released
 * expect: lock-held-at-fork note acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * on-deadlock: abort
 */

/*
 * glibc keeps PTHREAD_PROCESS_SHARED in the mutex (bit 128 of __kind): its owner may be
 * another process, which can unlock it at any time, so the child inheriting it locked is no hazard.
 * The holder lives on in the parent and releases it when the child says it is about to take it, so
 * the child's blocking call returns and the child finishes normally: no child-deadlock, and the
 * abort policy must not touch the call (it would kill the child).  The held state stays visible as
 * a note.  The threads-at-fork warning stands: the child goes on without exec after a
 * multi-threaded fork.
 */
#include <semaphore.h>
#include <sys/mman.h>

#include "case_util.h"

static pthread_mutex_t *shared;
static int go[2];
static pthread_barrier_t held;

static void *holder(void *arg)
{
    pid_t child;

    (void)arg;
    CASE_OK(pthread_mutex_lock(shared)); // @held
    case_barrier_wait(&held);
    CASE_TRUE(read(go[0], &child, sizeof child) == (ssize_t)sizeof child);
    case_wait_futex_sleep(child); /* the child blocks on it */
    CASE_OK(pthread_mutex_unlock(shared));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CASE_TRUE(shared != MAP_FAILED);
    pthread_mutexattr_t attr;
    CASE_OK(pthread_mutexattr_init(&attr));
    CASE_OK(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
    CASE_OK(pthread_mutex_init(shared, &attr));
    CASE_OK(pthread_mutexattr_destroy(&attr));
    CASE_SYS(pipe(go));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        pid_t self = getpid();
        if (write(go[1], &self, sizeof self) != (ssize_t)sizeof self)
            _exit(1);
        if (pthread_mutex_lock(shared) != 0)
            _exit(1);
        _exit(pthread_mutex_unlock(shared) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(pthread_mutex_destroy(shared));
    return 0;
}
