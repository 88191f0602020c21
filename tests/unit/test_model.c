/* Unit tests for analyzer/model/model.c: traces from strings (and one real directory) into
 * images and processes, damage handling, linking of parents, children, exec images and fork
 * events. */
#include "trace_read.h"
#include "model.h"
#include "diag.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARENT_4200                                                                                \
    "forksan-trace version=1 pid=4200\n"                                                           \
    "proc pid=4200 ppid=1 origin=start image=0 time=100 exe=/tmp/a.out comm=main "                 \
    "cmdline=./a.out%20-x\n"                                                                       \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "fork seq=1 child=4242 tid=4200 via=fork time=1000 frames=55d0c0a01234,7f00aa029d8f\n"         \
    "fork seq=2 child=4243 tid=4201 via=_Fork time=1100 frames=55d0c0a01240\n"                     \
    "spawn child=4250 path=/bin/ls time=1200 frames=55d0c0a01250\n"

#define CHILD_HEAD(pid, seq)                                                                       \
    "forksan-trace version=1 pid=" #pid "\n"                                                       \
    "proc pid=" #pid " ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=main "          \
    "cmdline=./a.out\n"                                                                            \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "child seq=" #seq " parent=4200 forker=4200 via=fork time=1000 "                               \
    "frames=55d0c0a01234,7f00aa029d8f\n"

#define THREADS                                                                                    \
    "thread tid=4200 name=main forker=1 known=1 start=0 creator=0 site=0\n"                        \
    "thread tid=4201 name=worker forker=0 known=1 start=55d0c0a01100 creator=4200 "                \
    "site=55d0c0a01200\n"

TestSuite(model, .init = fx_quiet);

Test(model, parses_images_and_records)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fx_add(&m, "4242.0.trace",
           CHILD_HEAD(4242, 1) THREADS
           "held tid=4201 lock=55d0c0a04040 kind=mutex mode=excl count=2 frames=55d0c0a01130,1 "
           "type=1\n");
    fs_model_link(&m);
    cr_assert_eq(m.nimages, 2);

    const struct fs_image *p = &m.images[0];
    cr_assert_eq(p->pid, 4200);
    cr_assert_eq(p->ppid, 1);
    cr_assert_not(p->forked);
    cr_assert_str_eq(p->cmdline, "./a.out -x");
    cr_assert_eq(p->mods.n, 1);
    cr_assert_eq(p->mods.mods[0].bias, 0x55d0c0a00000ULL);
    cr_assert_str_eq(p->mods.mods[0].buildid, "1f2e");
    cr_assert_eq(p->nforks, 3);
    cr_assert_eq(p->forks[1].seq, 2);
    cr_assert_eq(p->forks[1].tid, 4201);
    cr_assert_eq(p->forks[1].via, 2); /* _Fork */
    cr_assert(p->forks[2].spawn);
    cr_assert_str_eq(p->forks[2].spawn_path, "/bin/ls");
    cr_assert_eq(p->forks[2].child_pid, 4250);
    cr_assert_not(p->damaged);

    const struct fs_image *c = &m.images[1];
    cr_assert(c->forked);
    cr_assert_not_null(c->snapshot);
    const struct fs_fork_snapshot *s = c->snapshot;
    cr_assert_eq(s->seq, 1);
    cr_assert_eq(s->parent_pid, 4200);
    cr_assert_eq(s->forker_tid, 4200);
    cr_assert_eq(s->frames.n, 2);
    cr_assert_eq(s->frames.pc[1], 0x7f00aa029d8fULL);
    cr_assert_eq(s->nthreads, 2);
    cr_assert(s->threads[0].forker);
    cr_assert_str_eq(s->threads[1].name, "worker");
    cr_assert_eq(s->threads[1].start_routine, 0x55d0c0a01100ULL);
    cr_assert_eq(s->threads[1].create_site, 0x55d0c0a01200ULL);
    cr_assert_eq(s->threads[1].creator, 4200);
    cr_assert_eq(s->nheld, 1);
    cr_assert_eq(s->held[0].tid, 4201);
    cr_assert_eq(s->held[0].lock, 0x55d0c0a04040ULL);
    cr_assert_eq(s->held[0].kind, 1); /* mutex */
    cr_assert_eq(s->held[0].mode, 1); /* excl */
    cr_assert_eq(s->held[0].count, 2);
    cr_assert_eq(s->held[0].mtype, 1);
    cr_assert_eq(s->held[0].site.n, 2);
    fs_model_release(&m);
    cr_assert_eq(m.nimages, 0);
}

Test(model, links_parent_and_children)
{
    struct fs_model m = {0};
    /* Added child first: linking must not depend on the order. */
    fx_add(&m, "4243.0.trace", CHILD_HEAD(4243, 2));
    fx_add(&m, "4242.0.trace", CHILD_HEAD(4242, 1));
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fs_model_link(&m);
    cr_assert_eq(m.nprocs, 3);
    struct fs_process *p = fs_model_find(&m, 4200), *c1 = fs_model_find(&m, 4242),
                      *c2 = fs_model_find(&m, 4243);
    cr_assert_not_null(p);
    cr_assert_not_null(c1);
    cr_assert_not_null(c2);
    cr_assert_null(fs_model_find(&m, 9999));
    cr_assert_null(p->parent); /* pid 1 has no trace */
    cr_assert_eq(c1->parent, p);
    cr_assert_eq(c2->parent, p);
    cr_assert_eq(p->nchildren, 2);
    cr_assert_eq(p->children[0], c1);
    cr_assert_eq(p->children[1], c2);
    cr_assert_str_eq(fs_process_name(c1), "main");
    cr_assert_eq(m.procs[0].pid, 4200); /* sorted by pid */

    const struct fs_fork_event *e = fs_model_fork_of(&m, c2);
    cr_assert_not_null(e);
    cr_assert_eq(e->seq, 2);
    cr_assert_eq(e->child_pid, 4243);
    e = fs_model_fork_of(&m, c1);
    cr_assert_not_null(e);
    cr_assert_eq(e->seq, 1);
    cr_assert_null(fs_model_fork_of(&m, p));
    fs_model_release(&m);
}

/* A child whose parent ended before it wrote its file says ppid=<the subreaper> in `proc`; its
 * `child` record still names the process that forked it. */
Test(model, reparented_child_links_to_its_forker)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fx_add(&m, "4242.0.trace",
           "forksan-trace version=1 pid=4242\n"
           "proc pid=4242 ppid=4100 origin=fork image=0 time=1000 exe=/tmp/a.out comm=main "
           "cmdline=./a.out\n"
           "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"
           "child seq=1 parent=4200 forker=4200 via=fork time=1000 frames=55d0c0a01234\n");
    fs_model_link(&m);
    struct fs_process *p = fs_model_find(&m, 4200), *c = fs_model_find(&m, 4242);
    cr_assert_not_null(c);
    cr_assert_eq(c->parent, p);
    cr_assert_not_null(fs_model_fork_of(&m, c));
    fs_model_release(&m);
}

/* Damaged or hostile traces can make two processes each other's parent: the cycle is cut (and
 * counted as damage) so that no walk up or down the tree runs forever. */
Test(model, parent_cycle_is_cut)
{
    struct fs_model m = {0};
    fx_add(&m, "5001.0.trace",
           "forksan-trace version=1 pid=5001\n"
           "proc pid=5001 ppid=5002 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a\n"
           "child seq=1 parent=5002 forker=5002 via=fork time=1000 frames=1\n");
    fx_add(&m, "5002.0.trace",
           "forksan-trace version=1 pid=5002\n"
           "proc pid=5002 ppid=5001 origin=fork image=0 time=1000 exe=/tmp/a.out comm=b\n"
           "child seq=1 parent=5001 forker=5001 via=fork time=1000 frames=1\n");
    fs_model_link(&m);
    struct fs_process *a = fs_model_find(&m, 5001), *b = fs_model_find(&m, 5002);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert(!(a->parent == b && b->parent == a), "a cycle survived linking");
    cr_assert(a->images[0]->damaged || b->images[0]->damaged);
    fs_model_release(&m);
}

Test(model, exec_images_in_order)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fx_add(
        &m, "4242.1.trace",
        "forksan-trace version=1 pid=4242\n"
        "proc pid=4242 ppid=4200 origin=start image=1 time=2000 exe=/bin/ls comm=ls cmdline=ls\n");
    fx_add(&m, "4242.0.trace", CHILD_HEAD(4242, 1) THREADS "exec time=1500 path=/bin/ls\n");
    fs_model_link(&m);
    struct fs_process *c = fs_model_find(&m, 4242);
    cr_assert_not_null(c);
    cr_assert_eq(c->nimages, 2);
    cr_assert_eq(c->images[0]->index, 0);
    cr_assert_eq(c->images[1]->index, 1);
    cr_assert(c->images[0]->execed);
    cr_assert_str_eq(c->images[0]->exec_path, "/bin/ls");
    cr_assert_str_eq(c->images[1]->comm, "ls");
    cr_assert_eq(fs_process_first_image(c), c->images[0]);
    cr_assert(fs_process_execed(c));
    cr_assert_str_eq(fs_process_name(c), "main");
    cr_assert_eq(c->parent, fs_model_find(&m, 4200));
    cr_assert_not(fs_process_execed(fs_model_find(&m, 4200))); /* not forked */
    fs_model_release(&m);
}

Test(model, execfail_cancels_exec)
{
    struct fs_model m = {0};
    fx_add(&m, "4242.0.trace",
           CHILD_HEAD(4242, 1) "exec time=1500 path=/nonexistent\nexecfail errno=2\n");
    fs_model_link(&m);
    struct fs_process *c = fs_model_find(&m, 4242);
    cr_assert_not(c->images[0]->execed);
    cr_assert_null(c->images[0]->exec_path);
    cr_assert_not(fs_process_execed(c));
    fs_model_release(&m);
}

Test(model, pid_reuse_starts_new_process)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fx_add(&m, "4242.0.trace", CHILD_HEAD(4242, 1));
    fx_add(&m, "4242.1.trace", CHILD_HEAD(4242, 7));
    fs_model_link(&m);
    cr_assert_eq(m.nprocs, 3);
    cr_assert_eq(m.procs[1].pid, 4242);
    cr_assert_eq(m.procs[2].pid, 4242);
    cr_assert_eq(m.procs[1].nimages, 1);
    cr_assert_eq(m.procs[2].images[0]->index, 1);
    cr_assert_not(fs_process_execed(&m.procs[1]));
    /* Only the first has a matching fork (seq 1); the second falls back on the pid. */
    cr_assert_eq(fs_model_fork_of(&m, &m.procs[1])->seq, 1);
    cr_assert_eq(fs_model_fork_of(&m, &m.procs[2])->child_pid, 4242);
    fs_model_release(&m);
}

Test(model, truncated_trace_keeps_complete_records)
{
    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    fx_add(&m, "4242.0.trace", CHILD_HEAD(4242, 1) THREADS "held tid=4201 lock=55d0c0a0");
    fs_model_link(&m);
    const struct fs_image *img = &m.images[0];
    cr_assert(img->damaged);
    cr_assert_eq(img->snapshot->nthreads, 2);
    cr_assert_eq(img->snapshot->nheld, 0);
    cr_assert_eq(fs_diag_damage_count(), before + 1);
    fs_model_release(&m);
}

Test(model, corrupt_lines_are_skipped)
{
    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    /* Line 7 does not parse at all; line 8 parses but its lock is not hex; line 9 is a
     * record from the future. */
    fx_add(&m, "4242.0.trace",
           CHILD_HEAD(4242, 1) THREADS "held tid=4201 lock=55d0c0a04040 kind\n"
                                       "held tid=4201 lock=zz kind=mutex mode=excl count=1\n"
                                       "weather sky=blue\n"
                                       "held tid=4201 lock=55d0c0a04080 kind=spin mode=excl "
                                       "count=1 frames= colour=red\n");
    fs_model_link(&m);
    const struct fs_image *img = &m.images[0];
    cr_assert(img->damaged);
    cr_assert_eq(img->snapshot->nheld, 1);
    cr_assert_eq(img->snapshot->held[0].lock, 0x55d0c0a04080ULL);
    cr_assert_eq(img->snapshot->held[0].kind, 3); /* spin */
    cr_assert_eq(img->snapshot->held[0].site.n, 0);
    cr_assert_eq(img->snapshot->held[0].mtype, -1);
    cr_assert_eq(fs_diag_damage_count(), before + 1, "one message for the file");
    fs_model_release(&m);
}

Test(model, damage_message_names_file_and_line, .init = cr_redirect_stderr)
{
    struct fs_model m = {0};
    fs_diag_set_quiet(false);
    fx_add(&m, "dir/4242.0.trace",
           CHILD_HEAD(4242, 1) "thread tid=x\nthread tid=4201 name=w forker=0\nthread tid=");
    fflush(stderr);
    cr_assert_stderr_eq_str("forksan: dir/4242.0.trace is truncated: its last record was lost\n"
                            "forksan: dir/4242.0.trace: 1 line could not be read, first at line "
                            "5; the rest was used\n");
    cr_assert_eq(m.images[0].snapshot->nthreads, 1);
    fs_model_release(&m);
}

Test(model, clean_trace_is_not_damaged)
{
    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    fx_add(&m, "4200.0.trace", PARENT_4200);
    cr_assert_not(m.images[0].damaged);
    cr_assert_eq(fs_diag_damage_count(), before);
    fs_model_release(&m);
}

Test(model, mod_same_start_replaces_and_lost_sums)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace",
           PARENT_4200
           "mod start=7f0000000000 end=7f0000001000 bias=7f0000000000 buildid= "
           "path=/lib/a.so\n"
           "mod start=7f0000000000 end=7f0000002000 bias=7f0000000000 buildid=ab "
           "path=/lib/b.so\n"
           "lost what=held count=2\nlost what=held count=1\nlost what=frames count=4\n");
    const struct fs_image *img = &m.images[0];
    cr_assert_eq(img->mods.n, 2);
    cr_assert_str_eq(img->mods.mods[1].path, "/lib/b.so");
    cr_assert_eq(img->mods.mods[1].end, 0x7f0000002000ULL);
    cr_assert_eq(img->nlost, 2);
    cr_assert_str_eq(img->lost[0].what, "held");
    cr_assert_eq(img->lost[0].count, 3);
    cr_assert_eq(img->lost[1].count, 4);
    fs_model_release(&m);
}

Test(model, pid_from_file_name_when_proc_is_missing)
{
    struct fs_model m = {0};
    fx_add(&m, "/some/dir/4300.2.trace", "forksan-trace version=1 pid=4300\n");
    cr_assert_eq(m.images[0].pid, 4300);
    cr_assert_eq(m.images[0].index, 2);
    struct fs_trace_file tf;
    const char *text = "forksan-trace version=1 pid=1\n";
    cr_assert_eq(fs_trace_parse(text, strlen(text), "noname", &tf), 0);
    cr_assert_eq(fs_model_add_trace(&m, &tf), -1);
    fs_trace_release(&tf);
    cr_assert_eq(m.nimages, 1);
    cr_assert_eq(m.unreadable, 1);
    fs_model_release(&m);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp, "%s", path);
    cr_assert_eq(fputs(text, fp) >= 0, 1);
    cr_assert_eq(fclose(fp), 0);
}

Test(model, load_dir_reads_good_and_skips_unusable)
{
    char dir[] = "/tmp/forksan-test-model-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "4242.0.trace", CHILD_HEAD(4242, 1) THREADS);
    write_file(dir, "4200.0.trace", PARENT_4200);
    write_file(dir, "4200.1.trace", "hello world\n");
    write_file(dir, "4200.2.trace", "forksan-trace version=2 pid=4200\nproc pid=4200\n");
    write_file(dir, "notes.txt", "forksan-trace version=1 pid=5\n");
    write_file(dir, "4300.0.trace.tmp", "forksan-trace version=1 pid=4300\n");
    char link[600];
    snprintf(link, sizeof link, "%s/4400.0.trace", dir);
    cr_assert_eq(symlink("4200.0.trace", link), 0);
    snprintf(link, sizeof link, "%s/4500.0.trace", dir);
    cr_assert_eq(mkfifo(link, 0600), 0); /* opened, it would block: never opened */

    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    cr_assert_eq(fs_model_load_dir(dir, &m), 0);
    /* Two bad files, a symlink and a FIFO: each told, each counted as damage. */
    cr_assert_eq(m.unreadable, 4);
    cr_assert_eq(fs_diag_damage_count(), before + 4);
    cr_assert_eq(m.nimages, 2);
    cr_assert_eq(m.nprocs, 2, "linked by load_dir");
    cr_assert_eq(m.images[0].pid, 4200);
    cr_assert_eq(m.images[1].pid, 4242);
    cr_assert_not_null(strstr(m.images[0].file, "4200.0.trace"));
    cr_assert_eq(fs_model_find(&m, 4242)->parent, fs_model_find(&m, 4200));
    fs_model_release(&m);

    const char *names[] = {"4242.0.trace", "4200.0.trace",     "4200.1.trace", "4200.2.trace",
                           "notes.txt",    "4300.0.trace.tmp", "4400.0.trace", "4500.0.trace"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cr_assert_eq(unlink(path), 0, "%s", path);
    }
    cr_assert_eq(rmdir(dir), 0);
}

Test(model, load_dir_messages_name_the_problem, .init = cr_redirect_stderr)
{
    char dir[] = "/tmp/forksan-test-model-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "7.0.trace", "forksan-trace version=9 pid=7\n");
    struct fs_model m = {0};
    fs_diag_set_quiet(false);
    cr_assert_eq(fs_model_load_dir(dir, &m), 0);
    fflush(stderr);
    char expect[600];
    snprintf(expect, sizeof expect,
             "forksan: %s/7.0.trace: trace format version 9, this forksan reads version 1\n", dir);
    cr_assert_stderr_eq_str(expect);
    fs_model_release(&m);
    char path[600];
    snprintf(path, sizeof path, "%s/7.0.trace", dir);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(rmdir(dir), 0);
}

Test(model, load_dir_names_symlinks_and_fifos, .init = cr_redirect_stderr)
{
    char dir[] = "/tmp/forksan-test-model-XXXXXX", path[600], expect[1400];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/8.0.trace", dir);
    cr_assert_eq(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/9.0.trace", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    struct fs_model m = {0};
    fs_diag_set_quiet(false);
    cr_assert_eq(fs_model_load_dir(dir, &m), 0);
    fflush(stderr);
    snprintf(expect, sizeof expect,
             "forksan: %s/8.0.trace: a symbolic link, not a trace file; skipped\n"
             "forksan: %s/9.0.trace: a FIFO, not a trace file; skipped\n",
             dir, dir);
    cr_assert_stderr_eq_str(expect);
    cr_assert_eq(m.nimages, 0);
    fs_model_release(&m);
    cr_assert_eq(unlink(path), 0);
    snprintf(path, sizeof path, "%s/8.0.trace", dir);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(rmdir(dir), 0);
}

Test(model, load_dir_missing_directory_fails)
{
    struct fs_model m = {0};
    cr_assert_eq(fs_model_load_dir("/nonexistent/forksan/dir", &m), -1);
    cr_assert_eq(m.nimages, 0);
}

/* Deadlock records and hang files (child-deadlock, child-hang). */

#define HANG_4242                                                                                  \
    "forksan-trace version=1 pid=4242\n"                                                           \
    "hang pid=4242 ppid=4200 comm=main exe=/tmp/a.out after=2.5 attached=1 error=\n"               \
    "mod start=55d0c0a00000 end=55d0c0a05000 bias=55d0c0a00000 buildid=1f2e path=/tmp/a.out\n"     \
    "mod start=7f00aa000000 end=7f00aa200000 bias=7f00aa000000 buildid= path=/lib/libc.so.6\n"     \
    "hangthread tid=4242 name=main state=S wchan=futex_wait_queue "                                \
    "frames=7f00aa091234,55d0c0a01500,55d0c0a01600\n"                                              \
    "hangthread tid=4244 name=my%20worker state=R wchan= frames=\n"

Test(model, deadlock_records_are_parsed)
{
    struct fs_model m = {0};
    fx_add(&m, "4242.0.trace",
           CHILD_HEAD(4242, 1) THREADS
           "deadlock lock=55d0c0a04040 kind=mutex mode=excl holder=4201 call=pthread_mutex_lock "
           "try=0 policy=fail time=2000 frames=55d0c0a01500,7f00aa029d8f\n"
           "deadlock lock=3000 kind=rwlock holder=4201 call=pthread_rwlock_tryrdlock try=1\n");
    fs_model_link(&m);
    const struct fs_image *img = &m.images[0];
    cr_assert_not(img->damaged);
    cr_assert_eq(img->ndeadlocks, 2);
    const struct fs_deadlock_rec *d = &img->deadlocks[0];
    cr_assert_eq(d->lock, 0x55d0c0a04040ULL);
    cr_assert_eq(d->kind, 1); /* mutex */
    cr_assert_eq(d->mode, 1); /* excl */
    cr_assert_eq(d->holder, 4201);
    cr_assert_str_eq(d->call, "pthread_mutex_lock");
    cr_assert_not(d->trylock);
    cr_assert_str_eq(d->policy, "fail");
    cr_assert_eq(d->time, 2000);
    cr_assert_eq(d->frames.n, 2);
    cr_assert_eq(d->frames.pc[1], 0x7f00aa029d8fULL);
    d = &img->deadlocks[1];
    cr_assert_eq(d->kind, 2); /* rwlock */
    cr_assert(d->trylock);
    cr_assert_str_eq(d->policy, "", "unknown policy stays empty");
    cr_assert_eq(d->frames.n, 0);
    fs_model_release(&m);
}

Test(model, deadlock_record_missing_required_field_is_damage)
{
    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    fx_add(&m, "4242.0.trace",
           CHILD_HEAD(4242, 1) "deadlock lock=55d0c0a04040 kind=mutex call=pthread_mutex_lock\n"
                               "deadlock lock=1 holder=4201 call=sem_wait\n"
                               "deadlock lock=1 kind=sem holder=4201 call=sem_wait frames=x\n");
    cr_assert(m.images[0].damaged);
    cr_assert_eq(m.images[0].ndeadlocks, 0);
    cr_assert_eq(fs_diag_damage_count(), before + 1);
    fs_model_release(&m);
}

Test(model, hang_file_is_parsed)
{
    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    fx_add(&m, "4200.0.trace", PARENT_4200);
    fx_add(&m, "4242.0.trace", CHILD_HEAD(4242, 1) THREADS);
    fx_add_hang(&m, "dir/4242.hang", HANG_4242);
    fs_model_link(&m);
    cr_assert_eq(fs_diag_damage_count(), before);
    cr_assert_eq(m.nhangs, 1);
    cr_assert_eq(m.nprocs, 2, "a traced pid gets no second process");
    const struct fs_hang *h = fs_model_hang_of(&m, 4242);
    cr_assert_not_null(h);
    cr_assert_null(fs_model_hang_of(&m, 4200));
    cr_assert_str_eq(h->file, "dir/4242.hang");
    cr_assert_eq(h->pid, 4242);
    cr_assert_eq(h->ppid, 4200);
    cr_assert_str_eq(h->comm, "main");
    cr_assert_str_eq(h->exe, "/tmp/a.out");
    cr_assert_float_eq(h->after, 2.5, 1e-9);
    cr_assert(h->attached);
    cr_assert_str_eq(h->error, "");
    cr_assert_eq(h->mods.n, 2);
    cr_assert_str_eq(h->mods.mods[1].path, "/lib/libc.so.6");
    cr_assert_eq(h->mods.mods[1].bias, 0x7f00aa000000ULL);
    cr_assert_eq(h->nthreads, 2);
    cr_assert_eq(h->threads[0].tid, 4242);
    cr_assert_eq(h->threads[0].state, 'S');
    cr_assert_str_eq(h->threads[0].wchan, "futex_wait_queue");
    cr_assert_eq(h->threads[0].frames.n, 3);
    cr_assert_eq(h->threads[0].frames.pc[0], 0x7f00aa091234ULL);
    cr_assert_eq(h->threads[0].frames.pc[2], 0x55d0c0a01600ULL);
    cr_assert_str_eq(h->threads[1].name, "my worker");
    cr_assert_eq(h->threads[1].state, 'R');
    cr_assert_str_eq(h->threads[1].wchan, "");
    cr_assert_eq(h->threads[1].frames.n, 0);
    fs_model_release(&m);
    cr_assert_eq(m.nhangs, 0);
    cr_assert_null(m.hangs);
}

Test(model, hang_not_attached_keeps_the_reason)
{
    struct fs_model m = {0};
    fx_add_hang(&m, "4242.hang",
                "forksan-trace version=1 pid=4242\n"
                "hang pid=4242 ppid=4200 comm=main exe=/tmp/a.out after=10 attached=0 "
                "error=ptrace%20not%20permitted\n"
                "hangthread tid=4242 name=main state=D wchan=do_wait frames=\n");
    fs_model_link(&m);
    const struct fs_hang *h = fs_model_hang_of(&m, 4242);
    cr_assert_not_null(h);
    cr_assert_not(h->attached);
    cr_assert_str_eq(h->error, "ptrace not permitted");
    cr_assert_float_eq(h->after, 10.0, 1e-9);
    cr_assert_eq(h->mods.n, 0);
    cr_assert_eq(h->nthreads, 1);
    cr_assert_eq(h->threads[0].state, 'D');
    cr_assert_eq(h->threads[0].frames.n, 0);
    fs_model_release(&m);
}

Test(model, hang_for_an_untraced_pid_gets_a_process)
{
    struct fs_model m = {0};
    fx_add(&m, "4200.0.trace", PARENT_4200);
    /* A static program spawned by 4200: the shim never saw it. */
    fx_add_hang(&m, "dir/4250.hang",
                "forksan-trace version=1 pid=4250\n"
                "hang pid=4250 ppid=4200 comm=static exe=/tmp/static after=5 attached=1 error=\n"
                "mod start=400000 end=500000 bias=0 buildid=aa path=/tmp/static\n"
                "hangthread tid=4250 name=static state=S wchan=hrtimer_nanosleep frames=401234\n");
    /* And one whose parent is unknown too. */
    fx_add_hang(&m, "dir/9000.hang",
                "forksan-trace version=1 pid=9000\n"
                "hang pid=9000 ppid=8999 comm=lost exe=/tmp/lost after=5 attached=1 error=\n");
    fs_model_link(&m);
    cr_assert_eq(m.nimages, 1, "a hang is not a trace image");
    cr_assert_eq(m.nprocs, 3);
    struct fs_process *p = fs_model_find(&m, 4250), *parent = fs_model_find(&m, 4200);
    cr_assert_not_null(p);
    cr_assert_eq(p->parent, parent);
    cr_assert_eq(parent->nchildren, 1);
    cr_assert_eq(parent->children[0], p);
    cr_assert_str_eq(fs_process_name(p), "static");
    cr_assert_not(fs_process_execed(p));
    const struct fs_image *img = fs_process_first_image(p);
    cr_assert_not_null(img);
    cr_assert_eq(img->index, -1, "a stand-in, not a trace");
    cr_assert_null(img->snapshot);
    cr_assert_eq(img->mods.n, 1);
    cr_assert_str_eq(img->file, "dir/4250.hang");
    /* The spawn that made it is found like any other. */
    const struct fs_fork_event *e = fs_model_fork_of(&m, p);
    cr_assert_not_null(e);
    cr_assert(e->spawn);
    cr_assert_eq(fs_model_hang_of(&m, 4250)->nthreads, 1);

    struct fs_process *lost = fs_model_find(&m, 9000);
    cr_assert_not_null(lost);
    cr_assert_null(lost->parent);
    cr_assert_str_eq(fs_process_name(lost), "lost");
    /* Linking again rebuilds the same picture. */
    fs_model_link(&m);
    cr_assert_eq(m.nprocs, 3);
    cr_assert_eq(fs_model_find(&m, 4250)->parent, fs_model_find(&m, 4200));
    fs_model_release(&m);
}

Test(model, damaged_hang_file_is_reported, .init = cr_redirect_stderr)
{
    struct fs_model m = {0};
    fs_diag_set_quiet(false);
    unsigned before = fs_diag_damage_count();
    fx_add_hang(&m, "dir/4242.hang",
                "forksan-trace version=1 pid=4242\n"
                "hang pid=4242 ppid=4200 comm=main exe=/tmp/a.out after=soon attached=1\n"
                "hangthread tid=4242 name=main state=Sleeping frames=1\n"
                "hangthread tid=4243 name=w state=S frames=1,zz\n"
                "hangthread tid=4244 name=ok state=S frames=55d0c0a01500\n"
                "hangthread tid=4245 name=cut");
    fflush(stderr);
    cr_assert_stderr_eq_str("forksan: dir/4242.hang is truncated: its last record was lost\n"
                            "forksan: dir/4242.hang: 3 lines could not be read, first at line 2; "
                            "the rest was used\n");
    cr_assert_eq(fs_diag_damage_count(), before + 2);
    fs_model_link(&m);
    /* The pid comes from the file name when the hang record is lost. */
    const struct fs_hang *h = fs_model_hang_of(&m, 4242);
    cr_assert_not_null(h);
    cr_assert_eq(h->nthreads, 1);
    cr_assert_eq(h->threads[0].tid, 4244);
    cr_assert(h->attached, "threads were read");

    /* stderr was read to its end above: nothing more may be written to it. */
    fs_diag_set_quiet(true);
    struct fs_trace_file tf;
    const char *text = "forksan-trace version=1 pid=1\nhang ppid=1\n";
    cr_assert_eq(fs_trace_parse(text, strlen(text), "noname", &tf), 0);
    cr_assert_eq(fs_model_add_hang(&m, &tf), -1);
    fs_trace_release(&tf);
    cr_assert_eq(m.nhangs, 1);
    cr_assert_eq(m.unreadable, 1);
    fs_model_release(&m);
}

Test(model, load_dir_reads_hang_files)
{
    char dir[] = "/tmp/forksan-test-model-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "4200.0.trace", PARENT_4200);
    write_file(dir, "4242.0.trace", CHILD_HEAD(4242, 1) THREADS);
    write_file(dir, "4242.hang", HANG_4242);
    write_file(dir, "4300.hang", "not a trace\n");
    write_file(dir, "x.hang", HANG_4242);

    struct fs_model m = {0};
    unsigned before = fs_diag_damage_count();
    cr_assert_eq(fs_model_load_dir(dir, &m), 0);
    cr_assert_eq(m.unreadable, 1);
    cr_assert_eq(fs_diag_damage_count(), before + 1);
    cr_assert_eq(m.nimages, 2);
    cr_assert_eq(m.nhangs, 1);
    cr_assert_eq(m.nprocs, 2);
    const struct fs_hang *h = fs_model_hang_of(&m, 4242);
    cr_assert_not_null(h);
    cr_assert_not_null(strstr(h->file, "/4242.hang"));
    cr_assert_eq(h->nthreads, 2);
    fs_model_release(&m);

    const char *names[] = {"4200.0.trace", "4242.0.trace", "4242.hang", "4300.hang", "x.hang"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cr_assert_eq(unlink(path), 0, "%s", path);
    }
    cr_assert_eq(rmdir(dir), 0);
}
