/* Running a program under the shim (runner.c): its options and what came of it.  The rest of
 * run/ watches the running tree (deadwatch.c), captures hung processes (hang.c) and walks the
 * tree (tree.c); what it leaves behind is trace and hang files, which model/ reads. */
#ifndef FORKSAN_RUN_H
#define FORKSAN_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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

#endif
