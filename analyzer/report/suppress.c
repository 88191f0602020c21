/* Suppressions (suppress.h).  A finding is suppressed when its hazard matches and the pattern
 * matches, anywhere in any of its stacks, a frame's function, its source file (full path or base
 * name) or its module (full path or base name): the same rule ThreadSanitizer users know. */
#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool known_hazard(const char *h)
{
    static const char *const ids[] = {
        "*",
        "lock-held-at-fork",
        "lock-held-by-forker",
        "threads-at-fork",
        "child-deadlock",
        "fork-lock-race",
        "child-hang",
        "rng-duplicated",
        "rng-inherited",
        "rng-unseeded",
    };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (strcmp(ids[i], h) == 0)
            return true;
    return false;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int fs_suppressions_load(struct fs_suppressions *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read suppressions file %s: %s", path, strerror(errno));
        return -1;
    }
    char *abs = realpath(path, NULL);
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        char *colon = strchr(t, ':');
        if (colon)
            *colon = '\0';
        char *hazard = trim(t), *pattern = colon ? trim(colon + 1) : NULL;
        if (!pattern || !*pattern || !known_hazard(hazard)) {
            snprintf(err, errlen, "%s:%u: expected HAZARD:PATTERN with a known hazard id, got '%s'",
                     path, lineno, t);
            rc = -1;
            break;
        }
        s->items = fs_xrealloc(s->items, s->n + 1, sizeof *s->items);
        s->items[s->n++] = (struct fs_suppression){fs_xstrdup(hazard), fs_xstrdup(pattern),
                                                   fs_xasprintf("%s:%u", path, lineno),
                                                   fs_xstrdup(abs ? abs : path), lineno, 0};
    }
    fclose(f);
    free(abs);
    return rc;
}

static bool match(const char *pattern, const char *s)
{
    if (!s || !*s)
        return false;
    if (fnmatch(pattern, s, 0) == 0)
        return true;
    const char *base = strrchr(s, '/');
    return base && fnmatch(pattern, base + 1, 0) == 0;
}

static bool suppresses(const struct fs_suppression *sup, const struct fs_finding *f)
{
    if (strcmp(sup->hazard, "*") != 0 && strcmp(sup->hazard, f->hazard) != 0)
        return false;
    for (size_t i = 0; i < f->nstacks; i++)
        for (size_t k = 0; k < f->stacks[i].nframes; k++) {
            const struct fs_frame *fr = &f->stacks[i].frames[k];
            if (match(sup->pattern, fr->function) || match(sup->pattern, fr->file) ||
                match(sup->pattern, fr->module))
                return true;
        }
    return false;
}

size_t fs_suppressions_apply(struct fs_suppressions *s, struct fs_findings *findings)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < findings->n; i++) {
        struct fs_suppression *hit = NULL;
        for (size_t k = 0; k < s->n && !hit; k++)
            if (suppresses(&s->items[k], &findings->items[i]))
                hit = &s->items[k];
        if (!hit) {
            findings->items[kept++] = findings->items[i];
            continue;
        }
        hit->used++;
        /* Release it through the list's own release: a one-item list. */
        struct fs_findings one = {fs_xcalloc(1, sizeof *one.items), 1};
        one.items[0] = findings->items[i];
        fs_findings_release(&one);
        removed++;
    }
    findings->n = kept;
    return removed;
}

void fs_suppressions_release(struct fs_suppressions *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].hazard);
        free(s->items[i].pattern);
        free(s->items[i].origin);
        free(s->items[i].file);
    }
    free(s->items);
    s->items = NULL;
    s->n = 0;
}
