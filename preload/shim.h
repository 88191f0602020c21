/* The shim's internal API: the recorder that the interposers (hooks_*.c) sit on.
 *
 * Layering: hooks_*.c are thin interposers that call the real function through fs_real and tell
 * the registry what happened; registry.c keeps threads and held locks in fixed static memory so
 * that a forked child can read its parent's state from its own copy; fork.c and snapshot.c do
 * the fork-time work; trace.c writes records.  Nothing here is exported from libforksan.so (the
 * version script exports only the interposed symbols). */
#ifndef FORKSAN_SHIM_H
#define FORKSAN_SHIM_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>

#define FS_HIDDEN      __attribute__((visibility("hidden")))
#define FS_LIKELY(x)   __builtin_expect(!!(x), 1)
#define FS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FS_CALLER()    ((uintptr_t)__builtin_return_address(0))
/* Where the fork path's code and data go (preload/hot.ld gathers them onto a few pages: after a
 * fork every page either process touches again costs a TLB miss, and in the child a walk of
 * fresh page-table entries).  FS_CHILD_PATH: the code of a forked child from fork() to its
 * _exit; FS_FORK_PATH: the parent's side of a fork and of the wait that reaps the child;
 * FS_HOT: a small variable either side reads there. */
#define FS_CHILD_PATH  __attribute__((section(".text.hot.fs_child")))
#define FS_FORK_PATH   __attribute__((section(".text.hot.fs_fork")))
#define FS_HOT         __attribute__((section(".data.fs_hot.1")))

/* ---- real functions (real.c) ------------------------------------------------------------ */

/* One pointer per interposed function.  How to add one: add the member here and one row to the
 * table in real.c; the hook calls fs_real.NAME after FS_REAL_READY(). */
struct fs_real_table {
    int (*pthread_mutex_lock)(pthread_mutex_t *);
    int (*pthread_mutex_trylock)(pthread_mutex_t *);
    int (*pthread_mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
    int (*pthread_mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
    int (*pthread_mutex_unlock)(pthread_mutex_t *);
    int (*pthread_mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
    int (*pthread_mutex_destroy)(pthread_mutex_t *);
    int (*pthread_rwlock_rdlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_tryrdlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
    int (*pthread_rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*pthread_rwlock_wrlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_trywrlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
    int (*pthread_rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*pthread_rwlock_unlock)(pthread_rwlock_t *);
    int (*pthread_rwlock_init)(pthread_rwlock_t *, const pthread_rwlockattr_t *);
    int (*pthread_rwlock_destroy)(pthread_rwlock_t *);
    int (*pthread_spin_lock)(pthread_spinlock_t *);
    int (*pthread_spin_trylock)(pthread_spinlock_t *);
    int (*pthread_spin_unlock)(pthread_spinlock_t *);
    int (*pthread_spin_init)(pthread_spinlock_t *, int);
    int (*pthread_spin_destroy)(pthread_spinlock_t *);
    int (*sem_wait)(sem_t *);
    int (*sem_trywait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*sem_init)(sem_t *, int, unsigned);
    int (*sem_destroy)(sem_t *);
    int (*pthread_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*pthread_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    int (*pthread_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                                  const struct timespec *);
    int (*mtx_lock)(mtx_t *);
    int (*mtx_trylock)(mtx_t *);
    int (*mtx_timedlock)(mtx_t *__restrict, const struct timespec *__restrict);
    int (*mtx_unlock)(mtx_t *);
    int (*mtx_init)(mtx_t *, int);
    void (*mtx_destroy)(mtx_t *);
    int (*cnd_wait)(cnd_t *, mtx_t *);
    int (*cnd_timedwait)(cnd_t *__restrict, mtx_t *__restrict, const struct timespec *__restrict);
    int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    int (*thrd_create)(thrd_t *, thrd_start_t, void *);
    int (*pthread_setname_np)(pthread_t, const char *);
    pid_t (*fork)(void);
    pid_t (*_Fork)(void);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                       const posix_spawnattr_t *, char *const[], char *const[]);
    int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);
    /* Randomness (hooks_rng.c).  `void *` stands for struct random_data * and struct
     * drand48_data * (this header does not include stdlib.h); the hooks call through the exact
     * types. */
    int (*rand)(void);
    void (*srand)(unsigned);
    long (*random)(void);
    void (*srandom)(unsigned);
    char *(*initstate)(unsigned, char *, size_t);
    char *(*setstate)(char *);
    int (*random_r)(void *, int32_t *);
    int (*srandom_r)(unsigned, void *);
    int (*initstate_r)(unsigned, char *, size_t, void *);
    int (*setstate_r)(char *, void *);
    double (*drand48)(void);
    long (*lrand48)(void);
    long (*mrand48)(void);
    void (*srand48)(long);
    unsigned short *(*seed48)(unsigned short[3]);
    void (*lcong48)(unsigned short[7]);
    double (*erand48)(unsigned short[3]);
    long (*nrand48)(unsigned short[3]);
    long (*jrand48)(unsigned short[3]);
    int (*drand48_r)(void *, double *);
    int (*lrand48_r)(void *, long *);
    int (*mrand48_r)(void *, long *);
    int (*srand48_r)(long, void *);
    int (*seed48_r)(unsigned short[3], void *);
    int (*lcong48_r)(unsigned short[7], void *);
    int (*erand48_r)(unsigned short[3], void *, double *);
    int (*nrand48_r)(unsigned short[3], void *, long *);
    int (*jrand48_r)(unsigned short[3], void *, long *);
    int (*rand_r)(unsigned *);
    ssize_t (*getrandom)(void *, size_t, unsigned); /* optional: NULL when libc lacks it */
    int (*getentropy)(void *, size_t);              /* optional */
    uint32_t (*arc4random)(void);                   /* optional (glibc >= 2.36) */
    void (*arc4random_buf)(void *, size_t);         /* optional */
    uint32_t (*arc4random_uniform)(uint32_t);       /* optional */
    void (*_exit)(int);
    void (*_Exit)(int);
    int (*__cxa_atexit)(void (*)(void *), void *, void *);
    int (*on_exit)(void (*)(int, void *), void *);
    /* Kept descriptors (keep_hooks.c); closefrom, prlimit* and dup3 may be missing (NULL). */
    int (*close)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    void (*closefrom)(int);
    int (*setuid)(uid_t);
    int (*seteuid)(uid_t);
    int (*setreuid)(uid_t, uid_t);
    int (*setresuid)(uid_t, uid_t, uid_t);
    int (*chroot)(const char *);
    int (*setrlimit)(int, const struct rlimit *);
    int (*prlimit)(pid_t, int, const struct rlimit *, struct rlimit *);
    int (*setrlimit64)(int, const struct rlimit64 *);
    int (*prlimit64)(pid_t, int, const struct rlimit64 *, struct rlimit64 *);
    int (*posix_spawn_file_actions_adddup2)(posix_spawn_file_actions_t *, int, int);
    /* Clearing close-on-exec (hooks_fd.c); fcntl64 may be missing (NULL). */
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    pid_t (*wait)(int *);
    pid_t (*waitpid)(pid_t, int *, int);
    pid_t (*wait3)(int *, int, struct rusage *);
    pid_t (*wait4)(pid_t, int *, int, struct rusage *);
    int (*waitid)(idtype_t, id_t, siginfo_t *, int);
};

FS_HIDDEN extern struct fs_real_table fs_real;
FS_HIDDEN extern int fs_real_ready;
FS_HIDDEN void fs_real_resolve(void);
/* For an optional row that is NULL (the C library lacks the function): fails as the call would
 * on a system without it, -1 with errno ENOSYS. */
FS_HIDDEN int fs_real_missing(void);
/* Hooks can run before our constructor (another library's constructor takes a lock). */
#define FS_REAL_READY()                                                                            \
    do {                                                                                           \
        if (FS_UNLIKELY(!__atomic_load_n(&fs_real_ready, __ATOMIC_ACQUIRE)))                       \
            fs_real_resolve();                                                                     \
    } while (0)

/* ---- the dynamic linker's lookups (libc_dl.c, hooks_dl.c) ----------------------------------
 *
 * The C library's dlsym and dlvsym, read from its symbol table because a reference by name from
 * inside the shim would bind to the shim's own interposers.  Every lookup the shim makes goes
 * through these pointers, so that glibc sees a return address inside the shim (RTLD_NEXT then
 * means "after libforksan"). */
struct fs_dl {
    void *(*dlsym)(void *, const char *);
    void *(*dlvsym)(void *, const char *, const char *);
    void *self; /* the shim's struct link_map, which is also its dlopen handle */
    int ready;
};
FS_HIDDEN extern struct fs_dl fs_dl;
FS_HIDDEN void fs_dl_resolve(void);
/* The shim's own exported definition of name (an interposer), or NULL. */
FS_HIDDEN void *fs_dl_own(const char *name);
/* The default-version definition of name in the first module loaded after `caller` (a struct
 * link_map) that defines it, skipping the shim when `skip_self`, read from the modules' symbol
 * tables, or NULL.  No dlerror() and no dynamic linker lookup: link maps of dependencies are not
 * valid dlsym handles. */
struct link_map;
FS_HIDDEN void *fs_dl_next_definition(const struct link_map *caller, const char *name,
                                      int skip_self);

/* ---- configuration (config.c): read once at start-up ------------------------------------- */

#define FS_PATH_MAX       4096
#define FS_LOCK_STACK_MAX 16
#define FS_FORK_STACK_MAX 64

enum fs_on_deadlock { FS_ON_DEADLOCK_WAIT = 0, FS_ON_DEADLOCK_FAIL, FS_ON_DEADLOCK_ABORT };
FS_HIDDEN const char *fs_deadlock_policy_name(int policy);

struct fs_config {
    int active;      /* FORKSAN_TRACE_DIR set and usable: record */
    int on_deadlock; /* FORKSAN_ON_DEADLOCK: enum fs_on_deadlock */
    int verbose;     /* FORKSAN_VERBOSE: the shim's own problems on stderr */
    int follow_exec; /* FORKSAN_FOLLOW_EXEC (default 1): keep the shim across exec */
    int lock_stack;  /* FORKSAN_LOCK_STACK: frames per acquisition (default 1) */
    char trace_dir[FS_PATH_MAX];
    /* FORKSAN_TRACE_DIR_ID: the directory's device and inode, set by the run's first image, so
     * that a later image (after chroot, or a directory swapped under the same path) never
     * writes into another directory of that name. */
    int have_dir_id;
    unsigned long long dir_dev, dir_ino;
    char self_path[FS_PATH_MAX]; /* this library, as the dynamic linker loaded it */
    /* "LD_PRELOAD=..." and every "FORKSAN_*=..." as at start-up, NUL-separated, for exec. */
    char saved_env[8192];
    size_t saved_env_len;
};

FS_HIDDEN extern struct fs_config fs_config;
FS_HIDDEN void fs_config_load(void);
/* Records the trace directory's identity for every later image (environment and exec). */
FS_HIDDEN void fs_config_set_dir_id(unsigned long long dev, unsigned long long ino);
/* Writes "forksan: <msg>\n" to stderr when FORKSAN_VERBOSE is set.  Async-signal-safe. */
FS_HIDDEN void fs_complain(const char *msg);

/* ---- registry (registry.c) --------------------------------------------------------------- */

#define FS_MAX_THREADS 4096
#define FS_HELD_MAX    32
#define FS_SEM_SLOTS   2048
#define FS_USED_MAX    64 /* locks a thread has used, direct-mapped (fork-lock-race); power of 2 */

enum fs_slot_state { FS_SLOT_FREE = 0, FS_SLOT_RESERVED, FS_SLOT_LIVE };

/* 32 bytes: the hooks index the stack with one shift, and no entry straddles a cache line. */
struct fs_held_entry {
    uintptr_t lock; /* 0 while an entry is being rewritten */
    uintptr_t site;
    union {
        struct {
            uint8_t kind, mode;
        };
        uint32_t kind_mode; /* both in one store of an immediate: kind | mode << 8 */
    };
    uint8_t pad_[12];
};

/* One lock a thread has acquired, tried or waited on, and where it did so last (fork-lock-race).
 * `tag` is the top byte of the site (user-space code addresses leave it zero): kind | mode << 4
 * of that last use, written with one byte store.  The entry is rewritten as lock = 0, site, lock
 * when another lock takes the bucket, so a child's snapshot never pairs one lock with another's
 * site. */
struct fs_used_entry {
    uintptr_t lock;
    union {
        uintptr_t site;
        struct {
            uint8_t site_bytes_[sizeof(uintptr_t) - 1];
            uint8_t tag;
        };
    };
};
#define FS_USED_SITE_MASK (((uintptr_t)1 << (8 * (sizeof(uintptr_t) - 1))) - 1)

struct fs_thread {
    int state; /* enum fs_slot_state, atomic */
    int tid;
    int creator;
    unsigned nheld; /* published with release order: entries below it are complete */
    unsigned lost;
    /* Draws from the global generators (enum fs_rng_family) by this thread, counted with a
     * plain increment by the thread alone: a draw costs no atomic (rng.c sums them). */
    uint64_t rng_draws[2];
    uintptr_t start_routine, create_site;
    uintptr_t start_arg0; /* first word of the start argument (a wrapper's real routine), or 0 */
    int py_line;          /* Python creation site (python.c), when py_line > 0 */
    char py_file[112];
    char py_func[40];
    uintptr_t blocked_on_sem; /* the sem this thread is inside sem_wait on, 0 when none */
    uintptr_t cond_wait;      /* the mutex this thread is inside a condition wait on, or 0 */
    unsigned used_overwritten; /* used[] entries overwritten by another lock (counted loss) */
    pthread_t self;
    void *(*user_fn)(void *);  /* pthread_create trampoline */
    thrd_start_t user_thrd_fn; /* thrd_create trampoline */
    void *user_arg;
    char name[16];
    /* Below held[0]: its lock is FS_HELD_GUARD, which no lock has, so the unlock fast path
     * compares held[nheld - 1] without testing for an empty stack first. */
    struct fs_held_entry guard;
    struct fs_held_entry held[FS_HELD_MAX];
    /* The locks this thread has used, indexed by address bits (fs_used_note). */
    struct fs_used_entry used[FS_USED_MAX];
};
#define FS_HELD_GUARD UINTPTR_MAX

/* Semaphores marked as signals (posted by a thread that had not decremented them, or counting
 * resources): the forked child never counts them as held (registry.c). */
struct fs_sem_slot {
    uintptr_t sem; /* claimed once, never evicted */
    int signal;
    int pad_;
};

FS_HIDDEN extern struct fs_thread fs_threads[FS_MAX_THREADS];
FS_HIDDEN extern struct fs_sem_slot fs_sems[FS_SEM_SLOTS];
FS_HIDDEN extern uintptr_t fs_lock_stacks[FS_MAX_THREADS][FS_HELD_MAX][FS_LOCK_STACK_MAX];
/* Threads without a slot; in fs_proc, whose page a forked child writes anyway, because the child
 * reads it (snapshot.c) and a variable of its own would cost the child a page fault per fork. */
#define fs_threads_lost (fs_proc.threads_lost)
FS_HIDDEN extern unsigned fs_threads_hwm; /* slots below it may be in use */
FS_HIDDEN extern int fs_sems_full;        /* a mark did not fit: every semaphore is a signal */

/* The calling thread's slot, claimed on first use; NULL when not recording. */
extern __thread struct fs_thread *fs_tls_self
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* The one "slow path needed" test of every hot hook: the calling thread's slot when its hooks
 * may take the straight-line fast path, NULL when anything else must happen first: start-up not
 * complete or not recording (no slot yet), deeper lock stacks (FORKSAN_LOCK_STACK > 1), a forked
 * child holding inherited locks (each acquisition is checked), the shim's own internal calls,
 * thread exit.  One TLS load and one branch; everything else is out of line. */
extern __thread struct fs_thread *fs_tls_fast
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* Whether threads of this process may use the fast path (see fs_tls_fast). */
FS_HIDDEN int fs_fast_allowed(void);
FS_HIDDEN struct fs_thread *fs_self_slow(void);
extern __thread int fs_tls_internal
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Non-zero while this thread is inside a call of the shim's that takes the dynamic loader's lock
 * (libunwind's dl_iterate_phdr, the module map refresh).  A signal handler that interrupts it and
 * forks must not take that non-recursive lock again: its stack capture and module refresh are
 * skipped instead (the fork is recorded without a stack). */
extern __thread int fs_tls_loader __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Around the shim's own calls into code that takes locks (libunwind, dl_iterate_phdr): hooks
 * reached from there pass through instead of recording, or claiming a second slot. */
#define FS_INTERNAL_BEGIN()                                                                        \
    struct fs_thread *fs_saved_self_ = fs_tls_self, *fs_saved_fast_ = fs_tls_fast;                 \
    fs_tls_self = NULL;                                                                            \
    fs_tls_fast = NULL;                                                                            \
    fs_tls_internal++
#define FS_INTERNAL_END()                                                                          \
    fs_tls_internal--;                                                                             \
    fs_tls_fast = fs_saved_fast_;                                                                  \
    fs_tls_self = fs_saved_self_

static inline struct fs_thread *fs_self(void)
{
    struct fs_thread *t = fs_tls_self;
    return FS_LIKELY(t != NULL) ? t : fs_self_slow();
}

/* errno of the calling thread without calling __errno_location.  On a forked child's way to its
 * first return, libc's page holding that function is one more page fault (a child gets no page
 * table entries for file-backed text, and a native child never runs that page); errno is libc's
 * initial-exec TLS, at one offset from the thread pointer in every thread.  fs_errno_off is set
 * once at start-up (fs_errno_setup); before that, errno itself. */
FS_HIDDEN extern long fs_errno_off;
FS_HIDDEN void fs_errno_setup(void);
static inline int *fs_errno_loc(void)
{
#if defined(__x86_64__)
    if (FS_LIKELY(fs_errno_off != 0)) {
        char *tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        return (int *)(tp + fs_errno_off);
    }
#endif
    return &errno;
}

FS_HIDDEN void fs_registry_init(void);
FS_HIDDEN struct fs_thread *fs_slot_reserve(void);
FS_HIDDEN void fs_slot_adopt(struct fs_thread *t);
FS_HIDDEN void fs_slot_release(struct fs_thread *t);
FS_HIDDEN void fs_held_push_deep(struct fs_thread *t, unsigned idx);
FS_HIDDEN int fs_gettid(void);

/* How many slots to scan: none at or above this index was ever used. */
static inline unsigned fs_threads_used(void)
{
    unsigned n = __atomic_load_n(&fs_threads_hwm, __ATOMIC_ACQUIRE);
    return n < FS_MAX_THREADS ? n : FS_MAX_THREADS;
}

static inline unsigned fs_slot_index(const struct fs_thread *t)
{
    return (unsigned)(t - fs_threads);
}

/* fork-lock-race: the calling thread used `lock` (acquired, tried or waited on it) at `site`.
 * One compare and two stores while the lock keeps its bucket; a forked child reads the tables
 * of the threads it lost (race.c).  Two choices: a lock whose bucket another lock holds goes to
 * the next bucket if that one is free (or already its own), and only when both are taken does it
 * replace the first, which is counted: a race on the evicted lock can then go unseen, and the
 * report says how often that happened. */
#define FS_USED_TAG(kind, mode) ((uint8_t)((kind) | (mode) << 4))
static inline __attribute__((always_inline)) void fs_used_note(struct fs_thread *t,
                                                               const void *lock, uint8_t tag,
                                                               uintptr_t site)
{
    unsigned b = (unsigned)((uintptr_t)lock >> 3) & (FS_USED_MAX - 1);
    struct fs_used_entry *u = &t->used[b];
    if (FS_UNLIKELY(u->lock != (uintptr_t)lock)) {
        struct fs_used_entry *v = &t->used[(b + 1) & (FS_USED_MAX - 1)];
        if (v->lock == (uintptr_t)lock) {
            u = v;
        } else {
            if (u->lock && !v->lock)
                u = v;
            else
                t->used_overwritten += u->lock != 0;
            __atomic_store_n(&u->lock, 0, __ATOMIC_RELAXED);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            u->site = site;
            u->tag = tag;
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            __atomic_store_n(&u->lock, (uintptr_t)lock, __ATOMIC_RELAXED);
            return;
        }
    }
    u->site = site;
    u->tag = tag;
}

/* Recording an acquisition is split in two so that almost nothing happens while the lock is
 * held (under contention, every nanosecond inside the critical section is paid by all waiters):
 * fs_held_prepare writes the entry past the published end before the real call, and
 * fs_held_commit publishes it with one store once the call succeeded.  An entry that is never
 * committed is simply overwritten by the next one.  Hot path: no syscall, no lock, no malloc.
 * Always inlined, also into the cold slow paths (which gcc optimizes for size): with
 * FORKSAN_LOCK_STACK the frames are counted from the function that commits. */
static inline __attribute__((always_inline)) struct fs_thread *
fs_held_prepare(const void *lock, int kind, int mode, uintptr_t site)
{
    struct fs_thread *t = fs_self();
    if (FS_UNLIKELY(!t))
        return NULL;
    unsigned n = t->nheld;
    if (FS_UNLIKELY(n >= FS_HELD_MAX)) {
        t->lost++;
        return NULL;
    }
    struct fs_held_entry *e = &t->held[n];
    e->site = site;
    e->kind = (uint8_t)kind;
    e->mode = (uint8_t)mode;
    e->lock = (uintptr_t)lock;
    fs_used_note(t, lock, FS_USED_TAG(kind, mode), site);
    return t;
}

static inline __attribute__((always_inline)) void fs_held_commit(struct fs_thread *t)
{
    if (FS_UNLIKELY(!t))
        return;
    unsigned n = t->nheld;
    if (FS_UNLIKELY(fs_config.lock_stack > 1))
        fs_held_push_deep(t, n);
    __atomic_store_n(&t->nheld, n + 1, __ATOMIC_RELEASE);
}

/* Both steps at once, where nothing runs in between (condition waits re-taking the mutex). */
static inline __attribute__((always_inline)) void fs_held_push(const void *lock, int kind, int mode,
                                                               uintptr_t site)
{
    fs_held_commit(fs_held_prepare(lock, kind, mode, site));
}

FS_HIDDEN void fs_held_remove_at(struct fs_thread *t, unsigned i, unsigned n);

/* Forgets the calling thread's most recent acquisition of lock; returns 1 if it had one.
 * Called before the real unlock, so the registry never claims a lock that is already free. */
static inline int fs_held_pop(const void *lock)
{
    struct fs_thread *t = fs_tls_self;
    if (FS_UNLIKELY(!t))
        return 0;
    unsigned n = t->nheld;
    for (unsigned i = n; i-- > 0;) {
        if (t->held[i].lock == (uintptr_t)lock) {
            if (FS_LIKELY(i == n - 1))
                __atomic_store_n(&t->nheld, n - 1, __ATOMIC_RELEASE);
            else
                fs_held_remove_at(t, i, n);
            return 1;
        }
    }
    return 0;
}

/* ---- the hooks' fast path ---------------------------------------------------------------
 * The same two steps as fs_held_prepare/fs_held_commit with nothing else to test than
 * fs_tls_fast and the stack's room: the entry written past the published end before the real
 * call, one store publishing it after a success.  NULL means: take the hook's slow path (out of
 * line), which records the same way plus whatever made fs_tls_fast NULL. */
static inline struct fs_thread *fs_fast_prepare(const void *lock, int kind, int mode,
                                                uintptr_t site)
{
    struct fs_thread *t = fs_tls_fast;
    if (FS_UNLIKELY(!t))
        return NULL;
    unsigned n = t->nheld;
    if (FS_UNLIKELY(n >= FS_HELD_MAX))
        return NULL;
    struct fs_held_entry *e = &t->held[n];
    e->site = site;
    e->kind_mode = (uint32_t)(kind | mode << 8);
    e->lock = (uintptr_t)lock;
    fs_used_note(t, lock, FS_USED_TAG(kind, mode), site);
    return t;
}

static inline void fs_fast_commit(struct fs_thread *t)
{
    __atomic_store_n(&t->nheld, t->nheld + 1, __ATOMIC_RELEASE);
}

/* Before a real release: 1 when the thread's newest entry was this lock and is now gone, 0 when
 * the slow path must look further (or there is no slot).  One compare covers an empty stack. */
static inline int fs_fast_pop(const void *lock)
{
    struct fs_thread *t = fs_tls_self;
    if (FS_UNLIKELY(!t))
        return 0;
    int i = (int)t->nheld - 1; /* -1: the guard, never equal */
    if (FS_LIKELY(t->held[i].lock == (uintptr_t)lock)) {
        __atomic_store_n(&t->nheld, (unsigned)i, __ATOMIC_RELEASE);
        return 1;
    }
    return 0;
}

/* For the blocking acquisitions of an owner-checked lock (pthread_mutex_lock, mtx_lock): the
 * entry is published before the real call, so that the hook can jump to it instead of calling
 * it.  While the call blocks, or after it failed (EDEADLK, EINVAL: programming errors), the
 * entry claims a mutex the thread does not own; the forked child writes an entry only when the
 * mutex's own owner field names the thread (snapshot.c), so this claims nothing false. */
static inline int fs_fast_push(const void *lock, int kind, int mode, uintptr_t site)
{
    struct fs_thread *t = fs_tls_fast;
    if (FS_UNLIKELY(!t))
        return 0;
    unsigned n = t->nheld;
    if (FS_UNLIKELY(n >= FS_HELD_MAX))
        return 0;
    struct fs_held_entry *e = &t->held[n];
    e->site = site;
    e->kind_mode = (uint32_t)(kind | mode << 8);
    e->lock = (uintptr_t)lock;
    fs_used_note(t, lock, FS_USED_TAG(kind, mode), site);
    __atomic_store_n(&t->nheld, n + 1, __ATOMIC_RELEASE);
    return 1;
}

/* Out of line, for the slow paths: the calling thread's newest entry of lock, 1 if it had one. */
FS_HIDDEN int fs_held_pop_slow(const void *lock);

/* Whether a live thread other than me holds lock now (a scan of the registry: not for hot paths). */
FS_HIDDEN int fs_held_by_other(uintptr_t lock, const struct fs_thread *me);

/* A lock re-initialised or destroyed: forget every entry of the calling thread for it. */
FS_HIDDEN void fs_held_forget(const void *lock);

/* Semaphores (registry.c): a decrement goes on the thread's stack of held locks, once. */
FS_HIDDEN void fs_sem_acquired(const sem_t *sem, uintptr_t site);
FS_HIDDEN int fs_sem_on_stack(const struct fs_thread *t, const sem_t *sem, unsigned n);
FS_HIDDEN int fs_sem_is_signal(uintptr_t sem);
FS_HIDDEN void fs_sem_posted(const sem_t *sem);
FS_HIDDEN void fs_sem_forget(const sem_t *sem);
FS_HIDDEN void fs_sem_initialized(const sem_t *sem, unsigned value);

/* Locks the child inherited held by a thread that does not exist in it (issue: child-deadlock). */
#define FS_INHERITED_MAX 256
struct fs_inherited {
    uintptr_t lock;
    int kind, mode, holder;
    int records; /* deadlock records written for it */
    int used;    /* the child called a lock function on it (conflicting or not) */
};
FS_HIDDEN extern struct fs_inherited fs_inherited[FS_INHERITED_MAX];
FS_HIDDEN extern unsigned fs_ninherited;

/* inherited.c.  Returns 1 when the policy makes the call fail (the hook returns its error), 0 to
 * go on with the real call; does not return under the abort policy.  `is_try`: a try or timed
 * variant, which fails by itself instead of blocking forever: recorded, never subject to the
 * policy.  (A timed condition wait is not one: after the timeout it reacquires the mutex.) */
FS_HIDDEN int fs_child_acquire(const void *lock, int mode, const char *call, int is_try);
/* The child re-initialised or destroyed `lock` with `call`: it leaves the set, and a `reinit`
 * record says whether the child had used it before (a fresh lock is not the inherited one). */
FS_HIDDEN void fs_inherited_forget(const void *lock, const char *call);

/* fork-lock-race (race.c): locks that vanished parent threads had used, checked at each of the
 * child's acquisitions. */
#define FS_RACE_MAX 4096 /* candidate locks in a child (race.c); < 65536 */
/* How many there are: in fs_proc, which the child writes anyway (see there). */
#define fs_nrace (fs_proc.nrace)
FS_HIDDEN void fs_race_collect(void); /* child, at fork, after the inherited set is built */
struct fs_linebuf;
FS_HIDDEN void fs_race_write_lost(struct fs_linebuf *lb, int forker_tid);
FS_HIDDEN void fs_race_check(const void *lock, int mode, const char *call, int is_try);
FS_HIDDEN void fs_race_forget(const void *lock);

/* In every lock hook's slow path, before the real call (a child with inherited locks never
 * takes the fast path).  `call` names the interposed function. */
#define FS_CHILD_CHECK_AS(call, lock, mode, is_try, fail_value)                                    \
    do {                                                                                           \
        if (FS_UNLIKELY(fs_ninherited | fs_nrace) && fs_child_acquire(lock, mode, call, is_try))              \
            return fail_value;                                                                     \
    } while (0)
#define FS_CHILD_CHECK(lock, mode, is_try, fail_value)                                             \
    FS_CHILD_CHECK_AS(__func__, lock, mode, is_try, fail_value)
/* In init and destroy hooks: a re-initialised lock is no longer the inherited one. */
#define FS_CHILD_FORGET(lock)                                                                      \
    do {                                                                                           \
        if (FS_UNLIKELY(fs_ninherited | fs_nrace))                                                 \
            fs_inherited_forget(lock, __func__);                                                   \
    } while (0)

/* ---- unwinding (unwind.c) ---------------------------------------------------------------- */

/* Return addresses of the caller's callers, innermost first, skipping `skip` frames above the
 * caller of this function.  Returns the count. */
FS_HIDDEN int fs_backtrace(uintptr_t *out, int max, int skip);
/* Finds ld.so's dl_load_write_lock, once at start-up (single-threaded). */
FS_HIDDEN void fs_unwind_init(void);
/* Atfork child handler: stacks are no longer captured in this child (fs_backtrace returns 0)
 * when a parent thread that did not come along was inside the unwinder or held the loader's
 * lock at the fork: unwinding would block on that lock forever. */
FS_HIDDEN void fs_unwind_after_fork_child(void);
/* ld.so's count of objects loaded (dl_iterate_phdr's dlpi_adds), read where it lives, without
 * the loader's lock; NULL when start-up could not place it. */
FS_HIDDEN extern const unsigned long long *fs_loader_counters;
/* hooks_mutex.c, for mutexes locked and unlocked inside FS_INTERNAL_BEGIN/END. */
FS_HIDDEN void fs_internal_lock_taken(const void *mutex);
FS_HIDDEN void fs_internal_lock_released(const void *mutex);

/* ---- trace files (trace.c) --------------------------------------------------------------- */

struct fs_linebuf;
/* Creates this image's file (checking the directory first when `check`); 0 or -1.  The file
 * stays open for the next fs_trace_begin. */
FS_HIDDEN int fs_trace_open_new(int check);
/* A writer over this process's file; NULL when not recording or the writer is busy.  Must be
 * paired with fs_trace_end. */
FS_HIDDEN struct fs_linebuf *fs_trace_begin(void);
FS_HIDDEN void fs_trace_end(struct fs_linebuf *lb);
/* Whether this process owns the trace it would write to (not a vfork child of its owner). */
FS_HIDDEN int fs_trace_owned(void);
/* fs_trace_begin without first writing what is pending (deferred child file, fork records). */
FS_HIDDEN struct fs_linebuf *fs_trace_begin_raw(void);
/* For small records: the caller's (stack) buffer instead of the shared writer; 0 or -1. */
FS_HIDDEN int fs_trace_begin_local(struct fs_linebuf *lb, char *buf, size_t cap);
FS_HIDDEN void fs_trace_end_local(struct fs_linebuf *lb);
#define FS_LOCAL_RECORD_MAX 2048
FS_HIDDEN void fs_trace_lost(struct fs_linebuf *lb, const char *what, long count);
/* The first records of an image: header, proc and mod. */
FS_HIDDEN void fs_trace_write_start(struct fs_linebuf *lb, const char *origin);
FS_HIDDEN void fs_trace_child_reset(void); /* in a forked child, before writing its file */
/* Module map: refreshed in the parent before fork, replayed into the child's file. */
FS_HIDDEN int fs_modmap_refresh(void); /* 1 when it changed */
FS_HIDDEN void fs_modmap_write(struct fs_linebuf *lb);
FS_HIDDEN int64_t fs_now_ns(void);
FS_HIDDEN void fs_proc_identity_load(void);
/* Small /proc files, async-signal-safe: one read of at most cap - 1 bytes, NUL-terminated (buf
 * empty on failure); the count, or -1.  fs_read_proc reads /proc/<pid>/<file> (pid 0: self), or
 * /proc/<pid>/task/<tid>/<file> when tid > 0. */
FS_HIDDEN ssize_t fs_read_small(const char *path, char *buf, size_t cap);
/* Copies size bytes of this process's memory at addr into out without risking a fault (an
 * unmapped address fails cleanly): 0, or -1. */
FS_HIDDEN int fs_read_self(uintptr_t addr, void *out, size_t size);
FS_HIDDEN ssize_t fs_read_proc(int pid, int tid, const char *file, char *buf, size_t cap);
/* The scheduler state letter of a process or thread ('R', 'S', 'Z'...) from its stat; 0 when
 * unreadable. */
FS_HIDDEN char fs_proc_state(int pid, int tid);
/* Both from one read of the stat file: the state letter (0 when unreadable) and, in name, the
 * thread's name as its comm file gives it without the newline ("" when unreadable). */
FS_HIDDEN char fs_proc_state_name(int pid, int tid, char *name, size_t cap);
/* The state letter snapshot.c read for a parent thread with its name in this child, or 0 when
 * it read none (race.c then reads it). */
FS_HIDDEN char fs_snapshot_thread_state(int tid);
/* Where fd points, from /proc/self/fd (a path, pipe:[n], socket:[n]); "" when unknown. */
FS_HIDDEN void fs_fd_target(int fd, char *out, size_t cap);
/* Calls fn for each entry of a /proc directory named by a number ("/proc/self/task",
 * "/proc/self/fd"), with the directory's own descriptor; no allocation.  0, or -1 when the
 * directory cannot be opened. */
FS_HIDDEN int fs_proc_dir_numbers(const char *path, void (*fn)(int num, int dirfd, void *arg),
                                  void *arg);
/* The scalars written around a fork, together in one cache line: after fork, every page either
 * process writes costs a copy-on-write fault, so the shim's own writes should touch one page. */
struct fs_proc {
    pid_t pid;
    int fork_lock; /* serializes forks; holds the owner's tid (fork.c) */
    int fork_seq;  /* this process's fork counter */
    int writer_lock;
    int created_fd;         /* a just-created trace file, open for its first batch; -1 */
    int child_file_pending; /* a forked child's file is still to be written (snapshot.c) */
    /* hooks_exit.c, here so that a child dirties no page of its own for them: */
    int forked_image; /* this image is a forked child that has not exec'd */
    int spawned;      /* this image called posix_spawn */
    int ended;        /* the end record was written */
    unsigned threads_lost; /* fs_threads_lost (registry.c) */
    int unwind_blocked;    /* a child that must not unwind (unwind.c) */
    unsigned nrace;        /* fs_nrace (race.c) */
    int storm_counted;     /* this process counts alive in the split accounting (storm.c) */
    int registry_pending;  /* a trivial child's forker tid, until fs_registry_settle */
} __attribute__((aligned(64)));
FS_HIDDEN extern struct fs_proc fs_proc;
#define fs_pid (fs_proc.pid)

/* ---- randomness (rng.c) -----------------------------------------------------------------
 *
 * Generator state lives in static memory like the registry; draws are counted and the first
 * values of each segment kept there, written at most once per segment.  These are the points
 * where the rest of the shim hands over to it: */
FS_HIDDEN void fs_rng_before_fork(void); /* parent, prepare handler: flush partial segments */
FS_HIDDEN void fs_rng_after_fork(int in_child); /* both sides: start new segments */
FS_HIDDEN void fs_rng_flush(void);              /* exec, exit, _exit: write what is pending */

/* The global generators whose draws the hooks count per thread (struct fs_thread.rng_draws):
 * glibc's random() state and the drand48 state. */
enum fs_rng_family { FS_RNG_FAM_RANDOM, FS_RNG_FAM_DRAND48, FS_RNG_FAMILIES };
/* Nonzero while the current segment of a family still wants values: its draws take the slow
 * path (fs_rng_draw_*), which stores them; otherwise a draw is one increment of the caller's
 * counter. */
FS_HIDDEN extern int fs_rng_want[FS_RNG_FAMILIES];
/* Draws of released slots and of threads without one (registry.c). */
FS_HIDDEN extern uint64_t fs_rng_draws_gone[FS_RNG_FAMILIES];
/* Every draw of the family so far, in this process image: O(threads), for the slow paths. */
FS_HIDDEN uint64_t fs_rng_draws_total(int family);

/* What the caller-held states' fast paths read and write of a generator instance (rng.c's
 * struct rng_inst begins with it).  `fast` is the instance's own verdict that a draw needs only
 * counting, one word per caller-state family: the state's address in the word of the instance's
 * family while its segment has its values and nothing wants the state re-read, FS_RNG_NO_ID
 * otherwise (every segment restart, at a seed, a reset, a fork on both sides, a flush, clears it
 * before anything else changes; an instance reused for another family clears every word first).
 * The hooks' whole test is then one compare of the word of their family with the state passed:
 * it is that state's instance, of that family, and fast.  FS_RNG_NO_ID is no state's address,
 * so a NULL state never passes.  Keeping the verdict in the instance, not in the thread's cache,
 * means a cache entry is one pointer: a signal handler that draws on the same thread can replace
 * it but never leave half of one behind, and a fork needs no epoch to invalidate it. */
#define FS_RNG_NO_ID        UINTPTR_MAX /* no state's address */
#define FS_RNG_FAST_WAYS    4           /* the caller-state families, FS_RNG_RANDOM_R onwards */
#define FS_RNG_FAST_IX(gen) ((gen) - FS_RNG_RANDOM_R)
struct fs_rng_hot {
    uintptr_t fast[FS_RNG_FAST_WAYS]; /* the state's address while a draw only counts (pos++) */
    uintptr_t id;    /* the state's address; 0 for glibc's built-in random table and drand48 */
    union {
        uint64_t expect; /* content families (erand48, rand_r): the contents after the last draw */
        uint32_t expect_w[2]; /* its two 32-bit words in memory order, for the erand48 hooks */
    };
    int64_t pos;     /* values drawn from the lineage so far (global families: see rng.c) */
    uint8_t gen;     /* enum fs_rng_gen */
};

/* The 48-bit state of the drand48 family, from its three 16-bit words. */
static inline uint64_t fs_x48(const unsigned short x[3])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The same value in two loads. */
    uint32_t lo;
    uint16_t hi;
    __builtin_memcpy(&lo, x, sizeof lo);
    __builtin_memcpy(&hi, x + 2, sizeof hi);
    return (uint64_t)lo | (uint64_t)hi << 32;
#else
    return (uint64_t)x[0] | (uint64_t)x[1] << 16 | (uint64_t)x[2] << 32;
#endif
}

/* Generator families, as named by the `gen` field of the trace. */
enum fs_rng_gen {
    FS_RNG_RANDOM,    /* rand, random and friends: glibc's global random() state */
    FS_RNG_DRAND48,   /* the global drand48 state */
    FS_RNG_RANDOM_R,  /* caller's struct random_data */
    FS_RNG_DRAND48_R, /* caller's struct drand48_data */
    FS_RNG_ERAND48,   /* caller's unsigned short xsubi[3] (erand48, nrand48, jrand48, *_r) */
    FS_RNG_RAND_R,    /* caller's unsigned int seed */
    FS_RNG_GEN_MAX
};
enum fs_rng_vtype { FS_RNG_INT, FS_RNG_DOUBLE };
/* Per thread and caller-state family, the instance of the state this thread last drew from
 * the slow way (a never-fast placeholder before): the fast path draws only while that instance's
 * fast word of the family is the state passed; a draw then counts in the instance itself (no
 * fold-back, no atomic, no lock).  Set by rng.c's slow path only. */
FS_HIDDEN extern __thread struct fs_rng_hot *fs_rng_tls[FS_RNG_GEN_MAX]
    __attribute__((tls_model("initial-exec")));
enum fs_rng_src {
    FS_RNG_SRC_GETRANDOM,
    FS_RNG_SRC_GETENTROPY,
    FS_RNG_SRC_ARC4RANDOM,
    FS_RNG_SRC_MAX
};

/* The hooks' side (hooks_rng.c), each called after the real call succeeded, only when
 * recording.  `value` is the drawn value as the trace shows it (integers sign-extended to 64
 * bits, doubles as their bits); `site` is the caller's return address.  The draw calls are the
 * hot path: no syscall, no lock, no malloc, unless a segment just got its fourth value. */
FS_HIDDEN void fs_rng_draw_random(uint64_t value, const char *call, uintptr_t site);
FS_HIDDEN void fs_rng_draw_drand48(uint64_t value, int vtype, const char *call, uintptr_t site);
/* Caller-state families: `before` is the state's contents read before the real call (erand48's
 * 48 bits, rand_r's 32, drand48_r's X; unused for random_r). */
FS_HIDDEN void fs_rng_draw_state(int gen, const void *state, uint64_t before, uint64_t value,
                                 int vtype, const char *call, uintptr_t site);
/* Seeding calls: `value` is the seed as the caller gave it (srand48: its low 32 bits, seed48 and
 * lcong48: the 48-bit X). */
FS_HIDDEN void fs_rng_seed_random(uint64_t value, const char *call, uintptr_t site);
FS_HIDDEN void fs_rng_seed_drand48(uint64_t value, const char *call, uintptr_t site);
FS_HIDDEN void fs_rng_seed_state(int gen, const void *state, uint64_t value, const char *call,
                                 uintptr_t site);
/* initstate/setstate made `buf` random()'s state; `old` is what they returned. */
FS_HIDDEN void fs_rng_switch_random(const void *buf, const void *old);
/* setstate_r: the random_data now draws from a state the shim knows nothing about. */
FS_HIDDEN void fs_rng_reset_state(int gen, const void *state);
FS_HIDDEN void fs_rng_safe(int src);

/* ---- fork (fork.c, snapshot.c) ----------------------------------------------------------- */

FS_HIDDEN void fs_fork_init(void);

/* The child side, async-signal-safe: reads the inherited registry and writes the child's file. */
FS_HIDDEN void fs_snapshot_write(void);
/* Writes a deferred child file (see snapshot.c) before anything else is recorded. */
FS_HIDDEN void fs_snapshot_flush(void);
/* A trivial child gives the forker's registry slot its own tid only when something may read it
 * (snapshot.c): before a record, a fork, a thread creation. */
FS_HIDDEN void fs_registry_settle(void);

struct fs_fork_ctx {
    int valid; /* prepare ran and recorded this fork */
    int seq;
    int parent_pid;
    int forker_tid;
    int via;
    int64_t time;
    int nframes;
    uintptr_t frames[FS_FORK_STACK_MAX];
    uint64_t pykey; /* the Python stack's key (py_state.c), 0 when not forked from Python */
    int pydepth;
    int ntids;
    int tids_lost;
    int tids[FS_MAX_THREADS];
};
FS_HIDDEN extern struct fs_fork_ctx fs_fork_ctx;

/* forkrec.c: the parent's `fork` records, buffered; flushed before any other record and at
 * exit. */
FS_HIDDEN void fs_fork_record(const struct fs_fork_ctx *ctx);
/* The fields the parent's `fork` record and the child's `child` record share (via, time,
 * frames, the Python stack key), in that order; async-signal-safe. */
FS_HIDDEN void fs_fork_write_where(struct fs_linebuf *lb, const struct fs_fork_ctx *ctx);
FS_HIDDEN void fs_fork_record_failed(int seq, int err);
FS_HIDDEN void fs_fork_records_flush(void); /* only if the fork lock is free at once */
FS_HIDDEN void fs_fork_records_flush_final(void); /* exit, exec: waits (bounded) for the lock */
FS_HIDDEN void fs_fork_unrecorded(void);         /* a fork the recorder could not take */

/* The shim's own bounded lock (registry.c): 0 when taken, -1 when it gave up.  `me` is the tid
 * stored in the word; fs_spin_release frees it. */
FS_HIDDEN int fs_owner_lock_try(int *lock, int me);
FS_HIDDEN void fs_spin_release(int *lock);

/* ---- state copied by fork: streams, exit, reaping, fork limits -------------------------------
 * (stdio_state.c, py_state.c, hooks_exit.c, storm.c).  None of it is on a lock or draw path. */

#define FS_STREAMS_MAX  16
#define FS_STREAM_BYTES 32
enum fs_stream_layer { FS_LAYER_C = 0, FS_LAYER_PYTHON };
enum fs_buffering { FS_BUF_FULL = 0, FS_BUF_LINE, FS_BUF_NONE };

/* An output stream with bytes buffered and not yet written at this process's latest fork (or,
 * in a child, at the fork that made it: the table is copied with the rest of memory). */
struct fs_stream {
    int layer; /* enum fs_stream_layer */
    int fd;
    int buffering;  /* enum fs_buffering */
    uintptr_t id;   /* the FILE, or the Python stream object */
    uintptr_t base; /* C: the buffer's start, to tell later whether the bytes are still there */
    long pending;   /* bytes buffered */
    int nbytes;     /* how many of them are in bytes[] */
    char bytes[FS_STREAM_BYTES];
    char target[128]; /* /proc/self/fd/<fd> */
};
FS_HIDDEN extern struct fs_stream fs_streams[FS_STREAMS_MAX];
FS_HIDDEN extern unsigned fs_nstreams;

FS_HIDDEN void fs_stdio_init(void);
/* Prepare handler: fills fs_streams with the C streams that have pending output, then the
 * Python ones fs_pystate_before_fork captured for this very fork (fs_py_streams_append). */
FS_HIDDEN void fs_stdio_at_fork(int alone); /* alone: the forker is the only thread */
/* 1 when the bytes recorded at fork are still unwritten in the stream now. */
FS_HIDDEN int fs_stream_still_pending(const struct fs_stream *s);
FS_HIDDEN void fs_stdio_write_streams(struct fs_linebuf *lb); /* `stream` records */
FS_HIDDEN void fs_stdio_write_fates(struct fs_linebuf *lb);   /* `streamend` records */

/* py_state.c: CPython seen from the shim, only from a thread that holds the GIL, before the
 * real fork or in os._exit.  All of it does nothing in a process without libpython. */
struct fs_pystate_fork_state {
    int valid;          /* the fields below describe this process's latest fork */
    long atexit_count;  /* Python atexit callbacks registered at that fork, -1 unknown */
    uint64_t stack_key; /* hash of the Python stack (code object, line) at the fork; 0 none */
    int stack_depth;
};
FS_HIDDEN extern struct fs_pystate_fork_state fs_pystate_fork;
/* In the fork wrapper, before the real fork: the Python streams' pending output (appended to
 * fs_streams), the atexit callbacks and the Python stack. */
FS_HIDDEN void fs_pystate_before_fork(void);
FS_HIDDEN int fs_py_stream_still_pending(const struct fs_stream *s);
/* Appends the streams fs_pystate_before_fork captured on this thread for the fork being made. */
FS_HIDDEN void fs_py_streams_append(void);

/* hooks_fd.c: descriptors found open at an image's start (fd-inherited), and the ones the
 * program put in place on purpose (dup2/dup3, posix_spawn file actions). */
FS_HIDDEN void fs_fd_scan_start(void); /* at start-up, before the shim opens anything */
FS_HIDDEN void fs_fd_write_start(struct fs_linebuf *lb);
/* "3,7": descriptors above 2 placed on purpose; fa: a posix_spawn's file actions, or NULL. */
FS_HIDDEN void fs_fd_placed_list(const void *fa, char *out, size_t cap);
/* dup2/dup3 placed fd (flags: dup3's; O_CLOEXEC ones do not count). */
FS_HIDDEN void fs_fd_placed(int fd, int flags);

/* hooks_exit.c: how the process ends (enum fs_end_how). */
/* How an image ends: an enum, not its name, so that a trivial child's _exit reads no string
 * (the shim's read-only data sits in a 64 KiB window of its own, a page fault in a child). */
enum fs_end_how { FS_END_EXIT, FS_END__EXIT, FS_END_EXEC };
FS_HIDDEN void fs_end_record(int how, int status); /* status: _exit's, -1 unknown */
/* The same, for a caller that has just seen fs_trace_owned() (a child's _exit: one getpid). */
FS_HIDDEN void fs_end_record_owned(int how, int status);
FS_HIDDEN void fs_exit_forked(void);  /* child handler: this image is a forked child */
FS_HIDDEN void fs_exit_spawned(void); /* posix_spawn: this image may have children */
/* Defaults no sane test suite reaches, low enough to keep a 2-core machine usable. */
#define FS_STORM_DEFAULT_PROCESSES 512
#define FS_STORM_DEFAULT_FORKS     100000
/* storm.c: the tree-wide fork limits (FORKSAN_MAX_PROCESSES, FORKSAN_MAX_FORKS). */
FS_HIDDEN void fs_storm_init(void);
/* In the fork wrapper: 0 to go on, -1 when the fork must fail with EAGAIN (recorded). */
FS_HIDDEN int fs_storm_reserve(const uintptr_t *frames, int nframes);
FS_HIDDEN void fs_storm_fork_failed(void); /* the real fork failed after a reservation */
FS_HIDDEN void fs_storm_forked(pid_t pid); /* the parent, after a reserved fork succeeded */
FS_HIDDEN void fs_storm_child(void);       /* in the child handler */
/* exit and _exit: this process no longer counts; returns 1 when the end is to be counted by
 * fs_wait_stamp_exit instead (the split accounting of storm.c). */
FS_HIDDEN int fs_storm_end(void);
FS_HIDDEN void fs_storm_reaped(pid_t pid); /* a wait hook reaped pid */
/* hooks_wait.c: how long each reaped child was a zombie (FORKSAN_ZOMBIE_THRESHOLD_MS). */
#define FS_ZOMBIE_DEFAULT_MS 3000
FS_HIDDEN void fs_wait_init(void);
/* exit and _exit: when this process ended; `counted`: also count the end for storm.c. */
FS_HIDDEN void fs_wait_stamp_exit(int counted);
FS_HIDDEN int fs_wait_ready(void);            /* the exits file is mapped */
FS_HIDDEN int64_t fs_wait_ended_total(void);  /* ends counted by fs_wait_stamp_exit(1) */
FS_HIDDEN int fs_wait_has_ended(int pid);     /* pid's stamp is there (it ended, unreaped) */
/* ---- Python (python.c): CPython's stacks, thread and lock names, captured through its C API
 * before a fork made with the GIL held, and at a child's deadlock.  Plain data in static memory;
 * the child writes it with its snapshot. */
#define FS_PY_THREADS_MAX 64
#define FS_PY_FRAMES_MAX  1024
#define FS_PY_STACK_MAX   64
#define FS_PY_LOCKS_MAX   64
#define FS_PY_NOSTR       0xffffffffu
enum fs_py_status { FS_PY_OK, FS_PY_NOGIL, FS_PY_NOTHREAD };
enum fs_py_lock_role { FS_PY_LOCK_USER, FS_PY_LOCK_TSTATE, FS_PY_LOCK_REINIT };
struct fs_py_frame {
    unsigned file, func; /* offsets into pool, FS_PY_NOSTR when unknown */
    int line;
};
struct fs_py_thread {
    int tid; /* 0 when the shim does not know the thread */
    int forker;
    uintptr_t ident; /* threading.get_ident() */
    unsigned name;
    int first, nframes; /* its frames in frames[], innermost first */
};
struct fs_py_lock {
    uintptr_t addr; /* the sem_t under the lock object */
    int role;       /* enum fs_py_lock_role */
    int tid;
    unsigned name;
};
/* Rewritten before every fork made with the GIL held, and every page written then costs the
 * parent a copy-on-write fault: the small parts and the start of frames fit one page of the
 * page-aligned fs_py_fork (python.c), the start of the pool is the second. */
struct fs_py_capture {
    int owner_tid; /* the thread whose fork this capture is for; 0: none */
    int status;    /* enum fs_py_status */
    char version[24];
    unsigned stdlib;
    int nthreads, nframes, nlocks;
    int lost_frames, lost_threads, lost_locks, lost_strings;
    size_t pool_len;
    struct fs_py_thread threads[FS_PY_THREADS_MAX];
    struct fs_py_lock locks[FS_PY_LOCKS_MAX];
    struct fs_py_frame frames[FS_PY_FRAMES_MAX];
    char pool[32768];
};
FS_HIDDEN extern struct fs_py_capture fs_py_fork;
FS_HIDDEN void fs_py_before_fork(void);
FS_HIDDEN void fs_py_write(struct fs_linebuf *lb, const struct fs_py_capture *c, const char *of);
FS_HIDDEN void fs_py_write_fork(struct fs_linebuf *lb, int forker_tid);
/* py_state.c: a name for a lock of a Python object found outside python.c's scans (a stream's
 * internal lock), added to this fork's capture when this thread made it. */
FS_HIDDEN void fs_py_name_lock(uintptr_t addr, const char *name);
FS_HIDDEN void fs_py_deadlock(void);
/* The calling thread's Python stack in a forked child, written as `python of=<of>` records. */
FS_HIDDEN void fs_py_child_stack(const char *of);
struct fs_thread;
FS_HIDDEN void fs_py_thread_site(struct fs_thread *t);
/* Changes whenever a module is loaded (dl_iterate_phdr's adds counter, last seen). */
FS_HIDDEN unsigned long long fs_modmap_generation(void);

#endif
