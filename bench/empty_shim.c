/*
 * libforksan_empty.so: the "empty interposer" that forksan-bench runs as its reference variant. It
 * interposes exactly the calls the workloads make and passes each straight through to the next
 * definition, so its cost is that of LD_PRELOAD interposition itself (one more PLT hop, one
 * indirect call); whatever libforksan.so costs beyond it is the price of recording.
 *
 * How to add a function: add its pointer and a hook below, and one row to real_table. Keep the
 * hooks pure pass-through, otherwise the reference stops being one.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <unistd.h>

#define FS_EXPORT   __attribute__((visibility("default")))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static int (*real_mutex_lock)(pthread_mutex_t *);
static int (*real_mutex_unlock)(pthread_mutex_t *);
static int (*real_rwlock_rdlock)(pthread_rwlock_t *);
static int (*real_rwlock_unlock)(pthread_rwlock_t *);
static int (*real_spin_lock)(pthread_spinlock_t *);
static int (*real_spin_unlock)(pthread_spinlock_t *);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_post)(sem_t *);
static pid_t (*real_fork)(void);
static int (*real_rand)(void);
static double (*real_drand48)(void);
static int (*real_rwlock_wrlock)(pthread_rwlock_t *);
static int (*real_mtx_lock)(mtx_t *);
static int (*real_mtx_unlock)(mtx_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static long (*real_random)(void);
static long (*real_lrand48)(void);
static double (*real_erand48)(unsigned short[3]);
static int (*real_rand_r)(unsigned *);
static int (*real_random_r)(struct random_data *, int32_t *);
static int (*real_drand48_r)(struct drand48_data *, double *);

#if defined(__x86_64__)
#define COND_VERSION "GLIBC_2.3.2" /* not the GLIBC_2.2.5 compatibility condvar */
#else
#define COND_VERSION NULL
#endif

static const struct {
    const char *name;
    void **slot;
    const char *version; /* NULL: the default one */
} real_table[] = {
    {"pthread_mutex_lock", (void **)&real_mutex_lock, NULL},
    {"pthread_mutex_unlock", (void **)&real_mutex_unlock, NULL},
    {"pthread_rwlock_rdlock", (void **)&real_rwlock_rdlock, NULL},
    {"pthread_rwlock_unlock", (void **)&real_rwlock_unlock, NULL},
    {"pthread_spin_lock", (void **)&real_spin_lock, NULL},
    {"pthread_spin_unlock", (void **)&real_spin_unlock, NULL},
    {"sem_wait", (void **)&real_sem_wait, NULL},
    {"sem_post", (void **)&real_sem_post, NULL},
    {"fork", (void **)&real_fork, NULL},
    {"rand", (void **)&real_rand, NULL},
    {"drand48", (void **)&real_drand48, NULL},
    {"pthread_rwlock_wrlock", (void **)&real_rwlock_wrlock, NULL},
    {"mtx_lock", (void **)&real_mtx_lock, NULL},
    {"mtx_unlock", (void **)&real_mtx_unlock, NULL},
    {"pthread_cond_timedwait", (void **)&real_cond_timedwait, COND_VERSION},
    {"random", (void **)&real_random, NULL},
    {"lrand48", (void **)&real_lrand48, NULL},
    {"erand48", (void **)&real_erand48, NULL},
    {"rand_r", (void **)&real_rand_r, NULL},
    {"random_r", (void **)&real_random_r, NULL},
    {"drand48_r", (void **)&real_drand48_r, NULL},
};

/* Best effort: there is nothing left to do if stderr is gone. */
static void say(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, __builtin_strlen(s));
    (void)n;
}

/*
 * A missing symbol would otherwise become a jump to NULL much later; stop at once with the name.
 * Only write(2) here: this may run inside another library's constructor, before stdio is usable.
 */
static void resolve_all(void)
{
    for (size_t i = 0; i < sizeof(real_table) / sizeof(real_table[0]); i++) {
        void *fn = real_table[i].version
                       ? dlvsym(RTLD_NEXT, real_table[i].name, real_table[i].version)
                       : NULL;
        if (fn == NULL)
            fn = dlsym(RTLD_NEXT, real_table[i].name);
        if (fn == NULL) {
            say("libforksan_empty.so: dlsym(RTLD_NEXT) found no ");
            say(real_table[i].name);
            say("\n");
            _exit(127);
        }
        *real_table[i].slot = fn;
    }
}

__attribute__((constructor)) static void empty_shim_init(void)
{
    resolve_all();
}

/*
 * Another library's constructor may lock before ours has run, hence the check in each hook; it is
 * one predictable branch, the same guard a real interposer needs.
 */
#define PASS_THROUGH(real, ...)                                                                    \
    do {                                                                                           \
        if (UNLIKELY(real == NULL))                                                                \
            resolve_all();                                                                         \
        return real(__VA_ARGS__);                                                                  \
    } while (0)

FS_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    PASS_THROUGH(real_mutex_lock, m);
}

FS_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    PASS_THROUGH(real_mutex_unlock, m);
}

FS_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    PASS_THROUGH(real_rwlock_rdlock, rw);
}

FS_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    PASS_THROUGH(real_rwlock_unlock, rw);
}

FS_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
    PASS_THROUGH(real_spin_lock, s);
}

FS_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
    PASS_THROUGH(real_spin_unlock, s);
}

FS_EXPORT int sem_wait(sem_t *s)
{
    PASS_THROUGH(real_sem_wait, s);
}

FS_EXPORT int sem_post(sem_t *s)
{
    PASS_THROUGH(real_sem_post, s);
}

FS_EXPORT pid_t fork(void)
{
    PASS_THROUGH(real_fork);
}

FS_EXPORT int rand(void)
{
    PASS_THROUGH(real_rand);
}

FS_EXPORT double drand48(void)
{
    PASS_THROUGH(real_drand48);
}

FS_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    PASS_THROUGH(real_rwlock_wrlock, rw);
}

FS_EXPORT int mtx_lock(mtx_t *m)
{
    PASS_THROUGH(real_mtx_lock, m);
}

FS_EXPORT int mtx_unlock(mtx_t *m)
{
    PASS_THROUGH(real_mtx_unlock, m);
}

FS_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *t)
{
    PASS_THROUGH(real_cond_timedwait, c, m, t);
}

FS_EXPORT long random(void)
{
    PASS_THROUGH(real_random);
}

FS_EXPORT long lrand48(void)
{
    PASS_THROUGH(real_lrand48);
}

FS_EXPORT double erand48(unsigned short x[3])
{
    PASS_THROUGH(real_erand48, x);
}

FS_EXPORT int rand_r(unsigned *seed)
{
    PASS_THROUGH(real_rand_r, seed);
}

FS_EXPORT int random_r(struct random_data *d, int32_t *r)
{
    PASS_THROUGH(real_random_r, d, r);
}

FS_EXPORT int drand48_r(struct drand48_data *d, double *r)
{
    PASS_THROUGH(real_drand48_r, d, r);
}
