/* Unit tests for the randomness rules (analyzer/rules/rng.c): process trees built from trace
 * text with `seed` and `draw` records (docs/trace-format.md), every rule run without a
 * symbolizer, and the rng-duplicated, rng-inherited and rng-unseeded findings checked for
 * severity, the processes they name and their per-process values.  Forked images carry their
 * `child` record and parents their `fork` record, so the tree links as it does for real traces. */
#include "trace_read.h"
#include "rules.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXE_A "/tmp/a.out"
#define EXE_B "/tmp/b.out"

#define SEED_SITE           0x55d0c0a01300ull
#define DRAW_SITE           0x55d0c0a01400ull
#define RANDOM_DEFAULT_SEED 1 /* glibc's random() state before any srandom */

TestSuite(rng, .init = fx_quiet);

/* ---- building traces ----------------------------------------------------------------------- */

static char *cat(char *a, const char *b)
{
    char *s = fs_xasprintf("%s%s", a, b);
    free(a);
    return s;
}

static char *start_of(int pid, int ppid, const char *origin, const char *exe)
{
    const char *comm = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    return fs_xasprintf(
        "forksan-trace version=1 pid=%d\n"
        "proc pid=%d ppid=%d origin=%s image=0 time=%d exe=%s comm=%s cmdline=%s\n"
        "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=%s\n",
        pid, pid, ppid, origin, 1000 + pid, exe, comm, exe, exe);
}

/* A process started from scratch (the root of a run). */
static char *root(int pid, const char *exe)
{
    return start_of(pid, 1, "start", exe);
}

/* A forked child of parent: its snapshot has the forker only. */
static char *forked(int pid, int parent, int seq, const char *exe)
{
    char *s = start_of(pid, parent, "fork", exe);
    char *c = fs_xasprintf("child seq=%d parent=%d forker=%d via=fork time=%d "
                           "frames=55d0c0a01%03x,7f00aa029d8f\n"
                           "thread tid=%d name=main forker=1 known=1 start=0 creator=0 site=0\n",
                           seq, parent, parent, 1000 + pid, parent & 0xfff, parent);
    s = cat(s, c);
    free(c);
    return s;
}

/* The parent's side of that fork. */
static char *fork_rec(char *s, int parent, int seq, int child)
{
    /* Each process forks from a call site of its own (as the rng cases do): a child forking
     * again from its creator's site would be a child-repeats-fork finding. */
    char *f = fs_xasprintf("fork seq=%d child=%d tid=%d via=fork time=%d "
                           "frames=55d0c0a01%03x,7f00aa029d8f\n",
                           seq, child, parent, 1000 + child, parent & 0xfff);
    s = cat(s, f);
    free(f);
    return s;
}

static char *seed_rec(char *s, const char *gen, uint64_t value, const char *call)
{
    char *r = fs_xasprintf("seed gen=%s id=0 value=%llx call=%s site=%llx time=1500\n", gen,
                           (unsigned long long)value, call, SEED_SITE);
    s = cat(s, r);
    free(r);
    return s;
}

struct draw {
    const char *gen; /* NULL: "random" */
    const char *call;
    uint64_t id;
    uint64_t lineage;
    int seeded, seedpid, inherited;
    long pos;
    int v[4]; /* four int values */
};

static char *draw_rec(char *s, const struct draw *d)
{
    const char *gen = d->gen ? d->gen : "random";
    const char *call = d->call ? d->call : "rand";
    char *r = fs_xasprintf(
        "draw gen=%s id=%llx lineage=%llx seeded=%d seedpid=%d seedsite=%llx "
        "inherited=%d pos=%ld n=4 values=%llx,%llx,%llx,%llx vtype=int call=%s "
        "site=%llx\n",
        gen, (unsigned long long)d->id, (unsigned long long)d->lineage, d->seeded, d->seedpid,
        d->seeded ? SEED_SITE : 0ull, d->inherited, d->pos, (unsigned long long)(int64_t)d->v[0],
        (unsigned long long)(int64_t)d->v[1], (unsigned long long)(int64_t)d->v[2],
        (unsigned long long)(int64_t)d->v[3], call, DRAW_SITE);
    s = cat(s, r);
    free(r);
    return s;
}

/* Adds one image's text (and frees it) under the name <pid>.0.trace. */
static void add(struct fx_run *t, int pid, char *text)
{
    char name[64];
    snprintf(name, sizeof name, "%d.0.trace", pid);
    fx_add_file(&t->m, name, text, FX_CLEAN);
    free(text);
}

/* fx_run_rules, but every image must have parsed whole: these tests are not about damage. */
static void run(struct fx_run *t)
{
    fs_model_link(&t->m);
    for (size_t i = 0; i < t->m.nimages; i++)
        cr_assert_not(t->m.images[i].damaged, "%s is damaged", t->m.images[i].file);
    fs_rules_run(&t->m, NULL, &t->out);
}

/* ---- checking findings --------------------------------------------------------------------- */

/* The run reported exactly these many findings of each rng hazard, and nothing else. */
static void expect_counts(const struct fx_run *t, size_t dup, size_t inh, size_t unseeded)
{
    cr_assert_eq(fx_count(&t->out, "rng-duplicated"), dup, "rng-duplicated findings");
    cr_assert_eq(fx_count(&t->out, "rng-inherited"), inh, "rng-inherited findings");
    cr_assert_eq(fx_count(&t->out, "rng-unseeded"), unseeded, "rng-unseeded findings");
    for (size_t i = 0; i < t->out.n; i++)
        cr_assert_eq(strncmp(t->out.items[i].hazard, "rng-", 4), 0, "unexpected %s finding",
                     t->out.items[i].hazard);
}

static size_t count_details_starting(const struct fs_finding *f, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ndetails; i++)
        n += strncmp(f->details[i].key, prefix, strlen(prefix)) == 0;
    return n;
}

/* A duplicate naming exactly these pids (in order), each with the values v. */
static void assert_duplicate(const struct fs_finding *f, const int *pids, size_t n,
                             const char *comm, const char *values)
{
    cr_assert_eq(f->severity, FS_SEV_ERROR);
    cr_assert_eq(f->pid, pids[0]);
    char *list = fs_xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *one = fs_xasprintf("%s%d", i ? ", " : "", pids[i]);
        list = cat(list, one);
        free(one);
    }
    fx_detail_is(f, "processes", list);
    char *tail = fs_xasprintf("pids %s", list);
    cr_assert_not_null(strstr(f->summary, tail), "summary: %s", f->summary);
    char *head = fs_xasprintf("%zu processes drew the same values", n);
    cr_assert_eq(strncmp(f->summary, head, strlen(head)), 0, "summary: %s", f->summary);
    for (size_t i = 0; i < n; i++) {
        char *key = fs_xasprintf("values %d (%s)", pids[i], comm);
        fx_detail_is(f, key, values);
        free(key);
    }
    cr_assert_eq(count_details_starting(f, "values "), n);
    free(head);
    free(tail);
    free(list);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* srand(42) in 4200, fork; both draw from position 0. */
Test(rng, parent_and_child_same_values_are_duplicated)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 42, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(p,
                 &(struct draw){
                     .lineage = 42, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {11, 22, 33, 44}});
    add(&t, 4200, p);
    add(&t, 4201,
        draw_rec(forked(4201, 4200, 1, EXE_A), &(struct draw){.lineage = 42,
                                                              .seeded = 1,
                                                              .seedpid = 4200,
                                                              .inherited = 1,
                                                              .pos = 0,
                                                              .v = {11, 22, 33, 44}}));
    run(&t);
    expect_counts(&t, 1, 0, 0);
    const struct fs_finding *f = fx_find(&t.out, "rng-duplicated", 4200);
    assert_duplicate(f, (int[]){4200, 4201}, 2, "a.out", "11  22  33  44");
    fx_detail_is(f, "generator", "random (rand)");
    fx_detail_is(f, "lineage", "seed 42 (0x2a), seeded in pid 4200 (a.out)");
    fx_detail_is(f, "position", "0 values drawn before");
    fx_run_release(&t);
}

Test(rng, prefork_siblings_are_one_finding)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 7, "srand");
    for (int i = 1; i <= 4; i++)
        p = fork_rec(p, 4200, i, 4200 + i);
    add(&t, 4200, p);
    for (int i = 1; i <= 4; i++)
        add(&t, 4200 + i,
            draw_rec(forked(4200 + i, 4200, i, EXE_A), &(struct draw){.lineage = 7,
                                                                      .seeded = 1,
                                                                      .seedpid = 4200,
                                                                      .inherited = 1,
                                                                      .pos = 0,
                                                                      .v = {5, 6, 7, 8}}));
    run(&t);
    expect_counts(&t, 1, 0, 0);
    assert_duplicate(fx_find(&t.out, "rng-duplicated", 4201), (int[]){4201, 4202, 4203, 4204}, 4,
                     "a.out", "5  6  7  8");
    fx_run_release(&t);
}

/* Same key, other values: the key did not capture the state, so nothing is claimed. */
Test(rng, same_key_different_values_is_not_a_duplicate)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 42, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(p,
                 &(struct draw){
                     .lineage = 42, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {11, 22, 33, 44}});
    add(&t, 4200, p);
    add(&t, 4201,
        draw_rec(forked(4201, 4200, 1, EXE_A), &(struct draw){.lineage = 42,
                                                              .seeded = 1,
                                                              .seedpid = 4200,
                                                              .inherited = 1,
                                                              .pos = 0,
                                                              .v = {11, 22, 33, 45}}));
    run(&t);
    expect_counts(&t, 0, 0, 0);
    fx_run_release(&t);
}

Test(rng, lone_inherited_child_run_is_a_warning)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 5, "srand");
    add(&t, 4200, fork_rec(p, 4200, 1, 4201));
    add(&t, 4201,
        draw_rec(forked(4201, 4200, 1, EXE_A), &(struct draw){.lineage = 5,
                                                              .seeded = 1,
                                                              .seedpid = 4200,
                                                              .inherited = 1,
                                                              .pos = 0,
                                                              .v = {1, 2, 3, 4}}));
    run(&t);
    expect_counts(&t, 0, 1, 0);
    const struct fs_finding *f = fx_find(&t.out, "rng-inherited", 4201);
    cr_assert_eq(f->severity, FS_SEV_WARNING);
    cr_assert_not_null(strstr(f->summary, "child 4201"), "summary: %s", f->summary);
    fx_detail_is(f, "values 4201 (a.out)", "1  2  3  4");
    fx_detail_is(f, "lineage", "seed 5 (0x5), seeded in pid 4200 (a.out)");
    cr_assert_eq(f->npath, 2);
    cr_assert_eq(f->path[0].pid, 4200);
    cr_assert_eq(f->path[1].pid, 4201);
    fx_run_release(&t);
}

/* A root that seeded and drew alone is nothing; so is a run marked inherited in a process whose
 * parent left no trace (the tree has no one to share the state with). */
Test(rng, lone_runs_without_a_traced_parent_are_nothing)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 5, "srand");
    add(&t, 4200,
        draw_rec(p, &(struct draw){
                        .lineage = 5, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {1, 2, 3, 4}}));
    add(&t, 5301,
        draw_rec(forked(5301, 5300, 1, EXE_A), &(struct draw){.lineage = 6,
                                                              .seeded = 1,
                                                              .seedpid = 5300,
                                                              .inherited = 1,
                                                              .pos = 0,
                                                              .v = {1, 2, 3, 4}}));
    run(&t);
    cr_assert_null(fs_model_find(&t.m, 5301)->parent);
    expect_counts(&t, 0, 0, 0);
    fx_run_release(&t);
}

/* Two runs of a.out (roots 4300 and 5300, the first with a child) and one of b.out, none ever
 * seeding, at distinct positions so that nothing is duplicated: one note per generator and
 * program. */
Test(rng, unseeded_is_noted_once_per_generator_and_program)
{
    struct fx_run t = {0};
    char *p = fork_rec(root(4300, EXE_A), 4300, 1, 4301);
    p = draw_rec(p, &(struct draw){.lineage = RANDOM_DEFAULT_SEED, .pos = 0, .v = {1, 2, 3, 4}});
    p = draw_rec(p,
                 &(struct draw){.lineage = RANDOM_DEFAULT_SEED, .pos = 16, .v = {9, 10, 11, 12}});
    p = draw_rec(p, &(struct draw){.gen = "drand48",
                                   .call = "lrand48",
                                   .lineage = 0x1234abcd330e,
                                   .pos = 0,
                                   .v = {21, 22, 23, 24}});
    add(&t, 4300, p);
    add(&t, 4301,
        draw_rec(forked(4301, 4300, 1, EXE_A),
                 &(struct draw){
                     .lineage = RANDOM_DEFAULT_SEED, .inherited = 1, .pos = 4, .v = {5, 6, 7, 8}}));
    add(&t, 5300,
        draw_rec(root(5300, EXE_A),
                 &(struct draw){.lineage = RANDOM_DEFAULT_SEED, .pos = 8, .v = {31, 32, 33, 34}}));
    add(&t, 6300,
        draw_rec(root(6300, EXE_B),
                 &(struct draw){.lineage = RANDOM_DEFAULT_SEED, .pos = 12, .v = {41, 42, 43, 44}}));
    run(&t);
    /* The child's run is an inherited one of its own; no two runs share a key. */
    expect_counts(&t, 0, 1, 3);
    fx_find(&t.out, "rng-inherited", 4301);

    size_t random_a = 0, drand48_a = 0, random_b = 0;
    for (size_t i = 0; i < t.out.n; i++) {
        const struct fs_finding *f = &t.out.items[i];
        if (strcmp(f->hazard, "rng-unseeded") != 0)
            continue;
        cr_assert_eq(f->severity, FS_SEV_NOTE);
        const char *gen = fs_finding_detail_get(f, "generator");
        const char *prog = fs_finding_detail_get(f, "program");
        cr_assert_not_null(gen);
        cr_assert_not_null(prog);
        if (strcmp(gen, "random (rand)") == 0 && strcmp(prog, EXE_A) == 0) {
            random_a++;
            cr_assert_eq(f->pid, 4300, "noted at the program's first recorded draw");
        } else if (strcmp(gen, "drand48 (lrand48)") == 0 && strcmp(prog, EXE_A) == 0) {
            drand48_a++;
            cr_assert_eq(f->pid, 4300);
        } else if (strcmp(gen, "random (rand)") == 0 && strcmp(prog, EXE_B) == 0) {
            random_b++;
            cr_assert_eq(f->pid, 6300);
        } else {
            cr_assert_fail("unexpected note: %s for %s", gen, prog);
        }
    }
    cr_assert_eq(random_a, 1);
    cr_assert_eq(drand48_a, 1);
    cr_assert_eq(random_b, 1);
    fx_run_release(&t);
}

/* A caller state filled by the program is its seeding: duplicates yes, unseeded never. */
Test(rng, caller_state_families_are_never_unseeded)
{
    struct fx_run t = {0};
    const uint64_t xsubi = 0x1234abcd330eull, rseed = 0x2a;
    char *p = fork_rec(root(4200, EXE_A), 4200, 1, 4201);
    p = draw_rec(p, &(struct draw){.gen = "erand48",
                                   .call = "nrand48",
                                   .id = 0x7ffd0010,
                                   .lineage = xsubi,
                                   .v = {1, 2, 3, 4}});
    p = draw_rec(p, &(struct draw){.gen = "rand_r",
                                   .call = "rand_r",
                                   .id = 0x7ffd0020,
                                   .lineage = rseed,
                                   .v = {5, 6, 7, 8}});
    add(&t, 4200, p);
    add(&t, 4201,
        draw_rec(forked(4201, 4200, 1, EXE_A), &(struct draw){.gen = "erand48",
                                                              .call = "nrand48",
                                                              .id = 0x7ffd0010,
                                                              .lineage = xsubi,
                                                              .inherited = 1,
                                                              .v = {1, 2, 3, 4}}));
    add(&t, 5300,
        draw_rec(root(5300, EXE_B), &(struct draw){.gen = "rand_r",
                                                   .call = "rand_r",
                                                   .id = 0x7ffd0030,
                                                   .lineage = 0x99,
                                                   .v = {9, 9, 9, 9}}));
    run(&t);
    expect_counts(&t, 1, 0, 0);
    const struct fs_finding *f = fx_find(&t.out, "rng-duplicated", 4200);
    assert_duplicate(f, (int[]){4200, 4201}, 2, "a.out", "1  2  3  4");
    fx_detail_is(f, "generator", "erand48 (nrand48)");
    fx_detail_is(f, "lineage", "caller state 0x1234abcd330e");
    fx_run_release(&t);
}

/* 4200 seeds and forks 4201, which draws nothing and forks 4202; 4200 and its grandchild both
 * draw from position 0. */
Test(rng, grandchild_and_grandparent_are_duplicated)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 11, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(
        p, &(struct draw){
               .lineage = 11, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {100, 200, 300, 400}});
    add(&t, 4200, p);
    add(&t, 4201, fork_rec(forked(4201, 4200, 1, EXE_A), 4201, 1, 4202));
    add(&t, 4202,
        draw_rec(forked(4202, 4201, 1, EXE_A), &(struct draw){.lineage = 11,
                                                              .seeded = 1,
                                                              .seedpid = 4200,
                                                              .inherited = 1,
                                                              .pos = 0,
                                                              .v = {100, 200, 300, 400}}));
    run(&t);
    const struct fs_process *gc = fs_model_find(&t.m, 4202);
    cr_assert_not_null(gc);
    cr_assert_not_null(gc->parent);
    cr_assert_eq(gc->parent->pid, 4201);
    cr_assert_not_null(gc->parent->parent);
    cr_assert_eq(gc->parent->parent->pid, 4200);

    expect_counts(&t, 1, 0, 0);
    const struct fs_finding *f = fx_find(&t.out, "rng-duplicated", 4200);
    assert_duplicate(f, (int[]){4200, 4202}, 2, "a.out", "100  200  300  400");
    fx_detail_is(f, "lineage", "seed 11 (0xb), seeded in pid 4200 (a.out)");
    cr_assert_null(fs_finding_detail_get(f, "values 4201 (a.out)"),
                   "the middle child drew nothing");
    fx_run_release(&t);
}

Test(rng, child_reseeded_with_its_own_value_is_nothing)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 42, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(p,
                 &(struct draw){
                     .lineage = 42, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {11, 22, 33, 44}});
    add(&t, 4200, p);
    char *c = seed_rec(forked(4201, 4200, 1, EXE_A), "random", 4201, "srand");
    add(&t, 4201,
        draw_rec(
            c,
            &(struct draw){
                .lineage = 4201, .seeded = 1, .seedpid = 4201, .pos = 0, .v = {55, 66, 77, 88}}));
    run(&t);
    expect_counts(&t, 0, 0, 0);
    fx_run_release(&t);
}

/* The lineage is the seed value, not the seeding call: a child's srand(42) after the parent's
 * srand(42) restarts the very same sequence. */
Test(rng, child_reseeded_with_the_parents_value_is_duplicated)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 42, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(p,
                 &(struct draw){
                     .lineage = 42, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {11, 22, 33, 44}});
    add(&t, 4200, p);
    char *c = seed_rec(forked(4201, 4200, 1, EXE_A), "random", 42, "srand");
    add(&t, 4201,
        draw_rec(
            c, &(struct draw){
                   .lineage = 42, .seeded = 1, .seedpid = 4201, .pos = 0, .v = {11, 22, 33, 44}}));
    run(&t);
    expect_counts(&t, 1, 0, 0);
    assert_duplicate(fx_find(&t.out, "rng-duplicated", 4200), (int[]){4200, 4201}, 2, "a.out",
                     "11  22  33  44");
    fx_run_release(&t);
}

/* The same key at another position is another part of the sequence. */
Test(rng, same_lineage_other_position_is_not_a_duplicate)
{
    struct fx_run t = {0};
    char *p = seed_rec(root(4200, EXE_A), "random", 42, "srand");
    p = fork_rec(p, 4200, 1, 4201);
    p = draw_rec(p,
                 &(struct draw){
                     .lineage = 42, .seeded = 1, .seedpid = 4200, .pos = 0, .v = {11, 22, 33, 44}});
    add(&t, 4200, p);
    add(&t, 4201,
        draw_rec(forked(4201, 4200, 1, EXE_A), &(struct draw){.lineage = 42,
                                                              .seeded = 1,
                                                              .seedpid = 4200,
                                                              .inherited = 1,
                                                              .pos = 4,
                                                              .v = {11, 22, 33, 44}}));
    run(&t);
    /* The child's run stands alone: inherited, not duplicated. */
    expect_counts(&t, 0, 1, 0);
    fx_find(&t.out, "rng-inherited", 4201);
    fx_run_release(&t);
}
