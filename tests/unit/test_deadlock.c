/* Unit tests for the child-deadlock rule (analyzer/rules/deadlock.c): models built from trace
 * strings with `deadlock` records, all rules run without a symbolizer, and the child-deadlock
 * findings checked for severity, summary, details, stacks, merging and their lock-held-at-fork
 * companion. */
#include "trace_read.h"
#include "rules.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The child locking the worker's mutex; policy and frames vary. */
#define DEADLOCK(call, try, policy, frames)                                                        \
    "deadlock lock=55d0c0a04040 kind=mutex mode=excl holder=4201 call=" call " try=" #try          \
    " policy=" policy " time=2000 frames=" frames "\n"

#define CHILD_FRAMES "55d0c0a01500,55d0c0a01600,7f00aa029d8f"

TestSuite(deadlock, .init = fx_quiet);

Test(deadlock, blocking_call_policy_wait)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_lock", 0, "wait", CHILD_FRAMES));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    cr_assert_str_eq(f->summary,
                     "child 4242 blocked in pthread_mutex_lock on pthread mutex 0x55d0c0a04040, "
                     "which thread 4201 \"worker\" held when the parent forked; nobody in the "
                     "child can release it (the call blocks forever)");
    const char *keys[] = {"lock",         "kind",   "mode",   "call",  "holder",
                          "holder_start", "policy", "parent", "child", "related"};
    cr_assert_eq(f->ndetails, sizeof keys / sizeof *keys);
    for (size_t i = 0; i < f->ndetails; i++)
        cr_assert_str_eq(f->details[i].key, keys[i], "detail order");
    fx_detail_is(f, "lock", "0x55d0c0a04040");
    fx_detail_is(f, "kind", "pthread mutex");
    fx_detail_is(f, "mode", "excl");
    fx_detail_is(f, "call", "pthread_mutex_lock");
    fx_detail_is(f, "holder", "tid 4201 \"worker\"");
    fx_detail_is(f, "holder_start", "0x55d0c0a01100");
    fx_detail_is(f, "policy", "wait");
    fx_detail_is(f, "parent", "4200");
    fx_detail_is(f, "child", "4242");
    fx_detail_is(f, "related", "lock-held-at-fork");

    cr_assert_eq(f->nstacks, 3);
    cr_assert_str_eq(f->stacks[0].role, "child-acquire");
    const struct fs_stack *s = fx_stack(f, "child-acquire");
    cr_assert_eq(s->tid, 4242);
    cr_assert_eq(s->nframes, 3);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01500ULL);
    cr_assert_eq(s->frames[2].pc, 0x7f00aa029d8fULL);
    s = fx_stack(f, "acquire");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4201);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01130ULL);
    s = fx_stack(f, "fork");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4200);
    cr_assert_eq(s->nframes, 2);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01234ULL);

    cr_assert_eq(f->npath, 2);
    cr_assert_eq(f->path[0].pid, 4200);
    cr_assert_eq(f->path[1].pid, 4242);
    cr_assert_str_eq(f->path[1].name, "a.out");

    /* Both are shown: the risk at the fork and the damage it did. */
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    cr_assert_eq(fx_find(&r.out, "lock-held-at-fork", 4242)->severity, FS_SEV_WARNING);
    /* Errors sort first. */
    cr_assert_str_eq(r.out.items[0].hazard, "child-deadlock");
    fx_run_release(&r);
}

Test(deadlock, policies_fail_and_abort)
{
    static const struct {
        const char *policy, *note;
    } cases[] = {
        {"fail", " (forksan made the call fail: FORKSAN_ON_DEADLOCK=fail)"},
        {"abort", " (forksan aborted the child: FORKSAN_ON_DEADLOCK=abort)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct fx_run r = {0};
        char *child = fs_xasprintf(CHILD(4242, 1) HELD_WORKER
                                   "deadlock lock=55d0c0a04040 kind=mutex mode=excl holder=4201 "
                                   "call=pthread_mutex_lock try=0 policy=%s time=2000 frames=%s\n",
                                   cases[i].policy, CHILD_FRAMES);
        fx_add(&r.m, "4200.0.trace", PARENT);
        fx_add(&r.m, "4242.0.trace", child);
        free(child);
        fx_run_rules(&r);
        cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1, "%s", cases[i].policy);
        const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
        cr_assert_eq(f->severity, FS_SEV_ERROR);
        char *expect = fs_xasprintf(
            "child 4242 blocked in pthread_mutex_lock on pthread mutex 0x55d0c0a04040, which "
            "thread 4201 \"worker\" held when the parent forked; nobody in the child can release "
            "it%s",
            cases[i].note);
        cr_assert_str_eq(f->summary, expect);
        free(expect);
        fx_detail_is(f, "policy", cases[i].policy);
        cr_assert_null(fs_finding_detail_get(f, "attempts"));
        cr_assert_not_null(fx_stack(f, "child-acquire"));
        cr_assert_not_null(fx_stack(f, "acquire"));
        cr_assert_not_null(fx_stack(f, "fork"));
        fx_run_release(&r);
    }
}

Test(deadlock, try_variant_is_a_warning)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_trylock", 1, "wait", CHILD_FRAMES));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_str_eq(f->summary, "child 4242's pthread_mutex_trylock failed on pthread mutex "
                                 "0x55d0c0a04040, inherited locked from thread 4201 \"worker\"");
    fx_detail_is(f, "call", "pthread_mutex_trylock");
    fx_detail_is(f, "related", "lock-held-at-fork");
    cr_assert_eq(fx_stack(f, "child-acquire")->tid, 4242);
    fx_run_release(&r);
}

Test(deadlock, try_variant_with_abort_says_so)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_trylock", 1, "abort", CHILD_FRAMES));
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_str_eq(f->summary,
                     "child 4242's pthread_mutex_trylock failed on pthread mutex 0x55d0c0a04040, "
                     "inherited locked from thread 4201 \"worker\" (forksan aborted the child: "
                     "FORKSAN_ON_DEADLOCK=abort)");
    fx_run_release(&r);
}

Test(deadlock, repeated_attempts_merge)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_lock", 0, "fail", CHILD_FRAMES)
               DEADLOCK("pthread_mutex_lock", 0, "fail", CHILD_FRAMES)
                   DEADLOCK("pthread_mutex_lock", 0, "fail", CHILD_FRAMES)
           /* Another call site on the same lock is a finding of its own. */
           DEADLOCK("pthread_mutex_lock", 0, "fail", "55d0c0a01700,7f00aa029d8f"));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 2);
    size_t seen = 0;
    for (size_t i = 0; i < r.out.n; i++) {
        const struct fs_finding *f = &r.out.items[i];
        if (strcmp(f->hazard, "child-deadlock") != 0)
            continue;
        const struct fs_stack *s = fx_stack(f, "child-acquire");
        cr_assert_not_null(s);
        if (s->frames[0].pc == 0x55d0c0a01500ULL) {
            fx_detail_is(f, "attempts", "3");
            seen |= 1;
        } else {
            cr_assert_eq(s->frames[0].pc, 0x55d0c0a01700ULL);
            cr_assert_null(fs_finding_detail_get(f, "attempts"));
            seen |= 2;
        }
    }
    cr_assert_eq(seen, 3);
    fx_run_release(&r);
}

Test(deadlock, not_merged_across_children)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace",
           PARENT "fork seq=2 child=4243 tid=4200 via=fork time=1100 "
                  "frames=55d0c0a01234,7f00aa029d8f\n");
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_lock", 0, "wait", CHILD_FRAMES));
    fx_add(&r.m, "4243.0.trace",
           CHILD(4243, 2) HELD_WORKER DEADLOCK("pthread_mutex_lock", 0, "wait", CHILD_FRAMES));
    fx_run_rules(&r);
    /* The lock rule merges the prefork children; each blocked child is a finding of its own. */
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 2);
    const struct fs_finding *a = fx_find(&r.out, "child-deadlock", 4242),
                            *b = fx_find(&r.out, "child-deadlock", 4243);
    fx_detail_is(a, "child", "4242");
    fx_detail_is(b, "child", "4243");
    cr_assert_null(fs_finding_detail_get(a, "children"));
    cr_assert_null(fs_finding_detail_get(b, "children"));
    fx_run_release(&r);
}

Test(deadlock, record_in_execed_child_image_is_reported)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_lock", 0, "fail",
                                               CHILD_FRAMES) "exec time=3000 path=/bin/true\n");
    fx_add(&r.m, "4242.1.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4200 origin=start image=1 time=3000 exe=/bin/true comm=true "
           "cmdline=true\n");
    fx_run_rules(&r);
    cr_assert(fs_process_execed(fs_model_find(&r.m, 4242)));
    /* The exec replaced the inherited memory: no risk is left to report, but the call that
     * failed before it happened still did. */
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 0);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    cr_assert_null(fs_finding_detail_get(f, "related"));
    fx_detail_is(f, "holder", "tid 4201 \"worker\"");
    cr_assert_not_null(fx_stack(f, "acquire"));
    cr_assert_not_null(fx_stack(f, "fork"));
    cr_assert_eq(fx_stack(f, "child-acquire")->nframes, 3);
    fx_run_release(&r);
}

Test(deadlock, without_held_record_names_what_it_can)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(
        &r.m, "4242.0.trace",
        CHILD(
            4242,
            1) "deadlock lock=7000 kind=sem mode=excl holder=4999 call=sem_wait try=0 policy=wait "
               "time=2000 frames=55d0c0a01500\n");
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_str_eq(f->summary,
                     "child 4242 blocked in sem_wait on semaphore 0x7000, which thread 4999 held "
                     "when the parent forked; nobody in the child can release it (the call blocks "
                     "forever)");
    fx_detail_is(f, "holder", "tid 4999");
    cr_assert_null(fs_finding_detail_get(f, "holder_start"));
    cr_assert_null(fs_finding_detail_get(f, "related"));
    cr_assert_null(fx_stack(f, "acquire"));
    cr_assert_not_null(fx_stack(f, "fork"));
    cr_assert_eq(f->nstacks, 2);
    fx_run_release(&r);
}

Test(deadlock, rwlock_kind_from_the_held_record)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "held tid=4201 lock=3000 kind=rwlock mode=write count=1 frames=1\n"
                          "deadlock lock=3000 kind=rwlock mode=read holder=4201 "
                          "call=pthread_rwlock_rdlock try=0 policy=wait time=2000 frames=2\n");
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    fx_detail_is(f, "kind", "pthread rwlock (write)");
    fx_detail_is(f, "mode", "read");
    fx_run_release(&r);
}

Test(deadlock, clean_child_has_none)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 0);
    fx_run_release(&r);
}

Test(deadlock, bad_record_is_skipped_and_counted)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    /* No call: required. */
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER
           "deadlock lock=55d0c0a04040 kind=mutex holder=4201 try=0 policy=wait frames=1\n"
           "deadlock lock=zz kind=mutex holder=4201 call=pthread_mutex_lock frames=1\n");
    fx_run_rules(&r);
    const struct fs_image *img = fs_process_first_image(fs_model_find(&r.m, 4242));
    cr_assert(img->damaged);
    cr_assert_eq(img->ndeadlocks, 0);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 0);
    fx_run_release(&r);
}

/* A call on the worker's mutex at a given time, with the calling thread's Python stack (tid). */
#define DEADLOCK_AT(call, try, time, pytid) DEADLOCK_LINE(call, try, time, pytid, 11)
#define DEADLOCK_LINE(call, try, time, pytid, line)                                                \
    "deadlock lock=55d0c0a04040 kind=mutex mode=excl holder=4201 call=" call " try=" #try          \
    " policy=wait time=" #time " frames=" CHILD_FRAMES "\n"                                        \
    "python of=deadlock version=3.11.2 status=ok stdlib=/usr/lib/python3.11\n"                     \
    "pythread of=deadlock tid=" #pytid " ident=7f02 name=MainThread forker=1 nframes=1\n"          \
    "pyframe of=deadlock tid=" #pytid " line=" #line " file=/work/mp.py func=work\n"

/* CPython's lock acquire tries sem_trywait, then waits: one acquisition, one finding, the
 * blocking call's (an error), which says what was tried first. */
Test(deadlock, try_then_wait_is_one_finding)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add_file(&r.m, "4242.0.trace",
                CHILD(4242, 1) HELD_WORKER DEADLOCK_AT("sem_trywait", 1, 2000, 4242)
                    DEADLOCK_AT("sem_wait", 0, 2001, 4242),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    fx_detail_is(f, "call", "sem_wait");
    fx_detail_is(f, "tried_first", "sem_trywait, which failed");
    fx_run_release(&r);
}

/* lock.acquire(timeout=...) after the try: the timed call stands for both, a warning. */
Test(deadlock, try_then_timed_is_one_warning)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add_file(&r.m, "4242.0.trace",
                CHILD(4242, 1) HELD_WORKER DEADLOCK_AT("sem_trywait", 1, 2000, 4242)
                    DEADLOCK_AT("sem_clockwait", 1, 2001, 4242),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 1);
    const struct fs_finding *f = fx_find(&r.out, "child-deadlock", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    fx_detail_is(f, "call", "sem_clockwait");
    fx_detail_is(f, "tried_first", "sem_trywait, which failed");
    fx_run_release(&r);
}

/* Not one acquisition: the try came after the wait, from another thread of the child, from
 * another Python line, or without Python stacks (native calls: a trylock and a lock at two lines
 * look like a fallback at one). */
Test(deadlock, try_of_another_call_stays)
{
    const char *texts[] = {
        CHILD(4242, 1) HELD_WORKER DEADLOCK_AT("sem_wait", 0, 2000, 4242)
            DEADLOCK_AT("sem_trywait", 1, 2001, 4242),
        CHILD(4242, 1) HELD_WORKER DEADLOCK_AT("sem_trywait", 1, 2000, 4250)
            DEADLOCK_AT("sem_wait", 0, 2001, 4242),
        CHILD(4242, 1) HELD_WORKER DEADLOCK_LINE("sem_trywait", 1, 2000, 4242, 10)
            DEADLOCK_LINE("sem_wait", 0, 2001, 4242, 12),
        CHILD(4242, 1) HELD_WORKER DEADLOCK("pthread_mutex_trylock", 1, "wait", CHILD_FRAMES)
            DEADLOCK("pthread_mutex_lock", 0, "wait", CHILD_FRAMES),
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        struct fx_run r = {0};
        fx_add(&r.m, "4200.0.trace", PARENT);
        fx_add_file(&r.m, "4242.0.trace", texts[i], FX_CLEAN);
        fx_run_rules(&r);
        cr_assert_eq(fx_count(&r.out, "child-deadlock"), 2, "case %zu", i);
        for (size_t k = 0; k < r.out.n; k++)
            cr_assert_null(fs_finding_detail_get(&r.out.items[k], "tried_first"));
        fx_run_release(&r);
    }
}
