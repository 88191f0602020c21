/* Processes that ran but left no trace, each with its program and the reason, from what the
 * traces that do exist say about them:
 *
 *   - an `untraced` record: a forked child that could not create its own file (it wrote this
 *     into its parent's file instead), or a vfork child exec'ing a static or set-user-ID program;
 *   - an image whose last act was an exec, with no later image of that pid: the exec'd program
 *     did not load the shim.  The exec record's `next` or `kept` field says why when the shim
 *     could tell; otherwise the usual suspects are named.
 *
 * The report counts these separately from the traced processes, and names each on stderr. */
#include "diag.h"
#include "finding.h"
#include "model.h"
#include "untraced.h"

#include <stdlib.h>
#include <string.h>

static void add(struct fs_untraced_list *l, int pid, int parent, const char *program,
                const char *why)
{
    l->items = fs_xrealloc(l->items, l->n + 1, sizeof *l->items);
    l->items[l->n++] = (struct fs_untraced){
        .pid = pid,
        .parent = parent,
        .program = fs_xstrdup(program ? program : ""),
        .why = fs_xstrdup(why),
    };
}

static const char *why_words(const char *why)
{
    if (!why || !*why)
        return "it could not create its trace file";
    if (strcmp(why, "static") == 0)
        return "a static program (no dynamic linker loads the shim)";
    if (strcmp(why, "setuid") == 0)
        return "a set-user-ID or set-group-ID program (the dynamic linker ignores LD_PRELOAD)";
    if (strcmp(why, "rlimit") == 0)
        return "no descriptor was free for its trace file (RLIMIT_NOFILE)";
    if (strcmp(why, "after setuid") == 0)
        return "exec after a privilege drop: the new program cannot reach the trace directory";
    if (strcmp(why, "after chroot") == 0)
        return "exec after chroot: the new program cannot reach the trace directory";
    if (strcmp(why, "after rlimit") == 0)
        return "exec with RLIMIT_NOFILE too low to open the trace directory";
    return why;
}

void fs_untraced_collect(const struct fs_model *m, struct fs_untraced_list *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->nimages; i++) {
        const struct fs_image *img = &m->images[i];
        for (size_t k = 0; k < img->nuntraced; k++) {
            const struct fs_untraced_rec *u = &img->untraced[k];
            add(out, u->pid, img->pid, *u->program ? u->program : img->exe, why_words(u->why));
        }
    }
    for (size_t i = 0; i < m->nprocs; i++) {
        const struct fs_process *p = &m->procs[i];
        const struct fs_image *last = p->images[p->nimages - 1];
        if (!last->execed || !last->exec_path)
            continue;
        add(out, p->pid, last->ppid, last->exec_path,
            last->exec_next ? why_words(last->exec_next)
                            : "its program did not load the shim (a static or set-user-ID "
                              "program, or LD_PRELOAD removed from its environment)");
    }
}

/* Trace bytes go to a terminal: anything but printable ASCII becomes '?'. */
static void put_clean(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++)
        dst[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    dst[n] = '\0';
}

void fs_untraced_warn(const struct fs_untraced_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        char prog[256];
        put_clean(prog, sizeof prog, l->items[i].program);
        fs_warn("process %d (%s, child of %d) was not traced: %s", l->items[i].pid, prog,
                l->items[i].parent, l->items[i].why);
    }
}

void fs_untraced_release(struct fs_untraced_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].program);
        free(l->items[i].why);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}
