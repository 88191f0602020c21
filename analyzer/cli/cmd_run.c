/* forksan run: run a program and its whole process tree under the shim, then report. */
#include "cli.h"
#include "deadwatch.h"
#include "diag.h"
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* "2s", "500ms", "1m", "1.5" (seconds): a positive duration in seconds, or -1. */
static int parse_duration(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || !(d > 0))
        return -1;
    if (strcmp(end, "ms") == 0)
        d /= 1000;
    else if (strcmp(end, "m") == 0)
        d *= 60;
    else if (strcmp(end, "h") == 0)
        d *= 3600;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    if (!(d > 0) || d > 1e9)
        return -1;
    *out = d;
    return 0;
}

/* The exit status `forksan run` passes on for a program: its own, or 128+signal. */
static int run_exit_status(const struct fs_run_result *res)
{
    if (!res->started)
        return res->exec_errno == ENOENT ? FS_EXIT_NOTFOUND : FS_EXIT_NOEXEC;
    if (WIFEXITED(res->status))
        return WEXITSTATUS(res->status);
    if (WIFSIGNALED(res->status))
        return 128 + WTERMSIG(res->status);
    return FS_EXIT_INTERNAL;
}

static const char usage[] =
    "usage: forksan run [options] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with libforksan.so preloaded, follows every process it starts (through fork\n"
    "and exec), waits for the whole process tree, then reports fork hazards.\n"
    "\n"
    "The text report goes to standard error, as the sanitizers' do, so that the program keeps\n"
    "standard output to itself; machine formats go to the file named with -o.\n"
    "\n"
    "Report options:\n"
    "  --format FORMAT[,FORMAT...]\n"
    "                         text (default), json, sarif (SARIF 2.1.0 for CI), junit\n"
    "                         (JUnit XML) or html (one self-contained page); all but\n"
    "                         text need -o\n"
    "  -o, --output FILE      write the report to FILE (- for standard output); with several\n"
    "                         formats, a base name (FILE.txt, .json, .sarif, .junit.xml,\n"
    "                         .html) or one -o per format, in the order of --format.\n"
    "                         Checked before PROGRAM starts\n"
    "  --fail-on LEVEL        note, warning (default), error or never: findings at or above\n"
    "                         LEVEL make forksan exit with --exitcode\n"
    "  --exitcode N           exit status when findings reach --fail-on (default 66)\n"
    "  --suppressions FILE    drop findings matching FILE's HAZARD:PATTERN lines (repeatable;\n"
    "                         see docs/suppressions.md)\n"
    "  --source-root DIR      SARIF: files under DIR become relative URIs (uriBaseId\n"
    "                         %SRCROOT%), as GitHub code scanning wants them\n"
    "  --native               Python processes: show the interpreter's own frames (libpython,\n"
    "                         ceval) among the Python frames instead of folding them away\n"
    "Run options:\n"
    "  --timeout DURATION     end the process tree after DURATION: 2s, 500ms, 1m, or plain\n"
    "                         seconds (default: no limit)\n"
    "  --trace-dir DIR        write traces to DIR (created, mode 0700) and keep them\n"
    "  --keep-traces          keep the temporary trace directory and print its path\n"
    "  --lock-stack N         frames recorded per lock acquisition (default 1, max 16)\n"
    "  --max-processes N      processes of the tree alive at once before fork() fails with\n"
    "                         EAGAIN (default 512; 0 = no limit)\n"
    "  --max-forks N          forks by the whole tree before fork() fails with EAGAIN\n"
    "                         (default 100000; 0 = no limit)\n"
    "  --zombie-threshold SECONDS\n"
    "                         report a child that stayed a zombie longer than SECONDS before\n"
    "                         its parent waited for it (default 3)\n"
    "  --on-deadlock POLICY   a forked child calling a lock function on a lock inherited held by\n"
    "                         a thread that does not exist in it is announced on standard error\n"
    "                         at once; then: end (default: if still blocked 1 s later, its\n"
    "                         stacks are captured and it is killed with SIGKILL, as a crash\n"
    "                         would end it; the rest of the tree goes on), wait (the call\n"
    "                         blocks, as it would), fail (the call returns the error a timed\n"
    "                         variant would), abort (the child gets SIGABRT)\n"
    "  --color WHEN           color the text report: auto (default: on a terminal, unless\n"
    "                         NO_COLOR is set), always, never\n"
    "  --gen-suppressions     after the report, print a HAZARD:PATTERN suppression line per\n"
    "                         finding on standard error\n"
    "  -q, --quiet            no forksan messages on standard error (the report still prints)\n"
    "  -h, --help             this help\n"
    "\n"
    "Options can also come from the environment: FORKSAN_OPTIONS=\"--timeout 30s --format\n"
    "sarif -o r.sarif\" (options only, separated by spaces, no quoting) is read before the\n"
    "command line, which wins where both give one.\n"
    "\n"
    "Exit status: the program's own (128+N if it was killed by signal N), unless findings reach\n"
    "--fail-on (66); 2 usage error; 125 forksan failed; 126 PROGRAM not executable; 127 not "
    "found.\n";

static int run_main(int argc, char **argv)
{
    struct fs_report_opts ro;
    fs_report_opts_init(&ro);
    struct fs_run_opts opts = {.stdout_fd = -1, .stderr_fd = -1};
    const char *trace_dir = NULL;
    bool keep = false;
    const char *on_deadlock = "end";
    char *extra[8] = {0};
    size_t nextra = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;
        int r = fs_report_parse_option(&ro, argc, argv, &i);
        if (r < 0)
            return FS_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return FS_EXIT_OK;
        } else if (strcmp(a, "--keep-traces") == 0) {
            keep = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            fs_diag_set_quiet(true);
        } else if ((strcmp(a, "--timeout") == 0 || strcmp(a, "--trace-dir") == 0 ||
                    strcmp(a, "--lock-stack") == 0 || strcmp(a, "--on-deadlock") == 0 ||
                    strcmp(a, "--max-processes") == 0 || strcmp(a, "--max-forks") == 0 ||
                    strcmp(a, "--zombie-threshold") == 0) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            if (nextra + 2 >= sizeof extra / sizeof *extra) {
                fprintf(stderr, "forksan: too many run options\n");
                return FS_EXIT_USAGE;
            }
            if (strcmp(a, "--trace-dir") == 0) {
                trace_dir = v;
            } else if (strcmp(a, "--max-processes") == 0 || strcmp(a, "--max-forks") == 0) {
                long n = strtol(v, &end, 10);
                if (!*v || *end || n < 0 || n > 100000000) {
                    fprintf(stderr, "forksan: %s takes a number from 0 to 100000000\n", a);
                    return FS_EXIT_USAGE;
                }
                extra[nextra++] = fs_xasprintf("FORKSAN_MAX_%s=%ld",
                                               a[6] == 'p' ? "PROCESSES" : "FORKS", n);
            } else if (strcmp(a, "--zombie-threshold") == 0) {
                errno = 0;
                double sec = strtod(v, &end);
                if (errno || end == v || *end || !isfinite(sec) || sec < 0 || sec > 1e6) {
                    fprintf(stderr, "forksan: --zombie-threshold takes a number of seconds from "
                                    "0 to 1000000, not '%s'\n",
                            v);
                    return FS_EXIT_USAGE;
                }
                extra[nextra++] = fs_xasprintf("FORKSAN_ZOMBIE_THRESHOLD_MS=%ld",
                                               (long)(sec * 1000.0 + 0.5));
            } else if (strcmp(a, "--on-deadlock") == 0) {
                if (strcmp(v, "end") != 0 && strcmp(v, "wait") != 0 && strcmp(v, "fail") != 0 &&
                    strcmp(v, "abort") != 0) {
                    fprintf(stderr, "forksan: --on-deadlock takes end, wait, fail or abort\n");
                    return FS_EXIT_USAGE;
                }
                on_deadlock = v;
            } else if (strcmp(a, "--timeout") == 0) {
                if (parse_duration(v, &opts.timeout) < 0) {
                    fprintf(stderr, "forksan: --timeout takes a duration such as 2s, 500ms, 1m "
                                    "or 30 (seconds), not '%s'\n",
                            v);
                    return FS_EXIT_USAGE;
                }
            } else {
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 16) {
                    fprintf(stderr, "forksan: --lock-stack takes a number from 1 to 16\n");
                    return FS_EXIT_USAGE;
                }
                extra[nextra++] = fs_xasprintf("FORKSAN_LOCK_STACK=%ld", n);
            }
        } else {
            fprintf(stderr, "forksan: unknown or incomplete option '%s' (see forksan run --help)\n",
                    a);
            return FS_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "forksan: run needs a program to run (see forksan run --help)\n");
        return FS_EXIT_USAGE;
    }
    opts.argv = argv + i;
    opts.watch_deadlocks = true;
    opts.end_deadlocked = strcmp(on_deadlock, "end") == 0;
    opts.extra_env = extra;
    ro.run = true;
    int orc = fs_report_open(&ro);
    if (orc != 0) {
        fs_report_close(&ro);
        for (size_t k = 0; k < nextra; k++)
            free(extra[k]);
        return orc;
    }
    opts.shim_path = fs_paths_shim();
    if (!opts.shim_path) {
        fprintf(stderr, "forksan: cannot find libforksan.so next to this forksan; build or "
                        "install it, or set FORKSAN_LIB\n");
        return FS_EXIT_INTERNAL;
    }

    char *dir;
    if (trace_dir) {
        /* Absolute before the program starts: it may chdir, and its children inherit the
         * variable. */
        if (!(dir = fs_paths_absolute(trace_dir))) {
            fprintf(stderr, "forksan: cannot make %s absolute: %s\n", trace_dir, strerror(errno));
            return FS_EXIT_INTERNAL;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "forksan: cannot create trace directory %s: %s\n", dir,
                    strerror(errno));
            free(dir);
            return FS_EXIT_INTERNAL;
        }
        /* A directory the shim refuses would leave every process untraced, silently. */
        char why[512];
        if (fs_paths_check_trace_dir(dir, why, sizeof why) < 0) {
            fprintf(stderr, "forksan: %s\n", why);
            free(dir);
            return FS_EXIT_INTERNAL;
        }
        keep = true;
    } else if (!(dir = fs_paths_make_trace_dir())) {
        fprintf(stderr, "forksan: cannot create a trace directory: %s\n", strerror(errno));
        return FS_EXIT_INTERNAL;
    }
    opts.trace_dir = dir;
    ro.command = opts.argv[0];

    /* end is forksan's: the shim lets the call block, and the runner ends the child.  Made
     * here, after every check that can refuse the run, so that no early return leaks it. */
    extra[nextra++] = fs_xasprintf("FORKSAN_ON_DEADLOCK=%s",
                                   strcmp(on_deadlock, "end") == 0 ? "wait" : on_deadlock);
    struct fs_run_result res;
    if (fs_run_program(&opts, &res) < 0) {
        fprintf(stderr, "forksan: cannot start %s: %s\n", opts.argv[0], strerror(errno));
        free(res.signalled);
        free(dir);
        return FS_EXIT_INTERNAL;
    }
    int status = run_exit_status(&res);
    if (!res.started)
        fprintf(stderr, "forksan: cannot run %s: %s\n", opts.argv[0], strerror(res.exec_errno));
    if (res.timed_out)
        fs_warn("time limit of %g s reached: the process tree was ended", opts.timeout);
    else if (res.started && WIFSIGNALED(res.status))
        fs_warn("%s was killed by signal %d (%s)", opts.argv[0], WTERMSIG(res.status),
                strsignal(WTERMSIG(res.status)));

    /* forksan run's own options, for the report's run object. */
    int first_opt = 1, nopts = (int)(opts.argv - argv) - 1;
    if (nopts > 0 && strcmp(argv[first_opt + nopts - 1], "--") == 0)
        nopts--;
    char **options = fs_xcalloc((size_t)nopts + 1, sizeof *options);
    for (int k = 0; k < nopts; k++)
        options[k] = argv[first_opt + k];
    struct fs_report_run run = {
        .argv = opts.argv,
        .options = options,
        .started = res.started,
        .exit_code = res.started && WIFEXITED(res.status) ? WEXITSTATUS(res.status) : -1,
        .signal = res.started && WIFSIGNALED(res.status) ? WTERMSIG(res.status) : 0,
        .timed_out = res.timed_out,
        .timeout = opts.timeout,
        .interrupted = res.interrupted,
        .deadlocks_ended = res.deadlocks_ended,
        .duration = res.duration,
        .start_wall_s = (int64_t)res.start_wall.tv_sec,
        .start_wall_ns = res.start_wall.tv_nsec,
        .start_mono_ns = res.start_mono_ns,
    };
    ro.run_info = &run;
    struct fs_analysis a;
    int rc = status;
    fs_model_set_known_ends(res.signalled, res.nsignalled);
    if (fs_analyze_dir(dir, &a) < 0) {
        fprintf(stderr, "forksan: cannot read traces in %s: %s\n", dir, strerror(errno));
        rc = FS_EXIT_INTERNAL;
    } else {
        if (res.started && a.processes == 0) {
            /* Nothing to report on is forksan failing, not a clean run (README, exit 125). */
            char why[768];
            if (a.damaged)
                snprintf(why, sizeof why, "%u trace file%s in %s could not be used (see above)",
                         a.damaged, a.damaged == 1 ? "" : "s", dir);
            else
                fs_paths_untraced_reason(opts.argv[0], why, sizeof why);
            fprintf(stderr, "forksan: no process was traced: %s\n", why);
            rc = FS_EXIT_INTERNAL;
        } else if (fs_report_write(&ro, &a) < 0)
            rc = FS_EXIT_INTERNAL;
        else if (fs_report_fails(&ro, &a))
            rc = ro.exitcode;
        fs_analysis_release(&a);
    }
    fs_model_set_known_ends(NULL, 0);
    free(res.signalled);
    free(options);
    if (keep)
        fs_warn("traces kept in %s", dir);
    else
        fs_paths_remove_trace_dir(dir);
    free(dir);
    for (size_t k = 0; k < nextra; k++)
        free(extra[k]);
    return rc;
}

/* FORKSAN_OPTIONS, like ASAN_OPTIONS: for harnesses that cannot change the command line, its
 * words go before the command line's options, so that those win. */
int fs_cmd_run(int argc, char **argv)
{
    const char *env = getenv("FORKSAN_OPTIONS");
    if (!env || !*env)
        return run_main(argc, argv);
    char *copy = fs_xstrdup(env);
    size_t nwords = 0;
    char **words = fs_xcalloc(strlen(copy) / 2 + 2, sizeof *words);
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (strcmp(w, "--") == 0) {
            fprintf(stderr, "forksan: FORKSAN_OPTIONS holds options only, not '--' or a program\n");
            free(words);
            free(copy);
            return FS_EXIT_USAGE;
        }
        words[nwords++] = w;
    }
    char **merged = fs_xcalloc((size_t)argc + nwords + 1, sizeof *merged);
    int n = 0;
    merged[n++] = argv[0];
    for (size_t k = 0; k < nwords; k++)
        merged[n++] = words[k];
    for (int k = 1; k < argc; k++)
        merged[n++] = argv[k];
    int rc = run_main(n, merged);
    free(merged);
    free(words);
    free(copy);
    return rc;
}
