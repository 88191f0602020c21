/* Case headers and verdict matching for `forksan cases`; see case_spec.h and cases/README.md.
 * A case states its verdict in its top comment; markers tie expectations to source lines, so a
 * case stays right when lines move.  Matching is a bipartite assignment of expectations to
 * findings, so two expectations of one hazard that differ only in their sites cannot steal each
 * other's finding. */
#include "case_spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many frames a "it has: ..." explanation lists before eliding the rest. */
#define SHOWN_FRAMES 8

/* The sites an expect: line can pin to a source line: the option word of the header, and the role
 * of the finding's stack that must have a frame there. */
enum { SITE_ACQUIRE, SITE_FORK, SITE_CHILD, SITE_EXIT, SITE_HOLDER, SITE_HANG, NSITES };
static const char *const site_option[NSITES] = {"acquire", "fork", "child", "exit", "holder",
                                                "hang"};
static const char *const site_role[NSITES] = {"acquire", "fork",   "child-acquire",
                                              "exit",    "holder", "thread"};

static struct fs_case_loc *site_loc(struct fs_case_expect *e, int site, bool **has)
{
    switch (site) {
    case SITE_ACQUIRE:
        *has = &e->has_acquire;
        return &e->acquire;
    case SITE_FORK:
        *has = &e->has_fork;
        return &e->fork;
    case SITE_EXIT:
        *has = &e->has_exit;
        return &e->exit;
    case SITE_HOLDER:
        *has = &e->has_holder;
        return &e->holder;
    case SITE_HANG:
        *has = &e->has_hang;
        return &e->hang;
    default:
        *has = &e->has_child;
        return &e->child;
    }
}

/* The location e pins for site, or NULL when it pins none. */
static const struct fs_case_loc *site_get(const struct fs_case_expect *e, int site)
{
    switch (site) {
    case SITE_ACQUIRE:
        return e->has_acquire ? &e->acquire : NULL;
    case SITE_FORK:
        return e->has_fork ? &e->fork : NULL;
    case SITE_EXIT:
        return e->has_exit ? &e->exit : NULL;
    case SITE_HOLDER:
        return e->has_holder ? &e->holder : NULL;
    case SITE_HANG:
        return e->has_hang ? &e->hang : NULL;
    default:
        return e->has_child ? &e->child : NULL;
    }
}

/* ---- small string helpers ------------------------------------------------------------------ */

struct strlist {
    char **v;
    size_t n;
};

static void strlist_add(struct strlist *l, char *s)
{
    l->v = fs_xrealloc(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = s;
}

static void strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool is_marker_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static void split_words(const char *text, struct strlist *out)
{
    const char *p = text;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        strlist_add(out, fs_xasprintf("%.*s", (int)(p - start), start));
    }
}

/* ---- source files ---------------------------------------------------------------------------- */

/* A source split into lines, with the range of its top comment (the header), 1-based inclusive;
 * hdr_first > hdr_last when the file opens with no comment. */
struct source {
    char *text;
    char **lines; /* lines[0] is line 1 */
    size_t nlines;
    size_t hdr_first, hdr_last;
    bool python;
};

static void source_free(struct source *src)
{
    free(src->text);
    free(src->lines);
    memset(src, 0, sizeof *src);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* The header is the comment the file opens with: a block comment or a run of line comments in C,
 * a run of '#' lines in Python (after an optional #! line). */
static void find_header(struct source *src)
{
    size_t i = 0;
    src->hdr_first = 1;
    src->hdr_last = 0;
    if (src->python && src->nlines > 0 && starts_with(src->lines[0], "#!"))
        i = 1;
    while (i < src->nlines && *skip_space(src->lines[i]) == '\0')
        i++;
    if (i >= src->nlines)
        return;
    const char *first = skip_space(src->lines[i]);
    size_t j = i;
    if (src->python) {
        while (j < src->nlines && src->lines[j][0] == '#')
            j++;
        if (j == i)
            return;
        src->hdr_first = i + 1;
        src->hdr_last = j;
    } else if (starts_with(first, "/*")) {
        while (j < src->nlines && !strstr(j == i ? first + 2 : src->lines[j], "*/"))
            j++;
        src->hdr_first = i + 1;
        src->hdr_last = j < src->nlines ? j + 1 : src->nlines;
    } else if (starts_with(first, "//")) {
        while (j < src->nlines && starts_with(skip_space(src->lines[j]), "//"))
            j++;
        src->hdr_first = i + 1;
        src->hdr_last = j;
    }
}

static int source_load(const char *path, struct source *src)
{
    memset(src, 0, sizeof *src);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    char *text = fs_xcalloc(cap, 1);
    size_t got;
    while ((got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            text = fs_xrealloc(text, cap * 2, 1);
            cap *= 2;
        }
    }
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (err) {
        free(text);
        errno = err;
        return -1;
    }
    text[len] = '\0';
    src->text = text;
    src->python = ends_with(path, ".py");
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        src->lines = fs_xrealloc(src->lines, src->nlines + 1, sizeof *src->lines);
        src->lines[src->nlines++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    find_header(src);
    return 0;
}

/* The text of header line i (1-based) without its comment decoration; points into a copy. */
static char *header_content(const struct source *src, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s", src->lines[i - 1]);
    char *s = trim(buf);
    if (src->python) {
        while (*s == '#')
            s++;
    } else if (starts_with(s, "/*")) {
        s += 2;
    } else if (starts_with(s, "//")) {
        s += 2;
    } else if (*s == '*' && s[1] != '/') {
        s++;
    }
    char *end = strstr(s, "*/");
    if (end && !src->python)
        *end = '\0';
    return trim(s);
}

/* True when line ends with a comment made of marker tokens, one of which is @name:
 * `call(); // @held` in C, `os.fork()  # @fork` in Python. */
static bool line_has_marker(const char *line, const char *name, bool python)
{
    size_t end = strlen(line);
    bool found = false, any = false;
    for (;;) {
        while (end > 0 && isspace((unsigned char)line[end - 1]))
            end--;
        size_t start = end;
        while (start > 0 && !isspace((unsigned char)line[start - 1]))
            start--;
        if (start == end || line[start] != '@')
            break;
        size_t k = start + 1;
        while (k < end && is_marker_char(line[k]))
            k++;
        if (k != end || k == start + 1)
            break;
        any = true;
        if (end - start - 1 == strlen(name) &&
            strncmp(line + start + 1, name, end - start - 1) == 0)
            found = true;
        end = start;
    }
    if (!any || !found)
        return false;
    while (end > 0 && isspace((unsigned char)line[end - 1]))
        end--;
    const char *opener = python ? "#" : "//";
    size_t lo = strlen(opener);
    return end >= lo && strncmp(line + end - lo, opener, lo) == 0;
}

/* ---- parsing -------------------------------------------------------------------------------- */

struct parse {
    struct fs_case_spec *spec;
    struct strlist errors;
    struct strlist args, requires, env;
    struct source *files; /* loaded marker files, by basename; files[0] is the case itself */
    char **file_names;
    size_t nfiles;
    char *dir; /* of the case, with a trailing '/' or empty */
};

static void perr(struct parse *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct parse *p, size_t line, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        fputs("forksan: out of memory\n", stderr);
        abort();
    }
    strlist_add(&p->errors, fs_xasprintf("%s:%zu: %s", p->spec->file, line, msg));
    free(msg);
}

/* Parses "@name" or "file@name" into loc (unresolved); returns false on a malformed site. */
static bool parse_where(const char *where, const char *case_file, struct fs_case_loc *loc)
{
    const char *at = strrchr(where, '@');
    if (!at || !at[1])
        return false;
    for (const char *c = at + 1; *c; c++)
        if (!is_marker_char(*c))
            return false;
    loc->marker = fs_xstrdup(at + 1);
    loc->file =
        at == where ? fs_xstrdup(case_file) : fs_xasprintf("%.*s", (int)(at - where), where);
    loc->line = 0;
    return true;
}

static bool valid_hazard_id(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
            return false;
    return true;
}

static void parse_expect(struct parse *p, size_t line, const char *value)
{
    struct fs_case_spec *spec = p->spec;
    struct strlist w = {0};
    split_words(value, &w);
    if (w.n == 0) {
        perr(p, line, "empty expect: line (write `expect: none` for a control)");
        goto out;
    }
    if (strcmp(w.v[0], "none") == 0) {
        if (w.n > 1)
            perr(p, line, "`expect: none` takes nothing after it");
        if (spec->expect_none)
            perr(p, line, "`expect: none` given twice");
        spec->expect_none = true;
        goto out;
    }
    if (!valid_hazard_id(w.v[0])) {
        perr(p, line, "bad hazard id '%s'", w.v[0]);
        goto out;
    }
    int sev = w.n > 1 ? fs_severity_from_name(w.v[1]) : -1;
    if (sev < 0) {
        perr(p, line, "expect: %s needs a severity (note, warning or error)%s%s", w.v[0],
             w.n > 1 ? ", not " : "", w.n > 1 ? w.v[1] : "");
        goto out;
    }
    struct fs_case_expect e = {
        .severity = (enum fs_severity)sev, .header_line = (int)line, .py_max = 99};
    for (size_t i = 2; i < w.n; i++) {
        const char *tok = w.v[i];
        const char *eq = strchr(tok, '=');
        int lo, hi, n = 0;
        if (starts_with(tok, "python=")) {
            if (sscanf(tok + 7, "3.%d-3.%d%n", &lo, &hi, &n) == 2 && tok[7 + n] == '\0' &&
                lo <= hi) {
                e.py_min = lo;
                e.py_max = hi;
            } else {
                perr(p, line, "bad '%s' (python=3.A-3.B)", tok);
            }
            continue;
        }
        struct fs_case_loc *loc = NULL;
        bool *has = NULL;
        for (int s = 0; s < NSITES && eq; s++)
            if ((size_t)(eq - tok) == strlen(site_option[s]) &&
                strncmp(tok, site_option[s], (size_t)(eq - tok)) == 0)
                loc = site_loc(&e, s, &has);
        if (!loc) {
            perr(p, line,
                 "unknown expect: option '%s' (acquire=, fork=, child=, exit=, holder= and "
                 "hang=@marker are known)",
                 tok);
            continue;
        }
        if (*has) {
            perr(p, line, "'%.*s' given twice", (int)(strchr(tok, '=') - tok), tok);
            continue;
        }
        if (!parse_where(strchr(tok, '=') + 1, spec->file, loc)) {
            perr(p, line, "bad site '%s' (write @marker or file.c@marker)", tok);
            continue;
        }
        *has = true;
    }
    e.hazard = fs_xstrdup(w.v[0]);
    spec->expects = fs_xrealloc(spec->expects, spec->nexpects + 1, sizeof *spec->expects);
    spec->expects[spec->nexpects++] = e;
out:
    strlist_free(w.v, w.n);
}

static void parse_header(struct parse *p, const struct source *src)
{
    struct fs_case_spec *spec = p->spec;
    bool have_timeout = false;
    for (size_t i = src->hdr_first; i <= src->hdr_last; i++) {
        size_t size = strlen(src->lines[i - 1]) + 1;
        char *buf = fs_xcalloc(size, 1);
        char *c = header_content(src, i, buf, size);
        if (starts_with(c, "forksan case:")) {
            if (spec->description)
                perr(p, i, "second `forksan case:` line");
            else
                spec->description = fs_xstrdup(trim(c + strlen("forksan case:")));
            if (!*spec->description)
                perr(p, i, "empty description after `forksan case:`");
        } else if (starts_with(c, "expect:")) {
            parse_expect(p, i, c + strlen("expect:"));
        } else if (starts_with(c, "timeout:")) {
            char *v = trim(c + strlen("timeout:")), *end;
            errno = 0;
            double t = strtod(v, &end);
            if (have_timeout)
                perr(p, i, "timeout: given twice");
            else if (errno || end == v || *trim(end) || !isfinite(t) || t <= 0)
                perr(p, i, "bad timeout '%s' (seconds, greater than 0)", v);
            else
                spec->timeout = t;
            have_timeout = true;
        } else if (starts_with(c, "on-deadlock:")) {
            char *v = trim(c + strlen("on-deadlock:"));
            if (spec->on_deadlock)
                perr(p, i, "on-deadlock: given twice");
            else if (strcmp(v, "wait") != 0 && strcmp(v, "fail") != 0 && strcmp(v, "abort") != 0)
                perr(p, i, "bad on-deadlock '%s' (wait, fail or abort)", v);
            else
                spec->on_deadlock = fs_xstrdup(v);
        } else if (starts_with(c, "args:")) {
            split_words(c + strlen("args:"), &p->args);
        } else if (starts_with(c, "env:")) {
            size_t before = p->env.n;
            split_words(c + strlen("env:"), &p->env);
            for (size_t k = before; k < p->env.n; k++)
                if (!strchr(p->env.v[k], '=') || p->env.v[k][0] == '=')
                    perr(p, i, "env: takes NAME=value words, not '%s'", p->env.v[k]);
        } else if (starts_with(c, "python:")) {
            int lo = 0, hi = 0, n = 0;
            char *v = trim(c + strlen("python:"));
            if (sscanf(v, "3.%d-3.%d%n", &lo, &hi, &n) == 2 && v[n] == '\0' && lo <= hi) {
                spec->py_min = lo;
                spec->py_max = hi;
            } else {
                perr(p, i, "bad python: '%s' (3.A-3.B, the CPython versions it holds for)", v);
            }
        } else if (starts_with(c, "requires:")) {
            size_t before = p->requires.n;
            split_words(c + strlen("requires:"), &p->requires);
            if (p->requires.n == before)
                perr(p, i, "empty requires: line");
        } else {
            /* A lowercase word and a colon is a key: a misspelt one must not pass silently. */
            size_t k = 0;
            while (islower((unsigned char)c[k]) || c[k] == '-')
                k++;
            if (k > 0 && c[k] == ':')
                perr(p, i,
                     "unknown header key '%.*s:' (known: forksan case, expect, timeout, "
                     "on-deadlock, args, env, requires, python)",
                     (int)k, c);
        }
        free(buf);
    }
    if (spec->expect_none && spec->nexpects > 0)
        perr(p, src->hdr_first, "`expect: none` together with other expect: lines");
    if (!spec->expect_none && spec->nexpects == 0)
        perr(p, src->hdr_first, "no expect: line (write `expect: none` for a control case)");
}

/* The loaded source holding markers for file (a name relative to the case's directory), or NULL
 * when it cannot be read (an error is recorded once). */
static struct source *marker_source(struct parse *p, const char *file, size_t line)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (strcmp(p->file_names[i], file) == 0)
            return p->files[i].text ? &p->files[i] : NULL;
    p->files = fs_xrealloc(p->files, p->nfiles + 1, sizeof *p->files);
    p->file_names = fs_xrealloc(p->file_names, p->nfiles + 1, sizeof *p->file_names);
    struct source *src = &p->files[p->nfiles];
    p->file_names[p->nfiles++] = fs_xstrdup(file);
    char *path = fs_xasprintf("%s%s", p->dir, file);
    if (source_load(path, src) != 0) {
        perr(p, line, "cannot read %s for its markers: %s", path, strerror(errno));
        memset(src, 0, sizeof *src);
        free(path);
        return NULL;
    }
    free(path);
    return src;
}

static void resolve(struct parse *p, struct fs_case_loc *loc, size_t line)
{
    struct source *src = marker_source(p, loc->file, line);
    if (!src)
        return;
    size_t hits = 0, first = 0;
    char *where = NULL;
    for (size_t i = 1; i <= src->nlines; i++) {
        if (i >= src->hdr_first && i <= src->hdr_last)
            continue;
        if (!line_has_marker(src->lines[i - 1], loc->marker, src->python))
            continue;
        if (hits++ == 0) {
            first = i;
            where = fs_xasprintf("%zu", i);
        } else {
            char *more = fs_xasprintf("%s, %zu", where, i);
            free(where);
            where = more;
        }
    }
    if (hits == 1) {
        loc->line = (int)first;
        /* Matching compares basenames: frames carry DWARF paths, not the case's layout. */
        char *b = fs_xstrdup(base_name(loc->file));
        free(loc->file);
        loc->file = b;
    } else if (hits == 0) {
        perr(p, line, "marker @%s not found in %s (it must end a line as `%s @%s`)", loc->marker,
             loc->file, src->python ? "#" : "//", loc->marker);
    } else {
        perr(p, line, "marker @%s is on %zu lines of %s (%s); it must be on exactly one",
             loc->marker, hits, loc->file, where);
    }
    free(where);
}

int fs_case_spec_load(const char *path, struct fs_case_spec *spec)
{
    struct parse p = {.spec = spec};
    struct source self;
    memset(spec, 0, sizeof *spec);
    if (source_load(path, &self) != 0)
        return -1;
    bool is_case = false;
    char *buf = NULL;
    for (size_t i = self.hdr_first; i <= self.hdr_last && !is_case; i++) {
        size_t size = strlen(self.lines[i - 1]) + 1;
        buf = fs_xrealloc(buf, size, 1);
        is_case = starts_with(header_content(&self, i, buf, size), "forksan case:");
    }
    free(buf);
    if (!is_case) {
        source_free(&self);
        return 0;
    }

    const char *file = base_name(path);
    spec->path = fs_xstrdup(path);
    spec->file = fs_xstrdup(file);
    const char *dot = strrchr(file, '.');
    spec->name = dot ? fs_xasprintf("%.*s", (int)(dot - file), file) : fs_xstrdup(file);
    spec->python = self.python;
    spec->timeout = FS_CASE_DEFAULT_TIMEOUT;
    spec->py_max = 99;
    spec->run_minor = -1;
    p.dir = fs_xasprintf("%.*s", (int)(file - path), path);

    parse_header(&p, &self);

    /* The case's own file is the first marker source, so @marker needs no second read. */
    p.files = fs_xcalloc(1, sizeof *p.files);
    p.file_names = fs_xcalloc(1, sizeof *p.file_names);
    p.files[0] = self;
    p.file_names[0] = fs_xstrdup(spec->file);
    p.nfiles = 1;
    for (size_t i = 0; i < spec->nexpects; i++) {
        struct fs_case_expect *e = &spec->expects[i];
        for (int s = 0; s < NSITES; s++) {
            bool *has;
            struct fs_case_loc *loc = site_loc(e, s, &has);
            if (*has)
                resolve(&p, loc, (size_t)e->header_line);
        }
    }

    for (size_t i = 0; i < p.nfiles; i++) {
        source_free(&p.files[i]);
        free(p.file_names[i]);
    }
    free(p.files);
    free(p.file_names);
    free(p.dir);
    spec->args = p.args.v;
    spec->nargs = p.args.n;
    spec->requires = p.requires.v;
    spec->nrequires = p.requires.n;
    spec->env = p.env.v;
    spec->nenv = p.env.n;
    spec->errors = p.errors.v;
    spec->nerrors = p.errors.n;
    if (!spec->description)
        spec->description = fs_xstrdup("");
    return 1;
}

static void loc_free(struct fs_case_loc *loc)
{
    free(loc->marker);
    free(loc->file);
}

void fs_case_spec_release(struct fs_case_spec *spec)
{
    for (size_t i = 0; i < spec->nexpects; i++) {
        free(spec->expects[i].hazard);
        loc_free(&spec->expects[i].acquire);
        loc_free(&spec->expects[i].fork);
        loc_free(&spec->expects[i].child);
        loc_free(&spec->expects[i].exit);
        loc_free(&spec->expects[i].holder);
        loc_free(&spec->expects[i].hang);
    }
    free(spec->expects);
    free(spec->name);
    free(spec->file);
    free(spec->path);
    free(spec->description);
    free(spec->on_deadlock);
    strlist_free(spec->args, spec->nargs);
    strlist_free(spec->requires, spec->nrequires);
    strlist_free(spec->env, spec->nenv);
    strlist_free(spec->errors, spec->nerrors);
    memset(spec, 0, sizeof *spec);
}

/* ---- descriptions ------------------------------------------------------------------------------
 */

static char *loc_text(const struct fs_case_loc *loc)
{
    if (loc->line > 0)
        return fs_xasprintf("%s:%d", loc->file, loc->line);
    return fs_xasprintf("%s@%s", loc->file, loc->marker);
}

bool fs_case_spec_expects_hang(const struct fs_case_spec *spec)
{
    for (size_t i = 0; i < spec->nexpects; i++)
        if (strcmp(spec->expects[i].hazard, "child-hang") == 0)
            return true;
    return false;
}

char *fs_case_expect_describe(const struct fs_case_expect *e)
{
    /* The child's call is what tells a child-deadlock case apart from its lock-held-at-fork. */
    const struct fs_case_loc *loc = site_get(e, SITE_CHILD);
    if (!loc)
        loc = site_get(e, SITE_ACQUIRE);
    if (!loc)
        loc = site_get(e, SITE_FORK);
    if (!loc)
        return fs_xasprintf("%s(%s)", e->hazard, fs_severity_name(e->severity));
    char *where = loc_text(loc);
    char *s = fs_xasprintf("%s(%s)@%s", e->hazard, fs_severity_name(e->severity), where);
    free(where);
    return s;
}

char *fs_case_spec_describe(const struct fs_case_spec *spec)
{
    if (spec->nexpects == 0)
        return fs_xstrdup("no findings");
    char *out = fs_xstrdup("");
    for (size_t i = 0; i < spec->nexpects; i++) {
        char *one = fs_case_expect_describe(&spec->expects[i]);
        char *next = fs_xasprintf("%s%s%s", out, i ? ", " : "", one);
        free(one);
        free(out);
        out = next;
    }
    return out;
}

char *fs_case_expand_arg(const char *arg, const char *bin_dir)
{
    static const char key[] = "{casebin}";
    char *out = fs_xstrdup("");
    const char *p = arg, *hit;
    while ((hit = strstr(p, key)) != NULL) {
        char *next = fs_xasprintf("%s%.*s%s", out, (int)(hit - p), p, bin_dir);
        free(out);
        out = next;
        p = hit + strlen(key);
    }
    char *next = fs_xasprintf("%s%s", out, p);
    free(out);
    return next;
}

/* ---- matching ------------------------------------------------------------------------------- */

static const struct fs_stack *find_stack(const struct fs_finding *f, const char *role)
{
    for (size_t i = 0; i < f->nstacks; i++)
        if (f->stacks[i].role && strcmp(f->stacks[i].role, role) == 0)
            return &f->stacks[i];
    return NULL;
}

/* Any frame, not just the first: inlined and libc frames come before the case's own line. */
static bool stack_has(const struct fs_stack *s, const struct fs_case_loc *loc)
{
    for (size_t i = 0; i < s->nframes; i++) {
        const struct fs_frame *fr = &s->frames[i];
        if (fr->file && fr->line == loc->line && strcmp(base_name(fr->file), loc->file) == 0)
            return true;
    }
    return false;
}

static bool site_ok(const struct fs_finding *f, const char *role, const struct fs_case_loc *loc)
{
    if (loc->line <= 0)
        return false;
    for (size_t i = 0; i < f->nstacks; i++)
        if (f->stacks[i].role && strcmp(f->stacks[i].role, role) == 0 &&
            stack_has(&f->stacks[i], loc))
            return true;
    return false;
}

static bool compatible(const struct fs_case_expect *e, const struct fs_finding *f)
{
    if (strcmp(e->hazard, f->hazard) != 0 || e->severity != f->severity)
        return false;
    for (int s = 0; s < NSITES; s++) {
        const struct fs_case_loc *loc = site_get(e, s);
        if (loc && !site_ok(f, site_role[s], loc))
            return false;
    }
    return true;
}

struct matcher {
    const struct fs_case_spec *spec;
    const struct fs_findings *findings;
    bool *compat;  /* [expect * nfindings + finding] */
    int *owner;    /* finding -> expectation, or -1 */
    bool *visited; /* findings seen in the current augmenting search */
};

static bool augment(struct matcher *m, size_t e)
{
    size_t nf = m->findings->n;
    for (size_t f = 0; f < nf; f++) {
        if (!m->compat[e * nf + f] || m->visited[f])
            continue;
        m->visited[f] = true;
        if (m->owner[f] < 0 || augment(m, (size_t)m->owner[f])) {
            m->owner[f] = (int)e;
            return true;
        }
    }
    return false;
}

static int strictness(const struct fs_case_expect *e)
{
    return (int)e->has_acquire + (int)e->has_fork + (int)e->has_child + (int)e->has_exit +
           (int)e->has_holder + (int)e->has_hang;
}

static char *frames_text(const struct fs_stack *s)
{
    char *out = fs_xstrdup("");
    size_t shown = s->nframes < SHOWN_FRAMES ? s->nframes : SHOWN_FRAMES;
    for (size_t i = 0; i < shown; i++) {
        const struct fs_frame *fr = &s->frames[i];
        char *one;
        const char *fn = fr->function ? fr->function : "??";
        if (fr->file)
            one = fs_xasprintf("%s at %s:%d", fn, base_name(fr->file), fr->line);
        else if (fr->module)
            one = fs_xasprintf("%s in %s", fn, base_name(fr->module));
        else
            one = fs_xasprintf("%s at 0x%llx", fn, (unsigned long long)fr->pc);
        char *next = fs_xasprintf("%s%s%s", out, i ? ", " : "", one);
        free(one);
        free(out);
        out = next;
    }
    if (s->nframes > shown) {
        char *next = fs_xasprintf("%s, ...", out);
        free(out);
        out = next;
    }
    if (s->nframes == 0) {
        free(out);
        out = fs_xstrdup("no frames");
    }
    return out;
}

/* Why finding f is not the one expectation e asks for (same hazard, near miss). */
static char *explain_near_miss(const struct fs_case_expect *e, const struct fs_finding *f)
{
    struct strlist why = {0};
    if (e->severity != f->severity)
        strlist_add(&why, fs_xasprintf("its severity is %s, not %s", fs_severity_name(f->severity),
                                       fs_severity_name(e->severity)));
    for (int r = 0; r < NSITES; r++) {
        const struct fs_case_loc *loc = site_get(e, r);
        if (!loc || site_ok(f, site_role[r], loc))
            continue;
        const struct fs_stack *s = find_stack(f, site_role[r]);
        char *where = loc_text(loc);
        if (!s) {
            strlist_add(&why, fs_xasprintf("it has no %s stack (expected a frame at %s)",
                                           site_role[r], where));
        } else {
            char *frames = frames_text(s);
            strlist_add(&why, fs_xasprintf("%s stack has no frame at %s; it has: %s", site_role[r],
                                           where, frames));
            free(frames);
        }
        free(where);
    }
    char *out =
        fs_xasprintf("%s %s found (pid %d) but", f->hazard, fs_severity_name(f->severity), f->pid);
    for (size_t i = 0; i < why.n; i++) {
        char *next = fs_xasprintf("%s%s %s", out, i ? "; and" : "", why.v[i]);
        free(out);
        out = next;
    }
    strlist_free(why.v, why.n);
    return out;
}

static char *expect_text(const struct fs_case_expect *e)
{
    char *out = fs_xasprintf("%s %s", e->hazard, fs_severity_name(e->severity));
    for (int r = 0; r < NSITES; r++) {
        const struct fs_case_loc *loc = site_get(e, r);
        if (!loc)
            continue;
        char *where = loc_text(loc);
        char *next = fs_xasprintf("%s %s=%s", out, site_option[r], where);
        free(where);
        free(out);
        out = next;
    }
    return out;
}

static bool match_view(const struct fs_case_spec *spec, const struct fs_findings *findings,
                       struct fs_case_mismatches *out);

bool fs_case_match(const struct fs_case_spec *given, const struct fs_findings *findings,
                   struct fs_case_mismatches *out)
{
    /* Only the expectations that hold for the interpreter the case ran with. */
    struct fs_case_spec view = *given;
    view.expects = fs_xcalloc(given->nexpects + 1, sizeof *view.expects);
    view.nexpects = 0;
    for (size_t i = 0; i < given->nexpects; i++) {
        const struct fs_case_expect *e = &given->expects[i];
        if (given->run_minor < 0 ||
            (given->run_minor >= e->py_min && given->run_minor <= e->py_max))
            view.expects[view.nexpects++] = *e;
    }
    bool ok = match_view(&view, findings, out);
    free(view.expects);
    return ok;
}

static bool match_view(const struct fs_case_spec *spec, const struct fs_findings *findings,
                       struct fs_case_mismatches *out)
{
    size_t ne = spec->nexpects, nf = findings->n;
    struct matcher m = {
        .spec = spec,
        .findings = findings,
        .compat = fs_xcalloc(ne * nf + 1, sizeof(bool)),
        .owner = fs_xcalloc(nf + 1, sizeof(int)),
        .visited = fs_xcalloc(nf + 1, sizeof(bool)),
    };
    struct strlist msgs = {0};
    size_t *order = fs_xcalloc(ne + 1, sizeof *order);
    bool *matched = fs_xcalloc(ne + 1, sizeof(bool));
    bool *explained = fs_xcalloc(nf + 1, sizeof(bool));

    for (size_t e = 0; e < ne; e++)
        for (size_t f = 0; f < nf; f++)
            m.compat[e * nf + f] = compatible(&spec->expects[e], &findings->items[f]);
    for (size_t f = 0; f < nf; f++)
        m.owner[f] = -1;

    /* Stricter expectations first: augmenting paths make the matching maximum either way, but
     * this order keeps the first assignment tried the natural one. */
    size_t k = 0;
    for (int s = NSITES; s >= 0; s--)
        for (size_t e = 0; e < ne; e++)
            if (strictness(&spec->expects[e]) == s)
                order[k++] = e;
    for (size_t i = 0; i < ne; i++) {
        memset(m.visited, 0, nf * sizeof(bool));
        (void)augment(&m, order[i]);
    }
    for (size_t f = 0; f < nf; f++)
        if (m.owner[f] >= 0) {
            matched[m.owner[f]] = true;
            explained[f] = true;
        }

    /* An unmatched expectation and an unclaimed finding of the same hazard are one mistake,
     * explained together; the same severity is the likelier pair. */
    for (size_t i = 0; i < ne; i++) {
        size_t e = order[i];
        if (matched[e])
            continue;
        const struct fs_case_expect *ex = &spec->expects[e];
        long best = -1;
        for (int pass = 0; pass < 2 && best < 0; pass++)
            for (size_t f = 0; f < nf && best < 0; f++) {
                const struct fs_finding *fi = &findings->items[f];
                if (!explained[f] && strcmp(fi->hazard, ex->hazard) == 0 &&
                    (pass == 1 || fi->severity == ex->severity))
                    best = (long)f;
            }
        if (best >= 0) {
            explained[best] = true;
            strlist_add(&msgs, explain_near_miss(ex, &findings->items[best]));
        } else {
            char *t = expect_text(ex);
            strlist_add(&msgs, fs_xasprintf("missing: %s", t));
            free(t);
        }
    }
    for (size_t f = 0; f < nf; f++) {
        if (explained[f])
            continue;
        const struct fs_finding *fi = &findings->items[f];
        strlist_add(&msgs, fs_xasprintf("unexpected: %s %s (pid %d: %s)", fi->hazard,
                                        fs_severity_name(fi->severity), fi->pid,
                                        fi->summary ? fi->summary : "no summary"));
    }

    free(m.compat);
    free(m.owner);
    free(m.visited);
    free(order);
    free(matched);
    free(explained);
    out->msgs = msgs.v;
    out->n = msgs.n;
    return msgs.n == 0;
}

void fs_case_mismatches_release(struct fs_case_mismatches *m)
{
    strlist_free(m->msgs, m->n);
    m->msgs = NULL;
    m->n = 0;
}
