/* The generator hooks must be invisible: every interposed generator returns exactly glibc's values.
 *
 * Run with no argument, the program calls every generator libforksan.so interposes (rand, random,
 * initstate/setstate, the random_r family, the drand48 family with seed48/lcong48 and the _r forms,
 * erand48/nrand48/jrand48, rand_r) from fixed seeds, on their normal and error paths, and before
 * and after a fork, and prints each result: integers in decimal, doubles in %a (exact).  Each draw
 * must also leave errno alone; one that does not prints a "not ok - " line and fails the run.
 * Lines starting with "# " are commentary (which names the shim interposes) and are not compared.
 *
 * Run as `rng_exact --compare SHIM TRACE_DIR`, it runs itself natively and under LD_PRELOAD=SHIM,
 * and fails unless both outputs are byte-identical, the shim wrote a trace and it interposes at
 * least one generator (otherwise the comparison would prove nothing).  Glibc's sequences are not
 * hard-coded: the native run is the reference, so the test holds on any glibc.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SENTINEL_ERRNO 4321
#define N              6 /* values per sequence: more than the shim's 4-value draw records */

static int ndraws, nbad;

static void errno_check(const char *what, int line)
{
    ndraws++;
    if (errno != SENTINEL_ERRNO) {
        printf("not ok - %s (line %d) changed errno from %d to %d\n", what, line, SENTINEL_ERRNO,
               errno);
        nbad++;
    }
}

/* Evaluates a call that must succeed with errno set to a sentinel, and checks it is still set. */
#define CALL(expr)                                                                                 \
    ({                                                                                             \
        errno = SENTINEL_ERRNO;                                                                    \
        __typeof__(expr) call_v_ = (expr);                                                         \
        errno_check(#expr, __LINE__);                                                              \
        call_v_;                                                                                   \
    })

/* For calls with no result (srand, srandom, srand48, lcong48). */
#define CALL_VOID(expr)                                                                            \
    do {                                                                                           \
        errno = SENTINEL_ERRNO;                                                                    \
        expr;                                                                                      \
        errno_check(#expr, __LINE__);                                                              \
    } while (0)

static void put_longs(const char *label, const long *v, int n)
{
    printf("%s:", label);
    for (int i = 0; i < n; i++)
        printf(" %ld", v[i]);
    putchar('\n');
}

static void put_doubles(const char *label, const double *v, int n)
{
    printf("%s:", label);
    for (int i = 0; i < n; i++)
        printf(" %a", v[i]);
    putchar('\n');
}

static void put_xsubi(const char *label, const unsigned short x[3])
{
    printf("%s: %04hx %04hx %04hx\n", label, x[0], x[1], x[2]);
}

/* An error path: the return code and errno, as a name so that a difference reads plainly. */
static void put_error(const char *label, long rc, int err)
{
    const char *name = strerrorname_np(err);

    printf("%s: rc=%ld errno=%s\n", label, rc, name ? name : "?");
}

/* Before anything seeds: the default states of the two global families and of a zeroed
 * drand48_data.  Must run first. */
static void check_unseeded(void)
{
    struct drand48_data d;
    long v[N];
    double x[N];

    for (int i = 0; i < N; i++)
        v[i] = CALL(rand());
    put_longs("rand unseeded", v, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    put_longs("random unseeded, after rand", v, N);
    for (int i = 0; i < N; i++)
        x[i] = CALL(drand48());
    put_doubles("drand48 unseeded", x, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(lrand48());
    put_longs("lrand48 unseeded", v, N);
    memset(&d, 0, sizeof d);
    for (int i = 0; i < N; i++)
        CALL(drand48_r(&d, &x[i]));
    put_doubles("drand48_r zeroed data", x, N);
}

static void check_rand(void)
{
    static const unsigned int seeds[] = {1, 42, 0, UINT_MAX};
    long v[N];

    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        char label[64];

        CALL_VOID(srand(seeds[s]));
        for (int i = 0; i < N; i++)
            v[i] = CALL(rand());
        snprintf(label, sizeof label, "rand after srand(%u)", seeds[s]);
        put_longs(label, v, N);
    }
}

/* initstate/setstate over tables of every size class glibc distinguishes (TYPE_0 to TYPE_4). */
static void check_random(void)
{
    static char t8[8], t32[32], t64[64], t128[128], t256[256], tiny[7];
    struct {
        char *table;
        size_t size;
        unsigned int seed;
    } tables[] = {{t8, 8, 11}, {t32, 32, 13}, {t64, 64, 17}, {t128, 128, 19}, {t256, 256, 23}};
    char *orig, *prev, *expect_prev;
    long v[N];
    char label[64];

    CALL_VOID(srandom(7));
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    put_longs("random after srandom(7)", v, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(rand());
    put_longs("rand continuing srandom(7)", v, N);

    orig = CALL(initstate(tables[0].seed, tables[0].table, tables[0].size));
    printf("initstate(8) returned the built-in table: %s\n", orig != NULL ? "non-null" : "NULL");
    expect_prev = tables[0].table;
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    put_longs("random from an 8-byte table", v, N);
    for (size_t t = 1; t < sizeof tables / sizeof tables[0]; t++) {
        prev = CALL(initstate(tables[t].seed, tables[t].table, tables[t].size));
        for (int i = 0; i < N; i++)
            v[i] = CALL(random());
        snprintf(label, sizeof label, "random from a %zu-byte table (previous returned: %s)",
                 tables[t].size, prev == expect_prev ? "yes" : "no");
        put_longs(label, v, N);
        expect_prev = tables[t].table;
    }

    prev = CALL(setstate(t32));
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    snprintf(label, sizeof label, "random back on the 32-byte table (previous returned: %s)",
             prev == t256 ? "yes" : "no");
    put_longs(label, v, N);
    prev = CALL(setstate(t8));
    for (int i = 0; i < N; i++)
        v[i] = CALL(rand());
    snprintf(label, sizeof label, "rand on the 8-byte table (previous returned: %s)",
             prev == t32 ? "yes" : "no");
    put_longs(label, v, N);
    CALL_VOID(srandom(99));
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    put_longs("random after srandom(99) on the 8-byte table", v, N);
    prev = CALL(setstate(orig));
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    snprintf(label, sizeof label, "random back on the built-in table (previous returned: %s)",
             prev == t8 ? "yes" : "no");
    put_longs(label, v, N);

    errno = SENTINEL_ERRNO;
    prev = initstate(5, tiny, sizeof tiny);
    put_error("initstate with a 7-byte table", prev == NULL ? -1 : 0, errno);
    for (int i = 0; i < N; i++)
        v[i] = CALL(random());
    put_longs("random after the failed initstate", v, N);
}

static void check_random_r(void)
{
    static char ta[64], tb[128], tiny[4];
    /* volatile: random_r is declared nonnull, but glibc checks and fails with EINVAL. */
    struct random_data *volatile no_data = NULL;
    struct random_data a, b, c;
    int32_t r;
    long v[N];
    int rc;

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    rc = CALL(initstate_r(5, ta, sizeof ta, &a));
    for (int i = 0; i < N; i++) {
        rc |= CALL(random_r(&a, &r));
        v[i] = r;
    }
    printf("initstate_r+random_r rc: %d\n", rc);
    put_longs("random_r after initstate_r(5, 64)", v, N);
    rc = CALL(srandom_r(9, &a));
    for (int i = 0; i < N; i++) {
        rc |= CALL(random_r(&a, &r));
        v[i] = r;
    }
    printf("srandom_r+random_r rc: %d\n", rc);
    put_longs("random_r after srandom_r(9)", v, N);
    rc = CALL(initstate_r(6, tb, sizeof tb, &b));
    for (int i = 0; i < N; i++) {
        rc |= CALL(random_r(&b, &r));
        v[i] = r;
    }
    put_longs("random_r after initstate_r(6, 128)", v, N);
    rc |= CALL(setstate_r(ta, &b));
    for (int i = 0; i < N; i++) {
        rc |= CALL(random_r(&b, &r));
        v[i] = r;
    }
    printf("setstate_r+random_r rc: %d\n", rc);
    put_longs("random_r on the 64-byte table through setstate_r", v, N);

    errno = SENTINEL_ERRNO;
    rc = initstate_r(1, tiny, sizeof tiny, &c);
    put_error("initstate_r with a 4-byte table", rc, errno);
    errno = SENTINEL_ERRNO;
    rc = random_r(no_data, &r);
    put_error("random_r(NULL)", rc, errno);
}

static void check_drand48(void)
{
    unsigned short seed[3] = {0x1234, 0xabcd, 0x0042};
    unsigned short param[7] = {0x330e, 0xabcd, 0x1234, 0x1235, 0x5678, 0x0009, 0x0007};
    unsigned short xsubi[3];
    unsigned short *old;
    double x[N];
    long v[N];

    CALL_VOID(srand48(123));
    for (int i = 0; i < N; i++)
        x[i] = CALL(drand48());
    put_doubles("drand48 after srand48(123)", x, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(lrand48());
    put_longs("lrand48 continuing", v, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(mrand48());
    put_longs("mrand48 continuing", v, N);

    old = CALL(seed48(seed));
    put_xsubi("seed48 returned the previous state", old);
    for (int i = 0; i < N; i++)
        x[i] = CALL(drand48());
    put_doubles("drand48 after seed48", x, N);

    /* lcong48 changes the multiplier and addend that erand48 and friends share with drand48. */
    CALL_VOID(lcong48(param));
    for (int i = 0; i < N; i++)
        v[i] = CALL(lrand48());
    put_longs("lrand48 after lcong48", v, N);
    memcpy(xsubi, (unsigned short[3]){3, 4, 5}, sizeof xsubi);
    for (int i = 0; i < N; i++)
        x[i] = CALL(erand48(xsubi));
    put_doubles("erand48 with lcong48's parameters", x, N);
    put_xsubi("xsubi after erand48", xsubi);
    for (int i = 0; i < N; i++)
        v[i] = CALL(nrand48(xsubi));
    put_longs("nrand48 continuing", v, N);
    for (int i = 0; i < N; i++)
        v[i] = CALL(jrand48(xsubi));
    put_longs("jrand48 continuing", v, N);
    put_xsubi("xsubi after jrand48", xsubi);

    /* srand48 restores the default multiplier and addend. */
    CALL_VOID(srand48(5));
    memcpy(xsubi, (unsigned short[3]){3, 4, 5}, sizeof xsubi);
    for (int i = 0; i < N; i++)
        x[i] = CALL(erand48(xsubi));
    put_doubles("erand48 with the default parameters", x, N);
}

static void check_drand48_r(void)
{
    unsigned short seed[3] = {0x0101, 0x0202, 0x0303};
    unsigned short param[7] = {0x0001, 0x0002, 0x0003, 0x0005, 0x0007, 0x000b, 0x000d};
    unsigned short xsubi[3] = {9, 8, 7};
    struct drand48_data d;
    double x[N];
    long v[N];
    int rc = 0;

    memset(&d, 0, sizeof d);
    rc |= CALL(srand48_r(77, &d));
    for (int i = 0; i < N; i++)
        rc |= CALL(drand48_r(&d, &x[i]));
    put_doubles("drand48_r after srand48_r(77)", x, N);
    for (int i = 0; i < N; i++)
        rc |= CALL(lrand48_r(&d, &v[i]));
    put_longs("lrand48_r continuing", v, N);
    for (int i = 0; i < N; i++)
        rc |= CALL(mrand48_r(&d, &v[i]));
    put_longs("mrand48_r continuing", v, N);
    rc |= CALL(seed48_r(seed, &d));
    for (int i = 0; i < N; i++)
        rc |= CALL(drand48_r(&d, &x[i]));
    put_doubles("drand48_r after seed48_r", x, N);
    rc |= CALL(lcong48_r(param, &d));
    for (int i = 0; i < N; i++)
        rc |= CALL(lrand48_r(&d, &v[i]));
    put_longs("lrand48_r after lcong48_r", v, N);
    for (int i = 0; i < N; i++)
        rc |= CALL(erand48_r(xsubi, &d, &x[i]));
    put_doubles("erand48_r with lcong48_r's parameters", x, N);
    for (int i = 0; i < N; i++)
        rc |= CALL(nrand48_r(xsubi, &d, &v[i]));
    put_longs("nrand48_r continuing", v, N);
    for (int i = 0; i < N; i++)
        rc |= CALL(jrand48_r(xsubi, &d, &v[i]));
    put_longs("jrand48_r continuing", v, N);
    put_xsubi("xsubi after jrand48_r", xsubi);
    printf("drand48 _r family rc: %d\n", rc);
}

static void check_rand_r(void)
{
    static const unsigned int seeds[] = {1, 0, 0xdeadbeef};
    long v[N];

    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        unsigned int seed = seeds[s];
        char label[64];

        for (int i = 0; i < N; i++)
            v[i] = CALL(rand_r(&seed));
        snprintf(label, sizeof label, "rand_r from %#x (then %#x)", seeds[s], seed);
        put_longs(label, v, N);
    }
}

/* The hooks also run in a forked child, where the shim starts new draw segments. */
struct child_draws {
    long rand_v[N], random_r_v[N], rand_r_v[N];
    double drand48_v[N], erand48_v[N];
    int changed_errno;
};

static void child_draw(struct child_draws *c, struct random_data *rd, unsigned short xsubi[3],
                       unsigned int *seed)
{
    int32_t r;

    for (int i = 0; i < N; i++) {
        errno = SENTINEL_ERRNO;
        c->rand_v[i] = rand();
        c->drand48_v[i] = drand48();
        c->erand48_v[i] = erand48(xsubi);
        c->rand_r_v[i] = rand_r(seed);
        c->random_r_v[i] = random_r(rd, &r) == 0 ? r : -1;
        c->changed_errno |= errno != SENTINEL_ERRNO;
    }
}

static void check_fork(void)
{
    static char table[64];
    struct random_data rd;
    unsigned short xsubi[3] = {0x0a0b, 0x0c0d, 0x0e0f};
    unsigned int seed = 31337;
    struct child_draws c, p;
    ssize_t got = 0;
    int fds[2], status;
    pid_t pid;

    memset(&rd, 0, sizeof rd);
    memset(&c, 0, sizeof c);
    memset(&p, 0, sizeof p);
    srand(2024);
    srand48(2024);
    if (initstate_r(2024, table, sizeof table, &rd) != 0 || pipe(fds) != 0) {
        printf("not ok - fork section setup: %s\n", strerror(errno));
        nbad++;
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == -1) {
        printf("not ok - fork: %s\n", strerror(errno));
        nbad++;
        return;
    }
    if (pid == 0) {
        child_draw(&c, &rd, xsubi, &seed);
        _exit(write(fds[1], &c, sizeof c) == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fds[1]);
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
        ;
    for (size_t off = 0; off < sizeof c; off += (size_t)got) {
        got = read(fds[0], (char *)&c + off, sizeof c - off);
        if (got <= 0)
            break;
    }
    close(fds[0]);
    if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("not ok - the forked child did not report its draws (status 0x%x)\n", status);
        nbad++;
        return;
    }
    child_draw(&p, &rd, xsubi, &seed);
    for (int who = 0; who < 2; who++) {
        struct child_draws *d = who ? &p : &c;
        const char *name = who ? "parent" : "child";
        char label[64];

        snprintf(label, sizeof label, "after fork, %s: rand", name);
        put_longs(label, d->rand_v, N);
        snprintf(label, sizeof label, "after fork, %s: drand48", name);
        put_doubles(label, d->drand48_v, N);
        snprintf(label, sizeof label, "after fork, %s: erand48", name);
        put_doubles(label, d->erand48_v, N);
        snprintf(label, sizeof label, "after fork, %s: rand_r", name);
        put_longs(label, d->rand_r_v, N);
        snprintf(label, sizeof label, "after fork, %s: random_r", name);
        put_longs(label, d->random_r_v, N);
        ndraws += 5 * N;
        if (d->changed_errno) {
            printf("not ok - a draw in the %s after fork changed errno\n", name);
            nbad++;
        }
    }
}

/* Which generator names resolve outside libc: to the shim's definition.  (Looking a name up in
 * libc's handle would not tell: under the shim, dlsym hands out the interposer there too.) */
static void report_interposed(void)
{
    static const char *const names[] = {
        "rand",      "srand",     "random",      "srandom",    "initstate", "setstate",
        "random_r",  "srandom_r", "initstate_r", "setstate_r", "drand48",   "erand48",
        "lrand48",   "nrand48",   "mrand48",     "jrand48",    "srand48",   "seed48",
        "lcong48",   "drand48_r", "erand48_r",   "lrand48_r",  "nrand48_r", "mrand48_r",
        "jrand48_r", "srand48_r", "seed48_r",    "lcong48_r",  "rand_r",
    };
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    Dl_info in_libc = {0};
    int n = 0;

    if (libc && !dladdr(dlsym(libc, "getpid"), &in_libc))
        in_libc.dli_fbase = NULL;
    printf("# interposed:");
    for (size_t i = 0; in_libc.dli_fbase && i < sizeof names / sizeof names[0]; i++) {
        void *global = dlsym(RTLD_DEFAULT, names[i]);
        Dl_info where;

        if (global && dladdr(global, &where) && where.dli_fbase != in_libc.dli_fbase) {
            printf(" %s", names[i]);
            n++;
        }
    }
    printf(" (%d of %zu)\n", n, sizeof names / sizeof names[0]);
    if (libc)
        dlclose(libc);
}

/* ---------------------------------------------------------------- --compare */

/* Runs this program with or without the shim: returns its whole stdout (NULL when it could not be
 * run) and its wait status in *status. */
static char *run_self(const char *shim, const char *trace_dir, size_t *len, int *status)
{
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    int fds[2];
    pid_t pid;

    *len = 0;
    if (!buf || pipe(fds) != 0) {
        perror("rng_exact: pipe");
        free(buf);
        return NULL;
    }
    pid = fork();
    if (pid == -1) {
        perror("rng_exact: fork");
        free(buf);
        return NULL;
    }
    if (pid == 0) {
        char *argv[] = {"rng_exact", NULL};

        if (dup2(fds[1], STDOUT_FILENO) == -1 || unsetenv("LD_PRELOAD") != 0 ||
            unsetenv("FORKSAN_TRACE_DIR") != 0)
            _exit(126);
        if (shim &&
            (setenv("LD_PRELOAD", shim, 1) != 0 || setenv("FORKSAN_TRACE_DIR", trace_dir, 1) != 0))
            _exit(126);
        close(fds[0]);
        close(fds[1]);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t got;

        if (*len == cap) {
            char *bigger = realloc(buf, cap * 2);

            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        got = read(fds[0], buf + *len, cap - *len);
        if (got == -1 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        *len += (size_t)got;
    }
    close(fds[0]);
    while (waitpid(pid, status, 0) == -1)
        if (errno != EINTR) {
            perror("rng_exact: waitpid");
            free(buf);
            return NULL;
        }
    return buf;
}

/* The next line of [*p, end) that does not start with "# ", or NULL at the end. */
static const char *next_line(const char **p, const char *end, size_t *n)
{
    while (*p < end) {
        const char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));

        *n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        *p = nl ? nl + 1 : end;
        if (*n < 2 || line[0] != '#' || line[1] != ' ')
            return line;
    }
    return NULL;
}

/* A fresh directory for this run's traces: created, or emptied of an earlier run's files. */
static int fresh_trace_dir(const char *dir)
{
    char *parent = strdup(dir), *slash;
    DIR *d;
    struct dirent *e;

    if (!parent)
        return -1;
    slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "rng_exact: mkdir %s: %s\n", parent, strerror(errno));
            free(parent);
            return -1;
        }
    }
    free(parent);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "rng_exact: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "rng_exact: opendir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL)
        if (e->d_type == DT_REG && unlinkat(dirfd(d), e->d_name, 0) != 0) {
            fprintf(stderr, "rng_exact: unlink %s/%s: %s\n", dir, e->d_name, strerror(errno));
            closedir(d);
            return -1;
        }
    closedir(d);
    return 0;
}

static int count_traces(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        n += len > 6 && strcmp(e->d_name + len - 6, ".trace") == 0;
    }
    closedir(d);
    return n;
}

static int compare(const char *shim, const char *trace_dir)
{
    size_t nlen, slen, na, nb, lines = 0;
    char *native, *shimmed;
    const char *a, *b, *pa, *pb, *hooks;
    int failed = 0, ntraces, nstatus, sstatus, differ = 0;

    if (fresh_trace_dir(trace_dir) != 0)
        return 1;
    native = run_self(NULL, NULL, &nlen, &nstatus);
    shimmed = run_self(shim, trace_dir, &slen, &sstatus);
    if (!native || !shimmed) {
        printf("not ok - rng_exact could not be run natively and under %s\n", shim);
        free(native);
        free(shimmed);
        return 1;
    }
    /* A failing run's own "not ok" lines (errno changed) show up in the comparison below. */
    if (!WIFEXITED(nstatus) || WEXITSTATUS(nstatus) != 0) {
        printf("not ok - the native run ended with status 0x%x\n", nstatus);
        failed = 1;
    }
    if (!WIFEXITED(sstatus) || WEXITSTATUS(sstatus) != 0) {
        printf("not ok - the run under the shim ended with status 0x%x\n", sstatus);
        failed = 1;
    }
    pa = native;
    pb = shimmed;
    for (;;) {
        a = next_line(&pa, native + nlen, &na);
        b = next_line(&pb, shimmed + slen, &nb);
        if (!a || !b)
            break;
        lines++;
        if (na != nb || memcmp(a, b, na) != 0) {
            printf("not ok - line %zu differs under the shim\n  native: %.*s\n  shim:   %.*s\n",
                   lines, (int)na, a, (int)nb, b);
            differ = 1;
            break;
        }
    }
    if (!differ && (a || b)) {
        printf("not ok - the %s output is longer, from line %zu: %.*s\n", a ? "native" : "shim",
               lines + 1, (int)(a ? na : nb), a ? a : b);
        differ = 1;
    }
    failed |= differ;
    if (!differ)
        printf("ok - %zu lines of generator output identical natively and under the shim\n", lines);

    hooks = memmem(shimmed, slen, "# interposed:", 13);
    if (hooks) {
        const char *nl = memchr(hooks, '\n', slen - (size_t)(hooks - shimmed));

        printf("%.*s\n", (int)(nl ? nl - hooks : 13), hooks);
    }
    if (!hooks || memmem(shimmed, slen, "# interposed: (0 of", 19)) {
        printf("not ok - the shim interposes no generator, so the comparison proves nothing\n");
        failed = 1;
    }
    ntraces = count_traces(trace_dir);
    if (ntraces < 1) {
        printf("not ok - the shim wrote no trace into %s\n", trace_dir);
        failed = 1;
    } else {
        printf("# %d trace files in %s\n", ntraces, trace_dir);
    }
    free(native);
    free(shimmed);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--compare") == 0)
        return compare(argv[2], argv[3]);
    if (argc != 1) {
        fprintf(stderr, "usage: rng_exact [--compare SHIM TRACE_DIR]\n");
        return 2;
    }
    check_unseeded();
    check_rand();
    check_random();
    check_random_r();
    check_drand48();
    check_drand48_r();
    check_rand_r();
    check_fork();
    report_interposed();
    printf("%d draws, %d changed errno or failed\n", ndraws, nbad);
    if (fflush(stdout) != 0)
        return 1;
    return nbad ? 1 : 0;
}
