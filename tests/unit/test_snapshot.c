/* Unit tests for preload/snapshot.c: the child-side snapshot writer, run in this process.
 *
 * Real threads really hold real locks and tell the registry as a hook would, then park on a
 * barrier; fs_snapshot_write() then describes them into a trace file, which is read back with the
 * analyzer's reader.  The in-process run sees the same memory a forked child would (its copy is
 * exact), so the lock-memory validation is exercised for real.  Every assertion on the workers'
 * results happens in the main thread: Criterion's asserts must not fire in other threads. */
#include "shim.h"
#include "trace_format.h"
#include "trace_read.h"
#define FX_RECORDER
#include "fixture.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void setup(void)
{
    fx_recorder_setup("snapshot");
}

TestSuite(snapshot, .init = setup, .fini = fx_recorder_teardown);

/* ---- workers that hold locks --------------------------------------------------------------- */

enum how {
    HOLD_MUTEX,       /* pthread_mutex_lock, `times` times (recursive mutexes) */
    HOLD_WRLOCK,      /* pthread_rwlock_wrlock */
    HOLD_RDLOCK,      /* pthread_rwlock_rdlock, `times` times */
    HOLD_SPIN,        /* pthread_spin_lock */
    HOLD_SEM,         /* sem_wait on a binary semaphore */
    HOLD_SEM_BLOCKED, /* sem_wait, then blocked in a second sem_wait on the same semaphore */
    PUSH_ONLY,        /* registry entry for `kind` without touching the lock */
};

struct worker {
    enum how how;
    void *lock;
    int kind; /* PUSH_ONLY */
    uintptr_t site;
    int times;
    const char *name;
    /* results, read by the main thread after the ready barrier */
    int tid;
    struct fs_thread *slot;
    int failed;
    pthread_t th;
};

static pthread_barrier_t ready, go;

static int acquire(struct worker *w)
{
    int times = w->times ? w->times : 1;
    switch (w->how) {
    case HOLD_MUTEX:
        for (int i = 0; i < times; i++) {
            if (pthread_mutex_lock(w->lock) != 0)
                return -1;
            fs_held_push(w->lock, FS_LOCK_MUTEX, FS_MODE_EXCL, w->site);
        }
        return 0;
    case HOLD_WRLOCK:
        if (pthread_rwlock_wrlock(w->lock) != 0)
            return -1;
        fs_held_push(w->lock, FS_LOCK_RWLOCK, FS_MODE_WRITE, w->site);
        return 0;
    case HOLD_RDLOCK:
        for (int i = 0; i < times; i++) {
            if (pthread_rwlock_rdlock(w->lock) != 0)
                return -1;
            fs_held_push(w->lock, FS_LOCK_RWLOCK, FS_MODE_READ, w->site);
        }
        return 0;
    case HOLD_SPIN:
        if (pthread_spin_lock(w->lock) != 0)
            return -1;
        fs_held_push(w->lock, FS_LOCK_SPIN, FS_MODE_EXCL, w->site);
        return 0;
    case HOLD_SEM:
    case HOLD_SEM_BLOCKED:
        if (sem_wait(w->lock) != 0)
            return -1;
        fs_sem_acquired(w->lock, w->site);
        /* Set before the ready barrier, so the snapshot sees it even if the second sem_wait
         * has not been entered yet; hooks_sem.c sets it around the real call. */
        if (w->how == HOLD_SEM_BLOCKED)
            __atomic_store_n(&w->slot->blocked_on_sem, (uintptr_t)w->lock, __ATOMIC_RELEASE);
        return 0;
    case PUSH_ONLY:
        fs_held_push(w->lock, w->kind, FS_MODE_EXCL, w->site);
        return 0;
    }
    return -1;
}

static void release(struct worker *w)
{
    int times = w->times ? w->times : 1;
    switch (w->how) {
    case HOLD_MUTEX:
        for (int i = 0; i < times; i++)
            pthread_mutex_unlock(w->lock);
        break;
    case HOLD_WRLOCK:
        pthread_rwlock_unlock(w->lock);
        break;
    case HOLD_RDLOCK:
        for (int i = 0; i < times; i++)
            pthread_rwlock_unlock(w->lock);
        break;
    case HOLD_SPIN:
        pthread_spin_unlock(w->lock);
        break;
    case HOLD_SEM:
        sem_post(w->lock);
        break;
    case HOLD_SEM_BLOCKED: /* the main thread's post woke us; the value is 0 again */
    case PUSH_ONLY:
        break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->tid = fs_gettid();
    w->slot = fs_slot_reserve();
    if (w->slot) {
        fs_slot_adopt(w->slot);
        if (w->name)
            snprintf(w->slot->name, sizeof w->slot->name, "%s", w->name);
    }
    w->failed = !w->slot || acquire(w) < 0;
    pthread_barrier_wait(&ready);
    if (!w->failed && w->how == HOLD_SEM_BLOCKED) {
        while (sem_wait(w->lock) != 0) /* until the main thread posts it */
            ;
        __atomic_store_n(&w->slot->blocked_on_sem, 0, __ATOMIC_RELEASE);
    }
    pthread_barrier_wait(&go);
    if (!w->failed)
        release(w);
    return NULL;
}

/* Starts the workers and returns once every one holds its lock. */
static void start_workers(struct worker *ws, int n)
{
    cr_assert_eq(pthread_barrier_init(&ready, NULL, (unsigned)n + 1), 0);
    cr_assert_eq(pthread_barrier_init(&go, NULL, (unsigned)n + 1), 0);
    for (int i = 0; i < n; i++)
        cr_assert_eq(pthread_create(&ws[i].th, NULL, worker_main, &ws[i]), 0);
    pthread_barrier_wait(&ready);
    for (int i = 0; i < n; i++) {
        cr_assert_not(ws[i].failed, "worker %d could not take its lock", i);
        cr_assert_gt(ws[i].tid, 0);
    }
}

static void finish_workers(struct worker *ws, int n)
{
    for (int i = 0; i < n; i++)
        if (ws[i].how == HOLD_SEM_BLOCKED)
            cr_assert_eq(sem_post(ws[i].lock), 0);
    pthread_barrier_wait(&go);
    for (int i = 0; i < n; i++)
        cr_assert_eq(pthread_join(ws[i].th, NULL), 0);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
}

/* ---- the fork context and the trace file --------------------------------------------------- */

static struct fs_thread *main_slot;

/* The main thread plays the forker, as if it had just called fork(). */
static void become_forker(void)
{
    main_slot = fs_slot_reserve();
    cr_assert_not_null(main_slot);
    fs_slot_adopt(main_slot);
    memset(&fs_fork_ctx, 0, sizeof fs_fork_ctx);
    fs_fork_ctx.valid = 1;
    fs_fork_ctx.seq = 7;
    fs_fork_ctx.parent_pid = getpid();
    fs_fork_ctx.forker_tid = fs_gettid();
    fs_fork_ctx.via = FS_VIA_FORK;
    fs_fork_ctx.time = 123456789;
    fs_fork_ctx.nframes = 2;
    fs_fork_ctx.frames[0] = 0x401abc;
    fs_fork_ctx.frames[1] = 0x7f00aa029d8f;
    fs_fork_ctx.ntids = 0;
}

static void snapshot_and_read(struct fs_trace_file *tf)
{
    fs_snapshot_write();
    char path[256];
    fx_trace_path(path, sizeof path, getpid());
    cr_assert_eq(access(path, F_OK), 0, "no trace file %s", path);
    fx_read_trace(getpid(), tf);
    cr_assert_str_eq(tf->recs[0].tag, FS_REC_PROC);
    cr_assert_str_eq(fs_rec_str(&tf->recs[0], "origin"), "fork");
}

static const struct fs_record *record_with(const struct fs_trace_file *tf, const char *tag,
                                           const char *key, int64_t value)
{
    const struct fs_record *found = NULL;
    for (size_t i = 0; i < tf->nrecs; i++) {
        const struct fs_record *r = &tf->recs[i];
        int64_t v;
        if (strcmp(r->tag, tag) == 0 && fs_rec_dec(r, key, &v) == 0 && v == value) {
            cr_assert_null(found, "two %s records with %s=%lld", tag, key, (long long)value);
            found = r;
        }
    }
    return found;
}

static const struct fs_record *held_of(const struct fs_trace_file *tf, const void *lock)
{
    const struct fs_record *found = NULL;
    for (size_t i = 0; i < tf->nrecs; i++) {
        const struct fs_record *r = &tf->recs[i];
        uint64_t v;
        if (strcmp(r->tag, FS_REC_HELD) == 0 && fs_rec_hex(r, "lock", &v) == 0 &&
            v == (uintptr_t)lock) {
            cr_assert_null(found, "two held records for lock %p", lock);
            found = r;
        }
    }
    return found;
}

static void assert_held(const struct fs_trace_file *tf, const void *lock, int tid, const char *kind,
                        const char *mode, int count, uintptr_t site)
{
    const struct fs_record *r = held_of(tf, lock);
    cr_assert_not_null(r, "no held record for %s %p", kind, lock);
    cr_assert_eq(fx_dec(r, "tid"), tid, "%s %p: holder", kind, lock);
    cr_assert_str_eq(fs_rec_str(r, "kind"), kind);
    cr_assert_str_eq(fs_rec_str(r, "mode"), mode);
    cr_assert_eq(fx_dec(r, "count"), count, "%s %p: count", kind, lock);
    uint64_t *frames = NULL;
    long nf = fs_rec_hexlist(r, "frames", &frames);
    cr_assert_eq(nf, 1, "%s %p: %ld frames", kind, lock, nf);
    cr_assert_eq(frames[0], site);
    free(frames);
}

static const struct fs_inherited *inherited_of(const void *lock)
{
    for (unsigned i = 0; i < fs_ninherited; i++)
        if (fs_inherited[i].lock == (uintptr_t)lock)
            return &fs_inherited[i];
    return NULL;
}

static void assert_inherited(const void *lock, int kind, int mode, int holder)
{
    const struct fs_inherited *in = inherited_of(lock);
    cr_assert_not_null(in, "lock %p not in fs_inherited", lock);
    cr_assert_eq(in->kind, kind);
    cr_assert_eq(in->mode, mode);
    cr_assert_eq(in->holder, holder);
}

/* ---- tests --------------------------------------------------------------------------------- */

Test(snapshot, records_child_threads_and_every_lock_kind)
{
    become_forker();
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t wr = PTHREAD_RWLOCK_INITIALIZER, rd = PTHREAD_RWLOCK_INITIALIZER;
    pthread_spinlock_t spin;
    sem_t sem;
    cr_assert_eq(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), 0);
    cr_assert_eq(sem_init(&sem, 0, 1), 0);
    fs_sem_initialized(&sem, 1);
    struct worker ws[] = {
        {.how = HOLD_MUTEX, .lock = &mutex, .site = 0x1110, .name = "w-mutex"},
        {.how = HOLD_WRLOCK, .lock = &wr, .site = 0x2220, .name = "w-write"},
        {.how = HOLD_RDLOCK, .lock = &rd, .site = 0x3330},
        {.how = HOLD_SPIN, .lock = (void *)&spin, .site = 0x4440},
        {.how = HOLD_SEM, .lock = &sem, .site = 0x5550},
    };
    int n = (int)(sizeof ws / sizeof ws[0]);
    start_workers(ws, n);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    /* The registry as the child leaves it: only the forker's slot survives. */
    for (int i = 0; i < n; i++)
        cr_assert_eq(ws[i].slot->state, FS_SLOT_FREE, "worker %d's slot not freed", i);
    cr_assert_eq(main_slot->state, FS_SLOT_LIVE);
    cr_assert_eq(main_slot->tid, fs_gettid());
    cr_assert_eq(fs_tls_self, main_slot);
    cr_assert_eq(fs_ninherited, 5);
    assert_inherited(&mutex, FS_LOCK_MUTEX, FS_MODE_EXCL, ws[0].tid);
    assert_inherited(&wr, FS_LOCK_RWLOCK, FS_MODE_WRITE, ws[1].tid);
    assert_inherited(&rd, FS_LOCK_RWLOCK, FS_MODE_READ, ws[2].tid);
    assert_inherited((void *)&spin, FS_LOCK_SPIN, FS_MODE_EXCL, ws[3].tid);
    assert_inherited(&sem, FS_LOCK_SEM, FS_MODE_EXCL, ws[4].tid);
    finish_workers(ws, n);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_CHILD), 1);
    const struct fs_record *child = record_with(&tf, FS_REC_CHILD, "seq", 7);
    cr_assert_not_null(child);
    cr_assert_eq(fx_dec(child, "parent"), getpid());
    cr_assert_eq(fx_dec(child, "forker"), fs_gettid());
    cr_assert_str_eq(fs_rec_str(child, "via"), "fork");
    cr_assert_eq(fx_dec(child, "time"), 123456789);
    uint64_t *frames = NULL;
    cr_assert_eq(fs_rec_hexlist(child, "frames", &frames), 2);
    cr_assert_eq(frames[0], 0x401abc);
    cr_assert_eq(frames[1], 0x7f00aa029d8f);
    free(frames);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_THREAD), (size_t)n + 1);
    const struct fs_record *me = record_with(&tf, FS_REC_THREAD, "tid", fs_gettid());
    cr_assert_not_null(me);
    cr_assert_eq(fx_dec(me, "forker"), 1);
    cr_assert_eq(fx_dec(me, "known"), 1);
    cr_assert_str_neq(fs_rec_str(me, "name"), "", "the kernel's comm was not read");
    for (int i = 0; i < n; i++) {
        const struct fs_record *t = record_with(&tf, FS_REC_THREAD, "tid", ws[i].tid);
        cr_assert_not_null(t, "no thread record for worker %d", i);
        cr_assert_eq(fx_dec(t, "forker"), 0);
        cr_assert_eq(fx_dec(t, "known"), 1);
        if (ws[i].name)
            cr_assert_str_eq(fs_rec_str(t, "name"), ws[i].name);
    }

    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), (size_t)n);
    assert_held(&tf, &mutex, ws[0].tid, "mutex", "excl", 1, 0x1110);
    assert_held(&tf, &wr, ws[1].tid, "rwlock", "write", 1, 0x2220);
    assert_held(&tf, &rd, ws[2].tid, "rwlock", "read", 1, 0x3330);
    assert_held(&tf, (void *)&spin, ws[3].tid, "spin", "excl", 1, 0x4440);
    assert_held(&tf, &sem, ws[4].tid, "sem", "excl", 1, 0x5550);
    cr_assert_eq(fx_dec(held_of(&tf, &mutex), "type"), 0, "a default mutex is kind 0");
    cr_assert_null(fs_rec_str(held_of(&tf, &wr), "type"), "type is for mutexes only");
    cr_assert_eq(fx_count_tag(&tf, FS_REC_LOST), 0);

    /* A thread record precedes the held records that name it. */
    for (size_t i = 0; i < tf.nrecs; i++) {
        if (strcmp(tf.recs[i].tag, FS_REC_HELD) != 0)
            continue;
        const struct fs_record *t =
            record_with(&tf, FS_REC_THREAD, "tid", fx_dec(&tf.recs[i], "tid"));
        cr_assert_not_null(t);
        cr_assert_lt(t->line, tf.recs[i].line);
    }
    fs_trace_release(&tf);
    pthread_spin_destroy(&spin);
    sem_destroy(&sem);
}

Test(snapshot, entry_without_the_lock_taken_is_not_written)
{
    become_forker();
    pthread_mutex_t taken = PTHREAD_MUTEX_INITIALIZER, untaken = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t mine_untaken = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t rw_untaken = PTHREAD_RWLOCK_INITIALIZER;
    pthread_spinlock_t spin_untaken;
    cr_assert_eq(pthread_spin_init(&spin_untaken, PTHREAD_PROCESS_PRIVATE), 0);
    struct worker ws[] = {
        {.how = HOLD_MUTEX, .lock = &taken, .site = 0x1110},
        {.how = PUSH_ONLY, .lock = &untaken, .kind = FS_LOCK_MUTEX, .site = 0x2220},
        {.how = PUSH_ONLY, .lock = &rw_untaken, .kind = FS_LOCK_RWLOCK, .site = 0x3330},
        {.how = PUSH_ONLY, .lock = (void *)&spin_untaken, .kind = FS_LOCK_SPIN, .site = 0x4440},
    };
    int n = (int)(sizeof ws / sizeof ws[0]);
    start_workers(ws, n);
    /* A mutex the worker holds, but in the registry of the main thread: the owner disagrees. */
    fs_held_push(&taken, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x5550);
    fs_held_push(&mine_untaken, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x6660);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fs_ninherited, 1);
    assert_inherited(&taken, FS_LOCK_MUTEX, FS_MODE_EXCL, ws[0].tid);
    finish_workers(ws, n);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), 1);
    assert_held(&tf, &taken, ws[0].tid, "mutex", "excl", 1, 0x1110);
    cr_assert_null(held_of(&tf, &untaken));
    cr_assert_null(held_of(&tf, &rw_untaken));
    cr_assert_null(held_of(&tf, (void *)&spin_untaken));
    cr_assert_null(held_of(&tf, &mine_untaken));
    fs_trace_release(&tf);
}

Test(snapshot, entry_at_unmapped_memory_is_skipped)
{
    become_forker();
    long page = sysconf(_SC_PAGESIZE);
    cr_assert_gt(page, 0);
    void *gone =
        mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(gone, MAP_FAILED);
    cr_assert_eq(munmap(gone, (size_t)page), 0);

    pthread_mutex_t taken = PTHREAD_MUTEX_INITIALIZER;
    struct worker ws[] = {
        {.how = PUSH_ONLY, .lock = gone, .kind = FS_LOCK_MUTEX, .site = 0x1110},
        {.how = PUSH_ONLY, .lock = (char *)gone + 64, .kind = FS_LOCK_RWLOCK, .site = 0x2220},
        {.how = PUSH_ONLY, .lock = (char *)gone + 128, .kind = FS_LOCK_SPIN, .site = 0x3330},
        {.how = PUSH_ONLY, .lock = (char *)gone + 192, .kind = FS_LOCK_SEM, .site = 0x4440},
        {.how = PUSH_ONLY, .lock = (char *)gone + 256, .kind = FS_LOCK_MTX, .site = 0x5550},
        {.how = HOLD_MUTEX, .lock = &taken, .site = 0x6660},
    };
    int n = (int)(sizeof ws / sizeof ws[0]);
    start_workers(ws, n);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fs_ninherited, 1);
    finish_workers(ws, n);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), 1, "an entry at unmapped memory was written");
    assert_held(&tf, &taken, ws[5].tid, "mutex", "excl", 1, 0x6660);
    fs_trace_release(&tf);
}

Test(snapshot, recursive_acquisitions_are_counted)
{
    become_forker();
    pthread_mutexattr_t attr;
    pthread_mutex_t rec;
    cr_assert_eq(pthread_mutexattr_init(&attr), 0);
    cr_assert_eq(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE), 0);
    cr_assert_eq(pthread_mutex_init(&rec, &attr), 0);
    pthread_rwlock_t rd = PTHREAD_RWLOCK_INITIALIZER;
    struct worker ws[] = {
        {.how = HOLD_MUTEX, .lock = &rec, .site = 0x1110, .times = 2},
        {.how = HOLD_RDLOCK, .lock = &rd, .site = 0x2220, .times = 3},
    };
    int n = (int)(sizeof ws / sizeof ws[0]);
    start_workers(ws, n);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    /* One inherited lock per lock, however often it was taken. */
    cr_assert_eq(fs_ninherited, 2);
    finish_workers(ws, n);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), 2);
    assert_held(&tf, &rec, ws[0].tid, "mutex", "excl", 2, 0x1110);
    assert_held(&tf, &rd, ws[1].tid, "rwlock", "read", 3, 0x2220);
    cr_assert_eq(fx_dec(held_of(&tf, &rec), "type"), PTHREAD_MUTEX_RECURSIVE);
    fs_trace_release(&tf);
    pthread_mutex_destroy(&rec);
    pthread_mutexattr_destroy(&attr);
}

Test(snapshot, lock_held_by_the_forker_is_recorded_but_not_inherited)
{
    become_forker();
    pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER, theirs = PTHREAD_MUTEX_INITIALIZER;
    cr_assert_eq(pthread_mutex_lock(&mine), 0);
    fs_held_push(&mine, FS_LOCK_MUTEX, FS_MODE_EXCL, 0x1110);
    struct worker ws[] = {{.how = HOLD_MUTEX, .lock = &theirs, .site = 0x2220}};
    start_workers(ws, 1);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    /* The forker lives on in the child, so its lock is not an orphan. */
    cr_assert_eq(fs_ninherited, 1);
    cr_assert_null(inherited_of(&mine));
    assert_inherited(&theirs, FS_LOCK_MUTEX, FS_MODE_EXCL, ws[0].tid);
    cr_assert_eq(main_slot->nheld, 1, "the forker's own registry must survive");
    finish_workers(ws, 1);

    assert_held(&tf, &mine, fs_gettid(), "mutex", "excl", 1, 0x1110);
    const struct fs_record *me = record_with(&tf, FS_REC_THREAD, "tid", fs_gettid());
    cr_assert_not_null(me);
    cr_assert_eq(fx_dec(me, "forker"), 1);
    assert_held(&tf, &theirs, ws[0].tid, "mutex", "excl", 1, 0x2220);
    fs_trace_release(&tf);
    cr_assert_eq(pthread_mutex_unlock(&mine), 0);
}

Test(snapshot, semaphores_used_as_signals_are_not_written)
{
    become_forker();
    sem_t blocked, held, crossed, forkers;
    sem_t *all[] = {&blocked, &held, &crossed, &forkers};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert_eq(sem_init(all[i], 0, 1), 0);
    struct worker ws[] = {
        {.how = HOLD_SEM_BLOCKED, .lock = &blocked, .site = 0x1110},
        {.how = HOLD_SEM, .lock = &held, .site = 0x2220},
        {.how = HOLD_SEM, .lock = &crossed, .site = 0x3330},
    };
    int n = (int)(sizeof ws / sizeof ws[0]);
    start_workers(ws, n);
    /* Someone other than the holder posts it (the registry only: its value stays 0). */
    fs_sem_posted(&crossed);
    /* The forker's own decrement: it lives on in the child. */
    cr_assert_eq(sem_wait(&forkers), 0);
    fs_sem_acquired(&forkers, 0x4440);

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fs_ninherited, 1);
    assert_inherited(&held, FS_LOCK_SEM, FS_MODE_EXCL, ws[1].tid);
    finish_workers(ws, n);

    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), 1);
    assert_held(&tf, &held, ws[1].tid, "sem", "excl", 1, 0x2220);
    cr_assert_null(held_of(&tf, &blocked), "a holder blocked on its semaphore is not holding it");
    cr_assert_null(held_of(&tf, &crossed));
    cr_assert_null(held_of(&tf, &forkers));
    fs_trace_release(&tf);
}

Test(snapshot, threads_seen_only_in_proc_are_unknown)
{
    become_forker();
    fs_fork_ctx.ntids = 2;
    fs_fork_ctx.tids[0] = fs_gettid(); /* also has a slot: must not be written twice */
    fs_fork_ctx.tids[1] = 999999999;
    fs_fork_ctx.tids_lost = 3;

    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fx_count_tag(&tf, FS_REC_THREAD), 2);
    const struct fs_record *me = record_with(&tf, FS_REC_THREAD, "tid", fs_gettid());
    cr_assert_not_null(me);
    cr_assert_eq(fx_dec(me, "known"), 1);
    const struct fs_record *ghost = record_with(&tf, FS_REC_THREAD, "tid", 999999999);
    cr_assert_not_null(ghost);
    cr_assert_eq(fx_dec(ghost, "known"), 0);
    cr_assert_eq(fx_dec(ghost, "forker"), 0);
    uint64_t start = 1;
    cr_assert_eq(fs_rec_hex(ghost, "start", &start), 0);
    cr_assert_eq(start, 0);

    const struct fs_record *lost = NULL;
    for (size_t i = 0; i < tf.nrecs; i++)
        if (strcmp(tf.recs[i].tag, FS_REC_LOST) == 0)
            lost = &tf.recs[i];
    cr_assert_not_null(lost);
    cr_assert_str_eq(fs_rec_str(lost, "what"), "threads");
    cr_assert_eq(fx_dec(lost, "count"), 3);
    fs_trace_release(&tf);
}

Test(snapshot, held_overflow_is_reported_lost)
{
    become_forker();
    enum { N = FS_HELD_MAX + 2 };
    static pthread_mutex_t locks[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(pthread_mutex_init(&locks[i], NULL), 0);
        cr_assert_eq(pthread_mutex_lock(&locks[i]), 0);
        fs_held_push(&locks[i], FS_LOCK_MUTEX, FS_MODE_EXCL, 0x1000 + (uintptr_t)i);
    }
    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fx_count_tag(&tf, FS_REC_HELD), FS_HELD_MAX);
    const struct fs_record *lost = record_with(&tf, FS_REC_LOST, "count", 2);
    cr_assert_not_null(lost);
    cr_assert_str_eq(fs_rec_str(lost, "what"), "held");
    for (int i = 0; i < N; i++)
        cr_assert_eq(pthread_mutex_unlock(&locks[i]), 0);
    fs_trace_release(&tf);
}

Test(snapshot, invalid_fork_context_is_reported_lost)
{
    become_forker();
    fs_fork_ctx.valid = 0;
    struct fs_trace_file tf;
    snapshot_and_read(&tf);
    cr_assert_eq(fx_count_tag(&tf, FS_REC_CHILD), 0);
    cr_assert_eq(fx_count_tag(&tf, FS_REC_THREAD), 0);
    const struct fs_record *lost = record_with(&tf, FS_REC_LOST, "count", 1);
    cr_assert_not_null(lost);
    cr_assert_str_eq(fs_rec_str(lost, "what"), "fork");
    fs_trace_release(&tf);
}
