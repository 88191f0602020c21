/* forksan case: control: a process-shared semaphore held at fork, taken by the child once posted
 * expect: lock-held-at-fork note acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * on-deadlock: abort
 */

/*
 * sem_init with pshared != 0 makes a semaphore meant for several processes (glibc marks it
 * shared in the object, as every sem_open semaphore): a post from the parent releases it, so the
 * child inheriting it at value 0 is no hazard.  The holder lives on in the parent and releases
 * it when the child says it is about to take it, so the child's blocking call returns and the
 * child finishes normally: no child-deadlock, and the abort policy must not touch the call (it
 * would kill the child).  The held state stays visible as a note.  The threads-at-fork warning
 * stands: the child goes on without exec after a multi-threaded fork.
 */
#include <semaphore.h>
#include <sys/mman.h>

#include "case_util.h"

static sem_t *shared;
static int go[2];
static pthread_barrier_t held;

static void *holder(void *arg)
{
    pid_t child;

    (void)arg;
    CASE_SYS(sem_wait(shared)); // @held
    case_barrier_wait(&held);
    CASE_TRUE(read(go[0], &child, sizeof child) == (ssize_t)sizeof child);
    case_wait_futex_sleep(child); /* the child blocks on it */
    CASE_SYS(sem_post(shared));
    return NULL;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;

    case_watchdog();
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CASE_TRUE(shared != MAP_FAILED);
    CASE_SYS(sem_init(shared, 1, 1));
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
        if (sem_wait(shared) != 0)
            _exit(1);
        _exit(sem_post(shared) == 0 ? 0 : 1);
    }
    case_wait_child(pid);

    CASE_OK(pthread_join(thread, NULL));
    CASE_SYS(sem_destroy(shared));
    return 0;
}
