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

/* A detail's value for the machine formats; the text report shows `value` (prose, units). */
enum fs_dtype {
    FS_DT_STRING = 0, /* `value` itself */
    FS_DT_INT,        /* `i` */
    FS_DT_REAL,       /* `r` */
    FS_DT_BOOL,       /* `b` */
    FS_DT_ITEM,       /* one object (`fields`) of the array named `list`, or the value of
                         `key` when `list` is NULL */
    FS_DT_INTS,       /* `ints`, `nints` */
    FS_DT_REALS,      /* `reals`, `nints` */
};

/* A field of an item: a typed scalar, never itself an item. */
struct fs_field_val {
    char *name;
    enum fs_dtype type;
    char *s;
    long long i;
    double r;
    bool b;
    long long *ints;
    double *reals;
    size_t nints;
};

struct fs_kv {
    char *key;   /* as the text report shows it ("thread 4243") */
    char *value; /* as the text report shows it ("\"worker\": asleep") */
    enum fs_dtype type;
    long long i;
    double r;
    bool b;
    char *list; /* FS_DT_ITEM: the JSON array this item belongs to ("threads") */
    struct fs_field_val *fields;
    size_t nfields;
    long long *ints;
    size_t nints;
};

struct fs_proc_ref {
    int pid;
    char *name;
};

struct fs_finding {
    char *id;     /* stable within a report: "F1", "F2", ... in report order */
    char *hazard; /* the id from HAZARDS.md, e.g. "lock-held-at-fork" */
    enum fs_severity severity;
    char *summary;            /* one line */
    int pid;                  /* the process the finding is about */
    int64_t time_ns; /* CLOCK_MONOTONIC of the trace record that produced it (the fork, the
                        child's call), as every trace time; 0 when no record says */
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
/* Typed details (docs/report-json.md lists every hazard's keys): the text report shows them as
 * `key: value`, the machine formats by type.  fs_finding_detail above gives a string. */
void fs_finding_detail_int(struct fs_finding *f, const char *key, long long v);
/* The same with the text report's words ("taken 3 times"). */
void fs_finding_detail_int_text(struct fs_finding *f, const char *key, long long v,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A list of numbers (pids): an array for tools, `text` for people. */
void fs_finding_detail_ints(struct fs_finding *f, const char *key, const long long *v, size_t n,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void fs_finding_detail_bool(struct fs_finding *f, const char *key, bool v);
/* A number with a unit for people ("5 s") and a plain number for tools. */
void fs_finding_detail_real(struct fs_finding *f, const char *key, double v, const char *text);
/* One object of the array `list`, shown in the text report as `key: text`; its fields are added
 * with fs_kv_*.  Several items may share a list. */
struct fs_kv *fs_finding_item(struct fs_finding *f, const char *list, const char *key,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void fs_kv_int(struct fs_kv *item, const char *name, long long v);
void fs_kv_str(struct fs_kv *item, const char *name, const char *v);
void fs_kv_bool(struct fs_kv *item, const char *name, bool v);
void fs_kv_real(struct fs_kv *item, const char *name, double v);
void fs_kv_ints(struct fs_kv *item, const char *name, const long long *v, size_t n);
void fs_kv_reals(struct fs_kv *item, const char *name, const double *v, size_t n);
/* Gives the last detail (added with fs_finding_detail) a boolean value for tools. */
void fs_finding_detail_as_bool(struct fs_finding *f, bool v);
/* Links between findings: f's `related` detail names a hazard; this is the id of the finding of
 * that hazard about the same process and lock, or NULL. */
const char *fs_finding_related_id(const struct fs_findings *list, const struct fs_finding *f);
/* Numbers the findings F1, F2, ... in their current order. */
void fs_findings_number(struct fs_findings *list);
/* The last detail added, to give it a type after fs_finding_detail. */
struct fs_kv *fs_finding_detail_last(struct fs_finding *f);
void fs_finding_path_add(struct fs_finding *f, int pid, const char *name);
struct fs_stack *fs_finding_stack_add(struct fs_finding *f, const char *role, int tid);
struct fs_frame *fs_stack_frame_add(struct fs_stack *s);
void fs_findings_release(struct fs_findings *list);
/* True for a stack that had frames and lost them all to folding (a Python lock's acquisition
 * site, in the interpreter): the formats for people leave it out, as it would show an empty
 * section; JSON and SARIF keep it, with its folded count. */
bool fs_stack_folded_away(const struct fs_stack *s);
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
