/* fork-lock-race (deadlock family, predictive): a forked child, before any exec, acquired, tried
 * or waited on a lock that another parent thread, alive at the fork and absent in the child, had
 * also used.  The fork happened to land while the lock was free; at another instant the child
 * would have inherited it held, with nobody left to release it.  The shim wrote a `race` record
 * at the child's call, after excluding what cannot race (docs/hazards.md#fork-lock-race-warning);
 * here the record becomes a finding, and one whose lock the child inherited held anyway is left
 * to lock-held-at-fork and child-deadlock.  Findings identical but for the child are merged (a
 * parent forking N workers). */
#include "trace_read.h"
#include "trace_format.h"
#include "rules.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *state_name(char st)
{
    switch (st) {
    case 'R':
        return "running";
    case 'S':
        return "sleeping";
    case 'D':
        return "blocked (uninterruptible)";
    case 'T':
    case 't':
        return "stopped";
    case 'Z':
    case 'X':
        return "exiting";
    default:
        return "unknown";
    }
}

/* The lock was held at the fork by some parent thread: the existing findings speak for it. */
static bool held_at_fork(const struct fs_fork_snapshot *s, uint64_t lock)
{
    for (size_t i = 0; s && i < s->nheld; i++)
        if (s->held[i].lock == lock)
            return true;
    return false;
}

/* The child's innermost Python frame is in the program's own code (not the standard library). */
static bool program_python(const struct fs_race_rec *r)
{
    if (!r->py || !r->py->nthreads || !r->py->threads[0].nframes)
        return false;
    const char *file = r->py->threads[0].frames[0].file, *lib = r->py->stdlib;
    size_t n = lib ? strlen(lib) : 0;
    if (!file || strncmp(file, "<frozen ", 8) == 0)
        return false;
    return !(n && strncmp(file, lib, n) == 0 && file[n] == '/');
}

/* CPython's own after-fork code, before it re-creates the runtime's locks.  3.8-3.11 take the
 * interpreter list's lock (HEAD_LOCK) in _PyThreadState_DeleteExcept from PyOS_AfterFork_Child
 * and only then replace it.  3.13 clears the vanished threads' states there
 * (_PyThreadState_DeleteList), which finalizes their thread-locals: a dummy thread's
 * _DeleteDummyThreadOnDel.__del__ then takes threading's old _active_limbo_lock, which
 * threading._after_fork replaces only later.  Windows inside the interpreter that no program can
 * close: the runtime resets those locks in the child, so they are treated like the other
 * runtime-reset locks (docs/hazards.md).  Not so for a Python at-fork callback (run_at_forkers:
 * os.register_at_fork) or a finalizer of the program's own code: those are the program's.
 * Needs symbols; unsymbolized, the finding stays. */
static bool in_cpython_reinit(struct fs_symbolizer *sym, const struct fs_image *img,
                              const struct fs_race_rec *r)
{
    static const char *const fns[] = {"_PyThreadState_DeleteExcept", "_PyThreadState_DeleteList",
                                      "_PyInterpreterState_DeleteExceptMain",
                                      "_PyGILState_Reinit", "_PyEval_ReInitThreads",
                                      "PyEval_ReInitThreads", "_PyImport_ReInitLock",
                                      "_PyRuntimeState_ReInitThreads"};
    if (!sym || !r->frames.n || program_python(r))
        return false;
    struct fs_findings tmp = {0};
    struct fs_finding *f = fs_findings_add(&tmp, "scratch", FS_SEV_NOTE, 0);
    fs_rules_stack(f, sym, &img->mods, "child-acquire", 0, &r->frames);
    bool found = false;
    for (size_t i = 0; f->nstacks && i < f->stacks[0].nframes; i++) {
        const char *fn = f->stacks[0].frames[i].function;
        if (fn && strcmp(fn, "run_at_forkers") == 0)
            break; /* a Python at-fork callback, innermost of the two */
        for (size_t k = 0; fn && !found && k < sizeof fns / sizeof *fns; k++)
            found = strcmp(fn, fns[k]) == 0;
        if (found)
            break;
    }
    fs_findings_release(&tmp);
    return found;
}

static char *merge_key(const struct fs_process *c, const struct fs_fork_snapshot *s,
                       const struct fs_race_rec *r)
{
    char *fork = fs_rules_pcs_key(&s->frames), *child = fs_rules_pcs_key(&r->frames);
    char *key = fs_xasprintf("%d/%s|%" PRIx64 "|%d|%" PRIx64 "|%s|%s|%s",
                             c->parent ? c->parent->pid : s->parent_pid,
                             c->parent ? c->parent->images[0]->file : "", r->lock, r->tid,
                             r->site, r->call ? r->call : "", fork, child);
    free(fork);
    free(child);
    return key;
}

static void emit(const struct fs_process *c, const struct fs_image *img,
                 const struct fs_race_rec *r, struct fs_symbolizer *sym, struct fs_findings *out)
{
    const struct fs_image *first = fs_process_first_image(c);
    const struct fs_image *simg = img->snapshot ? img : first;
    const struct fs_fork_snapshot *s = simg->snapshot;
    const struct fs_py_info *spy = s->py;
    struct fs_finding *f = fs_findings_add(out, "fork-lock-race", FS_SEV_WARNING, c->pid);
    f->time_ns = r->time; /* the child's use of the lock */
    char *kind = fs_rules_lock_kind_label(r->kind, r->mode, -1);
    const struct fs_py_lock_rec *pl = fs_py_lock_of(spy, r->lock);
    if (pl && pl->role == FS_PYLOCK_USER) {
        char *named = fs_xasprintf("%s %s", kind, pl->name);
        free(kind);
        kind = named;
    }
    char *other = fs_rules_thread_label(s, r->tid);
    const char *call = r->call && *r->call ? r->call : "a lock function";
    fs_finding_summary(f,
                       "child %d called %s on %s 0x%" PRIx64
                       ", which thread %s also took in the parent; that thread was alive at the "
                       "fork and does not exist in the child: had the fork landed while it held "
                       "the lock, the child would wait forever",
                       c->pid, call, kind, r->lock, other);
    int parent_pid = c->parent ? c->parent->pid : s->parent_pid;
    fs_finding_detail(f, "lock", "0x%" PRIx64, r->lock);
    fs_finding_detail(f, "kind", "%s", kind);
    fs_finding_detail(f, "mode", "%s", fs_lock_mode_name(r->mode));
    fs_finding_detail(f, "call", "%s", call);
    fs_rules_py_lock_details(f, pl);
    fs_rules_thread_detail(f, "other_thread", s, r->tid);
    const struct fs_thread_rec *t = fs_rules_thread_find(s, r->tid);
    if (t && t->start_routine) {
        char *start = fs_rules_function_name(sym, &simg->mods, t->start_routine);
        fs_finding_detail(f, "other_start", "%s", start);
        free(start);
    }
    if (r->others > 0)
        fs_finding_detail_int_text(f, "other_threads", r->others,
                                   "%d more vanished thread%s used it", r->others,
                                   r->others == 1 ? "" : "s");
    fs_finding_detail(f, "other_mode", "%s", fs_lock_mode_name(r->other_mode));
    fs_finding_detail(f, "other_state", "%s (from /proc just after the fork)",
                      state_name(r->state));
    fs_finding_detail_int(f, "parent", parent_pid);
    fs_finding_detail_int(f, "child", c->pid);
    free(kind);
    free(other);

    struct fs_addrs site = {.pc = (uint64_t *)&r->site, .n = r->site ? 1 : 0};
    fs_rules_stack_py(f, sym, &simg->mods, "acquire", r->tid, &site, spy, NULL);
    const struct fs_py_thread_rec *hp = fs_py_thread_of(spy, r->tid);
    if (hp)
        fs_rules_stack_py(f, sym, &simg->mods, "holder", r->tid, NULL, spy, hp);
    fs_rules_fork_stack(f, sym, &simg->mods, s);
    const struct fs_py_info *cpy = r->py ? r->py : spy;
    fs_rules_stack_py(f, sym, &img->mods, "child-acquire", c->pid, &r->frames, cpy,
                      r->py && r->py->nthreads ? &r->py->threads[0] : NULL);
    if (t)
        fs_rules_thread_created(f, sym, &simg->mods, t, spy);
    fs_rules_path(f, c);
}

void fs_rules_race(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    struct fs_rules_merge mg = {0};
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *c = &m->procs[i];
        const struct fs_image *first = fs_process_first_image(c);
        if (!first || !first->snapshot)
            continue;
        for (size_t a = 0; a < c->nimages; a++) {
            const struct fs_image *img = c->images[a];
            const struct fs_fork_snapshot *s = img->snapshot ? img->snapshot : first->snapshot;
            for (size_t j = 0; j < img->nraces; j++) {
                const struct fs_race_rec *r = &img->races[j];
                if (held_at_fork(s, r->lock))
                    continue; /* lock-held-at-fork and child-deadlock tell it */
                if (in_cpython_reinit(sym, img, r))
                    continue;
                char *key = merge_key(c, s, r);
                if (fs_rules_merge_seen(&mg, key, c->pid)) {
                    free(key);
                    continue;
                }
                fs_rules_merge_add(&mg, key, out->n, c->pid);
                free(key);
                emit(c, img, r, sym, out);
            }
        }
    }
    fs_rules_merge_finish(&mg, out);
}
