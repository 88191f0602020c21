/* Python frames in findings: merging a thread's Python stack into its native stack, and the
 * last pass over the findings before rendering (system frames marked, the interpreter's own
 * frames folded away).  The primary location, which renderers read, is report/frames.c's.
 *
 * Merging follows py-spy's idea: every native frame of the interpreter's evaluation loop
 * (_PyEval_EvalFrameDefault) runs Python frames, so Python frames are placed at those frames,
 * one per loop, innermost first.  From 3.11 one loop runs several Python frames (calls between
 * Python functions no longer nest the loop), so the Python frames left over are placed at the
 * innermost loop: a C extension that calls back into Python still sits between the right
 * Python frames as long as the outer loops each run one frame.  When the native stack shows no
 * loop (the interpreter has no symbols), the Python frames go where the interpreter's frames
 * begin; when it has no interpreter frame at all (it was cut, or there is none: a holder seen
 * only at the fork), they follow the native ones. */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* libpython3.X.so and the python executable (which links libpython in statically). */
static bool is_interp_module(const char *path)
{
    const char *b = base_name(path);
    return strncmp(b, "python", 6) == 0 || strncmp(b, "libpython", 9) == 0;
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return n && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* System libraries, and forksan's own shim (a hung thread inside a lock hook is the program's
 * call, one frame further out). */
static bool is_system_path(const char *path)
{
    return under(path, "/lib") || under(path, "/usr/lib") || under(path, "/lib64") ||
           under(path, "/usr/lib64") || strcmp(base_name(path), "libforksan.so") == 0;
}

/* Python's standard library: the directory of os.py, except its site-packages, and the frozen
 * modules ("<frozen importlib._bootstrap>"). */
static bool is_stdlib_file(const char *file, const char *stdlib)
{
    if (strncmp(file, "<frozen ", 8) == 0)
        return true;
    if (!stdlib || !under(file, stdlib))
        return false;
    return !strstr(file + strlen(stdlib), "/site-packages/") &&
           !strstr(file + strlen(stdlib), "/dist-packages/");
}

static bool is_eval_loop(const struct fs_frame *fr)
{
    return fr->origin == FS_ORIGIN_INTERP && fr->function &&
           strcmp(fr->function, "_PyEval_EvalFrameDefault") == 0;
}

static void put_python(struct fs_frame *out, const struct fs_py_frame_rec *p, const char *stdlib)
{
    memset(out, 0, sizeof *out);
    out->lang = FS_LANG_PYTHON;
    out->origin = is_stdlib_file(p->file, stdlib) ? FS_ORIGIN_STDLIB : FS_ORIGIN_USER;
    out->file = *p->file ? fs_xstrdup(p->file) : NULL;
    out->function = *p->func ? fs_xstrdup(p->func) : NULL;
    out->line = p->line;
}

void fs_pystack_merge(struct fs_stack *s, const struct fs_py_info *py,
                      const struct fs_py_thread_rec *t)
{
    size_t nloops = 0;
    for (size_t i = 0; i < s->nframes; i++) {
        struct fs_frame *fr = &s->frames[i];
        if (fr->lang == FS_LANG_NATIVE && fr->module && is_interp_module(fr->module))
            fr->origin = FS_ORIGIN_INTERP;
        else if (fr->lang == FS_LANG_NATIVE && fr->module && py->stdlib && *py->stdlib &&
                 under(fr->module, py->stdlib))
            fr->origin = FS_ORIGIN_SYSTEM; /* lib-dynload: the standard library's C modules */
        nloops += is_eval_loop(fr);
    }
    if (t && t->name && *t->name && !s->thread_name)
        s->thread_name = fs_xstrdup(t->name);
    if (!t || !t->nframes)
        return;
    size_t npy = t->nframes, n = s->nframes + npy;
    struct fs_frame *merged = fs_xcalloc(n, sizeof *merged);
    size_t out = 0, next = 0;
    /* Python frames at each loop: the leftovers at the first (innermost) one. */
    size_t first_share = nloops && npy > nloops ? npy - nloops + 1 : 1;
    size_t loops_seen = 0;
    for (size_t i = 0; i < s->nframes; i++) {
        bool here = nloops ? is_eval_loop(&s->frames[i])
                           : s->frames[i].origin == FS_ORIGIN_INTERP && next == 0;
        if (here && next < npy) {
            size_t share = !nloops ? npy : loops_seen++ == 0 ? first_share : 1;
            for (size_t k = 0; k < share && next < npy; k++)
                put_python(&merged[out++], &t->frames[next++], py->stdlib);
        }
        merged[out++] = s->frames[i];
    }
    while (next < npy)
        put_python(&merged[out++], &t->frames[next++], py->stdlib);
    free(s->frames);
    s->frames = merged;
    s->nframes = out;
}

static void fold(struct fs_stack *s)
{
    size_t out = 0;
    for (size_t i = 0; i < s->nframes; i++) {
        struct fs_frame *fr = &s->frames[i];
        if (fr->origin == FS_ORIGIN_INTERP) {
            free(fr->function);
            free(fr->file);
            free(fr->module);
            s->folded++;
            continue;
        }
        s->frames[out++] = *fr;
    }
    s->nframes = out;
}

void fs_findings_finish(struct fs_findings *list, bool native)
{
    for (size_t i = 0; i < list->n; i++) {
        struct fs_finding *f = &list->items[i];
        for (size_t k = 0; k < f->nstacks; k++) {
            struct fs_stack *s = &f->stacks[k];
            for (size_t j = 0; j < s->nframes; j++) {
                struct fs_frame *fr = &s->frames[j];
                if (fr->lang == FS_LANG_NATIVE && fr->origin == FS_ORIGIN_USER && fr->module &&
                    is_system_path(fr->module))
                    fr->origin = FS_ORIGIN_SYSTEM;
            }
            if (!native)
                fold(s);
        }
    }
}
