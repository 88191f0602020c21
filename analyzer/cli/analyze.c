/* The analysis pipeline shared by run, report and cases: traces -> model -> rules (with the
 * symbolizer) -> sorted findings. */
#include "cli.h"
#include "untraced.h"
#include "diag.h"
#include "model.h"
#include "rules.h"
#include "symbolize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void sum_safe_random(const struct fs_model *m, struct fs_analysis *out)
{
    for (size_t i = 0; i < m->nimages; i++)
        for (size_t k = 0; k < m->images[i].nsafes; k++) {
            const struct fs_rng_safe *s = &m->images[i].safes[k];
            size_t j = 0;
            while (j < out->nsafe_random && strcmp(out->safe_random[j].name, s->src) != 0)
                j++;
            if (j == out->nsafe_random) {
                out->safe_random = fs_xrealloc(out->safe_random, j + 1, sizeof *out->safe_random);
                out->safe_random[j] = (struct fs_report_count){fs_xstrdup(s->src), 0};
                out->nsafe_random++;
            }
            out->safe_random[j].count = fs_count_add(out->safe_random[j].count, s->count);
        }
}

static bool has_trace(const struct fs_process *p)
{
    for (size_t i = 0; i < p->nimages; i++)
        if (p->images[i]->index >= 0)
            return true;
    return false;
}

/* The tree for the report (render.h): every process the traces or hang files know. */
static void copy_tree(const struct fs_model *m, struct fs_analysis *out)
{
    out->procs = fs_xcalloc(m->nprocs, sizeof *out->procs);
    out->nprocs = m->nprocs;
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *p = &m->procs[i];
        struct fs_report_proc *r = &out->procs[i];
        r->pid = p->pid;
        const struct fs_image *first = fs_process_first_image(p);
        r->ppid = p->parent ? p->parent->pid : first ? first->ppid : 0;
        r->traced = has_trace(p);
        r->images = fs_xcalloc(p->nimages, sizeof *r->images);
        for (size_t k = 0; k < p->nimages; k++) {
            const struct fs_image *img = p->images[k];
            if (img->index < 0)
                continue;
            struct fs_report_image *ri = &r->images[r->nimages++];
            ri->exe = img->exe ? fs_xstrdup(img->exe) : NULL;
            ri->comm = img->comm ? fs_xstrdup(img->comm) : NULL;
            ri->cmdline = img->cmdline ? fs_xstrdup(img->cmdline) : NULL;
            ri->time_ns = img->time;
        }
        const struct fs_image *last = p->nimages ? p->images[p->nimages - 1] : NULL;
        if (last && last->index >= 0 && last->end) {
            r->end_how = fs_xstrdup(last->end->how);
            r->end_ns = last->end->time;
        }
        for (size_t h = 0; h < m->nhangs; h++)
            if (m->hangs[h].pid == p->pid) {
                r->hung = true;
                r->hang_after = m->hangs[h].after;
                r->ended_by_forksan = m->hangs[h].ended && *m->hangs[h].ended;
                if (!r->nimages && m->hangs[h].comm) {
                    r->images = fs_xrealloc(r->images, 1, sizeof *r->images);
                    r->images[0] = (struct fs_report_image){fs_xstrdup(m->hangs[h].exe),
                                                            fs_xstrdup(m->hangs[h].comm), NULL, 0};
                    r->nimages = 1;
                }
            }
    }
}

int fs_analyze_dir(const char *dir, struct fs_analysis *out)
{
    memset(out, 0, sizeof *out);
    struct fs_model model;
    memset(&model, 0, sizeof model);
    unsigned damage_before = fs_diag_damage_count();
    if (fs_model_load_dir(dir, &model) < 0) {
        int e = errno;
        fs_model_release(&model);
        errno = e;
        return -1;
    }
    struct fs_symbolizer *sym = fs_symbolizer_new();
    fs_rules_run(&model, sym, &out->findings);
    fs_symbolizer_free(sym);
    fs_findings_sort(&out->findings);
    out->processes = (unsigned)model.nprocs;
    struct fs_untraced_list untraced;
    fs_untraced_collect(&model, &untraced);
    fs_untraced_warn(&untraced);
    out->untraced = (unsigned)untraced.n;
    fs_untraced_release(&untraced);
    sum_safe_random(&model, out);
    copy_tree(&model, out);
    out->damaged = fs_diag_damage_count() - damage_before;
    fs_model_release(&model);
    return 0;
}

void fs_analysis_release(struct fs_analysis *a)
{
    fs_findings_release(&a->findings);
    for (size_t i = 0; i < a->nsafe_random; i++)
        free((char *)a->safe_random[i].name);
    free(a->safe_random);
    for (size_t i = 0; i < a->nprocs; i++) {
        for (size_t k = 0; k < a->procs[i].nimages; k++) {
            free(a->procs[i].images[k].exe);
            free(a->procs[i].images[k].comm);
            free(a->procs[i].images[k].cmdline);
        }
        free(a->procs[i].images);
        free(a->procs[i].end_how);
    }
    free(a->procs);
    memset(a, 0, sizeof *a);
}
