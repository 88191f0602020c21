/* Interposers for dlsym and dlvsym: a lookup that would hand the caller the very function one of
 * the shim's interposers wraps gets the interposer instead, so that programs calling libc through
 * a library handle (ctypes.CDLL("libc.so.6"), JNI, plugins, language runtimes) are traced like
 * direct callers.
 *
 * glibc's dlsym finds its caller's module from its own return address (that is what RTLD_NEXT
 * and RTLD_DEFAULT are relative to), so the interposers never call the real one on the caller's
 * behalf in a way glibc could see: whenever the real answer is wanted as is, the interposer ends
 * in a sibling call (a jump) to the C library's dlsym, which then sees the caller's own return
 * address, and its result, dlerror() state and errno are exactly native.  That covers every name
 * the shim does not export (one GNU-hash probe of the shim's own symbol table decides), every
 * plain RTLD_DEFAULT lookup (the preloaded shim comes first in the global scope anyway), and plain
 * RTLD_NEXT from a module that precedes the shim.  Only for an interposed name looked up through a
 * library handle, through RTLD_NEXT from a module after the shim, or with a version (glibc's
 * versioned lookups pass over the shim's unversioned definitions) does the shim look itself: the
 * real lookup, then the interposer when the result is the function the interposer calls.  These
 * interposers cost nothing on the lock hot paths. */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>

/* What lookup() returns when the C library must answer by itself. */
static const char native_marker;
#define NATIVE ((void *)&native_marker)

static struct link_map *map_of(const void *addr)
{
    Dl_info info;
    void *map = NULL;
    if (!dladdr1(addr, &info, &map, RTLD_DL_LINKMAP))
        return NULL;
    return map;
}

static void *real_lookup(void *handle, const char *name, const char *version)
{
    return version ? fs_dl.dlvsym(handle, name, version) : fs_dl.dlsym(handle, name);
}

/* Whether the shim follows the caller's module, so that its RTLD_NEXT reaches the shim (or an
 * earlier definition) natively. */
static int shim_follows(const struct link_map *m)
{
    for (; m; m = m->l_next)
        if (m == fs_dl.self)
            return 1;
    return 0;
}

/* The interposer to return, the real lookup's result, or NATIVE.  Not inlined: its locals have
 * their addresses taken, which would keep the interposers from ending in a jump. */
static __attribute__((noinline)) void *lookup(void *handle, const char *name, const char *version,
                                              const void *caller)
{
    FS_REAL_READY();
    /* A plain lookup in the global scope finds the preloaded shim first by itself.  A versioned
     * one does not: glibc passes over the shim's unversioned definitions for it. */
    if (!name || (handle == RTLD_DEFAULT && !version) || !fs_dl.self || !fs_dl.dlsym ||
        !fs_dl.dlvsym)
        return NATIVE;
    void *own = fs_dl_own(name);
    if (FS_LIKELY(!own))
        return NATIVE;
    int saved = errno;
    /* The function the shim's interposer calls: the definition after the shim.  For dlvsym, the
     * requested version after the shim must be that very function (pthread_cond_wait@GLIBC_2.2.5
     * is another, older one, which the interposer does not implement). */
    void *wrapped = fs_dl.dlsym(RTLD_NEXT, name);
    if (version && wrapped && fs_dl.dlvsym(RTLD_NEXT, name, version) != wrapped)
        wrapped = NULL;
    if (handle == RTLD_NEXT) {
        /* glibc searches the modules after the caller's (passing over the shim for a versioned
         * lookup); their symbol tables say which one defines the name first.  The successful
         * lookup of `wrapped` above has left dlerror() clear, as glibc's own would. */
        struct link_map *m = map_of(caller);
        void *r = NULL;
        if (m && (version || !shim_follows(m)))
            r = fs_dl_next_definition(m, name, version != NULL);
        errno = saved;
        /* Anything else is glibc's to answer, exactly. */
        return r && r == wrapped ? own : NATIVE;
    }
    /* A library handle, or a versioned lookup in the global scope: the caller's address plays no
     * part in glibc's answer (the global scope is the same for every module of the main
     * namespace), so this call's result, dlerror() state and errno are the caller's. */
    errno = saved;
    void *r = real_lookup(handle, name, version);
    return r && r == wrapped ? own : r;
}

void *dlsym(void *handle, const char *name)
{
    void *r = lookup(handle, name, NULL, __builtin_return_address(0));
    if (FS_LIKELY(r == NATIVE))
        return fs_dl.dlsym(handle, name); /* a jump: glibc sees our caller */
    return r;
}

void *dlvsym(void *handle, const char *name, const char *version)
{
    void *r = lookup(handle, name, version, __builtin_return_address(0));
    if (FS_LIKELY(r == NATIVE))
        return fs_dl.dlvsym(handle, name, version);
    return r;
}
