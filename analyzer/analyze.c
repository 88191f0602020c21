/* The analysis pipeline shared by run, report and cases: traces -> model -> rules (with the
 * symbolizer) -> sorted findings. */
#include "cli.h"
#include "diag.h"
#include "model.h"
#include "rules.h"
#include "symbolize.h"

#include <errno.h>
#include <string.h>

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
    out->damaged = fs_diag_damage_count() - damage_before;
    fs_model_release(&model);
    return 0;
}

void fs_analysis_release(struct fs_analysis *a)
{
    fs_findings_release(&a->findings);
    memset(a, 0, sizeof *a);
}
