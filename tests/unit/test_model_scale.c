/* Unit tests for the model at scale and on absurd input: linking through the pid and fork
 * indexes must give what a scan would (many children of one parent, pid reuse, hang-only
 * processes), and counts from traces must neither overflow nor go negative.  No timing is
 * asserted; bench/README.md measures the 100,000-process case. */
#include "trace_read.h"
#include "model.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(model_scale, .init = fx_quiet);

#define NCHILD 2000

/* A root that forked NCHILD children, added in reverse pid order; a grandchild 5000 forked by
 * child 1001; and a process known only from its hang file. */
static void build(struct fs_model *m)
{
    char *root = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&root, &len);
    cr_assert_not_null(f);
    fputs("forksan-trace version=1 pid=1000\n"
          "proc pid=1000 ppid=1 origin=start image=0 time=1 exe=/x comm=root cmdline=x\n",
          f);
    for (int i = 1; i <= NCHILD; i++)
        fprintf(f, "fork seq=%d child=%d tid=1000 via=fork time=%d frames=1\n", i, 1000 + i,
                10 + i);
    cr_assert_eq(fclose(f), 0);
    fx_add(m, "1000.0.trace", root);
    free(root);
    for (int i = NCHILD; i >= 1; i--) {
        char name[64], *text = fs_xasprintf(
                           "forksan-trace version=1 pid=%d\n"
                           "proc pid=%d ppid=1000 origin=fork image=0 time=%d exe=/x comm=c%d "
                           "cmdline=x\n"
                           "child seq=%d parent=1000 forker=1000 via=fork time=%d frames=1\n",
                           1000 + i, 1000 + i, 10 + i, i, i, 10 + i);
        if (i == 1) {
            char *more = fs_xasprintf("%sfork seq=1 child=5000 tid=1001 via=fork time=900000 "
                                      "frames=2\n",
                                      text);
            free(text);
            text = more;
        }
        snprintf(name, sizeof name, "%d.0.trace", 1000 + i);
        fx_add(m, name, text);
        free(text);
    }
    fx_add(m, "5000.0.trace",
           "forksan-trace version=1 pid=5000\n"
           "proc pid=5000 ppid=1001 origin=fork image=0 time=900000 exe=/x comm=late cmdline=x\n"
           "child seq=1 parent=1001 forker=1001 via=fork time=900000 frames=2\n");
    fx_add_file(m, "7000.hang",
                "forksan-trace version=1 pid=7000\n"
                "hang pid=7000 ppid=1000 comm=static exe=/s after=1 attached=0 error=x\n",
                FX_HANG);
    fs_model_link(m);
}

Test(model_scale, every_child_finds_its_parent_and_fork)
{
    struct fs_model m = {0};
    build(&m);
    struct fs_process *root = fs_model_find(&m, 1000);
    cr_assert_not_null(root);
    cr_assert_eq(root->nchildren, NCHILD + 1); /* the hang-only 7000 too */
    for (int i = 1; i <= NCHILD; i++) {
        struct fs_process *c = fs_model_find(&m, 1000 + i);
        cr_assert_not_null(c, "child %d", 1000 + i);
        cr_assert_eq(c->parent, root, "child %d", 1000 + i);
        const struct fs_fork_event *e = fs_model_fork_of(&m, c);
        cr_assert_not_null(e, "child %d", 1000 + i);
        cr_assert_eq(e->child_pid, 1000 + i);
        cr_assert_eq(e->seq, i);
    }
    struct fs_process *late = fs_model_find(&m, 5000);
    cr_assert_not_null(late);
    cr_assert_eq(late->parent, fs_model_find(&m, 1001));
    const struct fs_fork_event *e = fs_model_fork_of(&m, late);
    cr_assert_not_null(e);
    cr_assert_eq(e->tid, 1001);
    struct fs_process *st = fs_model_find(&m, 7000);
    cr_assert_not_null(st);
    cr_assert_eq(st->parent, root);
    cr_assert_not_null(fs_model_hang_of(&m, 7000));
    cr_assert_null(fs_model_hang_of(&m, 1000));
    cr_assert_null(fs_model_find(&m, 999));
    cr_assert_null(fs_model_find(&m, 1000 + NCHILD + 1));
    fs_model_release(&m);
}

Test(model_scale, reused_parent_pid_takes_the_latest_before_the_child)
{
    struct fs_model m = {0};
    /* Two processes 300 (the second after the first exec'd away and its pid was reused), and a
     * child of 300 started after both: its parent is the later one. */
    fx_add(&m, "300.0.trace",
           "forksan-trace version=1 pid=300\n"
           "proc pid=300 ppid=1 origin=start image=0 time=10 exe=/a comm=a cmdline=a\n");
    fx_add(&m, "300.1.trace",
           "forksan-trace version=1 pid=300\n"
           "proc pid=300 ppid=2 origin=fork image=1 time=50 exe=/b comm=b cmdline=b\n"
           "child seq=1 parent=2 forker=2 via=fork time=50 frames=\n"
           "fork seq=1 child=301 tid=300 via=fork time=60 frames=\n");
    fx_add(&m, "301.0.trace",
           "forksan-trace version=1 pid=301\n"
           "proc pid=301 ppid=300 origin=fork image=0 time=60 exe=/b comm=c cmdline=c\n"
           "child seq=1 parent=300 forker=300 via=fork time=60 frames=\n");
    fs_model_link(&m);
    struct fs_process *c = fs_model_find(&m, 301);
    cr_assert_not_null(c);
    cr_assert_not_null(c->parent);
    cr_assert_str_eq(fs_process_name(c->parent), "b");
    cr_assert_not_null(fs_model_fork_of(&m, c));
    fs_model_release(&m);
}

Test(model_scale, lost_counts_saturate_and_refuse_negatives)
{
    struct fs_model m = {0};
    fx_add_file(&m, "42.0.trace",
                "forksan-trace version=1 pid=42\n"
                "proc pid=42 ppid=1 origin=start image=0 time=1 exe=/x comm=x cmdline=x\n"
                "lost what=held count=9223372036854775807\n"
                "lost what=held count=9223372036854775807\n"
                "lost what=frames count=-5\n"
                "lost what=write count=99999999999999999999\n"
                "safe src=getrandom count=9223372036854775807\n"
                "safe src=getrandom count=-1\n",
                0);
    fs_model_link(&m);
    const struct fs_image *img = &m.images[0];
    cr_assert_eq(img->nlost, 1);
    cr_assert_eq(img->lost[0].count, LONG_MAX);
    cr_assert_eq(img->nsafes, 1);
    cr_assert_eq(img->safes[0].count, LONG_MAX);
    cr_assert(img->damaged, "the refused records are damage");
    cr_assert_eq(fs_count_add(LONG_MAX, LONG_MAX), LONG_MAX);
    cr_assert_eq(fs_count_add(2, 3), 5);
    fs_model_release(&m);
}

Test(model_scale, empty_values_list_is_an_empty_draw)
{
    struct fs_model m = {0};
    fx_add_file(&m, "43.0.trace",
                "forksan-trace version=1 pid=43\n"
                "proc pid=43 ppid=1 origin=start image=0 time=1 exe=/x comm=x cmdline=x\n"
                "draw gen=random id=0 lineage=1 seeded=0 seedpid=0 seedsite=0 inherited=0 pos=0 "
                "n=0 values= vtype=int call=rand site=1\n",
                FX_CLEAN);
    fs_model_link(&m);
    cr_assert_eq(m.images[0].ndraws, 1);
    cr_assert_eq(m.images[0].draws[0].n, 0);
    fs_model_release(&m);
}

Test(model_scale, held_count_below_one_is_refused)
{
    struct fs_model m = {0};
    fx_add_file(&m, "44.0.trace",
                "forksan-trace version=1 pid=44\n"
                "proc pid=44 ppid=1 origin=fork image=0 time=1 exe=/x comm=x cmdline=x\n"
                "child seq=1 parent=1 forker=1 via=fork time=1 frames=\n"
                "held tid=2 lock=10 kind=mutex mode=excl count=-3 frames=1\n"
                "held tid=2 lock=20 kind=mutex mode=excl count=0 frames=1\n",
                0);
    fs_model_link(&m);
    cr_assert_eq(m.images[0].snapshot->nheld, 0);
    cr_assert(m.images[0].damaged);
    fs_model_release(&m);
}

Test(model_scale, many_mod_records_keep_the_latest_per_start)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    fputs("forksan-trace version=1 pid=45\n"
          "proc pid=45 ppid=1 origin=start image=0 time=1 exe=/x comm=x cmdline=x\n",
          f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "mod start=%x end=%x bias=0 buildid= path=/m%d\n", 0x1000 * (i + 1),
                0x1000 * (i + 1) + 0x800, i);
    /* Two replacements, at the first and at the last start. */
    fprintf(f, "mod start=1000 end=1800 bias=0 buildid=aa path=/again-first\n");
    fprintf(f, "mod start=%x end=%x bias=0 buildid=bb path=/again-last\n", 0x1000 * 20000,
            0x1000 * 20000 + 0x800);
    cr_assert_eq(fclose(f), 0);
    struct fs_model m = {0};
    fx_add_file(&m, "45.0.trace", text, FX_CLEAN);
    free(text);
    fs_model_link(&m);
    const struct fs_modmap *mm = &m.images[0].mods;
    cr_assert_eq(mm->n, 20000);
    cr_assert_str_eq(mm->mods[0].path, "/again-first");
    cr_assert_str_eq(mm->mods[19999].path, "/again-last");
    cr_assert_str_eq(mm->mods[5000].path, "/m5000");
    cr_assert_null(mm->slots, "the index is dropped once the file is read");
    fs_model_release(&m);
}

Test(model_scale, thread_lookup_by_tid_in_a_large_snapshot)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    fputs("forksan-trace version=1 pid=46\n"
          "proc pid=46 ppid=1 origin=fork image=0 time=1 exe=/x comm=x cmdline=x\n"
          "child seq=1 parent=1 forker=1 via=fork time=1 frames=1\n",
          f);
    for (int i = 5000; i >= 1; i--)
        fprintf(f, "thread tid=%d name=t%d forker=0 known=1 start=0 creator=0 site=0\n", 100 + i,
                i);
    fputs("thread tid=101 name=second-101 forker=0 known=1 start=0 creator=0 site=0\n", f);
    cr_assert_eq(fclose(f), 0);
    struct fs_model m = {0};
    fx_add_file(&m, "46.0.trace", text, FX_CLEAN);
    free(text);
    fs_model_link(&m);
    const struct fs_fork_snapshot *s = m.images[0].snapshot;
    cr_assert_not_null(s);
    cr_assert_eq(s->nthreads, 5001);
    for (int i = 1; i <= 5000; i += 499) {
        const struct fs_thread_rec *t = fs_rules_thread_find(s, 100 + i);
        cr_assert_not_null(t, "tid %d", 100 + i);
        cr_assert_eq(t->tid, 100 + i);
    }
    /* A tid recorded twice: the first record, as a scan would find. */
    cr_assert_str_eq(fs_rules_thread_find(s, 101)->name, "t1");
    cr_assert_null(fs_rules_thread_find(s, 100));
    cr_assert_null(fs_rules_thread_find(s, 5101));
    const struct fs_modmap *mm = &m.images[0].mods;
    cr_assert_eq(mm->n, 0);
    fs_model_release(&m);
}

Test(model_scale, lost_kinds_are_bounded)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    fputs("forksan-trace version=1 pid=47\n"
          "proc pid=47 ppid=1 origin=start image=0 time=1 exe=/x comm=x cmdline=x\n",
          f);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "lost what=w%d count=1\n", i);
    cr_assert_eq(fclose(f), 0);
    struct fs_model m = {0};
    fx_add_file(&m, "47.0.trace", text, 0);
    free(text);
    fs_model_link(&m);
    cr_assert_eq(m.images[0].nlost, FS_MODEL_MAX_LOST_KINDS);
    cr_assert(m.images[0].damaged);
    fs_model_release(&m);
}
