/* The reporting options every subcommand shares (--format, --output, --fail-on, --exitcode),
 * writing the report, and deciding whether the findings fail the run. */
#include "cli.h"
#include "diag.h"
#include "render.h"
#include "rules.h"
#include "suppress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --suppressions files, for the whole command (one report per invocation). */
static struct fs_suppressions suppressions;

void fs_report_opts_init(struct fs_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fail_on = FS_SEV_WARNING;
    o->color = -1;
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

static const char *const format_names[FS_FORMAT_COUNT] = {
    [FS_FORMAT_TEXT] = "text",   [FS_FORMAT_JSON] = "json", [FS_FORMAT_SARIF] = "sarif",
    [FS_FORMAT_JUNIT] = "junit", [FS_FORMAT_HTML] = "html",
};

/* What a base name given to -o gets for each format when there are several. */
static const char *const format_suffixes[FS_FORMAT_COUNT] = {
    [FS_FORMAT_TEXT] = ".txt",        [FS_FORMAT_JSON] = ".json", [FS_FORMAT_SARIF] = ".sarif",
    [FS_FORMAT_JUNIT] = ".junit.xml", [FS_FORMAT_HTML] = ".html",
};

/* "text", "json,sarif", ...: each format once; a later --format replaces an earlier one. */
static int parse_formats(struct fs_report_opts *o, const char *v)
{
    o->nformats = 0;
    const char *p = v;
    do {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int k = 0; k < FS_FORMAT_COUNT; k++)
            if (strlen(format_names[k]) == len && strncmp(p, format_names[k], len) == 0)
                found = k;
        if (found < 0) {
            fprintf(stderr,
                    "forksan: unknown --format '%.*s' (text, json, sarif, junit or html, "
                    "or several separated by commas)\n",
                    (int)len, p);
            return -1;
        }
        for (size_t j = 0; j < o->nformats; j++)
            if ((int)o->formats[j] == found) {
                fprintf(stderr, "forksan: --format names %s twice\n", format_names[found]);
                return -1;
            }
        o->formats[o->nformats++] = (enum fs_format)found;
        p += len;
    } while (*p++ == ',');
    return 1;
}

int fs_report_parse_option(struct fs_report_opts *o, int argc, char **argv, int *i)
{
    const char *v;
    if ((v = opt_value("--format", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        return parse_formats(o, v);
    }
    if ((v = opt_value("--output", argc, argv, i)) || (v = opt_value("-o", argc, argv, i))) {
        if (v == missing_value)
            return -1; /* one message: opt_value said it */
        if (!*v) {
            fprintf(stderr, "forksan: --output needs a file name\n");
            return -1;
        }
        if (o->noutputs == FS_REPORT_MAX_OUTPUTS) {
            fprintf(stderr, "forksan: more -o options than formats\n");
            return -1;
        }
        o->outputs[o->noutputs++] = v;
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
    if ((v = opt_value("--source-root", argc, argv, i))) {
        if (v == missing_value)
            return -1;
        char *abs = *v ? realpath(v, NULL) : NULL;
        struct stat st;
        if (!abs || stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "forksan: --source-root %s: %s\n", v,
                    abs  ? "not a directory"
                    : *v ? strerror(errno)
                         : "needs a directory");
            free(abs);
            return -1;
        }
        free(o->source_root);
        o->source_root = abs;
        return 1;
    }
    if ((v = opt_value("--color", argc, argv, i))) {
        if (v == missing_value)
            return -1;
        if (strcmp(v, "auto") == 0)
            o->color = -1;
        else if (strcmp(v, "always") == 0)
            o->color = 1;
        else if (strcmp(v, "never") == 0)
            o->color = 0;
        else {
            fprintf(stderr, "forksan: --color takes auto, always or never\n");
            return -1;
        }
        return 1;
    }
    if (strcmp(argv[*i], "--gen-suppressions") == 0) {
        o->gen_suppressions = true;
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

void fs_report_close(struct fs_report_opts *o)
{
    for (size_t k = 0; k < FS_REPORT_MAX_OUTPUTS; k++) {
        if (o->files[k] && o->files[k] != stdout && o->files[k] != stderr)
            fclose(o->files[k]);
        o->files[k] = NULL;
        free(o->paths[k]);
        o->paths[k] = NULL;
    }
}

int fs_report_open(struct fs_report_opts *o)
{
    if (o->opened)
        return 0;
    if (o->nformats == 0)
        o->formats[o->nformats++] = FS_FORMAT_TEXT;
    if (o->noutputs > 1 && o->noutputs != o->nformats) {
        fprintf(stderr,
                "forksan: %zu -o options for %zu formats: give one -o per format, or one "
                "base name\n",
                o->noutputs, o->nformats);
        return FS_EXIT_USAGE;
    }
    for (size_t k = 0; k < o->nformats; k++) {
        enum fs_format fmt = o->formats[k];
        const char *name = o->noutputs == o->nformats ? o->outputs[k]
                           : o->noutputs == 1         ? o->outputs[0]
                                                      : NULL;
        if (!name && o->nformats > 1 && !o->run) {
            fprintf(stderr, "forksan: several formats need -o (a base name, or one per format)\n");
            return FS_EXIT_USAGE;
        }
        if (!name && o->run && fmt != FS_FORMAT_TEXT) {
            fprintf(stderr,
                    "forksan: --format %s goes to a file: add -o FILE (-o - for standard "
                    "output, which the program shares)\n",
                    format_names[fmt]);
            return FS_EXIT_USAGE;
        }
        if (!name) {
            o->files[k] = o->run ? stderr : stdout;
            continue;
        }
        if (strcmp(name, "-") == 0) {
            if (o->nformats > 1) {
                fprintf(stderr, "forksan: -o - takes one format: give one -o per format\n");
                return FS_EXIT_USAGE;
            }
            o->files[k] = stdout;
            continue;
        }
        o->paths[k] = o->noutputs == o->nformats ? fs_xstrdup(name)
                      : o->nformats == 1         ? fs_xstrdup(name)
                                                 : fs_xasprintf("%s%s", name, format_suffixes[fmt]);
        /* Close-on-exec: the program must not inherit the report's descriptor. */
        o->files[k] = fopen(o->paths[k], "we");
        if (!o->files[k]) {
            fprintf(stderr, "forksan: cannot write report to %s: %s\n", o->paths[k],
                    strerror(errno));
            return FS_EXIT_INTERNAL;
        }
    }
    o->opened = true;
    return 0;
}

/* The one line a run with its reports in files still says on stderr. */
static void say_where(const struct fs_report_opts *o, const struct fs_analysis *a)
{
    size_t nfiles = 0;
    for (size_t k = 0; k < o->nformats; k++)
        nfiles += o->paths[k] != NULL;
    if (!nfiles)
        return;
    unsigned count[3] = {0, 0, 0};
    for (size_t i = 0; i < a->findings.n; i++)
        if ((unsigned)a->findings.items[i].severity < 3)
            count[a->findings.items[i].severity]++;
    char *where = fs_xstrdup("");
    for (size_t k = 0; k < o->nformats; k++) {
        if (!o->paths[k])
            continue;
        char *more = fs_xasprintf("%s%s%s", where, *where ? ", " : "", o->paths[k]);
        free(where);
        where = more;
    }
    fs_warn("%u error%s, %u warning%s, %u note%s: report in %s", count[FS_SEV_ERROR],
            count[FS_SEV_ERROR] == 1 ? "" : "s", count[FS_SEV_WARNING],
            count[FS_SEV_WARNING] == 1 ? "" : "s", count[FS_SEV_NOTE],
            count[FS_SEV_NOTE] == 1 ? "" : "s", where);
    free(where);
}

/* --color auto: a terminal, unless NO_COLOR is set to anything (no-color.org). */
static bool use_color(const struct fs_report_opts *o, FILE *out)
{
    if (o->color >= 0)
        return o->color == 1;
    const char *no = getenv("NO_COLOR");
    return !(no && *no) && isatty(fileno(out));
}

/* --gen-suppressions: one HAZARD:PATTERN line per finding, as docs/suppressions.md reads them:
 * the primary frame's function, else its file's base name, else the first module's base name. */
static void gen_suppressions(const struct fs_findings *f)
{
    if (!f->n)
        return;
    fputs("# forksan --gen-suppressions: one line per finding; paste the ones you accept into a "
          "--suppressions file\n",
          stderr);
    for (size_t i = 0; i < f->n; i++) {
        const struct fs_finding *x = &f->items[i];
        const struct fs_frame *at = fs_finding_primary(x, NULL, NULL);
        const char *pat = at && at->function ? at->function : NULL;
        if (!pat && at && at->file)
            pat = strrchr(at->file, '/') ? strrchr(at->file, '/') + 1 : at->file;
        for (size_t s = 0; !pat && s < x->nstacks; s++)
            for (size_t k = 0; !pat && k < x->stacks[s].nframes; k++) {
                const char *m = x->stacks[s].frames[k].module;
                if (m && *m)
                    pat = strrchr(m, '/') ? strrchr(m, '/') + 1 : m;
            }
        if (!pat) {
            fprintf(stderr, "# %s (%s): no frame to name\n", x->id ? x->id : "?", x->hazard);
            continue;
        }
        /* Glob characters in a name would widen the pattern: the name is meant literally.  The
         * finding's id goes on a comment line of its own: the file format has no trailing
         * comments. */
        fprintf(stderr, "# %s: %s in pid %d\n%s:", x->id ? x->id : "?", x->hazard, x->pid,
                x->hazard);
        for (const char *p = pat; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (strchr("*?[]\\", c))
                fputc('\\', stderr);
            fputc(c < 0x20 || c == 0x7f ? '?' : c, stderr);
        }
        fputc('\n', stderr);
    }
}

/* Whether a text report with findings is among the outputs (an empty one prints nothing). */
static bool text_shown(const struct fs_report_opts *o, const struct fs_analysis *a)
{
    for (size_t k = 0; k < o->nformats; k++)
        if (o->formats[k] == FS_FORMAT_TEXT)
            return a->findings.n > 0;
    return false;
}

static int render_one(enum fs_format fmt, FILE *out, struct fs_analysis *a,
                      const struct fs_report_meta *meta, bool color)
{
    if (fmt == FS_FORMAT_JSON)
        return fs_render_json(out, &a->findings, meta);
    if (fmt == FS_FORMAT_SARIF)
        return fs_render_sarif(out, &a->findings, meta);
    if (fmt == FS_FORMAT_JUNIT)
        return fs_render_junit(out, &a->findings, meta);
    if (fmt == FS_FORMAT_HTML)
        return fs_render_html(out, &a->findings, meta);
    return fs_render_text(out, &a->findings, meta, color);
}

int fs_report_write(struct fs_report_opts *o, struct fs_analysis *a)
{
    if (!o->opened && fs_report_open(o) != 0)
        return -1;
    /* Every line of the suppressions files goes into the report model with what it matched
     * (a line that never matches is one to delete). */
    struct fs_report_suppression *sups = NULL;
    if (suppressions.n) {
        a->suppressed += (unsigned)fs_suppressions_apply(&suppressions, &a->findings);
        if (a->suppressed)
            fs_warn("%u finding%s suppressed (--suppressions)", a->suppressed,
                    a->suppressed == 1 ? "" : "s");
        sups = fs_xcalloc(suppressions.n, sizeof *sups);
        for (size_t k = 0; k < suppressions.n; k++) {
            const struct fs_suppression *s = &suppressions.items[k];
            sups[k] = (struct fs_report_suppression){s->file, s->line, s->hazard, s->pattern,
                                                     s->used};
        }
        /* The text report lists them under its summary; without one on show (machine formats
         * only, or no finding left for the text report to print), stderr says which matched. */
        if (!text_shown(o, a))
            for (size_t k = 0; k < suppressions.n; k++)
                if (suppressions.items[k].used)
                    fs_warn("  %s:%s (%s) matched %u", suppressions.items[k].hazard,
                            suppressions.items[k].pattern, suppressions.items[k].origin,
                            suppressions.items[k].used);
    }
    fs_findings_finish(&a->findings, o->native);
    fs_findings_number(&a->findings);
    struct fs_report_meta meta = {
        .version = FORKSAN_VERSION,
        .command = o->command,
        .processes = a->processes,
        .untraced = a->untraced,
        .damaged_traces = a->damaged,
        .safe_random = a->safe_random,
        .nsafe_random = a->nsafe_random,
        .suppressed = a->suppressed,
        .run = o->run_info,
        .source_root = o->source_root,
        .procs = a->procs,
        .nprocs = a->nprocs,
        .suppressions = sups,
        .nsuppressions = sups ? suppressions.n : 0,
    };
    int rc = 0;
    for (size_t k = 0; k < o->nformats; k++) {
        FILE *out = o->files[k];
        if (out == stderr || out == stdout)
            fflush(stdout); /* the text report after what is already there, not inside it */
        int r = render_one(o->formats[k], out, a, &meta, use_color(o, out));
        if (out != stdout && out != stderr) {
            if (fclose(out) != 0)
                r = -1;
        } else if (fflush(out) != 0) {
            r = -1;
        }
        o->files[k] = NULL;
        if (r < 0) {
            fprintf(stderr, "forksan: writing the %s report%s%s failed: %s\n",
                    format_names[o->formats[k]], o->paths[k] ? " to " : "",
                    o->paths[k] ? o->paths[k] : "", strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0)
        say_where(o, a);
    free(sups);
    if (o->gen_suppressions)
        gen_suppressions(&a->findings);
    for (size_t k = 0; k < o->nformats; k++) {
        free(o->paths[k]);
        o->paths[k] = NULL;
    }
    return rc;
}
