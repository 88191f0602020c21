/* Builds the analyzer's model of a run (model.h) from trace files: one fs_image per file, then
 * processes grouped by pid and linked into a tree, plus the `<pid>.hang` files forksan wrote for
 * processes still alive at the time limit.  This is the only place that knows trace records;
 * damage is reported here once, so the rules can trust what they are given. */
#include "trace_read.h"
#include "trace_format.h"
#include "model.h"
#include "diag.h"
#include "finding.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads the fields of one record; a field that is present but does not parse, or a required one
 * that is missing, marks the whole record bad (it is then skipped and counted like a bad line). */
struct reader {
    const struct fs_record *rec;
    bool bad;
};

static int64_t get_dec(struct reader *r, const char *key, bool required, int64_t dflt)
{
    int64_t v;
    if (!fs_rec_str(r->rec, key)) {
        r->bad |= required;
        return dflt;
    }
    if (fs_rec_dec(r->rec, key, &v) < 0) {
        r->bad = true;
        return dflt;
    }
    return v;
}

static int get_int(struct reader *r, const char *key, bool required, int dflt)
{
    int64_t v = get_dec(r, key, required, dflt);
    if (v < INT_MIN || v > INT_MAX) {
        r->bad = true;
        return dflt;
    }
    return (int)v;
}

static uint64_t get_hex(struct reader *r, const char *key, bool required)
{
    uint64_t v = 0;
    if (!fs_rec_str(r->rec, key)) {
        r->bad |= required;
        return 0;
    }
    if (fs_rec_hex(r->rec, key, &v) < 0) {
        r->bad = true;
        return 0;
    }
    return v;
}

static void get_addrs(struct reader *r, const char *key, struct fs_addrs *out)
{
    out->pc = NULL;
    out->n = 0;
    if (!fs_rec_str(r->rec, key))
        return;
    uint64_t *pcs = NULL;
    long n = fs_rec_hexlist(r->rec, key, &pcs);
    if (n < 0) {
        r->bad = true;
        return;
    }
    out->pc = pcs;
    out->n = (size_t)n;
}

/* NULL when missing: callers decide whether that matters. */
static const char *get_str(struct reader *r, const char *key, bool required)
{
    const char *s = fs_rec_str(r->rec, key);
    if (!s)
        r->bad |= required;
    return s;
}

static void snapshot_free(struct fs_fork_snapshot *s)
{
    if (!s)
        return;
    free(s->frames.pc);
    for (size_t i = 0; i < s->nthreads; i++) {
        free(s->threads[i].name);
        free(s->threads[i].py_site.file);
        free(s->threads[i].py_site.func);
    }
    free(s->threads);
    free(s->by_tid);
    for (size_t i = 0; i < s->nheld; i++)
        free(s->held[i].site.pc);
    free(s->held);
    fs_py_info_free(s->py);
    free(s);
}

static void modmap_release(struct fs_modmap *mods)
{
    for (size_t i = 0; i < mods->n; i++) {
        free(mods->mods[i].buildid);
        free(mods->mods[i].path);
    }
    free(mods->mods);
    free(mods->slots);
    free(mods->by_start);
    memset(mods, 0, sizeof *mods);
}

/* Indexes 0..n-1 of an array, ordered by a key of each element (ties in index order): the
 * bisection tables of modules by start and of a snapshot's threads by tid. */
struct key_of {
    uint64_t (*key)(const void *obj, size_t i);
    const void *obj;
};

static int cmp_by_key(const void *a, const void *b, void *arg)
{
    const struct key_of *k = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint64_t kx = k->key(k->obj, x), ky = k->key(k->obj, y);
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x < y ? -1 : x > y;
}

static size_t *index_by_key(size_t n, uint64_t (*key)(const void *obj, size_t i), const void *obj)
{
    size_t *idx = fs_xcalloc(n, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    struct key_of k = {key, obj};
    qsort_r(idx, n, sizeof *idx, cmp_by_key, &k);
    return idx;
}

static uint64_t mod_start(const void *obj, size_t i)
{
    return ((const struct fs_modmap *)obj)->mods[i].start;
}

/* The hash of starts is needed only while `mod` records are read; the symbolizer then finds an
 * address's module by bisection over the starts (a trace may name thousands of modules). */
static void modmap_done(struct fs_modmap *mods)
{
    free(mods->slots);
    mods->slots = NULL;
    mods->nslots = 0;
    free(mods->by_start);
    mods->by_start = NULL;
    if (!mods->n)
        return;
    mods->by_start = index_by_key(mods->n, mod_start, mods);
}

static size_t *mod_slot(const struct fs_modmap *mods, uint64_t start)
{
    size_t mask = mods->nslots - 1;
    for (size_t i = (size_t)((start >> 12) * 0x9e3779b97f4a7c15ULL) & mask;; i = (i + 1) & mask)
        if (!mods->slots[i] || mods->mods[mods->slots[i] - 1].start == start)
            return &mods->slots[i];
}

static void mod_index_grow(struct fs_modmap *mods)
{
    if (2 * (mods->n + 1) <= mods->nslots)
        return;
    free(mods->slots);
    mods->nslots = mods->nslots ? 2 * mods->nslots : 32;
    mods->slots = fs_xcalloc(mods->nslots, sizeof *mods->slots);
    for (size_t i = 0; i < mods->n; i++)
        *mod_slot(mods, mods->mods[i].start) = i + 1;
}

static void image_release(struct fs_image *img)
{
    free(img->file);
    free(img->exe);
    free(img->comm);
    free(img->cmdline);
    modmap_release(&img->mods);
    snapshot_free(img->snapshot);
    for (size_t i = 0; i < img->nforks; i++) {
        free(img->forks[i].spawn_path);
        free(img->forks[i].placed);
        free(img->forks[i].frames.pc);
    }
    free(img->forks);
    free(img->exec_path);
    free(img->exec_placed);
    free(img->exec_next);
    for (size_t i = 0; i < img->nuntraced; i++) {
        free(img->untraced[i].why);
        free(img->untraced[i].program);
    }
    free(img->untraced);
    for (size_t i = 0; i < img->nlost; i++)
        free(img->lost[i].what);
    free(img->lost);
    for (size_t i = 0; i < img->ndeadlocks; i++) {
        free(img->deadlocks[i].call);
        free(img->deadlocks[i].policy);
        free(img->deadlocks[i].frames.pc);
        fs_py_info_free(img->deadlocks[i].py);
    }
    free(img->deadlocks);
    for (size_t i = 0; i < img->nreinits; i++) {
        free(img->reinits[i].call);
        free(img->reinits[i].frames.pc);
    }
    free(img->reinits);
    for (size_t i = 0; i < img->nraces; i++) {
        free(img->races[i].call);
        free(img->races[i].frames.pc);
        fs_py_info_free(img->races[i].py);
    }
    free(img->races);
    fs_model_rng_release(img);
    fs_model_copied_release(img);
    memset(img, 0, sizeof *img);
}

/* Parses "<pid>.<n>.trace" (the last path component); -1 when the name has another shape. */
static int parse_name(const char *path, int *pid, int *n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *end;
    errno = 0;
    if (*base < '0' || *base > '9')
        return -1;
    long p = strtol(base, &end, 10);
    if (errno || *end != '.' || p <= 0 || p > INT_MAX)
        return -1;
    const char *second = end + 1;
    if (*second < '0' || *second > '9')
        return -1;
    long i = strtol(second, &end, 10);
    if (errno || i < 0 || i > INT_MAX || strcmp(end, FS_TRACE_SUFFIX) != 0)
        return -1;
    *pid = (int)p;
    *n = (int)i;
    return 0;
}

static int rec_proc(struct fs_image *img, struct reader *r)
{
    int pid = get_int(r, "pid", true, 0);
    int ppid = get_int(r, "ppid", false, 0);
    const char *origin = get_str(r, "origin", false);
    int index = get_int(r, "image", false, -1);
    int64_t time = get_dec(r, "time", false, 0);
    if (r->bad || pid <= 0)
        return -1;
    img->pid = pid;
    img->ppid = ppid;
    if (origin && strcmp(origin, "fork") == 0)
        img->forked = true;
    if (index >= 0 && img->index < 0)
        img->index = index;
    img->time = time;
    const char *exe = get_str(r, "exe", false), *comm = get_str(r, "comm", false),
               *cmd = get_str(r, "cmdline", false);
    free(img->exe);
    free(img->comm);
    free(img->cmdline);
    img->exe = fs_xstrdup(exe);
    img->comm = fs_xstrdup(comm);
    img->cmdline = fs_xstrdup(cmd);
    return 0;
}

/* Trace images and hang files share the `mod` record. */
static int rec_mod(struct fs_modmap *mods, struct reader *r)
{
    struct fs_module m = {
        .start = get_hex(r, "start", true),
        .end = get_hex(r, "end", true),
        .bias = get_hex(r, "bias", true),
    };
    if (r->bad)
        return -1;
    m.buildid = fs_xstrdup(get_str(r, "buildid", false));
    m.path = fs_xstrdup(get_str(r, "path", false));
    /* The spec lets a later record for the same start replace the earlier one (dlclose and a
     * new dlopen at the same address).  Found through a hash of the starts: a trace may hold
     * any number of `mod` records. */
    mod_index_grow(mods);
    size_t *slot = mod_slot(mods, m.start);
    if (*slot) {
        struct fs_module *old = &mods->mods[*slot - 1];
        free(old->buildid);
        free(old->path);
        *old = m;
        return 0;
    }
    mods->mods = fs_xrealloc(mods->mods, mods->n + 1, sizeof *mods->mods);
    mods->mods[mods->n++] = m;
    *slot = mods->n;
    return 0;
}

static uint64_t thread_tid(const void *obj, size_t i)
{
    /* The sign bit flipped keeps the order of signed tids (a damaged trace may hold any). */
    int64_t tid = ((const struct fs_fork_snapshot *)obj)->threads[i].tid;
    return (uint64_t)tid ^ (UINT64_C(1) << 63);
}

/* Rules look up a held lock's thread by tid: with thousands of threads and held locks in one
 * snapshot, a scan per lock would be quadratic. */
static void index_threads(struct fs_fork_snapshot *s)
{
    free(s->by_tid);
    s->by_tid = NULL;
    if (!s->nthreads)
        return;
    s->by_tid = index_by_key(s->nthreads, thread_tid, s);
}

static int rec_child(struct fs_image *img, struct reader *r)
{
    struct fs_fork_snapshot *s = fs_xcalloc(1, sizeof *s);
    s->seq = get_int(r, "seq", true, 0);
    s->parent_pid = get_int(r, "parent", true, 0);
    s->forker_tid = get_int(r, "forker", true, 0);
    const char *via = get_str(r, "via", false);
    s->via = via ? fs_fork_via_from_name(via) : 0;
    s->time = get_dec(r, "time", false, 0);
    s->pykey = get_hex(r, "pykey", false);
    s->pydepth = get_int(r, "pydepth", false, 0);
    get_addrs(r, "frames", &s->frames);
    if (r->bad) {
        snapshot_free(s);
        return -1;
    }
    /* Only one fork made this image; should a second child record appear, the latest wins, as
     * the thread and held records that follow belong to it. */
    snapshot_free(img->snapshot);
    img->snapshot = s;
    img->forked = true;
    return 0;
}

static int rec_thread(struct fs_image *img, struct reader *r)
{
    struct fs_thread_rec t = {
        .tid = get_int(r, "tid", true, 0),
        .forker = get_int(r, "forker", false, 0) != 0,
        .known = get_int(r, "known", false, 1) != 0,
        .start_routine = get_hex(r, "start", false),
        .start_arg0 = get_hex(r, "arg0", false),
        .creator = get_int(r, "creator", false, 0),
        .create_site = get_hex(r, "site", false),
    };
    const char *name = get_str(r, "name", false);
    const char *pyfile = get_str(r, "pyfile", false), *pyfunc = get_str(r, "pyfunc", false);
    t.py_site.line = get_int(r, "pyline", false, 0);
    if (r->bad)
        return -1;
    /* Without its child record, a thread record says nothing about any fork: drop it. */
    if (!img->snapshot)
        return 0;
    struct fs_fork_snapshot *s = img->snapshot;
    t.name = fs_xstrdup(name);
    t.py_site.file = fs_xstrdup(pyfile ? pyfile : "");
    t.py_site.func = fs_xstrdup(pyfunc ? pyfunc : "");
    s->threads = fs_xrealloc(s->threads, s->nthreads + 1, sizeof *s->threads);
    s->threads[s->nthreads++] = t;
    return 0;
}

static int rec_held(struct fs_image *img, struct reader *r)
{
    struct fs_held_rec h = {
        .tid = get_int(r, "tid", true, 0),
        .lock = get_hex(r, "lock", true),
        .count = get_int(r, "count", false, 1),
        .mtype = get_int(r, "type", false, -1),
        .shared = get_int(r, "shared", false, 0) != 0,
    };
    const char *kind = get_str(r, "kind", true);
    const char *mode = get_str(r, "mode", false);
    if (r->bad || h.count < 1) /* a lock held zero or fewer times is not a held record */
        return -1;
    /* Unknown kind or mode words come from a later shim: keep the lock, name it generically. */
    h.kind = fs_lock_kind_from_name(kind);
    h.mode = mode ? fs_lock_mode_from_name(mode) : FS_MODE_EXCL;
    get_addrs(r, "frames", &h.site);
    if (r->bad)
        return -1;
    if (!img->snapshot) {
        free(h.site.pc);
        return 0;
    }
    struct fs_fork_snapshot *s = img->snapshot;
    s->held = fs_xrealloc(s->held, s->nheld + 1, sizeof *s->held);
    s->held[s->nheld++] = h;
    return 0;
}

/* A failed fork: the `fork` record made before it gets the error. */
static int rec_forkfail(struct fs_image *img, struct reader *r)
{
    int seq = get_int(r, "seq", true, 0);
    int err = get_int(r, "errno", false, 0);
    if (r->bad)
        return -1;
    for (size_t i = img->nforks; i-- > 0;)
        if (!img->forks[i].spawn && img->forks[i].seq == seq) {
            img->forks[i].child_pid = -1;
            img->forks[i].err = err;
            break;
        }
    return 0;
}

static int rec_fork(struct fs_image *img, struct reader *r, bool spawn)
{
    struct fs_fork_event e = {
        .seq = spawn ? -1 : get_int(r, "seq", true, 0),
        /* The shim writes a fork record before the fork, so only spawns know the child. */
        .child_pid = get_int(r, "child", spawn, 0),
        .err = get_int(r, "errno", false, 0),
        .tid = get_int(r, "tid", false, 0),
        .spawn = spawn,
        .time = get_dec(r, "time", false, 0),
    };
    const char *via = get_str(r, "via", false);
    e.via = via ? fs_fork_via_from_name(via) : 0;
    e.pykey = get_hex(r, "pykey", false);
    e.pydepth = get_int(r, "pydepth", false, 0);
    const char *path = spawn ? get_str(r, "path", false) : NULL;
    const char *placed = spawn ? get_str(r, "placed", false) : NULL;
    get_addrs(r, "frames", &e.frames);
    if (r->bad) {
        free(e.frames.pc);
        return -1;
    }
    if (spawn) {
        e.spawn_path = fs_xstrdup(path);
        e.placed = fs_xstrdup(placed ? placed : "");
    }
    img->forks = fs_xrealloc(img->forks, img->nforks + 1, sizeof *img->forks);
    img->forks[img->nforks++] = e;
    return 0;
}

static int rec_exec(struct fs_image *img, struct reader *r)
{
    const char *path = get_str(r, "path", false);
    const char *placed = get_str(r, "placed", false);
    const char *next = get_str(r, "next", false), *kept = get_str(r, "kept", false);
    (void)get_dec(r, "time", false, 0);
    if (r->bad)
        return -1;
    free(img->exec_path);
    free(img->exec_next);
    img->exec_path = fs_xstrdup(path);
    free(img->exec_placed);
    img->exec_placed = fs_xstrdup(placed ? placed : "");
    /* `next`: the program's file forbids the shim; `kept`: this process had lost the way to its
     * trace directory (privileges, chroot), which its next image must open by path. */
    img->exec_next = next ? fs_xstrdup(next) : kept ? fs_xasprintf("after %s", kept) : NULL;
    img->execed = true;
    return 0;
}

static int rec_untraced(struct fs_image *img, struct reader *r)
{
    struct fs_untraced_rec u = {
        .pid = get_int(r, "pid", true, 0),
        .seq = get_int(r, "seq", false, 0),
    };
    const char *why = get_str(r, "why", false), *program = get_str(r, "program", false);
    if (r->bad || u.pid <= 0)
        return -1;
    u.why = fs_xstrdup(why);
    u.program = fs_xstrdup(program);
    img->untraced = fs_xrealloc(img->untraced, img->nuntraced + 1, sizeof *img->untraced);
    img->untraced[img->nuntraced++] = u;
    return 0;
}

static int rec_execfail(struct fs_image *img, struct reader *r)
{
    (void)get_int(r, "errno", false, 0);
    if (r->bad)
        return -1;
    /* The exec returned: this image lives on. */
    free(img->exec_path);
    img->exec_path = NULL;
    free(img->exec_next);
    img->exec_next = NULL;
    img->execed = false;
    return 0;
}

static int rec_lost(struct fs_image *img, struct reader *r)
{
    const char *what = get_str(r, "what", true);
    int64_t count = get_dec(r, "count", true, 0);
    if (r->bad || count < 0 || count > LONG_MAX)
        return -1;
    for (size_t i = 0; i < img->nlost; i++) {
        if (strcmp(img->lost[i].what, what) == 0) {
            img->lost[i].count = fs_count_add(img->lost[i].count, (long)count);
            return 0;
        }
    }
    /* The shim has a handful of kinds (docs/trace-format.md): thousands of different words are
     * not a trace, and would make every later record a long scan. */
    if (img->nlost >= FS_MODEL_MAX_LOST_KINDS)
        return -1;
    img->lost = fs_xrealloc(img->lost, img->nlost + 1, sizeof *img->lost);
    img->lost[img->nlost].what = fs_xstrdup(what);
    img->lost[img->nlost].count = (long)count;
    img->nlost++;
    return 0;
}

/* Kept whether or not the image has its child record: the acquisition itself is the evidence,
 * and the rule names what it can without the snapshot. */
static int rec_deadlock(struct fs_image *img, struct reader *r)
{
    struct fs_deadlock_rec d = {
        .lock = get_hex(r, "lock", true),
        .holder = get_int(r, "holder", true, 0),
        .trylock = get_int(r, "try", false, 0) != 0,
        .time = get_dec(r, "time", false, 0),
    };
    const char *kind = get_str(r, "kind", true), *mode = get_str(r, "mode", false),
               *call = get_str(r, "call", true), *policy = get_str(r, "policy", false);
    if (r->bad)
        return -1;
    d.kind = fs_lock_kind_from_name(kind);
    d.mode = mode ? fs_lock_mode_from_name(mode) : FS_MODE_EXCL;
    get_addrs(r, "frames", &d.frames);
    if (r->bad)
        return -1;
    d.call = fs_xstrdup(call);
    d.policy = fs_xstrdup(policy); /* "" when the shim did not say */
    img->deadlocks = fs_xrealloc(img->deadlocks, img->ndeadlocks + 1, sizeof *img->deadlocks);
    img->deadlocks[img->ndeadlocks++] = d;
    return 0;
}

static int rec_reinit(struct fs_image *img, struct reader *r)
{
    struct fs_reinit_rec d = {
        .lock = get_hex(r, "lock", true),
        .holder = get_int(r, "holder", false, 0),
        .used = get_int(r, "used", false, 0) != 0,
        .time = get_dec(r, "time", false, 0),
    };
    const char *kind = get_str(r, "kind", false), *call = get_str(r, "call", true);
    if (r->bad)
        return -1;
    d.kind = kind ? fs_lock_kind_from_name(kind) : 0;
    get_addrs(r, "frames", &d.frames);
    if (r->bad)
        return -1;
    d.call = fs_xstrdup(call);
    img->reinits = fs_xrealloc(img->reinits, img->nreinits + 1, sizeof *img->reinits);
    img->reinits[img->nreinits++] = d;
    return 0;
}

static int rec_race(struct fs_image *img, struct reader *r)
{
    struct fs_race_rec d = {
        .lock = get_hex(r, "lock", true),
        .tid = get_int(r, "tid", true, 0),
        .site = get_hex(r, "site", false),
        .others = get_int(r, "others", false, 0),
        .trylock = get_int(r, "try", false, 0) != 0,
        .time = get_dec(r, "time", false, 0),
    };
    const char *kind = get_str(r, "kind", true), *mode = get_str(r, "mode", false),
               *other = get_str(r, "othermode", false), *state = get_str(r, "state", false),
               *call = get_str(r, "call", true);
    if (r->bad)
        return -1;
    d.kind = fs_lock_kind_from_name(kind);
    d.mode = mode ? fs_lock_mode_from_name(mode) : FS_MODE_EXCL;
    d.other_mode = other ? fs_lock_mode_from_name(other) : FS_MODE_EXCL;
    d.state = state && state[0] && !state[1] && state[0] >= 'A' && state[0] <= 'Z' ? state[0] : '?';
    get_addrs(r, "frames", &d.frames);
    if (r->bad)
        return -1;
    d.call = fs_xstrdup(call);
    img->races = fs_xrealloc(img->races, img->nraces + 1, sizeof *img->races);
    img->races[img->nraces++] = d;
    return 0;
}

/* Dispatches one record; -1 when a known record had fields that did not parse. */
static int add_record(struct fs_image *img, const struct fs_record *rec)
{
    struct reader r = {.rec = rec};
    const char *tag = rec->tag;
    int rng = fs_model_rng_record(img, rec);
    if (rng)
        return rng > 0 ? 0 : -1;
    int copied = fs_model_copied_record(img, rec);
    if (copied)
        return copied > 0 ? 0 : -1;
    int py = fs_model_py_record(img, rec);
    if (py)
        return py > 0 ? 0 : -1;
    if (strcmp(tag, FS_REC_PROC) == 0)
        return rec_proc(img, &r);
    if (strcmp(tag, FS_REC_MOD) == 0)
        return rec_mod(&img->mods, &r);
    if (strcmp(tag, FS_REC_CHILD) == 0)
        return rec_child(img, &r);
    if (strcmp(tag, FS_REC_THREAD) == 0)
        return rec_thread(img, &r);
    if (strcmp(tag, FS_REC_HELD) == 0)
        return rec_held(img, &r);
    if (strcmp(tag, FS_REC_FORK) == 0)
        return rec_fork(img, &r, false);
    if (strcmp(tag, FS_REC_SPAWN) == 0)
        return rec_fork(img, &r, true);
    if (strcmp(tag, FS_REC_EXEC) == 0)
        return rec_exec(img, &r);
    if (strcmp(tag, "forkfail") == 0)
        return rec_forkfail(img, &r);
    if (strcmp(tag, "execfail") == 0)
        return rec_execfail(img, &r);
    if (strcmp(tag, FS_REC_LOST) == 0)
        return rec_lost(img, &r);
    if (strcmp(tag, FS_REC_DEADLOCK) == 0)
        return rec_deadlock(img, &r);
    if (strcmp(tag, FS_REC_REINIT) == 0)
        return rec_reinit(img, &r);
    if (strcmp(tag, FS_REC_RACE) == 0)
        return rec_race(img, &r);
    if (strcmp(tag, FS_REC_UNTRACED) == 0)
        return rec_untraced(img, &r);
    return 0; /* unknown tags are for later versions */
}

static void report_damage(const char *name, bool truncated, unsigned bad, unsigned first_bad)
{
    if (truncated)
        fs_warn_damage("%s is truncated: its last record was lost", name);
    if (bad)
        fs_warn_damage("%s: %u line%s could not be read, first at line %u; the rest was used", name,
                       bad, bad == 1 ? "" : "s", first_bad);
}

int fs_model_add_trace(struct fs_model *model, const struct fs_trace_file *file)
{
    const char *name = file->path ? file->path : "";
    struct fs_image img = {.index = -1};
    int name_pid = 0, name_index = -1;
    if (parse_name(name, &name_pid, &name_index) == 0)
        img.index = name_index; /* the file name orders a pid's images (spec) */

    unsigned bad = file->bad_lines, first_bad = file->first_bad_line;
    for (size_t i = 0; i < file->nrecs; i++) {
        if (add_record(&img, &file->recs[i]) == 0)
            continue;
        if (!bad++ || file->recs[i].line < first_bad)
            first_bad = file->recs[i].line;
    }
    modmap_done(&img.mods);
    if (img.snapshot)
        index_threads(img.snapshot);
    if (img.pid <= 0)
        img.pid = name_pid;
    if (img.index < 0)
        img.index = 0;
    if (img.pid <= 0) {
        fs_warn_damage("%s: no usable 'proc' record and no pid in the file name; file skipped",
                       name);
        image_release(&img);
        model->unreadable++;
        return -1;
    }
    report_damage(name, file->truncated, bad, first_bad);
    img.damaged = file->truncated || bad;
    img.unfinished = file->ends_expected && !file->ended && !file->truncated;
    img.file = fs_xstrdup(name);
    if (!img.exe)
        img.exe = fs_xstrdup("");
    if (!img.comm)
        img.comm = fs_xstrdup("");
    if (!img.cmdline)
        img.cmdline = fs_xstrdup("");

    model->images = fs_xrealloc(model->images, model->nimages + 1, sizeof *model->images);
    model->images[model->nimages++] = img;
    return 0;
}

/* Hang files: what forksan saw from outside of each process still alive at the time limit. */

static void hang_release(struct fs_hang *h)
{
    free(h->file);
    free(h->comm);
    free(h->exe);
    free(h->error);
    free(h->ended);
    modmap_release(&h->mods);
    for (size_t i = 0; i < h->nthreads; i++) {
        free(h->threads[i].name);
        free(h->threads[i].wchan);
        free(h->threads[i].frames.pc);
    }
    free(h->threads);
    fs_py_info_free(h->py);
    memset(h, 0, sizeof *h);
}

/* Parses "<pid>.hang" (the last path component); -1 when the name has another shape. */
static int parse_hang_name(const char *path, int *pid)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *end;
    errno = 0;
    if (*base < '0' || *base > '9')
        return -1;
    long p = strtol(base, &end, 10);
    if (errno || p <= 0 || p > INT_MAX || strcmp(end, ".hang") != 0)
        return -1;
    *pid = (int)p;
    return 0;
}

/* `after` is seconds written as a decimal number, possibly with a fraction. */
static double get_seconds(struct reader *r, const char *key)
{
    const char *s = fs_rec_str(r->rec, key);
    if (!s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0) {
        r->bad = true;
        return 0;
    }
    return v;
}

/* attached: -1 until the hang record says. */
static int rec_hang(struct fs_hang *h, int *attached, struct reader *r)
{
    int pid = get_int(r, "pid", true, 0);
    int ppid = get_int(r, "ppid", false, 0);
    double after = get_seconds(r, "after");
    int att = get_int(r, "attached", false, -1);
    if (r->bad || pid <= 0)
        return -1;
    h->pid = pid;
    h->ppid = ppid;
    h->after = after;
    *attached = att;
    free(h->comm);
    free(h->exe);
    free(h->error);
    h->comm = fs_xstrdup(get_str(r, "comm", false));
    h->exe = fs_xstrdup(get_str(r, "exe", false));
    h->error = fs_xstrdup(get_str(r, "error", false));
    free(h->ended);
    h->ended = fs_xstrdup(get_str(r, "ended", false));
    return 0;
}

static int rec_hangthread(struct fs_hang *h, struct reader *r)
{
    struct fs_hang_thread t = {.tid = get_int(r, "tid", true, 0), .state = '?'};
    const char *name = get_str(r, "name", false), *state = get_str(r, "state", false),
               *wchan = get_str(r, "wchan", false);
    if (state && strlen(state) > 1)
        r->bad = true; /* the spec says one letter: anything longer is not that field */
    else if (state && *state)
        t.state = *state;
    if (r->bad || t.tid <= 0)
        return -1;
    get_addrs(r, "frames", &t.frames);
    if (r->bad)
        return -1;
    t.name = fs_xstrdup(name);
    t.wchan = fs_xstrdup(wchan);
    h->threads = fs_xrealloc(h->threads, h->nthreads + 1, sizeof *h->threads);
    h->threads[h->nthreads++] = t;
    return 0;
}

int fs_model_add_hang(struct fs_model *model, const struct fs_trace_file *file)
{
    const char *name = file->path ? file->path : "";
    struct fs_hang h = {0};
    int name_pid = 0, attached = -1;
    (void)parse_hang_name(name, &name_pid);

    unsigned bad = file->bad_lines, first_bad = file->first_bad_line;
    for (size_t i = 0; i < file->nrecs; i++) {
        const struct fs_record *rec = &file->recs[i];
        struct reader r = {.rec = rec};
        int rc = 0;
        if (strcmp(rec->tag, FS_REC_HANG) == 0)
            rc = rec_hang(&h, &attached, &r);
        else if (strcmp(rec->tag, FS_REC_MOD) == 0)
            rc = rec_mod(&h.mods, &r);
        else if (strcmp(rec->tag, FS_REC_HANGTHREAD) == 0)
            rc = rec_hangthread(&h, &r);
        else
            rc = fs_model_py_slot_record(&h.py, rec) < 0 ? -1 : 0;
        if (rc == 0)
            continue;
        if (!bad++ || rec->line < first_bad)
            first_bad = rec->line;
    }
    modmap_done(&h.mods);
    if (h.pid <= 0)
        h.pid = name_pid;
    if (h.pid <= 0) {
        fs_warn_damage("%s: no usable 'hang' record and no pid in the file name; file skipped",
                       name);
        hang_release(&h);
        model->unreadable++;
        return -1;
    }
    report_damage(name, file->truncated, bad, first_bad);
    /* Without its hang record, the threads read are the only word on whether stacks came. */
    h.attached = attached < 0 ? h.nthreads > 0 : attached != 0;
    h.file = fs_xstrdup(name);
    if (!h.comm)
        h.comm = fs_xstrdup("");
    if (!h.exe)
        h.exe = fs_xstrdup("");
    if (!h.error)
        h.error = fs_xstrdup("");
    if (!h.ended)
        h.ended = fs_xstrdup("");

    model->hangs = fs_xrealloc(model->hangs, model->nhangs + 1, sizeof *model->hangs);
    model->hangs[model->nhangs++] = h;
    return 0;
}

const struct fs_hang *fs_model_hang_of(const struct fs_model *model, int pid)
{
    /* A pid has one hang file; should a test add two, the latest counts.  fs_model_link sorted
     * them by pid: bisect to the last one of that pid. */
    size_t lo = 0, hi = model->nhangs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (model->hangs[mid].pid <= pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && model->hangs[lo - 1].pid == pid ? &model->hangs[lo - 1] : NULL;
}

static const int *known_ends;
static size_t nknown_ends;

void fs_model_set_known_ends(const int *pids, size_t n)
{
    known_ends = pids;
    nknown_ends = n;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Why a trace without an `end` record needs no word: its process blocked for good in a call the
 * child-deadlock finding shows (policy wait: it can only have been killed; abort: the shim ended
 * it), or it was reaped killed by a signal (by its traced parent, a `killed` record in killed,
 * sorted; or by forksan run). */
static bool end_explained(const struct fs_image *img, const int *killed, size_t nkilled)
{
    if (nkilled && bsearch(&img->pid, killed, nkilled, sizeof *killed, cmp_int))
        return true;
    if (img->ndeadlocks) {
        const struct fs_deadlock_rec *d = &img->deadlocks[img->ndeadlocks - 1];
        if (!d->trylock && d->policy &&
            (strcmp(d->policy, "wait") == 0 || strcmp(d->policy, "abort") == 0))
            return true;
    }
    for (size_t k = 0; k < nknown_ends; k++)
        if (known_ends[k] == img->pid)
            return true;
    return false;
}

/* A trace that stops before its `end` record: the process was killed (a signal, or forksan's own
 * time limit: then its hang file says so and nothing more is needed), or the file was cut at a
 * record boundary, which nothing else could show.  Not damage: a killed process's trace is
 * exactly what it recorded.  Only the cases nothing else in the run explains are warned about. */
static void warn_unfinished(const struct fs_model *model)
{
    size_t nkilled = 0, at = 0;
    for (size_t i = 0; i < model->nimages; i++)
        nkilled += model->images[i].nkilled;
    int *killed = nkilled ? fs_xcalloc(nkilled, sizeof *killed) : NULL;
    for (size_t i = 0; i < model->nimages; i++)
        for (size_t k = 0; k < model->images[i].nkilled; k++)
            killed[at++] = model->images[i].killed[k];
    if (nkilled)
        qsort(killed, nkilled, sizeof *killed, cmp_int);
    for (size_t i = 0; i < model->nimages; i++) {
        const struct fs_image *img = &model->images[i];
        if (img->unfinished && !fs_model_hang_of(model, img->pid) &&
            !end_explained(img, killed, nkilled))
            fs_warn("%s: no end record: process %d did not end through exit, _exit or exec "
                    "(killed by a signal, or ended inside libc, as daemon() does), or its trace "
                    "was cut; what it recorded last may be missing",
                    img->file, img->pid);
    }
    free(killed);
}

struct dir_entry {
    bool hang; /* <pid>.hang rather than <pid>.<n>.trace */
    int pid, n;
    const char *not_regular; /* what it is instead of a regular file, or NULL */
    char *name;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct dir_entry *x = a, *y = b;
    if (x->hang != y->hang)
        return x->hang ? 1 : -1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* "<pid>.d": the directory a process made for its descendants before it dropped its privileges
 * (docs/trace-format.md).  Only its traces are read, one level down. */
static bool is_subdir_name(const char *name)
{
    const char *p = name;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > name && strcmp(p, ".d") == 0;
}

static int scan_dir(const char *dir, int depth, struct dir_entry **entsp, size_t *np)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dir_entry *ents = *entsp;
    size_t n = *np;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        struct dir_entry e = {.n = 0};
        struct stat st;
        if (depth == 0 && is_subdir_name(de->d_name)) {
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode)) {
                char *sub = fs_xasprintf("%s/%s", dir, de->d_name);
                *entsp = ents;
                *np = n;
                if (scan_dir(sub, depth + 1, entsp, np) < 0)
                    fs_warn("%s: cannot read: %s", sub, strerror(errno));
                ents = *entsp;
                n = *np;
                free(sub);
            }
            errno = 0;
            continue;
        }
        if (parse_name(de->d_name, &e.pid, &e.n) == 0)
            e.hang = false;
        else if (depth == 0 && parse_hang_name(de->d_name, &e.pid) == 0)
            e.hang = true;
        else
            continue;
        /* Only regular files: a planted symlink or fifo must not be followed or block us.  A
         * name that looks like a trace but is something else is damage to the directory. */
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone since readdir */
        if (!S_ISREG(st.st_mode)) {
            e.not_regular = S_ISLNK(st.st_mode)    ? "a symbolic link"
                            : S_ISFIFO(st.st_mode) ? "a FIFO"
                            : S_ISDIR(st.st_mode)  ? "a directory"
                                                   : "not a regular file";
        } else if (st.st_size == 0 && !e.hang) {
            /* The shim creates a file, then writes its first batch: a process killed in between
             * leaves it empty.  Nothing was recorded, nothing is damaged. */
            fs_warn("%s/%s: empty trace: process %d was killed before it wrote anything", dir,
                    de->d_name, e.pid);
            continue;
        }
        e.name = fs_xasprintf("%s/%s", dir, de->d_name);
        ents = fs_xrealloc(ents, n + 1, sizeof *ents);
        ents[n++] = e;
        errno = 0;
    }
    int saved = errno;
    closedir(d);
    *entsp = ents;
    *np = n;
    errno = saved;
    return saved ? -1 : 0;
}

int fs_model_load_dir(const char *dir, struct fs_model *model)
{
    struct dir_entry *ents = NULL;
    size_t n = 0;
    if (scan_dir(dir, 0, &ents, &n) < 0) {
        int saved = errno;
        for (size_t i = 0; i < n; i++)
            free(ents[i].name);
        free(ents);
        errno = saved;
        return -1;
    }
    if (n)
        qsort(ents, n, sizeof *ents, cmp_entry);
    for (size_t i = 0; i < n; i++) {
        struct fs_trace_file tf;
        if (ents[i].not_regular) {
            fs_warn_damage("%s: %s, not a trace file; skipped", ents[i].name, ents[i].not_regular);
            model->unreadable++;
            free(ents[i].name);
            continue;
        }
        if (fs_trace_read(ents[i].name, &tf) < 0) {
            fs_warn_damage("%s: %s", ents[i].name, tf.error);
            model->unreadable++;
        } else if (ents[i].hang) {
            (void)fs_model_add_hang(model, &tf); /* reports its own failure */
        } else {
            (void)fs_model_add_trace(model, &tf);
        }
        fs_trace_release(&tf);
        free(ents[i].name);
    }
    free(ents);
    warn_unfinished(model);
    fs_model_link(model);
    return 0;
}

static void procs_release(struct fs_model *m)
{
    for (size_t i = 0; i < m->nprocs; i++) {
        free(m->procs[i].images);
        free(m->procs[i].children);
    }
    free(m->procs);
    free(m->by_pid);
    free(m->forks_by_child);
    m->procs = NULL;
    m->by_pid = NULL;
    m->forks_by_child = NULL;
    m->nforks = 0;
    m->nprocs = 0;
}

/* The by_pid position of the first process with this pid (nprocs when none). */
static size_t by_pid_first(const struct fs_model *m, int pid)
{
    size_t lo = 0, hi = m->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->procs[m->by_pid[mid]].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nprocs && m->procs[m->by_pid[lo]].pid == pid ? lo : m->nprocs;
}

static const struct fs_model *sort_model; /* qsort has no context argument */

static int cmp_by_pid(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int px = sort_model->procs[x].pid, py = sort_model->procs[y].pid;
    if (px != py)
        return px < py ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int cmp_fork_ref(const void *a, const void *b)
{
    const struct fs_fork_ref *x = a, *y = b;
    if (x->child_pid != y->child_pid)
        return x->child_pid < y->child_pid ? -1 : 1;
    if (x->proc != y->proc)
        return x->proc < y->proc ? -1 : 1;
    if (x->image != y->image)
        return x->image < y->image ? -1 : 1;
    return x->fork < y->fork ? -1 : x->fork > y->fork;
}

/* A prefork parent has one fork record per child: looking each child's up by scanning them
 * would be quadratic. */
static void index_forks(struct fs_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nprocs; i++)
        for (size_t j = 0; j < m->procs[i].nimages; j++)
            n += m->procs[i].images[j]->nforks;
    m->forks_by_child = fs_xcalloc(n ? n : 1, sizeof *m->forks_by_child);
    for (size_t i = 0; i < m->nprocs; i++)
        for (size_t j = 0; j < m->procs[i].nimages; j++)
            for (size_t k = 0; k < m->procs[i].images[j]->nforks; k++)
                m->forks_by_child[m->nforks++] = (struct fs_fork_ref){
                    m->procs[i].images[j]->forks[k].child_pid, i, j, k};
    if (m->nforks)
        qsort(m->forks_by_child, m->nforks, sizeof *m->forks_by_child, cmp_fork_ref);
}

static void index_by_pid(struct fs_model *m)
{
    m->by_pid = fs_xcalloc(m->nprocs ? m->nprocs : 1, sizeof *m->by_pid);
    for (size_t i = 0; i < m->nprocs; i++)
        m->by_pid[i] = i;
    sort_model = m;
    if (m->nprocs)
        qsort(m->by_pid, m->nprocs, sizeof *m->by_pid, cmp_by_pid);
    sort_model = NULL;
}

static int cmp_image(const void *a, const void *b)
{
    const struct fs_image *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return strcmp(x->file, y->file);
}

/* A forked child's `child` record names the process that forked it; its `proc` ppid is read
 * when the child writes its file, by which time the parent may have ended and the child been
 * re-parented (to forksan, the subreaper). */
static int parent_pid_of(const struct fs_process *p)
{
    const struct fs_image *img = p->images[0];
    if (img->snapshot && img->snapshot->parent_pid > 0)
        return img->snapshot->parent_pid;
    return img->ppid > 0 ? img->ppid : 0;
}

/* With pid reuse several processes share the parent's pid: take the latest one that already
 * existed when the child started, else the first. */
static struct fs_process *find_parent(struct fs_model *m, const struct fs_process *c)
{
    int ppid = parent_pid_of(c);
    int64_t t = c->images[0]->time;
    struct fs_process *best = NULL, *first = NULL;
    if (ppid <= 0)
        return NULL;
    /* by_pid keeps the processes of one pid in their order in procs. */
    for (size_t k = by_pid_first(m, ppid); k < m->nprocs && m->procs[m->by_pid[k]].pid == ppid;
         k++) {
        struct fs_process *p = &m->procs[m->by_pid[k]];
        if (p == c)
            continue;
        if (!first)
            first = p;
        if (p->images[0]->time <= t)
            best = p;
    }
    return best ? best : first;
}

static int cmp_hang(const void *a, const void *b)
{
    const struct fs_hang *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return strcmp(x->file, y->file);
}

/* A process the shim never saw (a static binary, a cleared LD_PRELOAD) is known only from its
 * hang file.  It still gets a process, with one stand-in image made from the hang, so that it
 * has a parent, children, a name and a path like any other, and rules written for traced
 * processes need no special case.  The stand-in is told apart by index -1 and file "<pid>.hang";
 * it has no snapshot, forks or records, and borrows the hang's strings and modules.  It is
 * allocated in one block with the process's image array, so freeing the array frees it. */
struct hang_only {
    struct fs_image *images[1]; /* first: the block's address is the array's */
    struct fs_image img;
};

static void add_hang_only(struct fs_process *p, const struct fs_hang *h)
{
    static char empty[1];
    struct hang_only *b = fs_xcalloc(1, sizeof *b);
    b->img = (struct fs_image){
        .file = h->file,
        .index = -1,
        .pid = h->pid,
        .ppid = h->ppid,
        /* Alive when the run ended: with a reused parent pid, the latest process is its own. */
        .time = INT64_MAX,
        .exe = h->exe,
        .comm = h->comm,
        .cmdline = empty,
        .mods = h->mods,
    };
    b->images[0] = &b->img;
    p->pid = h->pid;
    p->images = b->images;
    p->nimages = 1;
}

/* Real traces give a tree, but a damaged or hostile directory can make two processes each
 * other's parent (pids, times and `child parent=` are the traces' word): every walk up or down
 * the tree would then never end.  One pass, linear: walk up from each process, stamping the way
 * with where the walk began; meeting our own stamp is a cycle, cut at the link that closes it. */
static void break_parent_cycles(struct fs_model *m)
{
    size_t *mark = fs_xcalloc(m->nprocs, sizeof *mark); /* 0 new, i+1 on walk i, SIZE_MAX done */
    for (size_t i = 0; i < m->nprocs; i++) {
        struct fs_process *q = &m->procs[i];
        while (q && mark[q - m->procs] == 0) {
            mark[q - m->procs] = i + 1;
            if (q->parent && mark[q->parent - m->procs] == i + 1) {
                fs_warn("process %d: its traces make it its own ancestor; the link to %d is "
                        "dropped",
                        q->pid, q->parent->pid);
                if (q->nimages)
                    q->images[0]->damaged = true; /* counted with the damaged traces */
                q->parent = NULL;
            }
            q = q->parent;
        }
        for (q = &m->procs[i]; q && mark[q - m->procs] == i + 1; q = q->parent)
            mark[q - m->procs] = SIZE_MAX;
    }
    free(mark);
}

void fs_model_link(struct fs_model *m)
{
    procs_release(m);
    if (!m->nimages && !m->nhangs)
        return;
    /* Rules and reports must not depend on the order files were added in. */
    if (m->nimages)
        qsort(m->images, m->nimages, sizeof *m->images, cmp_image);
    if (m->nhangs)
        qsort(m->hangs, m->nhangs, sizeof *m->hangs, cmp_hang);

    m->procs = fs_xcalloc(m->nimages + m->nhangs, sizeof *m->procs);
    for (size_t i = 0; i < m->nimages; i++) {
        struct fs_image *img = &m->images[i];
        struct fs_process *cur = m->nprocs ? &m->procs[m->nprocs - 1] : NULL;
        /* A forked image is always the first of its process: after the first, it is the same
         * pid reused by a new process. */
        if (!cur || cur->pid != img->pid || (img->forked && cur->nimages)) {
            cur = &m->procs[m->nprocs++];
            cur->pid = img->pid;
        }
        cur->images = fs_xrealloc(cur->images, cur->nimages + 1, sizeof *cur->images);
        cur->images[cur->nimages++] = img;
    }
    /* The traced processes are in pid order (images are sorted), so a hang's pid is looked up
     * by bisection; hang-only processes come after them. */
    size_t ntraced = m->nprocs;
    for (size_t i = 0; i < m->nhangs; i++) {
        size_t lo = 0, hi = ntraced;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (m->procs[mid].pid < m->hangs[i].pid)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == ntraced || m->procs[lo].pid != m->hangs[i].pid)
            add_hang_only(&m->procs[m->nprocs++], &m->hangs[i]);
    }
    index_by_pid(m);
    index_forks(m);
    for (size_t i = 0; i < m->nprocs; i++)
        m->procs[i].parent = find_parent(m, &m->procs[i]);
    break_parent_cycles(m);
    for (size_t i = 0; i < m->nprocs; i++) {
        struct fs_process *c = &m->procs[i], *p = c->parent;
        if (p)
            p->nchildren++;
    }
    for (size_t i = 0; i < m->nprocs; i++) {
        m->procs[i].children =
            m->procs[i].nchildren ? fs_xcalloc(m->procs[i].nchildren, sizeof(void *)) : NULL;
        m->procs[i].nchildren = 0;
    }
    for (size_t i = 0; i < m->nprocs; i++) {
        struct fs_process *c = &m->procs[i], *p = c->parent;
        if (p)
            p->children[p->nchildren++] = c;
    }
}

void fs_model_release(struct fs_model *m)
{
    procs_release(m); /* first: hang-only processes borrow from the hangs */
    for (size_t i = 0; i < m->nimages; i++)
        image_release(&m->images[i]);
    free(m->images);
    for (size_t i = 0; i < m->nhangs; i++)
        hang_release(&m->hangs[i]);
    free(m->hangs);
    memset(m, 0, sizeof *m);
}

struct fs_process *fs_model_find(const struct fs_model *model, int pid)
{
    if (!model->by_pid)
        return NULL;
    size_t k = by_pid_first(model, pid);
    return k < model->nprocs ? &model->procs[model->by_pid[k]] : NULL;
}

const struct fs_fork_event *fs_model_fork_of(const struct fs_model *model,
                                             const struct fs_process *child)
{
    const struct fs_image *ci = fs_process_first_image(child);
    const struct fs_process *p = child ? child->parent : NULL;
    if (!ci || !p || !model->forks_by_child)
        return NULL;
    size_t pidx = (size_t)(p - model->procs);
    const struct fs_fork_snapshot *s = ci->snapshot;
    const struct fs_fork_event *fallback = NULL;
    size_t lo = 0, hi = model->nforks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (model->forks_by_child[mid].child_pid < child->pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* In the parent's image order, then record order, as the records were written. */
    for (size_t k = lo; k < model->nforks && model->forks_by_child[k].child_pid == child->pid;
         k++) {
        const struct fs_fork_ref *ref = &model->forks_by_child[k];
        if (ref->proc != pidx)
            continue;
        const struct fs_fork_event *e = &p->images[ref->image]->forks[ref->fork];
        if (e->spawn != !ci->forked)
            continue;
        if (!s || e->spawn || e->seq == s->seq)
            return e;
        /* The fork counter may restart in a new image of the parent; a matching pid is
         * still better than nothing. */
        if (!fallback)
            fallback = e;
    }
    return fallback;
}

const struct fs_image *fs_process_first_image(const struct fs_process *p)
{
    return p && p->nimages ? p->images[0] : NULL;
}

bool fs_process_execed(const struct fs_process *p)
{
    const struct fs_image *img = fs_process_first_image(p);
    /* A second image proves the exec even when a truncated trace lost the exec record. */
    return img && img->forked && (img->execed || p->nimages > 1);
}

const char *fs_process_name(const struct fs_process *p)
{
    const struct fs_image *img = fs_process_first_image(p);
    return img && img->comm && *img->comm ? img->comm : "?";
}
