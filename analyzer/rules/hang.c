/* child-hang: a process of the tree was still running when the run's time limit expired.  The
 * evidence is what forksan saw from outside just before it ended the tree (`<pid>.hang` files,
 * analyzer/run/hang.c): every thread's state, kernel wait channel and stack, symbolized with the
 * module map read from the live process, which is right even for a process the shim never saw.
 * When the shim did see the process acquire an inherited lock, the finding names that lock. */
#include "trace_format.h"
#include "rules.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct thread states a summary names; /proc has fewer than this in practice. */
#define STATES_MAX 8

static const char *state_word(char state)
{
    switch (state) {
    case 'R':
        return "running";
    case 'S':
        return "asleep";
    case 'D':
        return "in uninterruptible sleep (D)";
    case 'T':
        return "stopped";
    case 't':
        return "stopped by a tracer";
    case 'Z':
        return "exited (zombie)";
    case 'X':
        return "dead";
    case 'I':
        return "idle";
    case 'P':
        return "parked";
    default:
        return "in an unknown state";
    }
}

/* "2 threads, all asleep", "1 thread, running", "3 threads: 2 asleep, 1 running". */
static char *states_phrase(const struct fs_hang *h)
{
    if (h->nthreads == 0)
        return fs_xstrdup("no thread seen");
    char seen[STATES_MAX] = {0};
    size_t counts[STATES_MAX], nseen = 0;
    for (size_t i = 0; i < h->nthreads; i++) {
        size_t k = 0;
        while (k < nseen && seen[k] != h->threads[i].state)
            k++;
        if (k == nseen) {
            if (nseen == STATES_MAX)
                k = nseen - 1; /* lumped together with the last state, only in this phrase */
            else {
                seen[nseen] = h->threads[i].state;
                counts[nseen++] = 0;
            }
        }
        counts[k]++;
    }
    const char *noun = h->nthreads == 1 ? "thread" : "threads";
    if (nseen == 1)
        return fs_xasprintf("%zu %s, %s%s", h->nthreads, noun, h->nthreads == 1 ? "" : "all ",
                            state_word(seen[0]));
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return fs_xasprintf("%zu %s", h->nthreads, noun);
    fprintf(fp, "%zu %s:", h->nthreads, noun);
    for (size_t k = 0; k < nseen; k++)
        fprintf(fp, "%s %zu %s", k ? "," : "", counts[k], state_word(seen[k]));
    if (fclose(fp) != 0 || !buf) {
        free(buf);
        return fs_xasprintf("%zu %s", h->nthreads, noun);
    }
    return buf;
}

/* Seconds as people say them: "10", "2.5", "0.75", "130". */
static char *seconds(double s)
{
    return s < 100 ? fs_xasprintf("%.3g", s) : fs_xasprintf("%.0f", s);
}

/* The inherited locks the shim saw this process block on, one detail each.  Only images that
 * are still the process's memory count (an exec dropped the inherited locks), and only calls
 * that block: a try variant or the `fail` policy returned to the program. */
static size_t add_blocked_on(struct fs_finding *f, const struct fs_process *p)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->nimages; i++) {
        const struct fs_image *img = p->images[i];
        if (img->execed)
            continue;
        for (size_t j = 0; j < img->ndeadlocks; j++) {
            const struct fs_deadlock_rec *d = &img->deadlocks[j];
            if (d->trylock || (d->policy && *d->policy && strcmp(d->policy, "wait") != 0))
                continue;
            char *kind = fs_rules_lock_kind_label(d->kind, d->mode, -1);
            struct fs_kv *b = fs_finding_item(
                f, "blocked_on", "blocked_on",
                "%s 0x%" PRIx64 " inherited held by thread %d, taken with %s: see child-deadlock",
                kind, d->lock, d->holder, d->call && *d->call ? d->call : "?");
            char *lock = fs_xasprintf("0x%" PRIx64, d->lock);
            fs_kv_str(b, "lock", lock);
            fs_kv_str(b, "kind", kind);
            fs_kv_int(b, "holder", d->holder);
            fs_kv_str(b, "call", d->call && *d->call ? d->call : NULL);
            free(lock);
            free(kind);
            n++;
        }
    }
    return n;
}

/* The process a hang file is about: with a reused pid, the latest one (the one still alive). */
static const struct fs_process *process_of(const struct fs_model *m, int pid)
{
    for (size_t i = m->nprocs; i-- > 0;)
        if (m->procs[i].pid == pid)
            return &m->procs[i];
    return NULL;
}

/* Whether the shim wrote anything for this process: the model gives a process known only from
 * its hang file a stand-in image with index -1. */
static bool has_trace(const struct fs_process *p)
{
    for (size_t i = 0; p && i < p->nimages; i++)
        if (p->images[i]->index >= 0)
            return true;
    return false;
}

/* The shim loaded in the live process, whether or not it had written a trace yet. */
static bool shim_loaded(const struct fs_hang *h)
{
    for (size_t i = 0; i < h->mods.n; i++) {
        const char *path = h->mods.mods[i].path ? h->mods.mods[i].path : "";
        const char *base = strrchr(path, '/');
        if (strncmp(base ? base + 1 : path, "libforksan.so", 13) == 0)
            return true;
    }
    return false;
}

static const char *shim_phrase(const struct fs_process *p, const struct fs_hang *h)
{
    if (has_trace(p))
        return "traced";
    if (shim_loaded(h))
        return "loaded, but it had written no trace for this process: stacks only";
    return "not traced (static binary or LD_PRELOAD cleared): stacks only";
}

/* A hung thread's Python name, from the fork captures that saw it: the forker of the fork that
 * made this process (its one thread then, whose tid is the pid), or a thread of this process
 * alive when it forked a child.  The hang dump itself carries no names.  NULL when unknown. */
static const char *py_name(const struct fs_process *p, int tid)
{
    if (!p)
        return NULL;
    const struct fs_image *img = fs_process_first_image(p);
    const struct fs_py_info *py = img && img->snapshot ? img->snapshot->py : NULL;
    for (size_t i = 0; py && tid == p->pid && i < py->nthreads; i++)
        if (py->threads[i].forker && *py->threads[i].name)
            return py->threads[i].name;
    for (size_t c = 0; c < p->nchildren; c++) {
        const struct fs_image *ci = fs_process_first_image(p->children[c]);
        const struct fs_py_thread_rec *t =
            ci && ci->snapshot ? fs_py_thread_of(ci->snapshot->py, tid) : NULL;
        if (t && *t->name)
            return t->name;
    }
    return NULL;
}

static void emit(const struct fs_model *m, const struct fs_hang *h, struct fs_symbolizer *sym,
                 struct fs_findings *out)
{
    const struct fs_process *p = process_of(m, h->pid);
    /* The live image's name: the process may have exec'd since its first trace. */
    const char *name = h->comm && *h->comm ? h->comm : p ? fs_process_name(p) : "?";
    struct fs_finding *f = fs_findings_add(out, "child-hang", FS_SEV_ERROR, h->pid);

    char *after = seconds(h->after);
    char *states = states_phrase(h);
    char *after_text = fs_xasprintf("%s s", after);
    fs_finding_detail_real(f, "after", h->after, after_text);
    free(after_text);
    fs_finding_detail_int(f, "threads", (long long)h->nthreads);
    for (size_t i = 0; i < h->nthreads; i++) {
        const struct fs_hang_thread *t = &h->threads[i];
        bool wchan = t->wchan && *t->wchan;
        const char *pyname = py_name(p, t->tid);
        const char *tname = pyname ? pyname : t->name ? t->name : "";
        struct fs_kv *it = fs_finding_item(f, "thread_states", "thread", "%d \"%s\": %s%s%s",
                                           t->tid, tname, state_word(t->state),
                                           wchan ? ", in " : "", wchan ? t->wchan : "");
        char state[2] = {t->state, '\0'};
        fs_kv_int(it, "tid", t->tid);
        fs_kv_str(it, "name", tname);
        fs_kv_str(it, "state", state);
        fs_kv_str(it, "wchan", wchan ? t->wchan : NULL);
    }
    size_t blocked = add_blocked_on(f, p);
    fs_finding_detail(f, "shim", "%s", shim_phrase(p, h));
    if (!h->attached)
        fs_finding_detail(f, "stacks", "not available: %s",
                          h->error && *h->error ? h->error : "unknown error");

    bool ended_deadlock = h->ended && strcmp(h->ended, "deadlock") == 0;
    if (ended_deadlock)
    {
        fs_finding_detail(f, "ended_by_forksan", "%s",
                          "blocked on an inherited lock: ended with SIGKILL (--on-deadlock end)");
        fs_finding_detail_as_bool(f, true);
    }
    if (ended_deadlock)
        fs_finding_summary(f,
                           "process %d (%s) could never return from an inherited lock: forksan "
                           "ended it %s s into the run (--on-deadlock end): %s%s%s%s",
                           h->pid, name, after, states,
                           h->attached ? "" : "; its stacks could not be read (",
                           h->attached ? "" : (h->error && *h->error ? h->error : "unknown error"),
                           h->attached ? "" : ")");
    else
        fs_finding_summary(f, "process %d (%s) was still running after %s s: %s%s%s%s%s", h->pid,
                           name, after, states, blocked ? ", blocked on an inherited lock" : "",
                           h->attached ? "" : "; its stacks could not be read (",
                           h->attached ? "" : (h->error && *h->error ? h->error : "unknown error"),
                           h->attached ? "" : ")");
    free(after);
    free(states);

    /* The hang's own module map: read from the live process, it covers what the process had
     * loaded at that moment, dlopen'd libraries and a new exec image included. */
    for (size_t i = 0; i < h->nthreads; i++) {
        int tid = h->threads[i].tid;
        fs_rules_stack_py(f, sym, &h->mods, "thread", tid, &h->threads[i].frames, h->py,
                          fs_py_thread_of(h->py, tid));
        struct fs_stack *s = f->nstacks ? &f->stacks[f->nstacks - 1] : NULL;
        const char *pyname = py_name(p, tid);
        if (s && s->tid == tid && !s->thread_name && pyname)
            s->thread_name = fs_xstrdup(pyname);
    }

    if (p)
        fs_rules_path(f, p);
    else
        fs_finding_path_add(f, h->pid, name);
}

void fs_rules_hang(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    for (size_t i = 0; i < m->nhangs; i++)
        emit(m, &m->hangs[i], sym, out);
}
