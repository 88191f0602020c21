/* The randomness records of a trace (seed, draw, safe; docs/trace-format.md), into the image
 * they were written by.  Kept apart from model.c, which owns everything else. */
#include "model.h"
#include "finding.h"
#include "trace_format.h"
#include "trace_read.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int add_draw(struct fs_image *img, const struct fs_record *rec)
{
    struct fs_rng_draw d = {0};
    int64_t v;
    uint64_t *vals = NULL;
    const char *gen = fs_rec_str(rec, "gen");
    if (!gen || fs_rec_hex(rec, "lineage", &d.lineage) < 0 || fs_rec_dec(rec, "pos", &d.pos) < 0)
        return -1;
    long n = fs_rec_hexlist(rec, "values", &vals);
    if (n < 0)
        return -1;
    d.n = n > 4 ? 4 : (int)n;
    if (d.n) /* an empty `values=` gives no array: memcpy from NULL is undefined even for 0 */
        memcpy(d.values, vals, (size_t)d.n * sizeof *vals);
    free(vals);
    fs_rec_hex(rec, "id", &d.id);
    d.seeded = fs_rec_dec(rec, "seeded", &v) == 0 && v;
    d.seedpid = fs_rec_dec(rec, "seedpid", &v) == 0 ? (int)v : 0;
    fs_rec_hex(rec, "seedsite", &d.seedsite);
    d.inherited = fs_rec_dec(rec, "inherited", &v) == 0 && v;
    const char *vtype = fs_rec_str(rec, "vtype");
    d.is_double = vtype && strcmp(vtype, "double") == 0;
    fs_rec_hex(rec, "site", &d.site);
    d.gen = fs_xstrdup(gen);
    d.call = fs_xstrdup(fs_rec_str(rec, "call"));
    img->draws = fs_xrealloc(img->draws, img->ndraws + 1, sizeof *img->draws);
    img->draws[img->ndraws++] = d;
    return 1;
}

static int add_seed(struct fs_image *img, const struct fs_record *rec)
{
    struct fs_rng_seed sd = {0};
    const char *gen = fs_rec_str(rec, "gen");
    if (!gen || fs_rec_hex(rec, "value", &sd.value) < 0)
        return -1;
    fs_rec_hex(rec, "id", &sd.id);
    fs_rec_hex(rec, "site", &sd.site);
    fs_rec_dec(rec, "time", &sd.time);
    sd.gen = fs_xstrdup(gen);
    sd.call = fs_xstrdup(fs_rec_str(rec, "call"));
    img->seeds = fs_xrealloc(img->seeds, img->nseeds + 1, sizeof *img->seeds);
    img->seeds[img->nseeds++] = sd;
    return 1;
}

static int add_safe(struct fs_image *img, const struct fs_record *rec)
{
    int64_t count;
    const char *src = fs_rec_str(rec, "src");
    if (!src || fs_rec_dec(rec, "count", &count) < 0 || count < 0 || count > LONG_MAX)
        return -1;
    img->safes = fs_xrealloc(img->safes, img->nsafes + 1, sizeof *img->safes);
    img->safes[img->nsafes].src = fs_xstrdup(src);
    img->safes[img->nsafes].count = (long)count;
    img->nsafes++;
    return 1;
}

int fs_model_rng_record(struct fs_image *img, const struct fs_record *rec)
{
    if (strcmp(rec->tag, FS_REC_DRAW) == 0)
        return add_draw(img, rec);
    if (strcmp(rec->tag, FS_REC_SEED) == 0)
        return add_seed(img, rec);
    if (strcmp(rec->tag, FS_REC_SAFE) == 0)
        return add_safe(img, rec);
    return 0;
}

void fs_model_rng_release(struct fs_image *img)
{
    for (size_t i = 0; i < img->ndraws; i++) {
        free(img->draws[i].gen);
        free(img->draws[i].call);
    }
    free(img->draws);
    for (size_t i = 0; i < img->nseeds; i++) {
        free(img->seeds[i].gen);
        free(img->seeds[i].call);
    }
    free(img->seeds);
    for (size_t i = 0; i < img->nsafes; i++)
        free(img->safes[i].src);
    free(img->safes);
    img->draws = NULL;
    img->seeds = NULL;
    img->safes = NULL;
    img->ndraws = img->nseeds = img->nsafes = 0;
}
