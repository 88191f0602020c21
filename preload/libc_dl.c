/* The C library's own dlsym and dlvsym, and the shim's own exported definitions, found without
 * asking the dynamic linker by name.
 *
 * The shim interposes dlsym and dlvsym (hooks_dl.c), so any reference to them from inside
 * libforksan.so binds to the interposers again: the dynamic linker lets an unversioned
 * definition in a preloaded library satisfy even a versioned reference such as
 * dlsym@GLIBC_2.34.  So the real ones are read from the C library's dynamic symbol table
 * (DT_GNU_HASH lookup, default version), found with dl_iterate_phdr, once.  The same lookup in
 * the shim's own table tells whether a name is one the shim interposes, and at which address, and
 * in the tables of the modules after a caller's, where its RTLD_NEXT would lead.
 * Idempotent: two threads racing here store the same values. */
#include "shim.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

FS_HIDDEN struct fs_dl fs_dl;

/* A module's dynamic symbol table, enough for GNU-hash lookups. */
struct elf_syms {
    uintptr_t base;
    const ElfW(Sym) * symtab;
    const char *strtab;
    const uint32_t *gnu_hash;
    const ElfW(Half) * versym; /* NULL when the module has no symbol versions */
};

static struct elf_syms self_syms;

/* glibc rewrites these pointers to absolute addresses in memory on most targets; where the
 * dynamic section is read-only (RISC-V, MIPS) they stay relative to the load base. */
static uintptr_t dyn_ptr(uintptr_t base, uintptr_t p)
{
    return p < base ? p + base : p;
}

static int syms_init(struct elf_syms *s, const struct dl_phdr_info *info)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return -1;
    uintptr_t base = info->dlpi_addr;
    *s = (struct elf_syms){.base = base};
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = dyn_ptr(base, dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            s->symtab = (const ElfW(Sym) *)p;
            break;
        case DT_STRTAB:
            s->strtab = (const char *)p;
            break;
        case DT_GNU_HASH:
            s->gnu_hash = (const uint32_t *)p;
            break;
        case DT_VERSYM:
            s->versym = (const ElfW(Half) *)p;
            break;
        default:
            break;
        }
    }
    return s->symtab && s->strtab && s->gnu_hash ? 0 : -1;
}

/* The address of the default-version definition of name in the module, or NULL. */
static void *syms_lookup(const struct elf_syms *s, const char *name)
{
    if (!s->gnu_hash)
        return NULL;
    uint32_t h = 5381;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = h * 33 + *c;
    const uint32_t nbuckets = s->gnu_hash[0], symoffset = s->gnu_hash[1],
                   bloom_size = s->gnu_hash[2], bloom_shift = s->gnu_hash[3];
    if (!nbuckets || !bloom_size)
        return NULL;
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)&s->gnu_hash[4];
    const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
    const uint32_t *chain = &buckets[nbuckets];
    const unsigned bits = sizeof(ElfW(Addr)) * 8;
    ElfW(Addr) word = bloom[(h / bits) % bloom_size];
    ElfW(Addr) mask =
        ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> bloom_shift) % bits));
    if ((word & mask) != mask)
        return NULL;
    uint32_t i = buckets[h % nbuckets];
    if (i < symoffset)
        return NULL;
    for (;; i++) {
        uint32_t h2 = chain[i - symoffset];
        const ElfW(Sym) *sym = &s->symtab[i];
        if ((h | 1) == (h2 | 1) && sym->st_shndx != SHN_UNDEF && sym->st_value &&
            strcmp(name, s->strtab + sym->st_name) == 0 &&
            (!s->versym || !(s->versym[i] & 0x8000))) /* 0x8000: a hidden, non-default version */
            return (void *)(s->base + sym->st_value);
        if (h2 & 1)
            return NULL;
    }
}

static int contains(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz)
            return 1;
    }
    return 0;
}

/* libc.so.6 (glibc >= 2.34) or libdl.so.2 (before): where dlsym lives. */
static int is_dl_provider(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so.", 8) == 0 || strncmp(base, "libdl.so.", 9) == 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    struct elf_syms s;
    if (contains(info, (uintptr_t)&module_cb)) {
        if (syms_init(&s, info) == 0)
            self_syms = s;
        return 0;
    }
    if (!info->dlpi_name || !is_dl_provider(info->dlpi_name) || syms_init(&s, info) != 0)
        return 0;
    void *sym = syms_lookup(&s, "dlsym"), *vsym = syms_lookup(&s, "dlvsym");
    if (sym && !fs_dl.dlsym)
        fs_dl.dlsym = (void *(*)(void *, const char *))sym;
    if (vsym && !fs_dl.dlvsym)
        fs_dl.dlvsym = (void *(*)(void *, const char *, const char *))vsym;
    return 0;
}

void fs_dl_resolve(void)
{
    if (__atomic_load_n(&fs_dl.ready, __ATOMIC_ACQUIRE))
        return;
    dl_iterate_phdr(module_cb, NULL);
    Dl_info info;
    void *map = NULL;
    if (dladdr1((void *)&fs_dl_resolve, &info, &map, RTLD_DL_LINKMAP))
        fs_dl.self = map;
    if (!fs_dl.dlsym || !fs_dl.dlvsym)
        fs_complain("cannot find the C library's dlsym/dlvsym: dlsym lookups are not traced");
    __atomic_store_n(&fs_dl.ready, 1, __ATOMIC_RELEASE);
}

void *fs_dl_own(const char *name)
{
    return syms_lookup(&self_syms, name);
}

struct next_ctx {
    uintptr_t caller_base;
    const char *caller_name;
    const char *name;
    int skip_self;
    int past_caller;
    void *found;
};

static int next_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct next_ctx *c = data;
    if (!c->past_caller) {
        /* dl_iterate_phdr hands out each link_map's own l_addr and l_name. */
        c->past_caller = info->dlpi_addr == c->caller_base && info->dlpi_name &&
                         strcmp(info->dlpi_name, c->caller_name) == 0;
        return 0;
    }
    struct elf_syms s;
    if (c->skip_self && contains(info, (uintptr_t)&module_cb))
        return 0;
    if (syms_init(&s, info) == 0)
        c->found = syms_lookup(&s, c->name);
    return c->found != NULL;
}

void *fs_dl_next_definition(const struct link_map *caller, const char *name, int skip_self)
{
    struct next_ctx c = {.caller_base = caller->l_addr,
                         .caller_name = caller->l_name ? caller->l_name : "",
                         .name = name,
                         .skip_self = skip_self};
    dl_iterate_phdr(next_cb, &c);
    return c.found;
}
