/* The randomness family: rng-duplicated, rng-inherited, rng-unseeded.
 *
 * Every process records, per generator, the first values of each run of draws together with its
 * lineage (what determines the sequence: the seed value, not the seeding event) and the lineage
 * position of the first value.  Runs with the same generator family, lineage and position draw
 * the same values in whatever process they happen, so grouping the runs of the whole tree by that
 * key finds the duplicates: parent and child, siblings of a prefork pool, workers that reseeded
 * with one shared value.  The recorded values themselves are the evidence, and are compared
 * before anything is reported. */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

/* One recorded run, with where it came from. */
struct run {
    const struct fs_process *proc;
    const struct fs_image *img;
    const struct fs_rng_draw *d;
};

static int cmp_run(const void *a, const void *b)
{
    const struct fs_rng_draw *x = ((const struct run *)a)->d, *y = ((const struct run *)b)->d;
    int c = strcmp(x->gen, y->gen);
    if (c)
        return c;
    if (x->lineage != y->lineage)
        return x->lineage < y->lineage ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    int pa = ((const struct run *)a)->proc->pid, pb = ((const struct run *)b)->proc->pid;
    return pa < pb ? -1 : pa > pb;
}

static bool same_key(const struct run *a, const struct run *b)
{
    return strcmp(a->d->gen, b->d->gen) == 0 && a->d->lineage == b->d->lineage &&
           a->d->pos == b->d->pos;
}

/* The values two runs of one key have in common must be equal; a difference means the key did
 * not capture the state (a caller rewrote its buffer between draws): not a duplicate. */
static bool same_values(const struct fs_rng_draw *a, const struct fs_rng_draw *b)
{
    int n = a->n < b->n ? a->n : b->n;
    return n > 0 && memcmp(a->values, b->values, (size_t)n * sizeof *a->values) == 0;
}

static size_t collect(const struct fs_model *m, struct run **out)
{
    size_t n = 0;
    for (size_t p = 0; p < m->nprocs; p++)
        for (size_t i = 0; i < m->procs[p].nimages; i++)
            n += m->procs[p].images[i]->ndraws;
    struct run *runs = fs_xcalloc(n ? n : 1, sizeof *runs);
    size_t k = 0;
    for (size_t p = 0; p < m->nprocs; p++)
        for (size_t i = 0; i < m->procs[p].nimages; i++) {
            const struct fs_image *img = m->procs[p].images[i];
            for (size_t j = 0; j < img->ndraws; j++)
                runs[k++] = (struct run){&m->procs[p], img, &img->draws[j]};
        }
    qsort(runs, k, sizeof *runs, cmp_run);
    *out = runs;
    return k;
}

static char *format_values(const struct fs_rng_draw *d)
{
    char *s = fs_xstrdup("");
    for (int i = 0; i < d->n; i++) {
        char *next;
        if (d->is_double) {
            double v;
            memcpy(&v, &d->values[i], sizeof v);
            next = fs_xasprintf("%s%s%.17g", s, i ? "  " : "", v);
        } else {
            next = fs_xasprintf("%s%s%lld", s, i ? "  " : "", (long long)d->values[i]);
        }
        free(s);
        s = next;
    }
    return s;
}

/* The values one process drew: `values <pid> (<name>): 1 2 3` for people, {pid, name, values}
 * in the array `values` for tools. */
static void add_values(struct fs_finding *f, const struct fs_process *proc,
                       const struct fs_rng_draw *d)
{
    char *vals = format_values(d);
    char *key = fs_xasprintf("values %d (%s)", proc->pid, fs_process_name(proc));
    struct fs_kv *it = fs_finding_item(f, "values", key, "%s", vals);
    fs_kv_int(it, "pid", proc->pid);
    fs_kv_str(it, "name", fs_process_name(proc));
    size_t n = d->n > 0 ? (size_t)d->n : 0;
    if (d->is_double) {
        double v[4];
        for (size_t i = 0; i < n && i < 4; i++)
            memcpy(&v[i], &d->values[i], sizeof v[i]);
        fs_kv_reals(it, "values", v, n < 4 ? n : 4);
    } else {
        long long v[4];
        for (size_t i = 0; i < n && i < 4; i++)
            v[i] = (long long)d->values[i];
        fs_kv_ints(it, "values", v, n < 4 ? n : 4);
    }
    free(key);
    free(vals);
}

/* "seed 42 (srand in pid 4200)", "the default seed: never seeded", "state 0x1234abcd330e". */
static char *lineage_label(const struct fs_model *m, const struct fs_rng_draw *d)
{
    if (!d->seeded && (strcmp(d->gen, "random") == 0 || strcmp(d->gen, "drand48") == 0))
        return fs_xasprintf("the default seed 0x%llx (never seeded)",
                            (unsigned long long)d->lineage);
    if (!d->seeded)
        return fs_xasprintf("caller state 0x%llx", (unsigned long long)d->lineage);
    const struct fs_process *sp = d->seedpid ? fs_model_find(m, d->seedpid) : NULL;
    return fs_xasprintf("seed %llu (0x%llx), seeded in pid %d%s%s%s",
                        (unsigned long long)d->lineage, (unsigned long long)d->lineage, d->seedpid,
                        sp ? " (" : "", sp ? fs_process_name(sp) : "", sp ? ")" : "");
}

/* The image of the seeding process that made the seeding call: a process may have exec'd
 * (python3 started through a shell wrapper), and each image has its own modules. */
static const struct fs_image *seeding_image(const struct fs_model *m, const struct fs_rng_draw *d)
{
    const struct fs_process *p = d->seedpid ? fs_model_find(m, d->seedpid) : NULL;
    if (!p || p->nimages == 0)
        return NULL;
    for (size_t i = 0; i < p->nimages; i++)
        for (size_t k = 0; k < p->images[i]->nseeds; k++)
            if (p->images[i]->seeds[k].site == d->seedsite)
                return p->images[i];
    return p->images[p->nimages - 1];
}

static void add_site(struct fs_finding *f, struct fs_symbolizer *sym, const struct fs_image *img,
                     const char *role, int tid, uint64_t pc)
{
    if (!img || !pc)
        return;
    uint64_t one = pc;
    struct fs_addrs a = {&one, 1};
    /* Draws and seeds carry no Python frames; in a CPython child its interpreter's frames still
     * fold like every other stack's. */
    fs_rules_stack_py(f, sym, &img->mods, role, tid, &a, img->snapshot ? img->snapshot->py : NULL,
                      NULL);
}

/* The fork that made this process, if it was forked. */
static void add_fork_stack(struct fs_finding *f, struct fs_symbolizer *sym,
                           const struct fs_process *p)
{
    const struct fs_image *img = fs_process_first_image(p);
    if (img && img->snapshot)
        fs_rules_fork_stack(f, sym, &img->mods, img->snapshot);
}

static void report_duplicate(const struct fs_model *m, struct fs_symbolizer *sym,
                             const struct run *g, size_t n, struct fs_findings *out)
{
    const struct fs_rng_draw *d = g[0].d;
    struct fs_finding *f = fs_findings_add(out, "rng-duplicated", FS_SEV_ERROR, g[0].proc->pid);
    char *pids = fs_xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *next = fs_xasprintf("%s%s%d", pids, i ? ", " : "", g[i].proc->pid);
        free(pids);
        pids = next;
    }
    fs_finding_summary(f, "%zu processes drew the same values from one %s state (%s): pids %s", n,
                       d->gen, d->call, pids);
    char *lineage = lineage_label(m, d);
    fs_finding_detail(f, "generator", "%s (%s)", d->gen, d->call);
    fs_finding_detail(f, "lineage", "%s", lineage);
    fs_finding_detail_int_text(f, "position", (long long)d->pos, "%lld values drawn before",
                               (long long)d->pos);
    long long *pidv = fs_xcalloc(n, sizeof *pidv);
    for (size_t i = 0; i < n; i++)
        pidv[i] = g[i].proc->pid;
    fs_finding_detail_ints(f, "processes", pidv, n, "%s", pids);
    free(pidv);
    for (size_t i = 0; i < n; i++)
        add_values(f, g[i].proc, g[i].d);
    free(lineage);
    free(pids);
    fs_rules_path(f, g[0].proc);
    add_site(f, sym, seeding_image(m, d), "seed", d->seedpid, d->seedsite);
    for (size_t i = 0; i < n && i < 8; i++) {
        bool dup = false; /* siblings usually draw at one site: show it once */
        for (size_t k = 0; k < i && !dup; k++)
            dup = g[k].d->site == g[i].d->site && g[k].img->mods.n == g[i].img->mods.n;
        if (!dup)
            add_site(f, sym, g[i].img, "draw", g[i].proc->pid, g[i].d->site);
    }
    /* Siblings of a prefork pool share one fork site: show each distinct one once. */
    char **keys = fs_xcalloc(n, sizeof *keys);
    for (size_t i = 0; i < n && i < 8; i++) {
        const struct fs_image *img = fs_process_first_image(g[i].proc);
        if (!img || !img->snapshot)
            continue;
        keys[i] = fs_rules_pcs_key(&img->snapshot->frames);
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = keys[k] && strcmp(keys[k], keys[i]) == 0;
        if (!dup)
            add_fork_stack(f, sym, g[i].proc);
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static void report_inherited(const struct fs_model *m, struct fs_symbolizer *sym,
                             const struct run *r, struct fs_findings *out)
{
    const struct fs_rng_draw *d = r->d;
    struct fs_finding *f = fs_findings_add(out, "rng-inherited", FS_SEV_WARNING, r->proc->pid);
    fs_finding_summary(f,
                       "child %d drew from the %s state it inherited without reseeding (%s): "
                       "any other process forked from that state draws the same values",
                       r->proc->pid, d->gen, d->call);
    char *lineage = lineage_label(m, d);
    fs_finding_detail(f, "generator", "%s (%s)", d->gen, d->call);
    fs_finding_detail(f, "lineage", "%s", lineage);
    fs_finding_detail_int_text(f, "position", (long long)d->pos, "%lld values drawn before",
                               (long long)d->pos);
    add_values(f, r->proc, d);
    free(lineage);
    fs_rules_path(f, r->proc);
    add_site(f, sym, seeding_image(m, d), "seed", d->seedpid, d->seedsite);
    add_site(f, sym, r->img, "draw", r->proc->pid, d->site);
    add_fork_stack(f, sym, r->proc);
}

/* Never seeded: once per generator family and program, at its first recorded draw. */
static void report_unseeded(const struct fs_model *m, struct fs_symbolizer *sym,
                            const struct run *runs, size_t n, struct fs_findings *out)
{
    (void)m;
    char **seen = NULL;
    size_t nseen = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fs_rng_draw *d = runs[i].d;
        if (d->seeded || (strcmp(d->gen, "random") != 0 && strcmp(d->gen, "drand48") != 0))
            continue;
        char *key = fs_xasprintf("%s|%s", d->gen, runs[i].img->exe ? runs[i].img->exe : "");
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = strcmp(seen[k], key) == 0;
        if (dup) {
            free(key);
            continue;
        }
        seen = fs_xrealloc(seen, nseen + 1, sizeof *seen);
        seen[nseen++] = key;
        struct fs_finding *f = fs_findings_add(out, "rng-unseeded", FS_SEV_NOTE, runs[i].proc->pid);
        fs_finding_summary(f,
                           "%s drew from the %s generator without ever seeding it: every run "
                           "and every process starts from the same sequence",
                           fs_process_name(runs[i].proc), d->gen);
        fs_finding_detail(f, "generator", "%s (%s)", d->gen, d->call);
        fs_finding_detail(f, "program", "%s", runs[i].img->exe ? runs[i].img->exe : "?");
        fs_rules_path(f, runs[i].proc);
        add_site(f, sym, runs[i].img, "draw", runs[i].proc->pid, d->site);
    }
    for (size_t k = 0; k < nseen; k++)
        free(seen[k]);
    free(seen);
}

void fs_rules_rng(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out)
{
    struct run *runs;
    size_t n = collect(m, &runs);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && same_key(&runs[i], &runs[j]))
            j++;
        /* Distinct processes whose values agree with the first one's. */
        struct run *group = fs_xcalloc(j - i, sizeof *group);
        size_t ng = 0;
        for (size_t k = i; k < j; k++) {
            bool seen = false;
            for (size_t q = 0; q < ng && !seen; q++)
                seen = group[q].proc == runs[k].proc;
            if (!seen && (ng == 0 || same_values(group[0].d, runs[k].d)))
                group[ng++] = runs[k];
        }
        if (ng >= 2)
            report_duplicate(m, sym, group, ng, out);
        else if (group[0].d->inherited && group[0].proc->parent)
            report_inherited(m, sym, &group[0], out);
        free(group);
        i = j;
    }
    report_unseeded(m, sym, runs, n, out);
    free(runs);
}
