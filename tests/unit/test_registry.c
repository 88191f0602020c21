/* Unit tests for preload/registry.c: the per-thread held-lock stacks, slot claiming and recycling,
 * and the semaphore table.  The recorder is driven directly (no interposition in this binary);
 * Criterion runs every test in its own process, so the static registry starts empty each time. */
#include "shim.h"
#include "trace_format.h"
#define FX_RECORDER
#include "fixture.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void setup(void)
{
    fx_recorder_setup("registry");
}

TestSuite(registry, .init = setup, .fini = fx_recorder_teardown);

/* Gives the calling thread a slot, as the pthread_create trampoline does. */
static struct fs_thread *adopt_slot(void)
{
    struct fs_thread *t = fs_slot_reserve();
    cr_assert_not_null(t, "no free slot");
    fs_slot_adopt(t);
    cr_assert_eq(fs_tls_self, t);
    return t;
}

static void assert_entry(const struct fs_thread *t, unsigned i, const void *lock, uintptr_t site,
                         int kind, int mode)
{
    cr_assert_eq(t->held[i].lock, (uintptr_t)lock, "entry %u: lock %#lx, want %p", i,
                 (unsigned long)t->held[i].lock, lock);
    cr_assert_eq(t->held[i].site, site, "entry %u: site", i);
    cr_assert_eq(t->held[i].kind, kind, "entry %u: kind", i);
    cr_assert_eq(t->held[i].mode, mode, "entry %u: mode", i);
}

Test(registry, adopt_binds_slot_to_calling_thread)
{
    struct fs_thread *t = adopt_slot();
    cr_assert_eq(t->state, FS_SLOT_LIVE);
    cr_assert_eq(t->tid, fs_gettid());
    cr_assert(pthread_equal(t->self, pthread_self()));
    cr_assert_eq(t->nheld, 0);
}

Test(registry, push_pop_lifo)
{
    struct fs_thread *t = adopt_slot();
    int a, b, c;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    fs_held_push(&b, FS_LOCK_RWLOCK, FS_MODE_READ, 0x200);
    fs_held_push(&c, FS_LOCK_SPIN, FS_MODE_EXCL, 0x300);
    cr_assert_eq(t->nheld, 3);
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
    assert_entry(t, 1, &b, 0x200, FS_LOCK_RWLOCK, FS_MODE_READ);
    assert_entry(t, 2, &c, 0x300, FS_LOCK_SPIN, FS_MODE_EXCL);

    cr_assert_eq(fs_held_pop(&c), 1);
    cr_assert_eq(t->nheld, 2);
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
    assert_entry(t, 1, &b, 0x200, FS_LOCK_RWLOCK, FS_MODE_READ);
    cr_assert_eq(fs_held_pop(&b), 1);
    cr_assert_eq(fs_held_pop(&a), 1);
    cr_assert_eq(t->nheld, 0);
}

Test(registry, pop_of_unknown_lock_changes_nothing)
{
    struct fs_thread *t = adopt_slot();
    int a, other;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    cr_assert_eq(fs_held_pop(&other), 0);
    cr_assert_eq(t->nheld, 1);
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
}

Test(registry, pop_from_middle_keeps_the_others_and_their_sites)
{
    struct fs_thread *t = adopt_slot();
    int a, b, c, d;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    fs_held_push(&b, FS_LOCK_RWLOCK, FS_MODE_WRITE, 0x200);
    fs_held_push(&c, FS_LOCK_SEM, FS_MODE_EXCL, 0x300);
    fs_held_push(&d, FS_LOCK_MTX, FS_MODE_EXCL, 0x400);

    cr_assert_eq(fs_held_pop(&b), 1);
    cr_assert_eq(t->nheld, 3);
    /* The last entry fills the hole: order changes, contents do not. */
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
    assert_entry(t, 1, &d, 0x400, FS_LOCK_MTX, FS_MODE_EXCL);
    assert_entry(t, 2, &c, 0x300, FS_LOCK_SEM, FS_MODE_EXCL);

    cr_assert_eq(fs_held_pop(&a), 1);
    cr_assert_eq(t->nheld, 2);
    assert_entry(t, 0, &c, 0x300, FS_LOCK_SEM, FS_MODE_EXCL);
    assert_entry(t, 1, &d, 0x400, FS_LOCK_MTX, FS_MODE_EXCL);
}

Test(registry, recursive_acquisition_pops_one_at_a_time)
{
    struct fs_thread *t = adopt_slot();
    int a, b;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    fs_held_push(&b, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x200);
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x110);
    cr_assert_eq(t->nheld, 3);

    cr_assert_eq(fs_held_pop(&a), 1);
    cr_assert_eq(t->nheld, 2);
    /* The most recent acquisition went; the first one and its site remain. */
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
    assert_entry(t, 1, &b, 0x200, FS_LOCK_MUTEX, FS_MODE_EXCL);

    cr_assert_eq(fs_held_pop(&a), 1);
    cr_assert_eq(t->nheld, 1);
    assert_entry(t, 0, &b, 0x200, FS_LOCK_MUTEX, FS_MODE_EXCL);
    cr_assert_eq(fs_held_pop(&a), 0);
}

Test(registry, forget_removes_every_entry_of_a_lock)
{
    struct fs_thread *t = adopt_slot();
    int a, b, c;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    fs_held_push(&b, FS_LOCK_RWLOCK, FS_MODE_READ, 0x200);
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x110);
    fs_held_push(&c, FS_LOCK_SPIN, FS_MODE_EXCL, 0x300);
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x120);

    fs_held_forget(&a);
    cr_assert_eq(t->nheld, 2);
    int seen_b = 0, seen_c = 0;
    for (unsigned i = 0; i < t->nheld; i++) {
        cr_assert_neq(t->held[i].lock, (uintptr_t)&a, "entry %u still names the lock", i);
        if (t->held[i].lock == (uintptr_t)&b) {
            assert_entry(t, i, &b, 0x200, FS_LOCK_RWLOCK, FS_MODE_READ);
            seen_b++;
        } else if (t->held[i].lock == (uintptr_t)&c) {
            assert_entry(t, i, &c, 0x300, FS_LOCK_SPIN, FS_MODE_EXCL);
            seen_c++;
        }
    }
    cr_assert_eq(seen_b, 1);
    cr_assert_eq(seen_c, 1);

    fs_held_forget(&a); /* nothing left to forget */
    cr_assert_eq(t->nheld, 2);
}

Test(registry, overflow_counts_lost_and_corrupts_nothing)
{
    struct fs_thread *t = adopt_slot();
    unsigned idx = fs_slot_index(t);
    cr_assert_lt(idx + 1, FS_MAX_THREADS);
    static char locks[FS_HELD_MAX + 5];
    for (unsigned i = 0; i < FS_HELD_MAX + 5; i++)
        fs_held_push(&locks[i], FS_LOCK_MUTEX, FS_MODE_EXCL, 0x1000 + i);

    cr_assert_eq(t->nheld, FS_HELD_MAX);
    cr_assert_eq(t->lost, 5);
    for (unsigned i = 0; i < FS_HELD_MAX; i++)
        assert_entry(t, i, &locks[i], 0x1000 + i, FS_LOCK_MUTEX, FS_MODE_EXCL);
    /* The neighbouring slot and its lock stacks were not written. */
    const struct fs_thread *next = &fs_threads[idx + 1];
    cr_assert_eq(next->state, FS_SLOT_FREE);
    cr_assert_eq(next->nheld, 0);
    cr_assert_eq(next->held[0].lock, 0);
    cr_assert_eq(fs_lock_stacks[idx + 1][0][0], 0);

    /* The excess was never recorded, so popping it finds nothing. */
    cr_assert_eq(fs_held_pop(&locks[FS_HELD_MAX + 2]), 0);
    cr_assert_eq(fs_held_pop(&locks[FS_HELD_MAX - 1]), 1);
    cr_assert_eq(t->nheld, FS_HELD_MAX - 1);
    fs_held_push(&locks[0], FS_LOCK_MUTEX, FS_MODE_EXCL, 0x42);
    cr_assert_eq(t->nheld, FS_HELD_MAX);
    cr_assert_eq(t->lost, 5);
}

Test(registry, slot_exhaustion_and_reuse)
{
    static struct fs_thread *got[FS_MAX_THREADS];
    for (unsigned i = 0; i < FS_MAX_THREADS; i++) {
        got[i] = fs_slot_reserve();
        cr_assert_not_null(got[i], "reserve %u failed", i);
        cr_assert_eq(got[i]->state, FS_SLOT_RESERVED);
    }
    for (unsigned i = 0; i < FS_MAX_THREADS; i++)
        cr_assert_eq(fs_threads[i].state, FS_SLOT_RESERVED, "slot %u not reserved", i);
    cr_assert_eq(fs_threads_lost, 0);

    cr_assert_null(fs_slot_reserve());
    cr_assert_eq(fs_threads_lost, 1);
    cr_assert_null(fs_slot_reserve());
    cr_assert_eq(fs_threads_lost, 2);

    struct fs_thread *victim = got[1234];
    victim->nheld = 7;
    victim->lost = 3;
    fs_slot_release(victim);
    cr_assert_eq(victim->state, FS_SLOT_FREE);
    struct fs_thread *again = fs_slot_reserve();
    cr_assert_eq(again, victim);
    cr_assert_eq(again->state, FS_SLOT_RESERVED);
    /* A recycled slot must not carry its previous owner's locks. */
    cr_assert_eq(again->nheld, 0);
    cr_assert_eq(again->lost, 0);
    cr_assert_eq(fs_threads_lost, 2);
}

Test(registry, self_slow_claims_a_slot_only_when_recording)
{
    int a;
    fs_config.active = 0;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    cr_assert_null(fs_tls_self);
    for (unsigned i = 0; i < FS_MAX_THREADS; i++)
        cr_assert_eq(fs_threads[i].state, FS_SLOT_FREE);

    fs_config.active = 1;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    struct fs_thread *t = fs_tls_self;
    cr_assert_not_null(t);
    cr_assert_eq(t->state, FS_SLOT_LIVE);
    cr_assert_eq(t->tid, fs_gettid());
    cr_assert_eq(t->nheld, 1);
    assert_entry(t, 0, &a, 0x100, FS_LOCK_MUTEX, FS_MODE_EXCL);
}

struct exit_probe {
    int use_pthread_exit;
    unsigned idx;
    int state_while_alive;
    int tid;
};

static void *adopt_and_exit(void *arg)
{
    struct exit_probe *p = arg;
    struct fs_thread *t = fs_slot_reserve();
    if (!t)
        return NULL;
    fs_slot_adopt(t);
    int a;
    fs_held_push(&a, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100); /* still "held" at exit */
    p->idx = fs_slot_index(t);
    p->state_while_alive = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
    p->tid = t->tid;
    if (p->use_pthread_exit)
        pthread_exit(p);
    return p;
}

static void check_thread_exit(int use_pthread_exit)
{
    struct fs_thread *main_slot = adopt_slot();
    struct exit_probe probe = {.use_pthread_exit = use_pthread_exit, .idx = ~0u};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, adopt_and_exit, &probe), 0);
    void *ret = NULL;
    cr_assert_eq(pthread_join(th, &ret), 0);
    cr_assert_eq(ret, &probe, "the thread could not reserve a slot");
    cr_assert_lt(probe.idx, FS_MAX_THREADS);
    cr_assert_neq(&fs_threads[probe.idx], main_slot);
    cr_assert_eq(probe.state_while_alive, FS_SLOT_LIVE);
    cr_assert_neq(probe.tid, fs_gettid());
    /* The key destructor ran during the thread's exit, before join returned. */
    cr_assert_eq(fs_threads[probe.idx].state, FS_SLOT_FREE);
    cr_assert_eq(fs_threads[probe.idx].nheld, 0);
    cr_assert_eq(main_slot->state, FS_SLOT_LIVE);
    cr_assert_eq(fs_tls_self, main_slot);
}

Test(registry, thread_return_frees_its_slot)
{
    check_thread_exit(0);
}

Test(registry, pthread_exit_frees_its_slot)
{
    check_thread_exit(1);
}

/* How many entries of the calling thread's stack name sem. */
static unsigned sem_entries(const struct fs_thread *t, const sem_t *sem)
{
    unsigned k = 0;
    for (unsigned i = 0; i < t->nheld; i++)
        k += t->held[i].lock == (uintptr_t)sem;
    return k;
}

Test(registry, sem_acquire_then_post_by_same_thread_pops_it)
{
    struct fs_thread *t = adopt_slot();
    sem_t sem;
    fs_sem_acquired(&sem, 0x500);
    cr_assert_eq(t->nheld, 1);
    assert_entry(t, 0, &sem, 0x500, FS_LOCK_SEM, FS_MODE_EXCL);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 0);

    fs_sem_posted(&sem);
    cr_assert_eq(t->nheld, 0);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 0, "the holder's post is a release");
}

Test(registry, sem_acquired_twice_is_on_the_stack_once)
{
    struct fs_thread *t = adopt_slot();
    sem_t sem;
    int m;
    fs_sem_acquired(&sem, 0x500);
    fs_held_push(&m, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x510);
    fs_sem_acquired(&sem, 0x600);
    cr_assert_eq(t->nheld, 2);
    cr_assert_eq(sem_entries(t, &sem), 1);
}

struct poster {
    sem_t *sem;
    int adopt;
};

static void *post_from_other_thread(void *arg)
{
    struct poster *p = arg;
    if (p->adopt) {
        struct fs_thread *t = fs_slot_reserve();
        if (!t)
            return NULL;
        fs_slot_adopt(t);
    }
    fs_sem_posted(p->sem);
    return p;
}

static void check_cross_post(int adopt)
{
    struct fs_thread *t = adopt_slot();
    sem_t sem;
    fs_sem_acquired(&sem, 0x500);
    struct poster p = {&sem, adopt};
    pthread_t th;
    void *ret = NULL;
    cr_assert_eq(pthread_create(&th, NULL, post_from_other_thread, &p), 0);
    cr_assert_eq(pthread_join(th, &ret), 0);
    cr_assert_eq(ret, &p);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1);
    cr_assert_eq(sem_entries(t, &sem), 1, "a foreign post must not touch the holder's stack");

    /* Once a signal, always a signal: a later acquire keeps the mark. */
    fs_sem_posted(&sem);
    fs_sem_acquired(&sem, 0x600);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1);
}

Test(registry, sem_post_by_other_thread_marks_it_a_signal)
{
    check_cross_post(1);
}

Test(registry, sem_post_by_untracked_thread_marks_it_a_signal)
{
    check_cross_post(0);
}

Test(registry, sem_post_by_a_non_holder_marks_it_a_signal)
{
    adopt_slot();
    sem_t sem;
    fs_sem_posted(&sem);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1);
}

Test(registry, sem_initialized_above_one_is_not_a_lock)
{
    adopt_slot();
    sem_t sem;
    fs_sem_initialized(&sem, 4);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1);
    fs_sem_acquired(&sem, 0x500);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1, "a counting semaphore became a lock");
}

Test(registry, sem_initialized_as_binary_clears_old_state)
{
    struct fs_thread *t = adopt_slot();
    sem_t sem;
    fs_sem_initialized(&sem, 4);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 1);
    fs_sem_acquired(&sem, 0x500);
    fs_sem_initialized(&sem, 1);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&sem), 0);
    cr_assert_eq(sem_entries(t, &sem), 0, "re-initialised: the old decrement is gone");

    /* A fresh binary semaphore starts as a candidate lock. */
    fs_sem_acquired(&sem, 0x500);
    cr_assert_eq(sem_entries(t, &sem), 1);
}

Test(registry, sem_forget_clears_it)
{
    struct fs_thread *t = adopt_slot();
    sem_t sem, other;
    fs_sem_acquired(&sem, 0x500);
    fs_sem_posted(&other); /* a signal */
    fs_sem_forget(&sem);
    cr_assert_eq(sem_entries(t, &sem), 0);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&other), 1, "forgetting sem must not clear other");
    fs_sem_forget(&other);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&other), 0);
}

Test(registry, sem_table_full_makes_every_sem_a_signal)
{
    adopt_slot();
    static sem_t many[FS_SEM_SLOTS + 64];
    sem_t lock;
    fs_sem_acquired(&lock, 0x500);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&lock), 0);
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        fs_sem_posted(&many[i]);
    cr_assert_eq(fs_sems_full, 1);
    cr_assert_eq(fs_sem_is_signal((uintptr_t)&lock), 1, "a lost mark must not make a lock");
}

/* FORKSAN_LOCK_STACK deepens every kind of acquisition, semaphores included: the frames of the
 * entry's slot row start at the caller of the recording function. */
static __attribute__((noinline)) void acquire_sem_here(sem_t *sem)
{
    fs_sem_acquired(sem, (uintptr_t)__builtin_return_address(0));
    __asm__ volatile("" ::: "memory"); /* no tail call: this frame stays on the stack */
}

Test(registry, lock_stack_deepens_semaphores_too)
{
    struct fs_thread *t = adopt_slot();
    fs_config.lock_stack = 4;
    sem_t sem;
    int m;
    fs_held_push(&m, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x100);
    acquire_sem_here(&sem);
    cr_assert_eq(t->nheld, 2);
    const uintptr_t *frames = fs_lock_stacks[fs_slot_index(t)][1];
    int n = 0;
    while (n < 4 && frames[n])
        n++;
    cr_assert_geq(n, 2, "the semaphore's entry got %d frames, want several", n);
    fs_config.lock_stack = 1;
}
