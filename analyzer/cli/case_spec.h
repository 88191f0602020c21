/* The reproduction cases' contract: parsing the header each case source states its expected
 * verdict in (see cases/README.md), resolving its `@marker` references to file:line, and
 * matching a run's findings against it.  Pure parsing and matching, no process is run here;
 * cmd_cases.c does the running. */
#ifndef FORKSAN_CASE_SPEC_H
#define FORKSAN_CASE_SPEC_H

#include "finding.h"

#include <stdbool.h>
#include <stddef.h>

#define FS_CASE_DEFAULT_TIMEOUT 10.0

/* A source location named by a marker: `@held` (the case's own file) or `native_holder.c@held`. */
struct fs_case_loc {
    char *marker; /* the name without '@' */
    char *file;   /* basename of the file the marker is in */
    int line;     /* 0 when the marker could not be resolved */
};

/* One expected finding.  Each site, when given, names a line that a frame of the finding's stack
 * of that role must be at: acquire= the "acquire" stack (where the holder took the lock), fork=
 * the "fork" stack, child= the "child-acquire" stack (a child-deadlock's call in the child), holder=
 * the "holder" stack (a Python holder's stack at the fork), hang= a "thread" stack of a child-hang. */
struct fs_case_expect {
    char *hazard;
    enum fs_severity severity;
    int py_min, py_max; /* python=3.A-3.B: expected only on those CPython versions (0, 99) */
    bool has_acquire, has_fork, has_child, has_exit, has_holder, has_hang;
    /* exit: the child's exit() call */
    struct fs_case_loc acquire, fork, child, exit, holder, hang;
    int header_line; /* where the expect: line is, for messages */
};

struct fs_case_spec {
    char *name;        /* file stem, e.g. "mutex_held" */
    char *file;        /* basename, e.g. "mutex_held.c" */
    char *path;        /* as given to fs_case_spec_load */
    bool python;       /* a .py case, run with python3 */
    char *description; /* the text after "forksan case:" */
    struct fs_case_expect *expects;
    size_t nexpects; /* 0 with expect_none: no findings at all */
    bool expect_none;
    double timeout;    /* seconds */
    char *on_deadlock; /* "wait", "fail" or "abort" from `on-deadlock:`, NULL when not given */
    char **args;
    size_t nargs;
    char **requires; /* programs that must be in PATH, e.g. "python3" */
    size_t nrequires;
    char **env; /* "NAME=value" from `env:`, set for the run (PYTHONUNBUFFERED=, limits) */
    size_t nenv;
    /* `python: 3.A-3.B`: the CPython minor versions the expectations hold for (inclusive);
     * 0 and 99 when not given. */
    int py_min, py_max;
    int run_minor; /* the CPython minor version a Python case ran with; -1 when unknown */
    char **errors; /* case-definition errors ("file:line: ..."); the case fails with them */
    size_t nerrors;
};

/* Reads path.  Returns 1 when it is a case (its header comment has a "forksan case:" line; errors
 * in the header or its markers are in spec->errors), 0 when it is not a case (a helper source),
 * -1 when it cannot be read (errno set).  spec must be released in the first case only. */
int fs_case_spec_load(const char *path, struct fs_case_spec *spec);
void fs_case_spec_release(struct fs_case_spec *spec);

/* True when the case declares a child-hang: its time limit is then meant to expire, and the run
 * is judged by its findings alone, not by its timing out or its exit status. */
bool fs_case_spec_expects_hang(const struct fs_case_spec *spec);

/* "lock-held-at-fork(warning)@mutex_held.c:31": the child site, else the acquire site, else the
 * fork site, if any. */
char *fs_case_expect_describe(const struct fs_case_expect *e);
/* The expectations joined with ", ", or "no findings" for expect: none. */
char *fs_case_spec_describe(const struct fs_case_spec *spec);

/* An argument with every "{casebin}" replaced by bin_dir. */
char *fs_case_expand_arg(const char *arg, const char *bin_dir);

struct fs_case_mismatches {
    char **msgs; /* one human-readable line each */
    size_t n;
};

/* Matches findings against the spec's expectations as multisets (every expectation claims a
 * distinct finding, every finding is claimed).  Returns true when they agree; otherwise out
 * explains each discrepancy.  Definition errors in the spec are not repeated here. */
bool fs_case_match(const struct fs_case_spec *spec, const struct fs_findings *findings,
                   struct fs_case_mismatches *out);
void fs_case_mismatches_release(struct fs_case_mismatches *m);

#endif
