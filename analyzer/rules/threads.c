/* Thread rule (deadlock family): threads-at-fork.  After a fork from a multi-threaded process the
 * child may only make async-signal-safe calls until it execs, because the other threads' state
 * (locks inside malloc, stdio, the loader) was copied mid-flight and nobody will finish it. */
#include "trace_read.h"
#include "rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The flag is what the shim wrote; the tid check covers a snapshot where it was not set. */
static bool is_forker(const struct fs_fork_snapshot *s, const struct fs_thread_rec *t)
{
    return t->forker || t->tid == s->forker_tid;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Same parent, same other threads, same fork site, same exec outcome: one finding for all the
 * children of a prefork parent. */
static char *merge_key(const struct fs_process *c, const struct fs_fork_snapshot *s, bool execed)
{
    int *tids = fs_xcalloc(s->nthreads, sizeof *tids);
    size_t n = 0;
    for (size_t i = 0; i < s->nthreads; i++)
        if (!is_forker(s, &s->threads[i]))
            tids[n++] = s->threads[i].tid;
    if (n)
        qsort(tids, n, sizeof *tids, cmp_int);
    char *list = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&list, &len);
    if (fp) {
        for (size_t i = 0; i < n; i++)
            fprintf(fp, "%d,", tids[i]);
        if (fclose(fp) != 0) {
            free(list);
            list = NULL;
        }
    }
    free(tids);
    char *pcs = fs_rules_pcs_key(&s->frames);
    char *key;
    if (c->parent)
        key = fs_xasprintf("threads-at-fork|%d/%s|%s|%s|%d", c->parent->pid,
                           c->parent->images[0]->file, list ? list : "?", pcs, execed);
    else
        key = fs_xasprintf("threads-at-fork|%d/|%s|%s|%d", s->parent_pid, list ? list : "?", pcs,
                           execed);
    free(list);
    free(pcs);
    return key;
}

/* Threads a runtime starts for itself and that hold nothing the child could need: CPython's
 * faulthandler watchdog (dump_traceback_later) only waits on its own lock with a timeout, and
 * the child never resumes it.  A fork with only such threads besides the forker is a note. */
static bool only_runtime_helpers(const struct fs_fork_snapshot *s, struct fs_symbolizer *sym,
                                 const struct fs_modmap *mods)
{
    size_t helpers = 0;
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct fs_thread_rec *t = &s->threads[i];
        if (is_forker(s, t))
            continue;
        if (!t->start_routine || !sym)
            return false;
        /* CPython starts its threads through pythread_wrapper, whose argument holds the real
         * routine: that one names the thread. */
        char *start = fs_rules_function_name(sym, mods, t->start_routine);
        if (strcmp(start, "pythread_wrapper") == 0 && t->start_arg0) {
            free(start);
            start = fs_rules_function_name(sym, mods, t->start_arg0);
        }
        bool helper = strcmp(start, "faulthandler_thread") == 0;
        free(start);
        if (!helper)
            return false;
        helpers++;
    }
    return helpers > 0;
}

static void check_child(const struct fs_process *c, struct fs_symbolizer *sym,
                        struct fs_findings *out, struct fs_rules_merge *mg)
{
    const struct fs_image *img = fs_process_first_image(c);
    const struct fs_fork_snapshot *s = img->snapshot;
    size_t others = 0;
    for (size_t i = 0; i < s->nthreads; i++)
        others += !is_forker(s, &s->threads[i]);
    if (!others)
        return;

    bool execed = fs_process_execed(c);
    char *key = merge_key(c, s, execed);
    if (fs_rules_merge_seen(mg, key, c->pid)) {
        free(key);
        return;
    }
    fs_rules_merge_add(mg, key, out->n, c->pid);
    free(key);

    /* The forker may be missing from a damaged snapshot; it was alive all the same. */
    size_t alive = s->nthreads + (others == s->nthreads);
    bool helpers_only = only_runtime_helpers(s, sym, &img->mods);
    struct fs_finding *f = fs_findings_add(
        out, "threads-at-fork", execed || helpers_only ? FS_SEV_NOTE : FS_SEV_WARNING, c->pid);
    f->time_ns = s->time; /* the fork */
    char *forker = fs_rules_thread_label(s, s->forker_tid);
    fs_finding_summary(f, "%zu threads alive when thread %s forked child %d (%s)", alive, forker,
                       c->pid, execed ? "the child called exec" : "the child went on without exec");
    free(forker);

    fs_finding_detail_int(f, "threads", (long long)alive);
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct fs_thread_rec *t = &s->threads[i];
        if (is_forker(s, t))
            continue;
        char *start = t->start_routine ? fs_rules_function_name(sym, &img->mods, t->start_routine)
                                       : fs_xstrdup("unknown");
        char *k = fs_xasprintf("thread %d", t->tid);
        const struct fs_py_thread_rec *pt = fs_py_thread_of(s->py, t->tid);
        const char *name = pt && *pt->name ? pt->name : t->name ? t->name : "";
        struct fs_kv *it = fs_finding_item(f, "other_threads", k, "\"%s\" start=%s %s", name, start,
                                           t->known ? "known" : "found only in /proc");
        fs_kv_int(it, "tid", t->tid);
        fs_kv_str(it, "name", name);
        fs_kv_str(it, "start", start);
        fs_kv_bool(it, "known", t->known);
        free(k);
        free(start);
    }
    fs_finding_detail_bool(f, "execed", execed);
    if (helpers_only)
        fs_finding_detail(f, "runtime_threads",
                          "only the runtime's fork-safe helper threads (faulthandler's watchdog)");
    fs_rules_fork_stack(f, sym, &img->mods, s);
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct fs_thread_rec *t = &s->threads[i];
        if (!is_forker(s, t))
            fs_rules_thread_created(f, sym, &img->mods, t, s->py);
    }
    fs_rules_path(f, c);
}

void fs_rules_threads(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    struct fs_rules_merge mg = {0};
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *c = &m->procs[i];
        const struct fs_image *img = fs_process_first_image(c);
        if (img && img->forked && img->snapshot)
            check_child(c, sym, out, &mg);
    }
    fs_rules_merge_finish(&mg, out);
}
