/* The SARIF 2.1.0 report (mapping: docs/report-sarif.md), so that CI systems such as GitHub code
 * scanning can show forksan's findings next to the source.  One run, one rule per hazard id that
 * occurs, one result per finding.  A result points at one source line (the frame most worth
 * looking at); every stack goes to result.stacks unabridged, so nothing the JSON report carries
 * about the evidence is lost. */
#include "render.h"
#include "render_util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define SARIF_SCHEMA                                                                               \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

/* The hazard catalogue (HAZARDS.md) as SARIF rules; the level is the hazard's default severity,
 * a finding may still carry another (threads-at-fork is a note when the child execs). */
static const struct hazard_rule {
    const char *id;
    enum fs_severity level;
    const char *text;
} hazard_rules[] = {
    {"lock-held-at-fork", FS_SEV_WARNING,
     "A lock was held by another thread at fork: the child inherits it locked and nothing in the "
     "child can ever release it."},
    {"child-deadlock", FS_SEV_ERROR,
     "A forked child tried to acquire a lock it inherited held by a thread that does not exist in "
     "the child."},
    {"fork-lock-race", FS_SEV_WARNING,
     "A forked child used a lock that another parent thread, alive at fork and absent in the "
     "child, also used: a fork at another instant leaves it held forever in the child."},
    {"child-hang", FS_SEV_ERROR, "A traced process did not finish within the run's time limit."},
    {"lock-held-by-forker", FS_SEV_NOTE, "The forking thread itself held a lock at fork."},
    {"threads-at-fork", FS_SEV_WARNING,
     "More than one thread was alive at fork: until it execs, the child may only make "
     "async-signal-safe calls."},
    {"rng-duplicated", FS_SEV_ERROR,
     "Two processes of one tree drew the same values from one inherited pseudo-random state."},
    {"rng-inherited", FS_SEV_WARNING,
     "A forked child drew from a pseudo-random state it inherited, without reseeding."},
    {"rng-unseeded", FS_SEV_NOTE,
     "A libc pseudo-random generator was used without ever being seeded, so every run draws the "
     "same sequence."},
    {"stdio-unflushed-at-fork", FS_SEV_WARNING,
     "A stdio stream had buffered output at fork: parent and child will both write it."},
    {"child-exit-runs-parent-cleanup", FS_SEV_WARNING,
     "A forked child that did not exec ended with exit(), running its parent's atexit handlers "
     "and flushing inherited buffers; _exit() is safe."},
    {"unreaped-child", FS_SEV_WARNING,
     "A process ended, or ran past its children's end, without waiting for them."},
    {"fork-storm", FS_SEV_ERROR, "A process tree forked past the configured limit."},
    {"fd-inherited", FS_SEV_NOTE,
     "A file descriptor without close-on-exec crossed an exec, or a shared file offset was "
     "written by both parent and child."},
};


static const struct hazard_rule *hazard_rule_find(const char *id)
{
    for (size_t i = 0; i < sizeof hazard_rules / sizeof *hazard_rules; i++)
        if (strcmp(hazard_rules[i].id, id) == 0)
            return &hazard_rules[i];
    return NULL;
}

static const char *level_name(enum fs_severity sev)
{
    switch (sev) {
    case FS_SEV_ERROR:
        return "error";
    case FS_SEV_NOTE:
        return "note";
    case FS_SEV_WARNING:
    default:
        return "warning";
    }
}

/* An empty name would give an empty URI, which code scanning rejects. */
static bool has_file(const struct fs_frame *fr)
{
    return fr->file && fr->file[0];
}

static const char *hazard_of(const struct fs_finding *f)
{
    return f->hazard ? f->hazard : "unknown";
}

/* A URI reference for a file path: absolute paths become file:///..., relative ones stay
 * relative (DWARF gives them relative to a compilation directory forksan does not know).  Bytes
 * outside the URI path characters are percent-encoded, which also keeps non-UTF-8 names valid;
 * ':' is encoded too, or a relative "a:b.c" would read as a URI scheme. */
static char *file_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    char *uri = fs_xcalloc(strlen(path) * 3 + sizeof "file://", 1);
    char *o = uri;
    if (path[0] == '/')
        o = stpcpy(o, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/!$&'()*+,;=@", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        }
    }
    *o = '\0';
    return uri;
}

static json_t *message(const char *text)
{
    json_t *m = json_object();
    if (set(m, "text", jstr(text)) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

/* A location for a frame: physical when the frame has a file, logical when it has a function.
 * Empty (no members) when it has neither. */
static json_t *frame_location(const struct fs_frame *fr)
{
    json_t *loc = json_object();
    int rc = 0;
    if (has_file(fr)) {
        json_t *phys = json_object();
        json_t *artifact = json_object();
        char *uri = file_uri(fr->file);
        rc |= set(artifact, "uri", jstr(uri));
        free(uri);
        rc |= set(phys, "artifactLocation", artifact);
        if (fr->line > 0) {
            json_t *region = json_object();
            rc |= set(region, "startLine", json_integer(fr->line));
            if (fr->column > 0)
                rc |= set(region, "startColumn", json_integer(fr->column));
            rc |= set(phys, "region", region);
        }
        rc |= set(loc, "physicalLocation", phys);
    }
    if (fr->function) {
        json_t *logical = json_object();
        json_t *logicals = json_array();
        rc |= set(logical, "fullyQualifiedName", jstr(fr->function));
        rc |= set(logical, "kind", json_string("function"));
        rc |= append(logicals, logical);
        rc |= set(loc, "logicalLocations", logicals);
    }
    if (rc) {
        json_decref(loc);
        return NULL;
    }
    return loc;
}

static json_t *stack_frame(const struct fs_frame *fr)
{
    json_t *o = json_object();
    json_t *props = json_object();
    int rc = 0;
    json_t *loc = frame_location(fr);
    if (loc && json_object_size(loc) == 0)
        json_decref(loc); /* SARIF allows a frame without a location; {} would say nothing */
    else
        rc |= set(o, "location", loc);
    if (fr->module)
        rc |= set(o, "module", jstr(fr->module));
    rc |= set(props, "kind", json_string(fs_frame_lang_name(fr->lang)));
    rc |= set(props, "origin", json_string(fs_frame_origin_name(fr->origin)));
    if (fr->lang == FS_LANG_NATIVE)
        rc |= set(props, "pc", jhex(fr->pc));
    if (fr->module)
        rc |= set(props, "offset", jhex(fr->offset));
    if (fr->function && fr->lang == FS_LANG_NATIVE)
        rc |= set(props, "functionOffset", jhex(fr->fn_off));
    rc |= set(props, "inlined", json_boolean(fr->inlined));
    rc |= set(o, "properties", props);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sarif_stack(const struct fs_stack *s)
{
    json_t *o = json_object();
    json_t *frames = json_array();
    json_t *props = json_object();
    int rc = 0;
    for (size_t i = 0; i < s->nframes && rc == 0; i++)
        rc |= append(frames, stack_frame(&s->frames[i]));
    rc |= set(o, "message", message(s->role ? s->role : "stack"));
    rc |= set(o, "frames", frames);
    /* Not stackFrame.threadId: for some roles (thread-created) the tid is the thread the stack
     * is about, not the one that ran it. */
    rc |= set(props, "tid", json_integer(s->tid));
    if (s->thread_name)
        rc |= set(props, "threadName", jstr(s->thread_name));
    if (s->folded)
        rc |= set(props, "foldedFrames", json_integer((json_int_t)s->folded));
    rc |= set(o, "properties", props);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Innermost frame first, so the first frame with a file is the closest source line. */
static const struct fs_frame *first_file_frame(const struct fs_stack *s)
{
    for (size_t i = 0; i < s->nframes; i++)
        if (has_file(&s->frames[i]))
            return &s->frames[i];
    return NULL;
}

static json_t *result_properties(const struct fs_finding *f)
{
    json_t *props = json_object();
    json_t *path = json_array();
    json_t *details = json_object();
    int rc = 0;
    for (size_t i = 0; i < f->npath && rc == 0; i++) {
        json_t *p = json_object();
        rc |= set(p, "pid", json_integer(f->path[i].pid));
        rc |= set(p, "name", jstr(f->path[i].name));
        rc |= append(path, p);
    }
    for (size_t i = 0; i < f->ndetails && rc == 0; i++)
        rc |= add_detail(details, &f->details[i]);
    rc |= set(props, "pid", json_integer(f->pid));
    rc |= set(props, "processPath", path);
    rc |= set(props, "details", details);
    if (rc) {
        json_decref(props);
        return NULL;
    }
    return props;
}

/* result.stacks must hold distinct stacks, and a rule may give the same one twice (siblings
 * forked by one loop share their parent's fork stack), so equal stacks are given once.
 * stack_at[i] receives the index in the returned array of f->stacks[i]. */
static json_t *sarif_stacks(const struct fs_finding *f, size_t *stack_at)
{
    json_t *stacks = json_array();
    for (size_t i = 0; i < f->nstacks && stacks; i++) {
        json_t *s = sarif_stack(&f->stacks[i]);
        if (!s) {
            json_decref(stacks);
            return NULL;
        }
        size_t j = 0;
        while (j < json_array_size(stacks) && !json_equal(json_array_get(stacks, j), s))
            j++;
        stack_at[i] = j;
        if (j < json_array_size(stacks)) {
            json_decref(s);
        } else if (append(stacks, s) < 0) {
            json_decref(stacks);
            return NULL;
        }
    }
    return stacks;
}

/* The primary stack's innermost source line, then one related location per other distinct
 * stack that has a source line.  A related location's id is its stack's index in
 * result.stacks, which keeps two stacks with one role and one line apart (SARIF wants
 * relatedLocations distinct) and leads a reader from the line to the whole stack. */
static int add_locations(json_t *result, const struct fs_finding *f, const size_t *stack_at)
{
    /* The finding's primary location: its innermost frame in the user's code (pyframes.c). */
    size_t primary = 0;
    const struct fs_frame *at = fs_finding_primary(f, &primary, NULL);
    if (!at)
        return 0;
    json_t *locations = json_array();
    json_t *related = json_array();
    bool *done = fs_xcalloc(f->nstacks, sizeof *done);
    int rc = 0;
    rc |= append(locations, frame_location(at));
    done[stack_at[primary]] = true;
    for (size_t i = 0; i < f->nstacks && rc == 0; i++) {
        const struct fs_frame *fr = first_file_frame(&f->stacks[i]);
        if (!fr || done[stack_at[i]])
            continue;
        done[stack_at[i]] = true;
        json_t *loc = frame_location(fr);
        rc |= set(loc, "id", json_integer((json_int_t)stack_at[i]));
        rc |= set(loc, "message", message(f->stacks[i].role ? f->stacks[i].role : "stack"));
        rc |= append(related, loc);
    }
    free(done);
    rc |= set(result, "locations", locations);
    if (json_array_size(related) > 0)
        rc |= set(result, "relatedLocations", related);
    else
        json_decref(related);
    return rc ? -1 : 0;
}

static json_t *sarif_result(const struct fs_finding *f, size_t rule_index)
{
    json_t *o = json_object();
    int rc = 0;
    rc |= set(o, "ruleId", jstr(hazard_of(f)));
    rc |= set(o, "ruleIndex", json_integer((json_int_t)rule_index));
    rc |= set(o, "level", json_string(level_name(f->severity)));
    rc |= set(o, "message", message(f->summary ? f->summary : hazard_of(f)));
    if (f->nstacks > 0) {
        size_t *stack_at = fs_xcalloc(f->nstacks, sizeof *stack_at);
        json_t *stacks = sarif_stacks(f, stack_at);
        if (stacks)
            rc |= add_locations(o, f, stack_at);
        rc |= set(o, "stacks", stacks);
        free(stack_at);
    }
    rc |= set(o, "properties", result_properties(f));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A hazard that is not in the table (a rule newer than this file) still gets a rule, at the
 * severity of its first finding. */
static json_t *sarif_rule(const struct fs_finding *first)
{
    const char *id = hazard_of(first);
    const struct hazard_rule *known = hazard_rule_find(id);
    char *fallback = known ? NULL : fs_xasprintf("forksan hazard %s.", id);
    json_t *o = json_object();
    json_t *config = json_object();
    int rc = 0;
    rc |= set(o, "id", jstr(id));
    rc |= set(o, "shortDescription", message(known ? known->text : fallback));
    rc |= set(config, "level", json_string(level_name(known ? known->level : first->severity)));
    rc |= set(o, "defaultConfiguration", config);
    free(fallback);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *run_properties(const struct fs_report_meta *meta)
{
    json_t *props = json_object();
    json_t *safe = json_object();
    int rc = 0;
    for (size_t i = 0; meta && i < meta->nsafe_random && rc == 0; i++)
        rc |= set(safe, meta->safe_random[i].name, json_integer(meta->safe_random[i].count));
    rc |= set(props, "command", jstr(meta ? meta->command : NULL));
    rc |= set(props, "processes", json_integer(meta ? meta->processes : 0));
    rc |= set(props, "damagedTraces", json_integer(meta ? meta->damaged_traces : 0));
    rc |= set(props, "suppressed", json_integer(meta ? meta->suppressed : 0));
    rc |= set(props, "safeRandomness", safe);
    if (rc) {
        json_decref(props);
        return NULL;
    }
    return props;
}

static json_t *sarif_report(const struct fs_findings *f, const struct fs_report_meta *meta)
{
    size_t n = f ? f->n : 0;
    json_t *root = json_object();
    json_t *runs = json_array();
    json_t *run = json_object();
    json_t *tool = json_object();
    json_t *driver = json_object();
    json_t *rules = json_array();
    json_t *results = json_array();
    /* rule_of[i]: index in rules of finding i's hazard; the first finding of each hazard made it */
    size_t *rule_of = fs_xcalloc(n ? n : 1, sizeof *rule_of);
    size_t *rule_first = fs_xcalloc(n ? n : 1, sizeof *rule_first);
    size_t nrules = 0;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *id = hazard_of(&f->items[i]);
        size_t r = 0;
        while (r < nrules && strcmp(hazard_of(&f->items[rule_first[r]]), id) != 0)
            r++;
        if (r == nrules) {
            rule_first[nrules++] = i;
            rc |= append(rules, sarif_rule(&f->items[i]));
        }
        rule_of[i] = r;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc |= append(results, sarif_result(&f->items[i], rule_of[i]));
    free(rule_of);
    free(rule_first);

    rc |= set(driver, "name", json_string("forksan"));
    if (meta && meta->version)
        rc |= set(driver, "version", jstr(meta->version));
    rc |= set(driver, "rules", rules);
    rc |= set(tool, "driver", driver);
    rc |= set(run, "tool", tool);
    rc |= set(run, "results", results);
    rc |= set(run, "properties", run_properties(meta));
    rc |= append(runs, run);
    rc |= set(root, "$schema", json_string(SARIF_SCHEMA));
    rc |= set(root, "version", json_string("2.1.0"));
    rc |= set(root, "runs", runs);
    if (rc) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int fs_render_sarif(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    return write_document(out, sarif_report(f, meta));
}
