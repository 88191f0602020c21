/* forksan case: pthread_mutex_lock and rand called through dlsym(dlopen("libc.so.6"))
 * expect: lock-held-at-fork warning acquire=@held fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock warning child=@childlock acquire=@held
 * expect: rng-duplicated error
 */

/*
 * Plugins and language runtimes resolve libc functions from libc's own handle, where dlsym
 * natively returns libc's definition and would bypass an LD_PRELOAD shim.  forksan's dlsym hands
 * out its interposers for them, so this program is traced like one that calls the functions
 * directly: the mutex a thread took through the pointer is held at fork (the child's bounded
 * trylock fails with EBUSY), and srand(42) through the pointer, then four draws in parent and
 * child, are the same sequence, which the parent checks.
 */
#include <dlfcn.h>

#include "case_util.h"

#define NDRAWS 4

static int (*lock_fn)(pthread_mutex_t *);
static int (*trylock_fn)(pthread_mutex_t *);
static int (*unlock_fn)(pthread_mutex_t *);
static void (*srand_fn)(unsigned);
static int (*rand_fn)(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    CASE_OK(lock_fn(&lock)); // @held
    case_barrier_wait(&held);
    case_barrier_wait(&release);
    CASE_OK(unlock_fn(&lock));
    return NULL;
}

static void *resolve(void *libc, const char *name)
{
    void *p = dlsym(libc, name);
    if (!p) {
        fprintf(stderr, "case: dlsym(%s): %s\n", name, dlerror());
        exit(2);
    }
    return p;
}

int main(void)
{
    pthread_t thread;
    pid_t pid;
    int fds[2], mine[NDRAWS], theirs[NDRAWS];

    case_watchdog();
    void *libc = dlopen("libc.so.6", RTLD_NOW);
    CASE_TRUE(libc != NULL);
    lock_fn = (int (*)(pthread_mutex_t *))resolve(libc, "pthread_mutex_lock");
    trylock_fn = (int (*)(pthread_mutex_t *))resolve(libc, "pthread_mutex_trylock");
    unlock_fn = (int (*)(pthread_mutex_t *))resolve(libc, "pthread_mutex_unlock");
    srand_fn = (void (*)(unsigned))resolve(libc, "srand");
    rand_fn = (int (*)(void))resolve(libc, "rand");

    CASE_SYS(pipe(fds));
    CASE_OK(pthread_barrier_init(&held, NULL, 2));
    CASE_OK(pthread_barrier_init(&release, NULL, 2));
    CASE_OK(pthread_create(&thread, NULL, holder, NULL));
    case_barrier_wait(&held);
    srand_fn(42);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        int v[NDRAWS];
        if (trylock_fn(&lock) != EBUSY) // @childlock
            _exit(1);
        for (int i = 0; i < NDRAWS; i++)
            v[i] = rand_fn();
        _exit(write(fds[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    for (int i = 0; i < NDRAWS; i++)
        mine[i] = rand_fn();
    case_wait_child(pid);
    CASE_TRUE(read(fds[0], theirs, sizeof theirs) == (ssize_t)sizeof theirs);
    CASE_TRUE(memcmp(mine, theirs, sizeof mine) == 0);

    case_barrier_wait(&release);
    CASE_OK(pthread_join(thread, NULL));
    CASE_OK(dlclose(libc));
    return 0;
}
