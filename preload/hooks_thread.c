/* Interposers for thread creation and naming.
 *
 * The creator reserves a registry slot and the new thread adopts it in a trampoline, so the slot
 * knows the start routine, the creator and the creation site from the thread's first instruction.
 * glibc's thrd_create calls the pthread internals directly, hence its own trampoline.  When the
 * registry is full the thread starts untracked (found at fork through /proc instead). */
#include "shim.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Runtimes start their threads through a wrapper of their own whose argument starts with the real
 * routine (CPython's pythread_wrapper and its callback struct): keep that first word, read
 * without risk of a fault, so the report can tell the thread apart (faulthandler's watchdog). */
static uintptr_t first_word(const void *p)
{
    uintptr_t w = 0;
    if (!p || ((uintptr_t)p & (sizeof w - 1)) || fs_read_self((uintptr_t)p, &w, sizeof w) < 0)
        return 0;
    return w;
}

/* The new thread may not have run a single instruction yet when its creator forks: tell the
 * slot its tid now, so that the fork's snapshot knows the thread and its start routine.  glibc
 * writes the tid before pthread_create returns (CLONE_PARENT_SETTID), and the per-thread CPU
 * clock id encodes it (the kernel's MAKE_THREAD_CPUCLOCK: ~tid << 3 | flags).  Only while the
 * slot is still reserved and without a tid: the thread's own adoption writes the same value. */
static void note_tid(struct fs_thread *t, pthread_t thread)
{
    clockid_t clk;
    if (pthread_getcpuclockid(thread, &clk) != 0)
        return;
    int tid = (int)~(clk >> 3), zero = 0;
    if (tid > 0 && __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_RESERVED)
        __atomic_compare_exchange_n(&t->tid, &zero, tid, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static void *pthread_trampoline(void *arg)
{
    struct fs_thread *t = arg;
    void *(*fn)(void *) = t->user_fn;
    void *user_arg = t->user_arg;
    int saved = errno;
    t->start_arg0 = first_word(user_arg);
    errno = saved;
    fs_slot_adopt(t);
    return fn(user_arg);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    FS_REAL_READY();
    fs_registry_settle(); /* the creator's tid, below (a no-op unless a trivial child's) */
    struct fs_thread *self = fs_config.active ? fs_self() : NULL;
    struct fs_thread *t = self ? fs_slot_reserve() : NULL;
    if (!t)
        return fs_real.pthread_create(thread, attr, fn, arg);
    t->user_fn = fn;
    t->user_arg = arg;
    t->start_routine = (uintptr_t)fn;
    t->creator = self->tid;
    t->create_site = FS_CALLER();
    {
        int saved = errno;
        fs_py_thread_site(t); /* a Python creator's line (threading.Thread.start) */
        errno = saved;
    }
    int r = fs_real.pthread_create(thread, attr, pthread_trampoline, t);
    if (r != 0)
        fs_slot_release(t);
    else
        note_tid(t, *thread);
    return r;
}

static int thrd_trampoline(void *arg)
{
    struct fs_thread *t = arg;
    thrd_start_t fn = t->user_thrd_fn;
    void *user_arg = t->user_arg;
    fs_slot_adopt(t);
    return fn(user_arg);
}

int thrd_create(thrd_t *thread, thrd_start_t fn, void *arg)
{
    FS_REAL_READY();
    fs_registry_settle(); /* the creator's tid, below (a no-op unless a trivial child's) */
    struct fs_thread *self = fs_config.active ? fs_self() : NULL;
    struct fs_thread *t = self ? fs_slot_reserve() : NULL;
    if (!t)
        return fs_real.thrd_create(thread, fn, arg);
    t->user_thrd_fn = fn;
    t->user_arg = arg;
    t->start_routine = (uintptr_t)fn;
    t->creator = self->tid;
    t->create_site = FS_CALLER();
    int r = fs_real.thrd_create(thread, thrd_trampoline, t);
    if (r != thrd_success)
        fs_slot_release(t);
    return r;
}

int pthread_setname_np(pthread_t thread, const char *name)
{
    FS_REAL_READY();
    int r = fs_real.pthread_setname_np(thread, name);
    if (r != 0 || !fs_config.active)
        return r;
    for (unsigned i = 0, n_ = fs_threads_used(); i < n_; i++) {
        struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE &&
            pthread_equal(t->self, thread)) {
            strncpy(t->name, name, sizeof t->name - 1);
            t->name[sizeof t->name - 1] = '\0';
            break;
        }
    }
    return r;
}
