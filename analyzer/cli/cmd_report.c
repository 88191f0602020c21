/* forksan report: the same report as `forksan run`, from a directory of saved traces. */
#include "cli.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: forksan report [options] TRACE_DIR\n"
    "\n"
    "Analyses the traces in TRACE_DIR (written by forksan run --trace-dir, or by a program run\n"
    "with LD_PRELOAD=libforksan.so FORKSAN_TRACE_DIR=TRACE_DIR) and reports fork hazards.\n"
    "\n"
    "  --format FORMAT[,FORMAT...]\n"
    "                         text (default), json, sarif (SARIF 2.1.0 for CI), junit\n"
    "                         (JUnit XML) or html (one page); several in one run need -o\n"
    "  -o, --output FILE      write the report to FILE instead of standard output; with\n"
    "                         several formats, a base name (FILE.txt, .json, .sarif,\n"
    "                         .junit.xml, .html) or one -o per format, in --format order\n"
    "  --fail-on LEVEL        note, warning (default), error or never\n"
    "  --exitcode N           exit status when findings reach --fail-on (default 66)\n"
    "  --suppressions FILE    drop findings matching FILE's HAZARD:PATTERN lines (repeatable;\n"
    "                         see docs/suppressions.md)\n"
    "  --source-root DIR      SARIF: files under DIR become relative URIs (uriBaseId\n"
    "                         %SRCROOT%), as GitHub code scanning wants them\n"
    "  --native               Python processes: show the interpreter's own frames (libpython,\n"
    "                         ceval) among the Python frames instead of folding them away\n"
    "  --color WHEN           auto (default; NO_COLOR turns it off), always or never\n"
    "  --gen-suppressions     print a HAZARD:PATTERN suppression line per finding (stderr)\n"
    "  -q, --quiet            no forksan messages on standard error\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 no findings at --fail-on; 66 findings at --fail-on; 65 some traces were\n"
    "damaged (what could be read is reported); 2 usage error; 125 TRACE_DIR unreadable or holds\n"
    "no trace.\n";

int fs_cmd_report(int argc, char **argv)
{
    struct fs_report_opts ro;
    fs_report_opts_init(&ro);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = fs_report_parse_option(&ro, argc, argv, &i);
        if (r < 0)
            return FS_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return FS_EXIT_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            fs_diag_set_quiet(true);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "forksan: unknown option '%s' (see forksan report --help)\n", a);
            return FS_EXIT_USAGE;
        } else if (dir) {
            fprintf(stderr, "forksan: report takes one trace directory\n");
            return FS_EXIT_USAGE;
        } else {
            dir = a;
        }
    }
    if (!dir) {
        fprintf(stderr, "forksan: report needs a trace directory (see forksan report --help)\n");
        return FS_EXIT_USAGE;
    }
    ro.command = dir;
    int orc = fs_report_open(&ro);
    if (orc != 0) {
        fs_report_close(&ro);
        return orc;
    }
    struct fs_analysis a;
    if (fs_analyze_dir(dir, &a) < 0) {
        fprintf(stderr, "forksan: cannot read trace directory %s: %s\n", dir, strerror(errno));
        return FS_EXIT_INTERNAL;
    }
    int rc = FS_EXIT_OK;
    if (a.processes == 0) {
        fprintf(stderr, "forksan: %s holds no usable trace\n", dir);
        rc = FS_EXIT_INTERNAL;
    } else if (fs_report_write(&ro, &a) < 0) {
        rc = FS_EXIT_INTERNAL;
    } else if (fs_report_fails(&ro, &a)) {
        rc = ro.exitcode;
    } else if (a.damaged) {
        rc = FS_EXIT_DAMAGED;
    }
    fs_analysis_release(&a);
    return rc;
}
