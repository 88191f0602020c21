/* A library the dl_exact test links with, loaded after the shim: its RTLD_NEXT lookups are made
 * from its own code, so glibc measures "next" from this module.  dl_peer_hook is also defined by
 * dl_peer2.c, loaded after it: RTLD_NEXT from here must find that one. */
#include <dlfcn.h>

void *dl_peer_next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void *dl_peer_vnext(const char *name, const char *version)
{
    return dlvsym(RTLD_NEXT, name, version);
}

int dl_peer_hook(void)
{
    return 1;
}
