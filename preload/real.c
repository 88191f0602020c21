/* Resolution of the real functions behind every interposer.
 *
 * One table, resolved with dlsym(RTLD_NEXT) once (and lazily if a hook runs before our
 * constructor).  pthread_cond_* exist in two ABI versions on x86_64: plain dlsym may hand back the
 * old GLIBC_2.2.5 compatibility symbol, which uses another condvar layout, so those are looked up
 * with dlvsym at the version current programs link against (as ThreadSanitizer does).  Resolution
 * is idempotent: two threads racing here store the same pointers.  The lookups go through the C
 * library's own dlsym/dlvsym (fs_dl), never the shim's interposers of them. */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

FS_HIDDEN struct fs_real_table fs_real FS_HOT;
FS_HIDDEN int fs_real_ready FS_HOT;

#if defined(__x86_64__)
#define COND_VERSION "GLIBC_2.3.2"
#elif defined(__aarch64__)
#define COND_VERSION "GLIBC_2.17"
#else
#define COND_VERSION NULL
#endif

struct real_row {
    const char *name;
    const char *version; /* NULL: the default version */
    size_t offset;       /* of the pointer in struct fs_real_table */
};

#define ROW(fn)                                                                                    \
    {                                                                                              \
#fn, NULL, offsetof(struct fs_real_table, fn)                                              \
    }
#define ROW_V(fn, ver)                                                                             \
    {                                                                                              \
#fn, ver, offsetof(struct fs_real_table, fn)                                               \
    }

static const struct real_row rows[] = {
    ROW(pthread_mutex_lock),
    ROW(pthread_mutex_trylock),
    ROW(pthread_mutex_timedlock),
    ROW(pthread_mutex_clocklock),
    ROW(pthread_mutex_unlock),
    ROW(pthread_mutex_init),
    ROW(pthread_mutex_destroy),
    ROW(pthread_rwlock_rdlock),
    ROW(pthread_rwlock_tryrdlock),
    ROW(pthread_rwlock_timedrdlock),
    ROW(pthread_rwlock_clockrdlock),
    ROW(pthread_rwlock_wrlock),
    ROW(pthread_rwlock_trywrlock),
    ROW(pthread_rwlock_timedwrlock),
    ROW(pthread_rwlock_clockwrlock),
    ROW(pthread_rwlock_unlock),
    ROW(pthread_rwlock_init),
    ROW(pthread_rwlock_destroy),
    ROW(pthread_spin_lock),
    ROW(pthread_spin_trylock),
    ROW(pthread_spin_unlock),
    ROW(pthread_spin_init),
    ROW(pthread_spin_destroy),
    ROW(sem_wait),
    ROW(sem_trywait),
    ROW(sem_timedwait),
    ROW(sem_clockwait),
    ROW(sem_post),
    ROW(sem_init),
    ROW(sem_destroy),
    ROW_V(pthread_cond_wait, COND_VERSION),
    ROW_V(pthread_cond_timedwait, COND_VERSION),
    ROW(pthread_cond_clockwait),
    ROW(mtx_lock),
    ROW(mtx_trylock),
    ROW(mtx_timedlock),
    ROW(mtx_unlock),
    ROW(mtx_init),
    ROW(mtx_destroy),
    ROW(cnd_wait),
    ROW(cnd_timedwait),
    ROW(pthread_create),
    ROW(thrd_create),
    ROW(pthread_setname_np),
    ROW(fork),
    ROW(_Fork),
    ROW(execve),
    ROW(execvpe),
    ROW(fexecve),
    ROW(execveat),
    ROW(posix_spawn),
    ROW(posix_spawnp),
    /* randomness; getrandom, getentropy and arc4random* may be missing (NULL) */
    ROW(rand),
    ROW(srand),
    ROW(random),
    ROW(srandom),
    ROW(initstate),
    ROW(setstate),
    ROW(random_r),
    ROW(srandom_r),
    ROW(initstate_r),
    ROW(setstate_r),
    ROW(drand48),
    ROW(lrand48),
    ROW(mrand48),
    ROW(srand48),
    ROW(seed48),
    ROW(lcong48),
    ROW(erand48),
    ROW(nrand48),
    ROW(jrand48),
    ROW(drand48_r),
    ROW(lrand48_r),
    ROW(mrand48_r),
    ROW(srand48_r),
    ROW(seed48_r),
    ROW(lcong48_r),
    ROW(erand48_r),
    ROW(nrand48_r),
    ROW(jrand48_r),
    ROW(rand_r),
    ROW(getrandom),
    ROW(getentropy),
    ROW(arc4random),
    ROW(arc4random_buf),
    ROW(arc4random_uniform),
    ROW(_exit),
    ROW(_Exit),
    ROW(__cxa_atexit),
    ROW(on_exit),
    /* kept descriptors (keep_hooks.c): called there only after a NULL check */
    ROW(close),
    ROW(dup2),
    ROW(dup3),
    ROW(closefrom),
    ROW(setuid),
    ROW(seteuid),
    ROW(setreuid),
    ROW(setresuid),
    ROW(chroot),
    ROW(setrlimit),
    ROW(prlimit),
    ROW(setrlimit64),
    ROW(prlimit64),
    ROW(posix_spawn_file_actions_adddup2),
    ROW(fcntl),
    ROW(fcntl64),
    ROW(ioctl),
    ROW(wait),
    ROW(waitpid),
    ROW(wait3),
    ROW(wait4),
    ROW(waitid),
};

void fs_real_resolve(void)
{
    fs_dl_resolve();
    if (!fs_dl.dlsym)
        return; /* no C library with a GNU hash table: the shim cannot work (fs_dl_resolve says so)
                 */
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        void *p = NULL;
        if (rows[i].version && fs_dl.dlvsym)
            p = fs_dl.dlvsym(RTLD_NEXT, rows[i].name, rows[i].version);
        if (!p)
            p = fs_dl.dlsym(RTLD_NEXT, rows[i].name);
        *(void **)((char *)&fs_real + rows[i].offset) = p;
    }
    __atomic_store_n(&fs_real_ready, 1, __ATOMIC_RELEASE);
}

int fs_real_missing(void)
{
    errno = ENOSYS;
    return -1;
}
