/* The text report: one block per finding, every line prefixed with "==pid==" like sanitizer
 * output so that it can be told apart from the program's own output on a shared terminal and
 * grepped per process; stacks numbered "#N pc in function file:line" as ThreadSanitizer prints
 * them.  A run without findings prints nothing. */
#include "render.h"
#include "textsafe.h"

#include <inttypes.h>
#include <string.h>

#define ANSI_RESET "\033[0m"

struct severity_style {
    const char *word;
    const char *color;
};

static const struct severity_style severity_styles[] = {
    [FS_SEV_NOTE] = {"NOTE", "\033[1;36m"},
    [FS_SEV_WARNING] = {"WARNING", "\033[1;35m"},
    [FS_SEV_ERROR] = {"ERROR", "\033[1;31m"},
};

static const struct severity_style *style_of(enum fs_severity sev)
{
    static const struct severity_style unknown = {"UNKNOWN", ""};
    if ((unsigned)sev < sizeof severity_styles / sizeof *severity_styles)
        return &severity_styles[sev];
    return &unknown;
}

/* Names and values come from the traced program (thread names, paths); a control character in
 * one must not break the line structure or send escapes to the terminal. */
static void put_clean(FILE *out, const char *s)
{
    fs_put_safe(out, s);
}

static void put_prefix(FILE *out, int pid)
{
    fprintf(out, "==%d==", pid);
}

static void put_blank(FILE *out, int pid)
{
    put_prefix(out, pid);
    fputc('\n', out);
}

static void put_details(FILE *out, const struct fs_finding *f)
{
    size_t width = 0;
    for (size_t i = 0; i < f->ndetails; i++) {
        size_t len = strlen(f->details[i].key);
        if (len > width)
            width = len;
    }
    for (size_t i = 0; i < f->ndetails; i++) {
        put_prefix(out, f->pid);
        fputs("   ", out);
        put_clean(out, f->details[i].key);
        fputc(':', out);
        /* Two spaces after the longest key's colon, so the values line up. */
        for (size_t pad = strlen(f->details[i].key); pad < width + 2; pad++)
            fputc(' ', out);
        put_clean(out, f->details[i].value ? f->details[i].value : "");
        fputc('\n', out);
    }
}

/* How each stack role is said: "acquired by thread 4201:", "fork called by thread 4200:".  An
 * unknown role is printed as it is. */
static const struct {
    const char *role;
    const char *with_tid; /* a printf format taking the tid */
    const char *without_tid;
} stack_titles[] = {
    {"acquire", "acquired by thread %s:", "acquired at:"},
    {"holder", "thread %s at the fork, holding it:", "the holder at the fork:"},
    {"fork", "fork called by thread %s:", "fork called at:"},
    {"thread-created", "thread %s created at:", "thread created at:"},
    {"child-acquire", "the child's call, in thread %s:", "the child's call:"},
    {"child-reinit", "the child re-initialised it, in thread %s:", "the child re-initialised it at:"},
    {"thread", "thread %s:", "thread:"},
};

static void put_stack_title(FILE *out, const struct fs_stack *s)
{
    const char *role = s->role ? s->role : "stack";
    for (size_t i = 0; i < sizeof stack_titles / sizeof *stack_titles; i++) {
        if (strcmp(role, stack_titles[i].role) != 0)
            continue;
        if (s->tid) {
            char label[128];
            if (s->thread_name)
                snprintf(label, sizeof label, "%d \"%s\"", s->tid, s->thread_name);
            else
                snprintf(label, sizeof label, "%d", s->tid);
            for (char *c = label; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = '?';
            fprintf(out, stack_titles[i].with_tid, label);
        } else
            fputs(stack_titles[i].without_tid, out);
        return;
    }
    put_clean(out, role);
    if (s->tid) {
        fprintf(out, " (thread %d", s->tid);
        if (s->thread_name) {
            fputs(" \"", out);
            put_clean(out, s->thread_name);
            fputc('"', out);
        }
        fputc(')', out);
    }
    fputc(':', out);
}

static void put_frame(FILE *out, size_t index, const struct fs_frame *fr)
{
    if (fr->lang == FS_LANG_PYTHON) {
        /* A Python frame has no address: "#N [py] in function file:line". */
        fprintf(out, "    #%zu [py] in ", index);
        put_clean(out, fr->function ? fr->function : "??");
        fputc(' ', out);
        put_clean(out, fr->file ? fr->file : "??");
        if (fr->line > 0)
            fprintf(out, ":%d", fr->line);
        return;
    }
    fprintf(out, "    #%zu 0x%" PRIx64 " in ", index, fr->pc);
    put_clean(out, fr->function ? fr->function : "??");
    if (fr->file) {
        fputc(' ', out);
        put_clean(out, fr->file);
        if (fr->line > 0) {
            fprintf(out, ":%d", fr->line);
            if (fr->column > 0)
                fprintf(out, ":%d", fr->column);
        }
    } else if (fr->module) {
        fputs(" (", out);
        put_clean(out, fr->module);
        fprintf(out, "+0x%" PRIx64 ")", fr->offset);
    } else {
        fputs(" (unknown module)", out);
    }
    if (fr->inlined)
        fputs(" (inlined)", out);
}

static void put_stack(FILE *out, int pid, const struct fs_stack *s)
{
    put_prefix(out, pid);
    fputs("   ", out);
    put_stack_title(out, s);
    fputc('\n', out);
    if (s->nframes == 0 && !s->folded) {
        put_prefix(out, pid);
        fputs("     <no frames recorded>\n", out);
    }
    for (size_t i = 0; i < s->nframes; i++) {
        put_prefix(out, pid);
        fputc(' ', out);
        put_frame(out, i, &s->frames[i]);
        fputc('\n', out);
    }
    if (s->folded) {
        put_prefix(out, pid);
        fprintf(out, "     (%zu interpreter frame%s folded; --native shows them)\n", s->folded,
                s->folded == 1 ? "" : "s");
    }
}

static void put_path(FILE *out, const struct fs_finding *f)
{
    put_prefix(out, f->pid);
    fputs("   process: ", out);
    for (size_t i = 0; i < f->npath; i++) {
        if (i)
            fputs(" -> ", out);
        fprintf(out, "%d", f->path[i].pid);
        if (f->path[i].name && *f->path[i].name) {
            fputs(" (", out);
            put_clean(out, f->path[i].name);
            fputc(')', out);
        }
    }
    fputc('\n', out);
}

static void put_finding(FILE *out, const struct fs_finding *f, bool color)
{
    const struct severity_style *st = style_of(f->severity);

    put_prefix(out, f->pid);
    fputc(' ', out);
    if (color && *st->color)
        fprintf(out, "%s%s%s", st->color, st->word, ANSI_RESET);
    else
        fputs(st->word, out);
    fputs(": forksan: ", out);
    put_clean(out, f->hazard ? f->hazard : "unknown");
    fputc('\n', out);
    if (f->summary) {
        put_prefix(out, f->pid);
        fputc(' ', out);
        put_clean(out, f->summary);
        fputc('\n', out);
    }
    const struct fs_frame *at = fs_finding_primary(f, NULL, NULL);
    if (at) {
        put_prefix(out, f->pid);
        fputs(" location: ", out);
        put_clean(out, at->file);
        if (at->line > 0)
            fprintf(out, ":%d", at->line);
        if (at->function) {
            fputs(" in ", out);
            put_clean(out, at->function);
        }
        fputc('\n', out);
    }
    put_blank(out, f->pid);

    if (f->ndetails) {
        put_details(out, f);
        put_blank(out, f->pid);
    }
    for (size_t i = 0; i < f->nstacks; i++)
        if (!fs_stack_folded_away(&f->stacks[i]))
            put_stack(out, f->pid, &f->stacks[i]);
    if (f->npath)
        put_path(out, f);
    if (f->nstacks || f->npath)
        put_blank(out, f->pid);
}

static void put_count(FILE *out, unsigned long n, const char *one, const char *many)
{
    fprintf(out, "%lu %s", n, n == 1 ? one : many);
}

static void put_summary(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    unsigned long count[3] = {0, 0, 0};
    for (size_t i = 0; i < f->n; i++)
        if ((unsigned)f->items[i].severity < 3)
            count[f->items[i].severity]++;

    fputs("SUMMARY: forksan: ", out);
    put_count(out, count[FS_SEV_ERROR], "error", "errors");
    fputs(", ", out);
    put_count(out, count[FS_SEV_WARNING], "warning", "warnings");
    fputs(", ", out);
    put_count(out, count[FS_SEV_NOTE], "note", "notes");
    fputs(" in ", out);
    put_count(out, meta ? meta->processes : 0, "process", "processes");
    if (meta && meta->untraced) { /* named on stderr, each with its reason */
        fputs(" (and ", out);
        put_count(out, meta->untraced, "untraced process", "untraced processes");
        fputc(')', out);
    }
    /* Findings from damaged input may be incomplete: say so where the verdict is read. */
    if (meta && meta->damaged_traces) {
        fputs(" (", out);
        put_count(out, meta->damaged_traces, "trace", "traces");
        fputs(" damaged)", out);
    }
    fputc('\n', out);
    /* The good news too: the program also used randomness that fork cannot duplicate. */
    for (size_t i = 0; meta && i < meta->nsafe_random; i++)
    {
        fputs(i ? ", " : "forksan: fork-safe randomness used: ", out);
        put_clean(out, meta->safe_random[i].name ? meta->safe_random[i].name : "?");
        fprintf(out, " (%ld call%s)", meta->safe_random[i].count,
                meta->safe_random[i].count == 1 ? "" : "s");
    }
    if (meta && meta->nsafe_random)
        fputc('\n', out);
}

/* Like LeakSanitizer's "Suppressions used": which lines removed findings, and which matched
 * nothing (to delete, or a pattern that no longer fits the code). */
static void put_suppressions(FILE *out, const struct fs_report_meta *meta)
{
    for (size_t i = 0; meta && i < meta->nsuppressions; i++) {
        const struct fs_report_suppression *s = &meta->suppressions[i];
        if (i == 0)
            fputs("forksan: suppressions:\n", out);
        if (s->matched)
            fprintf(out, "  %5u  ", s->matched);
        else
            fputs("  unused ", out);
        put_clean(out, s->hazard);
        fputc(':', out);
        put_clean(out, s->pattern);
        fputs(" (", out);
        put_clean(out, s->file);
        fprintf(out, ":%u)\n", s->line);
    }
}

int fs_render_text(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta,
                   bool color)
{
    if (!f || f->n == 0)
        return 0;
    for (size_t i = 0; i < f->n; i++)
        put_finding(out, &f->items[i], color);
    put_summary(out, f, meta);
    put_suppressions(out, meta);
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
