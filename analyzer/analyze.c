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
    memset(a, 0, sizeof *a);
}
