/* child-deadlock (deadlock family): a forked child, before any exec, called a lock function on a
 * lock that its snapshot of the parent showed held by a thread that does not exist in the child.
 * The shim wrote a `deadlock` record at the call, before it could block, so this is damage seen
 * happening, not a risk: an error, or a warning for try variants, which only fail.  The finding
 * stands next to the lock-held-at-fork one of the same lock and is never merged across children:
 * each child that blocked is a hang of its own.  A try call followed by a blocking or timed call
 * on the same lock by the same thread from the same Python line is one acquisition (CPython's
 * lock acquire tries sem_trywait before it waits, both inside libpython): one finding, the later
 * call's.  Native calls stay apart: return addresses cannot tell a program's trylock-then-lock
 * fallback at one line from two calls at two lines. */
#include "trace_read.h"
#include "trace_format.h"
#include "rules.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The records of one process that are the same call on the same lock from the same stack: a
 * policy of `fail` lets the child go on and try again, which is one hazard, not several. */
struct attempt {
    const struct fs_image *img;
    const struct fs_deadlock_rec *d;
    char *key;
    int count;
    const struct fs_deadlock_rec *tried; /* the try call this one followed, or NULL */
    bool absorbed;                       /* a try call that a later call of the thread stands for */
};

/* What the shim did next; a try variant fails by itself, so only an abort adds anything. */
static const char *policy_note(const struct fs_deadlock_rec *d)
{
    const char *p = d->policy ? d->policy : "";
    if (strcmp(p, "abort") == 0)
        return " (forksan aborted the child: FORKSAN_ON_DEADLOCK=abort)";
    if (d->trylock)
        return "";
    if (strcmp(p, "wait") == 0)
        return " (the call blocks forever)";
    if (strcmp(p, "fail") == 0)
        return " (forksan made the call fail: FORKSAN_ON_DEADLOCK=fail)";
    return "";
}

/* The held record that made the lock inherited: the holder's own first, else any on that lock. */
static const struct fs_held_rec *held_of(const struct fs_fork_snapshot *s,
                                         const struct fs_deadlock_rec *d)
{
    const struct fs_held_rec *any = NULL;
    for (size_t i = 0; s && i < s->nheld; i++) {
        if (s->held[i].lock != d->lock)
            continue;
        if (s->held[i].tid == d->holder)
            return &s->held[i];
        if (!any)
            any = &s->held[i];
    }
    return any;
}

/* A try variant proper (pthread_mutex_trylock, sem_trywait, ...), not a timed one: it fails at
 * once, and callers that need the lock go on to a blocking or timed call. */
static bool pure_try(const struct fs_deadlock_rec *d)
{
    return d->trylock && d->call && strstr(d->call, "try");
}

/* The calling thread's Python stack, or NULL when the record has none. */
static const struct fs_py_thread_rec *caller_py(const struct fs_deadlock_rec *d)
{
    return d->py && d->py->nthreads && d->py->threads[0].nframes ? &d->py->threads[0] : NULL;
}

/* Both calls were made by one thread for one Python call: the same thread and Python stack. */
static bool same_python_call(const struct fs_deadlock_rec *a, const struct fs_deadlock_rec *b)
{
    const struct fs_py_thread_rec *x = caller_py(a), *y = caller_py(b);
    if (!x || !y || x->tid != y->tid || x->nframes != y->nframes)
        return false;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].line != y->frames[i].line ||
            strcmp(x->frames[i].file, y->frames[i].file) != 0 ||
            strcmp(x->frames[i].func, y->frames[i].func) != 0)
            return false;
    return true;
}

/* Marks each try call that the same thread followed, from the same Python call, with a blocking
 * or timed call on the same lock as absorbed by the first such call. */
static void absorb_tries(struct attempt *as, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!pure_try(as[k].d))
            continue;
        for (size_t j = 0; j < n; j++) {
            const struct fs_deadlock_rec *a = as[k].d, *b = as[j].d;
            if (j == k || pure_try(b) || as[j].img != as[k].img || b->lock != a->lock ||
                b->time < a->time || !same_python_call(a, b))
                continue;
            as[k].absorbed = true;
            if (!as[j].tried)
                as[j].tried = a;
            break;
        }
    }
}

static void emit(const struct fs_process *c, const struct attempt *a, struct fs_symbolizer *sym,
                 struct fs_findings *out)
{
    const struct fs_deadlock_rec *d = a->d;
    const struct fs_image *img = a->img, *first = fs_process_first_image(c);
    /* The record belongs to the image that forked; should a later image carry one, the fork
     * that made the process still explains it. */
    const struct fs_image *simg = img->snapshot ? img : first;
    const struct fs_fork_snapshot *s = simg ? simg->snapshot : NULL;
    const struct fs_held_rec *h = held_of(s, d);

    struct fs_finding *f =
        fs_findings_add(out, "child-deadlock", d->trylock ? FS_SEV_WARNING : FS_SEV_ERROR, c->pid);
    f->time_ns = d->time; /* the child's call, before it blocked */
    char *kind = fs_rules_lock_kind_label(d->kind, h ? h->mode : d->mode, h ? h->mtype : -1);
    const struct fs_py_lock_rec *pl = fs_py_lock_of(s ? s->py : NULL, d->lock);
    if (pl && pl->role == FS_PYLOCK_USER) {
        char *named = fs_xasprintf("%s %s", kind, pl->name);
        free(kind);
        kind = named;
    }
    char *holder = fs_rules_thread_label(s, d->holder);
    const char *call = d->call && *d->call ? d->call : "a lock function";
    if (d->trylock)
        fs_finding_summary(
            f, "child %d's %s failed on %s 0x%" PRIx64 ", inherited locked from thread %s%s",
            c->pid, call, kind, d->lock, holder, policy_note(d));
    else
        fs_finding_summary(f,
                           "child %d blocked in %s on %s 0x%" PRIx64
                           ", which thread %s held when the parent forked; nobody in the child "
                           "can release it%s",
                           c->pid, call, kind, d->lock, holder, policy_note(d));

    int parent_pid = c->parent ? c->parent->pid : s ? s->parent_pid : img->ppid;
    fs_finding_detail(f, "lock", "0x%" PRIx64, d->lock);
    fs_finding_detail(f, "kind", "%s", kind);
    fs_finding_detail(f, "mode", "%s", fs_lock_mode_name(d->mode));
    fs_finding_detail(f, "call", "%s", call);
    fs_rules_py_lock_details(f, pl);
    fs_rules_thread_detail(f, "holder", s, d->holder);
    const struct fs_thread_rec *t = fs_rules_thread_find(s, d->holder);
    if (t && t->start_routine) {
        char *start = fs_rules_function_name(sym, &simg->mods, t->start_routine);
        fs_finding_detail(f, "holder_start", "%s", start);
        free(start);
    }
    if (d->policy && *d->policy)
        fs_finding_detail(f, "policy", "%s", d->policy);
    fs_finding_detail_int(f, "parent", parent_pid);
    fs_finding_detail_int(f, "child", c->pid);
    /* The lock rules stay silent about a child that exec'd, so only point at what they emit. */
    if (h && !fs_process_execed(c))
        fs_finding_detail(f, "related", "%s",
                          h->tid == s->forker_tid ? "lock-held-by-forker" : "lock-held-at-fork");
    if (a->count > 1)
        fs_finding_detail_int(f, "attempts", a->count);
    if (a->tried)
        fs_finding_detail(f, "tried_first", "%s, which failed",
                          a->tried->call && *a->tried->call ? a->tried->call : "a try call");
    free(kind);
    free(holder);

    /* The child has one thread, whose tid is its pid; its modules at the call are its own. */
    const struct fs_py_info *spy = s ? s->py : NULL;
    const struct fs_py_info *cpy = d->py ? d->py : spy; /* is the child a CPython process */
    fs_rules_stack_py(f, sym, &img->mods, "child-acquire", c->pid, &d->frames, cpy,
                      d->py && d->py->nthreads ? &d->py->threads[0] : NULL);
    if (h) {
        fs_rules_stack_py(f, sym, &simg->mods, "acquire", h->tid, &h->site, spy, NULL);
        const struct fs_py_thread_rec *hp = fs_py_thread_of(spy, h->tid);
        if (hp && h->tid != s->forker_tid)
            fs_rules_stack_py(f, sym, &simg->mods, "holder", h->tid, NULL, spy, hp);
    }
    fs_rules_fork_stack(f, sym, &simg->mods, s);
    fs_rules_path(f, c);
}

static void check_process(const struct fs_process *c, struct fs_symbolizer *sym,
                          struct fs_findings *out)
{
    struct attempt *as = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->nimages; i++) {
        const struct fs_image *img = c->images[i];
        for (size_t j = 0; j < img->ndeadlocks; j++) {
            const struct fs_deadlock_rec *d = &img->deadlocks[j];
            char *pcs = fs_rules_pcs_key(&d->frames);
            char *key = fs_xasprintf("%" PRIx64 "|%s|%d|%s", d->lock, d->call ? d->call : "",
                                     d->trylock, pcs);
            free(pcs);
            size_t k = 0;
            while (k < n && strcmp(as[k].key, key) != 0)
                k++;
            if (k < n) {
                as[k].count++;
                free(key);
                continue;
            }
            as = fs_xrealloc(as, n + 1, sizeof *as);
            as[n++] = (struct attempt){.img = img, .d = d, .key = key, .count = 1};
        }
    }
    absorb_tries(as, n);
    for (size_t k = 0; k < n; k++) {
        if (!as[k].absorbed)
            emit(c, &as[k], sym, out);
        free(as[k].key);
    }
    free(as);
}

void fs_rules_deadlock(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    for (size_t i = 0; i < m->nprocs; i++)
        check_process(&m->procs[i], sym, out);
}
