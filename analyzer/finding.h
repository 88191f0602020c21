/* Findings: what the rules produce and every renderer consumes.  A finding carries everything a
 * report needs (symbolized stacks, details, the process path), so renderers never go back to the
 * traces. */
#ifndef FORKSAN_FINDING_H
#define FORKSAN_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fs_severity {
    FS_SEV_NOTE = 0,
    FS_SEV_WARNING,
    FS_SEV_ERROR,
};

const char *fs_severity_name(enum fs_severity sev); /* "note", "warning", "error" */
/* -1 when unknown. Accepts the names above. */
int fs_severity_from_name(const char *name);

/* What a frame is: native code (pc, module) or a Python function (file, line, function). */
enum fs_frame_lang { FS_LANG_NATIVE = 0, FS_LANG_PYTHON };

/* Whose code a frame runs, for folding and for the primary location: the program's own (a
 * Python file outside the standard library, a native module outside the system's and the
 * interpreter's), Python's standard library, the interpreter itself (libpython, the python
 * executable: folded away unless --native), or a system library (libc, lib-dynload). */
enum fs_frame_origin { FS_ORIGIN_USER = 0, FS_ORIGIN_STDLIB, FS_ORIGIN_INTERP, FS_ORIGIN_SYSTEM };
const char *fs_frame_lang_name(enum fs_frame_lang lang);
const char *fs_frame_origin_name(enum fs_frame_origin origin);

struct fs_frame {
    enum fs_frame_lang lang;
    enum fs_frame_origin origin;
    uint64_t pc;    /* as recorded (a return address, unadjusted); 0 for Python frames */
    char *function; /* NULL when unknown */
    char *file;     /* NULL when unknown; as in DWARF (may be relative to comp_dir) */
    int line;       /* 0 when unknown */
    int column;
    bool inlined;    /* this frame was inlined into the next one */
    char *module;    /* path of the module, NULL when the address is in none */
    uint64_t offset; /* pc - module load bias */
    uint64_t fn_off; /* pc - function start, when function is known */
};

struct fs_stack {
    char *role;        /* "fork", "acquire", "thread-start", ... */
    int tid;           /* whose stack, 0 when not applicable */
    char *thread_name; /* the thread's Python name (threading.Thread), NULL when none */
    size_t folded;     /* interpreter frames left out (shown with --native) */
    struct fs_frame *frames;
    size_t nframes;
};

struct fs_kv {
    char *key;
    char *value;
};

struct fs_proc_ref {
    int pid;
    char *name;
};

struct fs_finding {
    char *hazard; /* the id from HAZARDS.md, e.g. "lock-held-at-fork" */
    enum fs_severity severity;
    char *summary;            /* one line */
    int pid;                  /* the process the finding is about */
    struct fs_proc_ref *path; /* root ... pid */
    size_t npath;
    struct fs_kv *details; /* ordered, rendered as they are */
    size_t ndetails;
    struct fs_stack *stacks;
    size_t nstacks;
};

struct fs_findings {
    struct fs_finding *items;
    size_t n;
};

/* Builders: they abort on allocation failure (the analyzer is a batch tool). */
struct fs_finding *fs_findings_add(struct fs_findings *list, const char *hazard,
                                   enum fs_severity sev, int pid);
void fs_finding_summary(struct fs_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fs_finding_detail(struct fs_finding *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fs_finding_path_add(struct fs_finding *f, int pid, const char *name);
struct fs_stack *fs_finding_stack_add(struct fs_finding *f, const char *role, int tid);
struct fs_frame *fs_stack_frame_add(struct fs_stack *s);
void fs_findings_release(struct fs_findings *list);
/* Before rendering: marks frames of system libraries, and leaves out interpreter frames unless
 * `native` (counting them in each stack's `folded`). */
void fs_findings_finish(struct fs_findings *list, bool native);
/* The primary location of f: the innermost frame of the program's own code, searched in the
 * stacks by role (the child's call, the acquisition, the holder at the fork, the fork, ...), else
 * the first frame with a source line in that order; NULL when no frame has one.  The indexes of
 * its stack and frame go to *stack and *frame when those are not NULL. */
const struct fs_frame *fs_finding_primary(const struct fs_finding *f, size_t *stack,
                                          size_t *frame);
/* Orders by severity (errors first), then pid, then hazard; stable for equal keys. */
void fs_findings_sort(struct fs_findings *list);
/* The highest severity present, or -1 when there are no findings. */
int fs_findings_max_severity(const struct fs_findings *list);
const char *fs_finding_detail_get(const struct fs_finding *f, const char *key);

/* Small helpers the whole analyzer uses; they abort on allocation failure. */
void *fs_xcalloc(size_t n, size_t size);
void *fs_xrealloc(void *p, size_t n, size_t size);
char *fs_xstrdup(const char *s);
char *fs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
