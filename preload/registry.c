/* The registry: which threads exist and which locks each holds, in fixed static memory.
 *
 * Static memory is the point: a forked child has an exact copy of it, taken by the kernel at the
 * instant of fork, so the child reads its parent's state without racing the parent's threads.
 * Each thread writes only its own slot (no atomics beyond release stores on x86-cheap fields);
 * readers are the forked children.  Slots are claimed with a CAS and recycled at thread exit
 * through a pthread key destructor, which runs for every way a pthread can end. */
#include "shim.h"
#include "trace_format.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The three big tables (26 MB, almost all of it never touched) go after every other variable of
 * the shim: the linker places `.lbss` after `.bss`, and the compiler emits these in reverse order,
 * so the live slots at the start of fs_threads follow the shim's small variables directly.  A fork
 * copies one page table per 2 MB range holding pages the parent has touched, and every child
 * frees them again (~2.5 us each on the project's VM): in between, the tables split the touched
 * state into three ranges, placed last they leave one or two (docs/performance.md, "Fork, fourth
 * pass"). */
FS_HIDDEN uintptr_t fs_lock_stacks[FS_MAX_THREADS][FS_HELD_MAX][FS_LOCK_STACK_MAX]
    __attribute__((section(".lbss.fs_lock_stacks")));
FS_HIDDEN struct fs_sem_slot fs_sems[FS_SEM_SLOTS] __attribute__((section(".lbss.fs_sems")));
/* fs_threads starts on a page: where a slot's fields fall within a page (the low 12 bits of their
 * addresses) is then fixed by the slot's index, not by the size of every variable before it.  A
 * store whose address matches a following load's in those bits alone (4K aliasing) delays the
 * load; the rand() hook's count in the caller's slot (rng_draws) is followed at once by glibc's
 * random() taking its lock, and when an unrelated change had put the first slot's count 4 bytes
 * below that lock's offset within its page (Debian's glibc 2.36), every rand() and random() cost
 * ~4.5 ns more (1.32x native instead of 0.95x; docs/performance.md, "Draws"). */
FS_HIDDEN struct fs_thread fs_threads[FS_MAX_THREADS]
    __attribute__((section(".lbss.fs_threads"), aligned(4096)));
FS_HIDDEN int fs_sems_full;
FS_HIDDEN struct fs_inherited fs_inherited[FS_INHERITED_MAX];
FS_HIDDEN unsigned fs_ninherited FS_HOT;

__thread struct fs_thread *fs_tls_self __attribute__((tls_model("initial-exec")));
__thread struct fs_thread *fs_tls_fast __attribute__((tls_model("initial-exec")));
/* Set once the thread's slot was released at exit: later lock calls from other keys'
 * destructors pass through instead of claiming a slot that nobody would release. */
static __thread int tls_exiting __attribute__((tls_model("initial-exec")));
__thread int fs_tls_internal __attribute__((tls_model("initial-exec")));

FS_HIDDEN unsigned fs_threads_hwm FS_HOT;

static pthread_key_t slot_key;
static int slot_key_ok;

int fs_gettid(void)
{
#if defined(__x86_64__)
    /* The instruction itself: libc's syscall() sits on a text page that a forked child, which
     * asks for its tid before returning from fork, would otherwise fault in on every fork. */
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_gettid) : "rcx", "r11", "memory");
    return (int)r;
#else
    return (int)syscall(SYS_gettid);
#endif
}

static void slot_destructor(void *p)
{
    struct fs_thread *t = p;
    if (!t)
        return;
    tls_exiting = 1;
    fs_tls_fast = NULL;
    fs_tls_self = NULL;
    fs_slot_release(t);
}

void fs_registry_init(void)
{
    if (pthread_key_create(&slot_key, slot_destructor) == 0)
        slot_key_ok = 1;
}

static struct fs_thread *claim(unsigned i)
{
    int expect = FS_SLOT_FREE;
    if (__atomic_load_n(&fs_threads[i].state, __ATOMIC_RELAXED) != FS_SLOT_FREE ||
        !__atomic_compare_exchange_n(&fs_threads[i].state, &expect, FS_SLOT_RESERVED, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return NULL;
    struct fs_thread *t = &fs_threads[i];
    t->tid = 0;
    t->creator = 0;
    t->nheld = 0;
    t->lost = 0;
    t->start_routine = 0;
    t->start_arg0 = 0;
    t->py_line = 0;
    t->create_site = 0;
    t->blocked_on_sem = 0;
    t->cond_wait = 0;
    t->used_overwritten = 0;
    memset(t->used, 0, sizeof t->used); /* a new thread has used no lock */
    t->name[0] = '\0';
    t->guard.lock = FS_HELD_GUARD;
    return t;
}

/* Slots are used from the bottom up and freed slots reused first, so every scan (here and in
 * the forked child) stops at the high-water mark instead of touching all of the table: a
 * program with few threads never faults in the rest of it. */
struct fs_thread *fs_slot_reserve(void)
{
    unsigned hwm = fs_threads_used();
    for (unsigned i = 0; i < hwm; i++) {
        struct fs_thread *t = claim(i);
        if (t)
            return t;
    }
    for (;;) {
        unsigned i = __atomic_fetch_add(&fs_threads_hwm, 1, __ATOMIC_ACQ_REL);
        if (i >= FS_MAX_THREADS) {
            __atomic_store_n(&fs_threads_hwm, FS_MAX_THREADS, __ATOMIC_RELEASE);
            break;
        }
        struct fs_thread *t = claim(i);
        if (t)
            return t;
    }
    __atomic_fetch_add(&fs_threads_lost, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* Binds a reserved slot to the calling thread. */
void fs_slot_adopt(struct fs_thread *t)
{
    int saved = errno;
    t->tid = fs_gettid();
    t->self = pthread_self();
    if (slot_key_ok)
        pthread_setspecific(slot_key, t);
    fs_tls_self = t;
    fs_tls_fast = fs_fast_allowed() ? t : NULL;
    __atomic_store_n(&t->state, FS_SLOT_LIVE, __ATOMIC_RELEASE);
    errno = saved;
}

FS_HIDDEN uint64_t fs_rng_draws_gone[FS_RNG_FAMILIES];

/* Slots first, then the gone count: a slot released meanwhile is counted twice for a moment
 * (positions are allowed to be off by a few under concurrent draws), never lost. */
uint64_t fs_rng_draws_total(int family)
{
    uint64_t sum = 0;
    for (unsigned i = 0, n = fs_threads_used(); i < n; i++)
        sum += __atomic_load_n(&fs_threads[i].rng_draws[family], __ATOMIC_RELAXED);
    return sum + __atomic_load_n(&fs_rng_draws_gone[family], __ATOMIC_ACQUIRE);
}

void fs_slot_release(struct fs_thread *t)
{
    for (int f = 0; f < FS_RNG_FAMILIES; f++) {
        uint64_t n = __atomic_load_n(&t->rng_draws[f], __ATOMIC_RELAXED);
        if (n) {
            __atomic_fetch_add(&fs_rng_draws_gone[f], n, __ATOMIC_RELEASE);
            __atomic_store_n(&t->rng_draws[f], 0, __ATOMIC_RELAXED);
        }
    }
    __atomic_store_n(&t->nheld, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&t->state, FS_SLOT_FREE, __ATOMIC_RELEASE);
}

/* First lock call of a thread the shim did not see start (the main thread, threads created
 * before the shim or by raw clone): claim a slot for it. */
struct fs_thread *fs_self_slow(void)
{
    if (!fs_config.active || tls_exiting || fs_tls_internal)
        return NULL;
    struct fs_thread *t = fs_slot_reserve();
    if (!t)
        return NULL;
    fs_slot_adopt(t);
    return t;
}

int fs_fast_allowed(void)
{
    return fs_config.active && fs_config.lock_stack <= 1 && !fs_ninherited && !fs_nrace;
}

int fs_held_by_other(uintptr_t lock, const struct fs_thread *me)
{
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (t == me || __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != FS_SLOT_LIVE)
            continue;
        unsigned nh = __atomic_load_n(&t->nheld, __ATOMIC_ACQUIRE);
        for (unsigned k = 0; k < nh && k < FS_HELD_MAX; k++)
            if (__atomic_load_n(&t->held[k].lock, __ATOMIC_RELAXED) == lock)
                return 1;
    }
    return 0;
}

int fs_held_pop_slow(const void *lock)
{
    return fs_held_pop(lock);
}

void fs_held_push_deep(struct fs_thread *t, unsigned idx)
{
    uintptr_t *frames = fs_lock_stacks[fs_slot_index(t)][idx];
    int saved = errno; /* the unwinder may leave errno changed */
    FS_INTERNAL_BEGIN();
    int n = fs_backtrace(frames, fs_config.lock_stack, 2);
    FS_INTERNAL_END();
    errno = saved;
    (void)t;
    for (int i = n < 0 ? 0 : n; i < fs_config.lock_stack; i++)
        frames[i] = 0;
}

/* Removal from the middle: the last entry moves into the hole.  The hole's lock field is zeroed
 * first and written last, so a fork in between shows the child either the old entry, nothing,
 * or a duplicate of the moved one, never a mix of two entries. */
void fs_held_remove_at(struct fs_thread *t, unsigned i, unsigned n)
{
    struct fs_held_entry *hole = &t->held[i], *last = &t->held[n - 1];
    __atomic_store_n(&hole->lock, 0, __ATOMIC_RELEASE);
    hole->site = last->site;
    hole->kind = last->kind;
    hole->mode = last->mode;
    if (fs_config.lock_stack > 1)
        memcpy(fs_lock_stacks[fs_slot_index(t)][i], fs_lock_stacks[fs_slot_index(t)][n - 1],
               sizeof fs_lock_stacks[0][0]);
    __atomic_store_n(&hole->lock, last->lock, __ATOMIC_RELEASE);
    __atomic_store_n(&t->nheld, n - 1, __ATOMIC_RELEASE);
}

/* The lock's memory is about to become another lock (destroyed, or initialised anew): no
 * thread's earlier use of that address may count as a use of the new lock (fork-lock-race:
 * Python allocates and frees a lock per condition wait, so addresses are reused all the time).
 * Two buckets per live slot; the CAS leaves an entry another lock has taken since alone. */
static void used_forget(uintptr_t lock)
{
    unsigned b = (unsigned)(lock >> 3) & (FS_USED_MAX - 1);
    for (unsigned i = 0, n = fs_threads_used(); i < n; i++) {
        for (unsigned k = 0; k < 2; k++) { /* its bucket, and the next (fs_used_note) */
            uintptr_t expect = lock;
            struct fs_used_entry *u = &fs_threads[i].used[(b + k) & (FS_USED_MAX - 1)];
            if (__atomic_load_n(&u->lock, __ATOMIC_RELAXED) == lock)
                __atomic_compare_exchange_n(&u->lock, &expect, 0, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED);
        }
    }
}

void fs_held_forget(const void *lock)
{
    while (fs_held_pop(lock))
        ;
    if (fs_config.active)
        used_forget((uintptr_t)lock);
}

/* ---- semaphores ----------------------------------------------------------------------------
 * A semaphore decremented by a thread goes on that thread's own stack of held locks, like a
 * lock, and a post by the same thread takes it off again: the lock-like use costs what a mutex
 * costs, and FORKSAN_LOCK_STACK deepens it like any lock.  Only a post by another thread (or a
 * counting semaphore's initialization) touches the global table, marking the semaphore a signal
 * for good: the forked child then never counts it as held.  The table is open-addressed and a
 * mark is never evicted; when it is full, every semaphore counts as a signal (recording less,
 * never wrongly). */

#define SEM_PROBES 16

static inline unsigned sem_hash(uintptr_t sem)
{
    uint64_t h = (uint64_t)sem;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> 40) % FS_SEM_SLOTS;
}

/* The row of sem, claimed when `claim`; NULL when absent (or the table is full). */
static struct fs_sem_slot *sem_row(uintptr_t sem, int claim)
{
    unsigned h = sem_hash(sem);
    for (unsigned k = 0; k < SEM_PROBES; k++) {
        struct fs_sem_slot *s = &fs_sems[(h + k) % FS_SEM_SLOTS];
        uintptr_t cur = __atomic_load_n(&s->sem, __ATOMIC_ACQUIRE);
        if (cur == sem)
            return s;
        if (cur)
            continue;
        if (!claim)
            return NULL;
        uintptr_t expect = 0;
        if (__atomic_compare_exchange_n(&s->sem, &expect, sem, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE) ||
            expect == sem)
            return s;
    }
    return NULL;
}

static void sem_mark(const sem_t *sem, int signal)
{
    struct fs_sem_slot *s = sem_row((uintptr_t)sem, signal);
    /* Stored only when it changes: a semaphore posted by another thread before every fork (a
     * Python lock, a work queue) would otherwise write its row's page each time, and after a
     * fork every page the parent writes costs a copy-on-write fault. */
    if (s && __atomic_load_n(&s->signal, __ATOMIC_ACQUIRE) != signal)
        __atomic_store_n(&s->signal, signal, __ATOMIC_RELEASE);
    else if (signal)
        __atomic_store_n(&fs_sems_full, 1, __ATOMIC_RELEASE);
}

int fs_sem_is_signal(uintptr_t sem)
{
    if (__atomic_load_n(&fs_sems_full, __ATOMIC_ACQUIRE))
        return 1;
    const struct fs_sem_slot *s = sem_row(sem, 0);
    return s && __atomic_load_n(&s->signal, __ATOMIC_ACQUIRE);
}

int fs_sem_on_stack(const struct fs_thread *t, const sem_t *sem, unsigned n)
{
    for (unsigned i = 0; i < n && i < FS_HELD_MAX; i++)
        if (t->held[i].lock == (uintptr_t)sem)
            return 1;
    return 0;
}

/* The slow path's decrement: the same push, with a deeper stack when configured. */
void fs_sem_acquired(const sem_t *sem, uintptr_t site)
{
    struct fs_thread *t = fs_self();
    if (!t)
        return;
    unsigned n = t->nheld;
    if (n && fs_sem_on_stack(t, sem, n))
        return;
    fs_held_commit(fs_held_prepare(sem, FS_LOCK_SEM, FS_MODE_EXCL, site));
}

/* A post by the thread holding it releases it; a post by anyone else makes it a signal. */
void fs_sem_posted(const sem_t *sem)
{
    if (!fs_held_pop(sem) && fs_config.active)
        sem_mark(sem, 1);
}

/* A semaphore that starts above 1 counts resources; it is never a lock. */
void fs_sem_initialized(const sem_t *sem, unsigned value)
{
    fs_held_forget(sem);
    sem_mark(sem, value > 1);
}

void fs_sem_forget(const sem_t *sem)
{
    fs_held_forget(sem);
    sem_mark(sem, 0);
}

/* The shim's one lock for its own rare sections (fork, trace writing, exec's environment).  It
 * is bounded: it gives up rather than deadlock (a signal handler forking while its own thread
 * held it).  The word holds the owner's tid, which lets the fork handlers tell whether the fork
 * state is theirs, and lets a lock whose owner is no thread of this process any more be taken
 * over: an exec from a vfork child (which shares our memory) never releases what it took. */
FS_FORK_PATH int fs_owner_lock_try(int *lock, int me)
{
    /* Bounded in time rather than in tries: a fork holds the lock across fork(2), which in a
     * process with a thousand threads takes milliseconds on a loaded machine. */
    int64_t give_up = 0;
    for (int i = 0;; i++) {
        int owner = 0;
        if (__atomic_compare_exchange_n(lock, &owner, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 0;
        if (owner == me)
            return -1; /* a signal handler on the owner's own thread: waiting cannot help */
        int saved = errno;
        int gone = owner != me && syscall(SYS_tgkill, getpid(), owner, 0) < 0 && errno == ESRCH;
        errno = saved;
        if (gone &&
            __atomic_compare_exchange_n(lock, &owner, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 0;
        if (i > 100) {
            if ((i & 255) == 0) {
                int64_t now = fs_now_ns();
                if (!give_up)
                    give_up = now + 2000000000;
                else if (now > give_up)
                    return -1;
            }
            sched_yield();
        }
    }
}

FS_FORK_PATH void fs_spin_release(int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}
