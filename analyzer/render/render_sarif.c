/* The SARIF 2.1.0 report (mapping: docs/report-sarif.md), so that CI systems such as GitHub code
 * scanning can show forksan's findings next to the source.  One run, one rule per hazard id that
 * occurs, one result per finding.  A result points at one source line (the frame most worth
 * looking at); every stack goes to result.stacks unabridged, so nothing the JSON report carries
 * about the evidence is lost. */
#include "render.h"
#include "render_util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define SARIF_SCHEMA                                                                               \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

/* The hazard catalogue (HAZARDS.md) as SARIF rules; the level is the hazard's default severity,
 * a finding may still carry another (threads-at-fork is a note when the child execs).  `name` is
 * the rule's PascalCase name, `text` the short description, `full` what happens, `help` what to
 * do about it (GitHub code scanning shows fullDescription and help next to each alert). */
static const struct hazard_rule {
    const char *id;
    const char *name;
    enum fs_severity level;
    const char *text;
    const char *full;
    const char *help;
} hazard_rules[] = {
    {"lock-held-at-fork", "LockHeldAtFork", FS_SEV_WARNING,
     "A lock was held by another thread at fork: the child inherits it locked and nothing in the "
     "child can ever release it.",
     "fork() copies memory, not threads: a mutex, rwlock, semaphore or spin lock that another "
     "thread held at the instant of the fork stays locked in the child forever, and the first "
     "call that takes it there blocks for good.",
     "Take the lock in a pthread_atfork prepare handler and release it in the parent and child "
     "handlers, or call exec (or _exit) right after fork, or fork before starting threads."},
    {"child-deadlock", "ChildDeadlock", FS_SEV_ERROR,
     "A forked child tried to acquire a lock it inherited held by a thread that does not exist in "
     "the child.",
     "The child called a lock function on a lock that a thread of its parent held at the fork; "
     "that thread does not exist in the child, so the call can never return (try and timed "
     "variants fail instead).",
     "Make the lock free at fork (pthread_atfork handlers), or have the child exec or _exit "
     "without touching it; under forksan run the child is ended after 1 s (--on-deadlock)."},
    {"fork-lock-race", "ForkLockRace", FS_SEV_WARNING,
     "A forked child used a lock that another parent thread, alive at fork and absent in the "
     "child, also used: a fork at another instant leaves it held forever in the child.",
     "The lock happened to be free at this fork, but another thread of the parent takes it: had "
     "the fork landed inside that thread's critical section, the child's call would block "
     "forever. Such deadlocks show one run in a thousand.",
     "Make the lock fork-safe (take it in a pthread_atfork prepare handler, release it in the "
     "parent and child handlers), re-initialise it in the child, or exec right after fork."},
    {"child-hang", "ChildHang", FS_SEV_ERROR,
     "A traced process did not finish within the run's time limit.",
     "A process of the tree was still running when the run's time limit expired, or forksan "
     "ended it because it was blocked for good on an inherited lock; every thread's stack "
     "was captured first.",
     "Look at the captured stacks: a thread blocked on a lock inherited across fork is a "
     "child-deadlock; otherwise raise --timeout if the program was only slow."},
    {"lock-held-by-forker", "LockHeldByForker", FS_SEV_NOTE,
     "The forking thread itself held a lock at fork.",
     "The thread that called fork held the lock; in the child that thread goes on and can "
     "release it, so this is safe unless the child relies on another thread to do so.",
     "Nothing to do if the child's copy of this thread releases the lock; prefer releasing "
     "locks before fork."},
    {"threads-at-fork", "ThreadsAtFork", FS_SEV_WARNING,
     "More than one thread was alive at fork: until it execs, the child may only make "
     "async-signal-safe calls.",
     "Only the forking thread exists in the child; any state the other threads were changing "
     "(locks, allocator, stdio) may be inconsistent there, so POSIX allows only "
     "async-signal-safe calls until exec.",
     "Exec right after fork (or use posix_spawn), or fork before starting threads."},
    {"rng-duplicated", "RngDuplicated", FS_SEV_ERROR,
     "Two processes of one tree drew the same values from one inherited pseudo-random state.",
     "A pseudo-random generator's state was copied by fork and never reseeded, and two "
     "processes drew the same sequence from it: tokens, temporary names or retry jitter repeat.",
     "Reseed in the child after fork (from getrandom), or use getrandom/arc4random, which are "
     "fork-safe."},
    {"rng-inherited", "RngInherited", FS_SEV_WARNING,
     "A forked child drew from a pseudo-random state it inherited, without reseeding.",
     "The child drew from a generator state it inherited: any other process forked from the "
     "same state draws the same values.",
     "Reseed in the child after fork (from getrandom), or use a fork-safe source."},
    {"rng-unseeded", "RngUnseeded", FS_SEV_NOTE,
     "A libc pseudo-random generator was used without ever being seeded, so every run draws the "
     "same sequence.",
     "rand(), random() and drand48() start from a fixed seed unless seeded: every run and every "
     "process draws the same values.",
     "Seed once from getrandom, or use getrandom/arc4random."},
    {"stdio-unflushed-at-fork", "StdioUnflushedAtFork", FS_SEV_WARNING,
     "A stdio stream had buffered output at fork: parent and child will both write it.",
     "fork copies the stream's buffer: the bytes pending at the fork are written once by the "
     "parent and once more by the child, so output appears twice.",
     "fflush (or sys.stdout.flush()) before fork, or end the child with _exit."},
    {"child-exit-runs-parent-cleanup", "ChildExitRunsParentCleanup", FS_SEV_WARNING,
     "A forked child that did not exec ended with exit(), running its parent's atexit handlers "
     "and flushing inherited buffers; _exit() is safe.",
     "exit() in a forked child runs the atexit handlers and flushes the stdio buffers it "
     "inherited from its parent: cleanup meant for the parent runs twice.",
     "End forked children that do not exec with _exit (os._exit in Python)."},
    {"unreaped-child", "UnreapedChild", FS_SEV_WARNING,
     "A process ended, or ran past its children's end, without waiting for them.",
     "Children that end before their parent waits for them stay zombies, holding a pid and "
     "their exit status, until the parent waits or ends.",
     "waitpid for every child (or set SIGCHLD to SIG_IGN when their status is not needed)."},
    {"fork-storm", "ForkStorm", FS_SEV_ERROR, "A process tree forked past the configured limit.",
     "The tree made more processes or forks than forksan's limits (--max-processes, "
     "--max-forks): a child probably went back into its parent's loop.",
     "Make children end (_exit) instead of returning into the forking loop; raise the limits "
     "if the tree is meant to be that large."},
    {"fd-inherited", "FdInherited", FS_SEV_NOTE,
     "A file descriptor without close-on-exec crossed an exec, or a shared file offset was "
     "written by both parent and child.",
     "A descriptor opened without O_CLOEXEC stays open in every program the process execs, "
     "which keeps files, pipes and sockets alive and leaks access.",
     "Open with O_CLOEXEC (or set FD_CLOEXEC); use dup2 or posix_spawn file actions for "
     "descriptors meant to be passed."},
};

/* Where the hazards are explained: the installed docs (FORKSAN_DOC_DIR), one anchor per hazard
 * id in hazards.md. */
static const char *help_uri_base(void)
{
#ifdef FORKSAN_DOC_DIR
    return "file://" FORKSAN_DOC_DIR "/hazards.md";
#else
    return "file:///usr/local/share/doc/forksan/hazards.md";
#endif
}

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

/* --source-root for this rendering (one report at a time). */
static const char *source_root;

#define SRCROOT "%SRCROOT%"

/* The path below source_root, or NULL when the file is not under it. */
static const char *under_root(const char *path)
{
    if (!source_root || path[0] != '/')
        return NULL;
    size_t n = strlen(source_root);
    while (n > 1 && source_root[n - 1] == '/')
        n--;
    if (strncmp(path, source_root, n) != 0 || path[n] != '/')
        return NULL;
    return path + n + 1;
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
        const char *rel = under_root(fr->file);
        char *uri = file_uri(rel ? rel : fr->file);
        rc |= set(artifact, "uri", jstr(uri));
        if (rel)
            rc |= set(artifact, "uriBaseId", json_string(SRCROOT));
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

/* The command the report is about, for a finding with no frame at all (set per rendering). */
static const char *command_path;

/* A location for a file path with no line (a module, the program): code scanning wants every
 * result to have one. */
static json_t *file_location(const char *path, const char *function)
{
    struct fs_frame fr = {.file = (char *)path, .function = (char *)function};
    return frame_location(&fr);
}

/* No frame has a source file: the innermost frame's module (the binary, with the function when
 * known), else the program that was run, so that the result still has a location. */
static int add_module_location(json_t *result, const struct fs_finding *f)
{
    const struct fs_frame *mod = NULL;
    for (size_t i = 0; i < f->nstacks && !mod; i++)
        for (size_t k = 0; k < f->stacks[i].nframes && !mod; k++)
            if (f->stacks[i].frames[k].module && f->stacks[i].frames[k].module[0])
                mod = &f->stacks[i].frames[k];
    const char *path = mod ? mod->module : command_path;
    if (!path || !*path)
        path = f->npath && f->path[f->npath - 1].name ? f->path[f->npath - 1].name : "unknown";
    json_t *locations = json_array();
    int rc = append(locations, file_location(path, mod ? mod->function : NULL));
    return rc | set(result, "locations", locations);
}

/* The primary stack's innermost source line, then one related location per other distinct
 * stack that has a source line.  A related location's id is its stack's index in
 * result.stacks, which keeps two stacks with one role and one line apart (SARIF wants
 * relatedLocations distinct) and leads a reader from the line to the whole stack. */
static int add_locations(json_t *result, const struct fs_finding *f, const size_t *stack_at,
                         char **links)
{
    /* The finding's primary location: its innermost frame in the user's code (pyframes.c). */
    size_t primary = 0;
    const struct fs_frame *at = fs_finding_primary(f, &primary, NULL);
    if (!at)
        return add_module_location(result, f);
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
        /* SARIF embedded links: "[text](id)" in the message leads to the related location. */
        char *more = fs_xasprintf("%s%s[%s](%zu)", *links ? *links : "", *links ? ", " : "",
                                  f->stacks[i].role ? f->stacks[i].role : "stack", stack_at[i]);
        free(*links);
        *links = more;
    }
    free(done);
    rc |= set(result, "locations", locations);
    if (json_array_size(related) > 0)
        rc |= set(result, "relatedLocations", related);
    else
        json_decref(related);
    return rc ? -1 : 0;
}

/* A code flow per distinct stack, outermost frame first (the order the calls were made), of
 * the frames that have a source file: GitHub code scanning shows code flows, not stacks. */
static json_t *code_flows(const struct fs_finding *f, const size_t *stack_at)
{
    json_t *flows = json_array();
    bool *done = fs_xcalloc(f->nstacks, sizeof *done);
    int rc = 0;
    for (size_t i = 0; i < f->nstacks && rc == 0; i++) {
        const struct fs_stack *s = &f->stacks[i];
        if (done[stack_at[i]] || !first_file_frame(s))
            continue;
        done[stack_at[i]] = true;
        json_t *locs = json_array();
        for (size_t k = s->nframes; k-- > 0 && rc == 0;) {
            const struct fs_frame *fr = &s->frames[k];
            if (!has_file(fr))
                continue;
            json_t *tfl = json_object();
            json_t *loc = frame_location(fr);
            char *what = fr->function ? fs_xasprintf("%s%s", fr->function,
                                                     fr->inlined ? " (inlined)" : "")
                                      : fs_xstrdup("?");
            rc |= set(loc, "message", message(what));
            free(what);
            rc |= set(tfl, "location", loc);
            rc |= append(locs, tfl);
        }
        json_t *tf = json_object();
        json_t *tfs = json_array();
        json_t *flow = json_object();
        rc |= set(tf, "locations", locs);
        rc |= append(tfs, tf);
        char *m = s->tid ? fs_xasprintf("%s (thread %d)", s->role ? s->role : "stack", s->tid)
                         : fs_xstrdup(s->role ? s->role : "stack");
        rc |= set(flow, "message", message(m));
        free(m);
        rc |= set(flow, "threadFlows", tfs);
        rc |= append(flows, flow);
    }
    free(done);
    if (rc) {
        json_decref(flows);
        return NULL;
    }
    return flows;
}

/* FNV-1a, 64 bits: a fingerprint needs stability, not secrecy. */
static void fnv(uint64_t *h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        *h ^= *p;
        *h *= 0x100000001b3ULL;
    }
    *h ^= 0xff; /* a separator, so that ("ab", "c") and ("a", "bc") differ */
    *h *= 0x100000001b3ULL;
}

/* What stays the same across runs of the same code: the hazard, the primary frame's function
 * and file (below --source-root when given, else its base name), and each stack's role and
 * innermost frame of the program's own code; never pids, tids, addresses or line numbers. */
static json_t *fingerprints(const struct fs_finding *f)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    fnv(&h, hazard_of(f));
    const struct fs_frame *at = fs_finding_primary(f, NULL, NULL);
    if (at) {
        const char *rel = at->file ? under_root(at->file) : NULL;
        const char *base = at->file ? strrchr(at->file, '/') : NULL;
        fnv(&h, at->function);
        fnv(&h, rel ? rel : base ? base + 1 : at->file);
    }
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct fs_stack *s = &f->stacks[i];
        fnv(&h, s->role);
        for (size_t k = 0; k < s->nframes; k++)
            if (s->frames[k].origin == FS_ORIGIN_USER && s->frames[k].function) {
                fnv(&h, s->frames[k].function);
                break;
            }
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%016" PRIx64, h);
    json_t *o = json_object();
    if (set(o, "forksanFindingHash/v1", json_string(buf)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sarif_result(const struct fs_finding *f, size_t rule_index)
{
    json_t *o = json_object();
    int rc = 0;
    char *links = NULL;
    rc |= set(o, "ruleId", jstr(hazard_of(f)));
    rc |= set(o, "ruleIndex", json_integer((json_int_t)rule_index));
    rc |= set(o, "level", json_string(level_name(f->severity)));
    if (f->nstacks > 0) {
        size_t *stack_at = fs_xcalloc(f->nstacks, sizeof *stack_at);
        json_t *stacks = sarif_stacks(f, stack_at);
        if (stacks)
            rc |= add_locations(o, f, stack_at, &links);
        json_t *flows = stacks ? code_flows(f, stack_at) : NULL;
        if (flows && json_array_size(flows) > 0)
            rc |= set(o, "codeFlows", flows);
        else
            json_decref(flows);
        rc |= set(o, "stacks", stacks);
        free(stack_at);
    } else {
        rc |= add_module_location(o, f);
    }
    /* Brackets in the summary would read as links: escape them as SARIF says. */
    const char *summary = f->summary ? f->summary : hazard_of(f);
    char *text = fs_xcalloc(strlen(summary) * 2 + 1, 1);
    for (char *q = text; *summary; summary++) {
        if (*summary == '[' || *summary == ']' || *summary == '\\')
            *q++ = '\\';
        *q++ = *summary;
    }
    char *full = links ? fs_xasprintf("%s. Evidence: %s.", text, links) : fs_xstrdup(text);
    rc |= set(o, "message", message(full));
    free(full);
    free(text);
    free(links);
    rc |= set(o, "partialFingerprints", fingerprints(f));
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
    if (known)
        rc |= set(o, "name", json_string(known->name));
    rc |= set(o, "shortDescription", message(known ? known->text : fallback));
    rc |= set(o, "fullDescription", message(known ? known->full : fallback));
    json_t *help = json_object();
    char *md = known ? fs_xasprintf("**%s**\n\n%s\n\n**What to do.** %s\n\nSee `hazards.md` in "
                                    "forksan's documentation (%s).",
                                    id, known->full, known->help, help_uri_base())
                     : fs_xasprintf("forksan hazard `%s`.", id);
    char *txt = known ? fs_xasprintf("%s What to do: %s", known->full, known->help)
                      : fs_xstrdup(fallback);
    rc |= set(help, "text", jstr(txt));
    rc |= set(help, "markdown", jstr(md));
    rc |= set(o, "help", help);
    char *uri = fs_xasprintf("%s#%s", help_uri_base(), id);
    rc |= set(o, "helpUri", jstr(uri));
    free(uri);
    free(md);
    free(txt);
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
    /* Suppressed findings are not in the log (SARIF's result.suppressions is for results that
     * are): the lines that removed them, typed, as in the JSON report. */
    json_t *sups = json_array();
    for (size_t i = 0; meta && i < meta->nsuppressions && rc == 0; i++) {
        const struct fs_report_suppression *s = &meta->suppressions[i];
        json_t *o = json_object();
        rc |= set(o, "file", jstr(s->file));
        rc |= set(o, "line", json_integer(s->line));
        rc |= set(o, "hazard", jstr(s->hazard));
        rc |= set(o, "pattern", jstr(s->pattern));
        rc |= set(o, "matched", json_integer(s->matched));
        rc |= set(o, "used", json_boolean(s->matched > 0));
        rc |= append(sups, o);
    }
    rc |= set(props, "suppressions", sups);
    if (rc) {
        json_decref(props);
        return NULL;
    }
    return props;
}

static int notify(json_t *list, const char *level, const char *text)
{
    json_t *n = json_object();
    int rc = set(n, "level", json_string(level));
    rc |= set(n, "message", message(text));
    return rc | append(list, n);
}

/* How the run went: the program's exit code or signal, and what forksan had to say about it. */
static json_t *invocations(const struct fs_report_meta *meta)
{
    json_t *list = json_array();
    json_t *inv = json_object();
    json_t *notes = json_array();
    const struct fs_report_run *r = meta ? meta->run : NULL;
    int rc = 0;
    rc |= set(inv, "executionSuccessful", json_boolean(!meta || meta->damaged_traces == 0));
    if (r && r->exit_code >= 0)
        rc |= set(inv, "exitCode", json_integer(r->exit_code));
    if (r && r->signal)
        rc |= set(inv, "exitSignalNumber", json_integer(r->signal));
    if (r && !r->started)
        rc |= notify(notes, "error", "the program could not be executed");
    if (r && r->timed_out)
        rc |= notify(notes, "warning", "the time limit expired: the process tree was ended");
    if (r && r->deadlocks_ended) {
        char *t = fs_xasprintf("%u child%s blocked on an inherited lock ended by forksan "
                               "(--on-deadlock end)",
                               r->deadlocks_ended, r->deadlocks_ended == 1 ? "" : "ren");
        rc |= notify(notes, "warning", t);
        free(t);
    }
    if (meta && meta->damaged_traces) {
        char *t = fs_xasprintf("%u trace file%s damaged: the findings may be incomplete",
                               meta->damaged_traces, meta->damaged_traces == 1 ? "" : "s");
        rc |= notify(notes, "warning", t);
        free(t);
    }
    /* One note per suppression line, located at that line, for viewers that show a run's
     * notifications: what it removed, or that it matched nothing. */
    for (size_t i = 0; meta && i < meta->nsuppressions && rc == 0; i++) {
        const struct fs_report_suppression *s = &meta->suppressions[i];
        char *t = s->matched ? fs_xasprintf("suppression %s:%s removed %u finding%s", s->hazard,
                                            s->pattern, s->matched, s->matched == 1 ? "" : "s")
                             : fs_xasprintf("suppression %s:%s matched no finding", s->hazard,
                                            s->pattern);
        rc |= notify(notes, "note", t);
        free(t);
        struct fs_frame at = {.file = (char *)s->file, .line = (int)s->line};
        json_t *locs = json_array();
        rc |= append(locs, frame_location(&at));
        rc |= set(json_array_get(notes, json_array_size(notes) - 1), "locations", locs);
    }
    if (json_array_size(notes))
        rc |= set(inv, "toolExecutionNotifications", notes);
    else
        json_decref(notes);
    rc |= append(list, inv);
    if (rc) {
        json_decref(list);
        return NULL;
    }
    return list;
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
    char *info = fs_xasprintf("%.*s/README.md", (int)(strlen(help_uri_base()) - strlen("/hazards.md")),
                              help_uri_base());
    rc |= set(driver, "informationUri", jstr(info));
    free(info);
    if (meta && meta->version)
        rc |= set(driver, "version", jstr(meta->version));
    rc |= set(driver, "rules", rules);
    rc |= set(tool, "driver", driver);
    rc |= set(run, "tool", tool);
    rc |= set(run, "results", results);
    rc |= set(run, "invocations", invocations(meta));
    if (source_root) {
        json_t *bases = json_object();
        json_t *root_loc = json_object();
        char *uri = file_uri(source_root);
        char *dir = fs_xasprintf("%s%s", uri, uri[strlen(uri) - 1] == '/' ? "" : "/");
        rc |= set(root_loc, "uri", jstr(dir));
        rc |= set(bases, SRCROOT, root_loc);
        rc |= set(run, "originalUriBaseIds", bases);
        free(uri);
        free(dir);
    }
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
    source_root = meta ? meta->source_root : NULL;
    command_path = meta ? meta->command : NULL;
    return write_document(out, sarif_report(f, meta));
}
