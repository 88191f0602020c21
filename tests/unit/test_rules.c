/* Unit tests for the deadlock-family rules (analyzer/rules/): models built from trace strings,
 * rules run without a symbolizer, findings checked for hazard, severity, details and stacks. */
#include "trace_read.h"
#include "rules.h"
#include "diag.h"
#include "fixture.h"
#include "symbolize.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(rules, .init = fx_quiet);

Test(rules, lock_held_at_fork)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    cr_assert_eq(fx_count(&r.out, "lock-held-by-forker"), 0);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_str_eq(f->summary, "pthread mutex 0x55d0c0a04040 held by thread 4201 \"worker\" "
                                 "when thread 4200 \"main\" forked child 4242");
    const char *keys[] = {"lock",         "kind",   "mode",   "holder",
                          "holder_start", "forker", "parent", "child"};
    cr_assert_eq(f->ndetails, sizeof keys / sizeof *keys);
    for (size_t i = 0; i < f->ndetails; i++)
        cr_assert_str_eq(f->details[i].key, keys[i], "detail order");
    fx_detail_is(f, "lock", "0x55d0c0a04040");
    fx_detail_is(f, "kind", "pthread mutex");
    fx_detail_is(f, "mode", "excl");
    fx_detail_is(f, "holder", "tid 4201 \"worker\"");
    fx_detail_is(f, "holder_start", "0x55d0c0a01100");
    fx_detail_is(f, "forker", "tid 4200 \"main\"");
    fx_detail_is(f, "parent", "4200");
    fx_detail_is(f, "child", "4242");

    cr_assert_eq(f->nstacks, 3);
    const struct fs_stack *s = fx_stack(f, "acquire");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4201);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01130ULL);
    cr_assert_null(s->frames[0].function);
    s = fx_stack(f, "fork");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4200);
    cr_assert_eq(s->nframes, 2);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01234ULL);
    cr_assert_eq(s->frames[1].pc, 0x7f00aa029d8fULL);
    s = fx_stack(f, "thread-created");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4201);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01200ULL);

    cr_assert_eq(f->npath, 2);
    cr_assert_eq(f->path[0].pid, 4200);
    cr_assert_str_eq(f->path[0].name, "a.out");
    cr_assert_eq(f->path[1].pid, 4242);
    fx_run_release(&r);
}

Test(rules, lock_held_by_forker_is_a_note)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "held tid=4200 lock=55d0c0a04100 kind=mutex mode=excl count=3 "
                          "frames=55d0c0a01300 type=1\n");
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 0);
    cr_assert_eq(fx_count(&r.out, "lock-held-by-forker"), 1);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-by-forker", 4242);
    cr_assert_eq(f->severity, FS_SEV_NOTE);
    fx_detail_is(f, "kind", "recursive pthread mutex");
    fx_detail_is(f, "count", "taken 3 times");
    fx_detail_is(f, "holder", "tid 4200 \"main\"");
    cr_assert_not_null(strstr(f->summary, "0x55d0c0a04100"));
    cr_assert_eq(f->nstacks, 2);
    cr_assert_eq(fx_stack(f, "acquire")->frames[0].pc, 0x55d0c0a01300ULL);
    cr_assert_eq(fx_stack(f, "fork")->tid, 4200);
    fx_run_release(&r);
}

Test(rules, threads_at_fork_without_exec_is_a_warning)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "thread tid=4202 name=io forker=0 known=0 start=0 creator=0 site=0\n");
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 1, "no lock was held");
    const struct fs_finding *f = fx_find(&r.out, "threads-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_str_eq(f->summary, "3 threads alive when thread 4200 \"main\" forked child 4242 "
                                 "(the child went on without exec)");
    const char *keys[] = {"threads", "thread 4201", "thread 4202", "execed"};
    cr_assert_eq(f->ndetails, 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(f->details[i].key, keys[i]);
    fx_detail_is(f, "threads", "3");
    fx_detail_is(f, "thread 4201", "\"worker\" start=0x55d0c0a01100 known");
    fx_detail_is(f, "thread 4202", "\"io\" start=unknown found only in /proc");
    fx_detail_is(f, "execed", "no");
    cr_assert_eq(f->nstacks, 2, "fork, and one thread with a creation site");
    cr_assert_str_eq(f->stacks[0].role, "fork");
    cr_assert_eq(f->stacks[0].tid, 4200);
    cr_assert_str_eq(f->stacks[1].role, "thread-created");
    cr_assert_eq(f->stacks[1].tid, 4201);
    cr_assert_eq(f->stacks[1].frames[0].pc, 0x55d0c0a01200ULL);
    fx_run_release(&r);
}

Test(rules, execed_child_drops_lock_findings_and_threads_become_a_note)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER "held tid=4200 lock=55d0c0a04100 kind=mutex mode=excl "
                                      "count=1 frames=55d0c0a01300 type=0\n"
                                      "exec time=1500 path=/bin/true\n");
    fx_add(&r.m, "4242.1.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4200 origin=start image=1 time=1600 exe=/bin/true comm=true "
           "cmdline=true\n");
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 0);
    cr_assert_eq(fx_count(&r.out, "lock-held-by-forker"), 0);
    cr_assert_eq(r.out.n, 1);
    const struct fs_finding *f = fx_find(&r.out, "threads-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_NOTE);
    cr_assert_str_eq(f->summary, "2 threads alive when thread 4200 \"main\" forked child 4242 "
                                 "(the child called exec)");
    fx_detail_is(f, "execed", "yes");
    fx_run_release(&r);
}

Test(rules, single_threaded_fork_without_locks_is_clean)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a.out\n"
           "child seq=1 parent=4200 forker=4200 via=fork time=1000 frames=55d0c0a01234\n"
           "thread tid=4200 name=main forker=1 known=1 start=0 creator=0 site=0\n");
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 0);
    fx_run_release(&r);
}

Test(rules, prefork_children_merge)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER);
    fx_add(&r.m, "4243.0.trace", CHILD(4243, 2) HELD_WORKER);
    fx_add(&r.m, "4244.0.trace", CHILD(4244, 3) HELD_WORKER);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    cr_assert_eq(fx_count(&r.out, "threads-at-fork"), 1);
    cr_assert_eq(r.out.n, 2);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    fx_detail_is(f, "children", "4242, 4243, 4244 (3 children)");
    fx_detail_is(f, "child", "4242");
    f = fx_find(&r.out, "threads-at-fork", 4242);
    fx_detail_is(f, "children", "4242, 4243, 4244 (3 children)");
    fx_run_release(&r);
}

Test(rules, different_locks_do_not_merge)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER);
    fx_add(&r.m, "4243.0.trace",
           CHILD(4243, 2) "held tid=4201 lock=55d0c0a04080 kind=mutex mode=excl count=1 "
                          "frames=55d0c0a01130 type=0\n");
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 2);
    cr_assert_null(fs_finding_detail_get(fx_find(&r.out, "lock-held-at-fork", 4242), "children"));
    cr_assert_null(fs_finding_detail_get(fx_find(&r.out, "lock-held-at-fork", 4243), "children"));
    /* Same threads and fork site: the thread finding still merges. */
    cr_assert_eq(fx_count(&r.out, "threads-at-fork"), 1);
    fx_run_release(&r);
}

Test(rules, lock_kind_names)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "held tid=4201 lock=1000 kind=mutex mode=excl count=1 frames=1 type=2\n"
                          "held tid=4201 lock=2000 kind=mutex mode=excl count=1 frames=1 type=16\n"
                          "held tid=4201 lock=3000 kind=rwlock mode=read count=2 frames=1\n"
                          "held tid=4201 lock=4000 kind=rwlock mode=write count=1 frames=1\n"
                          "held tid=4201 lock=5000 kind=spin mode=excl count=1 frames=1\n"
                          "held tid=4201 lock=6000 kind=sem mode=excl count=1 frames=1\n"
                          "held tid=4201 lock=7000 kind=mtx mode=excl count=1 frames=1 type=0\n"
                          "held tid=4201 lock=8000 kind=mutex mode=excl count=1 frames=1\n");
    fx_run_rules(&r);
    const char *kinds[] = {"error-checking pthread mutex",
                           "robust pthread mutex",
                           "pthread rwlock (read)",
                           "pthread rwlock (write)",
                           "spin lock",
                           "semaphore",
                           "C11 mtx",
                           "pthread mutex"};
    size_t k = 0;
    for (size_t i = 0; i < r.out.n; i++) {
        const struct fs_finding *f = &r.out.items[i];
        if (strcmp(f->hazard, "lock-held-at-fork") != 0)
            continue;
        cr_assert_lt(k, 8);
        fx_detail_is(f, "kind", kinds[k]);
        cr_assert_eq(strncmp(f->summary, kinds[k], strlen(kinds[k])), 0, "%s", f->summary);
        k++;
    }
    cr_assert_eq(k, 8);
    fx_detail_is(fx_find(&r.out, "lock-held-at-fork", 4242), "kind",
                 "error-checking pthread mutex");
    const struct fs_finding *rd = &r.out.items[0];
    for (size_t i = 0; i < r.out.n; i++)
        if (strcmp(fs_finding_detail_get(&r.out.items[i], "lock") ?: "", "0x3000") == 0)
            rd = &r.out.items[i];
    fx_detail_is(rd, "mode", "read");
    fx_detail_is(rd, "count", "taken 2 times");
    fx_run_release(&r);
}

Test(rules, truncated_trace_still_yields_findings)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER "held tid=4201 lock=55d0c0a0");
    fx_run_rules(&r);
    cr_assert(r.m.images[1].damaged);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    fx_detail_is(fx_find(&r.out, "lock-held-at-fork", 4242), "lock", "0x55d0c0a04040");
    cr_assert_eq(fx_count(&r.out, "threads-at-fork"), 1);
    fx_run_release(&r);
}

Test(rules, corrupt_middle_line_is_skipped)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "held tid=4201 lock=55d0c0a04040 kind=mutex mode=excl count=one\n"
                          "held\x01garbage\n" HELD_WORKER);
    fx_run_rules(&r);
    cr_assert(r.m.images[1].damaged);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_eq(fx_stack(f, "acquire")->frames[0].pc, 0x55d0c0a01130ULL);
    fx_run_release(&r);
}

Test(rules, findings_are_sorted_warnings_first)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(
        &r.m, "4242.0.trace",
        CHILD(4242, 1) "held tid=4200 lock=10 kind=spin mode=excl count=1 frames=1\n" HELD_WORKER);
    fx_run_rules(&r);
    cr_assert_eq(r.out.n, 3);
    cr_assert_eq(r.out.items[0].severity, FS_SEV_WARNING);
    cr_assert_eq(r.out.items[1].severity, FS_SEV_WARNING);
    cr_assert_str_eq(r.out.items[2].hazard, "lock-held-by-forker");
    fx_run_release(&r);
}

Test(rules, path_goes_from_root_to_child)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4100.0.trace",
           "forksan-trace version=1 pid=4100\n"
           "proc pid=4100 ppid=1 origin=start image=0 time=10 exe=/bin/sh comm=sh cmdline=sh\n");
    fx_add(&r.m, "4200.0.trace",
           "forksan-trace version=1 pid=4200\n"
           "proc pid=4200 ppid=4100 origin=fork image=0 time=50 exe=/bin/sh comm=sh cmdline=sh\n"
           "child seq=1 parent=4100 forker=4100 via=fork time=50 frames=10\n"
           "thread tid=4100 name=sh forker=1 known=1 start=0 creator=0 site=0\n"
           "exec time=60 path=/tmp/a.out\n");
    fx_add(&r.m, "4200.1.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER);
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_eq(f->npath, 3);
    cr_assert_eq(f->path[0].pid, 4100);
    cr_assert_eq(f->path[1].pid, 4200);
    cr_assert_str_eq(f->path[1].name, "sh");
    cr_assert_eq(f->path[2].pid, 4242);
    fx_run_release(&r);
}

Test(rules, lost_records_warn_once_per_process, .init = cr_redirect_stderr)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "lost what=held count=2\nlost what=held count=1\n"
                          "exec time=1500 path=/bin/true\n");
    fx_add(&r.m, "4242.1.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4200 origin=start image=1 time=1600 exe=/bin/true comm=true\n"
           "lost what=held count=4\n");
    fs_model_link(&r.m);
    fs_diag_set_quiet(false);
    fs_rules_run(&r.m, NULL, &r.out);
    fs_rules_run(&r.m, NULL, &r.out);
    fflush(stderr);
    cr_assert_stderr_eq_str("forksan: pid 4242: 7 held-lock records were lost (registry full); "
                            "the report may miss locks\n");
    fx_run_release(&r);
}

Test(rules, stack_helper_without_symbolizer)
{
    struct fs_findings out = {0};
    struct fs_finding *f = fs_findings_add(&out, "x", FS_SEV_NOTE, 1);
    uint64_t pcs[] = {0x10, 0x20, 0x30};
    struct fs_addrs a = {.pc = pcs, .n = 3};
    fs_rules_stack(f, NULL, NULL, "fork", 7, &a);
    struct fs_addrs none = {0};
    fs_rules_stack(f, NULL, NULL, "acquire", 7, &none);
    cr_assert_eq(f->nstacks, 1);
    cr_assert_str_eq(f->stacks[0].role, "fork");
    cr_assert_eq(f->stacks[0].tid, 7);
    cr_assert_eq(f->stacks[0].nframes, 3);
    cr_assert_eq(f->stacks[0].frames[2].pc, 0x30);
    cr_assert_null(f->stacks[0].frames[2].module);
    char *name = fs_rules_function_name(NULL, NULL, 0xabc);
    cr_assert_str_eq(name, "0xabc");
    free(name);
    fs_findings_release(&out);
}

/* A start routine for the symbolized test below: it only needs an address and a name. */
static __attribute__((noinline, used)) void *rules_test_worker_main(void *arg)
{
    return arg;
}

struct exe_map {
    uint64_t start, end, bias;
};

static int find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct exe_map *m = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program comes first, with an empty name */
    m->bias = info->dlpi_addr;
    m->start = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo < m->start)
            m->start = lo;
        if (hi > m->end)
            m->end = hi;
    }
    return 1;
}

/* With a symbolizer, start routines are named: checks the entry-point (not return address)
 * lookup against this very test program. */
Test(rules, start_routine_is_symbolized)
{
    struct exe_map em = {0};
    cr_assert_eq(dl_iterate_phdr(find_exe, &em), 1);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    uint64_t start = (uint64_t)(uintptr_t)rules_test_worker_main;
    char *child = NULL;
    cr_assert_gt(
        asprintf(&child,
                 "forksan-trace version=1 pid=4242\n"
                 "proc pid=4242 ppid=4200 origin=fork image=0 time=1000 comm=t\n"
                 "mod start=%" PRIx64 " end=%" PRIx64 " bias=%" PRIx64 " buildid= path=%s\n"
                 "child seq=1 parent=4200 forker=4200 via=fork time=1000 frames=%" PRIx64 "\n"
                 "thread tid=4200 name=main forker=1 known=1 start=0\n"
                 "thread tid=4201 name=worker forker=0 known=1 start=%" PRIx64 "\n"
                 "held tid=4201 lock=1000 kind=mutex mode=excl count=1 frames=%" PRIx64 "\n",
                 em.start, em.end, em.bias, exe, start + 4, start, start + 4),
        0);
    struct fx_run r = {0};
    fx_add(&r.m, "4242.0.trace", child);
    free(child);
    fs_model_link(&r.m);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    cr_assert_not_null(sym);
    fs_rules_run(&r.m, sym, &r.out);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    fx_detail_is(f, "holder_start", "rules_test_worker_main");
    const struct fs_stack *s = fx_stack(f, "acquire");
    cr_assert_not_null(s);
    cr_assert_geq(s->nframes, 1);
    cr_assert_eq(s->frames[s->nframes - 1].pc, start + 4);
    f = fx_find(&r.out, "threads-at-fork", 4242);
    fx_detail_is(f, "thread 4201", "\"worker\" start=rules_test_worker_main known");
    fs_symbolizer_free(sym);
    fx_run_release(&r);
}

/* ---- process-shared locks and locks the child re-initialised: notes, not warnings ---------- */

Test(rules, process_shared_lock_held_at_fork_is_a_note)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) "held tid=4201 lock=7f0000001000 kind=mutex mode=excl count=1 "
                          "frames=55d0c0a01130 type=128 shared=1\n"
                          "held tid=4201 lock=7f0000002000 kind=sem mode=excl count=1 "
                          "frames=55d0c0a01140 shared=1\n" HELD_WORKER);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 3);
    size_t notes = 0, warnings = 0;
    for (size_t i = 0; i < r.out.n; i++) {
        const struct fs_finding *f = &r.out.items[i];
        if (strcmp(f->hazard, "lock-held-at-fork") != 0)
            continue;
        bool shared = fs_finding_detail_get(f, "shared") != NULL;
        if (f->severity == FS_SEV_NOTE) {
            notes++;
            cr_assert(shared, "a note without the shared detail: %s", f->summary);
            cr_assert_not_null(strstr(f->summary, "process-shared"), "%s", f->summary);
            cr_assert_not_null(strstr(f->summary, "can still release it"), "%s", f->summary);
        } else {
            warnings++;
            cr_assert_eq(f->severity, FS_SEV_WARNING);
            cr_assert_not(shared, "the private mutex was called shared");
        }
    }
    cr_assert_eq(notes, 2);
    cr_assert_eq(warnings, 1, "the private mutex is still a warning");
    fx_run_release(&r);
}

#define REINIT(call, used)                                                                         \
    "reinit lock=55d0c0a04040 kind=mutex holder=4201 call=" call " used=" #used " time=1100 "      \
    "frames=55d0c0a01500,55d0c0a01600\n"

Test(rules, lock_reinitialised_by_the_child_before_use_is_a_note)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER REINIT("pthread_mutex_init", 0));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 1);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, FS_SEV_NOTE);
    fx_detail_is(f, "reinit", "pthread_mutex_init in the child before any use: not a hazard");
    cr_assert_not_null(strstr(f->summary, "re-initialised it (pthread_mutex_init)"), "%s",
                       f->summary);
    const struct fs_stack *s = fx_stack(f, "child-reinit");
    cr_assert_not_null(s);
    cr_assert_eq(s->tid, 4242);
    cr_assert_eq(s->nframes, 2);
    cr_assert_eq(s->frames[0].pc, 0x55d0c0a01500ULL);
    fx_run_release(&r);
}

Test(rules, lock_used_before_the_child_reinitialised_it_stays_a_warning)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) HELD_WORKER REINIT("pthread_mutex_init", 1));
    fx_run_rules(&r);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_null(fs_finding_detail_get(f, "reinit"));
    cr_assert_null(fx_stack(f, "child-reinit"));
    fx_run_release(&r);
}

/* Another lock's re-initialisation changes nothing; and of two children of one prefork parent,
 * the one that re-initialised gets a note while the other keeps its warning (no merge). */
Test(rules, reinit_is_per_lock_and_per_child)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace",
           PARENT "fork seq=2 child=4243 tid=4200 via=fork time=1000 "
                  "frames=55d0c0a01234,7f00aa029d8f\n");
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER
           "reinit lock=99 kind=mutex holder=4201 call=pthread_mutex_init used=0 frames=1\n");
    fx_add(&r.m, "4243.0.trace", CHILD(4243, 2) HELD_WORKER REINIT("pthread_mutex_init", 0));
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 2);
    cr_assert_eq(fx_find(&r.out, "lock-held-at-fork", 4242)->severity, FS_SEV_WARNING);
    cr_assert_eq(fx_find(&r.out, "lock-held-at-fork", 4243)->severity, FS_SEV_NOTE);
    fx_run_release(&r);
}
