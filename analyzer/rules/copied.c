/* The copied-state family: what fork copies besides locks, and the classic mistakes made with
 * it (docs/hazards.md): output buffered at fork and written twice (stdio-unflushed-at-fork), a
 * child ending through exit() and running its parent's cleanup (child-exit-runs-parent-cleanup),
 * children never waited for (unreaped-child), a child going back into its parent's fork loop
 * (child-repeats-fork), and a tree that forked past forksan's limits (fork-storm). */
#include "trace_format.h"
#include "rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

/* The image of c's parent that made the fork that created c (same fork counter and time as
 * the child's record), or NULL. */
static const struct fs_image *forking_image(const struct fs_process *c)
{
    const struct fs_image *ci = fs_process_first_image(c);
    const struct fs_process *p = c->parent;
    if (!ci || !ci->snapshot || !p)
        return NULL;
    for (size_t i = 0; i < p->nimages; i++) {
        const struct fs_image *img = p->images[i];
        for (size_t j = 0; j < img->nforks; j++)
            if (!img->forks[j].spawn && img->forks[j].seq == ci->snapshot->seq &&
                img->forks[j].time == ci->snapshot->time)
                return img;
    }
    return NULL;
}

/* The snapshot that shows the Python side of p's fork event ev: the one of the child ev made,
 * when that child was traced; else that of a traced child the same thread forked from the same
 * Python stack (same key and depth: an untraced child of a loop, the site a storm forked from).
 * *exact says whether its Python frames are ev's.  Else any child snapshot of a CPython p, whose
 * Python info still folds the interpreter's frames (*exact false).  NULL when p forked no traced
 * child from CPython. */
static const struct fs_fork_snapshot *event_snapshot(const struct fs_process *p,
                                                     const struct fs_fork_event *ev, bool *exact)
{
    const struct fs_fork_snapshot *same = NULL, *any = NULL;
    *exact = false;
    for (size_t c = 0; p && c < p->nchildren; c++) {
        const struct fs_image *ci = fs_process_first_image(p->children[c]);
        const struct fs_fork_snapshot *s = ci ? ci->snapshot : NULL;
        if (!s || !s->py)
            continue;
        if (s->seq == ev->seq && s->time == ev->time) {
            *exact = true;
            return s;
        }
        if (!same && ev->pykey && s->pykey == ev->pykey && s->pydepth == ev->pydepth &&
            s->forker_tid == ev->tid)
            same = s;
        if (!any)
            any = s;
    }
    *exact = same != NULL;
    return same ? same : any;
}

/* The "fork" stack of a fork event of p (the parent's side of a fork, when no child snapshot
 * of it is the evidence): with the Python frames of the snapshot event_snapshot finds. */
static void add_event_fork_stack(struct fs_finding *f, struct fs_symbolizer *sym,
                                 const struct fs_process *p, const struct fs_image *img,
                                 const struct fs_fork_event *ev)
{
    bool exact;
    const struct fs_fork_snapshot *s = event_snapshot(p, ev, &exact);
    const struct fs_py_info *py = s ? s->py : NULL;
    fs_rules_stack_py(f, sym, &img->mods, "fork", ev->tid, &ev->frames, py,
                      exact ? fs_py_thread_of(py, ev->tid) : NULL);
}

/* The first pending bytes as C would write them: "hello\n". Returns a malloc'd string. */
static char *quote_bytes(const char *b, size_t n, long total)
{
    size_t cap = n * 4 + 8, at = 0;
    char *out = fs_xcalloc(cap, 1);
    out[at++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '\n')
            at += (size_t)snprintf(out + at, cap - at, "\\n");
        else if (c == '\t')
            at += (size_t)snprintf(out + at, cap - at, "\\t");
        else if (c == '"' || c == '\\')
            at += (size_t)snprintf(out + at, cap - at, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            at += (size_t)snprintf(out + at, cap - at, "\\x%02x", c);
        else
            out[at++] = (char)c;
    }
    out[at++] = '"';
    if ((long)n < total)
        snprintf(out + at, cap - at, "...");
    return out;
}

static const char *stream_name(const struct fs_stream_rec *s)
{
    bool py = strcmp(s->layer, "python") == 0;
    switch (s->fd) {
    case 1:
        return py ? "sys.stdout" : "stdout";
    case 2:
        return py ? "sys.stderr" : "stderr";
    default:
        return py ? "a Python file" : "a FILE stream";
    }
}

/* ---- stdio-unflushed-at-fork ----------------------------------------------------------------- */

enum fate { FATE_UNKNOWN, FATE_WRITTEN, FATE_DISCARDED };

/* What an image did with a stream that was pending at a fork: it wrote the bytes (flushed
 * them some time, or exit() did), discarded them (_exit or exec with the bytes still there), or
 * we cannot tell (the image did not end in a way the shim saw).  A stream the image has no fate
 * for although it ended was not pending at its last fork any more: it was written before. */
static enum fate fate_of(const struct fs_image *img, const struct fs_stream_rec *s,
                         const char **how)
{
    *how = "";
    if (!img || !img->end)
        return FATE_UNKNOWN;
    *how = img->end->how;
    bool ends_clean = strcmp(img->end->how, "exit") != 0;
    for (size_t i = 0; i < img->nfates; i++) {
        const struct fs_stream_fate *f = &img->fates[i];
        if (f->id != s->id || strcmp(f->layer, s->layer) != 0)
            continue;
        return f->still && ends_clean ? FATE_DISCARDED : FATE_WRITTEN;
    }
    return FATE_WRITTEN;
}

static const char *fate_text(enum fate f, const char *how)
{
    if (f == FATE_UNKNOWN)
        return "unknown (it did not end through exit, _exit or exec while traced)";
    if (f == FATE_DISCARDED)
        return strcmp(how, "exec") == 0 ? "discarded them (exec)" : "discarded them (_exit)";
    return strcmp(how, "exit") == 0 ? "wrote them (flushed, or at exit)"
                                    : "wrote them (flushed before it ended)";
}

static void check_streams(const struct fs_process *c,
                          struct fs_symbolizer *sym, struct fs_findings *out,
                          struct fs_rules_merge *mg)
{
    const struct fs_image *ci = fs_process_first_image(c);
    if (!ci || !ci->snapshot || !ci->nstreams)
        return;
    const struct fs_image *pi = forking_image(c);
    for (size_t i = 0; i < ci->nstreams; i++) {
        const struct fs_stream_rec *s = &ci->streams[i];
        const char *chow, *phow;
        enum fate cf = fate_of(ci, s, &chow), pf = fate_of(pi, s, &phow);
        if (cf == FATE_DISCARDED)
            continue; /* only the parent can write them: once */
        bool both = cf == FATE_WRITTEN && pf == FATE_WRITTEN;
        int ppid = ci->snapshot->parent_pid;
        char *key = fs_xasprintf("stdio|%d|%s|%" PRIx64 "|%s|%d", ppid, s->layer, s->id,
                                 s->bytes, both);
        if (fs_rules_merge_seen(mg, key, c->pid)) {
            free(key);
            continue;
        }
        struct fs_finding *f = fs_findings_add(out, "stdio-unflushed-at-fork",
                                               both ? FS_SEV_ERROR : FS_SEV_WARNING, c->pid);
        f->time_ns = ci->snapshot->time; /* the fork */
        char *q = quote_bytes(s->bytes, s->nbytes, s->pending);
        const char *what = stream_name(s);
        if (both)
            fs_finding_summary(f,
                               "%ld bytes buffered in %s (fd %d) at fork were written twice, by "
                               "parent %d and by child %d: %s",
                               s->pending, what, s->fd, ppid, c->pid, q);
        else
            fs_finding_summary(f,
                               "%ld bytes were buffered in %s (fd %d) at fork: parent %d and "
                               "child %d each hold a copy to write: %s",
                               s->pending, what, s->fd, ppid, c->pid, q);
        fs_finding_detail(f, "stream", "%s", what);
        fs_finding_detail(f, "layer", "%s", strcmp(s->layer, "python") == 0
                                                ? "Python io (above libc)"
                                                : "C stdio");
        fs_finding_detail_int(f, "fd", s->fd);
        if (*s->target)
            fs_finding_detail(f, "target", "%s", s->target);
        fs_finding_detail(f, "buffering", "%s", s->buffering);
        fs_finding_detail_int(f, "pending_bytes", s->pending);
        fs_finding_detail(f, "first_bytes", "%s", q);
        fs_finding_detail_int(f, "parent", ppid);
        fs_finding_detail_int(f, "child", c->pid);
        fs_finding_detail(f, "parent_did", "%s", fate_text(pf, phow));
        fs_finding_detail(f, "child_did", "%s", fate_text(cf, chow));
        free(q);
        fs_rules_fork_stack(f, sym, &ci->mods, ci->snapshot);
        fs_rules_path(f, c);
        fs_rules_merge_add(mg, key, out->n - 1, c->pid);
        free(key);
    }
}

/* ---- child-exit-runs-parent-cleanup -------------------------------------------------------- */

/* The exit stack is taken in the shim's destructor: drop the frames of the exit machinery (the
 * shim, the dynamic linker's fini, libc's exit) so that the stack starts at the exit() call or the
 * return from main.  Only when symbolized; offline without symbols every frame stays. */
static void trim_exit_machinery(struct fs_stack *s)
{
    static const char *const machinery[] = {"exit", "__GI_exit", "__run_exit_handlers"};
    size_t cut = 0;
    for (size_t i = 0; i < s->nframes; i++)
        for (size_t k = 0; k < sizeof machinery / sizeof *machinery; k++)
            if (s->frames[i].function && strcmp(s->frames[i].function, machinery[k]) == 0)
                cut = i + 1;
    if (!cut || cut >= s->nframes)
        return;
    for (size_t i = 0; i < cut; i++) {
        free(s->frames[i].function);
        free(s->frames[i].file);
        free(s->frames[i].module);
    }
    memmove(s->frames, s->frames + cut, (s->nframes - cut) * sizeof *s->frames);
    s->nframes -= cut;
}

static const struct fs_module *module_of(const struct fs_modmap *mods, uint64_t pc)
{
    for (size_t i = 0; i < mods->n; i++)
        if (pc >= mods->mods[i].start && pc < mods->mods[i].end)
            return &mods->mods[i];
    return NULL;
}

/* A handler that is a library's cleanup of its own state, not the program's: listed, but not a
 * reason for a finding by itself.  Either its function is in a system library (libc's,
 * libstdc++'s, libcrypto's OPENSSL_cleanup), or a shared library registered one of its own
 * functions itself (the registration site is in the same module, which is not the program's
 * executable): OpenSSL on first use, mimalloc inside libpython 3.13 at start-up.  A program that
 * registers a library's function (atexit(SDL_Quit) in main) registers from its own code, and
 * counts. */
static bool runtime_handler(const struct fs_image *img, uint64_t fn, uint64_t site)
{
    const struct fs_module *m = module_of(&img->mods, fn);
    if (!m)
        return false;
    const char *p = m->path ? m->path : "";
    if (strncmp(p, "/lib/", 5) == 0 || strncmp(p, "/lib64/", 7) == 0 ||
        strncmp(p, "/usr/lib/", 9) == 0 || strncmp(p, "/usr/lib64/", 11) == 0)
        return true;
    return site && module_of(&img->mods, site) == m && *p && img->exe && strcmp(p, img->exe) != 0;
}

static void check_exit(const struct fs_process *c, struct fs_symbolizer *sym,
                       struct fs_findings *out, struct fs_rules_merge *mg)
{
    const struct fs_image *ci = fs_process_first_image(c);
    if (!ci || !ci->snapshot || ci->execed || !ci->end || !ci->end->forked ||
        strcmp(ci->end->how, "exit") != 0)
        return;
    const struct fs_end_rec *e = ci->end;
    size_t flushed = 0;
    long flushed_bytes = 0;
    for (size_t i = 0; i < ci->nstreams; i++) {
        const char *how;
        if (fate_of(ci, &ci->streams[i], &how) == FATE_WRITTEN) {
            flushed++;
            flushed_bytes += ci->streams[i].pending;
        }
    }
    size_t own = 0;
    for (size_t i = 0; i < e->handlers.n; i++)
        own += !runtime_handler(ci, e->handlers.pc[i],
                                i < e->hsites.n ? e->hsites.pc[i] : 0);
    if (!own && e->pyatexit <= 0 && !flushed)
        return;
    /* One finding per exit site and set of handlers: every child of a job loop that ends the
     * same way is the same mistake. */
    char *pcs = fs_rules_pcs_key(&e->frames), *hs = fs_rules_pcs_key(&e->handlers);
    char *key = fs_xasprintf("exit|%s|%s|%ld", pcs, hs, e->pyatexit);
    free(pcs);
    free(hs);
    if (fs_rules_merge_seen(mg, key, c->pid)) {
        free(key);
        return;
    }
    struct fs_finding *f =
        fs_findings_add(out, "child-exit-runs-parent-cleanup", FS_SEV_WARNING, c->pid);
    f->time_ns = e->time; /* the child's end */
    char *names = fs_xstrdup("");
    for (size_t i = 0; i < e->handlers.n; i++) {
        char *fn = fs_rules_function_name(sym, &ci->mods, e->handlers.pc[i]);
        char *joined = fs_xasprintf("%s%s%s", names, *names ? ", " : "", fn);
        free(fn);
        free(names);
        names = joined;
    }
    char *ran = fs_xstrdup("");
    if (e->handlers.n) {
        char *t = fs_xasprintf("%zu exit handler%s registered by its parent (%s)", e->handlers.n,
                               e->handlers.n > 1 ? "s" : "", names);
        free(ran);
        ran = t;
    }
    if (e->pyatexit > 0) {
        char *t = fs_xasprintf("%s%s%ld Python atexit callback%s", ran, *ran ? ", " : "",
                               e->pyatexit, e->pyatexit > 1 ? "s" : "");
        free(ran);
        ran = t;
    }
    if (flushed) {
        char *t = fs_xasprintf("%s%sthe %ld bytes of output it inherited unflushed", ran,
                               *ran ? ", and " : "", flushed_bytes);
        free(ran);
        ran = t;
    }
    fs_finding_summary(f,
                       "child %d ended through exit() instead of _exit(), running %s; a forked "
                       "child that does not exec should end with _exit() (os._exit() in Python)",
                       c->pid, ran);
    fs_finding_detail_int(f, "child", c->pid);
    fs_finding_detail_int(f, "parent", ci->snapshot->parent_pid);
    if (e->handlers.n) {
        fs_finding_detail(f, "inherited_handlers", "%s", names);
        fs_finding_detail_int(f, "handler_count", (long long)e->handlers.n);
    }
    if (e->pyatexit > 0)
        fs_finding_detail_int(f, "python_atexit_callbacks", e->pyatexit);
    for (size_t i = 0; i < ci->nstreams; i++) {
        const char *how;
        if (fate_of(ci, &ci->streams[i], &how) != FATE_WRITTEN)
            continue;
        char *q = quote_bytes(ci->streams[i].bytes, ci->streams[i].nbytes, ci->streams[i].pending);
        struct fs_kv *fl = fs_finding_item(f, "flushed", "flushed", "%s (fd %d): %ld bytes %s",
                                           stream_name(&ci->streams[i]), ci->streams[i].fd,
                                           ci->streams[i].pending, q);
        fs_kv_str(fl, "stream", stream_name(&ci->streams[i]));
        fs_kv_int(fl, "fd", ci->streams[i].fd);
        fs_kv_int(fl, "bytes", ci->streams[i].pending);
        fs_kv_str(fl, "first_bytes", q);
        free(q);
    }
    free(names);
    free(ran);
    size_t before = f->nstacks;
    /* A CPython child's Python frames are gone by the time exit() runs (SystemExit has
     * unwound them): its exit stack is the interpreter's, folded; the fork stack below carries
     * the program's line. */
    fs_rules_stack_py(f, sym, &ci->mods, "exit", c->pid, &e->frames, ci->snapshot->py, NULL);
    if (f->nstacks > before) {
        struct fs_stack *st = &f->stacks[before];
        trim_exit_machinery(st);
        /* The child's one thread goes on as the forking thread, under its threading name. */
        const struct fs_py_thread_rec *forker =
            fs_py_thread_of(ci->snapshot->py, ci->snapshot->forker_tid);
        if (!st->thread_name && forker && forker->name && *forker->name)
            st->thread_name = fs_xstrdup(forker->name);
    }
    for (size_t i = 0; i < e->hsites.n; i++) {
        struct fs_addrs one = {.pc = &e->hsites.pc[i], .n = 1};
        fs_rules_stack(f, sym, &ci->mods, "handler-registered", 0, &one);
    }
    fs_rules_fork_stack(f, sym, &ci->mods, ci->snapshot);
    fs_rules_path(f, c);
    fs_rules_merge_add(mg, key, out->n - 1, c->pid);
    free(key);
}

/* ---- unreaped-child -------------------------------------------------------------------------- */

static void check_zombies(const struct fs_model *m, const struct fs_process *p,
                          struct fs_symbolizer *sym, struct fs_findings *out)
{
    const struct fs_image *last = p->nimages ? p->images[p->nimages - 1] : NULL;
    if (!last || !last->end || !last->end->nzombies)
        return;
    const struct fs_end_rec *e = last->end;
    struct fs_finding *f = fs_findings_add(out, "unreaped-child", FS_SEV_WARNING, p->pid);
    f->time_ns = e->time; /* the parent's end, its children still zombies */
    char *list = fs_xstrdup("");
    long long *zpids = fs_xcalloc(e->nzombies, sizeof *zpids);
    for (size_t i = 0; i < e->nzombies; i++) {
        char *t = fs_xasprintf("%s%s%d", list, *list ? ", " : "", e->zombies[i]);
        free(list);
        list = t;
        zpids[i] = e->zombies[i];
    }
    fs_finding_summary(f,
                       "process %d ended (%s) without waiting for %zu child%s (%s): each stayed a "
                       "zombie until then",
                       p->pid, e->how, e->nzombies, e->nzombies > 1 ? "ren" : "", list);
    fs_finding_detail_int(f, "parent", p->pid);
    fs_finding_detail_ints(f, "children", zpids, e->nzombies, "%s", list);
    free(zpids);
    fs_finding_detail(f, "sigchld", "%s", e->sigchld);
    free(list);
    bool stacked = false;
    for (size_t i = 0; i < e->nzombies; i++) {
        const struct fs_process *c = fs_model_find(m, e->zombies[i]);
        const struct fs_image *ci = c ? fs_process_first_image(c) : NULL;
        const struct fs_image *cl = c && c->nimages ? c->images[c->nimages - 1] : NULL;
        struct fs_kv *z;
        if (cl && cl->end && cl->end->time <= e->time) {
            double secs = (double)(e->time - cl->end->time) / 1e9;
            z = fs_finding_item(f, "zombies", "zombie", "%d for %.3f s (it ended through %s)",
                                c->pid, secs, cl->end->how);
            fs_kv_int(z, "pid", c->pid);
            fs_kv_real(z, "zombie_seconds", secs);
            fs_kv_str(z, "ended_through", cl->end->how);
        } else {
            z = fs_finding_item(f, "zombies", "zombie", "%d (when it ended is not known)",
                                e->zombies[i]);
            fs_kv_int(z, "pid", e->zombies[i]);
            fs_kv_str(z, "ended_through", NULL);
        }
        if (!stacked && ci && ci->snapshot) {
            fs_rules_fork_stack(f, sym, &ci->mods, ci->snapshot);
            stacked = true;
        }
    }
    /* A child that ended at once without anything to record wrote no trace: its fork is the
     * parent's last one no traced child accounts for. */
    for (size_t k = p->nimages; !stacked && k-- > 0;) {
        const struct fs_image *img = p->images[k];
        for (size_t j = img->nforks; !stacked && j-- > 0;) {
            const struct fs_fork_event *ev = &img->forks[j];
            bool traced = false;
            for (size_t c = 0; c < p->nchildren && !traced; c++) {
                const struct fs_image *ci = fs_process_first_image(p->children[c]);
                traced = ci && ci->snapshot && ci->snapshot->seq == ev->seq &&
                         ci->snapshot->time == ev->time;
            }
            if (ev->spawn || traced)
                continue;
            add_event_fork_stack(f, sym, p, img, ev);
            stacked = true;
        }
    }
    fs_rules_path(f, p);
}

/* Whether a traced child of p accounts for fork event ev. */
static bool fork_traced(const struct fs_process *p, const struct fs_fork_event *ev)
{
    for (size_t c = 0; c < p->nchildren; c++) {
        const struct fs_image *ci = fs_process_first_image(p->children[c]);
        if (ci && ci->snapshot && ci->snapshot->seq == ev->seq && ci->snapshot->time == ev->time)
            return true;
    }
    return false;
}

/* The fork that created the child reaped by r: the child's own record when it was traced, else
 * the parent's last fork before the child ended that no traced child accounts for (a child that
 * ended at once with nothing to record wrote no trace; fork records do not carry the child's
 * pid).  Added as the finding's "fork" stack; false when neither is known. */
static bool fork_stack_of(const struct fs_model *m, const struct fs_process *p,
                          const struct fs_late_reap *r, struct fs_symbolizer *sym,
                          struct fs_finding *f)
{
    const struct fs_process *c = fs_model_find(m, r->pid);
    const struct fs_image *ci = c ? fs_process_first_image(c) : NULL;
    if (ci && ci->snapshot && c->parent == p) {
        fs_rules_fork_stack(f, sym, &ci->mods, ci->snapshot);
        return true;
    }
    const struct fs_fork_event *best = NULL;
    const struct fs_image *best_img = NULL;
    int64_t ended = r->time - r->zombie_ns;
    for (size_t k = 0; k < p->nimages; k++)
        for (size_t j = 0; j < p->images[k]->nforks; j++) {
            const struct fs_fork_event *ev = &p->images[k]->forks[j];
            if (ev->spawn || ev->time > ended || fork_traced(p, ev) ||
                (best && best->time >= ev->time))
                continue;
            best = ev;
            best_img = p->images[k];
        }
    if (!best)
        return false;
    add_event_fork_stack(f, sym, p, best_img, best);
    return true;
}

/* A parent that ran on while children it had forked were zombies, and reaped them only after the
 * threshold: the shim's `reaped` records (hooks_wait.c).  One finding per parent. */
static void check_late_reaps(const struct fs_model *m, const struct fs_process *p,
                             struct fs_symbolizer *sym, struct fs_findings *out)
{
    size_t n = 0;
    const struct fs_late_reap *worst = NULL;
    for (size_t k = 0; k < p->nimages; k++)
        for (size_t i = 0; i < p->images[k]->nlate_reaps; i++) {
            const struct fs_late_reap *r = &p->images[k]->late_reaps[i];
            n++;
            if (!worst || r->zombie_ns > worst->zombie_ns)
                worst = r;
        }
    if (!n)
        return;
    struct fs_finding *f = fs_findings_add(out, "unreaped-child", FS_SEV_WARNING, p->pid);
    f->time_ns = worst->time; /* the reap that came last after the longest wait */
    fs_finding_summary(f,
                       "process %d ran on without waiting for %zu ended child%s: child %d stayed "
                       "a zombie for %.3f s before it was reaped (threshold %.3f s)",
                       p->pid, n, n > 1 ? "ren" : "", worst->pid, (double)worst->zombie_ns / 1e9,
                       (double)worst->threshold_ns / 1e9);
    fs_finding_detail(f, "parent", "%d", p->pid);
    fs_finding_detail(f, "threshold", "%.3f s", (double)worst->threshold_ns / 1e9);
    bool stacked = false;
    size_t listed = 0;
    for (size_t k = 0; k < p->nimages; k++)
        for (size_t i = 0; i < p->images[k]->nlate_reaps; i++) {
            const struct fs_late_reap *r = &p->images[k]->late_reaps[i];
            if (listed++ < 16)
                fs_finding_detail(f, "zombie", "%d for %.3f s, then reaped", r->pid,
                                  (double)r->zombie_ns / 1e9);
            if (!stacked)
                stacked = fork_stack_of(m, p, r, sym, f);
        }
    if (listed > 16)
        fs_finding_detail(f, "zombies_not_listed", "%zu", listed - 16);
    fs_rules_path(f, p);
}

/* ---- child-repeats-fork ---------------------------------------------------------------------- */

/* Two forks from the same place: the same Python stack when both were made from Python (every
 * Python call site has the same native stack, the interpreter's loop), else the same native
 * stack.  Helper "py" will record the Python frames themselves; they then replace the key. */
static bool same_site(const struct fs_addrs *a, uint64_t pykey_a, int depth_a,
                      const struct fs_addrs *b, uint64_t pykey_b, int depth_b, bool python)
{
    if (pykey_a || pykey_b)
        return pykey_a == pykey_b && depth_a == depth_b;
    if (python || !a->n || a->n != b->n)
        return false; /* a Python process without Python stacks: no verdict */
    return memcmp(a->pc, b->pc, a->n * sizeof *a->pc) == 0;
}

/* A fork site as a merge key, compared the way same_site compares: by the Python stack when
 * there is one (the native stack of one Python call site varies: the interpreter's loop reaches
 * os.fork through a generic or a specialised call, 3.11+), else by the native stack. */
static char *fork_site_key(const struct fs_addrs *frames, uint64_t pykey, int pydepth)
{
    if (pykey)
        return fs_xasprintf("py:%" PRIx64 ":%d", pykey, pydepth);
    return fs_rules_pcs_key(frames);
}

static bool is_python(const struct fs_image *img)
{
    const char *exe = img->exe ? strrchr(img->exe, '/') : NULL;
    exe = exe ? exe + 1 : img->exe ? img->exe : "";
    return strncmp(exe, "python", 6) == 0;
}

/* The fork c made from the same site as the fork that created it, or NULL. */
static const struct fs_fork_event *repeat_of(const struct fs_process *c)
{
    const struct fs_image *ci = fs_process_first_image(c);
    if (!ci || !ci->snapshot)
        return NULL;
    const struct fs_fork_snapshot *s = ci->snapshot;
    for (size_t j = 0; j < ci->nforks; j++) {
        const struct fs_fork_event *e = &ci->forks[j];
        if (!e->spawn && same_site(&s->frames, s->pykey, s->pydepth, &e->frames, e->pykey,
                                   e->pydepth, is_python(ci)))
            return e;
    }
    return NULL;
}

/* Processes below p created from that site, and the longest chain of them.  Iterative: a trace
 * directory can describe a chain of any depth (a real runaway loop, or a hostile one). */
struct cascade_item {
    const struct fs_process *p;
    int depth;
};

static void count_cascade(const struct fs_process *top, const struct fs_fork_snapshot *site,
                          size_t *procs, int *generations)
{
    size_t n = 0, cap = 16;
    struct cascade_item *stack = fs_xcalloc(cap, sizeof *stack);
    stack[n++] = (struct cascade_item){top, 0};
    while (n) {
        struct cascade_item it = stack[--n];
        if (it.depth > *generations)
            *generations = it.depth;
        for (size_t i = 0; i < it.p->nchildren; i++) {
            const struct fs_process *c = it.p->children[i];
            const struct fs_image *ci = fs_process_first_image(c);
            if (!ci || !ci->snapshot ||
                !same_site(&ci->snapshot->frames, ci->snapshot->pykey, ci->snapshot->pydepth,
                           &site->frames, site->pykey, site->pydepth, is_python(ci)))
                continue;
            (*procs)++;
            if (n == cap) {
                cap *= 2;
                stack = fs_xrealloc(stack, cap, sizeof *stack);
            }
            stack[n++] = (struct cascade_item){c, it.depth + 1};
        }
    }
    free(stack);
}

static void check_repeat(const struct fs_process *c, struct fs_symbolizer *sym,
                         struct fs_findings *out, struct fs_rules_merge *mg)
{
    if (!repeat_of(c))
        return;
    /* Reported once per loop, at the top of the cascade: the children whose parent did not
     * itself repeat its creator's fork, merged. */
    if (c->parent && repeat_of(c->parent))
        return;
    const struct fs_image *ci = fs_process_first_image(c);
    const struct fs_process *origin = c->parent;
    char *site = fork_site_key(&ci->snapshot->frames, ci->snapshot->pykey, ci->snapshot->pydepth);
    char *key = fs_xasprintf("repeat|%d|%s", origin ? origin->pid : 0, site);
    free(site);
    if (fs_rules_merge_seen(mg, key, c->pid)) {
        free(key);
        return;
    }
    size_t procs = 0;
    int generations = 0;
    if (origin)
        count_cascade(origin, ci->snapshot, &procs, &generations);
    struct fs_finding *f = fs_findings_add(out, "child-repeats-fork", FS_SEV_WARNING, c->pid);
    f->time_ns = repeat_of(c)->time; /* the child's own fork from its creator's site */
    fs_finding_summary(f,
                       "child %d called fork again from the same call site and stack as the fork "
                       "that created it: it went back into its parent's loop instead of exiting "
                       "(%d generations, %zu processes forked from this site)",
                       c->pid, generations, procs);
    fs_finding_detail_int(f, "child", c->pid);
    fs_finding_detail_int(f, "parent", ci->snapshot->parent_pid);
    fs_finding_detail_int(f, "generations", generations);
    fs_finding_detail_int(f, "processes", (long long)procs);
    fs_finding_detail(f, "compared", "%s",
                      ci->snapshot->pykey ? "Python stacks" : "native stacks");
    fs_rules_fork_stack(f, sym, &ci->mods, ci->snapshot);
    fs_rules_path(f, c);
    fs_rules_merge_add(mg, key, out->n - 1, c->pid);
    free(key);
}

/* ---- fork-storm ------------------------------------------------------------------------------ */

static int depth_of(const struct fs_process *p)
{
    int d = 0;
    for (; p && p->parent && d < 4096; p = p->parent) /* bounded, should a damaged tree be deep */
        d++;
    return d;
}

static int cmp_site(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_storm(const struct fs_model *m, struct fs_symbolizer *sym,
                        struct fs_findings *out)
{
    const struct fs_refused *first = NULL;
    const struct fs_process *first_p = NULL;
    size_t nrefused = 0, nprocs_refused = 0;
    bool by_procs = false, by_forks = false;
    long max_procs = 0, max_forks = 0;
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *p = &m->procs[i];
        bool any = false;
        for (size_t k = 0; k < p->nimages; k++)
            for (size_t r = 0; r < p->images[k]->nrefused; r++) {
                const struct fs_refused *x = &p->images[k]->refused[r];
                nrefused++;
                any = true;
                if (strcmp(x->limit, "forks") == 0) {
                    by_forks = true;
                    max_forks = x->max;
                } else {
                    by_procs = true;
                    max_procs = x->max;
                }
                if (!first || x->time < first->time) {
                    first = x;
                    first_p = p;
                }
            }
        nprocs_refused += any;
    }
    if (!first)
        return;
    /* The site that forked most, over every fork event of the tree: keys sorted, runs
     * counted. */
    struct site {
        char *key;
        const struct fs_fork_event *e;
        const struct fs_image *img;
        const struct fs_process *p;
    } *sites = NULL;
    size_t total = 0;
    int generations = 0;
    for (size_t i = 0; i < m->nprocs; i++) {
        int d = depth_of(&m->procs[i]);
        if (d > generations)
            generations = d;
        for (size_t k = 0; k < m->procs[i].nimages; k++) {
            const struct fs_image *img = m->procs[i].images[k];
            for (size_t j = 0; j < img->nforks; j++) {
                const struct fs_fork_event *e = &img->forks[j];
                if (e->spawn)
                    continue;
                sites = fs_xrealloc(sites, total + 1, sizeof *sites);
                sites[total].key = fork_site_key(&e->frames, e->pykey, e->pydepth);
                sites[total].e = e;
                sites[total].img = img;
                sites[total].p = &m->procs[i];
                total++;
            }
        }
    }
    if (total)
        qsort(sites, total, sizeof *sites, cmp_site);
    size_t top_at = 0, top_n = 0;
    for (size_t i = 0; i < total;) {
        size_t j = i;
        while (j < total && strcmp(sites[j].key, sites[i].key) == 0)
            j++;
        if (j - i > top_n) {
            top_n = j - i;
            top_at = i;
        }
        i = j;
    }
    /* For a site in Python, the fork shown is one whose child was traced, when there is one: its
     * snapshot holds the Python frames of the site. */
    size_t shown = top_at;
    for (size_t i = top_at; top_n && sites[top_at].e->pykey && i < top_at + top_n; i++) {
        bool exact;
        if (event_snapshot(sites[i].p, sites[i].e, &exact) && exact) {
            shown = i;
            break;
        }
    }
    const struct fs_fork_event *top = top_n ? sites[shown].e : NULL;
    const struct fs_image *top_img = top_n ? sites[shown].img : NULL;
    const struct fs_process *top_p = top_n ? sites[shown].p : NULL;
    for (size_t i = 0; i < total; i++)
        free(sites[i].key);
    const struct fs_process *root = first_p;
    while (root->parent)
        root = root->parent;
    struct fs_finding *f = fs_findings_add(out, "fork-storm", FS_SEV_ERROR, root->pid);
    f->time_ns = first->time; /* the first fork refused */
    char *limits = by_procs && by_forks
                       ? fs_xasprintf("--max-processes %ld and --max-forks %ld", max_procs,
                                      max_forks)
                   : by_procs ? fs_xasprintf("--max-processes %ld", max_procs)
                              : fs_xasprintf("--max-forks %ld", max_forks);
    fs_finding_summary(f,
                       "the process tree forked past %s: forksan made %zu fork%s fail with "
                       "EAGAIN in %zu process%s; the site that forked most made %zu of the "
                       "%zu forks recorded",
                       limits, nrefused, nrefused > 1 ? "s" : "", nprocs_refused,
                       nprocs_refused > 1 ? "es" : "", top_n, total);
    fs_finding_detail(f, "limit", "%s", limits);
    fs_finding_detail_int_text(f, "refused", (long long)nrefused,
                               "%zu (at most 4 recorded per process)", nrefused);
    fs_finding_detail_int(f, "processes_refused", (long long)nprocs_refused);
    fs_finding_detail_int(f, "processes_traced", (long long)m->nprocs);
    fs_finding_detail_int(f, "generations", generations);
    fs_finding_detail_int(f, "forks_recorded", (long long)total);
    fs_finding_detail_int(f, "top_site_forks", (long long)top_n);
    free(limits);
    if (top)
        add_event_fork_stack(f, sym, top_p, top_img, top);
    free(sites);
    const struct fs_image *fi = first_p->nimages ? first_p->images[first_p->nimages - 1] : NULL;
    /* A refused fork made no child, so no Python frames; a CPython process's own snapshot still
     * folds the interpreter's frames. */
    if (fi)
        fs_rules_stack_py(f, sym, &fi->mods, "refused", first_p->pid, &first->frames,
                          fi->snapshot ? fi->snapshot->py : NULL, NULL);
    fs_rules_path(f, first_p);
}

/* ---- fd-inherited ---------------------------------------------------------------------------- */

static bool in_list(const char *list, int fd)
{
    for (const char *p = list ? list : ""; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v == fd)
            return true;
        p = *end == ',' ? end + 1 : end;
    }
    return false;
}

/* The image that started the chain E belongs to: E itself when it began with a start (an exec
 * or the run's root), else, through the forks that made it, the ancestor image that did. Its
 * `fd` records are what came into the chain from outside; a fork copies them. */
static const struct fs_image *chain_start(const struct fs_process *q, const struct fs_image *e)
{
    for (int guard = 0; e && guard < 4096; guard++) {
        if (!e->forked)
            return e;
        const struct fs_image *up = forking_image(q);
        q = q->parent;
        e = up;
    }
    return NULL;
}

static bool had_fd(const struct fs_image *start, const struct fs_fd_rec *fd)
{
    for (size_t i = 0; start && i < start->nfds; i++)
        if (start->fds[i].fd == fd->fd && strcmp(start->fds[i].target, fd->target) == 0)
            return true;
    return false;
}

static void check_fds(const struct fs_process *p, struct fs_symbolizer *sym,
                      struct fs_findings *out, struct fs_rules_merge *mg)
{
    (void)sym;
    for (size_t k = 0; k < p->nimages; k++) {
        const struct fs_image *img = p->images[k];
        if (!img->nfds || img->forked)
            continue;
        /* Who exec'd it, and what that side put in place on purpose. */
        const struct fs_image *e = NULL;
        const struct fs_process *eq = p;
        const char *placed = NULL;
        if (k > 0 && p->images[k - 1]->execed) {
            e = p->images[k - 1];
            placed = e->exec_placed;
        } else if (k == 0 && p->parent) {
            for (size_t a = 0; !e && a < p->parent->nimages; a++) {
                const struct fs_image *pi = p->parent->images[a];
                for (size_t j = 0; j < pi->nforks; j++)
                    if (pi->forks[j].spawn && pi->forks[j].child_pid == p->pid) {
                        e = pi;
                        eq = p->parent;
                        placed = pi->forks[j].placed;
                        break;
                    }
            }
        }
        if (!e)
            continue; /* the run's root, or an exec nobody recorded (vfork): no verdict */
        const struct fs_image *start = chain_start(eq, e);
        const char *prog = img->exe ? img->exe : "?";
        for (size_t i = 0; i < img->nfds; i++) {
            const struct fs_fd_rec *fd = &img->fds[i];
            if (in_list(placed, fd->fd) || had_fd(start, fd))
                continue;
            char *key = fs_xasprintf("fd|%d|%s|%s", fd->fd, fd->target, prog);
            if (fs_rules_merge_seen(mg, key, p->pid)) {
                free(key);
                continue;
            }
            struct fs_finding *f = fs_findings_add(out, "fd-inherited", FS_SEV_NOTE, p->pid);
            f->time_ns = img->time; /* the start of the image that received it */
            fs_finding_summary(f,
                               "descriptor %d (%s) crossed exec into %s without close-on-exec: "
                               "%s did not place it with dup2 or posix_spawn file actions, so "
                               "it leaks into the new program unless meant to be shared (as "
                               "make shares its jobserver pipe)",
                               fd->fd, *fd->target ? fd->target : "?", prog,
                               fs_process_name(eq));
            fs_finding_detail_int(f, "fd", fd->fd);
            fs_finding_detail(f, "target", "%s", fd->target);
            fs_finding_detail(f, "program", "%s", prog);
            struct fs_kv *by = fs_finding_item(f, NULL, "execed_by", "%d (%s)", eq->pid,
                                               fs_process_name(eq));
            fs_kv_int(by, "pid", eq->pid);
            fs_kv_str(by, "name", fs_process_name(eq));
            fs_finding_detail(f, "opened_at", "not known (open calls are not interposed)");
            fs_rules_path(f, p);
            fs_rules_merge_add(mg, key, out->n - 1, p->pid);
            free(key);
        }
    }
}

void fs_rules_copied(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    struct fs_rules_merge stdio_mg = {0}, exit_mg = {0}, repeat_mg = {0}, fd_mg = {0};
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *p = &m->procs[i];
        check_streams(p, sym, out, &stdio_mg);
        check_exit(p, sym, out, &exit_mg);
        check_zombies(m, p, sym, out);
        check_late_reaps(m, p, sym, out);
        check_repeat(p, sym, out, &repeat_mg);
        check_fds(p, sym, out, &fd_mg);
    }
    fs_rules_merge_finish(&stdio_mg, out);
    fs_rules_merge_finish(&exit_mg, out);
    fs_rules_merge_finish(&repeat_mg, out);
    fs_rules_merge_finish(&fd_mg, out);
    check_storm(m, sym, out);
}
