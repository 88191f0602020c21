/* Unit tests for preload/libc_dl.c: finding the C library's dlsym/dlvsym and the next definition
 * of a name after a module by reading the modules' symbol tables.  The recorder is linked into
 * this test program, which interposes nothing, so its own references to dlsym, dlvsym and getpid
 * are the C library's: the lookups must agree with them. */
#include "shim.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static struct link_map *map_of(const void *addr)
{
    Dl_info info;
    void *map = NULL;
    cr_assert_neq(dladdr1(addr, &info, &map, RTLD_DL_LINKMAP), 0, "dladdr1 failed");
    return map;
}

Test(libc_dl, finds_the_c_librarys_dlsym_and_dlvsym)
{
    fs_dl_resolve();
    cr_assert_eq(fs_dl.ready, 1);
    cr_assert_eq((void *)fs_dl.dlsym, (void *)&dlsym);
    cr_assert_eq((void *)fs_dl.dlvsym, (void *)&dlvsym);
    cr_assert_not_null(fs_dl.self);
    cr_assert_eq(fs_dl.dlsym(RTLD_DEFAULT, "getpid"), (void *)&getpid);
    fs_dl_resolve(); /* idempotent */
    cr_assert_eq((void *)fs_dl.dlsym, (void *)&dlsym);
}

Test(libc_dl, next_definition_follows_load_order)
{
    fs_dl_resolve();
    struct link_map *main_map = map_of((void *)&map_of);
    struct link_map *libc_map = map_of((void *)&getpid);
    cr_assert_neq(main_map, libc_map);
    /* After the program: the C library's getpid, as dlsym(RTLD_NEXT) from the program finds. */
    cr_assert_eq(fs_dl_next_definition(main_map, "getpid", 0), (void *)&getpid);
    cr_assert_eq(fs_dl_next_definition(main_map, "getpid", 0), dlsym(RTLD_NEXT, "getpid"));
    cr_assert_null(fs_dl_next_definition(main_map, "forksan_no_such_symbol", 0));
    /* Nothing after the C library defines getpid (only the dynamic linker may follow it). */
    cr_assert_null(fs_dl_next_definition(libc_map, "getpid", 0));
}

/* The lookups read symbol tables only: a pending dlerror() stays as it was. */
Test(libc_dl, next_definition_leaves_dlerror_alone)
{
    fs_dl_resolve();
    (void)dlerror();
    cr_assert_null(dlsym(RTLD_DEFAULT, "forksan_no_such_symbol"));
    (void)fs_dl_next_definition(map_of((void *)&map_of), "getpid", 0);
    (void)fs_dl_own("getpid");
    const char *e = dlerror();
    cr_assert_not_null(e, "the pending error was cleared");
    cr_assert_not_null(strstr(e, "forksan_no_such_symbol"), "%s", e);
}
