/* Unit tests for the fork-lock-race rule (analyzer/rules/race.c): models built from trace strings
 * with `race` records, all rules run without a symbolizer, and the findings checked for
 * severity, summary, details, stacks, merging across children, and silence where the lock was
 * held at the fork (the existing findings speak for it) or the record does not parse. */
#include "trace_read.h"
#include "rules.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The child taking the mutex the worker (4201) used at 0x55d0c0a01130 before the fork. */
#define RACE(lock, call, try, state)                                                              \
    "race lock=" lock " kind=mutex mode=excl tid=4201 othermode=excl site=55d0c0a01130 state="     \
    state " call=" call " try=" #try " time=2000 frames=" CHILD_FRAMES "\n"
#define CHILD_FRAMES "55d0c0a01500,55d0c0a01600,7f00aa029d8f"

TestSuite(race, .init = fx_quiet);

Test(race, reported_with_its_evidence)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) RACE("55d0c0a04080", "pthread_mutex_lock", 0, "S"));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-lock-race"), 1);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 0);
    cr_assert_eq(fx_count(&r.out, "child-deadlock"), 0);
    const struct fs_finding *f = fx_find(&r.out, "fork-lock-race", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_not_null(strstr(f->summary, "child 4242 called pthread_mutex_lock on pthread mutex "
                                          "0x55d0c0a04080, which thread 4201 \"worker\" also took"));
    fx_detail_is(f, "lock", "0x55d0c0a04080");
    fx_detail_is(f, "call", "pthread_mutex_lock");
    fx_detail_is(f, "other_thread", "tid 4201 \"worker\"");
    fx_detail_is(f, "other_start", "0x55d0c0a01100");
    fx_detail_is(f, "other_state", "sleeping (from /proc just after the fork)");
    fx_detail_is(f, "parent", "4200");
    fx_detail_is(f, "child", "4242");

    const struct fs_stack *s = fx_stack(f, "acquire");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4201);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01130ULL);
    s = fx_stack(f, "fork");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4200);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01234ULL);
    s = fx_stack(f, "child-acquire");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4242);
    cr_assert_eq(s->nframes, 3);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01500ULL);
    cr_assert_eq(f->npath, 2);
    fx_run_release(&r);
}

Test(race, other_users_are_counted)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "race lock=55d0c0a04080 kind=mutex mode=excl tid=4201 othermode=excl "
                          "site=55d0c0a01130 state=R others=3 call=pthread_mutex_lock try=0 "
                          "time=2000 frames=" CHILD_FRAMES "\n");
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "fork-lock-race", 4242);
    cr_assert_not_null(f);
    fx_detail_is(f, "other_threads", "3 more vanished threads used it");
    fx_detail_is(f, "other_state", "running (from /proc just after the fork)");
    fx_run_release(&r);
}

Test(race, unknown_state_is_said)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) RACE("55d0c0a04080", "sem_trywait", 1, "?"));
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "fork-lock-race", 4242);
    cr_assert_not_null(f);
    fx_detail_is(f, "other_state", "unknown (from /proc just after the fork)");
    cr_assert_null(fs_finding_detail_get(f, "other_threads"));
    fx_run_release(&r);
}

/* Held at the fork: lock-held-at-fork and child-deadlock stand, the race is not repeated. */
Test(race, merged_into_held_at_fork)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER RACE("55d0c0a04040", "pthread_mutex_lock", 0, "R"));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-lock-race"), 0);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    fx_run_release(&r);
}

/* A parent forking N workers that all take the lock: one finding naming every child. */
Test(race, merged_across_children)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace",
           PARENT "fork seq=2 child=4243 tid=4200 via=fork time=1001 "
                  "frames=55d0c0a01234,7f00aa029d8f\n");
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) RACE("55d0c0a04080", "pthread_mutex_lock", 0, "S"));
    fx_add(&r.m, "4243.0.trace", CHILD(4243, 2) RACE("55d0c0a04080", "pthread_mutex_lock", 0, "R"));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-lock-race"), 1);
    const struct fs_finding *f = fx_find(&r.out, "fork-lock-race", 4242);
    cr_assert_not_null(f);
    fx_detail_is(f, "children", "4242, 4243 (2 children)");
    fx_run_release(&r);
}

/* Two locks, two findings; a record without its lock is damage, not a finding. */
Test(race, one_per_lock_and_bad_records_ignored)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) RACE("55d0c0a04080", "pthread_mutex_lock", 0, "S")
               RACE("55d0c0a040c0", "pthread_mutex_trylock", 1, "S")
                   "race kind=mutex tid=4201 call=pthread_mutex_lock\n");
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-lock-race"), 2);
    fx_run_release(&r);
}

/* Without the child's snapshot there is no fork to speak of. */
Test(race, needs_the_snapshot)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a.out "
           "cmdline=./a.out\n" RACE("55d0c0a04080", "pthread_mutex_lock", 0, "S"));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-lock-race"), 0);
    fx_run_release(&r);
}
