/* Unit tests for the copied-state rules (analyzer/rules/copied.c) on synthetic traces: pending
 * output at fork and who wrote it, a child's exit through exit() with inherited handlers, zombies
 * left at a parent's end or reaped past the threshold, a child forking again from its creator's site (native and Python
 * stacks), and refused forks.  Each rule is checked to fire on its hazard and to stay silent on
 * the look-alike. */
#include "trace_read.h"
#include "rules.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(copied, .init = fx_quiet);

#define HEAD(pid, ppid, origin)                                                                    \
    "forksan-trace version=1 pid=" #pid "\n"                                                       \
    "proc pid=" #pid " ppid=" #ppid " origin=" origin " image=0 time=1000 exe=/tmp/a.out "         \
    "comm=a.out cmdline=./a.out\n"                                                                 \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"

#define SITE_A "55d0c0a01234,7f00aa029d8f"
#define SITE_B "55d0c0a01300,55d0c0a01400,7f00aa029d8f"

/* A fork made by pid at `time` with counter seq, and its child's side. */
#define FORK(seq, tid, time, frames)                                                               \
    "fork seq=" #seq " tid=" #tid " via=fork time=" #time " frames=" frames "\n"
#define CHILDREC(seq, parent, time, frames)                                                        \
    "child seq=" #seq " parent=" #parent " forker=" #parent " via=fork time=" #time                \
    " frames=" frames "\n"                                                                         \
    "thread tid=" #parent " name=a.out forker=1 known=1 start=0 creator=0 site=0\n"

#define STREAM                                                                                     \
    "stream layer=c id=7f0000001000 fd=1 pending=6 buffering=full bytes=hello%0a "                 \
    "target=pipe:[77]\n"
#define END(how, time) "end how=" how " time=" #time " forked=0 sigchld=dfl frames= handlers=\n"
#define CEND(how, time, handlers)                                                                  \
    "end how=" how " time=" #time " forked=1 sigchld=dfl frames=55d0c0a01500,55d0c0a01600 "        \
    "handlers=" handlers " hsites=55d0c0a01700 pyatexit=0\n"
#define FATE(still) "streamend layer=c id=7f0000001000 still=" #still "\n"

static void only(const struct fx_run *r, const char *hazard, size_t n)
{
    cr_assert_eq(fx_count(&r->out, hazard), n, "%s findings", hazard);
    cr_assert_eq(r->out.n, n, "other findings than %s", hazard);
}

/* ---- stdio-unflushed-at-fork ---------------------------------------------------------------- */

Test(copied, pending_output_written_by_both_is_an_error)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A)
                END("exit", 9000) FATE(1), FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace", HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                STREAM "end how=_exit time=5000 forked=1 sigchld=dfl frames= handlers=\n"
                FATE(0), FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "stdio-unflushed-at-fork", 1);
    const struct fs_finding *f = fx_find(&r.out, "stdio-unflushed-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    fx_detail_is(f, "stream", "stdout");
    fx_detail_is(f, "fd", "1");
    fx_detail_is(f, "target", "pipe:[77]");
    fx_detail_is(f, "pending_bytes", "6");
    fx_detail_is(f, "first_bytes", "\"hello\\n\"");
    fx_detail_is(f, "parent_did", "wrote them (flushed, or at exit)");
    fx_detail_is(f, "child_did", "wrote them (flushed before it ended)");
    const struct fs_stack *s = fx_stack(f, "fork");
    cr_assert_not_null(s);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01234ULL);
    fx_run_release(&r);
}

Test(copied, pending_output_parent_unknown_is_a_warning)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A) STREAM
                    CEND("exit", 5000, "") FATE(1),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "stdio-unflushed-at-fork"), 1);
    const struct fs_finding *f = fx_find(&r.out, "stdio-unflushed-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    fx_detail_is(f, "parent_did",
                 "unknown (it did not end through exit, _exit or exec while traced)");
    /* exit() wrote the inherited bytes: the child's exit is reported too. */
    cr_assert_eq(fx_count(&r.out, "child-exit-runs-parent-cleanup"), 1);
    fx_run_release(&r);
}

Test(copied, pending_output_discarded_by_child_is_silent)
{
    const char *ends[] = {"end how=_exit time=5000 forked=1 sigchld=dfl frames= handlers=\n",
                          "end how=exec time=5000 forked=1 sigchld=dfl frames= handlers=\n"};
    for (size_t i = 0; i < 2; i++) {
        struct fx_run r = {0};
        fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A)
                    END("exit", 9000) FATE(1), FX_CLEAN);
        char *child = fs_xasprintf("%s%s%s%s%s", HEAD(4242, 4200, "fork"),
                                   CHILDREC(1, 4200, 1500, SITE_A), STREAM, ends[i], FATE(1));
        fx_add_file(&r.m, "4242.0.trace", child, FX_CLEAN);
        free(child);
        fx_run_rules(&r);
        cr_assert_eq(r.out.n, 0, "%s: the child discarded its copy", ends[i]);
        fx_run_release(&r);
    }
}

/* A Python file opened for writing (open(path, "w")): a Python stream on fd 3, named as a file
 * with its path. */
Test(copied, python_file_pending_written_by_both)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) END("exit", 9000)
                    "streamend layer=python id=7f00000a0000 still=1\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    "stream layer=python id=7f00000a0000 fd=3 pending=12 buffering=full "
                    "bytes=job%20results%0a target=/tmp/w/results.txt\n"
                    "end how=_exit time=5000 forked=1 sigchld=dfl frames= handlers=\n"
                    "streamend layer=python id=7f00000a0000 still=0\n",
                FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "stdio-unflushed-at-fork", 1);
    const struct fs_finding *f = fx_find(&r.out, "stdio-unflushed-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    fx_detail_is(f, "stream", "a Python file");
    fx_detail_is(f, "layer", "Python io (above libc)");
    fx_detail_is(f, "fd", "3");
    fx_detail_is(f, "target", "/tmp/w/results.txt");
    fx_detail_is(f, "pending_bytes", "12");
    fx_detail_is(f, "first_bytes", "\"job results\\n\"");
    fx_run_release(&r);
}

/* The same file, but the child's os._exit found the bytes still pending: discarded, silent. */
Test(copied, python_file_discarded_by_child_is_silent)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) END("exit", 9000)
                    "streamend layer=python id=7f00000a0000 still=1\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    "stream layer=python id=7f00000a0000 fd=3 pending=12 buffering=full "
                    "bytes=job%20results%0a target=/tmp/w/results.txt\n"
                    "end how=_exit time=5000 forked=1 sigchld=dfl frames= handlers=\n"
                    "streamend layer=python id=7f00000a0000 still=1\n",
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 0);
    fx_run_release(&r);
}

/* ---- child-exit-runs-parent-cleanup ------------------------------------------------------------ */

Test(copied, child_exit_with_inherited_handler)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    CEND("exit", 5000, "55d0c0a01100"),
                FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "child-exit-runs-parent-cleanup", 1);
    const struct fs_finding *f = fx_find(&r.out, "child-exit-runs-parent-cleanup", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    fx_detail_is(f, "inherited_handlers", "0x55d0c0a01100");
    fx_detail_is(f, "handler_count", "1");
    const struct fs_stack *s = fx_stack(f, "exit");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 2);
    cr_assert_not_null(fx_stack(f, "handler-registered"));
    cr_assert_not_null(fx_stack(f, "fork"));
    fx_run_release(&r);
}

Test(copied, child_exit_without_inheritance_or_through_exit_is_silent)
{
    const char *ends[] = {
        /* exit(), but nothing inherited: its own handlers only */
        CEND("exit", 5000, ""),
        /* _exit with a handler inherited: it does not run */
        "end how=_exit time=5000 forked=1 sigchld=dfl frames= handlers=55d0c0a01100 "
        "hsites=55d0c0a01700 pyatexit=2\n",
    };
    for (size_t i = 0; i < 2; i++) {
        struct fx_run r = {0};
        fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A),
                    FX_CLEAN);
        char *child = fs_xasprintf("%s%s%s", HEAD(4242, 4200, "fork"),
                                   CHILDREC(1, 4200, 1500, SITE_A), ends[i]);
        fx_add_file(&r.m, "4242.0.trace", child, FX_CLEAN);
        free(child);
        fx_run_rules(&r);
        cr_assert_eq(r.out.n, 0, "end %zu", i);
        fx_run_release(&r);
    }
}

Test(copied, python_child_exit_with_atexit_callbacks)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    "end how=exit time=5000 forked=1 sigchld=dfl frames=55d0c0a01500 handlers= "
                    "hsites= pyatexit=2\n",
                FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "child-exit-runs-parent-cleanup", 1);
    fx_detail_is(fx_find(&r.out, "child-exit-runs-parent-cleanup", 4242),
                 "python_atexit_callbacks", "2");
    fx_run_release(&r);
}

/* ---- unreaped-child ------------------------------------------------------------------------- */

Test(copied, zombies_at_the_parents_end)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) FORK(2, 4200, 1600, SITE_A)
                    END("exit", 2000001000) "zombie pid=4242\nzombie pid=4243\n",
                FX_CLEAN);
    /* 4242 was traced and says when it ended; 4243 wrote nothing. */
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    "end how=_exit time=1000001000 forked=1 sigchld=dfl frames= handlers=\n",
                FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "unreaped-child", 1);
    const struct fs_finding *f = fx_find(&r.out, "unreaped-child", 4200);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    fx_detail_is(f, "children", "4242, 4243");
    size_t zombies = 0;
    for (size_t i = 0; i < f->ndetails; i++)
        if (strcmp(f->details[i].key, "zombie") == 0) {
            cr_assert_str_eq(f->details[i].value,
                             zombies == 0 ? "4242 for 1.000 s (it ended through _exit)"
                                          : "4243 (when it ended is not known)");
            zombies++;
        }
    cr_assert_eq(zombies, 2);
    cr_assert_not_null(fx_stack(f, "fork"));
    fx_run_release(&r);
}

Test(copied, no_zombie_no_finding)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) END("exit", 9000), FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 0);
    fx_run_release(&r);
}

/* A parent that ran on and reaped two untraced children late (`reaped`, from its wait hook):
 * one finding, the worst zombie in the summary, each listed, and the fork site found among the
 * parent's forks made before the child ended. */
Test(copied, children_reaped_after_the_threshold)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) FORK(2, 4200, 900000000,
                                                                        SITE_B)
                    "reaped pid=4242 zombie=4500000000 threshold=3000000000 time=5000000000\n"
                    "reaped pid=4243 zombie=3200000000 threshold=3000000000 time=5100000000\n"
                    END("exit", 6000000000),
                FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "unreaped-child", 1);
    const struct fs_finding *f = fx_find(&r.out, "unreaped-child", 4200);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_not_null(strstr(f->summary, "child 4242 stayed a zombie for 4.500 s"));
    fx_detail_is(f, "threshold", "3.000 s");
    size_t zombies = 0;
    for (size_t i = 0; i < f->ndetails; i++)
        if (strcmp(f->details[i].key, "zombie") == 0) {
            cr_assert_str_eq(f->details[i].value, zombies == 0 ? "4242 for 4.500 s, then reaped"
                                                               : "4243 for 3.200 s, then reaped");
            zombies++;
        }
    cr_assert_eq(zombies, 2);
    /* 4242 ended at 0.5 s: the fork at 0.9 s (SITE_B) cannot have made it. */
    const struct fs_stack *st = fx_stack(f, "fork");
    cr_assert_not_null(st);
    cr_assert_eq(st->frames[0].pc, 0x55d0c0a01234ULL);
    fx_run_release(&r);
}

/* A traced child's own fork record gives the site; a parent with no `reaped` record is silent. */
Test(copied, late_reap_uses_the_traced_childs_fork)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_B)
                    "reaped pid=4242 zombie=4000000000 threshold=3000000000 time=5000000000\n"
                    END("exit", 6000000000),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_B)
                    "end how=_exit time=1000000000 forked=1 sigchld=dfl frames= handlers=\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4300.0.trace",
                HEAD(4300, 1, "start") FORK(1, 4300, 1500, SITE_A) END("exit", 9000), FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "unreaped-child", 1);
    const struct fs_finding *f = fx_find(&r.out, "unreaped-child", 4200);
    const struct fs_stack *st = fx_stack(f, "fork");
    cr_assert_not_null(st);
    cr_assert_eq(st->frames[0].pc, 0x55d0c0a01300ULL);
    cr_assert_eq(r.out.items[0].pid, 4200, "only the parent that reaped late");
    fx_run_release(&r);
}

/* A `reaped` record with no zombie time is malformed: the file is damaged, no finding. */
Test(copied, malformed_reaped_record_is_no_finding)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A)
                    "reaped pid=4242 threshold=3000000000 time=5000000000\n" END("exit", 6000000000),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "unreaped-child"), 0);
    fx_run_release(&r);
}

/* ---- child-repeats-fork --------------------------------------------------------------------- */

Test(copied, child_forks_again_from_its_creators_site)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) FORK(2, 4200, 1600, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    FORK(1, 4242, 1700, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4243.0.trace",
                HEAD(4243, 4200, "fork") CHILDREC(2, 4200, 1600, SITE_A), FX_CLEAN);
    fx_add_file(&r.m, "4250.0.trace",
                HEAD(4250, 4242, "fork") CHILDREC(1, 4242, 1700, SITE_A), FX_CLEAN);
    fx_run_rules(&r);
    only(&r, "child-repeats-fork", 1);
    const struct fs_finding *f = fx_find(&r.out, "child-repeats-fork", 4242);
    fx_detail_is(f, "generations", "2");
    fx_detail_is(f, "processes", "3");
    fx_detail_is(f, "compared", "native stacks");
    fx_run_release(&r);
}

Test(copied, child_forking_elsewhere_is_silent)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace", HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A),
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                    FORK(1, 4242, 1700, SITE_B),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 0, "a double fork or recursion forks from another stack");
    fx_run_release(&r);
}

/* Python: every os.fork has the interpreter's native stack; only the Python key decides. */
Test(copied, python_stacks_decide)
{
    for (int same = 0; same < 2; same++) {
        struct fx_run r = {0};
        fx_add_file(&r.m, "4200.0.trace",
                    HEAD(4200, 1, "start") "fork seq=1 tid=4200 via=fork time=1500 frames=" SITE_A
                                           " pykey=abc pydepth=2\n",
                    FX_CLEAN);
        char *child = fs_xasprintf(
            "%schild seq=1 parent=4200 forker=4200 via=fork time=1500 frames=" SITE_A
            " pykey=abc pydepth=2\n"
            "fork seq=1 tid=4242 via=fork time=1700 frames=" SITE_A " pykey=%s pydepth=%d\n",
            HEAD(4242, 4200, "fork"), same ? "abc" : "abd", same ? 2 : 3);
        fx_add_file(&r.m, "4242.0.trace", child, FX_CLEAN);
        free(child);
        fx_run_rules(&r);
        cr_assert_eq(fx_count(&r.out, "child-repeats-fork"), (size_t)same);
        if (same)
            fx_detail_is(fx_find(&r.out, "child-repeats-fork", 4242), "compared",
                         "Python stacks");
        fx_run_release(&r);
    }
}

/* ---- fork-storm ---------------------------------------------------------------------------- */

Test(copied, refused_forks_are_a_storm)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) FORK(2, 4200, 1600, SITE_B)
                    FORK(3, 4200, 1650, SITE_A)
                "refused limit=processes max=16 alive=16 forks=40 time=1700 frames=" SITE_A "\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                HEAD(4242, 4200, "fork") CHILDREC(1, 4200, 1500, SITE_A)
                "refused limit=processes max=16 alive=16 forks=41 time=1800 frames=" SITE_B "\n",
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-storm"), 1);
    const struct fs_finding *f = fx_find(&r.out, "fork-storm", 4200);
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    fx_detail_is(f, "limit", "--max-processes 16");
    fx_detail_is(f, "processes_refused", "2");
    fx_detail_is(f, "forks_recorded", "3");
    fx_detail_is(f, "top_site_forks", "2");
    const struct fs_stack *s = fx_stack(f, "fork");
    cr_assert_not_null(s);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01234ULL, "the site that forked most");
    cr_assert_not_null(fx_stack(f, "refused"));
    fx_run_release(&r);
}

Test(copied, no_refusal_no_storm)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                HEAD(4200, 1, "start") FORK(1, 4200, 1500, SITE_A) FORK(2, 4200, 1600, SITE_A),
                FX_CLEAN);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "fork-storm"), 0);
    fx_run_release(&r);
}

/* ---- fd-inherited --------------------------------------------------------------------------- */

/* Root 4200 forks 4242, which execs /bin/true; the new image finds fd 5 open. */
static void fd_run(struct fx_run *r, const char *root_fds, const char *placed)
{
    char *root = fs_xasprintf("%s%s%s", HEAD(4200, 1, "start"), root_fds,
                              FORK(1, 4200, 1500, SITE_A));
    fx_add_file(&r->m, "4200.0.trace", root, FX_CLEAN);
    free(root);
    char *child = fs_xasprintf("%s%sexec time=1600 path=/bin/true placed=%s\n",
                               HEAD(4242, 4200, "fork"), CHILDREC(1, 4200, 1500, SITE_A), placed);
    fx_add_file(&r->m, "4242.0.trace", child, FX_CLEAN);
    free(child);
    fx_add_file(&r->m, "4242.1.trace",
                "forksan-trace version=1 pid=4242\n"
                "proc pid=4242 ppid=4200 origin=start image=1 time=1700 exe=/usr/bin/true "
                "comm=true cmdline=true\n"
                "fd fd=5 target=pipe:[99]\n",
                FX_CLEAN);
    fx_run_rules(r);
}

Test(copied, descriptor_crossing_exec_is_a_note)
{
    struct fx_run r = {0};
    fd_run(&r, "", "");
    only(&r, "fd-inherited", 1);
    const struct fs_finding *f = fx_find(&r.out, "fd-inherited", 4242);
    cr_assert_eq(f->severity, FS_SEV_NOTE);
    fx_detail_is(f, "fd", "5");
    fx_detail_is(f, "target", "pipe:[99]");
    fx_detail_is(f, "program", "/usr/bin/true");
    fx_detail_is(f, "execed_by", "4242 (a.out)");
    fx_run_release(&r);
}

Test(copied, placed_or_passed_through_descriptors_are_silent)
{
    struct fx_run r = {0};
    fd_run(&r, "", "3,5");
    cr_assert_eq(r.out.n, 0, "dup2 put fd 5 in place");
    fx_run_release(&r);
    struct fx_run r2 = {0};
    fd_run(&r2, "fd fd=5 target=pipe:[99]\n", "");
    cr_assert_eq(r2.out.n, 0, "fd 5 came from outside the run, through the root");
    fx_run_release(&r2);
}
