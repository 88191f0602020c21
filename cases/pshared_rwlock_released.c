/* forksan case: control: a process-shared rwlock held at fork, taken by the child once released
 * expect: lock-held-at-fork note acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * on-deadlock: fail
 */

/*
 * glibc keeps PTHREAD_PROCESS_SHARED in the rwlock (__shared): its writer may be another
 * process, which can unlock it at any time, so the child inheriting it write-locked is no hazard.
 * The holder lives on in the parent and releases it when the child says it is about to take it, so
 * the child's blocking call returns and the child finishes normally: no child-deadlock, and the
 * fail policy must not touch the call (it would make it fail with ETIMEDOUT).  The held state stays
 * visible as a note.  The threads-at-fork warning stands: the child goes on without exec after a
 * multi-threaded fork.
 */
#include <semaphore.h>
#include <sys/mman.h>

#include "case_util.h"

static pthread_rwlock_t *shared;
static int go[2];
static pthread_barrier_t held;

static void *holder(void *arg)
{
    pid_t child;

    (void)arg;
    CASE_OK(pthread_rwlock_wrlock(shared)); // @held
    case_barrier_wait(&held);
    CASE_TRUE(read(go[0], &child, sizeof child) == (ssize_t)sizeof child);
    case_wait_futex_sleep(child); /* the child blocks on it */
    CASE_OK(pthread_rwlock_unlock(shared));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CASE_TRUE(shared != MAP_FAILED);
    pthread_rwlockattr_t attr;
    CASE_OK(pthread_rwlockattr_init(&attr));
    CASE_OK(pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
    CASE_OK(pthread_rwlock_init(shared, &attr));
    CASE_OK(pthread_rwlockattr_destroy(&attr));
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
        if (pthread_rwlock_wrlock(shared) != 0)
            _exit(1);
        _exit(pthread_rwlock_unlock(shared) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(pthread_rwlock_destroy(shared));
    return 0;
}
