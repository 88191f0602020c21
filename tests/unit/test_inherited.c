/* Unit tests for preload/inherited.c: the child-deadlock policy of the shim, run in this process.
 *
 * The set of inherited locks (fs_inherited) is filled by hand, as snapshot.c would fill it in a
 * forked child, and this process's trace file is created the way the shim creates it; then
 * fs_child_acquire and the FS_CHILD_CHECK / FS_CHILD_FORGET macros are called directly and the
 * `deadlock` records read back with the analyzer's reader.  The abort policy is checked in a
 * forked child of the test, which writes its own trace file. */
#include "shim.h"
#include "trace_format.h"
#include "trace_read.h"
#define FX_RECORDER
#include "fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOLDER 4201 /* the parent thread that held the locks at fork (it does not exist here) */

/* This process's trace file with its start records, so fs_trace_read accepts it. */
static int open_trace(void)
{
    fs_pid = getpid();
    if (fs_trace_open_new(0) < 0)
        return -1;
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return -1;
    fs_trace_write_start(lb, "fork");
    fs_trace_end(lb);
    return 0;
}

static void setup(void)
{
    fx_recorder_setup("inherited");
    fs_config.on_deadlock = FS_ON_DEADLOCK_WAIT;
    memset(fs_inherited, 0, sizeof fs_inherited);
    fs_ninherited = 0;
    cr_assert_eq(open_trace(), 0, "cannot create the trace file in %s", fx_trace_dir);
}

TestSuite(inherited, .init = setup, .fini = fx_recorder_teardown);

/* ---- helpers ------------------------------------------------------------------------------- */

static void inherit(const void *lock, int kind, int mode)
{
    cr_assert_lt(fs_ninherited, FS_INHERITED_MAX);
    fs_inherited[fs_ninherited++] =
        (struct fs_inherited){(uintptr_t)lock, kind, mode, HOLDER, 0, 0};
}

/* The deadlock records for lock, in file order; returns how many (at most max in out). */
static size_t deadlocks_of(const struct fs_trace_file *tf, const void *lock,
                           const struct fs_record **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < tf->nrecs; i++) {
        const struct fs_record *r = &tf->recs[i];
        uint64_t v;
        if (strcmp(r->tag, FS_REC_DEADLOCK) != 0)
            continue;
        cr_assert_eq(fs_rec_hex(r, "lock", &v), 0, "line %u: no lock", r->line);
        if (v != (uintptr_t)lock)
            continue;
        if (n < max)
            out[n] = r;
        n++;
    }
    return n;
}

static size_t count_deadlocks(void)
{
    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    size_t n = fx_count_tag(&tf, FS_REC_DEADLOCK);
    fs_trace_release(&tf);
    return n;
}

static void assert_record(const struct fs_record *r, const void *lock, const char *kind,
                          const char *mode, const char *call, int is_try, const char *policy)
{
    uint64_t v = 0;
    cr_assert_eq(fs_rec_hex(r, "lock", &v), 0);
    cr_assert_eq(v, (uintptr_t)lock);
    cr_assert_str_eq(fs_rec_str(r, "kind"), kind);
    cr_assert_str_eq(fs_rec_str(r, "mode"), mode);
    cr_assert_eq(fx_dec(r, "holder"), HOLDER);
    cr_assert_str_eq(fs_rec_str(r, "call"), call);
    cr_assert_eq(fx_dec(r, "try"), is_try);
    cr_assert_str_eq(fs_rec_str(r, "policy"), policy);
    cr_assert_gt(fx_dec(r, "time"), 0);
    uint64_t *frames = NULL;
    long nf = fs_rec_hexlist(r, "frames", &frames);
    cr_assert_gt(nf, 0, "no frames in the deadlock record");
    for (long i = 0; i < nf; i++)
        cr_assert_neq(frames[i], 0, "frame %ld is 0", i);
    free(frames);
}

/* One record for lock, checked. */
static void assert_one_record(const void *lock, const char *kind, const char *mode,
                              const char *call, int is_try, const char *policy)
{
    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    const struct fs_record *r[2];
    cr_assert_eq(deadlocks_of(&tf, lock, r, 2), 1);
    assert_record(r[0], lock, kind, mode, call, is_try, policy);
    fs_trace_release(&tf);
}

/* A lock hook as the interposers write it: the check, then (here) nothing instead of the real
 * call.  -77 stands for the hook's error value. */
static int hook_lock(const void *lock, int mode, int is_try)
{
    FS_CHILD_CHECK(lock, mode, is_try, -77);
    return 0;
}

static void hook_destroy(const void *lock)
{
    FS_CHILD_FORGET(lock);
}

/* ---- tests --------------------------------------------------------------------------------- */

Test(inherited, lock_not_in_the_set_is_ignored)
{
    pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER, other = PTHREAD_MUTEX_INITIALIZER;
    inherit(&held, FS_LOCK_MUTEX, FS_MODE_EXCL);
    for (int policy = FS_ON_DEADLOCK_WAIT; policy <= FS_ON_DEADLOCK_ABORT; policy++) {
        fs_config.on_deadlock = policy;
        cr_assert_eq(fs_child_acquire(&other, FS_MODE_EXCL, "pthread_mutex_lock", 0), 0);
        cr_assert_eq(hook_lock(&other, FS_MODE_EXCL, 0), 0);
    }
    cr_assert_eq(count_deadlocks(), 0, "a lock that is not inherited was recorded");
    cr_assert_eq(fs_inherited[0].records, 0);
}

Test(inherited, empty_set_costs_nothing)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(hook_lock(&m, FS_MODE_EXCL, 0), 0);
    hook_destroy(&m);
    cr_assert_eq(fs_ninherited, 0);
    cr_assert_eq(count_deadlocks(), 0);
}

Test(inherited, policy_wait_records_and_goes_on)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MUTEX, FS_MODE_EXCL);
    cr_assert_eq(fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_lock", 0), 0);
    cr_assert_eq(fs_inherited[0].records, 1);
    assert_one_record(&m, "mutex", "excl", "pthread_mutex_lock", 0, "wait");
}

Test(inherited, policy_fail_makes_the_call_fail)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MTX, FS_MODE_EXCL);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(fs_child_acquire(&m, FS_MODE_EXCL, "mtx_lock", 0), 1);
    assert_one_record(&m, "mtx", "excl", "mtx_lock", 0, "fail");
}

Test(inherited, check_macro_returns_the_fail_value_and_names_the_hook)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MUTEX, FS_MODE_EXCL);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(hook_lock(&m, FS_MODE_EXCL, 0), -77);
    fs_config.on_deadlock = FS_ON_DEADLOCK_WAIT;
    cr_assert_eq(hook_lock(&m, FS_MODE_EXCL, 0), 0);

    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    const struct fs_record *r[3];
    cr_assert_eq(deadlocks_of(&tf, &m, r, 3), 2);
    assert_record(r[0], &m, "mutex", "excl", "hook_lock", 0, "fail");
    assert_record(r[1], &m, "mutex", "excl", "hook_lock", 0, "wait");
    fs_trace_release(&tf);
}

Test(inherited, try_variants_go_on_under_every_policy_and_record_once)
{
    pthread_mutex_t locks[3] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                PTHREAD_MUTEX_INITIALIZER};
    static const char *const names[] = {"wait", "fail", "abort"};
    for (int policy = FS_ON_DEADLOCK_WAIT; policy <= FS_ON_DEADLOCK_ABORT; policy++) {
        pthread_mutex_t *m = &locks[policy];
        inherit(m, FS_LOCK_MUTEX, FS_MODE_EXCL);
        fs_config.on_deadlock = policy;
        /* Abort included: a try fails by itself, so the process must live on. */
        for (int i = 0; i < 20; i++) {
            cr_assert_eq(fs_child_acquire(m, FS_MODE_EXCL, "pthread_mutex_trylock", 1), 0);
            cr_assert_eq(hook_lock(m, FS_MODE_EXCL, 1), 0);
        }
    }
    for (int policy = FS_ON_DEADLOCK_WAIT; policy <= FS_ON_DEADLOCK_ABORT; policy++)
        assert_one_record(&locks[policy], "mutex", "excl", "pthread_mutex_trylock", 1,
                          names[policy]);
    cr_assert_eq(count_deadlocks(), 3);
}

Test(inherited, blocking_calls_record_at_most_eight_times_per_lock)
{
    pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
    inherit(&a, FS_LOCK_MUTEX, FS_MODE_EXCL);
    inherit(&b, FS_LOCK_MUTEX, FS_MODE_EXCL);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(fs_child_acquire(&a, FS_MODE_EXCL, "pthread_mutex_lock", 0), 1,
                     "call %d: the policy must apply after the records stop too", i);
    cr_assert_eq(fs_child_acquire(&b, FS_MODE_EXCL, "pthread_mutex_lock", 0), 1);

    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    const struct fs_record *r[64];
    cr_assert_eq(deadlocks_of(&tf, &a, r, 64), 8);
    for (int i = 0; i < 8; i++)
        assert_record(r[i], &a, "mutex", "excl", "pthread_mutex_lock", 0, "fail");
    cr_assert_eq(deadlocks_of(&tf, &b, r, 64), 1, "another lock has a limit of its own");
    fs_trace_release(&tf);
}

Test(inherited, try_after_a_blocking_record_adds_nothing)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MUTEX, FS_MODE_EXCL);
    cr_assert_eq(fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_lock", 0), 0);
    cr_assert_eq(fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_trylock", 1), 0);
    assert_one_record(&m, "mutex", "excl", "pthread_mutex_lock", 0, "wait");
}

Test(inherited, readers_share_a_read_held_rwlock)
{
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    inherit(&rw, FS_LOCK_RWLOCK, FS_MODE_READ);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(fs_child_acquire(&rw, FS_MODE_READ, "pthread_rwlock_rdlock", 0), 0);
    cr_assert_eq(count_deadlocks(), 0, "a reader on a read-held rwlock was recorded");
    cr_assert_eq(fs_child_acquire(&rw, FS_MODE_WRITE, "pthread_rwlock_wrlock", 0), 1);
    assert_one_record(&rw, "rwlock", "write", "pthread_rwlock_wrlock", 0, "fail");
}

Test(inherited, write_held_rwlock_conflicts_with_readers)
{
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    inherit(&rw, FS_LOCK_RWLOCK, FS_MODE_WRITE);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(fs_child_acquire(&rw, FS_MODE_READ, "pthread_rwlock_rdlock", 0), 1);
    assert_one_record(&rw, "rwlock", "read", "pthread_rwlock_rdlock", 0, "fail");
}

Test(inherited, semaphore_posted_since_is_not_held)
{
    sem_t s;
    cr_assert_eq(sem_init(&s, 0, 0), 0);
    inherit(&s, FS_LOCK_SEM, FS_MODE_EXCL);
    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(sem_post(&s), 0);
    cr_assert_eq(fs_child_acquire(&s, FS_MODE_EXCL, "sem_wait", 0), 0);
    cr_assert_eq(count_deadlocks(), 0, "a semaphore with value 1 was recorded");
    cr_assert_eq(sem_wait(&s), 0); /* value 0 again: as the holder left it */
    cr_assert_eq(fs_child_acquire(&s, FS_MODE_EXCL, "sem_wait", 0), 1);
    assert_one_record(&s, "sem", "excl", "sem_wait", 0, "fail");
    cr_assert_eq(sem_destroy(&s), 0);
}

Test(inherited, forget_removes_only_that_lock)
{
    pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER;
    inherit(&a, FS_LOCK_MUTEX, FS_MODE_EXCL);
    inherit(&b, FS_LOCK_MUTEX, FS_MODE_EXCL);
    inherit(&c, FS_LOCK_SPIN, FS_MODE_EXCL);
    fs_inherited_forget(&a, "pthread_mutex_init");
    cr_assert_eq(fs_ninherited, 2);
    fs_inherited_forget(&a, "pthread_mutex_init"); /* twice: nothing left to remove */
    cr_assert_eq(fs_ninherited, 2);
    hook_destroy(&c);
    cr_assert_eq(fs_ninherited, 1);
    cr_assert_eq(fs_inherited[0].lock, (uintptr_t)&b);

    fs_config.on_deadlock = FS_ON_DEADLOCK_FAIL;
    cr_assert_eq(fs_child_acquire(&a, FS_MODE_EXCL, "pthread_mutex_lock", 0), 0);
    cr_assert_eq(fs_child_acquire(&c, FS_MODE_EXCL, "pthread_spin_lock", 0), 0);
    cr_assert_eq(fs_child_acquire(&b, FS_MODE_EXCL, "pthread_mutex_lock", 0), 1);
    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    const struct fs_record *r[2];
    cr_assert_eq(deadlocks_of(&tf, &a, r, 2), 0);
    cr_assert_eq(deadlocks_of(&tf, &c, r, 2), 0);
    cr_assert_eq(deadlocks_of(&tf, &b, r, 2), 1);
    fs_trace_release(&tf);
}

/* The `reinit` records for lock, in file order; returns how many (at most max in out). */
static size_t reinits_of(const struct fs_trace_file *tf, const void *lock,
                         const struct fs_record **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < tf->nrecs; i++) {
        const struct fs_record *r = &tf->recs[i];
        uint64_t v;
        if (strcmp(r->tag, FS_REC_REINIT) != 0 || fs_rec_hex(r, "lock", &v) != 0 ||
            v != (uintptr_t)lock)
            continue;
        if (n < max)
            out[n] = r;
        n++;
    }
    return n;
}

/* A re-initialisation is recorded once, with whether the child used the lock before it. */
Test(inherited, reinit_records_whether_the_lock_was_used_first)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER, used = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    inherit(&fresh, FS_LOCK_MUTEX, FS_MODE_EXCL);
    inherit(&used, FS_LOCK_MUTEX, FS_MODE_EXCL);
    inherit(&rw, FS_LOCK_RWLOCK, FS_MODE_READ);
    cr_assert_eq(hook_lock(&used, FS_MODE_EXCL, 1), 0); /* a try: recorded, then re-init */
    cr_assert_eq(hook_lock(&rw, FS_MODE_READ, 0), 0);   /* a reader passes, but it is a use */
    errno = 4646;
    fs_inherited_forget(&fresh, "pthread_mutex_init");
    fs_inherited_forget(&used, "pthread_mutex_init");
    fs_inherited_forget(&rw, "pthread_rwlock_destroy");
    fs_inherited_forget(&fresh, "pthread_mutex_init"); /* no longer inherited: no record */
    cr_assert_eq(errno, 4646);
    cr_assert_eq(fs_ninherited, 0);

    struct fs_trace_file tf;
    fx_read_trace(getpid(), &tf);
    const struct fs_record *r[2];
    cr_assert_eq(reinits_of(&tf, &fresh, r, 2), 1);
    cr_assert_str_eq(fs_rec_str(r[0], "call"), "pthread_mutex_init");
    cr_assert_str_eq(fs_rec_str(r[0], "kind"), "mutex");
    cr_assert_eq(fx_dec(r[0], "holder"), HOLDER);
    cr_assert_eq(fx_dec(r[0], "used"), 0);
    uint64_t *frames = NULL;
    cr_assert_gt(fs_rec_hexlist(r[0], "frames", &frames), 0, "no frames in the reinit record");
    free(frames);
    cr_assert_eq(reinits_of(&tf, &used, r, 2), 1);
    cr_assert_eq(fx_dec(r[0], "used"), 1);
    cr_assert_eq(reinits_of(&tf, &rw, r, 2), 1);
    cr_assert_eq(fx_dec(r[0], "used"), 1);
    cr_assert_str_eq(fs_rec_str(r[0], "call"), "pthread_rwlock_destroy");
    fs_trace_release(&tf);
}

Test(inherited, errno_is_preserved)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, other = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MUTEX, FS_MODE_EXCL);
    for (int policy = FS_ON_DEADLOCK_WAIT; policy <= FS_ON_DEADLOCK_FAIL; policy++) {
        fs_config.on_deadlock = policy;
        errno = 4242;
        fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_lock", 0); /* records: trace writes */
        cr_assert_eq(errno, 4242, "policy %d", policy);
        errno = 4343;
        fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_trylock", 1);
        cr_assert_eq(errno, 4343);
        errno = 4444;
        fs_child_acquire(&other, FS_MODE_EXCL, "pthread_mutex_lock", 0);
        cr_assert_eq(errno, 4444);
    }
    /* Even when the write fails (no trace file any more). */
    fx_recorder_teardown();
    errno = 4545;
    fs_config.on_deadlock = FS_ON_DEADLOCK_WAIT;
    fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_lock", 0);
    cr_assert_eq(errno, 4545);
}

Test(inherited, policy_abort_records_then_dies_by_sigabrt)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    inherit(&m, FS_LOCK_MUTEX, FS_MODE_EXCL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The child: no Criterion asserts here, only an exit status. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGABRT, SIG_DFL);
        if (open_trace() < 0)
            _exit(3);
        fs_config.on_deadlock = FS_ON_DEADLOCK_ABORT;
        fs_child_acquire(&m, FS_MODE_EXCL, "pthread_mutex_lock", 0);
        _exit(4); /* the abort policy returned */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "child exited with %d instead of dying",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    cr_assert_eq(WTERMSIG(status), SIGABRT);

    struct fs_trace_file tf;
    fx_read_trace(pid, &tf);
    cr_assert_str_eq(tf.recs[0].tag, FS_REC_PROC);
    cr_assert_eq(fx_dec(&tf.recs[0], "pid"), pid);
    const struct fs_record *r[2];
    cr_assert_eq(deadlocks_of(&tf, &m, r, 2), 1, "the record must be on disk before the abort");
    assert_record(r[0], &m, "mutex", "excl", "pthread_mutex_lock", 0, "abort");
    fs_trace_release(&tf);
    cr_assert_eq(count_deadlocks(), 0, "the child wrote into the parent's file");
}
