/* Unit tests of the offline symbolizer: the test program records its own module map the way the
 * shim does (dl_iterate_phdr, load bias, build-id) and return addresses at known lines, then checks
 * that symbolize.c gets function, file and line back, inlined frames included, and that missing
 * files, changed build-ids, files without debug info and stray addresses degrade as documented. */
/* model.h names this type in a prototype without declaring it. */
struct fs_trace_file;
#include "diag.h"
#include "symbolize.h"

#include <criterion/criterion.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SELF       "/proc/self/exe"
#define GONE_PATH  "/nonexistent/forksan-test/libgone.so"
#define FAKE_BUILD "00112233445566778899aabbccddeeff00112233"

/* GCC's noipa: no inter-procedural analysis and no clone renaming the function.  Clang has no
 * such attribute (and does not clone noinline functions). */
#ifdef __clang__
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noinline, noipa))
#endif

/* noipa: a real call whose return address lands in the caller, and no clone renaming it. */
static NOIPA uint64_t grab_pc(void)
{
    return (uint64_t)__builtin_return_address(0);
}

/* The empty asm after each call keeps it from becoming a tail call, which would return elsewhere.
 */
static NOIPA uint64_t call_site(int *line)
{
    uint64_t pc = (*line = __LINE__, grab_pc());
    __asm__ volatile("" ::: "memory");
    return pc;
}

static inline __attribute__((always_inline)) uint64_t inl_helper(int *line)
{
    uint64_t pc = (*line = __LINE__, grab_pc());
    __asm__ volatile("" ::: "memory");
    return pc;
}

static NOIPA uint64_t inl_caller(int *inner, int *outer)
{
    uint64_t pc = (*outer = __LINE__, inl_helper(inner));
    __asm__ volatile("" ::: "memory");
    return pc;
}

static struct fs_modmap self_map;
static size_t self_main; /* index of the main program in self_map */

static char *note_buildid(const struct dl_phdr_info *info, const ElfW(Phdr) * ph)
{
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    const char *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        const char *name = p + sizeof *nh;
        const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
            char *hex = fs_xcalloc(nh->n_descsz * 2 + 1, 1);
            for (unsigned i = 0; i < nh->n_descsz; i++)
                sprintf(hex + 2 * i, "%02x", desc[i]);
            return hex;
        }
        p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
    }
    return NULL;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct fs_modmap *mm = data;
    uint64_t lo = UINT64_MAX, hi = 0;
    char *buildid = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uint64_t a = info->dlpi_addr + ph->p_vaddr;
            if (a < lo)
                lo = a;
            if (a + ph->p_memsz > hi)
                hi = a + ph->p_memsz;
        } else if (ph->p_type == PT_NOTE && !buildid) {
            buildid = note_buildid(info, ph);
        }
    }
    if (hi == 0) {
        free(buildid);
        return 0;
    }
    mm->mods = fs_xrealloc(mm->mods, mm->n + 1, sizeof *mm->mods);
    struct fs_module *m = &mm->mods[mm->n];
    m->start = lo;
    m->end = hi;
    m->bias = info->dlpi_addr;
    m->buildid = buildid ? buildid : fs_xstrdup("");
    /* The first entry is the main program, whose dlpi_name is empty. */
    if (mm->n == 0) {
        m->path = fs_xstrdup(SELF);
        self_main = mm->n;
    } else {
        m->path = fs_xstrdup(info->dlpi_name);
    }
    mm->n++;
    return 0;
}

static void setup(void)
{
    /* Stay offline whatever the environment says about debuginfod servers. */
    unsetenv("DEBUGINFOD_URLS");
    dl_iterate_phdr(phdr_cb, &self_map);
    cr_assert_gt(self_map.n, 0);
    cr_assert_neq(self_map.mods[self_main].buildid[0], '\0', "the test binary has no build-id");
}

TestSuite(symbolize, .init = setup);

static void stack_clear(struct fs_stack *s)
{
    for (size_t i = 0; i < s->nframes; i++) {
        free(s->frames[i].function);
        free(s->frames[i].file);
        free(s->frames[i].module);
    }
    free(s->frames);
    memset(s, 0, sizeof *s);
}

static struct fs_modmap map_copy(const struct fs_modmap *src)
{
    struct fs_modmap mm = {.mods = fs_xcalloc(src->n, sizeof *mm.mods), .n = src->n};
    for (size_t i = 0; i < src->n; i++) {
        mm.mods[i] = src->mods[i];
        mm.mods[i].path = fs_xstrdup(src->mods[i].path);
        mm.mods[i].buildid = fs_xstrdup(src->mods[i].buildid);
    }
    return mm;
}

static void map_release(struct fs_modmap *mm)
{
    for (size_t i = 0; i < mm->n; i++) {
        free(mm->mods[i].path);
        free(mm->mods[i].buildid);
    }
    free(mm->mods);
}

/* Runs the symbolizer with stderr sent to a file; returns what it printed. */
static char *symbolize_quoted(struct fs_symbolizer *sym, const struct fs_modmap *mm,
                              const uint64_t *pcs, size_t n, struct fs_stack *out)
{
    FILE *tmp = tmpfile();
    cr_assert_not_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    cr_assert_geq(saved, 0);
    cr_assert_geq(dup2(fileno(tmp), 2), 0);
    fs_symbolize(sym, mm, pcs, n, out);
    fflush(stderr);
    cr_assert_geq(dup2(saved, 2), 0);
    close(saved);
    long len = ftell(tmp);
    cr_assert_geq(len, 0);
    rewind(tmp);
    char *text = fs_xcalloc((size_t)len + 1, 1);
    cr_assert_eq(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void assert_at(const struct fs_frame *fr, const char *fn, int line, bool inlined)
{
    cr_assert_str_eq(fr->function ? fr->function : "(null)", fn);
    cr_assert_not_null(fr->file, "%s: no file", fn);
    cr_assert_str_eq(basename(fr->file), "test_symbolize.c");
    cr_assert_eq(fr->line, line, "%s: line %d, expected %d", fn, fr->line, line);
    cr_assert_eq(fr->inlined, inlined, "%s: inlined=%d", fn, fr->inlined);
}

Test(symbolize, plain_call_gives_function_file_and_line)
{
    int line = 0;
    uint64_t pc = call_site(&line);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    char *err = symbolize_quoted(sym, &self_map, &pc, 1, &st);
    cr_assert_eq(st.nframes, 1, "got %zu frames", st.nframes);
    const struct fs_frame *fr = &st.frames[0];
    assert_at(fr, "call_site", line, false);
    cr_assert_eq(fr->pc, pc, "pc must stay as recorded");
    cr_assert_str_eq(fr->module, SELF);
    cr_assert_eq(fr->offset, pc - self_map.mods[self_main].bias);
    cr_assert_gt(fr->fn_off, 0);
    cr_assert_lt(fr->fn_off, 4096);
    cr_assert_str_eq(err, "", "unexpected warnings: %s", err);
    free(err);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, inlined_frames_come_first_with_call_sites)
{
    int inner = 0, outer = 0;
    uint64_t pc = inl_caller(&inner, &outer);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    fs_symbolize(sym, &self_map, &pc, 1, &st);
    cr_assert_eq(st.nframes, 2, "got %zu frames", st.nframes);
    assert_at(&st.frames[0], "inl_helper", inner, true);
    assert_at(&st.frames[1], "inl_caller", outer, false);
    for (size_t i = 0; i < st.nframes; i++) {
        cr_assert_eq(st.frames[i].pc, pc);
        cr_assert_str_eq(st.frames[i].module, SELF);
    }
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, several_addresses_and_a_cached_session_agree)
{
    int l1 = 0, inner = 0, outer = 0;
    uint64_t pcs[2] = {call_site(&l1), inl_caller(&inner, &outer)};
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack a = {0}, b = {0};
    fs_symbolize(sym, &self_map, pcs, 2, &a);
    /* Same content at another address: another process of the same run. */
    struct fs_modmap again = map_copy(&self_map);
    fs_symbolize(sym, &again, pcs, 2, &b);
    cr_assert_eq(a.nframes, 3);
    cr_assert_eq(b.nframes, 3);
    assert_at(&a.frames[0], "call_site", l1, false);
    assert_at(&a.frames[1], "inl_helper", inner, true);
    assert_at(&a.frames[2], "inl_caller", outer, false);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_str_eq(a.frames[i].function, b.frames[i].function);
        cr_assert_eq(a.frames[i].line, b.frames[i].line);
        cr_assert_eq(a.frames[i].pc, b.frames[i].pc);
    }
    map_release(&again);
    stack_clear(&a);
    stack_clear(&b);
    fs_symbolizer_free(sym);
}

Test(symbolize, zero_addresses_add_nothing)
{
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    fs_symbolize(sym, &self_map, NULL, 0, &st);
    cr_assert_eq(st.nframes, 0);
    fs_symbolizer_free(sym);
}

Test(symbolize, missing_file_keeps_module_and_offset)
{
    struct fs_module gone = {0x100000, 0x200000, 0x100000, (char *)"", (char *)GONE_PATH};
    struct fs_modmap mm = {.mods = &gone, .n = 1};
    uint64_t pcs[2] = {0x101234, 0x105678};
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    char *err = symbolize_quoted(sym, &mm, pcs, 2, &st);
    cr_assert_eq(st.nframes, 2);
    cr_assert_str_eq(st.frames[0].module, GONE_PATH);
    cr_assert_eq(st.frames[0].offset, 0x1234);
    cr_assert_eq(st.frames[0].pc, 0x101234);
    cr_assert_null(st.frames[0].function);
    cr_assert_null(st.frames[0].file);
    cr_assert_eq(st.frames[0].line, 0);
    cr_assert_eq(st.frames[1].offset, 0x5678);
    const char *want = "forksan: " GONE_PATH ": cannot open (No such file or directory); its "
                       "frames are shown as offsets\n";
    cr_assert_eq(count_of(err, want), 1, "stderr was: %s", err);
    cr_assert_eq(count_of(err, "forksan: "), 1, "stderr was: %s", err);
    free(err);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, changed_build_id_gives_offsets_only)
{
    int line = 0;
    uint64_t pc = call_site(&line);
    struct fs_modmap mm = map_copy(&self_map);
    free(mm.mods[self_main].buildid);
    mm.mods[self_main].buildid = fs_xstrdup(FAKE_BUILD);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    uint64_t pcs[2] = {pc, pc};
    char *err = symbolize_quoted(sym, &mm, pcs, 2, &st);
    cr_assert_eq(st.nframes, 2);
    cr_assert_str_eq(st.frames[0].module, SELF);
    cr_assert_eq(st.frames[0].offset, pc - mm.mods[self_main].bias);
    cr_assert_null(st.frames[0].function);
    cr_assert_null(st.frames[0].file);
    cr_assert_eq(st.frames[0].line, 0);
    const char *want = "forksan: " SELF ": build-id differs from the one recorded (the file "
                       "changed since the run); its frames are shown as offsets\n";
    cr_assert_eq(count_of(err, want), 1, "stderr was: %s", err);
    free(err);
    map_release(&mm);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, unknown_build_id_is_not_checked)
{
    int line = 0;
    uint64_t pc = call_site(&line);
    struct fs_modmap mm = map_copy(&self_map);
    free(mm.mods[self_main].buildid);
    mm.mods[self_main].buildid = fs_xstrdup("");
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    fs_symbolize(sym, &mm, &pc, 1, &st);
    cr_assert_eq(st.nframes, 1);
    assert_at(&st.frames[0], "call_site", line, false);
    map_release(&mm);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, address_in_no_module_keeps_only_pc)
{
    uint64_t pc = 0x10;
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    char *err = symbolize_quoted(sym, &self_map, &pc, 1, &st);
    cr_assert_eq(st.nframes, 1);
    cr_assert_eq(st.frames[0].pc, 0x10);
    cr_assert_null(st.frames[0].module);
    cr_assert_null(st.frames[0].function);
    cr_assert_null(st.frames[0].file);
    cr_assert_str_eq(err, "");
    free(err);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, vdso_frames_name_the_module_only)
{
    const struct fs_module *vdso = NULL;
    for (size_t i = 0; i < self_map.n; i++)
        if (strstr(self_map.mods[i].path, "vdso"))
            vdso = &self_map.mods[i];
    if (!vdso)
        cr_skip_test("no vDSO in this process");
    uint64_t pc = vdso->start + 0x10;
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    char *err = symbolize_quoted(sym, &self_map, &pc, 1, &st);
    cr_assert_eq(st.nframes, 1);
    cr_assert_str_eq(st.frames[0].module, vdso->path);
    cr_assert_eq(st.frames[0].offset, pc - vdso->bias);
    cr_assert_null(st.frames[0].function);
    cr_assert_str_eq(err, "", "stderr was: %s", err);
    free(err);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}

Test(symbolize, file_without_debug_info_still_names_functions)
{
    char path[] = "/tmp/forksan-nodebug-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    /* objcopy's own /proc/self/exe is objcopy: name this program by its real path. */
    char self[4096];
    ssize_t len = readlink(SELF, self, sizeof self - 1);
    cr_assert_gt(len, 0);
    self[len] = '\0';
    char *cmd = fs_xasprintf("objcopy --strip-debug '%s' %s 2>/dev/null", self, path);
    int rc = system(cmd);
    free(cmd);
    if (rc != 0) {
        unlink(path);
        cr_skip_test("objcopy --strip-debug failed (rc %d)", rc);
    }
    int line = 0;
    uint64_t pc = call_site(&line);
    struct fs_modmap mm = map_copy(&self_map);
    free(mm.mods[self_main].path);
    mm.mods[self_main].path = fs_xstrdup(path);
    struct fs_symbolizer *sym = fs_symbolizer_new();
    struct fs_stack st = {0};
    char *err = symbolize_quoted(sym, &mm, &pc, 1, &st);
    unlink(path);
    cr_assert_eq(st.nframes, 1);
    cr_assert_str_eq(st.frames[0].function ? st.frames[0].function : "(null)", "call_site",
                     "stderr was: %s", err);
    cr_assert_gt(st.frames[0].fn_off, 0);
    cr_assert_null(st.frames[0].file);
    cr_assert_eq(st.frames[0].line, 0);
    char *want = fs_xasprintf("forksan: %s: no debug info (install its debug symbols or build "
                              "with -g); frames show function names only\n",
                              path);
    cr_assert_eq(count_of(err, want), 1, "stderr was: %s", err);
    free(want);
    free(err);
    map_release(&mm);
    stack_clear(&st);
    fs_symbolizer_free(sym);
}
