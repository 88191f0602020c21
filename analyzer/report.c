/* The reporting options every subcommand shares (--format, --output, --fail-on, --exitcode),
 * writing the report, and deciding whether the findings fail the run. */
#include "cli.h"
#include "diag.h"
#include "render.h"
#include "suppress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --suppressions files, for the whole command (one report per invocation). */
static struct fs_suppressions suppressions;

void fs_report_opts_init(struct fs_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = FS_FORMAT_TEXT;
    o->fail_on = FS_SEV_WARNING;
    o->exitcode = FS_EXIT_FINDINGS;
}

/* What opt_value returns when the option is there without its value (already told). */
static const char missing_value[] = "";

/* Accepts "--opt value" and "--opt=value". */
static const char *opt_value(const char *name, int argc, char **argv, int *i)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "forksan: option %s needs a value\n", name);
        return missing_value;
    }
    return argv[++*i];
}

int fs_report_parse_option(struct fs_report_opts *o, int argc, char **argv, int *i)
{
    const char *v;
    if ((v = opt_value("--format", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        if (strcmp(v, "text") == 0)
            o->format = FS_FORMAT_TEXT;
        else if (strcmp(v, "json") == 0)
            o->format = FS_FORMAT_JSON;
        else if (strcmp(v, "sarif") == 0)
            o->format = FS_FORMAT_SARIF;
        else {
            fprintf(stderr, "forksan: unknown --format '%s' (text, json or sarif)\n", v);
            return -1;
        }
        return 1;
    }
    if ((v = opt_value("--output", argc, argv, i)) || (v = opt_value("-o", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        if (!*v) {
            fprintf(stderr, "forksan: --output needs a file name\n");
            return -1;
        }
        o->output = v;
        return 1;
    }
    if ((v = opt_value("--fail-on", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        if (strcmp(v, "never") == 0) {
            o->fail_on = -1;
            return 1;
        }
        int sev = fs_severity_from_name(v);
        if (sev < 0) {
            fprintf(stderr, "forksan: unknown --fail-on '%s' (note, warning, error or never)\n", v);
            return -1;
        }
        o->fail_on = sev;
        return 1;
    }
    if ((v = opt_value("--suppressions", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        char err[512];
        if (!*v || fs_suppressions_load(&suppressions, v, err, sizeof err) < 0) {
            fprintf(stderr, "forksan: %s\n", *v ? err : "--suppressions needs a file name");
            return -1;
        }
        return 1;
    }
    if (strcmp(argv[*i], "--native") == 0) {
        o->native = true;
        return 1;
    }
    if ((v = opt_value("--exitcode", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        char *end;
        long code = strtol(v, &end, 10);
        if (!*v || *end || code < 1 || code > 255) {
            fprintf(stderr, "forksan: --exitcode takes a number from 1 to 255\n");
            return -1;
        }
        o->exitcode = (int)code;
        return 1;
    }
    return 0;
}

bool fs_report_fails(const struct fs_report_opts *o, const struct fs_analysis *a)
{
    return o->fail_on >= 0 && fs_findings_max_severity(&a->findings) >= o->fail_on;
}

int fs_report_write(const struct fs_report_opts *o, struct fs_analysis *a)
{
    if (suppressions.n) {
        a->suppressed += (unsigned)fs_suppressions_apply(&suppressions, &a->findings);
        if (a->suppressed)
            fs_warn("%u finding%s suppressed (--suppressions)", a->suppressed,
                    a->suppressed == 1 ? "" : "s");
    }
    fs_findings_finish(&a->findings, o->native);
    FILE *out = stdout;
    if (o->output && strcmp(o->output, "-") != 0) {
        out = fopen(o->output, "w");
        if (!out) {
            fprintf(stderr, "forksan: cannot write report to %s: %s\n", o->output, strerror(errno));
            return -1;
        }
    }
    struct fs_report_meta meta = {
        .version = FORKSAN_VERSION,
        .command = o->command,
        .processes = a->processes,
        .untraced = a->untraced,
        .damaged_traces = a->damaged,
        .safe_random = a->safe_random,
        .nsafe_random = a->nsafe_random,
        .suppressed = a->suppressed,
    };
    int rc;
    if (o->format == FS_FORMAT_JSON)
        rc = fs_render_json(out, &a->findings, &meta);
    else if (o->format == FS_FORMAT_SARIF)
        rc = fs_render_sarif(out, &a->findings, &meta);
    else
        rc = fs_render_text(out, &a->findings, &meta, out == stdout && isatty(STDOUT_FILENO));
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    else if (out == stdout && fflush(stdout) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "forksan: writing the report failed: %s\n", strerror(errno));
    return rc;
}
