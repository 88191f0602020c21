/* forksan cases: runs the bundled reproduction suite under the shim and checks that each case's
 * findings are exactly the ones its header declares (case_spec.c does the parsing and matching).
 * The output is one table line per case and a final "N passed, N failed, N skipped" line that CI
 * parses, so the cases' own output goes to a log in their trace directory. */
#include "case_spec.h"
#include "cli.h"
#include "model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Lines of a failing case's log shown under its FAIL line. */
#define LOG_TAIL_LINES 8
#define LOG_NAME       "case.log"

static const char usage[] =
    "usage: forksan cases [options] [NAME...]\n"
    "\n"
    "Runs the bundled reproduction cases (all, or the NAMEs given: file names without .c/.py)\n"
    "under the shim and checks that each one reports exactly the findings its header declares.\n"
    "A case must exit 0 within its time limit, unless it declares a child-hang: its limit is\n"
    "then meant to expire, and forksan captures its stacks and ends it.\n"
    "\n"
    "Options:\n"
    "  --cases-dir DIR        case sources (default: the suite next to this forksan)\n"
    "  --bin-dir DIR          built case programs (default: the suite next to this forksan)\n"
    "  --list                 list the cases and what each expects, run nothing\n"
    "  --keep-traces          keep each case's trace directory (and its output log), print it\n"
    "  --timeout-scale F      multiply every case's time limit by F (slow machines)\n"
    "  --python PATH          the interpreter for Python cases (default python3 in PATH); a\n"
    "                         case whose `python:` versions exclude it is skipped\n"
    "  -v, --verbose          print each case's full text report\n"
    "  -h, --help             this help\n"
    "\n"
    "The last line is \"N passed, N failed, N skipped\".\n"
    "Exit status: 0 no case failed; 1 some case failed; 2 usage error; 125 the shim or the\n"
    "cases could not be found.\n";

struct opts {
    const char *cases_dir;
    const char *bin_dir;
    const char *python; /* interpreter for .py cases */
    bool list, keep, verbose;
    double scale;
    char **names;
    size_t nnames;
};

struct kase {
    char *name;
    struct fs_case_spec spec;
    char *load_error; /* the source could not be read */
};

static int usage_error(const char *fmt, const char *arg)
{
    /* One fprintf, so one write(2) on the unbuffered stderr. */
    char *msg = NULL;
    if (asprintf(&msg, fmt, arg) < 0)
        msg = NULL;
    fprintf(stderr, "forksan: %s (see forksan cases --help)\n", msg ? msg : fmt);
    free(msg);
    return FS_EXIT_USAGE;
}

/* Accepts "--opt VALUE" and "--opt=VALUE"; returns the value or NULL when a is not opt. */
static const char *opt_value(const char *opt, int argc, char **argv, int *i, bool *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(opt);
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    bool only_names = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (only_names || a[0] != '-' || a[1] == '\0') {
            o->names = fs_xrealloc(o->names, o->nnames + 1, sizeof *o->names);
            o->names[o->nnames++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_names = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return FS_EXIT_OK;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (strcmp(a, "--keep-traces") == 0) {
            o->keep = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if ((v = opt_value("--cases-dir", argc, argv, &i, &missing))) {
            o->cases_dir = v;
        } else if ((v = opt_value("--python", argc, argv, &i, &missing))) {
            o->python = v;
        } else if ((v = opt_value("--bin-dir", argc, argv, &i, &missing))) {
            o->bin_dir = v;
        } else if ((v = opt_value("--timeout-scale", argc, argv, &i, &missing))) {
            char *end;
            errno = 0;
            o->scale = strtod(v, &end);
            if (errno || end == v || *end || !isfinite(o->scale) || o->scale <= 0)
                return usage_error("--timeout-scale takes a positive number, not '%s'", v);
        } else if (missing) {
            return usage_error("%s needs a value", a);
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    return -1;
}

static int kase_cmp(const void *a, const void *b)
{
    return strcmp(((const struct kase *)a)->name, ((const struct kase *)b)->name);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

static void free_cases(struct kase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!cases[i].load_error)
            fs_case_spec_release(&cases[i].spec);
        free(cases[i].load_error);
        free(cases[i].name);
    }
    free(cases);
}

/* Loads every case of dir, sorted by name; returns -1 when dir cannot be read (errno set). */
static int load_cases(const char *dir, struct kase **out, size_t *nout)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct kase *cases = NULL;
    size_t n = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        const char *file = de->d_name;
        if (file[0] == '.' || !(has_suffix(file, ".c") || has_suffix(file, ".py"))) {
            errno = 0;
            continue;
        }
        char *path = fs_xasprintf("%s/%s", dir, file);
        struct kase k = {0};
        int rc = fs_case_spec_load(path, &k.spec);
        if (rc < 0)
            k.load_error = fs_xasprintf("cannot read %s: %s", path, strerror(errno));
        free(path);
        if (rc == 0) {
            errno = 0;
            continue; /* a helper source, not a case */
        }
        k.name = fs_xasprintf("%.*s", (int)(strrchr(file, '.') - file), file);
        cases = fs_xrealloc(cases, n + 1, sizeof *cases);
        cases[n++] = k;
        errno = 0;
    }
    int saved = errno;
    if (closedir(d) != 0 && !saved)
        saved = errno;
    if (saved) {
        free_cases(cases, n);
        errno = saved;
        return -1;
    }
    qsort(cases, n, sizeof *cases, kase_cmp);
    *out = cases;
    *nout = n;
    return 0;
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = fs_xstrdup(path), *save = NULL;
    bool found = false;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *full = fs_xasprintf("%s/%s", *dir ? dir : ".", prog);
        struct stat st;
        found = stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- one case ------------------------------------------------------------------------------ */

struct reasons {
    char **v;
    size_t n;
};

static void reason(struct reasons *r, char *msg)
{
    r->v = fs_xrealloc(r->v, r->n + 1, sizeof *r->v);
    r->v[r->n++] = msg;
}

/* The last lines of the case's log, each prefixed for the table, or NULL when it is empty. */
static char *log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *ring[LOG_TAIL_LINES] = {0};
    size_t count = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        free(ring[count % LOG_TAIL_LINES]);
        ring[count % LOG_TAIL_LINES] = fs_xstrdup(line);
        count++;
    }
    free(line);
    if (fclose(f) != 0 || count == 0) {
        for (size_t i = 0; i < LOG_TAIL_LINES; i++)
            free(ring[i]);
        return NULL;
    }
    size_t first = count > LOG_TAIL_LINES ? count - LOG_TAIL_LINES : 0;
    char *out = fs_xasprintf("last lines of its output:");
    for (size_t i = first; i < count; i++) {
        char *next = fs_xasprintf("%s\n          | %s", out, ring[i % LOG_TAIL_LINES]);
        free(out);
        out = next;
    }
    for (size_t i = 0; i < LOG_TAIL_LINES; i++)
        free(ring[i]);
    return out;
}

static char *join_argv(char *const *argv)
{
    char *out = fs_xstrdup("");
    for (size_t i = 0; argv[i]; i++) {
        char *next = fs_xasprintf("%s%s%s", out, i ? " " : "", argv[i]);
        free(out);
        out = next;
    }
    return out;
}

/* The program's own outcome: it must have started, finished in time and exited 0.  A case that
 * declares a child-hang is meant to run into its limit, after which forksan ended the tree and
 * the exit status says only that; its findings alone judge it. */
static void check_run(const struct fs_run_result *res, const char *prog, double timeout,
                      bool hang_expected, const char *log, struct reasons *why)
{
    bool bad = true;
    if (!res->started)
        reason(why,
               fs_xasprintf("could not start %s: %s%s", prog, strerror(res->exec_errno),
                            res->exec_errno == ENOENT ? " (build the suite: make fs_cases)" : ""));
    else if (res->timed_out && hang_expected)
        bad = false;
    else if (res->timed_out)
        reason(why, fs_xasprintf("timed out after %g s; the process tree was ended (a slow "
                                 "machine may need --timeout-scale)",
                                 timeout));
    else if (WIFSIGNALED(res->status))
        reason(why, fs_xasprintf("killed by signal %d (%s)", WTERMSIG(res->status),
                                 strsignal(WTERMSIG(res->status))));
    else if (WIFEXITED(res->status) && WEXITSTATUS(res->status) != 0)
        reason(why, fs_xasprintf("exited with status %d", WEXITSTATUS(res->status)));
    else
        bad = false;
    if (bad && res->started) {
        char *tail = log_tail(log);
        if (tail)
            reason(why, tail);
    }
}

enum outcome { PASSED, FAILED, SKIPPED };

struct suite {
    const struct opts *o;
    const char *shim;
    const char *cases_dir;
    const char *bin_dir;
    int width;       /* of the name column */
    int py_minor;    /* the Python cases' interpreter's 3.<minor>: -2 not asked yet, -1 unknown */
    int interrupted; /* the signal that stopped the suite, or 0 */
};

/* The minor version of the interpreter the Python cases run with, asked once. */
static int python_minor(struct suite *s)
{
    if (s->py_minor != -2)
        return s->py_minor;
    s->py_minor = -1;
    char *cmd = fs_xasprintf("'%s' -c 'import sys; print(sys.version_info[1])' 2>/dev/null",
                             s->o->python ? s->o->python : "python3");
    if (strchr(s->o->python ? s->o->python : "", '\'') == NULL) {
        FILE *p = popen(cmd, "r");
        int v;
        if (p) {
            if (fscanf(p, "%d", &v) == 1)
                s->py_minor = v;
            pclose(p);
        }
    }
    free(cmd);
    return s->py_minor;
}

static void print_fail(const char *name, const struct reasons *why)
{
    printf("FAIL  %s\n", name);
    for (size_t i = 0; i < why->n; i++)
        printf("      %s\n", why->v[i]);
}

/* Runs the case, analyses its traces into a (*analysed says whether it could) and lists in why
 * everything that makes it fail; *trace_dir is the directory used, for the caller to remove. */
static void run_case(struct suite *s, const struct kase *k, struct reasons *why,
                     struct fs_analysis *a, bool *analysed, char **trace_dir, char **command)
{
    const struct fs_case_spec *spec = &k->spec;
    struct fs_run_result res;
    memset(&res, 0, sizeof res);
    size_t argc = 0;
    char **argv = fs_xcalloc(spec->nargs + 5, sizeof *argv);
    if (spec->python) {
        /* -E -S: the machine's PYTHON* variables (PYTHONUNBUFFERED hides the buffering users
         * see) and its site-packages (whose .pth imports may register atexit callbacks) must
         * not change a verdict.  Not -I: the case's own directory stays importable. */
        argv[argc++] = fs_xstrdup(s->o->python ? s->o->python : "python3");
        argv[argc++] = fs_xstrdup("-E");
        argv[argc++] = fs_xstrdup("-S");
        argv[argc++] = fs_xasprintf("%s/%s", s->cases_dir, spec->file);
    } else {
        argv[argc++] = fs_xasprintf("%s/%s", s->bin_dir, k->name);
    }
    for (size_t i = 0; i < spec->nargs; i++)
        argv[argc++] = fs_case_expand_arg(spec->args[i], s->bin_dir);
    *command = join_argv(argv);

    char *dir = fs_paths_make_trace_dir();
    char *log = NULL;
    int fd = -1;
    if (!dir) {
        reason(why, fs_xasprintf("cannot create a trace directory: %s", strerror(errno)));
        goto out;
    }
    *trace_dir = dir;
    log = fs_xasprintf("%s/%s", dir, LOG_NAME);
    fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        reason(why, fs_xasprintf("cannot create %s: %s", log, strerror(errno)));
        goto out;
    }

    double timeout = spec->timeout * s->o->scale;
    /* Always set, so that a FORKSAN_ON_DEADLOCK in the user's environment cannot change a case. */
    char *policy =
        fs_xasprintf("FORKSAN_ON_DEADLOCK=%s", spec->on_deadlock ? spec->on_deadlock : "wait");
    char **env = fs_xcalloc(spec->nenv + 2, sizeof *env);
    env[0] = policy;
    for (size_t e = 0; e < spec->nenv; e++)
        env[e + 1] = spec->env[e];
    struct fs_run_opts ro = {
        .argv = argv,
        .trace_dir = dir,
        .shim_path = s->shim,
        .timeout = timeout,
        .extra_env = env,
        .stdout_fd = fd,
        .stderr_fd = fd,
    };
    int run_rc = fs_run_program(&ro, &res);
    free(policy);
    free(env);
    if (run_rc < 0) {
        reason(why, fs_xasprintf("forksan could not run %s: %s", argv[0], strerror(errno)));
        goto out;
    }
    if (res.interrupted) {
        s->interrupted = res.interrupted;
        reason(why, fs_xasprintf("interrupted by signal %d (%s)", res.interrupted,
                                 strsignal(res.interrupted)));
        goto out;
    }
    check_run(&res, argv[0], timeout, fs_case_spec_expects_hang(spec), log, why);
    if (!res.started)
        goto out; /* no traces, and "missing" lines would only hide the real reason */

    /* The processes the run reaped killed by a signal: their traces' missing `end` is known. */
    fs_model_set_known_ends(res.signalled, res.nsignalled);
    int analyze_rc = fs_analyze_dir(dir, a);
    fs_model_set_known_ends(NULL, 0);
    if (analyze_rc < 0) {
        reason(why, fs_xasprintf("cannot read the traces in %s: %s", dir, strerror(errno)));
        goto out;
    }
    *analysed = true;
    if (a->damaged)
        reason(why, fs_xasprintf("%u trace file%s damaged or unusable (see the messages above)",
                                 a->damaged, a->damaged == 1 ? " was" : "s were"));
    if (res.started && a->processes == 0)
        reason(why, fs_xstrdup("no process was traced (is the shim loaded?)"));
    struct fs_case_mismatches mm;
    if (!fs_case_match(spec, &a->findings, &mm)) {
        for (size_t i = 0; i < mm.n; i++) {
            reason(why, mm.msgs[i]);
            mm.msgs[i] = NULL;
        }
    }
    fs_case_mismatches_release(&mm);

out:
    free(res.signalled);
    if (fd >= 0 && close(fd) != 0)
        reason(why, fs_xasprintf("cannot write %s: %s", log, strerror(errno)));
    free(log);
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

static enum outcome do_case(struct suite *s, struct kase *k)
{
    const struct fs_case_spec *spec = &k->spec;
    struct reasons why = {0};
    enum outcome result;

    if (k->load_error) {
        reason(&why, fs_xstrdup(k->load_error));
    } else if (spec->nerrors) {
        for (size_t i = 0; i < spec->nerrors; i++)
            reason(&why, fs_xasprintf("case definition error: %s", spec->errors[i]));
    } else {
        int minor = spec->python ? python_minor(s) : 0;
        k->spec.run_minor = spec->python ? minor : -1;
        if (spec->python && minor >= 0 && (minor < spec->py_min || minor > spec->py_max)) {
            printf("SKIP  %-*s  expectations hold for CPython 3.%d-3.%d, not 3.%d\n", s->width,
                   k->name, spec->py_min, spec->py_max, minor);
            fflush(stdout);
            return SKIPPED;
        }
        for (size_t i = 0; i < spec->nrequires; i++)
            if (!(s->o->python && strcmp(spec->requires[i], "python3") == 0) &&
                !in_path(spec->requires[i])) {
                printf("SKIP  %-*s  %s not found in PATH\n", s->width, k->name, spec->requires[i]);
                fflush(stdout);
                return SKIPPED;
            }
        struct fs_analysis a;
        bool analysed = false;
        char *dir = NULL, *command = NULL;
        memset(&a, 0, sizeof a);
        run_case(s, k, &why, &a, &analysed, &dir, &command);
        if (why.n == 0) {
            char *desc = fs_case_spec_describe(spec);
            printf("PASS  %-*s  %s\n", s->width, k->name, desc);
            free(desc);
        } else {
            print_fail(k->name, &why);
        }
        if (analysed && s->o->verbose) {
            struct fs_report_opts ro;
            fs_report_opts_init(&ro);
            ro.command = command;
            fflush(stdout);
            /* fs_report_write has said why it failed; the verdict stands either way. */
            (void)fs_report_write(&ro, &a);
            fflush(stdout);
        }
        if (dir) {
            if (s->o->keep)
                printf("      traces kept in %s\n", dir);
            else
                fs_paths_remove_trace_dir(dir);
            free(dir);
        }
        if (analysed)
            fs_analysis_release(&a);
        free(command);
        result = why.n == 0 ? PASSED : FAILED;
        fflush(stdout);
        for (size_t i = 0; i < why.n; i++)
            free(why.v[i]);
        free(why.v);
        return result;
    }
    print_fail(k->name, &why);
    fflush(stdout);
    for (size_t i = 0; i < why.n; i++)
        free(why.v[i]);
    free(why.v);
    return FAILED;
}

/* ---- the command ---------------------------------------------------------------------------- */

int fs_cmd_cases(int argc, char **argv)
{
    struct opts o = {.scale = 1.0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        free(o.names);
        return rc;
    }

    const char *cases_dir = o.cases_dir ? o.cases_dir : fs_paths_cases_src();
    if (!is_dir(cases_dir)) {
        if (o.cases_dir)
            fprintf(stderr,
                    "forksan: cases directory %s not found; pass --cases-dir with the "
                    "directory holding the case sources\n",
                    o.cases_dir);
        else
            fprintf(stderr, "forksan: the case sources (share/forksan/cases) were not found next "
                            "to this forksan; build first (make fs_cases) or pass --cases-dir\n");
        free(o.names);
        return FS_EXIT_INTERNAL;
    }

    struct kase *cases = NULL;
    size_t ncases = 0;
    if (load_cases(cases_dir, &cases, &ncases) < 0) {
        fprintf(stderr, "forksan: cannot read cases directory %s: %s\n", cases_dir,
                strerror(errno));
        free(o.names);
        return FS_EXIT_INTERNAL;
    }
    if (ncases == 0) {
        fprintf(stderr,
                "forksan: no case in %s (a case is a .c or .py file whose first comment "
                "has a \"forksan case:\" line); pass --cases-dir\n",
                cases_dir);
        free(o.names);
        free_cases(cases, ncases);
        return FS_EXIT_INTERNAL;
    }

    /* Selection: all cases, or the named ones in suite order. */
    bool *selected = fs_xcalloc(ncases, sizeof(bool));
    for (size_t i = 0; i < o.nnames; i++) {
        const char *want = o.names[i];
        size_t len = strlen(want);
        /* Accept "mutex_held.c" too: a file name is what tab completion gives. */
        if (has_suffix(want, ".c"))
            len -= 2;
        else if (has_suffix(want, ".py"))
            len -= 3;
        bool found = false;
        for (size_t c = 0; c < ncases; c++)
            if (strlen(cases[c].name) == len && strncmp(cases[c].name, want, len) == 0)
                selected[c] = found = true;
        if (!found) {
            fprintf(stderr, "forksan: no case named '%s' in %s (see forksan cases --list)\n", want,
                    cases_dir);
            free(selected);
            free(o.names);
            free_cases(cases, ncases);
            return FS_EXIT_USAGE;
        }
    }
    int width = 0;
    for (size_t c = 0; c < ncases; c++) {
        if (o.nnames == 0)
            selected[c] = true;
        if (selected[c] && (int)strlen(cases[c].name) > width)
            width = (int)strlen(cases[c].name);
    }

    if (o.list) {
        for (size_t c = 0; c < ncases; c++) {
            if (!selected[c])
                continue;
            const struct kase *k = &cases[c];
            if (k->load_error) {
                printf("%-*s  (%s)\n", width, k->name, k->load_error);
                continue;
            }
            char *desc = fs_case_spec_describe(&k->spec);
            printf("%-*s  %s\n%-*s  expects %s%s%s%s%s\n", width, k->name, k->spec.description,
                   width, "", desc, k->spec.on_deadlock ? "; on-deadlock " : "",
                   k->spec.on_deadlock ? k->spec.on_deadlock : "",
                   k->spec.nrequires ? "; requires " : "",
                   k->spec.nrequires ? k->spec.requires[0] : "");
            free(desc);
        }
        free(selected);
        free(o.names);
        free_cases(cases, ncases);
        return FS_EXIT_OK;
    }

    struct suite s = {.o = &o, .cases_dir = cases_dir, .width = width, .py_minor = -2};
    s.shim = fs_paths_shim();
    struct stat st;
    if (s.shim && (stat(s.shim, &st) != 0 || !S_ISREG(st.st_mode))) {
        /* $FORKSAN_LIB is taken as given; without this check every case would run untraced. */
        fprintf(stderr, "forksan: the shim %s does not exist; fix FORKSAN_LIB or build first\n",
                s.shim);
        rc = FS_EXIT_INTERNAL;
        goto done;
    }
    if (!s.shim) {
        fprintf(stderr, "forksan: cannot find libforksan.so next to this forksan; build first "
                        "(make forksan_preload) or set FORKSAN_LIB\n");
        rc = FS_EXIT_INTERNAL;
        goto done;
    }
    s.bin_dir = o.bin_dir ? o.bin_dir : fs_paths_cases_bin();
    if (!is_dir(s.bin_dir)) {
        fprintf(stderr,
                "forksan: case programs directory %s not found; build first (make "
                "fs_cases) or pass --bin-dir\n",
                s.bin_dir ? s.bin_dir : "(libexec/forksan/cases)");
        rc = FS_EXIT_INTERNAL;
        goto done;
    }

    unsigned counts[3] = {0};
    for (size_t c = 0; c < ncases && !s.interrupted; c++)
        if (selected[c])
            counts[do_case(&s, &cases[c])]++;
    printf("%u passed, %u failed, %u skipped\n", counts[PASSED], counts[FAILED], counts[SKIPPED]);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "forksan: cannot write the results: %s\n", strerror(errno));
        rc = FS_EXIT_INTERNAL;
    } else if (s.interrupted) {
        rc = 128 + s.interrupted;
    } else {
        rc = counts[FAILED] ? FS_EXIT_CASES_FAILED : FS_EXIT_OK;
    }
done:
    free(selected);
    free(o.names);
    free_cases(cases, ncases);
    return rc;
}
