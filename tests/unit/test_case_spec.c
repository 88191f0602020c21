/* Unit tests of case_spec.c: case headers (C and Python) parsed from files written to a temporary
 * directory, marker resolution and its errors, and matching findings built with the finding.h
 * builders against expectations.  Nothing here runs a program. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_spec.h"
#include "finding.h"

static char tmpdir[64];

static void make_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fs_case_spec.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(parse, .init = make_dir, .fini = remove_dir);

static char *write_file(const char *name, const char *text)
{
    char *path = fs_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Loads a case that must parse; the caller releases spec. */
static void load_case(const char *name, const char *text, struct fs_case_spec *spec)
{
    char *path = write_file(name, text);
    cr_assert_eq(fs_case_spec_load(path, spec), 1, "%s is not recognised as a case", name);
    free(path);
}

static bool has_error(const struct fs_case_spec *spec, const char *a, const char *b)
{
    for (size_t i = 0; i < spec->nerrors; i++)
        if (strstr(spec->errors[i], a) && (!b || strstr(spec->errors[i], b)))
            return true;
    return false;
}

static char *all_errors(const struct fs_case_spec *spec)
{
    char *out = fs_xstrdup("");
    for (size_t i = 0; i < spec->nerrors; i++) {
        char *next = fs_xasprintf("%s[%s] ", out, spec->errors[i]);
        free(out);
        out = next;
    }
    return out;
}

static const char mutex_case[] =
    "/* forksan case: a mutex is held by another thread when main forks\n" /* 1 */
    " * expect: lock-held-at-fork warning acquire=@held fork=@fork\n"      /* 2 */
    " * expect: threads-at-fork warning\n"                                 /* 3 */
    " */\n"                                                                /* 4 */
    "\n"                                                                   /* 5 */
    "/* prose that mentions // @held is not a marker line */\n"            /* 6 */
    "static void *holder(void *arg)\n"                                     /* 7 */
    "{\n"                                                                  /* 8 */
    "    CASE_OK(pthread_mutex_lock(&lock)); // @held\n"                   /* 9 */
    "    return arg;\n"                                                    /* 10 */
    "}\n"                                                                  /* 11 */
    "int main(void)\n"                                                     /* 12 */
    "{\n"                                                                  /* 13 */
    "    pid = fork(); // @fork\n"                                         /* 14 */
    "    return 0; // @forked\n"                                           /* 15 */
    "}\n";

Test(parse, c_header)
{
    struct fs_case_spec spec;
    load_case("mutex_held.c", mutex_case, &spec);
    char *errs = all_errors(&spec);
    cr_assert_eq(spec.nerrors, 0, "errors: %s", errs);
    free(errs);
    cr_assert_str_eq(spec.name, "mutex_held");
    cr_assert_str_eq(spec.file, "mutex_held.c");
    cr_assert_str_eq(spec.description, "a mutex is held by another thread when main forks");
    cr_assert(!spec.python);
    cr_assert(!spec.expect_none);
    cr_assert_float_eq(spec.timeout, FS_CASE_DEFAULT_TIMEOUT, 1e-9);
    cr_assert_eq(spec.nargs, 0);
    cr_assert_eq(spec.nrequires, 0);
    cr_assert_eq(spec.nexpects, 2);

    const struct fs_case_expect *e = &spec.expects[0];
    cr_assert_str_eq(e->hazard, "lock-held-at-fork");
    cr_assert_eq(e->severity, FS_SEV_WARNING);
    cr_assert(e->has_acquire);
    cr_assert(e->has_fork);
    cr_assert_str_eq(e->acquire.file, "mutex_held.c");
    cr_assert_str_eq(e->acquire.marker, "held");
    cr_assert_eq(e->acquire.line, 9);
    cr_assert_str_eq(e->fork.file, "mutex_held.c");
    cr_assert_eq(e->fork.line, 14, "@fork must not match the @forked line");
    cr_assert_eq(e->header_line, 2);

    e = &spec.expects[1];
    cr_assert_str_eq(e->hazard, "threads-at-fork");
    cr_assert_eq(e->severity, FS_SEV_WARNING);
    cr_assert(!e->has_acquire);
    cr_assert(!e->has_fork);

    char *d = fs_case_spec_describe(&spec);
    cr_assert_str_eq(d, "lock-held-at-fork(warning)@mutex_held.c:9, threads-at-fork(warning)");
    free(d);
    fs_case_spec_release(&spec);
}

Test(parse, python_header)
{
    static const char text[] = "#!/usr/bin/env python3\n"
                               "# forksan case: python forks with a thread alive\n"
                               "# requires: python3\n"
                               "# args: {casebin}/libx.so --flag\n"
                               "# timeout: 2.5\n"
                               "# expect: threads-at-fork note fork=@fork\n"
                               "\n"
                               "# a later comment: expect: none is not part of the header\n"
                               "import os\n"
                               "s = \"%#x\" % 3\n"
                               "pid = os.fork()  # @fork\n";
    struct fs_case_spec spec;
    load_case("py_thread.py", text, &spec);
    char *errs = all_errors(&spec);
    cr_assert_eq(spec.nerrors, 0, "errors: %s", errs);
    free(errs);
    cr_assert(spec.python);
    cr_assert_str_eq(spec.name, "py_thread");
    cr_assert_str_eq(spec.description, "python forks with a thread alive");
    cr_assert_eq(spec.nrequires, 1);
    cr_assert_str_eq(spec.requires[0], "python3");
    cr_assert_eq(spec.nargs, 2);
    cr_assert_str_eq(spec.args[0], "{casebin}/libx.so");
    cr_assert_str_eq(spec.args[1], "--flag");
    cr_assert_float_eq(spec.timeout, 2.5, 1e-9);
    cr_assert(!spec.expect_none);
    cr_assert_eq(spec.nexpects, 1);
    cr_assert_eq(spec.expects[0].severity, FS_SEV_NOTE);
    cr_assert_eq(spec.expects[0].fork.line, 11);
    cr_assert_str_eq(spec.expects[0].fork.file, "py_thread.py");

    char *arg = fs_case_expand_arg(spec.args[0], "/opt/cases");
    cr_assert_str_eq(arg, "/opt/cases/libx.so");
    free(arg);
    fs_case_spec_release(&spec);
}

Test(parse, expand_arg_repeats_and_leaves_other_text)
{
    char *s = fs_case_expand_arg("a{casebin}b{casebin}", "/d");
    cr_assert_str_eq(s, "a/db/d");
    free(s);
    s = fs_case_expand_arg("{other}", "/d");
    cr_assert_str_eq(s, "{other}");
    free(s);
}

Test(parse, expect_none)
{
    struct fs_case_spec spec;
    load_case("ctl.c", "/* forksan case: control\n * expect: none\n */\nint main(void) {}\n",
              &spec);
    cr_assert_eq(spec.nerrors, 0);
    cr_assert(spec.expect_none);
    cr_assert_eq(spec.nexpects, 0);
    char *d = fs_case_spec_describe(&spec);
    cr_assert_str_eq(d, "no findings");
    free(d);
    fs_case_spec_release(&spec);
}

Test(parse, helper_source_is_not_a_case)
{
    char *path = write_file("helper.c", "/*\n * Helper library, not a case.\n */\nint x;\n");
    struct fs_case_spec spec;
    cr_assert_eq(fs_case_spec_load(path, &spec), 0);
    free(path);
    path = fs_xasprintf("%s/absent.c", tmpdir);
    cr_assert_eq(fs_case_spec_load(path, &spec), -1);
    free(path);
}

Test(parse, cross_file_marker)
{
    char *helper =
        write_file("native_holder.c", "/*\n"
                                      " * Helper: the marker below ends a line as // @held\n"
                                      " */\n"
                                      "static void *holder(void *arg)\n"
                                      "{\n"
                                      "    CASE_OK(pthread_mutex_lock(&lock)); // @held\n"
                                      "    return arg;\n"
                                      "}\n");
    free(helper);
    struct fs_case_spec spec;
    load_case("py_native.py",
              "# forksan case: a native thread holds a mutex\n"
              "# expect: lock-held-at-fork warning acquire=native_holder.c@held\n"
              "import os\n",
              &spec);
    char *errs = all_errors(&spec);
    cr_assert_eq(spec.nerrors, 0, "errors: %s", errs);
    free(errs);
    cr_assert_str_eq(spec.expects[0].acquire.file, "native_holder.c");
    cr_assert_eq(spec.expects[0].acquire.line, 6, "the header's prose line 2 must not count");
    fs_case_spec_release(&spec);
}

Test(parse, missing_marker)
{
    struct fs_case_spec spec;
    load_case("m.c",
              "/* forksan case: x\n * expect: lock-held-at-fork warning acquire=@nope\n */\n"
              "int a; // @held\n",
              &spec);
    cr_assert_eq(spec.nerrors, 1);
    cr_assert(has_error(&spec, "m.c:2:", "marker @nope not found in m.c"), "got: %s",
              spec.errors[0]);
    cr_assert_eq(spec.expects[0].acquire.line, 0);
    fs_case_spec_release(&spec);
}

Test(parse, duplicate_marker)
{
    struct fs_case_spec spec;
    load_case("d.c",
              "/* forksan case: x\n * expect: lock-held-at-fork warning fork=@fork\n */\n"
              "int a; // @fork\n"
              "int b; // @fork\n",
              &spec);
    cr_assert_eq(spec.nerrors, 1);
    cr_assert(has_error(&spec, "marker @fork is on 2 lines of d.c", "(4, 5)"), "got: %s",
              spec.errors[0]);
    cr_assert_eq(spec.expects[0].fork.line, 0);
    fs_case_spec_release(&spec);
}

Test(parse, missing_cross_file)
{
    struct fs_case_spec spec;
    load_case("x.c",
              "/* forksan case: x\n * expect: lock-held-at-fork warning acquire=gone.c@held\n"
              " */\n",
              &spec);
    cr_assert(has_error(&spec, "cannot read", "gone.c"));
    fs_case_spec_release(&spec);
}

Test(parse, bad_headers)
{
    struct fs_case_spec spec;
    load_case("b.c",
              "/* forksan case: x\n"
              " * expect: lock-held-at-fork severe\n"
              " * expect: threads-at-fork warning when=@x\n"
              " * expects: none\n"
              " * timeout: -3\n"
              " */\n",
              &spec);
    cr_assert(has_error(&spec, "b.c:2:", "needs a severity"));
    cr_assert(has_error(&spec, "b.c:3:", "unknown expect: option 'when=@x'"));
    cr_assert(has_error(&spec, "b.c:4:", "unknown header key 'expects:'"));
    cr_assert(has_error(&spec, "b.c:5:", "bad timeout"));
    fs_case_spec_release(&spec);

    load_case("n.c", "/* forksan case: x\n */\n", &spec);
    cr_assert(has_error(&spec, "no expect: line", NULL));
    fs_case_spec_release(&spec);

    load_case("nn.c", "/* forksan case: x\n * expect: none\n * expect: threads-at-fork note\n */\n",
              &spec);
    cr_assert(has_error(&spec, "`expect: none` together", NULL));
    fs_case_spec_release(&spec);
}

static const char deadlock_case[] =
    "/* forksan case: the child blocks on an inherited mutex\n"        /* 1 */
    " * on-deadlock: abort\n"                                          /* 2 */
    " * timeout: 3\n"                                                  /* 3 */
    " * expect: child-deadlock error child=@childlock acquire=@held\n" /* 4 */
    " * expect: child-hang error\n"                                    /* 5 */
    " */\n"                                                            /* 6 */
    "    CASE_OK(pthread_mutex_lock(&lock)); // @held\n"               /* 7 */
    "    _exit(pthread_mutex_lock(&lock) == 0); // @childlock\n";      /* 8 */

Test(parse, child_site_and_policy)
{
    struct fs_case_spec spec;
    load_case("dl.c", deadlock_case, &spec);
    char *errs = all_errors(&spec);
    cr_assert_eq(spec.nerrors, 0, "errors: %s", errs);
    free(errs);
    cr_assert_str_eq(spec.on_deadlock, "abort");
    cr_assert_float_eq(spec.timeout, 3.0, 1e-9);
    cr_assert_eq(spec.nexpects, 2);
    const struct fs_case_expect *e = &spec.expects[0];
    cr_assert(e->has_child);
    cr_assert(e->has_acquire);
    cr_assert(!e->has_fork);
    cr_assert_str_eq(e->child.file, "dl.c");
    cr_assert_str_eq(e->child.marker, "childlock");
    cr_assert_eq(e->child.line, 8);
    cr_assert_eq(e->acquire.line, 7);
    cr_assert(!spec.expects[1].has_child);
    cr_assert(fs_case_spec_expects_hang(&spec));

    /* The child's call is the site that sets a child-deadlock apart, so it is the one shown. */
    char *d = fs_case_spec_describe(&spec);
    cr_assert_str_eq(d, "child-deadlock(error)@dl.c:8, child-hang(error)");
    free(d);
    fs_case_spec_release(&spec);

    load_case("nodl.c", mutex_case, &spec);
    cr_assert_null(spec.on_deadlock, "no on-deadlock: line leaves the policy unset");
    cr_assert(!fs_case_spec_expects_hang(&spec));
    fs_case_spec_release(&spec);
}

Test(parse, bad_policy_and_child_site)
{
    struct fs_case_spec spec;
    load_case("bp.c",
              "/* forksan case: x\n"
              " * on-deadlock: crash\n"
              " * on-deadlock: wait\n"
              " * on-deadlock: fail\n"
              " * expect: child-deadlock error child=nomarker\n"
              " * expect: child-deadlock warning child=@gone child=@gone\n"
              " */\n",
              &spec);
    char *errs = all_errors(&spec);
    cr_assert(has_error(&spec, "bp.c:2:", "bad on-deadlock 'crash' (wait, fail or abort)"), "%s",
              errs);
    cr_assert(has_error(&spec, "bp.c:4:", "on-deadlock: given twice"), "%s", errs);
    cr_assert(has_error(&spec, "bp.c:5:", "bad site 'child=nomarker'"), "%s", errs);
    cr_assert(has_error(&spec, "bp.c:6:", "'child' given twice"), "%s", errs);
    cr_assert(has_error(&spec, "bp.c:6:", "marker @gone not found in bp.c"), "%s", errs);
    cr_assert_str_eq(spec.on_deadlock, "wait", "the first valid value stands");
    free(errs);
    fs_case_spec_release(&spec);
}

/* ---- matching ------------------------------------------------------------------------------ */

struct xp {
    const char *hazard;
    enum fs_severity sev;
    int acquire_line; /* 0: none */
    int fork_line;
    int child_line;
};

/* A spec of expectations in file "mh.c", built directly so that matching is tested alone. */
static void make_spec(struct fs_case_spec *spec, const struct xp *xs, size_t n)
{
    memset(spec, 0, sizeof *spec);
    spec->name = fs_xstrdup("mh");
    spec->file = fs_xstrdup("mh.c");
    spec->path = fs_xstrdup("/nowhere/mh.c");
    spec->description = fs_xstrdup("test");
    spec->timeout = FS_CASE_DEFAULT_TIMEOUT;
    spec->expect_none = n == 0;
    spec->expects = fs_xcalloc(n + 1, sizeof *spec->expects);
    spec->nexpects = n;
    for (size_t i = 0; i < n; i++) {
        struct fs_case_expect *e = &spec->expects[i];
        e->hazard = fs_xstrdup(xs[i].hazard);
        e->severity = xs[i].sev;
        if (xs[i].acquire_line) {
            e->has_acquire = true;
            e->acquire =
                (struct fs_case_loc){fs_xstrdup("held"), fs_xstrdup("mh.c"), xs[i].acquire_line};
        }
        if (xs[i].fork_line) {
            e->has_fork = true;
            e->fork = (struct fs_case_loc){fs_xstrdup("fork"), fs_xstrdup("mh.c"), xs[i].fork_line};
        }
        if (xs[i].child_line) {
            e->has_child = true;
            e->child =
                (struct fs_case_loc){fs_xstrdup("child"), fs_xstrdup("mh.c"), xs[i].child_line};
        }
    }
}

static void add_frame(struct fs_stack *s, const char *fn, const char *file, int line)
{
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->function = fn ? fs_xstrdup(fn) : NULL;
    fr->file = file ? fs_xstrdup(file) : NULL;
    fr->line = line;
}

/* A lock finding whose acquire stack is libc, then holder at mh.c:acq, and fork stack main at
 * mh.c:fork; lines of 0 leave that stack out. */
static void add_lock(struct fs_findings *list, enum fs_severity sev, int acq, int fork)
{
    struct fs_finding *f = fs_findings_add(list, "lock-held-at-fork", sev, 1234);
    fs_finding_summary(f, "mutex held by thread 1235");
    if (acq) {
        struct fs_stack *s = fs_finding_stack_add(f, "acquire", 1235);
        add_frame(s, "__pthread_mutex_lock", NULL, 0);
        add_frame(s, "holder", "/src/cases/mh.c", acq);
        add_frame(s, "start_thread", "pthread_create.c", 442);
    }
    if (fork) {
        struct fs_stack *s = fs_finding_stack_add(f, "fork", 1234);
        add_frame(s, "main", "mh.c", fork);
    }
}

static void add_threads(struct fs_findings *list, enum fs_severity sev)
{
    struct fs_finding *f = fs_findings_add(list, "threads-at-fork", sev, 1234);
    fs_finding_summary(f, "2 threads alive at fork");
}

static char *joined(const struct fs_case_mismatches *m)
{
    char *out = fs_xstrdup("");
    for (size_t i = 0; i < m->n; i++) {
        char *next = fs_xasprintf("%s%s\n", out, m->msgs[i]);
        free(out);
        out = next;
    }
    return out;
}

Test(match, exact)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 20, 30, 0},
                            {"threads-at-fork", FS_SEV_WARNING, 0, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 2);
    struct fs_findings list = {0};
    add_threads(&list, FS_SEV_WARNING);
    add_lock(&list, FS_SEV_WARNING, 20, 30);
    struct fs_case_mismatches m;
    bool ok = fs_case_match(&spec, &list, &m);
    char *j = joined(&m);
    cr_assert(ok, "mismatches:\n%s", j);
    cr_assert_eq(m.n, 0);
    free(j);
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, missing_finding)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 20, 0, 0},
                            {"threads-at-fork", FS_SEV_WARNING, 0, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 2);
    struct fs_findings list = {0};
    add_threads(&list, FS_SEV_WARNING);
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0], "missing: lock-held-at-fork warning acquire=mh.c:20");
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, unexpected_finding)
{
    const struct xp xs[] = {{"threads-at-fork", FS_SEV_WARNING, 0, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 1);
    struct fs_findings list = {0};
    add_threads(&list, FS_SEV_WARNING);
    struct fs_finding *f = fs_findings_add(&list, "lock-held-by-forker", FS_SEV_NOTE, 1234);
    fs_finding_summary(f, "main held a mutex");
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0],
                     "unexpected: lock-held-by-forker note (pid 1234: main held a mutex)");
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, wrong_line)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 21, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 1);
    struct fs_findings list = {0};
    add_lock(&list, FS_SEV_WARNING, 20, 30);
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1, "one near miss, not a missing plus an unexpected");
    cr_assert_str_eq(m.msgs[0],
                     "lock-held-at-fork warning found (pid 1234) but acquire stack has no "
                     "frame at mh.c:21; it has: __pthread_mutex_lock at 0x0, holder at "
                     "mh.c:20, start_thread at pthread_create.c:442");
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, wrong_fork_stack_and_severity)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 0, 31, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 1);
    struct fs_findings list = {0};
    add_lock(&list, FS_SEV_NOTE, 20, 0);
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert(strstr(m.msgs[0], "its severity is note, not warning"), "got: %s", m.msgs[0]);
    cr_assert(strstr(m.msgs[0], "it has no fork stack"), "got: %s", m.msgs[0]);
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, two_expectations_of_one_id)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 20, 0, 0},
                            {"lock-held-at-fork", FS_SEV_WARNING, 40, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 2);
    struct fs_findings list = {0};
    add_lock(&list, FS_SEV_WARNING, 40, 0);
    add_lock(&list, FS_SEV_WARNING, 20, 0);
    struct fs_case_mismatches m;
    cr_assert(fs_case_match(&spec, &list, &m));
    fs_case_mismatches_release(&m);

    /* Both at line 20: the expectation at 40 is unmet, and the spare finding explains why. */
    fs_findings_release(&list);
    add_lock(&list, FS_SEV_WARNING, 20, 0);
    add_lock(&list, FS_SEV_WARNING, 20, 0);
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert(strstr(m.msgs[0], "no frame at mh.c:40"), "got: %s", m.msgs[0]);
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, loose_expectation_does_not_steal)
{
    /* The loose expectation comes first and the finding it could take first is the only one the
     * strict expectation accepts: the assignment must give each its own. */
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 0, 0, 0},
                            {"lock-held-at-fork", FS_SEV_WARNING, 20, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 2);
    struct fs_findings list = {0};
    add_lock(&list, FS_SEV_WARNING, 20, 0);
    add_lock(&list, FS_SEV_WARNING, 55, 0);
    struct fs_case_mismatches m;
    bool ok = fs_case_match(&spec, &list, &m);
    char *j = joined(&m);
    cr_assert(ok, "mismatches:\n%s", j);
    free(j);
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, expect_none)
{
    struct fs_case_spec spec;
    make_spec(&spec, NULL, 0);
    struct fs_findings list = {0};
    struct fs_case_mismatches m;
    cr_assert(fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 0);
    fs_case_mismatches_release(&m);

    add_threads(&list, FS_SEV_NOTE);
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0],
                     "unexpected: threads-at-fork note (pid 1234: 2 threads alive at fork)");
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

Test(match, unresolved_marker_never_matches)
{
    const struct xp xs[] = {{"lock-held-at-fork", FS_SEV_WARNING, 20, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 1);
    spec.expects[0].acquire.line = 0; /* as after a missing marker */
    struct fs_findings list = {0};
    add_lock(&list, FS_SEV_WARNING, 20, 0);
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}

/* A child-deadlock finding as rules/deadlock.c builds it: the child's call (libc, then main at
 * mh.c:child), the holder's acquisition at mh.c:acq and the fork; lines of 0 leave a stack out. */
static void add_deadlock(struct fs_findings *list, enum fs_severity sev, int child, int acq)
{
    struct fs_finding *f = fs_findings_add(list, "child-deadlock", sev, 1236);
    fs_finding_summary(f, "child 1236 blocked in pthread_mutex_lock");
    if (child) {
        struct fs_stack *s = fs_finding_stack_add(f, "child-acquire", 1236);
        add_frame(s, "pthread_mutex_lock", NULL, 0);
        add_frame(s, "main", "/src/cases/mh.c", child);
    }
    if (acq) {
        struct fs_stack *s = fs_finding_stack_add(f, "acquire", 1235);
        add_frame(s, "holder", "mh.c", acq);
    }
    struct fs_stack *s = fs_finding_stack_add(f, "fork", 1234);
    add_frame(s, "main", "mh.c", 30);
}

Test(match, child_site)
{
    const struct xp xs[] = {{"child-deadlock", FS_SEV_ERROR, 20, 0, 40}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 1);
    struct fs_findings list = {0};
    add_deadlock(&list, FS_SEV_ERROR, 40, 20);
    struct fs_case_mismatches m;
    bool ok = fs_case_match(&spec, &list, &m);
    char *j = joined(&m);
    cr_assert(ok, "mismatches:\n%s", j);
    free(j);
    fs_case_mismatches_release(&m);

    /* The child= line is looked for in the child-acquire stack only, not in the others. */
    fs_findings_release(&list);
    add_deadlock(&list, FS_SEV_ERROR, 41, 40);
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert(strstr(m.msgs[0], "child-acquire stack has no frame at mh.c:40; it has: "
                                "pthread_mutex_lock at 0x0, main at mh.c:41"),
              "got: %s", m.msgs[0]);
    fs_case_mismatches_release(&m);

    fs_findings_release(&list);
    add_deadlock(&list, FS_SEV_WARNING, 0, 20);
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert(strstr(m.msgs[0], "its severity is warning, not error"), "got: %s", m.msgs[0]);
    cr_assert(strstr(m.msgs[0], "it has no child-acquire stack (expected a frame at mh.c:40)"),
              "got: %s", m.msgs[0]);
    fs_case_mismatches_release(&m);

    fs_findings_release(&list);
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0], "missing: child-deadlock error acquire=mh.c:20 child=mh.c:40");
    fs_case_mismatches_release(&m);
    fs_case_spec_release(&spec);
}

Test(match, one_hang_per_process)
{
    /* Two hung processes are two child-hang findings: one expectation each, in both directions. */
    const struct xp xs[] = {{"child-hang", FS_SEV_ERROR, 0, 0, 0},
                            {"child-hang", FS_SEV_ERROR, 0, 0, 0}};
    struct fs_case_spec spec;
    make_spec(&spec, xs, 2);
    cr_assert(fs_case_spec_expects_hang(&spec));
    struct fs_findings list = {0};
    fs_finding_summary(fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 10), "parent hung");
    struct fs_case_mismatches m;
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0], "missing: child-hang error");
    fs_case_mismatches_release(&m);

    fs_finding_summary(fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 11), "child hung");
    cr_assert(fs_case_match(&spec, &list, &m));
    fs_case_mismatches_release(&m);

    fs_finding_summary(fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 12), "grandchild hung");
    cr_assert(!fs_case_match(&spec, &list, &m));
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.msgs[0], "unexpected: child-hang error (pid 12: grandchild hung)");
    fs_case_mismatches_release(&m);
    fs_findings_release(&list);
    fs_case_spec_release(&spec);
}
