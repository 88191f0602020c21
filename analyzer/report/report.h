/* The report model: what every renderer reads besides the findings (finding.h).  The run, the
 * process tree, counts, and the suppressions that matched, all typed, so that no renderer goes
 * back to the traces or the trace model (docs/architecture.md). */
#ifndef FORKSAN_REPORT_H
#define FORKSAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"

/* A named count, e.g. calls to a fork-safe randomness source. */
struct fs_report_count {
    const char *name;
    long count;
};

/* One image of a process (the first, then one per exec). */
struct fs_report_image {
    char *exe, *comm, *cmdline;
    int64_t time_ns; /* CLOCK_MONOTONIC when the image started */
};

/* A process of the tree, as the traces (and hang files) know it. */
struct fs_report_proc {
    int pid, ppid;
    bool traced; /* the shim wrote a trace for it (else known only from its hang file) */
    struct fs_report_image *images;
    size_t nimages;
    char *end_how;  /* exit, _exit, exec (the last image's end record), NULL when unknown */
    int64_t end_ns; /* 0 when unknown */
    bool hung;      /* it had a hang file: alive at the time limit, or ended by forksan */
    double hang_after;
    bool ended_by_forksan; /* --on-deadlock end */
};

/* What forksan run knows of the run itself; NULL for forksan report. */
struct fs_report_run {
    char *const *argv;        /* the program and its arguments */
    char *const *options;     /* forksan run's own options, before the program */
    bool started;             /* exec succeeded */
    int exit_code;            /* -1 unless it exited */
    int signal;               /* 0 unless killed by a signal */
    bool timed_out;           /* --timeout fired */
    double timeout;           /* seconds, 0 = none */
    int interrupted;          /* the signal that interrupted the run, or 0 */
    unsigned deadlocks_ended; /* children ended by --on-deadlock end */
    double duration;          /* seconds */
    int64_t start_wall_s;     /* Unix time of the start */
    long start_wall_ns;
    int64_t start_mono_ns; /* CLOCK_MONOTONIC of the start, the origin of trace times */
};

/* One line of a --suppressions file and what it did in this report: LeakSanitizer's
 * "Suppressions used", and the lines that matched nothing (candidates for deletion). */
struct fs_report_suppression {
    const char *file;    /* the suppressions file, absolute when it could be resolved */
    unsigned line;       /* 1-based line in it */
    const char *hazard;  /* a hazard id, or "*" */
    const char *pattern; /* the fnmatch(3) glob */
    unsigned matched;    /* findings it removed from the report; 0: unused */
};

/* What the report says about the run as a whole.  Any pointer may be NULL. */
struct fs_report_meta {
    const char *version;     /* forksan's version, e.g. FORKSAN_VERSION */
    const char *command;     /* the program that was run, or the trace directory analyzed */
    unsigned processes;      /* processes traced */
    unsigned untraced;       /* processes known to have run without a trace (untraced.c) */
    unsigned damaged_traces; /* trace files that were corrupt or truncated */
    const struct fs_report_count *safe_random; /* fork-safe randomness sources used */
    size_t nsafe_random;
    unsigned suppressed; /* findings removed by suppressions */
    const struct fs_report_suppression *suppressions; /* every line of every file, in order */
    size_t nsuppressions;
    const struct fs_report_run *run;
    const char *source_root;            /* --source-root: an absolute directory, or NULL */
    const struct fs_report_proc *procs; /* the whole tree */
    size_t nprocs;
};

#endif
