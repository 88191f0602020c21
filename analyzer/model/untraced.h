/* Processes that ran but left no trace of their own, with program and reason (untraced.c). */
#ifndef FORKSAN_UNTRACED_H
#define FORKSAN_UNTRACED_H

#include <stddef.h>

struct fs_model;

struct fs_untraced {
    int pid, parent;
    char *program; /* the program it ran, as the traces name it ("" when unknown) */
    char *why;     /* a sentence for people */
};

struct fs_untraced_list {
    struct fs_untraced *items;
    size_t n;
};

void fs_untraced_collect(const struct fs_model *m, struct fs_untraced_list *out);
/* One stderr line per process: "process N (PROGRAM, child of M) was not traced: WHY". */
void fs_untraced_warn(const struct fs_untraced_list *l);
void fs_untraced_release(struct fs_untraced_list *l);

#endif
