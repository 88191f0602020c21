/* The rule driver and the helpers shared by all rule families (rules.h): stacks, process paths,
 * merging per-child duplicates, and the warnings for what the shim could not record. */
#include "trace_read.h"
#include "trace_format.h"
#include "rules.h"
#include "diag.h"
#include "symbolize.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fs_rules_merge_group {
    char *key;
    size_t index;
    int *pids;
    size_t npids, cap;
};

void fs_rules_stack(struct fs_finding *f, struct fs_symbolizer *sym, const struct fs_modmap *mods,
                    const char *role, int tid, const struct fs_addrs *addrs)
{
    if (!addrs || !addrs->n)
        return;
    struct fs_stack *s = fs_finding_stack_add(f, role, tid);
    if (sym) {
        fs_symbolize(sym, mods, addrs->pc, addrs->n, s);
        return;
    }
    for (size_t i = 0; i < addrs->n; i++)
        fs_stack_frame_add(s)->pc = addrs->pc[i];
}

void fs_rules_path(struct fs_finding *f, const struct fs_process *p)
{
    const struct fs_process *chain[64];
    size_t n = 0;
    /* Bounded: damaged traces with reused pids could make a parent loop. */
    for (const struct fs_process *q = p; q && n < sizeof chain / sizeof *chain; q = q->parent) {
        bool loop = false;
        for (size_t i = 0; i < n; i++)
            loop |= chain[i] == q;
        if (loop)
            break;
        chain[n++] = q;
    }
    while (n--)
        fs_finding_path_add(f, chain[n]->pid, fs_process_name(chain[n]));
}

char *fs_rules_function_name(struct fs_symbolizer *sym, const struct fs_modmap *mods, uint64_t addr)
{
    if (sym && addr) {
        struct fs_stack tmp = {0};
        /* fs_symbolize looks every address up at pc - 1, as return addresses need; an entry
         * point is the function's own first byte, so hand it one past. */
        uint64_t pc = addr + 1;
        char *name = NULL;
        fs_symbolize(sym, mods, &pc, 1, &tmp);
        /* Inlined frames come first; the last frame is the function that contains addr. */
        if (tmp.nframes && tmp.frames[tmp.nframes - 1].function)
            name = fs_xstrdup(tmp.frames[tmp.nframes - 1].function);
        for (size_t i = 0; i < tmp.nframes; i++) {
            free(tmp.frames[i].function);
            free(tmp.frames[i].file);
            free(tmp.frames[i].module);
        }
        free(tmp.frames);
        free(tmp.role);
        if (name)
            return name;
    }
    return fs_xasprintf("0x%" PRIx64, addr);
}

char *fs_rules_lock_kind_label(int kind, int mode, int mtype)
{
    switch (kind) {
    case FS_LOCK_MUTEX: {
        if (mtype < 0)
            return fs_xstrdup("pthread mutex");
        static const char *const base[] = {"", "recursive ", "error-checking ", "adaptive "};
        return fs_xasprintf("%s%spthread mutex", (mtype & 16) ? "robust " : "", base[mtype & 3]);
    }
    case FS_LOCK_RWLOCK:
        return fs_xasprintf("pthread rwlock (%s)", mode == FS_MODE_READ ? "read" : "write");
    case FS_LOCK_SPIN:
        return fs_xstrdup("spin lock");
    case FS_LOCK_SEM:
        return fs_xstrdup("semaphore");
    case FS_LOCK_MTX:
        return fs_xstrdup("C11 mtx");
    default:
        return fs_xstrdup("lock");
    }
}

const struct fs_thread_rec *fs_rules_thread_find(const struct fs_fork_snapshot *s, int tid)
{
    if (s && s->by_tid) {
        size_t lo = 0, hi = s->nthreads;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->threads[s->by_tid[mid]].tid < tid)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < s->nthreads && s->threads[s->by_tid[lo]].tid == tid
                   ? &s->threads[s->by_tid[lo]]
                   : NULL;
    }
    for (size_t i = 0; s && i < s->nthreads; i++)
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    return NULL;
}

void fs_rules_stack_py(struct fs_finding *f, struct fs_symbolizer *sym,
                       const struct fs_modmap *mods, const char *role, int tid,
                       const struct fs_addrs *addrs, const struct fs_py_info *py,
                       const struct fs_py_thread_rec *pt)
{
    if (!py) {
        fs_rules_stack(f, sym, mods, role, tid, addrs);
        return;
    }
    if ((!addrs || !addrs->n) && (!pt || !pt->nframes))
        return;
    size_t before = f->nstacks;
    fs_rules_stack(f, sym, mods, role, tid, addrs);
    struct fs_stack *s =
        f->nstacks > before ? &f->stacks[f->nstacks - 1] : fs_finding_stack_add(f, role, tid);
    fs_pystack_merge(s, py, pt);
    /* Without frames to merge, the stack still gets the thread's Python name. */
    const struct fs_py_thread_rec *named = pt ? pt : fs_py_thread_of(py, tid);
    if (!s->thread_name && named && named->name && *named->name)
        s->thread_name = fs_xstrdup(named->name);
}

void fs_rules_fork_stack(struct fs_finding *f, struct fs_symbolizer *sym,
                         const struct fs_modmap *mods, const struct fs_fork_snapshot *s)
{
    if (!s)
        return;
    fs_rules_stack_py(f, sym, mods, "fork", s->forker_tid, &s->frames, s->py,
                      fs_py_thread_of(s->py, s->forker_tid));
    /* rng-duplicated shows the fork of each process that drew: one note is enough. */
    if (!fs_finding_detail_get(f, "python"))
        fs_rules_py_status(f, s->py);
}

void fs_rules_thread_created(struct fs_finding *f, struct fs_symbolizer *sym,
                             const struct fs_modmap *mods, const struct fs_thread_rec *t,
                             const struct fs_py_info *py)
{
    struct fs_addrs site = {.pc = (uint64_t *)&t->create_site, .n = t->create_site ? 1 : 0};
    struct fs_py_thread_rec creator = {
        .frames = (struct fs_py_frame_rec *)&t->py_site,
        .nframes = t->py_site.line > 0 ? 1 : 0,
    };
    if (!site.n && !creator.nframes)
        return;
    fs_rules_stack_py(f, sym, mods, "thread-created", t->tid, &site, py,
                      creator.nframes ? &creator : NULL);
}

void fs_rules_py_lock_details(struct fs_finding *f, const struct fs_py_lock_rec *pl)
{
    if (!pl)
        return;
    switch (pl->role) {
    case FS_PYLOCK_TSTATE:
        fs_finding_detail(f, "lock_name", "tstate lock of thread \"%s\"", pl->name);
        fs_finding_detail(f, "lock_owner",
                          "interpreter (CPython forgets a vanished thread's tstate lock in the "
                          "child)");
        break;
    case FS_PYLOCK_REINIT:
        fs_finding_detail(f, "lock_name", "%s", pl->name);
        fs_finding_detail(f, "lock_owner",
                          "interpreter (re-created in the child by _at_fork_reinit)");
        break;
    default:
        fs_finding_detail(f, "lock_name", "%s", pl->name);
        fs_finding_detail(f, "lock_owner", "program");
        break;
    }
}

void fs_rules_py_status(struct fs_finding *f, const struct fs_py_info *py)
{
    if (py && py->status && strcmp(py->status, "ok") != 0)
        fs_finding_detail(f, "python",
                          "CPython %s: no Python stacks (%s); native frames only", py->version,
                          strcmp(py->status, "nogil") == 0
                              ? "the forking thread did not hold the GIL"
                              : py->status);
}

char *fs_rules_thread_label(const struct fs_fork_snapshot *s, int tid)
{
    /* A Python thread goes by its threading name ("MainThread", "flusher"). */
    const struct fs_py_thread_rec *pt = s ? fs_py_thread_of(s->py, tid) : NULL;
    if (pt && pt->name && *pt->name)
        return fs_xasprintf("%d \"%s\"", tid, pt->name);
    const struct fs_thread_rec *t = fs_rules_thread_find(s, tid);
    if (t && t->name && *t->name)
        return fs_xasprintf("%d \"%s\"", tid, t->name);
    return fs_xasprintf("%d", tid);
}

void fs_rules_thread_detail(struct fs_finding *f, const char *key,
                            const struct fs_fork_snapshot *s, int tid)
{
    char *label = fs_rules_thread_label(s, tid);
    struct fs_kv *kv = fs_finding_item(f, NULL, key, "tid %s", label);
    free(label);
    const struct fs_py_thread_rec *pt = s ? fs_py_thread_of(s->py, tid) : NULL;
    const struct fs_thread_rec *t = fs_rules_thread_find(s, tid);
    const char *name = pt && pt->name && *pt->name ? pt->name
                       : t && t->name && *t->name  ? t->name
                                                   : NULL;
    fs_kv_int(kv, "tid", tid);
    fs_kv_str(kv, "name", name);
}

char *fs_rules_pcs_key(const struct fs_addrs *addrs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return fs_xstrdup("?"); /* only weakens merging */
    for (size_t i = 0; i < addrs->n; i++)
        fprintf(fp, "%s%" PRIx64, i ? "," : "", addrs->pc[i]);
    if (fclose(fp) != 0 || !buf) {
        free(buf);
        return fs_xstrdup("?");
    }
    return buf;
}

/* FNV-1a: keys are short strings; a prefork parent with 100,000 children must not make merging
 * quadratic. */
static size_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

static size_t *merge_slot(const struct fs_rules_merge *mg, const char *key)
{
    size_t mask = mg->nslots - 1;
    for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
        size_t *slot = &mg->slots[i];
        if (!*slot || strcmp(mg->groups[*slot - 1].key, key) == 0)
            return slot;
    }
}

static struct fs_rules_merge_group *merge_find(struct fs_rules_merge *mg, const char *key)
{
    if (!mg->nslots)
        return NULL;
    size_t *slot = merge_slot(mg, key);
    return *slot ? &mg->groups[*slot - 1] : NULL;
}

static void merge_grow(struct fs_rules_merge *mg)
{
    if (2 * (mg->n + 1) <= mg->nslots)
        return;
    free(mg->slots);
    mg->nslots = mg->nslots ? 2 * mg->nslots : 64;
    mg->slots = fs_xcalloc(mg->nslots, sizeof *mg->slots);
    for (size_t i = 0; i < mg->n; i++)
        *merge_slot(mg, mg->groups[i].key) = i + 1;
}

/* Duplicates are dropped when the group is finished (a child can see the same finding twice,
 * once per image): checking here would cost a scan per child. */
static void group_add_pid(struct fs_rules_merge_group *g, int pid)
{
    if (g->npids && g->pids[g->npids - 1] == pid)
        return;
    if (g->npids == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 4;
        g->pids = fs_xrealloc(g->pids, g->cap, sizeof *g->pids);
    }
    g->pids[g->npids++] = pid;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* Removes repeated pids, keeping the first of each in place (the order children were seen). */
static void group_unique(struct fs_rules_merge_group *g)
{
    if (g->npids < 2)
        return;
    int *sorted = fs_xcalloc(g->npids, sizeof *sorted);
    memcpy(sorted, g->pids, g->npids * sizeof *sorted);
    qsort(sorted, g->npids, sizeof *sorted, cmp_int);
    size_t nu = 0;
    for (size_t i = 0; i < g->npids; i++)
        if (!nu || sorted[nu - 1] != sorted[i])
            sorted[nu++] = sorted[i];
    if (nu < g->npids) {
        /* used[k]: sorted[k] was already kept. */
        bool *used = fs_xcalloc(nu, sizeof *used);
        size_t w = 0;
        for (size_t i = 0; i < g->npids; i++) {
            int *hit = bsearch(&g->pids[i], sorted, nu, sizeof *sorted, cmp_int);
            size_t k = (size_t)(hit - sorted);
            if (!used[k]) {
                used[k] = true;
                g->pids[w++] = g->pids[i];
            }
        }
        g->npids = w;
        free(used);
    }
    free(sorted);
}

bool fs_rules_merge_seen(struct fs_rules_merge *mg, const char *key, int child_pid)
{
    struct fs_rules_merge_group *g = merge_find(mg, key);
    if (!g)
        return false;
    group_add_pid(g, child_pid);
    return true;
}

void fs_rules_merge_add(struct fs_rules_merge *mg, const char *key, size_t index, int child_pid)
{
    merge_grow(mg);
    mg->groups = fs_xrealloc(mg->groups, mg->n + 1, sizeof *mg->groups);
    struct fs_rules_merge_group *g = &mg->groups[mg->n++];
    memset(g, 0, sizeof *g);
    g->key = fs_xstrdup(key);
    g->index = index;
    *merge_slot(mg, g->key) = mg->n;
    group_add_pid(g, child_pid);
}

void fs_rules_merge_finish(struct fs_rules_merge *mg, struct fs_findings *out)
{
    for (size_t i = 0; i < mg->n; i++) {
        struct fs_rules_merge_group *g = &mg->groups[i];
        group_unique(g);
        if (g->npids > 1 && g->index < out->n) {
            char *buf = NULL;
            size_t len = 0;
            FILE *fp = open_memstream(&buf, &len);
            if (fp) {
                long long *pids = fs_xcalloc(g->npids, sizeof *pids);
                for (size_t j = 0; j < g->npids; j++) {
                    fprintf(fp, "%s%d", j ? ", " : "", g->pids[j]);
                    pids[j] = g->pids[j];
                }
                fprintf(fp, " (%zu children)", g->npids);
                if (fclose(fp) == 0 && buf)
                    fs_finding_detail_ints(&out->items[g->index], "children", pids, g->npids,
                                           "%s", buf);
                free(pids);
            }
            free(buf);
        }
        free(g->key);
        free(g->pids);
    }
    free(mg->groups);
    free(mg->slots);
    memset(mg, 0, sizeof *mg);
}

/* What each kind of loss means for the reader of the report. */
static void warn_lost(const struct fs_process *p, const char *what, long count)
{
    /* Keyed by the process's first file, so that a reused pid still gets its own message. */
    char *key = fs_xasprintf("lost %s %s", p->images[0]->file, what);
    if (strcmp(what, "held") == 0)
        fs_warn_once(key,
                     "pid %d: %ld held-lock record%s lost (registry full); the report may "
                     "miss locks",
                     p->pid, count, count == 1 ? " was" : "s were");
    else if (strcmp(what, "threads") == 0)
        fs_warn_once(key,
                     "pid %d: %ld thread%s not recorded (registry full); the report may "
                     "miss threads",
                     p->pid, count, count == 1 ? " was" : "s were");
    else if (strcmp(what, "write") == 0)
        fs_warn_once(key, "pid %d: %ld trace write%s failed; the report may miss events", p->pid,
                     count, count == 1 ? "" : "s");
    else if (strcmp(what, "lockuse") == 0)
        fs_warn_once(key,
                     "pid %d: %ld lock-use entr%s overwritten in the tables of vanished parent "
                     "threads (%d per thread); fork-lock-race may miss a lock",
                     p->pid, count, count == 1 ? "y was" : "ies were", 64);
    else if (strcmp(what, "racelocks") == 0)
        fs_warn_once(key,
                     "pid %d: %ld lock%s used by vanished parent threads did not fit the "
                     "child's set (%d); fork-lock-race may miss a lock",
                     p->pid, count, count == 1 ? "" : "s", 4096);
    else if (strcmp(what, "frames") == 0)
        fs_warn_once(key, "pid %d: %ld stack%s cut short; backtraces may be incomplete", p->pid,
                     count, count == 1 ? " was" : "s were");
    else
        fs_warn_once(key, "pid %d: %ld '%s' record%s lost; the report may be incomplete", p->pid,
                     count, what, count == 1 ? " was" : "s were");
    free(key);
}

struct lost_sum {
    const char *what;
    long count;
    size_t order; /* position of the first record of this kind in the process */
};

static int cmp_lost_what(const void *a, const void *b)
{
    const struct lost_sum *x = a, *y = b;
    int c = strcmp(x->what, y->what);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_lost_order(const void *a, const void *b)
{
    const struct lost_sum *x = a, *y = b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sums each kind of loss over a process's images and tells it once, in the order the kinds
 * first appear: sorted, so that a process with many images stays linear. */
static void report_lost(const struct fs_model *m)
{
    /* Children without stacks: one line for the run, not one per child of a prefork pool. */
    size_t stackless = 0;
    int first_stackless = 0;
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *p = &m->procs[i];
        size_t n = 0;
        for (size_t a = 0; a < p->nimages; a++)
            n += p->images[a]->nlost;
        if (!n)
            continue;
        struct lost_sum *v = fs_xcalloc(n, sizeof *v);
        size_t k = 0;
        for (size_t a = 0; a < p->nimages; a++)
            for (size_t b = 0; b < p->images[a]->nlost; b++, k++)
                v[k] = (struct lost_sum){p->images[a]->lost[b].what,
                                         p->images[a]->lost[b].count, k};
        qsort(v, n, sizeof *v, cmp_lost_what);
        size_t groups = 0;
        for (size_t j = 0; j < n; j++) {
            if (groups && strcmp(v[groups - 1].what, v[j].what) == 0)
                v[groups - 1].count = fs_count_add(v[groups - 1].count, v[j].count);
            else
                v[groups++] = v[j];
        }
        qsort(v, groups, sizeof *v, cmp_lost_order);
        for (size_t j = 0; j < groups; j++) {
            if (v[j].count <= 0)
                continue;
            if (strcmp(v[j].what, "stacks") == 0) {
                if (!stackless++)
                    first_stackless = p->pid;
                continue;
            }
            warn_lost(p, v[j].what, v[j].count);
        }
        free(v);
    }
    if (stackless)
        fs_warn("%zu child%s (pid %d%s) recorded no stacks: at the fork, a parent thread that "
                "did not survive it held the unwinder's or the dynamic loader's lock, on which "
                "unwinding would block",
                stackless, stackless == 1 ? "" : "ren", first_stackless,
                stackless > 1 ? " and others" : "");
}

void fs_rules_run(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    report_lost(m);
    fs_rules_locks(m, sym, out);
    fs_rules_threads(m, sym, out);
    fs_rules_deadlock(m, sym, out);
    fs_rules_race(m, sym, out);
    fs_rules_hang(m, sym, out);
    fs_rules_rng(m, sym, out);
    fs_rules_copied(m, sym, out);
    fs_findings_sort(out);
}
