/* Lock rules (deadlock family): lock-held-at-fork and lock-held-by-forker.  The evidence is the
 * child's own copy of the parent's held-lock registry at the instant of fork, so what it says is
 * exactly what the child inherited, with no race against the parent's threads.
 *
 * Two kinds of held lock are no hazard and stay notes (docs/hazards.md): a process-shared one
 * (its holder, in the parent, can still release it) and one that the child re-initialised before
 * any use (the child's lock is then a new one; the shim's `reinit` record says so). */
#include "trace_read.h"
#include "trace_format.h"
#include "rules.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Identifies the parent for merging: its pid alone is ambiguous when pids are reused. */
static char *parent_key(const struct fs_process *c, const struct fs_fork_snapshot *s)
{
    if (c->parent)
        return fs_xasprintf("%d/%s", c->parent->pid, c->parent->images[0]->file);
    return fs_xasprintf("%d/", s->parent_pid);
}

/* The child's re-initialisation of this lock before any use of it, or NULL.  Only the image that
 * forked matters: a later image (after exec) reports no lock findings. */
static const struct fs_reinit_rec *reinit_before_use(const struct fs_image *img,
                                                     const struct fs_held_rec *h)
{
    for (size_t i = 0; i < img->nreinits; i++) {
        const struct fs_reinit_rec *r = &img->reinits[i];
        if (r->lock == h->lock && (!r->holder || r->holder == h->tid))
            return r->used ? NULL : r;
    }
    return NULL;
}

/* Whether a stack of the child runs inside CPython's own after-fork work in os.fork()
 * (PyOS_AfterFork_Child calling the registered at-fork handlers): the child's Python stack is then
 * still the forking thread's at the fork.  Needs symbols; false without them. */
static bool in_after_fork_child(const struct fs_stack *st)
{
    for (size_t i = 0; i < st->nframes; i++) {
        const char *fn = st->frames[i].function;
        if (fn && (strcmp(fn, "PyOS_AfterFork_Child") == 0 || strcmp(fn, "run_at_forkers") == 0))
            return true;
    }
    return false;
}

/* The child's re-initialisation of the lock: with the interpreter's frames folded in a CPython
 * child and, when it ran inside os.fork() itself (logging's _at_fork_reinit), the forking
 * thread's Python frames, which are the child's at that moment.  The shim records no Python
 * stack at the re-initialisation itself. */
static void add_reinit_stack(struct fs_finding *f, struct fs_symbolizer *sym,
                             const struct fs_image *img, const struct fs_reinit_rec *reinit)
{
    const struct fs_fork_snapshot *s = img->snapshot;
    size_t before = f->nstacks;
    fs_rules_stack_py(f, sym, &img->mods, "child-reinit", img->pid, &reinit->frames, s->py, NULL);
    const struct fs_py_thread_rec *forker = fs_py_thread_of(s->py, s->forker_tid);
    if (f->nstacks > before && forker && in_after_fork_child(&f->stacks[before]))
        fs_pystack_merge(&f->stacks[before], s->py, forker);
}

static void emit(const struct fs_process *c, const struct fs_held_rec *h, bool by_forker,
                 struct fs_symbolizer *sym, struct fs_findings *out, struct fs_rules_merge *mg)
{
    const struct fs_image *img = fs_process_first_image(c);
    const struct fs_fork_snapshot *s = img->snapshot;
    const char *hazard = by_forker ? "lock-held-by-forker" : "lock-held-at-fork";
    int parent_pid = c->parent ? c->parent->pid : s->parent_pid;
    const struct fs_reinit_rec *reinit = by_forker ? NULL : reinit_before_use(img, h);
    enum fs_severity sev = by_forker || h->shared || reinit ? FS_SEV_NOTE : FS_SEV_WARNING;

    char *pkey = parent_key(c, s), *acq = fs_rules_pcs_key(&h->site),
         *fork = fs_rules_pcs_key(&s->frames);
    /* A child that re-initialised the lock is not merged with one that did not. */
    char *key = fs_xasprintf("%s|%d|%s|%" PRIx64 "|%d|%s|%s", hazard, reinit != NULL, pkey, h->lock,
                             h->tid, acq, fork);
    free(pkey);
    free(acq);
    free(fork);
    if (fs_rules_merge_seen(mg, key, c->pid)) {
        free(key);
        return;
    }
    fs_rules_merge_add(mg, key, out->n, c->pid);
    free(key);

    /* A lock CPython itself forgets or re-creates in the child is no hazard: a note, with the
     * evidence kept (docs/python.md). */
    const struct fs_py_lock_rec *pl = fs_py_lock_of(s->py, h->lock);
    bool runtime = pl && (pl->role == FS_PYLOCK_TSTATE || pl->role == FS_PYLOCK_REINIT);
    struct fs_finding *f = fs_findings_add(out, hazard, runtime ? FS_SEV_NOTE : sev, c->pid);
    f->time_ns = s->time; /* the fork */
    char *kind = fs_rules_lock_kind_label(h->kind, h->mode, h->mtype);
    if (pl) {
        char *named = pl->role == FS_PYLOCK_TSTATE
                          ? fs_xasprintf("%s (tstate lock of thread \"%s\")", kind, pl->name)
                          : fs_xasprintf("%s %s", kind, pl->name);
        free(kind);
        kind = named;
    }
    char *holder = fs_rules_thread_label(s, h->tid);
    char *forker = fs_rules_thread_label(s, s->forker_tid);
    const char *shared = h->shared ? "process-shared " : "";
    if (by_forker)
        fs_finding_summary(f, "%s%s 0x%" PRIx64 " held by thread %s itself when it forked child %d",
                           shared, kind, h->lock, holder, c->pid);
    else if (h->shared)
        fs_finding_summary(f,
                           "%s%s 0x%" PRIx64 " held by thread %s when thread %s forked child %d; "
                           "the holder can still release it from the parent",
                           shared, kind, h->lock, holder, forker, c->pid);
    else if (reinit)
        fs_finding_summary(f,
                           "%s 0x%" PRIx64 " held by thread %s when thread %s forked child %d; "
                           "the child re-initialised it (%s) before using it",
                           kind, h->lock, holder, forker, c->pid, reinit->call);
    else
        fs_finding_summary(f, "%s 0x%" PRIx64 " held by thread %s when thread %s forked child %d",
                           kind, h->lock, holder, forker, c->pid);

    fs_finding_detail(f, "lock", "0x%" PRIx64, h->lock);
    fs_finding_detail(f, "kind", "%s", kind);
    fs_finding_detail(f, "mode", "%s", fs_lock_mode_name(h->mode));
    if (h->shared) {
        fs_finding_detail(f, "shared", "process-shared: not a hazard, its holder can release it");
        fs_finding_detail_as_bool(f, true);
    }
    if (reinit)
        fs_finding_detail(f, "reinit", "%s in the child before any use: not a hazard",
                          reinit->call);
    if (h->count > 1)
        fs_finding_detail_int_text(f, "count", h->count, "taken %d times", h->count);
    fs_rules_py_lock_details(f, pl);
    fs_rules_thread_detail(f, "holder", s, h->tid);
    const struct fs_thread_rec *t = fs_rules_thread_find(s, h->tid);
    if (!by_forker && t && t->start_routine) {
        char *start = fs_rules_function_name(sym, &img->mods, t->start_routine);
        fs_finding_detail(f, "holder_start", "%s", start);
        free(start);
    }
    if (!by_forker)
        fs_rules_thread_detail(f, "forker", s, s->forker_tid);
    fs_finding_detail_int(f, "parent", parent_pid);
    fs_finding_detail_int(f, "child", c->pid);
    free(kind);
    free(holder);
    free(forker);

    /* The child's modules are the parent's as they were at the fork: the right map for every
     * address the snapshot holds. */
    const struct fs_py_thread_rec *holder_py = fs_py_thread_of(s->py, h->tid);
    fs_rules_stack_py(f, sym, &img->mods, "acquire", h->tid, &h->site, s->py, NULL);
    /* Where the holder was at the fork: its Python stack (the acquisition's Python line cannot
     * be known without touching the lock hot path). */
    if (!by_forker && holder_py)
        fs_rules_stack_py(f, sym, &img->mods, "holder", h->tid, NULL, s->py, holder_py);
    fs_rules_fork_stack(f, sym, &img->mods, s);
    if (!by_forker && t)
        fs_rules_thread_created(f, sym, &img->mods, t, s->py);
    if (reinit)
        add_reinit_stack(f, sym, img, reinit);
    fs_rules_path(f, c);
}

void fs_rules_locks(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    struct fs_rules_merge mg = {0};
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *c = &m->procs[i];
        const struct fs_image *img = fs_process_first_image(c);
        if (!img || !img->forked || !img->snapshot)
            continue;
        /* A child that exec'd replaced the memory holding the inherited locks: nothing in it
         * can block on them any more (threads-at-fork still says it forked with threads). */
        if (fs_process_execed(c))
            continue;
        const struct fs_fork_snapshot *s = img->snapshot;
        for (size_t j = 0; j < s->nheld; j++)
            emit(c, &s->held[j], s->held[j].tid == s->forker_tid, sym, out, &mg);
    }
    fs_rules_merge_finish(&mg, out);
}
