/* Scaffolding shared by the unit tests, so each test file keeps only its data and its checks:
 * models built from trace text and the rules run over them (fx_add, fx_run_rules, fx_find, ...),
 * record look-ups in a parsed trace file, and, for the tests that drive the shim's recorder in
 * this process, a private trace directory (define FX_RECORDER before including this header; the
 * analyzer tests then need nothing from preload/).  Everything is static inline, so a test file
 * pays only for what it calls. */
#ifndef FORKSAN_TESTS_FIXTURE_H
#define FORKSAN_TESTS_FIXTURE_H

#include "trace_read.h"
#include "diag.h"
#include "finding.h"
#include "model.h"
#include "rules.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- models from trace text ---------------------------------------------------------------- */

enum {
    FX_HANG = 1,  /* the text is a <pid>.hang file, not a trace */
    FX_CLEAN = 2, /* every line must parse: the test is not about damage */
};

/* Parses text as the file name (which gives the pid when the text lacks it) and adds it to m. */
static inline void fx_add_file(struct fs_model *m, const char *name, const char *text, int how)
{
    struct fs_trace_file tf;
    cr_assert_eq(fs_trace_parse(text, strlen(text), name, &tf), 0, "%s: %s", name, tf.error);
    if (how & FX_CLEAN)
        cr_assert_eq(tf.bad_lines, 0, "%s: bad line %u", name, tf.first_bad_line);
    if (how & FX_HANG)
        cr_assert_eq(fs_model_add_hang(m, &tf), 0, "%s not added", name);
    else
        cr_assert_eq(fs_model_add_trace(m, &tf), 0, "%s not added", name);
    fs_trace_release(&tf);
}

static inline void fx_add(struct fs_model *m, const char *name, const char *text)
{
    fx_add_file(m, name, text, 0);
}

static inline void fx_add_hang(struct fs_model *m, const char *name, const char *text)
{
    fx_add_file(m, name, text, FX_HANG);
}

/* ---- running the rules --------------------------------------------------------------------- */

/* A model and what the rules found in it; zero-initialize, fill with fx_add, then run. */
struct fx_run {
    struct fs_model m;
    struct fs_findings out;
};

/* Links the model and runs every rule without a symbolizer, as `forksan report` would offline. */
static inline void fx_run_rules(struct fx_run *r)
{
    fs_model_link(&r->m);
    fs_rules_run(&r->m, NULL, &r->out);
}

static inline void fx_run_release(struct fx_run *r)
{
    fs_findings_release(&r->out);
    fs_model_release(&r->m);
}

/* Suite .init: the damage and symbolizer warnings are not what these tests look at. */
static inline void fx_quiet(void)
{
    fs_diag_set_quiet(true);
}

/* ---- checking findings --------------------------------------------------------------------- */

static inline size_t fx_count(const struct fs_findings *out, const char *hazard)
{
    size_t n = 0;
    for (size_t i = 0; i < out->n; i++)
        n += strcmp(out->items[i].hazard, hazard) == 0;
    return n;
}

/* The finding of hazard for pid; fails the test when there is none. */
static inline const struct fs_finding *fx_find(const struct fs_findings *out, const char *hazard,
                                               int pid)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->items[i].hazard, hazard) == 0 && out->items[i].pid == pid)
            return &out->items[i];
    cr_assert_fail("no %s finding for pid %d", hazard, pid);
    return NULL;
}

/* The stack with that role, or NULL: callers assert on its absence where that is the point. */
static inline const struct fs_stack *fx_stack(const struct fs_finding *f, const char *role)
{
    for (size_t i = 0; i < f->nstacks; i++)
        if (strcmp(f->stacks[i].role, role) == 0)
            return &f->stacks[i];
    return NULL;
}

static inline void fx_detail_is(const struct fs_finding *f, const char *key, const char *value)
{
    const char *v = fs_finding_detail_get(f, key);
    cr_assert_not_null(v, "%s: no detail '%s'", f->hazard, key);
    cr_assert_str_eq(v, value, "%s: detail '%s'", f->hazard, key);
}

/* ---- records of a parsed trace file -------------------------------------------------------- */

static inline size_t fx_count_tag(const struct fs_trace_file *tf, const char *tag)
{
    size_t n = 0;
    for (size_t i = 0; i < tf->nrecs; i++)
        n += strcmp(tf->recs[i].tag, tag) == 0;
    return n;
}

/* A decimal field that must be there. */
static inline int64_t fx_dec(const struct fs_record *r, const char *key)
{
    int64_t v = 0;
    cr_assert_eq(fs_rec_dec(r, key, &v), 0, "line %u: no dec %s", r->line, key);
    return v;
}

/* ---- the shim's recorder, in this process --------------------------------------------------- */

/* The run most rule tests start from: parent 4200 forks children whose snapshot shows the main
 * thread (the forker) and a worker thread; HELD_WORKER adds the worker holding a mutex. */
#define PARENT                                                                                     \
    "forksan-trace version=1 pid=4200\n"                                                           \
    "proc pid=4200 ppid=1 origin=start image=0 time=100 exe=/tmp/a.out comm=a.out "                \
    "cmdline=./a.out\n"                                                                            \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "fork seq=1 child=4242 tid=4200 via=fork time=1000 frames=55d0c0a01234,7f00aa029d8f\n"

/* A forked child of 4200 whose snapshot has the forker (main) and a worker thread. */
#define CHILD(pid, seq)                                                                            \
    "forksan-trace version=1 pid=" #pid "\n"                                                       \
    "proc pid=" #pid " ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a.out "         \
    "cmdline=./a.out\n"                                                                            \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "child seq=" #seq " parent=4200 forker=4200 via=fork time=1000 "                               \
    "frames=55d0c0a01234,7f00aa029d8f\n"                                                           \
    "thread tid=4200 name=main forker=1 known=1 start=0 creator=0 site=0\n"                        \
    "thread tid=4201 name=worker forker=0 known=1 start=55d0c0a01100 creator=4200 "                \
    "site=55d0c0a01200\n"

#define HELD_WORKER                                                                                \
    "held tid=4201 lock=55d0c0a04040 kind=mutex mode=excl count=1 frames=55d0c0a01130 type=0\n"

#ifdef FX_RECORDER
#include "shim.h"
#include "trace_format.h"

#include <dirent.h>
#include <unistd.h>

/* Criterion runs each test in a process of its own, so one directory per process is enough. */
static __attribute__((unused)) char fx_trace_dir[64];

/* Suite .init: records into a fresh /tmp/forksan-<name>-XXXXXX as a traced process would. */
static inline void fx_recorder_setup(const char *name)
{
    snprintf(fx_trace_dir, sizeof fx_trace_dir, "/tmp/forksan-%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(fx_trace_dir), "mkdtemp");
    fs_config.active = 1;
    fs_config.lock_stack = 1;
    snprintf(fs_config.trace_dir, sizeof fs_config.trace_dir, "%s", fx_trace_dir);
    fs_pid = getpid();
    fs_registry_init();
}

/* Suite .fini, and safe to call twice: removes the directory and whatever the recorder wrote. */
static inline void fx_recorder_teardown(void)
{
    DIR *d = opendir(fx_trace_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fx_trace_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(fx_trace_dir);
}

/* Where the recorder puts the first image of pid. */
static inline void fx_trace_path(char *buf, size_t size, pid_t pid)
{
    snprintf(buf, size, "%s/%d.0%s", fx_trace_dir, (int)pid, FS_TRACE_SUFFIX);
}

/* Reads back the trace the recorder wrote for pid; it must be whole and non-empty. */
static inline void fx_read_trace(pid_t pid, struct fs_trace_file *tf)
{
    char path[256];
    fx_trace_path(path, sizeof path, pid);
    cr_assert_eq(fs_trace_read(path, tf), 0, "%s: %s", path, tf->error);
    cr_assert_eq(tf->bad_lines, 0, "bad line %u", tf->first_bad_line);
    cr_assert_not(tf->truncated);
    cr_assert_gt(tf->nrecs, 0);
}
#endif /* FX_RECORDER */

#endif /* FORKSAN_TESTS_FIXTURE_H */
