/* What the subcommands (cmd_*.c) share: running a program under the shim, analysing a trace
 * directory, rendering, the exit-status policy, and finding the shim and the case suite. */
#ifndef FORKSAN_CLI_H
#define FORKSAN_CLI_H

#include "finding.h"
#include "render.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Exit statuses, documented in `forksan --help` and the README. */
enum {
    FS_EXIT_OK = 0,
    FS_EXIT_CASES_FAILED = 1, /* forksan cases: a case did not give its expected verdict */
    FS_EXIT_USAGE = 2,        /* bad command line */
    FS_EXIT_FINDINGS = 66,    /* findings at or above --fail-on (default; --exitcode changes it) */
    FS_EXIT_DAMAGED = 65,     /* report: traces were damaged, nothing reached --fail-on */
    FS_EXIT_INTERNAL = 125,   /* forksan itself failed (no traces, cannot write the report) */
    FS_EXIT_NOEXEC = 126,     /* the program exists but could not be executed */
    FS_EXIT_NOTFOUND = 127,   /* the program was not found */
};

/* ---- running a program (runner.c) --------------------------------------------------------- */

struct fs_run_opts {
    char *const *argv;      /* program and arguments; argv[0] is searched in PATH */
    const char *trace_dir;  /* an existing private directory */
    const char *shim_path;  /* libforksan.so */
    double timeout;         /* seconds; 0 = none */
    char *const *extra_env; /* NULL-terminated "NAME=value" entries to set, or NULL */
    int stdout_fd;          /* -1: inherit */
    int stderr_fd;          /* -1: inherit */
    bool watch_deadlocks;   /* announce children blocking on inherited locks (deadwatch.h) */
    bool end_deadlocked;    /* and end them after FS_DEADLOCK_GRACE (--on-deadlock end) */
};

struct fs_run_result {
    bool started;       /* exec succeeded */
    int exec_errno;     /* why it did not */
    int status;         /* wait status of the program (the direct child) */
    bool timed_out;     /* the time limit expired and the tree was ended */
    int interrupted;    /* the signal (SIGINT, SIGTERM, SIGHUP) that interrupted the run, or 0 */
    unsigned leftovers; /* descendants still alive when the program's tree was ended */
    unsigned deadlocks_ended;   /* children ended because they blocked on an inherited lock */
    int *signalled;             /* pids forksan reaped killed by a signal (malloc'd) */
    size_t nsignalled;
    double duration;            /* seconds from start to the end of the tree */
    struct timespec start_wall; /* CLOCK_REALTIME at the start */
    int64_t start_mono_ns;      /* CLOCK_MONOTONIC at the start */
};

/* Runs the program with the shim and waits for its whole process tree (forksan is a child
 * subreaper, so orphaned descendants come back to it).  Returns 0, or -1 when forksan itself
 * failed (errno set). */
int fs_run_program(const struct fs_run_opts *opts, struct fs_run_result *res);
/* The exit status `forksan run` passes on for a program: its own, or 128+signal. */
int fs_run_exit_status(const struct fs_run_result *res);

/* ---- analysing traces (analyze.c) ------------------------------------------------------------ */

struct fs_analysis {
    struct fs_findings findings;         /* sorted */
    unsigned processes;                  /* processes traced */
    unsigned untraced;                   /* processes known to have run without a trace */
    unsigned damaged;                    /* trace files damaged or unusable */
    struct fs_report_count *safe_random; /* fork-safe randomness sources, summed over the tree */
    size_t nsafe_random;
    unsigned suppressed;          /* findings removed by --suppressions */
    struct fs_report_proc *procs; /* the process tree */
    size_t nprocs;
};

/* Loads dir, applies every rule, symbolizes.  Returns 0, or -1 when dir cannot be read at all
 * (errno set).  Problems with single files are reported on stderr and counted in damaged. */
int fs_analyze_dir(const char *dir, struct fs_analysis *out);
void fs_analysis_release(struct fs_analysis *a);

/* ---- reporting (report.c) ------------------------------------------------------------------ */

enum fs_format {
    FS_FORMAT_TEXT,
    FS_FORMAT_JSON,
    FS_FORMAT_SARIF,
    FS_FORMAT_JUNIT,
    FS_FORMAT_HTML,
    FS_FORMAT_COUNT
};

#define FS_REPORT_MAX_OUTPUTS FS_FORMAT_COUNT

struct fs_report_opts {
    enum fs_format formats[FS_REPORT_MAX_OUTPUTS]; /* --format a,b,...; none given: text */
    size_t nformats;
    const char *outputs[FS_REPORT_MAX_OUTPUTS]; /* -o, in order: one, or one per format */
    size_t noutputs;
    /* Where the text report goes without -o: standard error for `run` (the program owns
     * standard output), standard output for `report`.  Machine formats of `run` need -o. */
    bool run;
    FILE *files[FS_REPORT_MAX_OUTPUTS]; /* opened by fs_report_open, one per format */
    char *paths[FS_REPORT_MAX_OUTPUTS]; /* their names, for messages; NULL for std streams */
    bool opened;
    int fail_on;         /* enum fs_severity, or -1 for never */
    int exitcode;        /* status when findings reach fail_on */
    const char *command; /* what was analysed, for the report header */
    bool native;         /* --native: keep the interpreter's frames among Python frames */
    int color;           /* --color: -1 auto (a terminal, and NO_COLOR unset), 0 never, 1 always */
    bool gen_suppressions; /* --gen-suppressions: print a suppression line per finding */
    const struct fs_report_run *run_info; /* forksan run's facts, NULL for report */
    char *source_root;                    /* --source-root, made absolute */
};

/* Parses the options every reporting subcommand shares; returns 1 if argv[*i] was one of them
 * (advancing *i past its value), 0 if not, -1 on a bad value (message printed). */
int fs_report_parse_option(struct fs_report_opts *o, int argc, char **argv, int *i);
void fs_report_opts_init(struct fs_report_opts *o);
/* Closes what fs_report_open opened and frees what it allocated, when the report is not to be
 * written after all (fs_report_write does it itself). */
void fs_report_close(struct fs_report_opts *o);
/* Decides where each format goes and opens every output file, before anything runs: returns 0,
 * or the exit status to use (FS_EXIT_USAGE for a combination that does not work,
 * FS_EXIT_INTERNAL for a file that cannot be written), the message printed. */
int fs_report_open(struct fs_report_opts *o);
/* Applies the suppressions to the findings, then writes the report in every format to the
 * outputs fs_report_open opened (and closes them); returns 0, or -1 when one could not be written
 * (message printed). */
int fs_report_write(struct fs_report_opts *o, struct fs_analysis *a);
/* True when the findings reach the --fail-on threshold. */
bool fs_report_fails(const struct fs_report_opts *o, const struct fs_analysis *a);

/* ---- locations (paths.c) ------------------------------------------------------------------- */

/* The shim next to this forksan: $FORKSAN_LIB, else ../lib/forksan/libforksan.so relative to the
 * executable (install and build trees share that layout).  NULL when none exists. */
const char *fs_paths_shim(void);
/* Where the case binaries and sources are ($FORKSAN_CASES_DIR overrides the sources). */
const char *fs_paths_cases_bin(void);
const char *fs_paths_cases_src(void);
/* A fresh private trace directory under $TMPDIR or /tmp (mkdtemp, mode 0700); malloc'd. */
char *fs_paths_make_trace_dir(void);
/* path made absolute against the current directory, without resolving anything (a relative
 * trace directory must not move when the program chdirs); malloc'd, NULL with errno set. */
char *fs_paths_absolute(const char *path);
/* Checks that an existing dir is one the shim will write into: a directory (not a symlink to
 * one), owned by this user, not writable by group or others.  0, or -1 with a one-line reason
 * and what to do in why. */
int fs_paths_check_trace_dir(const char *dir, char *why, size_t size);
/* Why a program that ran left no trace: setuid/setgid, static, or else LD_PRELOAD removed. */
void fs_paths_untraced_reason(const char *prog, char *why, size_t size);
/* Removes a trace directory made by forksan (its *.trace files, then the directory). */
void fs_paths_remove_trace_dir(const char *dir);

/* ---- subcommands ------------------------------------------------------------------------- */

int fs_cmd_run(int argc, char **argv);
int fs_cmd_report(int argc, char **argv);
int fs_cmd_cases(int argc, char **argv);

#endif
