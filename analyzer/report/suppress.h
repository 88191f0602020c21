/* Suppressions: a file of `hazard:pattern` lines that removes matching findings from a report,
 * as the sanitizers' suppression files do.  See docs/suppressions.md. */
#ifndef FORKSAN_SUPPRESS_H
#define FORKSAN_SUPPRESS_H

#include "finding.h"

#include <stddef.h>

struct fs_suppression {
    char *hazard;  /* a hazard id, or "*" */
    char *pattern; /* fnmatch(3) glob */
    char *origin;  /* "file:line", for messages */
    char *file;    /* the file, absolute when realpath(3) could resolve it */
    unsigned line;
    unsigned used;
};

struct fs_suppressions {
    struct fs_suppression *items;
    size_t n;
};

/* Adds the suppressions of one file.  Returns 0, or -1 with a one-line reason in err. */
int fs_suppressions_load(struct fs_suppressions *s, const char *path, char *err, size_t errlen);
/* Removes the findings that a suppression matches; returns how many were removed. */
size_t fs_suppressions_apply(struct fs_suppressions *s, struct fs_findings *findings);
void fs_suppressions_release(struct fs_suppressions *s);

#endif
