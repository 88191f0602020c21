/* Findings container and builders; see finding.h. */
#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const severity_names[] = {
    [FS_SEV_NOTE] = "note",
    [FS_SEV_WARNING] = "warning",
    [FS_SEV_ERROR] = "error",
};

const char *fs_severity_name(enum fs_severity sev)
{
    if ((unsigned)sev < sizeof severity_names / sizeof *severity_names)
        return severity_names[sev];
    return "unknown";
}

int fs_severity_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof severity_names / sizeof *severity_names; i++)
        if (strcmp(severity_names[i], name) == 0)
            return (int)i;
    return -1;
}

static void oom(void)
{
    fputs("forksan: out of memory\n", stderr);
    abort();
}

void *fs_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *fs_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        oom();
    return q;
}

char *fs_xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        oom();
    return d;
}

static char *vasprintf_x(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        oom();
    return s;
}

char *fs_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vasprintf_x(fmt, ap);
    va_end(ap);
    return s;
}

struct fs_finding *fs_findings_add(struct fs_findings *list, const char *hazard,
                                   enum fs_severity sev, int pid)
{
    list->items = fs_xrealloc(list->items, list->n + 1, sizeof *list->items);
    struct fs_finding *f = &list->items[list->n++];
    memset(f, 0, sizeof *f);
    f->hazard = fs_xstrdup(hazard);
    f->severity = sev;
    f->pid = pid;
    return f;
}

void fs_finding_summary(struct fs_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(f->summary);
    f->summary = vasprintf_x(fmt, ap);
    va_end(ap);
}

void fs_finding_detail(struct fs_finding *f, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    f->details = fs_xrealloc(f->details, f->ndetails + 1, sizeof *f->details);
    f->details[f->ndetails].key = fs_xstrdup(key);
    f->details[f->ndetails].value = vasprintf_x(fmt, ap);
    f->ndetails++;
    va_end(ap);
}

const char *fs_finding_detail_get(const struct fs_finding *f, const char *key)
{
    for (size_t i = 0; i < f->ndetails; i++)
        if (strcmp(f->details[i].key, key) == 0)
            return f->details[i].value;
    return NULL;
}

void fs_finding_path_add(struct fs_finding *f, int pid, const char *name)
{
    f->path = fs_xrealloc(f->path, f->npath + 1, sizeof *f->path);
    f->path[f->npath].pid = pid;
    f->path[f->npath].name = fs_xstrdup(name);
    f->npath++;
}

struct fs_stack *fs_finding_stack_add(struct fs_finding *f, const char *role, int tid)
{
    f->stacks = fs_xrealloc(f->stacks, f->nstacks + 1, sizeof *f->stacks);
    struct fs_stack *s = &f->stacks[f->nstacks++];
    memset(s, 0, sizeof *s);
    s->role = fs_xstrdup(role);
    s->tid = tid;
    return s;
}

struct fs_frame *fs_stack_frame_add(struct fs_stack *s)
{
    s->frames = fs_xrealloc(s->frames, s->nframes + 1, sizeof *s->frames);
    struct fs_frame *fr = &s->frames[s->nframes++];
    memset(fr, 0, sizeof *fr);
    return fr;
}

static void stack_release(struct fs_stack *s)
{
    for (size_t i = 0; i < s->nframes; i++) {
        free(s->frames[i].function);
        free(s->frames[i].file);
        free(s->frames[i].module);
    }
    free(s->frames);
    free(s->role);
    free(s->thread_name);
}

void fs_findings_release(struct fs_findings *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct fs_finding *f = &list->items[i];
        free(f->hazard);
        free(f->summary);
        for (size_t j = 0; j < f->npath; j++)
            free(f->path[j].name);
        free(f->path);
        for (size_t j = 0; j < f->ndetails; j++) {
            free(f->details[j].key);
            free(f->details[j].value);
        }
        free(f->details);
        for (size_t j = 0; j < f->nstacks; j++)
            stack_release(&f->stacks[j]);
        free(f->stacks);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int cmp_finding(const struct fs_finding *a, const struct fs_finding *b)
{
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->pid != b->pid)
        return a->pid < b->pid ? -1 : 1;
    return strcmp(a->hazard, b->hazard);
}

/* Stable merge sort of a[0..n) using tmp (n items). */
static void merge_sort(struct fs_finding *a, struct fs_finding *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_finding(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

void fs_findings_sort(struct fs_findings *list)
{
    /* Stable (equal findings keep the rules' order), and n log n: a tree of 100,000 processes
     * can give as many findings before merging. */
    if (list->n < 2)
        return;
    struct fs_finding *tmp = fs_xcalloc(list->n, sizeof *tmp);
    merge_sort(list->items, tmp, list->n);
    free(tmp);
}

int fs_findings_max_severity(const struct fs_findings *list)
{
    int max = -1;
    for (size_t i = 0; i < list->n; i++)
        if ((int)list->items[i].severity > max)
            max = (int)list->items[i].severity;
    return max;
}
