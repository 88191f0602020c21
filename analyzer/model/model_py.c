/* The Python records of a trace (python, pythread, pyframe, pylock; docs/trace-format.md), into
 * the fork snapshot (of=fork) or the latest child-deadlock record (of=deadlock) they follow.
 * Kept apart from model.c, which owns everything else. */
#include "model.h"
#include "finding.h"
#include "trace_format.h"
#include "trace_read.h"

#include <stdlib.h>
#include <string.h>

void fs_py_info_free(struct fs_py_info *py)
{
    if (!py)
        return;
    free(py->version);
    free(py->status);
    free(py->stdlib);
    for (size_t i = 0; i < py->nthreads; i++) {
        struct fs_py_thread_rec *t = &py->threads[i];
        for (size_t k = 0; k < t->nframes; k++) {
            free(t->frames[k].file);
            free(t->frames[k].func);
        }
        free(t->frames);
        free(t->name);
    }
    free(py->threads);
    for (size_t i = 0; i < py->nlocks; i++)
        free(py->locks[i].name);
    free(py->locks);
    free(py);
}

static const char *str_or_empty(const struct fs_record *rec, const char *key)
{
    const char *s = fs_rec_str(rec, key);
    return s ? s : "";
}

/* Where a record with this `of` belongs; NULL when there is nothing for it to describe. */
static struct fs_py_info **slot_of(struct fs_image *img, const struct fs_record *rec)
{
    const char *of = fs_rec_str(rec, "of");
    if (of && strcmp(of, "deadlock") == 0)
        return img->ndeadlocks ? &img->deadlocks[img->ndeadlocks - 1].py : NULL;
    if (of && strcmp(of, "race") == 0)
        return img->nraces ? &img->races[img->nraces - 1].py : NULL;
    return img->snapshot ? &img->snapshot->py : NULL;
}

static int rec_python(struct fs_py_info **slot, const struct fs_record *rec)
{
    if (!slot)
        return 1;
    fs_py_info_free(*slot); /* a second capture for the same owner replaces the first */
    struct fs_py_info *py = fs_xcalloc(1, sizeof *py);
    py->version = fs_xstrdup(str_or_empty(rec, "version"));
    py->status = fs_xstrdup(str_or_empty(rec, "status"));
    py->stdlib = fs_xstrdup(str_or_empty(rec, "stdlib"));
    *slot = py;
    return 1;
}

static int rec_pythread(struct fs_py_info **slot, const struct fs_record *rec)
{
    int64_t tid, forker = 0;
    uint64_t ident = 0;
    if (fs_rec_dec(rec, "tid", &tid) < 0)
        return -1;
    fs_rec_hex(rec, "ident", &ident);
    fs_rec_dec(rec, "forker", &forker);
    if (!slot || !*slot)
        return 1;
    struct fs_py_info *py = *slot;
    py->threads = fs_xrealloc(py->threads, py->nthreads + 1, sizeof *py->threads);
    py->threads[py->nthreads++] = (struct fs_py_thread_rec){
        .tid = (int)tid,
        .ident = ident,
        .name = fs_xstrdup(str_or_empty(rec, "name")),
        .forker = forker != 0,
    };
    return 1;
}

/* A frame belongs to the thread record just before it. */
static int rec_pyframe(struct fs_py_info **slot, const struct fs_record *rec)
{
    int64_t tid, line = 0;
    if (fs_rec_dec(rec, "tid", &tid) < 0 || fs_rec_dec(rec, "line", &line) < 0)
        return -1;
    if (!slot || !*slot || !(*slot)->nthreads)
        return 1;
    struct fs_py_thread_rec *t = &(*slot)->threads[(*slot)->nthreads - 1];
    if (t->tid != tid)
        return -1;
    t->frames = fs_xrealloc(t->frames, t->nframes + 1, sizeof *t->frames);
    t->frames[t->nframes++] = (struct fs_py_frame_rec){
        .file = fs_xstrdup(str_or_empty(rec, "file")),
        .func = fs_xstrdup(str_or_empty(rec, "func")),
        .line = (int)line,
    };
    return 1;
}

static int role_from_name(const char *s)
{
    static const char *const names[] = {[FS_PYLOCK_USER] = "user",
                                        [FS_PYLOCK_TSTATE] = "tstate",
                                        [FS_PYLOCK_REINIT] = "reinit"};
    for (size_t i = 1; s && i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return 0;
}

static int rec_pylock(struct fs_py_info **slot, const struct fs_record *rec)
{
    uint64_t lock;
    int64_t tid = 0;
    if (fs_rec_hex(rec, "lock", &lock) < 0)
        return -1;
    fs_rec_dec(rec, "tid", &tid);
    if (!slot || !*slot)
        return 1;
    struct fs_py_info *py = *slot;
    py->locks = fs_xrealloc(py->locks, py->nlocks + 1, sizeof *py->locks);
    py->locks[py->nlocks++] = (struct fs_py_lock_rec){
        .lock = lock,
        .role = role_from_name(fs_rec_str(rec, "role")),
        .tid = (int)tid,
        .name = fs_xstrdup(str_or_empty(rec, "name")),
    };
    return 1;
}

int fs_model_py_slot_record(struct fs_py_info **slot, const struct fs_record *rec)
{
    if (strcmp(rec->tag, FS_REC_PYTHON) == 0)
        return rec_python(slot, rec);
    if (strcmp(rec->tag, FS_REC_PYTHREAD) == 0)
        return rec_pythread(slot, rec);
    if (strcmp(rec->tag, FS_REC_PYFRAME) == 0)
        return rec_pyframe(slot, rec);
    if (strcmp(rec->tag, FS_REC_PYLOCK) == 0)
        return rec_pylock(slot, rec);
    return 0;
}

int fs_model_py_record(struct fs_image *img, const struct fs_record *rec)
{
    return fs_model_py_slot_record(slot_of(img, rec), rec);
}

const struct fs_py_thread_rec *fs_py_thread_of(const struct fs_py_info *py, int tid)
{
    for (size_t i = 0; py && tid && i < py->nthreads; i++)
        if (py->threads[i].tid == tid)
            return &py->threads[i];
    return NULL;
}

const struct fs_py_lock_rec *fs_py_lock_of(const struct fs_py_info *py, uint64_t lock)
{
    for (size_t i = 0; py && i < py->nlocks; i++)
        if (py->locks[i].lock == lock)
            return &py->locks[i];
    return NULL;
}
