/* Offline symbolizer: turns recorded return addresses into frames (function, file:line, inlined
 * frames) with elfutils libdwfl, from the module map a trace recorded, without the process.  Each
 * module file is opened once per symbolizer in a Dwfl session of its own, laid out at its
 * link-time addresses; a recorded address is translated with the recorded load bias before the
 * lookup.  So all processes of a run share one open file and one parsed DWARF per library, even
 * when ASLR placed it differently in each of them. */
/* model.h names this type in a prototype without declaring it. */
struct fs_trace_file;
#include "symbolize.h"

#include "diag.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* What we know about one module file; filled when a frame first needs it. */
struct sym_file {
    char *path;
    Dwfl *dwfl;        /* NULL when the file could not be opened */
    Dwfl_Module *mod;  /* the only module of dwfl */
    char *open_error;  /* why dwfl is NULL */
    char *buildid;     /* the file's own build-id in hex, "" when it has none */
    bool dwarf_probed; /* has_dwarf is known */
    bool has_dwarf;
    /* Address ranges of every compile unit, read once when libdw's own lookup fails: clang
     * writes no .debug_aranges, and elfutils before 0.191 finds no unit without them. */
    struct cu_range *ranges;
    size_t nranges;
    bool ranges_read;
};

struct cu_range {
    Dwarf_Addr lo, hi; /* module addresses, bias applied */
    Dwarf_Addr bias;
    Dwarf_Die cu;
};

struct fs_symbolizer {
    struct sym_file *files;
    size_t nfiles;
    size_t last; /* index of the file used last: consecutive frames often share a module */
};

/* libdwfl keeps a pointer to the search path; NULL means its default (/usr/lib/debug). */
static char *debuginfo_path;

/* An existing path that is not a regular file (a FIFO would block the open, a device could act
 * on it).  Paths come from traces, which the traced program can plant. */
static bool exists_not_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* libdwfl's standard search opens the .gnu_debuglink name next to the module, in its .debug/
 * and under /usr/lib/debug, with a plain open().  The module's directory comes from the trace:
 * refuse the search when one of those names is planted as anything but a regular file. */
static int safe_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                               GElf_Addr base, const char *file_name, const char *debuglink_file,
                               GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    if (file_name && debuglink_file && !strchr(debuglink_file, '/')) {
        const char *slash = strrchr(file_name, '/');
        int dirlen = slash ? (int)(slash - file_name) : 1;
        const char *dir = slash ? file_name : ".";
        const char *forms[] = {"%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s"};
        for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
            char *cand = fs_xasprintf(forms[i], dirlen, dir, debuglink_file);
            bool bad = exists_not_regular(cand);
            if (bad)
                fs_warn_once(cand, "%s is not a regular file: debug information for %s not read",
                             cand, file_name);
            free(cand);
            if (bad)
                return -1;
        }
    }
    return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                        debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = safe_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

struct fs_symbolizer *fs_symbolizer_new(void)
{
    return fs_xcalloc(1, sizeof(struct fs_symbolizer));
}

void fs_symbolizer_free(struct fs_symbolizer *sym)
{
    if (!sym)
        return;
    for (size_t i = 0; i < sym->nfiles; i++) {
        struct sym_file *f = &sym->files[i];
        if (f->dwfl)
            dwfl_end(f->dwfl);
        free(f->path);
        free(f->open_error);
        free(f->buildid);
        free(f->ranges);
    }
    free(sym->files);
    free(sym);
}

static char *hex_of(const unsigned char *bits, int len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = fs_xcalloc((size_t)len * 2 + 1, 1);
    for (int i = 0; i < len; i++) {
        s[2 * i] = digits[bits[i] >> 4];
        s[2 * i + 1] = digits[bits[i] & 0xf];
    }
    return s;
}

/* Opens the file in a session where it sits at its link-time addresses (bias 0).  ET_EXEC files
 * ignore the base anyway, and ET_DYN files then need only "pc - recorded bias". */
static void file_open(struct sym_file *f)
{
    /* Opening it ourselves gives the real errno for the message; libdwfl owns fd on success.
     * The path comes from a trace: only a regular file is opened (stat first, so that a device
     * is never opened at all; O_NONBLOCK and fstat against a swap in between). */
    struct stat st, fst;
    if (stat(f->path, &st) < 0) {
        f->open_error = fs_xstrdup(strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        f->open_error = fs_xstrdup("not a regular file");
        return;
    }
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        f->open_error = fs_xstrdup(strerror(errno));
        return;
    }
    if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino ||
        fst.st_dev != st.st_dev) {
        f->open_error = fs_xstrdup("not a regular file");
        close(fd);
        return;
    }
    Dwfl *dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl) {
        f->open_error = fs_xstrdup(dwfl_errmsg(-1));
        close(fd);
        return;
    }
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_elf(dwfl, f->path, f->path, fd, 0, true);
    if (!mod) {
        f->open_error = fs_xstrdup(dwfl_errmsg(-1));
        close(fd);
        dwfl_end(dwfl);
        return;
    }
    if (dwfl_report_end(dwfl, NULL, NULL) != 0) {
        f->open_error = fs_xstrdup(dwfl_errmsg(-1));
        dwfl_end(dwfl); /* fd belongs to the module now */
        return;
    }
    f->dwfl = dwfl;
    f->mod = mod;
    const unsigned char *bits;
    GElf_Addr id_vaddr;
    int len = dwfl_module_build_id(mod, &bits, &id_vaddr);
    f->buildid = len > 0 ? hex_of(bits, len) : fs_xstrdup("");
}

static struct sym_file *file_get(struct fs_symbolizer *sym, const char *path)
{
    if (sym->last < sym->nfiles && strcmp(sym->files[sym->last].path, path) == 0)
        return &sym->files[sym->last];
    for (size_t i = 0; i < sym->nfiles; i++)
        if (strcmp(sym->files[i].path, path) == 0) {
            sym->last = i;
            return &sym->files[i];
        }
    sym->files = fs_xrealloc(sym->files, sym->nfiles + 1, sizeof *sym->files);
    struct sym_file *f = &sym->files[sym->nfiles];
    memset(f, 0, sizeof *f);
    f->path = fs_xstrdup(path);
    sym->last = sym->nfiles++;
    file_open(f);
    return f;
}

static bool file_has_dwarf(struct sym_file *f)
{
    if (!f->dwarf_probed) {
        Dwarf_Addr bias;
        f->has_dwarf = dwfl_module_getdwarf(f->mod, &bias) != NULL;
        f->dwarf_probed = true;
    }
    return f->has_dwarf;
}

/* The vDSO has no file to read; some recorders leave its name empty. */
static bool is_pseudo_module(const char *path)
{
    if (path[0] == '\0' || path[0] == '[')
        return true;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "linux-vdso.so", 13) == 0 || strncmp(base, "linux-gate.so", 13) == 0;
}

/* Later records replace earlier ones (trace-format.md), hence the backwards search. */
static const struct fs_module *module_of(const struct fs_modmap *mods, uint64_t addr)
{
    if (!mods)
        return NULL;
    if (mods->by_start) {
        /* The module with the highest start at or below addr; should recorded ranges overlap
         * (they do not in a real process), a few lower starts are tried too. */
        size_t lo = 0, hi = mods->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (mods->mods[mods->by_start[mid]].start <= addr)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo, tries = 0; k-- > 0 && tries < 16; tries++) {
            const struct fs_module *m = &mods->mods[mods->by_start[k]];
            if (addr >= m->start && addr < m->end)
                return m;
        }
        return NULL;
    }
    for (size_t i = mods->n; i-- > 0;) {
        const struct fs_module *m = &mods->mods[i];
        if (addr >= m->start && addr < m->end)
            return m;
    }
    return NULL;
}

/* The linkage name first, as elfutils' tools do: it is the name the ELF symbol table uses too. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name =
        dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr)
                             ?: dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    return name ? name : dwarf_diename(die);
}

static bool is_function_tag(int tag)
{
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

/* A frame with the module part filled; the caller adds what the debug info tells. */
static struct fs_frame *frame_add(struct fs_stack *out, uint64_t pc, const struct fs_module *m)
{
    struct fs_frame *fr = fs_stack_frame_add(out);
    fr->pc = pc;
    if (m) {
        fr->module = fs_xstrdup(m->path);
        fr->offset = pc - m->bias;
    }
    return fr;
}

/* Where the inlined subroutine `inl` was called from: its DW_AT_call_* attributes, with the file
 * index resolved in the file table of the unit holding it. */
static void set_call_site(struct fs_frame *fr, Dwarf_Die *inl)
{
    Dwarf_Attribute attr;
    Dwarf_Word val;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &val) == 0)
        fr->line = (int)val;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_column, &attr), &val) == 0)
        fr->column = (int)val;
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &val) == 0 &&
        dwarf_diecu(inl, &cu, NULL, NULL) && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 &&
        val < nfiles) {
        const char *src = dwarf_filesrc(files, val, NULL, NULL);
        if (src)
            fr->file = fs_xstrdup(src);
    }
}

/* Distance from the start of the function a DIE describes, when its entry is before pc. */
static bool die_fn_off(Dwarf_Die *die, uint64_t file_pc, Dwarf_Addr dwbias, uint64_t *off)
{
    Dwarf_Addr entry;
    if (dwarf_entrypc(die, &entry) != 0)
        return false;
    entry += dwbias;
    if (entry > file_pc)
        return false;
    *off = file_pc - entry;
    return true;
}

static void read_cu_ranges(struct sym_file *f)
{
    f->ranges_read = true;
    size_t cap = 0;
    Dwarf_Addr bias = 0;
    for (Dwarf_Die *cu = dwfl_module_nextcu(f->mod, NULL, &bias); cu;
         cu = dwfl_module_nextcu(f->mod, cu, &bias)) {
        Dwarf_Addr base, start, end;
        for (ptrdiff_t off = 0; (off = dwarf_ranges(cu, off, &base, &start, &end)) > 0;) {
            if (start >= end)
                continue;
            if (f->nranges == cap) {
                cap = cap ? 2 * cap : 16;
                f->ranges = fs_xrealloc(f->ranges, cap, sizeof *f->ranges);
            }
            f->ranges[f->nranges++] = (struct cu_range){start + bias, end + bias, bias, *cu};
        }
    }
}

/* The compile unit holding a module address, and the bias of its DWARF addresses. */
static Dwarf_Die *cu_at(struct sym_file *f, uint64_t lookup, Dwarf_Addr *dwbias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(f->mod, lookup, dwbias);
    if (cu)
        return cu;
    if (!f->ranges_read)
        read_cu_ranges(f);
    for (size_t i = 0; i < f->nranges; i++)
        if (lookup >= f->ranges[i].lo && lookup < f->ranges[i].hi) {
            *dwbias = f->ranges[i].bias;
            return &f->ranges[i].cu;
        }
    return NULL;
}

/* The source line of a module address: libdwfl's lookup, else the line table of the unit cu_at
 * found.  Returns the file name (owned by libdw), or NULL. */
static const char *line_at(struct sym_file *f, uint64_t lookup, int *line, int *col)
{
    Dwfl_Line *lineobj = dwfl_module_getsrc(f->mod, lookup);
    if (lineobj)
        return dwfl_lineinfo(lineobj, NULL, line, col, NULL, NULL);
    Dwarf_Addr dwbias = 0;
    Dwarf_Die *cu = cu_at(f, lookup, &dwbias);
    Dwarf_Line *dl = cu ? dwarf_getsrc_die(cu, lookup - dwbias) : NULL;
    if (!dl)
        return NULL;
    if (dwarf_lineno(dl, line) != 0)
        *line = 0;
    if (dwarf_linecol(dl, col) != 0)
        *col = 0;
    return dwarf_linesrc(dl, NULL, NULL);
}

/* Frames from DWARF scopes: the innermost function-like DIE at the address, then every function
 * it was inlined into, up to the real subprogram.  Returns false when DWARF knows no function
 * here, leaving `out` untouched. */
static bool dwarf_frames(struct sym_file *f, uint64_t lookup, uint64_t file_pc, uint64_t pc,
                         const struct fs_module *m, const char *symname, uint64_t sym_off,
                         struct fs_stack *out)
{
    Dwarf_Addr dwbias = 0;
    Dwarf_Die *cudie = cu_at(f, lookup, &dwbias);
    if (!cudie)
        return false;
    Dwarf_Die *scopes = NULL;
    int nscopes = dwarf_getscopes(cudie, lookup - dwbias, &scopes);
    Dwarf_Die *inner = NULL;
    for (int i = 0; i < nscopes && !inner; i++)
        if (is_function_tag(dwarf_tag(&scopes[i])))
            inner = &scopes[i];
    if (!inner) {
        free(scopes);
        return false;
    }
    /* dwarf_getscopes continues into the abstract origin of an inlined instance; the chain of
     * concrete DIEs that contain it is what tells who inlined whom. */
    Dwarf_Die *chain = NULL;
    int nchain = dwarf_getscopes_die(inner, &chain);
    if (nchain <= 0) {
        free(chain);
        chain = fs_xcalloc(1, sizeof *chain);
        chain[0] = *inner;
        nchain = 1;
    }
    free(scopes);

    int line = 0, col = 0;
    const char *src = line_at(f, lookup, &line, &col);
    Dwarf_Die *callee = NULL; /* the inlined DIE whose call site locates the next frame */
    for (int i = 0; i < nchain; i++) {
        Dwarf_Die *die = &chain[i];
        int tag = dwarf_tag(die);
        if (!is_function_tag(tag))
            continue;
        struct fs_frame *fr = frame_add(out, pc, m);
        fr->inlined = tag == DW_TAG_inlined_subroutine;
        const char *name = die_name(die);
        bool outermost = !fr->inlined;
        if (!name && outermost)
            name = symname;
        if (name)
            fr->function = fs_xstrdup(name);
        if (!die_fn_off(die, file_pc, dwbias, &fr->fn_off) && outermost && symname)
            fr->fn_off = sym_off;
        if (!callee) {
            if (src)
                fr->file = fs_xstrdup(src);
            fr->line = line;
            fr->column = col;
        } else {
            set_call_site(fr, callee);
        }
        if (outermost)
            break;
        callee = die;
    }
    free(chain);
    return true;
}

static void symbolize_one(struct fs_symbolizer *sym, const struct fs_modmap *mods, uint64_t pc,
                          struct fs_stack *out)
{
    /* A return address points after the call; the call itself is one byte before. */
    uint64_t adj = pc ? pc - 1 : 0;
    const struct fs_module *m = module_of(mods, adj);
    if (!m || !m->path || is_pseudo_module(m->path)) {
        frame_add(out, pc, m && m->path ? m : NULL);
        return;
    }
    struct sym_file *f = file_get(sym, m->path);
    if (!f->dwfl) {
        fs_warn_once(m->path, "%s: cannot open (%s); its frames are shown as offsets", m->path,
                     f->open_error);
        frame_add(out, pc, m);
        return;
    }
    if (m->buildid && m->buildid[0] && strcasecmp(m->buildid, f->buildid) != 0) {
        fs_warn_once(m->path,
                     "%s: build-id differs from the one recorded (the file changed since the "
                     "run); its frames are shown as offsets",
                     m->path);
        frame_add(out, pc, m);
        return;
    }

    uint64_t lookup = adj - m->bias; /* link-time address of the call */
    uint64_t file_pc = pc - m->bias;
    GElf_Off off = 0;
    GElf_Sym elfsym;
    const char *symname = dwfl_module_addrinfo(f->mod, lookup, &off, &elfsym, NULL, NULL, NULL);
    uint64_t sym_off = off + (pc - adj);

    if (file_has_dwarf(f)) {
        if (dwarf_frames(f, lookup, file_pc, pc, m, symname, sym_off, out))
            return;
    } else {
        fs_warn_once(m->path,
                     "%s: no debug info (install its debug symbols or build with -g); frames "
                     "show function names only",
                     m->path);
    }

    struct fs_frame *fr = frame_add(out, pc, m);
    if (symname) {
        fr->function = fs_xstrdup(symname);
        fr->fn_off = sym_off;
    }
    /* Code without DIEs (assembly) may still have a line table. */
    int line = 0, col = 0;
    const char *src = f->has_dwarf ? line_at(f, lookup, &line, &col) : NULL;
    if (src) {
        fr->file = fs_xstrdup(src);
        fr->line = line;
        fr->column = col;
    }
}

void fs_symbolize(struct fs_symbolizer *sym, const struct fs_modmap *mods, const uint64_t *pcs,
                  size_t n, struct fs_stack *out)
{
    for (size_t i = 0; i < n; i++)
        symbolize_one(sym, mods, pcs[i], out);
}
