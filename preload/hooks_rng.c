/* Interposers for libc's pseudo-random generators, the fork-safe random sources, and _exit.
 *
 * How to add one: resolve it in real.c, list it in exports.map, call the real function, and
 * only when it succeeded tell rng.c what happened (fs_rng_draw_* with the value exactly as
 * returned, fs_rng_seed_* with the seed).  Results and errno are always the real call's: the
 * recorder saves errno around its own rare writes.  glibc's rand() calls its internal __random
 * and drand48() its internal __erand48_r, never these symbols, so every value is counted once.
 * The fork-safe sources are only counted, so that a report can say the program used them.
 * glibc declares the state arguments nonnull: a NULL one faults on our read of it just as it
 * would inside the real call. */
#include "shim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ACTIVE() FS_LIKELY(fs_config.active)
#define SLOW     __attribute__((noinline, cold))

/* Integers as their two's-complement 64-bit value, doubles as their bits. */
static inline uint64_t ival(long v)
{
    return (uint64_t)(int64_t)v;
}

static inline uint64_t dval(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

/* The exact types behind the `void *` members of fs_real (shim.h does not include stdlib.h). */
typedef int random_r_fn(struct random_data *, int32_t *);
typedef int srandom_r_fn(unsigned, struct random_data *);
typedef int initstate_r_fn(unsigned, char *, size_t, struct random_data *);
typedef int setstate_r_fn(char *, struct random_data *);
typedef int drand48_r_fn(struct drand48_data *, double *);
typedef int lrand48_r_fn(struct drand48_data *, long *);
typedef int srand48_r_fn(long, struct drand48_data *);
typedef int seed48_r_fn(unsigned short[3], struct drand48_data *);
typedef int lcong48_r_fn(unsigned short[7], struct drand48_data *);
typedef int erand48_r_fn(unsigned short[3], struct drand48_data *, double *);
typedef int nrand48_r_fn(unsigned short[3], struct drand48_data *, long *);

/* ---- random(): rand, random, srand, srandom, initstate, setstate ------------------------- */

/* The global generators' fast path: a slot to count in and a segment that wants no value, then
 * the draw is counted in the caller's slot (before the real call, which is then jumped to).  The
 * slow path records the value (rng.c: fs_rng_draw_*).  A slot implies the real functions are
 * resolved and the shim records. */
#define GLOBAL_DRAW(type, name, family, record)                                                    \
    static SLOW type name##_slow(uintptr_t site)                                                   \
    {                                                                                              \
        FS_REAL_READY();                                                                           \
        type v = fs_real.name();                                                                   \
        if (ACTIVE())                                                                              \
            record;                                                                                \
        return v;                                                                                  \
    }                                                                                              \
    type name(void)                                                                                \
    {                                                                                              \
        struct fs_thread *t = fs_tls_self;                                                         \
        if (FS_UNLIKELY(!t) || FS_UNLIKELY(fs_rng_want[family]))                                   \
            return name##_slow(FS_CALLER());                                                       \
        __atomic_store_n(&t->rng_draws[family], t->rng_draws[family] + 1, __ATOMIC_RELAXED);       \
        return fs_real.name();                                                                     \
    }

GLOBAL_DRAW(int, rand, FS_RNG_FAM_RANDOM, fs_rng_draw_random(ival(v), "rand", site))
GLOBAL_DRAW(long, random, FS_RNG_FAM_RANDOM, fs_rng_draw_random(ival(v), "random", site))

void srand(unsigned seed)
{
    FS_REAL_READY();
    fs_real.srand(seed);
    if (ACTIVE())
        fs_rng_seed_random(seed, "srand", FS_CALLER());
}

void srandom(unsigned seed)
{
    FS_REAL_READY();
    fs_real.srandom(seed);
    if (ACTIVE())
        fs_rng_seed_random(seed, "srandom", FS_CALLER());
}

char *initstate(unsigned seed, char *state, size_t n)
{
    FS_REAL_READY();
    char *old = fs_real.initstate(seed, state, n);
    if (ACTIVE() && old) {
        fs_rng_switch_random(state, old);
        fs_rng_seed_random(seed, "initstate", FS_CALLER());
    }
    return old;
}

char *setstate(char *state)
{
    FS_REAL_READY();
    char *old = fs_real.setstate(state);
    if (ACTIVE() && old)
        fs_rng_switch_random(state, old);
    return old;
}

/* ---- random_r family: the caller's struct random_data ------------------------------------ */

static SLOW int random_r_slow(struct random_data *buf, int32_t *result, uintptr_t site)
{
    FS_REAL_READY();
    int r = ((random_r_fn *)fs_real.random_r)(buf, result);
    if (ACTIVE() && r == 0)
        fs_rng_draw_state(FS_RNG_RANDOM_R, buf, 0, ival(*result), FS_RNG_INT, "random_r", site);
    return r;
}

int srandom_r(unsigned seed, struct random_data *buf)
{
    FS_REAL_READY();
    int r = ((srandom_r_fn *)fs_real.srandom_r)(seed, buf);
    if (ACTIVE() && r == 0)
        fs_rng_seed_state(FS_RNG_RANDOM_R, buf, seed, "srandom_r", FS_CALLER());
    return r;
}

int initstate_r(unsigned seed, char *state, size_t n, struct random_data *buf)
{
    FS_REAL_READY();
    int r = ((initstate_r_fn *)fs_real.initstate_r)(seed, state, n, buf);
    if (ACTIVE() && r == 0)
        fs_rng_seed_state(FS_RNG_RANDOM_R, buf, seed, "initstate_r", FS_CALLER());
    return r;
}

int setstate_r(char *state, struct random_data *buf)
{
    FS_REAL_READY();
    int r = ((setstate_r_fn *)fs_real.setstate_r)(state, buf);
    if (ACTIVE() && r == 0)
        fs_rng_reset_state(FS_RNG_RANDOM_R, buf);
    return r;
}

/* ---- the global drand48 state ------------------------------------------------------------ */

GLOBAL_DRAW(double, drand48, FS_RNG_FAM_DRAND48,
            fs_rng_draw_drand48(dval(v), FS_RNG_DOUBLE, "drand48", site))
GLOBAL_DRAW(long, lrand48, FS_RNG_FAM_DRAND48,
            fs_rng_draw_drand48(ival(v), FS_RNG_INT, "lrand48", site))
GLOBAL_DRAW(long, mrand48, FS_RNG_FAM_DRAND48,
            fs_rng_draw_drand48(ival(v), FS_RNG_INT, "mrand48", site))

void srand48(long seedval)
{
    FS_REAL_READY();
    fs_real.srand48(seedval);
    if (ACTIVE())
        fs_rng_seed_drand48((uint32_t)seedval, "srand48", FS_CALLER());
}

unsigned short *seed48(unsigned short seed16v[3])
{
    FS_REAL_READY();
    uint64_t x = fs_x48(seed16v);
    unsigned short *old = fs_real.seed48(seed16v);
    if (ACTIVE())
        fs_rng_seed_drand48(x, "seed48", FS_CALLER());
    return old;
}

void lcong48(unsigned short param[7])
{
    FS_REAL_READY();
    uint64_t x = fs_x48(param);
    fs_real.lcong48(param);
    if (ACTIVE())
        fs_rng_seed_drand48(x, "lcong48", FS_CALLER());
}

/* ---- erand48, nrand48, jrand48: the caller's xsubi --------------------------------------- */

static SLOW double erand48_slow(unsigned short xsubi[3], uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return fs_real.erand48(xsubi);
    uint64_t before = fs_x48(xsubi);
    double v = fs_real.erand48(xsubi);
    fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, dval(v), FS_RNG_DOUBLE, "erand48", site);
    return v;
}

static SLOW long nrand48_slow(unsigned short xsubi[3], uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return fs_real.nrand48(xsubi);
    uint64_t before = fs_x48(xsubi);
    long v = fs_real.nrand48(xsubi);
    fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, ival(v), FS_RNG_INT, "nrand48", site);
    return v;
}

static SLOW long jrand48_slow(unsigned short xsubi[3], uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return fs_real.jrand48(xsubi);
    uint64_t before = fs_x48(xsubi);
    long v = fs_real.jrand48(xsubi);
    fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, ival(v), FS_RNG_INT, "jrand48", site);
    return v;
}

/* ---- the drand48_r family: the caller's struct drand48_data (and xsubi for *rand48_r) ---- */

static SLOW int drand48_r_slow(struct drand48_data *buffer, double *result, uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((drand48_r_fn *)fs_real.drand48_r)(buffer, result);
    uint64_t before = fs_x48(buffer->__x);
    int r = ((drand48_r_fn *)fs_real.drand48_r)(buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_DRAND48_R, buffer, before, dval(*result), FS_RNG_DOUBLE,
                          "drand48_r", site);
    return r;
}

static SLOW int lrand48_r_slow(struct drand48_data *buffer, long *result, uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((lrand48_r_fn *)fs_real.lrand48_r)(buffer, result);
    uint64_t before = fs_x48(buffer->__x);
    int r = ((lrand48_r_fn *)fs_real.lrand48_r)(buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_DRAND48_R, buffer, before, ival(*result), FS_RNG_INT, "lrand48_r",
                          site);
    return r;
}

static SLOW int mrand48_r_slow(struct drand48_data *buffer, long *result, uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((lrand48_r_fn *)fs_real.mrand48_r)(buffer, result);
    uint64_t before = fs_x48(buffer->__x);
    int r = ((lrand48_r_fn *)fs_real.mrand48_r)(buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_DRAND48_R, buffer, before, ival(*result), FS_RNG_INT, "mrand48_r",
                          site);
    return r;
}

int srand48_r(long seedval, struct drand48_data *buffer)
{
    FS_REAL_READY();
    int r = ((srand48_r_fn *)fs_real.srand48_r)(seedval, buffer);
    if (ACTIVE() && r == 0)
        fs_rng_seed_state(FS_RNG_DRAND48_R, buffer, (uint32_t)seedval, "srand48_r", FS_CALLER());
    return r;
}

int seed48_r(unsigned short seed16v[3], struct drand48_data *buffer)
{
    FS_REAL_READY();
    uint64_t x = ACTIVE() ? fs_x48(seed16v) : 0;
    int r = ((seed48_r_fn *)fs_real.seed48_r)(seed16v, buffer);
    if (ACTIVE() && r == 0)
        fs_rng_seed_state(FS_RNG_DRAND48_R, buffer, x, "seed48_r", FS_CALLER());
    return r;
}

int lcong48_r(unsigned short param[7], struct drand48_data *buffer)
{
    FS_REAL_READY();
    uint64_t x = ACTIVE() ? fs_x48(param) : 0;
    int r = ((lcong48_r_fn *)fs_real.lcong48_r)(param, buffer);
    if (ACTIVE() && r == 0)
        fs_rng_seed_state(FS_RNG_DRAND48_R, buffer, x, "lcong48_r", FS_CALLER());
    return r;
}

static SLOW int erand48_r_slow(unsigned short xsubi[3], struct drand48_data *buffer, double *result,
                               uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((erand48_r_fn *)fs_real.erand48_r)(xsubi, buffer, result);
    uint64_t before = fs_x48(xsubi);
    int r = ((erand48_r_fn *)fs_real.erand48_r)(xsubi, buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, dval(*result), FS_RNG_DOUBLE, "erand48_r",
                          site);
    return r;
}

static SLOW int nrand48_r_slow(unsigned short xsubi[3], struct drand48_data *buffer, long *result,
                               uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((nrand48_r_fn *)fs_real.nrand48_r)(xsubi, buffer, result);
    uint64_t before = fs_x48(xsubi);
    int r = ((nrand48_r_fn *)fs_real.nrand48_r)(xsubi, buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, ival(*result), FS_RNG_INT, "nrand48_r",
                          site);
    return r;
}

static SLOW int jrand48_r_slow(unsigned short xsubi[3], struct drand48_data *buffer, long *result,
                               uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE())
        return ((nrand48_r_fn *)fs_real.jrand48_r)(xsubi, buffer, result);
    uint64_t before = fs_x48(xsubi);
    int r = ((nrand48_r_fn *)fs_real.jrand48_r)(xsubi, buffer, result);
    if (r == 0)
        fs_rng_draw_state(FS_RNG_ERAND48, xsubi, before, ival(*result), FS_RNG_INT, "jrand48_r",
                          site);
    return r;
}

/* ---- rand_r: the caller's unsigned int ---------------------------------------------------- */

static SLOW int rand_r_slow(unsigned *seed, uintptr_t site)
{
    FS_REAL_READY();
    if (!ACTIVE() || !seed)
        return fs_real.rand_r(seed);
    uint64_t before = *seed;
    int v = fs_real.rand_r(seed);
    fs_rng_draw_state(FS_RNG_RAND_R, seed, before, ival(v), FS_RNG_INT, "rand_r", site);
    return v;
}

/* ---- fork-safe sources: counted ----------------------------------------------------------
 * They are optional in the table (older glibc lacks arc4random); a program can only reach these
 * definitions through a libc or library that has them, but should none be found the kernel's
 * getrandom stands in, with the same contract. */

static ssize_t sys_getrandom(void *buf, size_t len, unsigned flags)
{
    return syscall(SYS_getrandom, buf, len, flags);
}

/* Fills buf completely from the kernel (arc4random* cannot fail). */
static void fill_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t n = sys_getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* as glibc's arc4random does when the kernel has no entropy to give */
        }
        p += n;
        len -= (size_t)n;
    }
}

ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
    FS_REAL_READY();
    ssize_t r =
        fs_real.getrandom ? fs_real.getrandom(buf, len, flags) : sys_getrandom(buf, len, flags);
    if (ACTIVE() && r >= 0)
        fs_rng_safe(FS_RNG_SRC_GETRANDOM);
    return r;
}

int getentropy(void *buf, size_t len)
{
    FS_REAL_READY();
    int r;
    if (fs_real.getentropy) {
        r = fs_real.getentropy(buf, len);
    } else if (len > 256) {
        errno = EIO;
        r = -1;
    } else {
        int saved = errno;
        fill_random(buf, len);
        errno = saved;
        r = 0;
    }
    if (ACTIVE() && r == 0)
        fs_rng_safe(FS_RNG_SRC_GETENTROPY);
    return r;
}

uint32_t arc4random(void)
{
    FS_REAL_READY();
    uint32_t v;
    if (fs_real.arc4random) {
        v = fs_real.arc4random();
    } else {
        int saved = errno;
        fill_random(&v, sizeof v);
        errno = saved;
    }
    if (ACTIVE())
        fs_rng_safe(FS_RNG_SRC_ARC4RANDOM);
    return v;
}

void arc4random_buf(void *buf, size_t n)
{
    FS_REAL_READY();
    if (fs_real.arc4random_buf) {
        fs_real.arc4random_buf(buf, n);
    } else {
        int saved = errno;
        fill_random(buf, n);
        errno = saved;
    }
    if (ACTIVE())
        fs_rng_safe(FS_RNG_SRC_ARC4RANDOM);
}

uint32_t arc4random_uniform(uint32_t upper)
{
    FS_REAL_READY();
    uint32_t v;
    if (fs_real.arc4random_uniform) {
        v = fs_real.arc4random_uniform(upper);
    } else if (upper <= 1) {
        v = 0;
    } else {
        /* Rejection sampling: values below 2^32 mod upper would make some results likelier. */
        uint32_t min = -upper % upper;
        int saved = errno;
        do
            fill_random(&v, sizeof v);
        while (v < min);
        errno = saved;
        v %= upper;
    }
    if (ACTIVE())
        fs_rng_safe(FS_RNG_SRC_ARC4RANDOM);
    return v;
}

/* ---- _exit, _Exit -------------------------------------------------------------------------
 * The way a forked child should end, and where what the shim still buffers (partial segments,
 * fork records) would be lost: write it, then end exactly as the real call does (no atexit
 * handlers, no stdio flush). */

FS_CHILD_PATH static __attribute__((noreturn)) void exit_now(void (*real)(int), int status)
{
    if (fs_trace_owned()) { /* a vfork child leaves its parent's records alone */
        fs_rng_flush();
        fs_fork_records_flush_final();
        fs_end_record_owned(FS_END__EXIT, status);
        fs_wait_stamp_exit(fs_storm_end());
    }
    if (real)
        real(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

FS_CHILD_PATH void _exit(int status)
{
    FS_REAL_READY();
    exit_now(fs_real._exit, status);
}

FS_CHILD_PATH void _Exit(int status)
{
    FS_REAL_READY();
    exit_now(fs_real._Exit, status);
}

/* ---- caller-held states: the fast paths ----------------------------------------------------
 * Once a state's segment has its values, its draws only need counting: the thread's cache
 * (fs_rng_tls, rng.c) names the instance of the state it drew from last, and while that
 * instance's fast word of the family holds this state (one compare: the right instance, the
 * right family, fast), the draw is counted in it.  The instance pointer is loaded once: a signal
 * handler drawing on this thread may re-point the cache between our test and our count, never
 * hand us half an entry.  erand48's and rand_r's also compare the contents with what our last
 * draw left (a program rewriting its seed between draws starts a lineage of its own), and after
 * the call check the word again: a segment restarted meanwhile (by a handler's seed or fork on
 * this thread, or another thread) wants this value, so the draw goes to the recorder as if it
 * had come the slow way (late_draw).  Anything else takes the slow path above, which records as
 * before and points the cache at the state. */

#define FAST_OK(h, state, gen) ((h)->fast[FS_RNG_FAST_IX(gen)] == (uintptr_t)(state))

/* The erand48 family's 48 bits against h->expect (which holds fs_x48 of the contents, its top
 * 16 bits 0), and the contents into it: a 32-bit and a 16-bit load of the state, as glibc's
 * iteration stores it (a load spanning two stores would wait for them to leave the store
 * buffer), expect as its two 32-bit words, each loaded and stored whole (relaxed atomics only so
 * that the compiler does not merge the two stores into a vector one), and one branch. */
static inline int x48_expected(const unsigned short x[3], const struct fs_rng_hot *h)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t lo;
    uint16_t hi;
    __builtin_memcpy(&lo, x, sizeof lo);
    __builtin_memcpy(&hi, x + 2, sizeof hi);
    return ((lo ^ h->expect_w[0]) | (hi ^ h->expect_w[1])) == 0;
#else
    return fs_x48(x) == h->expect;
#endif
}

static inline void x48_keep(struct fs_rng_hot *h, const unsigned short x[3])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t lo;
    uint16_t hi;
    __builtin_memcpy(&lo, x, sizeof lo);
    __builtin_memcpy(&hi, x + 2, sizeof hi);
    __atomic_store_n(&h->expect_w[0], lo, __ATOMIC_RELAXED);
    __atomic_store_n(&h->expect_w[1], (uint32_t)hi, __ATOMIC_RELAXED);
#else
    h->expect = fs_x48(x);
#endif
}

/* A content family's draw made the fast way, counted, whose segment restarted during the draw:
 * it goes to the recorder as the slow path's would, which counts it again (hence the undo).
 * Restarted before the count (during the real call, the usual case), the draw is the new
 * segment's first value.  Restarted between the count and the re-check, its position lies
 * before the new segment: the recorder then only counts it, unless the restart was a fork's,
 * which has the next draw start a lineage from the contents it finds (`before`, here), so that
 * this value heads it as one drawn during the call would.  The state is the instance's id, and
 * its contents before the call were h->expect (the hook compared them equal; only the same state
 * drawn from at once by another thread, a race in the program, changes it meanwhile).  Returns
 * `value`, so that the hook's tail stays a jump. */
static SLOW uint64_t late_draw(struct fs_rng_hot *h, int gen, uint64_t value, int vtype,
                               const char *call, uintptr_t site)
{
    if (ACTIVE()) {
        h->pos--;
        fs_rng_draw_state(gen, (const void *)h->id, h->expect, value, vtype, call, site);
    }
    return value;
}

static inline double dbl(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

int random_r(struct random_data *buf, int32_t *result)
{
    struct fs_rng_hot *h = fs_rng_tls[FS_RNG_RANDOM_R];
    /* glibc fails these only for a NULL state or result (EINVAL), both declared nonnull: the
     * draw is counted first and the real function jumped to. */
    if (FAST_OK(h, buf, FS_RNG_RANDOM_R)) {
        h->pos++;
        return ((random_r_fn *)fs_real.random_r)(buf, result);
    }
    return random_r_slow(buf, result, FS_CALLER());
}

/* After a content family's real call: the draw is counted, then the fast word read again, in
 * this order for a signal handler on this thread (late_draw says why); the word holds the state's
 * address (the draw only counts: its contents are kept for the next one) or NO_ID. */
#define COUNTED_STILL_FAST(h, gen)                                                                 \
    ((h)->pos++, __atomic_signal_fence(__ATOMIC_SEQ_CST),                                          \
     (h)->fast[FS_RNG_FAST_IX(gen)] != FS_RNG_NO_ID)

/* erand48, nrand48, jrand48: only the instance is kept across the real call; the state is then
 * its id. */
#define XRAND48_FAST(name, type, conv, back, vtype)                                                \
    type name(unsigned short xsubi[3])                                                             \
    {                                                                                              \
        struct fs_rng_hot *h = fs_rng_tls[FS_RNG_ERAND48];                                         \
        if (FS_UNLIKELY(!FAST_OK(h, xsubi, FS_RNG_ERAND48) || !x48_expected(xsubi, h)))            \
            return name##_slow(xsubi, FS_CALLER());                                                \
        type r = fs_real.name(xsubi);                                                              \
        if (FS_UNLIKELY(!COUNTED_STILL_FAST(h, FS_RNG_ERAND48)))                                   \
            return back(late_draw(h, FS_RNG_ERAND48, conv(r), vtype, #name, FS_CALLER()));         \
        x48_keep(h, (const unsigned short *)h->id);                                                \
        return r;                                                                                  \
    }

#define LONG_OF(bits) ((long)(bits))
XRAND48_FAST(erand48, double, dval, dbl, FS_RNG_DOUBLE)
XRAND48_FAST(nrand48, long, ival, LONG_OF, FS_RNG_INT)
XRAND48_FAST(jrand48, long, ival, LONG_OF, FS_RNG_INT)

/* The drand48_r family's state is not content-keyed: counted first, then the real function
 * jumped to (glibc fails these only for a NULL state or result, both declared nonnull). */
#define DRAND48_R_FAST(name, type)                                                                 \
    int name(struct drand48_data *buffer, type *result)                                            \
    {                                                                                              \
        struct fs_rng_hot *h = fs_rng_tls[FS_RNG_DRAND48_R];                                       \
        if (FAST_OK(h, buffer, FS_RNG_DRAND48_R)) {                                                \
            h->pos++;                                                                              \
            return ((name##_fn *)fs_real.name)(buffer, result);                                    \
        }                                                                                          \
        return name##_slow(buffer, result, FS_CALLER());                                           \
    }

typedef lrand48_r_fn mrand48_r_fn;
DRAND48_R_FAST(drand48_r, double)
DRAND48_R_FAST(lrand48_r, long)
DRAND48_R_FAST(mrand48_r, long)

/* erand48_r and friends: content-keyed by xsubi; a failed call (never, with glibc's nonnull
 * arguments) is not counted. */
#define ERAND48_R_FAST(name, type, fn, conv, vtype)                                                \
    int name(unsigned short xsubi[3], struct drand48_data *buffer, type *result)                   \
    {                                                                                              \
        struct fs_rng_hot *h = fs_rng_tls[FS_RNG_ERAND48];                                         \
        if (FS_LIKELY(FAST_OK(h, xsubi, FS_RNG_ERAND48) && x48_expected(xsubi, h))) {              \
            int r = ((fn *)fs_real.name)(xsubi, buffer, result);                                   \
            if (FS_UNLIKELY(r != 0))                                                               \
                return r;                                                                          \
            if (FS_LIKELY(COUNTED_STILL_FAST(h, FS_RNG_ERAND48)))                                  \
                x48_keep(h, (const unsigned short *)h->id);                                        \
            else                                                                                   \
                late_draw(h, FS_RNG_ERAND48, conv(*result), vtype, #name, FS_CALLER());            \
            return 0;                                                                              \
        }                                                                                          \
        return name##_slow(xsubi, buffer, result, FS_CALLER());                                    \
    }

ERAND48_R_FAST(erand48_r, double, erand48_r_fn, dval, FS_RNG_DOUBLE)
ERAND48_R_FAST(nrand48_r, long, nrand48_r_fn, ival, FS_RNG_INT)
ERAND48_R_FAST(jrand48_r, long, nrand48_r_fn, ival, FS_RNG_INT)

int rand_r(unsigned *seed)
{
    struct fs_rng_hot *h = fs_rng_tls[FS_RNG_RAND_R];
    if (FS_LIKELY(FAST_OK(h, seed, FS_RNG_RAND_R) && *seed == h->expect)) {
        int r = fs_real.rand_r(seed);
        if (FS_LIKELY(COUNTED_STILL_FAST(h, FS_RNG_RAND_R))) {
            h->expect = *(const unsigned *)h->id;
            return r;
        }
        return (int)late_draw(h, FS_RNG_RAND_R, ival(r), FS_RNG_INT, "rand_r", FS_CALLER());
    }
    return rand_r_slow(seed, FS_CALLER());
}
