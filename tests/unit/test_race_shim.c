/* Unit tests for preload/race.c: the child side of fork-lock-race, run in this process.
 *
 * A registry is filled by hand as a forked child finds it (the forker's slot, and the slot of a
 * parent thread that does not exist here, with its table of used locks), fs_race_collect builds
 * the candidate set as snapshot.c calls it, and the hooks' FS_CHILD_CHECK / FS_CHILD_FORGET are
 * called directly; the `race` records are read back with the analyzer's reader.  Each exclusion
 * of docs/hazards.md has its test next to the case it excludes. */
#include "shim.h"
#include "trace_format.h"
#include "trace_read.h"
#define FX_RECORDER
#include "fixture.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <unistd.h>

#define OTHER 4201 /* the parent thread that used the locks (it does not exist here) */

static pthread_mutex_t m_plain = PTHREAD_MUTEX_INITIALIZER, m_forker = PTHREAD_MUTEX_INITIALIZER,
                       m_cond = PTHREAD_MUTEX_INITIALIZER, m_shared;
static pthread_rwlock_t rw_read = PTHREAD_RWLOCK_INITIALIZER;
static sem_t s_blocked;

static struct fs_thread *forker, *other;

static void use(struct fs_thread *t, const void *lock, int kind, int mode, uintptr_t site)
{
    fs_used_note(t, lock, FS_USED_TAG(kind, mode), site);
}

static void setup(void)
{
    fx_recorder_setup("race");
    fs_pid = getpid();
    cr_assert_eq(fs_trace_open_new(0), 0);
    struct fs_linebuf *lb = fs_trace_begin();
    cr_assert_not_null(lb);
    fs_trace_write_start(lb, "fork");
    fs_trace_end(lb);

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    cr_assert_eq(pthread_mutex_init(&m_shared, &a), 0);
    cr_assert_eq(sem_init(&s_blocked, 0, 1), 0);

    memset(fs_threads, 0, 2 * sizeof fs_threads[0]);
    forker = &fs_threads[0];
    other = &fs_threads[1];
    forker->state = other->state = FS_SLOT_LIVE;
    forker->tid = getpid();
    other->tid = OTHER;
    forker->guard.lock = other->guard.lock = FS_HELD_GUARD;
    __atomic_store_n(&fs_threads_hwm, 2, __ATOMIC_RELEASE);
    fs_fork_ctx.valid = 1;
    fs_fork_ctx.forker_tid = getpid();
    fs_fork_ctx.parent_pid = getppid();

    use(other, &m_plain, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x1111);
    use(other, &m_forker, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x2222);
    use(other, &m_cond, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x3333);
    use(other, &m_shared, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x4444);
    use(other, &rw_read, FS_LOCK_RWLOCK, FS_MODE_READ, 0x5555);
    use(other, &s_blocked, FS_LOCK_SEM, FS_MODE_EXCL, 0x6666);
    /* The forker held m_forker at the fork (prepare handler); the other thread was parked in a
     * condition wait on m_cond and blocked in sem_wait on s_blocked. */
    forker->held[0] = (struct fs_held_entry){.lock = (uintptr_t)&m_forker, .site = 0x9999,
                                             .kind = FS_LOCK_MUTEX, .mode = FS_MODE_EXCL};
    forker->nheld = 1;
    other->cond_wait = (uintptr_t)&m_cond;
    other->blocked_on_sem = (uintptr_t)&s_blocked;
    fs_race_collect();
}

TestSuite(race_shim, .init = setup, .fini = fx_recorder_teardown);

static int hook_lock(const void *lock, int mode, int is_try)
{
    FS_CHILD_CHECK(lock, mode, is_try, -77);
    return 0;
}

static void hook_init(const void *lock)
{
    FS_CHILD_FORGET(lock);
}

/* The race records for lock (all of them when lock is NULL). */
static size_t races_of(const void *lock, uint64_t *site)
{
    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    size_t n = 0;
    for (size_t i = 0; i < tf.nrecs; i++) {
        const struct fs_record *r = &tf.recs[i];
        uint64_t v = 0;
        if (strcmp(r->tag, FS_REC_RACE) != 0)
            continue;
        cr_assert_eq(fs_rec_hex(r, "lock", &v), 0);
        if (lock && v != (uintptr_t)lock)
            continue;
        if (site)
            fs_rec_hex(r, "site", site);
        cr_assert_eq(fx_dec(r, "tid"), OTHER);
        n++;
    }
    fs_trace_release(&tf);
    return n;
}

Test(race_shim, a_lock_the_other_thread_used_is_reported_once)
{
    cr_assert_gt(fs_nrace, 0);
    cr_assert_eq(fs_fast_allowed(), 0, "a child with candidates must take the slow path");
    cr_assert_eq(hook_lock(&m_plain, FS_MODE_EXCL, 0), 0, "the call must go on");
    cr_assert_eq(hook_lock(&m_plain, FS_MODE_EXCL, 1), 0);
    uint64_t site = 0;
    cr_assert_eq(races_of(&m_plain, &site), 1);
    cr_assert_eq(site, 0x1111);
}

Test(race_shim, a_lock_nobody_else_used_is_not)
{
    static pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    hook_lock(&fresh, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(NULL, NULL), 0);
}

Test(race_shim, the_forker_held_it_at_the_fork)
{
    hook_lock(&m_forker, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(&m_forker, NULL), 0);
}

Test(race_shim, the_other_thread_was_parked_in_a_condition_wait_on_it)
{
    hook_lock(&m_cond, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(&m_cond, NULL), 0);
}

Test(race_shim, process_shared)
{
    hook_lock(&m_shared, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(&m_shared, NULL), 0);
}

Test(race_shim, readers_share_writers_race)
{
    hook_lock(&rw_read, FS_MODE_READ, 0);
    cr_assert_eq(races_of(&rw_read, NULL), 0);
    hook_lock(&rw_read, FS_MODE_WRITE, 1);
    cr_assert_eq(races_of(&rw_read, NULL), 1);
}

Test(race_shim, a_semaphore_the_other_thread_was_waiting_on)
{
    hook_lock(&s_blocked, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(&s_blocked, NULL), 0);
}

Test(race_shim, reinitialised_in_the_child_before_use)
{
    hook_init(&m_plain);
    hook_lock(&m_plain, FS_MODE_EXCL, 0);
    cr_assert_eq(races_of(&m_plain, NULL), 0);
}

/* The other thread had ended: its slot is free and nothing of it is collected. */
Test(race_shim, an_exited_thread_leaves_no_candidate)
{
    other->state = FS_SLOT_FREE;
    fs_nrace = 0;
    fs_race_collect();
    cr_assert_eq(fs_nrace, 0);
}

/* Two choices: a second lock of the bucket takes the next one; a third replaces the first and
 * counts the loss. */
Test(race_shim, overwrites_are_counted)
{
    struct fs_thread *t = &fs_threads[2];
    memset(t, 0, sizeof *t);
    uintptr_t a = 0x10000, b = a + 8 * FS_USED_MAX, c = b + 8 * FS_USED_MAX; /* one bucket */
    unsigned i = (unsigned)(a >> 3) & (FS_USED_MAX - 1);
    use(t, (void *)a, FS_LOCK_MUTEX, FS_MODE_EXCL, 1);
    use(t, (void *)a, FS_LOCK_MUTEX, FS_MODE_EXCL, 2);
    use(t, (void *)b, FS_LOCK_MUTEX, FS_MODE_EXCL, 3);
    use(t, (void *)b, FS_LOCK_RWLOCK, FS_MODE_WRITE, 4);
    cr_assert_eq(t->used_overwritten, 0);
    cr_assert_eq(t->used[i].lock, a);
    cr_assert_eq(t->used[i].site & FS_USED_SITE_MASK, 2);
    cr_assert_eq(t->used[i + 1].lock, b);
    cr_assert_eq(t->used[i + 1].site & FS_USED_SITE_MASK, 4);
    cr_assert_eq(t->used[i + 1].tag, FS_USED_TAG(FS_LOCK_RWLOCK, FS_MODE_WRITE));
    use(t, (void *)c, FS_LOCK_MUTEX, FS_MODE_EXCL, 5);
    cr_assert_eq(t->used_overwritten, 1);
    cr_assert_eq(t->used[i].lock, c);
    cr_assert_eq(t->used[i].site & FS_USED_SITE_MASK, 5);
    cr_assert_eq(t->used[i + 1].lock, b);
}
