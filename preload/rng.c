/* Randomness: the lineage and position of every pseudo-random generator instance, and the first
 * values of each run (segment) of draws, for the duplicated-randomness family.
 *
 * State is static memory, like the registry, so that a forked child starts from an exact copy
 * of its parent's: the same lineage at the same position, which is precisely what the analyzer
 * must see to find two processes drawing the same values.  A segment starts at a lineage's first
 * draw, after a reseed and after every fork (in parent and child alike); it keeps its first 4
 * values in memory and becomes one `draw` record (docs/trace-format.md) when it has them, or
 * earlier at fork, exec and exit.  The draw path does no syscall, no lock and no malloc: one
 * increment of the position and, for the first 4 values of a segment, a store.  Records are
 * written from stack buffers (fs_trace_begin_local), never the shared writer, so a signal handler
 * interrupting a draw cannot meet a held writer lock of ours.  Concurrent draws from one state
 * by several threads are counted atomically; which value lands at which position may then be
 * off by a few (the real call's own lock orders them, not ours), which the analyzer tolerates
 * because it compares the recorded values before it reports anything. */
#include "shim.h"
#include "linebuf.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

#define SEG_VALUES      4
#define SEED_RECORDS    16   /* `seed` records per process */
#define RANDOM_BUFS     16   /* random()'s state buffers (initstate/setstate) */
#define STATE_SLOTS     64   /* caller-held states, open addressing */
#define UNFORCED_MAX    1024 /* draw records per process outside fork, exec and exit */
#define DRAW_RECORD     512  /* stack buffer for one record */
#define RANDOM_DEFAULT  1    /* glibc seeds random()'s built-in table with 1 */
#define DRAND48_DEFAULT 0x1234ABCD330Eull

static const char *const gen_names[FS_RNG_GEN_MAX] = {
    [FS_RNG_RANDOM] = "random",       [FS_RNG_DRAND48] = "drand48", [FS_RNG_RANDOM_R] = "random_r",
    [FS_RNG_DRAND48_R] = "drand48_r", [FS_RNG_ERAND48] = "erand48", [FS_RNG_RAND_R] = "rand_r",
};
static const char *const src_names[FS_RNG_SRC_MAX] = {
    [FS_RNG_SRC_GETRANDOM] = "getrandom",
    [FS_RNG_SRC_GETENTROPY] = "getentropy",
    [FS_RNG_SRC_ARC4RANDOM] = "arc4random",
};

struct rng_seg {
    int64_t start; /* lineage position of the segment's first value */
    uint64_t vals[SEG_VALUES];
    unsigned n; /* values stored */
    uint8_t vtype, written, inherited;
    uint8_t forced; /* started at a fork: written whatever the budget */
    const char *call;
    uintptr_t site;
};

struct rng_inst {
    struct fs_rng_hot h; /* the fast-path verdict, id, gen, pos, expect (shim.h); first */
    uint8_t used;        /* drawn from or seeded in this process tree */
    uint8_t seeded;      /* lineage comes from a seeding call */
    uint8_t inherited;   /* this process did not seed (or write) the lineage */
    uint8_t fresh;       /* content families: the next draw starts a segment from the contents */
    int seedpid;
    uintptr_t seedsite;
    uint64_t lineage;
    uint64_t base; /* global families: the family's draw total when h.pos was last set */
    struct rng_seg seg;
};

struct random_buf {
    uintptr_t addr; /* the buffer's address; for [0], glibc's table once setstate revealed it */
    struct rng_inst in;
};

struct state_slot {
    uintptr_t key;
    int ready; /* the instance is initialized (release/acquire with its claim) */
    struct rng_inst in;
};

static struct random_buf random_bufs[RANDOM_BUFS] = {
    [0] = {.in = {.h.gen = FS_RNG_RANDOM, .lineage = RANDOM_DEFAULT}},
};
static unsigned random_nbufs = 1;
/* Draws go to this instance; `random_none` (never used) when the buffer table was full. */
static struct rng_inst random_none = {.h.gen = FS_RNG_RANDOM, .seg = {.start = INT64_MIN}};
static struct rng_inst *random_cur = &random_bufs[0].in;
static struct rng_inst drand48_inst = {.h.gen = FS_RNG_DRAND48, .lineage = DRAND48_DEFAULT};

static struct state_slot state_tab[STATE_SLOTS];
static unsigned state_used; /* slots claimed: 0 means the table needs no scan */

/* Any generator seeded or drawn from: when 0, fork, exec and exit have nothing to do here. */
static int rng_used FS_HOT;
static unsigned long safe_count[FS_RNG_SRC_MAX];
static int safe_any FS_HOT;
static long rng_lost FS_HOT;
static int seeds_written FS_HOT;
static int unforced_written FS_HOT;

/* ---- writing ----------------------------------------------------------------------------- */

/* A batch of records from one stack buffer, opened only when there is something to write. */
struct batch {
    struct fs_linebuf lb;
    int open, failed;
    char *buf;
    size_t cap;
};

static struct fs_linebuf *batch_lb(struct batch *b)
{
    if (!b->open && !b->failed) {
        if (fs_trace_begin_local(&b->lb, b->buf, b->cap) < 0)
            b->failed = 1;
        else
            b->open = 1;
    }
    return b->open ? &b->lb : NULL;
}

static void batch_end(struct batch *b)
{
    if (b->open)
        fs_trace_end_local(&b->lb);
    b->open = 0;
}

static void put_draw(struct fs_linebuf *lb, const struct rng_inst *in)
{
    const struct rng_seg *s = &in->seg;
    unsigned n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    if (n > SEG_VALUES)
        n = SEG_VALUES;
    uintptr_t vals[SEG_VALUES]; /* 64-bit targets: uintptr_t holds the values whole */
    for (unsigned i = 0; i < n; i++)
        vals[i] = (uintptr_t)s->vals[i];
    fs_lb_begin(lb, "draw");
    fs_lb_str(lb, "gen", gen_names[in->h.gen]);
    fs_lb_hex(lb, "id", in->h.id);
    fs_lb_hex(lb, "lineage", in->lineage);
    fs_lb_dec(lb, "seeded", in->seeded);
    fs_lb_dec(lb, "seedpid", in->seeded ? in->seedpid : 0);
    fs_lb_hex(lb, "seedsite", in->seeded ? in->seedsite : 0);
    fs_lb_dec(lb, "inherited", s->inherited);
    fs_lb_dec(lb, "pos", s->start);
    fs_lb_dec(lb, "n", n);
    fs_lb_hexlist(lb, "values", vals, n);
    fs_lb_str(lb, "vtype", s->vtype == FS_RNG_DOUBLE ? "double" : "int");
    fs_lb_str(lb, "call", s->call ? s->call : "");
    fs_lb_hex(lb, "site", s->site);
    fs_lb_end(lb);
}

/* One segment as one record, outside fork and exit: bounded per process, so that a program
 * reseeding before every draw cannot make each draw a syscall for ever. */
static void write_segment(struct rng_inst *in)
{
    struct rng_seg *s = &in->seg;
    s->written = 1;
    if (!s->forced && unforced_written >= UNFORCED_MAX) {
        rng_lost++;
        return;
    }
    if (!s->forced)
        unforced_written++;
    int saved = errno;
    char buf[DRAW_RECORD];
    struct batch b = {.buf = buf, .cap = sizeof buf};
    struct fs_linebuf *lb = batch_lb(&b);
    if (lb)
        put_draw(lb, in);
    batch_end(&b);
    errno = saved;
}

static int seg_pending(const struct rng_inst *in)
{
    return __atomic_load_n(&in->seg.n, __ATOMIC_ACQUIRE) > 0 && !in->seg.written;
}

/* ---- positions ---------------------------------------------------------------------------
 * The global generators (random()'s current state, drand48's) are drawn from by every thread;
 * counting each draw in one shared word costs a `lock xadd` per draw.  Instead each thread counts
 * its own draws in its registry slot (plain increments, in the hooks) and the position of the
 * family's current instance is derived when needed: pos + (family total now - base).  Only the
 * slow paths need it (the first values of a segment, fork, reseed, exit), and they may scan the
 * slots. */

static int family_of(const struct rng_inst *in)
{
    return in->h.gen == FS_RNG_RANDOM    ? FS_RNG_FAM_RANDOM
           : in->h.gen == FS_RNG_DRAND48 ? FS_RNG_FAM_DRAND48
                                         : -1;
}

static int is_current(const struct rng_inst *in, int family)
{
    return family == FS_RNG_FAM_RANDOM ? in == random_cur : in == &drand48_inst;
}

static int64_t pos_of(const struct rng_inst *in)
{
    int f = family_of(in);
    int64_t pos = __atomic_load_n(&in->h.pos, __ATOMIC_RELAXED);
    if (f < 0 || !is_current(in, f))
        return pos;
    return pos + (int64_t)(fs_rng_draws_total(f) - in->base);
}

static void pos_set(struct rng_inst *in, int64_t pos)
{
    int f = family_of(in);
    if (f >= 0)
        in->base = fs_rng_draws_total(f);
    __atomic_store_n(&in->h.pos, pos, __ATOMIC_RELAXED);
}

/* The segment of a family's current instance wants values again: its draws take the slow path
 * until they are stored (drew_global clears it). */
static void want_values(const struct rng_inst *in)
{
    int f = family_of(in);
    if (f >= 0 && is_current(in, f) && !fs_rng_want[f])
        __atomic_store_n(&fs_rng_want[f], 1, __ATOMIC_RELEASE);
}

_Static_assert(FS_RNG_FAST_IX(FS_RNG_GEN_MAX) == FS_RNG_FAST_WAYS,
               "one fast word per caller-state family");
_Static_assert(offsetof(struct rng_inst, h) == 0 && offsetof(struct fs_rng_hot, fast) == 0,
               "inst_init clears the fast words apart, first");

/* The instance's draws take the slow path again (caller-state families; the global ones never
 * set a fast word). */
static void unfast(struct rng_inst *in)
{
    if (in->h.gen < FS_RNG_RANDOM_R)
        return;
    uintptr_t *w = &in->h.fast[FS_RNG_FAST_IX(in->h.gen)];
    if (*w != FS_RNG_NO_ID)
        __atomic_store_n(w, FS_RNG_NO_ID, __ATOMIC_RELEASE);
}

/* A new segment at the instance's current position. */
static void seg_restart(struct rng_inst *in, int forced)
{
    struct rng_seg *s = &in->seg;
    unfast(in); /* before anything else changes */
    s->start = pos_of(in);
    want_values(in);
    s->written = 0;
    s->inherited = in->inherited;
    s->forced = (uint8_t)forced;
    __atomic_store_n(&s->n, 0, __ATOMIC_RELEASE);
}

/* ---- the draw path ----------------------------------------------------------------------- */

/* The caller-held states: drand48_r's, erand48's and rand_r's race in the program already when
 * several threads share one, and random_r's is the caller's to lock; a plain increment keeps the
 * draw path as cheap as the generator.  A miscount only shifts positions: the analyzer compares
 * the recorded values before it reports anything. */
static inline int64_t next_pos(struct rng_inst *in)
{
    return in->h.pos++;
}

static __attribute__((noinline)) void store_value(struct rng_inst *in, uint64_t i, uint64_t v,
                                                  int vtype, const char *call, uintptr_t site)
{
    struct rng_seg *s = &in->seg;
    if (FS_UNLIKELY(!in->used))
        in->used = 1;
    if (FS_UNLIKELY(!rng_used))
        rng_used = 1;
    s->vals[i] = v;
    if (i == 0) {
        s->vtype = (uint8_t)vtype;
        s->call = call;
        s->site = site;
    }
    unsigned n = __libc_single_threaded ? ++s->n : __atomic_add_fetch(&s->n, 1, __ATOMIC_ACQ_REL);
    if (n == SEG_VALUES && !s->written)
        write_segment(in);
}

static inline void drew(struct rng_inst *in, uint64_t v, int vtype, const char *call,
                        uintptr_t site)
{
    uint64_t i = (uint64_t)next_pos(in) - (uint64_t)in->seg.start;
    if (FS_UNLIKELY(i < SEG_VALUES))
        store_value(in, i, v, vtype, call, site);
}

/* Read by every global draw, written only when a segment restarts or fills: a line of its own,
 * away from the caller-state caches that their draws write. */
FS_HIDDEN int fs_rng_want[FS_RNG_FAMILIES] __attribute__((aligned(64))) = {1, 1};

/* A draw of a global family that came the slow way (a value wanted, or no slot to count in):
 * its position, the count, and the value if the segment wants it. */
static void drew_global(struct rng_inst *in, int f, uint64_t v, int vtype, const char *call,
                        uintptr_t site)
{
    uint64_t i = (uint64_t)pos_of(in) - (uint64_t)in->seg.start;
    struct fs_thread *t = fs_self();
    if (t)
        __atomic_store_n(&t->rng_draws[f], t->rng_draws[f] + 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&fs_rng_draws_gone[f], 1, __ATOMIC_RELAXED);
    if (i < SEG_VALUES)
        store_value(in, i, v, vtype, call, site);
    if (i + 1 >= SEG_VALUES && fs_rng_want[f])
        __atomic_store_n(&fs_rng_want[f], 0, __ATOMIC_RELEASE);
}

void fs_rng_draw_random(uint64_t value, const char *call, uintptr_t site)
{
    drew_global(random_cur, FS_RNG_FAM_RANDOM, value, FS_RNG_INT, call, site);
}

void fs_rng_draw_drand48(uint64_t value, int vtype, const char *call, uintptr_t site)
{
    drew_global(&drand48_inst, FS_RNG_FAM_DRAND48, value, vtype, call, site);
}

/* ---- caller-held states ------------------------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

#define FNV_BASIS 0xcbf29ce484222325ull

/* What determines a random_r state's sequence: its table and where its pointers are. */
static uint64_t random_data_digest(const struct random_data *rd)
{
    if (!rd->state)
        return 0;
    int deg = rd->rand_deg > 0 && rd->rand_deg <= 63 ? rd->rand_deg : 1;
    uint64_t h = fnv1a(FNV_BASIS, rd->state, (size_t)deg * sizeof(int32_t));
    long where[2] = {rd->fptr ? (long)(rd->fptr - rd->state) : 0,
                     rd->rptr ? (long)(rd->rptr - rd->state) : 0};
    return fnv1a(h, where, sizeof where);
}

/* The contents that identify a content-keyed state (erand48, rand_r) after a draw. */
static uint64_t contents_of(int gen, const void *state)
{
    if (gen == FS_RNG_ERAND48)
        return fs_x48(state);
    if (gen == FS_RNG_RAND_R)
        return *(const unsigned *)state;
    return 0;
}

static int content_keyed(int gen)
{
    return gen == FS_RNG_ERAND48 || gen == FS_RNG_RAND_R;
}

static void inst_init(struct rng_inst *in, int gen, uintptr_t id, uint64_t lineage)
{
    /* Every family's fast word first, one store each, never through 0 (a NULL state would
     * match): a thread whose cache names this instance for the family it had takes the slow
     * path from now on. */
    for (int i = 0; i < FS_RNG_FAST_WAYS; i++)
        __atomic_store_n(&in->h.fast[i], FS_RNG_NO_ID, __ATOMIC_RELEASE);
    memset((char *)in + sizeof in->h.fast, 0, sizeof *in - sizeof in->h.fast);
    in->h.gen = (uint8_t)gen;
    in->h.id = id;
    in->lineage = lineage;
    in->used = 1;
    in->fresh = (uint8_t)content_keyed(gen);
}

/* The instance for a caller's state; NULL when the table is full (counted) or another thread is
 * just setting the slot up.  *created tells that the slot is new (or reused for another kind of
 * state at the same address: stack memory). */
static struct rng_inst *state_find(int gen, const void *state, int *created)
{
    uintptr_t key = (uintptr_t)state;
    *created = 0;
    if (!key)
        return NULL;
    unsigned h = (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 58) % STATE_SLOTS;
    for (unsigned k = 0; k < STATE_SLOTS; k++) {
        struct state_slot *sl = &state_tab[(h + k) % STATE_SLOTS];
        uintptr_t cur = __atomic_load_n(&sl->key, __ATOMIC_ACQUIRE);
        if (cur == key) {
            if (!__atomic_load_n(&sl->ready, __ATOMIC_ACQUIRE))
                return NULL;
            if (sl->in.h.gen != gen) {
                inst_init(&sl->in, gen, key, 0);
                *created = 1;
            }
            return &sl->in;
        }
        if (cur)
            continue;
        uintptr_t expect = 0;
        if (!__atomic_compare_exchange_n(&sl->key, &expect, key, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            if (expect == key)
                return NULL; /* another thread claimed it for this state just now */
            continue;
        }
        inst_init(&sl->in, gen, key, 0);
        __atomic_store_n(&sl->ready, 1, __ATOMIC_RELEASE);
        __atomic_fetch_add(&state_used, 1, __ATOMIC_RELAXED);
        if (!rng_used)
            rng_used = 1;
        *created = 1;
        return &sl->in;
    }
    return NULL;
}

static void lost_one(void)
{
    __atomic_fetch_add(&rng_lost, 1, __ATOMIC_RELAXED);
}

/* A caller's state the table could not hold (or not yet): its draws go unrecorded.  Counted once
 * per thread and state, not per draw: an untracked state costs its records (one per segment),
 * and a thread drawing millions of values from one would otherwise report millions lost. */
static __thread uintptr_t tls_lost_state __attribute__((tls_model("initial-exec")));

static void lost_state(const void *state)
{
    if (tls_lost_state == (uintptr_t)state)
        return;
    tls_lost_state = (uintptr_t)state;
    lost_one();
}

/* ---- the caller-held states' fast path ---------------------------------------------------
 * A state whose current segment has its values (and, content-keyed, is not to be re-read) needs
 * nothing per draw but a count.  Each thread keeps, per family, a pointer to the instance it
 * last drew from the slow way (fs_rng_tls); the hooks count a draw in that instance (h.pos++,
 * and for erand48's and rand_r's the contents left in h.expect) while the instance's fast word
 * of that family holds the state passed (one compare).  The count goes into the instance itself,
 * so nothing needs folding back at fork, exit or a seed, and whatever reads the instance sees it
 * exact (up to the plain increments of threads sharing one state, next_pos).  Every point that
 * makes a count-only draw wrong (a segment restart: seed, reset, fork on either side, flush, a
 * rewritten state; an instance reused for another family) clears the word, which every thread's
 * cache sees at its next draw: this is the epoch, per instance.  A thread's cache entry is one
 * pointer, written by the slow path with one store: a signal handler drawing on the same thread
 * replaces it whole or not at all, and the interrupted hook keeps the instance it loaded. */
/* Never fast: saves a NULL test. */
static struct fs_rng_hot no_hot = {
    .fast = {[0 ... FS_RNG_FAST_WAYS - 1] = FS_RNG_NO_ID},
    .id = FS_RNG_NO_ID,
};
__thread struct fs_rng_hot *fs_rng_tls[FS_RNG_GEN_MAX]
    __attribute__((tls_model("initial-exec"))) = {[0 ... FS_RNG_GEN_MAX - 1] = &no_hot};

/* After a slow draw: the state's draws are count-only once its segment is full, and this thread
 * finds its instance without the table from now on. */
static void fast_offer(int gen, struct rng_inst *in)
{
    fs_rng_tls[gen] = &in->h;
    if (in->fresh || (uint64_t)(in->h.pos - in->seg.start) < SEG_VALUES)
        return;
    __atomic_store_n(&in->h.fast[FS_RNG_FAST_IX(gen)], in->h.id, __ATOMIC_RELEASE);
}

void fs_rng_draw_state(int gen, const void *state, uint64_t before, uint64_t value, int vtype,
                       const char *call, uintptr_t site)
{
    int created;
    struct rng_inst *in = state_find(gen, state, &created);
    if (FS_UNLIKELY(!in)) {
        lost_state(state);
        return;
    }
    if (content_keyed(gen)) {
        /* The lineage is the contents where the segment starts; when they are not what our last
         * draw left there, the caller wrote the state itself (this process made that lineage). */
        if (in->fresh || before != in->h.expect) {
            if (seg_pending(in))
                write_segment(in);
            if (!in->fresh)
                in->inherited = 0;
            in->fresh = 0;
            in->lineage = before;
            in->h.pos = 0;
            seg_restart(in, in->seg.forced && !in->seg.n);
        }
        drew(in, value, vtype, call, site);
        in->h.expect = contents_of(gen, state);
        fast_offer(gen, in);
        return;
    }
    if (created) {
        /* Never seeded in this process tree: the lineage is the state itself (for random_r, a
         * digest of it just after this first draw, which is as good an identity). */
        in->lineage = gen == FS_RNG_RANDOM_R ? random_data_digest(state) : before;
        seg_restart(in, 0);
    }
    drew(in, value, vtype, call, site);
    fast_offer(gen, in);
}

/* ---- seeding ----------------------------------------------------------------------------- */

static void write_seed(const struct rng_inst *in, uint64_t value, const char *call, uintptr_t site)
{
    if (seeds_written >= SEED_RECORDS)
        return;
    seeds_written++;
    int saved = errno;
    char buf[DRAW_RECORD];
    struct batch b = {.buf = buf, .cap = sizeof buf};
    struct fs_linebuf *lb = batch_lb(&b);
    if (lb) {
        fs_lb_begin(lb, "seed");
        fs_lb_str(lb, "gen", gen_names[in->h.gen]);
        fs_lb_hex(lb, "id", in->h.id);
        fs_lb_hex(lb, "value", value);
        fs_lb_str(lb, "call", call);
        fs_lb_hex(lb, "site", site);
        fs_lb_dec(lb, "time", fs_now_ns());
        fs_lb_end(lb);
    }
    batch_end(&b);
    errno = saved;
}

static void reseed(struct rng_inst *in, uint64_t value, uint64_t lineage, const char *call,
                   uintptr_t site)
{
    if (seg_pending(in))
        write_segment(in);
    in->used = 1;
    if (!rng_used)
        rng_used = 1;
    in->lineage = lineage;
    in->seeded = 1;
    in->seedpid = fs_pid;
    in->seedsite = site;
    in->inherited = 0;
    in->fresh = 0;
    pos_set(in, 0);
    seg_restart(in, 0);
    write_seed(in, value, call, site);
}

/* glibc's __srandom_r replaces seed 0 by 1: both give one sequence, hence one lineage. */
static uint64_t random_lineage(uint64_t seed)
{
    return (uint32_t)seed ? (uint32_t)seed : 1;
}

void fs_rng_seed_random(uint64_t value, const char *call, uintptr_t site)
{
    struct rng_inst *in = random_cur;
    if (in == &random_none) {
        lost_one();
        return;
    }
    reseed(in, value, random_lineage(value), call, site);
}

void fs_rng_seed_drand48(uint64_t value, const char *call, uintptr_t site)
{
    reseed(&drand48_inst, value, value, call, site);
}

void fs_rng_seed_state(int gen, const void *state, uint64_t value, const char *call, uintptr_t site)
{
    int created;
    struct rng_inst *in = state_find(gen, state, &created);
    if (!in) {
        lost_state(state);
        return;
    }
    reseed(in, value, gen == FS_RNG_RANDOM_R ? random_lineage(value) : value, call, site);
}

void fs_rng_reset_state(int gen, const void *state)
{
    int created;
    struct rng_inst *in = state_find(gen, state, &created);
    if (!in) {
        lost_state(state);
        return;
    }
    if (seg_pending(in))
        write_segment(in);
    in->lineage = gen == FS_RNG_RANDOM_R ? random_data_digest(state) : 0;
    in->seeded = 0;
    in->seedpid = 0;
    in->seedsite = 0;
    in->inherited = 0;
    pos_set(in, 0);
    seg_restart(in, 0);
}

/* A buffer handed to setstate/initstate: glibc keeps its type and rear index in the first word
 * and the table after it (degree by type: 0, 7, 15, 31, 63 words). */
static uint64_t random_buf_digest(const void *buf)
{
    static const int degrees[5] = {0, 7, 15, 31, 63};
    int32_t head;
    memcpy(&head, buf, sizeof head);
    int type = (int)((uint32_t)head % 5);
    int words = 1 + (degrees[type] ? degrees[type] : 1);
    return fnv1a(FNV_BASIS, buf, (size_t)words * sizeof(int32_t));
}

/* random() draws from `in` from now on: the old instance keeps the position it reached. */
static void make_current(struct rng_inst *in)
{
    struct rng_inst *prev = random_cur;
    if (prev == in)
        return;
    int64_t reached = pos_of(prev);
    __atomic_store_n(&prev->h.pos, reached, __ATOMIC_RELAXED);
    in->base = fs_rng_draws_total(FS_RNG_FAM_RANDOM);
    random_cur = in;
    want_values(in);
}

void fs_rng_switch_random(const void *buf, const void *old)
{
    /* The built-in table is id 0; setstate/initstate's return value reveals its address. */
    if (random_cur == &random_bufs[0].in && !random_bufs[0].addr)
        random_bufs[0].addr = (uintptr_t)old;
    uintptr_t addr = (uintptr_t)buf;
    unsigned nbufs = __atomic_load_n(&random_nbufs, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < nbufs; i++) {
        if (random_bufs[i].addr == addr) {
            make_current(&random_bufs[i].in);
            return;
        }
    }
    if (nbufs >= RANDOM_BUFS) {
        lost_one();
        make_current(&random_none);
        return;
    }
    struct random_buf *rb = &random_bufs[nbufs];
    rb->addr = addr;
    /* Unless initstate seeds it next, a buffer we never saw is a lineage of its own contents. */
    inst_init(&rb->in, FS_RNG_RANDOM, addr, random_buf_digest(buf));
    seg_restart(&rb->in, 0);
    if (!rng_used)
        rng_used = 1;
    __atomic_store_n(&random_nbufs, nbufs + 1, __ATOMIC_RELEASE);
    make_current(&rb->in);
}

/* ---- safe sources ------------------------------------------------------------------------ */

void fs_rng_safe(int src)
{
    if (src < 0 || src >= FS_RNG_SRC_MAX)
        return;
    if (__libc_single_threaded)
        safe_count[src]++;
    else
        __atomic_fetch_add(&safe_count[src], 1, __ATOMIC_RELAXED);
    if (!safe_any)
        safe_any = 1;
}

/* ---- fork, exec, exit -------------------------------------------------------------------- */

/* Calls fn on every instance this process tree ever used. */
static void each_instance(void (*fn)(struct rng_inst *, void *), void *arg)
{
    unsigned nbufs = __atomic_load_n(&random_nbufs, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < nbufs && i < RANDOM_BUFS; i++)
        if (random_bufs[i].in.used)
            fn(&random_bufs[i].in, arg);
    if (drand48_inst.used)
        fn(&drand48_inst, arg);
    if (!__atomic_load_n(&state_used, __ATOMIC_RELAXED))
        return;
    for (unsigned i = 0; i < STATE_SLOTS; i++) {
        struct state_slot *sl = &state_tab[i];
        if (__atomic_load_n(&sl->ready, __ATOMIC_ACQUIRE) && sl->in.used)
            fn(&sl->in, arg);
    }
}

static void write_pending_one(struct rng_inst *in, void *arg)
{
    if (!seg_pending(in))
        return;
    struct fs_linebuf *lb = batch_lb(arg);
    if (lb)
        put_draw(lb, in);
    in->seg.written = 1;
}

/* Partial segments, safe counts (what was used since the last `safe` record) and losses. */
static void write_pending(void)
{
    int saved = errno;
    char buf[FS_LOCAL_RECORD_MAX];
    struct batch b = {.buf = buf, .cap = sizeof buf};
    if (rng_used)
        each_instance(write_pending_one, &b);
    if (safe_any) {
        for (int i = 0; i < FS_RNG_SRC_MAX; i++) {
            unsigned long n = __atomic_exchange_n(&safe_count[i], 0, __ATOMIC_RELAXED);
            struct fs_linebuf *lb = n ? batch_lb(&b) : NULL;
            if (!lb)
                continue;
            fs_lb_begin(lb, "safe");
            fs_lb_str(lb, "src", src_names[i]);
            fs_lb_dec(lb, "count", (int64_t)n);
            fs_lb_end(lb);
        }
        safe_any = 0;
    }
    long lost = __atomic_exchange_n(&rng_lost, 0, __ATOMIC_RELAXED);
    if (lost) {
        struct fs_linebuf *lb = batch_lb(&b);
        if (lb)
            fs_trace_lost(lb, "rng", lost);
    }
    batch_end(&b);
    errno = saved;
}

FS_FORK_PATH void fs_rng_before_fork(void)
{
    if (!rng_used && !safe_any && !rng_lost)
        return;
    write_pending();
}

static void restart_parent(struct rng_inst *in, void *arg)
{
    (void)arg;
    if (in->seg.n || in->seg.written) {
        if (content_keyed(in->h.gen))
            in->fresh = 1;
        seg_restart(in, 1);
    }
}

static void restart_child(struct rng_inst *in, void *arg)
{
    (void)arg;
    in->inherited = 1;
    if (content_keyed(in->h.gen))
        in->fresh = 1;
    seg_restart(in, 1);
}

/* Both sides start new segments where the lineage stands, so parent and child each record
 * their first values from there; the child also marks everything as not seeded by itself.  In
 * the child this runs before fork() returns: static memory and nothing else. */
FS_CHILD_PATH void fs_rng_after_fork(int in_child)
{
    if (in_child) {
        if (seeds_written)
            seeds_written = 0;
        if (unforced_written)
            unforced_written = 0;
        if (safe_any) {
            for (int i = 0; i < FS_RNG_SRC_MAX; i++)
                safe_count[i] = 0;
            safe_any = 0;
        }
        if (rng_lost)
            rng_lost = 0;
    }
    if (!rng_used)
        return;
    each_instance(in_child ? restart_child : restart_parent, NULL);
}

static void restart_written(struct rng_inst *in, void *arg)
{
    (void)arg;
    if (in->seg.written)
        seg_restart(in, in->seg.forced);
}

FS_CHILD_PATH void fs_rng_flush(void)
{
    if (!rng_used && !safe_any && !rng_lost)
        return;
    write_pending();
    /* The image may go on (a failed exec; draws in later exit handlers): what it draws next is
     * a new segment from where the lineage stands. */
    if (rng_used)
        each_instance(restart_written, NULL);
}
