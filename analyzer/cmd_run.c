/* forksan run: run a program and its whole process tree under the shim, then report. */
#include "cli.h"
#include "diag.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char usage[] =
    "usage: forksan run [options] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with libforksan.so preloaded, follows every process it starts (through fork\n"
    "and exec), waits for the whole process tree, then reports fork hazards.\n"
    "\n"
    "Report options:\n"
    "  --format text|json|sarif\n"
    "                         report format (default text; sarif is SARIF 2.1.0 for CI)\n"
    "  -o, --output FILE      write the report to FILE instead of standard output\n"
    "  --fail-on LEVEL        note, warning (default), error or never: findings at or above\n"
    "                         LEVEL make forksan exit with --exitcode\n"
    "  --exitcode N           exit status when findings reach --fail-on (default 66)\n"
    "  --suppressions FILE    drop findings matching FILE's HAZARD:PATTERN lines (repeatable;\n"
    "                         see docs/suppressions.md)\n"
    "  --native               Python processes: show the interpreter's own frames (libpython,\n"
    "                         ceval) among the Python frames instead of folding them away\n"
    "Run options:\n"
    "  --timeout SECONDS      end the process tree after SECONDS (default: no limit)\n"
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
    "  --on-deadlock POLICY   when a forked child acquires a lock inherited held by a vanished\n"
    "                         thread: wait (default: the call blocks, as it would), fail (the\n"
    "                         call returns the error a timed variant would), abort (the child\n"
    "                         gets SIGABRT after the finding is written)\n"
    "  -q, --quiet            no forksan messages on standard error (the report still prints)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: the program's own (128+N if it was killed by signal N), unless findings reach\n"
    "--fail-on (66); 2 usage error; 125 forksan failed; 126 PROGRAM not executable; 127 not "
    "found.\n";

int fs_cmd_run(int argc, char **argv)
{
    struct fs_report_opts ro;
    fs_report_opts_init(&ro);
    struct fs_run_opts opts = {.stdout_fd = -1, .stderr_fd = -1};
    const char *trace_dir = NULL;
    bool keep = false;
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
                if (strcmp(v, "wait") != 0 && strcmp(v, "fail") != 0 && strcmp(v, "abort") != 0) {
                    fprintf(stderr, "forksan: --on-deadlock takes wait, fail or abort\n");
                    return FS_EXIT_USAGE;
                }
                extra[nextra++] = fs_xasprintf("FORKSAN_ON_DEADLOCK=%s", v);
            } else if (strcmp(a, "--timeout") == 0) {
                errno = 0;
                opts.timeout = strtod(v, &end);
                /* nan compares false with everything: it would mean no limit at all. */
                if (errno || end == v || *end || !isfinite(opts.timeout) || opts.timeout <= 0 ||
                    opts.timeout > 1e9) {
                    fprintf(stderr, "forksan: --timeout takes a positive number of seconds, "
                                    "not '%s'\n",
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
    opts.extra_env = extra;
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

    struct fs_run_result res;
    if (fs_run_program(&opts, &res) < 0) {
        fprintf(stderr, "forksan: cannot start %s: %s\n", opts.argv[0], strerror(errno));
        free(dir);
        return FS_EXIT_INTERNAL;
    }
    int status = fs_run_exit_status(&res);
    if (!res.started)
        fprintf(stderr, "forksan: cannot run %s: %s\n", opts.argv[0], strerror(res.exec_errno));
    if (res.timed_out)
        fs_warn("time limit of %g s reached: the process tree was ended", opts.timeout);
    else if (res.started && WIFSIGNALED(res.status))
        fs_warn("%s was killed by signal %d (%s)", opts.argv[0], WTERMSIG(res.status),
                strsignal(WTERMSIG(res.status)));

    struct fs_analysis a;
    int rc = status;
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
    if (keep)
        fs_warn("traces kept in %s", dir);
    else
        fs_paths_remove_trace_dir(dir);
    free(dir);
    for (size_t k = 0; k < nextra; k++)
        free(extra[k]);
    return rc;
}
