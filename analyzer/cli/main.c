/* forksan: the command line.  Dispatches to the subcommands in cmd_*.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: forksan COMMAND [options]\n"
    "\n"
    "forksan finds fork hazards in unmodified programs: locks held across fork, threads alive at\n"
    "fork, and more (see the documentation).\n"
    "\n"
    "Commands:\n"
    "  run [options] -- PROGRAM [ARGS]   run PROGRAM and its process tree under forksan, report\n"
    "  report [options] TRACE_DIR        report from saved traces\n"
    "  cases [options] [NAME...]         run the bundled reproduction cases, expected vs found\n"
    "\n"
    "  forksan COMMAND --help            options of a command\n"
    "  forksan --version\n"
    "\n"
    "Documentation: man forksan; " FORKSAN_DOC_DIR "/README.md and the formats,\n"
    "hazards and suppressions described in " FORKSAN_DOC_DIR "/*.md\n"
    "\n"
    "Exit status: 0 clean; 66 findings reached --fail-on; 2 usage error; 125 forksan failed;\n"
    "run passes on the program's own status otherwise (126/127: it could not be executed/found).\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return FS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return FS_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("forksan %s\n", FORKSAN_VERSION);
        return FS_EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return fs_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return fs_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "cases") == 0)
        return fs_cmd_cases(argc - 1, argv + 1);
    fprintf(stderr, "forksan: unknown command '%s' (see forksan --help)\n", cmd);
    return FS_EXIT_USAGE;
}
