/* Unit tests for the Python view: the shim's Python records (python.c's writer) read back by the
 * model (model_py.c), the rules naming Python threads and locks and demoting the interpreter's own
 * locks to notes, and the merging and folding of Python frames into native stacks (pyframes.c),
 * with the primary location in the user's code. */
#define FX_RECORDER
#include "trace_read.h"
#include "model.h"
#include "rules.h"
#include "finding.h"
#include "linebuf.h"
#include "symbolize.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(python, .init = fx_quiet);

/* The finding of hazard with that severity, or NULL. */
static const struct fs_finding *find_sev(const struct fs_findings *out, const char *hazard,
                                         enum fs_severity sev)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->items[i].hazard, hazard) == 0 && out->items[i].severity == sev)
            return &out->items[i];
    return NULL;
}

/* The parent 4200 ran CPython: main (4200, "MainThread") forked while worker 4201 ("flusher")
 * held two semaphores: a lock of the program and its own tstate lock. */
#define PY_HELD                                                                                    \
    "held tid=4201 lock=a000 kind=sem mode=excl count=1 frames=55d0c0a01130\n"                     \
    "held tid=4201 lock=b000 kind=sem mode=excl count=1 frames=55d0c0a01130\n"
#define PY_FORK                                                                                    \
    "python of=fork version=3.11.2 status=ok stdlib=/usr/lib/python3.11\n"                         \
    "pythread of=fork tid=4201 ident=7f01 name=flusher forker=0 nframes=2\n"                       \
    "pyframe of=fork tid=4201 line=59 file=/work/app.py func=flush\n"                              \
    "pyframe of=fork tid=4201 line=982 file=/usr/lib/python3.11/threading.py func=run\n"           \
    "pythread of=fork tid=4200 ident=7f02 name=MainThread forker=1 nframes=1\n"                    \
    "pyframe of=fork tid=4200 line=77 file=/work/app.py func=main\n"                               \
    "pylock lock=a000 role=user tid=0 name=__main__.cache_lock\n"                                  \
    "pylock lock=b000 role=tstate tid=4201 name=flusher\n"

Test(python, records_into_the_snapshot_and_the_deadlock)
{
    struct fs_model m = {0};
    fx_add_file(&m, "4242.0.trace",
                CHILD(4242, 1) PY_HELD PY_FORK
                "deadlock lock=a000 kind=sem mode=excl holder=4201 call=sem_trywait try=1 "
                "policy=wait time=5 frames=55d0c0a01130\n"
                "python of=deadlock version=3.11.2 status=ok stdlib=/usr/lib/python3.11\n"
                "pythread of=deadlock tid=4242 ident=7f02 name=MainThread forker=1 nframes=1\n"
                "pyframe of=deadlock tid=4242 line=65 file=/work/app.py func=worker\n",
                FX_CLEAN);
    fs_model_link(&m);
    const struct fs_py_info *py = m.images[0].snapshot->py;
    cr_assert_not_null(py);
    cr_assert_str_eq(py->version, "3.11.2");
    cr_assert_str_eq(py->stdlib, "/usr/lib/python3.11");
    cr_assert_eq(py->nthreads, 2);
    const struct fs_py_thread_rec *t = fs_py_thread_of(py, 4201);
    cr_assert_not_null(t);
    cr_assert_str_eq(t->name, "flusher");
    cr_assert_eq(t->nframes, 2);
    cr_assert_eq(t->frames[0].line, 59);
    cr_assert_str_eq(t->frames[1].func, "run");
    cr_assert(fs_py_thread_of(py, 4200)->forker);
    cr_assert_eq(fs_py_lock_of(py, 0xa000)->role, FS_PYLOCK_USER);
    cr_assert_eq(fs_py_lock_of(py, 0xb000)->role, FS_PYLOCK_TSTATE);
    cr_assert_null(fs_py_lock_of(py, 0xc000));
    const struct fs_deadlock_rec *d = &m.images[0].deadlocks[0];
    cr_assert_not_null(d->py);
    cr_assert_eq(d->py->nthreads, 1);
    cr_assert_eq(d->py->threads[0].frames[0].line, 65);
    fs_model_release(&m);
}

Test(python, a_frame_of_another_thread_is_a_bad_record)
{
    struct fs_model m = {0};
    struct fs_trace_file tf;
    const char *text = CHILD(4242, 1) "python of=fork version=3.12.1 status=ok stdlib=\n"
                                      "pythread of=fork tid=4201 ident=1 name=a forker=0\n"
                                      "pyframe of=fork tid=4200 line=1 file=x.py func=f\n";
    cr_assert_eq(fs_trace_parse(text, strlen(text), "4242.0.trace", &tf), 0);
    cr_assert_eq(fs_model_add_trace(&m, &tf), 0);
    fs_trace_release(&tf);
    cr_assert(m.images[0].damaged, "a frame that follows another thread's record is refused");
    cr_assert_eq(m.images[0].snapshot->py->threads[0].nframes, 0);
    fs_model_release(&m);
}

Test(python, the_shim_writer_reads_back)
{
    static struct fs_py_capture c; /* large: static */
    memset(&c, 0, sizeof c);
    strcpy(c.version, "3.9.18");
    const char *pool[] = {"/lib/python3.9", "app.py", "main", "worker", "MainThread", "w 1"};
    unsigned off[6];
    for (int i = 0; i < 6; i++) {
        off[i] = (unsigned)c.pool_len;
        strcpy(c.pool + c.pool_len, pool[i]);
        c.pool_len += strlen(pool[i]) + 1;
    }
    c.stdlib = off[0];
    c.nthreads = 2;
    c.threads[0] = (struct fs_py_thread){
        .tid = 10, .forker = 1, .ident = 0xabc, .name = off[4], .first = 0, .nframes = 1};
    c.threads[1] = (struct fs_py_thread){
        .tid = 11, .ident = 0xdef, .name = off[5], .first = 1, .nframes = 1};
    c.nframes = 2;
    c.frames[0] = (struct fs_py_frame){.file = off[1], .func = off[2], .line = 3};
    c.frames[1] = (struct fs_py_frame){.file = off[1], .func = FS_PY_NOSTR, .line = 7};
    c.nlocks = 1;
    c.locks[0] = (struct fs_py_lock){.addr = 0x1234, .role = FS_PY_LOCK_REINIT, .name = off[3]};
    c.lost_frames = 2;

    char buf[4096];
    struct fs_linebuf lb;
    fs_lb_init(&lb, -1, buf, sizeof buf);
    fs_py_write(&lb, &c, "fork");
    cr_assert_not(lb.failed);
    char text[8192];
    snprintf(text, sizeof text, "%s%.*s", CHILD(4242, 1), (int)lb.rec_start, buf);

    struct fs_model m = {0};
    fx_add_file(&m, "4242.0.trace", text, FX_CLEAN);
    const struct fs_py_info *py = m.images[0].snapshot->py;
    cr_assert_str_eq(py->version, "3.9.18");
    cr_assert_str_eq(py->status, "ok");
    cr_assert_str_eq(py->stdlib, "/lib/python3.9");
    cr_assert_eq(py->nthreads, 2);
    cr_assert_str_eq(py->threads[1].name, "w 1", "names with spaces survive the escaping");
    cr_assert_eq(py->threads[1].ident, 0xdef);
    cr_assert_str_eq(py->threads[0].frames[0].func, "main");
    cr_assert_str_eq(py->threads[1].frames[0].func, "", "an unknown name is empty");
    cr_assert_eq(py->threads[1].frames[0].line, 7);
    cr_assert_eq(py->locks[0].role, FS_PYLOCK_REINIT);
    cr_assert_eq(m.images[0].nlost, 1);
    cr_assert_str_eq(m.images[0].lost[0].what, "pyframes");
    fs_model_release(&m);
}

Test(python, rules_name_threads_and_locks_and_demote_the_tstate_lock)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace", CHILD(4242, 1) PY_HELD PY_FORK);
    fx_run_rules(&r);
    cr_assert_eq(fx_count(&r.out, "lock-held-at-fork"), 2);
    const struct fs_finding *user = find_sev(&r.out, "lock-held-at-fork", FS_SEV_WARNING);
    const struct fs_finding *tstate = find_sev(&r.out, "lock-held-at-fork", FS_SEV_NOTE);
    cr_assert_not_null(user);
    cr_assert_not_null(tstate, "the tstate lock is a note, not a warning");
    fx_detail_is(user, "lock_name", "__main__.cache_lock");
    fx_detail_is(user, "lock_owner", "program");
    fx_detail_is(user, "holder", "tid 4201 \"flusher\"");
    fx_detail_is(user, "forker", "tid 4200 \"MainThread\"");
    fx_detail_is(tstate, "lock_name", "tstate lock of thread \"flusher\"");
    const struct fs_stack *holder = fx_stack(user, "holder");
    cr_assert_not_null(holder);
    cr_assert_str_eq(holder->thread_name, "flusher");
    cr_assert_eq(holder->nframes, 2);
    cr_assert_eq(holder->frames[0].lang, FS_LANG_PYTHON);
    cr_assert_eq(holder->frames[0].origin, FS_ORIGIN_USER);
    cr_assert_eq(holder->frames[1].origin, FS_ORIGIN_STDLIB);
    const struct fs_stack *fork = fx_stack(user, "fork");
    cr_assert_str_eq(fork->thread_name, "MainThread");
    /* Without a symbolizer no loop frame is known: the Python frames follow the native ones. */
    cr_assert_eq(fork->nframes, 3);
    cr_assert_eq(fork->frames[2].lang, FS_LANG_PYTHON);
    cr_assert_eq(fork->frames[2].line, 77);
    fx_run_release(&r);
}

Test(python, a_python_thread_creation_site)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add_file(&r.m, "4242.0.trace",
                "forksan-trace version=1 pid=4242\n"
                "proc pid=4242 ppid=4200 origin=fork image=0 time=1000 exe=/tmp/a.out comm=a.out "
                "cmdline=./a.out\n"
                "child seq=1 parent=4200 forker=4200 via=fork time=1000 frames=55d0c0a01234\n"
                "thread tid=4200 name=main forker=1 known=1 start=0 creator=0 site=0\n"
                "thread tid=4201 name=worker forker=0 known=1 start=55d0c0a01100 arg0=0 "
                "creator=4200 site=55d0c0a01200 pyfile=/work/app.py pyline=74 pyfunc=main\n"
                "python of=fork version=3.11.2 status=ok stdlib=/usr/lib/python3.11\n",
                FX_CLEAN);
    fx_run_rules(&r);
    const struct fs_finding *f = find_sev(&r.out, "threads-at-fork", FS_SEV_WARNING);
    cr_assert_not_null(f);
    const struct fs_stack *s = fx_stack(f, "thread-created");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 2, "the native site, then the Python line");
    cr_assert_eq(s->frames[1].lang, FS_LANG_PYTHON);
    cr_assert_str_eq(s->frames[1].file, "/work/app.py");
    cr_assert_eq(s->frames[1].line, 74);
    fx_run_release(&r);
}

Test(python, a_fork_without_the_gil_says_so)
{
    struct fx_run r = {0};
    fx_add(&r.m, "4200.0.trace", PARENT);
    fx_add(&r.m, "4242.0.trace",
           CHILD(4242, 1) HELD_WORKER "python of=fork version=3.12.1 status=nogil stdlib=\n");
    fx_run_rules(&r);
    const struct fs_finding *f = find_sev(&r.out, "lock-held-at-fork", FS_SEV_WARNING);
    cr_assert_not_null(f);
    const char *why = fs_finding_detail_get(f, "python");
    cr_assert_not_null(why);
    cr_assert(strstr(why, "did not hold the GIL"), "%s", why);
    fx_run_release(&r);
}

static void native(struct fs_stack *s, const char *fn, const char *module, const char *file,
                   int line)
{
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->pc = 0x1000 + s->nframes;
    fr->function = fn ? fs_xstrdup(fn) : NULL;
    fr->module = fs_xstrdup(module);
    fr->file = file ? fs_xstrdup(file) : NULL;
    fr->line = line;
}

/* A stack as the symbolizer gives it for a Python thread inside a C extension's lock call:
 * libc, the extension, the loop of the inner Python frame, a C call, the loop of the outer one. */
static void python_stack(struct fs_finding *f)
{
    struct fs_stack *s = fs_finding_stack_add(f, "fork", 10);
    native(s, "sem_wait", "/usr/lib/x86_64-linux-gnu/libc.so.6", "sem_wait.c", 42);
    native(s, "ext_call", "/work/ext.cpython-311.so", "ext.c", 12);
    native(s, "cfunction_call", "/usr/lib/libpython3.11.so.1.0", "methodobject.c", 5);
    native(s, "_PyEval_EvalFrameDefault", "/usr/lib/libpython3.11.so.1.0", "ceval.c", 1);
    native(s, "PyObject_Call", "/usr/bin/python3.11", "call.c", 2);
    native(s, "_PyEval_EvalFrameDefault", "/usr/bin/python3.11", "ceval.c", 1);
    native(s, "main", "/usr/bin/python3.11", "main.c", 3);
}

static const struct fs_py_frame_rec pyframes[] = {
    {.file = "/usr/lib/python3.11/threading.py", .func = "wait", .line = 320},
    {.file = "/work/app.py", .func = "inner", .line = 10},
    {.file = "/work/app.py", .func = "outer", .line = 20},
};

static const struct fs_py_info pyinfo = {.stdlib = "/usr/lib/python3.11"};

Test(python, merge_places_frames_at_loops_and_folds_the_interpreter)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "threads-at-fork", FS_SEV_WARNING, 1);
    python_stack(f);
    struct fs_py_thread_rec t = {.tid = 10,
                                 .name = "MainThread",
                                 .frames = (struct fs_py_frame_rec *)pyframes,
                                 .nframes = 3};
    fs_pystack_merge(&f->stacks[0], &pyinfo, &t);
    const struct fs_stack *s = &f->stacks[0];
    /* 3 Python frames for 2 loops: the extra one goes to the innermost loop. */
    cr_assert_eq(s->nframes, 10);
    const char *order[] = {"sem_wait", "ext_call",      "cfunction_call",           "wait",
                           "inner",    "_PyEval_EvalFrameDefault", "PyObject_Call", "outer",
                           "_PyEval_EvalFrameDefault", "main"};
    for (size_t i = 0; i < 10; i++)
        cr_assert_str_eq(s->frames[i].function, order[i], "frame %zu", i);
    cr_assert_eq(s->frames[2].origin, FS_ORIGIN_INTERP);
    cr_assert_eq(s->frames[9].origin, FS_ORIGIN_INTERP, "the python executable is interpreter");
    cr_assert_eq(s->frames[3].origin, FS_ORIGIN_STDLIB);

    fs_findings_finish(&list, false);
    /* Left: libc (system), the extension (user), the three Python frames. */
    cr_assert_eq(s->nframes, 5);
    cr_assert_eq(s->folded, 5);
    cr_assert_eq(s->frames[0].origin, FS_ORIGIN_SYSTEM);
    cr_assert_str_eq(s->frames[1].function, "ext_call");
    cr_assert_str_eq(s->frames[4].function, "outer");
    /* The primary location: the innermost frame of the program, here the C extension. */
    size_t at_stack, at_frame;
    const struct fs_frame *at = fs_finding_primary(f, &at_stack, &at_frame);
    cr_assert_not_null(at);
    cr_assert_str_eq(at->function, "ext_call");
    cr_assert_eq(at_frame, 1);
    fs_findings_release(&list);
}

Test(python, native_keeps_the_interpreter_and_primary_skips_the_stdlib)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "threads-at-fork", FS_SEV_WARNING, 1);
    struct fs_stack *s = fs_finding_stack_add(f, "fork", 10);
    native(s, "fork", "/usr/lib/x86_64-linux-gnu/libc.so.6", "fork.c", 1);
    native(s, "os_fork", "/usr/bin/python3.11", "posixmodule.c", 7);
    native(s, "_PyEval_EvalFrameDefault", "/usr/bin/python3.11", "ceval.c", 1);
    struct fs_py_thread_rec t = {.tid = 10,
                                 .name = "",
                                 .frames = (struct fs_py_frame_rec *)pyframes,
                                 .nframes = 3};
    fs_pystack_merge(s, &pyinfo, &t);
    cr_assert_null(s->thread_name, "an empty Python name is no name");
    fs_findings_finish(&list, true);
    cr_assert_eq(s->nframes, 6, "--native keeps every frame");
    cr_assert_eq(s->folded, 0);
    const struct fs_frame *at = fs_finding_primary(f, NULL, NULL);
    cr_assert_not_null(at);
    cr_assert_str_eq(at->function, "inner", "threading.py is skipped for the user's frame");
    fs_findings_release(&list);
}

Test(python, hang_file_tracebacks)
{
    struct fx_run r = {0};
    fx_add_hang(&r.m, "4300.hang",
                "forksan-trace version=1 pid=4300\n"
                "hang pid=4300 ppid=1 comm=python3 exe=/usr/bin/python3.11 after=3.000 "
                "attached=1 error=\n"
                "hangthread tid=4300 name=python3 state=S wchan=pipe_read frames=\n"
                "python of=hang version= status=ok stdlib=/usr/lib/python3.11\n"
                "pythread of=hang tid=4300 ident=7f02 name= forker=0\n"
                "pyframe of=hang tid=4300 line=20 file=/work/app.py func=wait_for_job\n");
    fx_run_rules(&r);
    const struct fs_finding *f = find_sev(&r.out, "child-hang", FS_SEV_ERROR);
    cr_assert_not_null(f);
    const struct fs_stack *s = fx_stack(f, "thread");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->frames[0].lang, FS_LANG_PYTHON);
    cr_assert_eq(s->frames[0].line, 20);
    fx_run_release(&r);
}

/* ---- fork stacks of every finding of a CPython child ------------------------------------- */

/* Modules of a CPython process that exist on no machine: the symbolizer names only module and
 * offset, which is what tells the interpreter's frames from libc's. */
#define PY_MODS                                                                                    \
    "mod start=555555554000 end=555555a00000 bias=555555554000 buildid=b0b0 "                      \
    "path=/nonexistent/unit/python3.11\n"                                                          \
    "mod start=7f0000000000 end=7f00001d0000 bias=7f0000000000 buildid=c0c0 "                      \
    "path=/usr/lib/forksan-unit/libc.so.6\n"
#define PY_PROC(pid, ppid, origin)                                                                 \
    "forksan-trace version=1 pid=" #pid "\n"                                                       \
    "proc pid=" #pid " ppid=" #ppid " origin=" origin " image=0 time=1000 "                        \
    "exe=/nonexistent/unit/python3.11 comm=python3 cmdline=python3%20jobs.py\n" PY_MODS
/* os.fork() at jobs.py:12: the interpreter's frames, then libc's. */
#define PY_FORK_FRAMES "5555556001a4,555555601000,7f000002924a"
#define PY_CHILD(seq, time)                                                                        \
    "child seq=" #seq " parent=4200 forker=4200 via=fork time=" #time                              \
    " frames=" PY_FORK_FRAMES " pykey=a1 pydepth=1\n"                                              \
    "python of=fork version=3.11.2 status=ok stdlib=/usr/lib/python3.11\n"                         \
    "pythread of=fork tid=4200 ident=7f02 name=MainThread forker=1 nframes=1\n"                    \
    "pyframe of=fork tid=4200 line=12 file=/work/jobs.py func=run_job\n"
#define PY_DRAW(inherited)                                                                         \
    "draw gen=random id=0 lineage=2a seeded=1 seedpid=4200 seedsite=7f00000a1000 inherited="      \
    #inherited " pos=0 n=4 values=1,2,3,4 vtype=int call=rand site=7f00000a2000\n"

/* The Python frame of the fork, with the interpreter folded around it. */
static void assert_python_fork(const struct fs_finding *f)
{
    const struct fs_stack *s = fx_stack(f, "fork");
    cr_assert_not_null(s, "%s: no fork stack", f->hazard);
    cr_assert_str_eq(s->thread_name, "MainThread", "%s", f->hazard);
    cr_assert_gt(s->folded, 0, "%s: the interpreter's frames fold", f->hazard);
    bool python = false;
    for (size_t i = 0; i < s->nframes; i++) {
        cr_assert_str_neq(s->frames[i].module ? s->frames[i].module : "",
                          "/nonexistent/unit/python3.11", "%s: interpreter frame left",
                          f->hazard);
        python |= s->frames[i].lang == FS_LANG_PYTHON && s->frames[i].line == 12;
    }
    cr_assert(python, "%s: the fork's Python frame", f->hazard);
    const struct fs_frame *at = fs_finding_primary(f, NULL, NULL);
    cr_assert_not_null(at);
    cr_assert_str_eq(at->file, "/work/jobs.py", "%s: primary location", f->hazard);
    cr_assert_eq(at->line, 12, "%s: primary location", f->hazard);
}

Test(python, copied_state_and_rng_findings_show_the_python_fork)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                PY_PROC(4200, 1, "start")
                "seed gen=random id=0 value=2a call=srand site=7f00000a1000 time=1100\n"
                "fork seq=1 child=4242 tid=4200 via=fork time=1500 frames=" PY_FORK_FRAMES
                " pykey=a1 pydepth=1\n"
                /* A second child from the same Python line that wrote no trace: its
                 * fork stack comes from the parent's event. */
                "fork seq=2 child=4243 tid=4200 via=fork time=1600 frames=" PY_FORK_FRAMES
                " pykey=a1 pydepth=1\n" PY_DRAW(0)
                "end how=exit time=9000 forked=0 sigchld=dfl frames= handlers=\n"
                "zombie pid=4243\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                PY_PROC(4242, 4200, "fork") PY_CHILD(1, 1500)
                "stream layer=python id=7f0000b00000 fd=1 pending=13 buffering=full "
                "bytes=starting%20job%0a target=pipe:[88]\n" PY_DRAW(1)
                "refused limit=processes max=2 alive=2 forks=3 time=1700 "
                "frames=5555556001a4,7f000002924a\n"
                "end how=exit time=5000 forked=1 sigchld=dfl "
                "frames=555555603000,555555604000,7f000002924a handlers= hsites= pyatexit=1\n"
                "streamend layer=python id=7f0000b00000 still=1\n",
                FX_CLEAN);
    fs_model_link(&r.m);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    cr_assert_not_null(sym);
    fs_rules_run(&r.m, sym, &r.out);
    fs_findings_finish(&r.out, false);
    const char *hazards[] = {"rng-duplicated", "stdio-unflushed-at-fork",
                             "child-exit-runs-parent-cleanup", "unreaped-child", "fork-storm"};
    for (size_t i = 0; i < sizeof hazards / sizeof *hazards; i++) {
        cr_assert_eq(fx_count(&r.out, hazards[i]), 1, "%s", hazards[i]);
        for (size_t k = 0; k < r.out.n; k++)
            if (strcmp(r.out.items[k].hazard, hazards[i]) == 0)
                assert_python_fork(&r.out.items[k]);
    }
    /* The child's exit() and the refused fork: no Python frames left to show, the
     * interpreter's folded; libc's start stays. */
    const struct fs_finding *exit = fx_find(&r.out, "child-exit-runs-parent-cleanup", 4242);
    const struct fs_stack *s = fx_stack(exit, "exit");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->folded, 2);
    cr_assert_eq(s->frames[0].origin, FS_ORIGIN_SYSTEM);
    cr_assert_str_eq(s->thread_name, "MainThread", "the forking thread's name goes on");
    const struct fs_finding *storm = NULL;
    for (size_t k = 0; k < r.out.n; k++)
        if (strcmp(r.out.items[k].hazard, "fork-storm") == 0)
            storm = &r.out.items[k];
    s = fx_stack(storm, "refused");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 1);
    cr_assert_eq(s->folded, 1);
    fs_symbolizer_free(sym);
    fx_run_release(&r);
}

/* The tstate lock CPython re-initialises in the child: its stack folds like the others. */
Test(python, the_child_reinit_stack_folds_the_interpreter)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4242.0.trace",
                PY_PROC(4242, 4200, "fork") PY_CHILD(1, 1500)
                "held tid=4201 lock=b000 kind=sem mode=excl count=1 frames=555555660000\n"
                "pylock lock=b000 role=tstate tid=4201 name=flusher\n"
                "reinit lock=b000 kind=sem holder=4201 call=sem_destroy used=0 time=1600 "
                "frames=555555605000,555555606000,7f000002924a\n",
                FX_CLEAN);
    fs_model_link(&r.m);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    fs_rules_run(&r.m, sym, &r.out);
    fs_findings_finish(&r.out, false);
    const struct fs_finding *f = fx_find(&r.out, "lock-held-at-fork", 4242);
    cr_assert_eq(f->severity, FS_SEV_NOTE);
    const struct fs_stack *s = fx_stack(f, "child-reinit");
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 1, "libc's frame only");
    cr_assert_eq(s->folded, 2);
    cr_assert(fs_stack_folded_away(fx_stack(f, "acquire")),
              "the acquisition, inside the interpreter, folds away");
    fs_symbolizer_free(sym);
    fx_run_release(&r);
}

/* A fork made without the GIL: every finding that shows the fork says why it has no Python
 * frames, once. */
Test(python, copied_state_findings_say_when_python_stacks_are_missing)
{
    struct fx_run r = {0};
    fx_add_file(&r.m, "4200.0.trace",
                PY_PROC(4200, 1, "start")
                "fork seq=1 child=4242 tid=4200 via=fork time=1500 frames=" PY_FORK_FRAMES "\n"
                "end how=exit time=9000 forked=0 sigchld=dfl frames= handlers=\n",
                FX_CLEAN);
    fx_add_file(&r.m, "4242.0.trace",
                PY_PROC(4242, 4200, "fork")
                "child seq=1 parent=4200 forker=4200 via=fork time=1500 frames=" PY_FORK_FRAMES
                "\n"
                "python of=fork version=3.12.1 status=nogil stdlib=\n"
                "stream layer=c id=7f0000001000 fd=1 pending=6 buffering=full bytes=hello%0a "
                "target=pipe:[77]\n"
                "end how=exit time=5000 forked=1 sigchld=dfl frames=555555603000 handlers= "
                "hsites= pyatexit=1\n"
                "streamend layer=c id=7f0000001000 still=1\n",
                FX_CLEAN);
    fx_run_rules(&r);
    const char *hazards[] = {"stdio-unflushed-at-fork", "child-exit-runs-parent-cleanup"};
    for (size_t i = 0; i < 2; i++) {
        const struct fs_finding *f = fx_find(&r.out, hazards[i], 4242);
        size_t n = 0;
        for (size_t k = 0; k < f->ndetails; k++)
            n += strcmp(f->details[k].key, "python") == 0;
        cr_assert_eq(n, 1, "%s: one python detail", hazards[i]);
        cr_assert(strstr(fs_finding_detail_get(f, "python"), "did not hold the GIL"));
    }
    fx_run_release(&r);
}
