/* Self-checking program: dlsym and dlvsym under the shim.
 *
 * Two kinds of lookups.  Those the shim must leave exactly native (names it does not interpose,
 * unknown names and versions, RTLD_NEXT from this program and from a library loaded after the
 * shim, the dlerror() and errno they leave) are printed as "= " lines: which module and symbol
 * the result lies in, dlerror()'s text and errno.  CTest runs the program natively and under the
 * shim and compares those lines (compare_runs.sh).  Those the shim must change (an interposed
 * name through libc's handle, dlvsym at a current version, RTLD_NEXT from a later library) are
 * checked here: under the shim they must land in libforksan.so, natively in libc, and the
 * pointer must work.  Output is TAP-like; the exit status is non-zero on any failure. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SENTINEL_ERRNO 1234

void *dl_peer_next(const char *name);
void *dl_peer_vnext(const char *name, const char *version);
int dl_peer_hook(void);

static int npassed, nfailed;
static void *libc;
static int under_shim;

static void expect(int ok, const char *what, const char *detail)
{
    printf("%s - %s", ok ? "ok" : "not ok", what);
    if (!ok && detail)
        printf(" (%s)", detail);
    putchar('\n');
    if (ok)
        npassed++;
    else
        nfailed++;
}

static const char *base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "?";
}

/* "module:symbol+offset" for a result, or "NULL". */
static void describe(const void *p, char *out, size_t cap)
{
    Dl_info info;
    if (!p)
        snprintf(out, cap, "NULL");
    else if (!dladdr(p, &info))
        snprintf(out, cap, "outside any module");
    else
        snprintf(out, cap, "%s:%s+%ld", base(info.dli_fname), info.dli_sname ? info.dli_sname : "?",
                 info.dli_saddr ? (long)((const char *)p - (const char *)info.dli_saddr) : -1L);
}

/* Prints one "= " line for a lookup that must be native: result, errno, then dlerror(). */
static void exact(const char *label, void *p, int err)
{
    char where[256];
    describe(p, where, sizeof where);
    const char *e = dlerror();
    printf("= %s -> %s errno=%d dlerror=%s\n", label, where, err, e ? e : "(null)");
}

#define EXACT(label, call)                                                                         \
    do {                                                                                           \
        errno = SENTINEL_ERRNO;                                                                    \
        void *p_ = (call);                                                                         \
        exact(label, p_, errno);                                                                   \
    } while (0)

static void test_exact(void)
{
    EXACT("libc getpid", dlsym(libc, "getpid"));
    EXACT("libc qsort", dlsym(libc, "qsort"));
    EXACT("libc dlvsym getpid@GLIBC_2.2.5", dlvsym(libc, "getpid", "GLIBC_2.2.5"));
    EXACT("libc unknown name", dlsym(libc, "forksan_no_such_symbol"));
    EXACT("default unknown name", dlsym(RTLD_DEFAULT, "forksan_no_such_symbol"));
    EXACT("next unknown name", dlsym(RTLD_NEXT, "forksan_no_such_symbol"));
    EXACT("libc dlvsym unknown version", dlvsym(libc, "getpid", "FORKSAN_NO_SUCH"));
    /* An interposed name whose lookup fails fails exactly as natively. */
    EXACT("libc dlvsym interposed, unknown version",
          dlvsym(libc, "pthread_mutex_lock", "FORKSAN_NO_SUCH"));
    EXACT("libc dlvsym pthread_cond_wait@GLIBC_2.2.5 (old ABI, not wrapped)",
          dlvsym(libc, "pthread_cond_wait", "GLIBC_2.2.5"));
    EXACT("main next getpid", dlsym(RTLD_NEXT, "getpid"));
    EXACT("main next dl_peer_hook", dlsym(RTLD_NEXT, "dl_peer_hook"));
    EXACT("peer next getpid", dl_peer_next("getpid"));
    EXACT("peer next dl_peer_hook (the later library's)", dl_peer_next("dl_peer_hook"));
    EXACT("peer next unknown name", dl_peer_next("forksan_no_such_symbol"));
    EXACT("peer dlvsym next getpid@GLIBC_2.2.5", dl_peer_vnext("getpid", "GLIBC_2.2.5"));
    EXACT("default dl_peer_hook", dlsym(RTLD_DEFAULT, "dl_peer_hook"));

    /* A failed lookup's error stays until dlerror() reads it or the next dl call succeeds;
     * interposed or not, a successful lookup clears it as glibc's does. */
    (void)dlsym(libc, "forksan_no_such_symbol");
    (void)dlsym(libc, "rand");
    const char *e = dlerror();
    printf("= pending error, then libc rand: dlerror=%s\n", e ? e : "(null)");
    (void)dlsym(libc, "forksan_no_such_symbol");
    (void)dl_peer_next("pthread_mutex_lock");
    e = dlerror();
    printf("= pending error, then peer next pthread_mutex_lock: dlerror=%s\n", e ? e : "(null)");
    (void)dlsym(libc, "forksan_no_such_symbol");
    (void)dlsym(libc, "getpid");
    e = dlerror();
    printf("= pending error, then libc getpid: dlerror=%s\n", e ? e : "(null)");
}

/* One lookup the shim redirects: in libforksan.so under the shim, in libc natively, as the name
 * itself, with errno untouched and no dlerror(). */
static void *redirected(const char *label, void *p, int err, const char *name)
{
    char what[256], detail[512], where[256];
    Dl_info info;
    describe(p, where, sizeof where);
    const char *want = under_shim ? "libforksan.so" : "libc.so.6";
    /* libc's symbols have aliases (__pthread_mutex_unlock, srandom for srand): the name is
     * checked only in the shim, where each interposer has one. */
    int ok = p && dladdr(p, &info) && strcmp(base(info.dli_fname), want) == 0 &&
             info.dli_saddr == p &&
             (!under_shim || (info.dli_sname && strcmp(info.dli_sname, name) == 0));
    const char *e = dlerror();
    snprintf(what, sizeof what, "%s is %s's %s, errno kept, no dlerror", label, want, name);
    snprintf(detail, sizeof detail, "got %s errno=%d dlerror=%s", where, err, e ? e : "(null)");
    expect(ok && err == SENTINEL_ERRNO && !e, what, detail);
    return p;
}

#define REDIRECTED(label, call, name)                                                              \
    ({                                                                                             \
        errno = SENTINEL_ERRNO;                                                                    \
        void *p_ = (call);                                                                         \
        redirected(label, p_, errno, name);                                                        \
    })

static void test_redirected(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int (*lock)(pthread_mutex_t *) = (int (*)(pthread_mutex_t *))REDIRECTED(
        "libc pthread_mutex_lock", dlsym(libc, "pthread_mutex_lock"), "pthread_mutex_lock");
    int (*unlock)(pthread_mutex_t *) = (int (*)(pthread_mutex_t *))REDIRECTED(
        "libc pthread_mutex_unlock", dlsym(libc, "pthread_mutex_unlock"), "pthread_mutex_unlock");
    expect(lock && unlock && lock(&m) == 0 && pthread_mutex_trylock(&m) != 0 && unlock(&m) == 0,
           "the pointers lock and unlock a mutex", NULL);

    int (*rnd)(void) = (int (*)(void))REDIRECTED("libc rand", dlsym(libc, "rand"), "rand");
    void (*srnd)(unsigned) =
        (void (*)(unsigned))REDIRECTED("libc srand", dlsym(libc, "srand"), "srand");
    if (rnd && srnd) {
        srnd(77);
        int a = rnd();
        srand(77);
        expect(a == rand(), "rand through the pointer draws rand()'s sequence", NULL);
    }
    REDIRECTED("libc dlvsym pthread_mutex_lock@GLIBC_2.2.5",
               dlvsym(libc, "pthread_mutex_lock", "GLIBC_2.2.5"), "pthread_mutex_lock");
#if defined(__x86_64__)
    REDIRECTED("libc dlvsym pthread_cond_wait@GLIBC_2.3.2",
               dlvsym(libc, "pthread_cond_wait", "GLIBC_2.3.2"), "pthread_cond_wait");
#endif
    /* glibc's versioned lookups pass over the shim's unversioned definitions: natively they
     * would find libc's even in the global scope and from a module before the shim. */
    REDIRECTED("default dlvsym pthread_mutex_lock@GLIBC_2.2.5",
               dlvsym(RTLD_DEFAULT, "pthread_mutex_lock", "GLIBC_2.2.5"), "pthread_mutex_lock");
    REDIRECTED("main dlvsym next pthread_mutex_lock@GLIBC_2.2.5",
               dlvsym(RTLD_NEXT, "pthread_mutex_lock", "GLIBC_2.2.5"), "pthread_mutex_lock");
    REDIRECTED("peer next pthread_mutex_lock", dl_peer_next("pthread_mutex_lock"),
               "pthread_mutex_lock");
    REDIRECTED("peer next rand", dl_peer_next("rand"), "rand");
    REDIRECTED("peer dlvsym next pthread_mutex_lock@GLIBC_2.2.5",
               dl_peer_vnext("pthread_mutex_lock", "GLIBC_2.2.5"), "pthread_mutex_lock");
    void *pt = dlopen("libpthread.so.0", RTLD_NOW);
    if (pt) {
        REDIRECTED("libpthread handle pthread_mutex_lock", dlsym(pt, "pthread_mutex_lock"),
                   "pthread_mutex_lock");
        dlclose(pt);
    }
    /* Through the global scope, natively the first definition: the shim's when preloaded. */
    REDIRECTED("default pthread_mutex_lock", dlsym(RTLD_DEFAULT, "pthread_mutex_lock"),
               "pthread_mutex_lock");
    expect(dl_peer_hook() == 1, "the program's own dl_peer_hook is the first library's", NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc) {
        fprintf(stderr, "dl_exact: libc.so.6 is not loaded: %s\n", dlerror());
        return 2;
    }
    under_shim = dlopen("libforksan.so", RTLD_NOW | RTLD_NOLOAD) != NULL;
    printf("# %s\n", under_shim ? "under the shim" : "native");
    test_exact();
    test_redirected();
    printf("%d passed, %d failed\n", npassed, nfailed);
    return nfailed ? 1 : 0;
}
