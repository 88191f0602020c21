/* Queries on the frames and stacks of the report model, for every renderer: the names of a
 * frame's kind and origin, whether a stack was folded away, and a finding's primary location (the
 * innermost frame of the program's own code, in the most telling stack). */
#include "finding.h"

#include <string.h>

const char *fs_frame_lang_name(enum fs_frame_lang lang)
{
    return lang == FS_LANG_PYTHON ? "python" : "native";
}

const char *fs_frame_origin_name(enum fs_frame_origin origin)
{
    static const char *const names[] = {[FS_ORIGIN_USER] = "user",
                                        [FS_ORIGIN_STDLIB] = "stdlib",
                                        [FS_ORIGIN_INTERP] = "interpreter",
                                        [FS_ORIGIN_SYSTEM] = "system"};
    return (unsigned)origin < sizeof names / sizeof *names ? names[origin] : "user";
}

bool fs_stack_folded_away(const struct fs_stack *s)
{
    return s->nframes == 0 && s->folded > 0;
}

/* Roles in the order a primary location is looked for.  A child's exit() comes before the fork:
 * it is the line to change (to _exit) when the program's code made it; a Python child's exit has
 * no Python frame left (SystemExit has unwound), so its finding stays on the fork. */
static const char *const primary_roles[] = {"child-acquire", "acquire", "holder", "exit",
                                            "fork",          "hang",    "thread", "thread-created"};

static bool has_file(const struct fs_frame *fr)
{
    return fr->file && *fr->file;
}

static bool is_user(const struct fs_frame *fr)
{
    return fr->origin == FS_ORIGIN_USER && has_file(fr) && fr->line > 0;
}

static bool role_rank(const char *role, size_t r)
{
    if (r == sizeof primary_roles / sizeof *primary_roles)
        return true; /* the last round takes any stack */
    return role && strcmp(role, primary_roles[r]) == 0;
}

const struct fs_frame *fs_finding_primary(const struct fs_finding *f, size_t *stack,
                                          size_t *frame)
{
    /* First pass: the program's own code; second: any frame with a source line.  Stacks by
     * role, then any stack. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r <= sizeof primary_roles / sizeof *primary_roles; r++)
            for (size_t i = 0; i < f->nstacks; i++) {
                const struct fs_stack *s = &f->stacks[i];
                if (!role_rank(s->role, r))
                    continue;
                for (size_t k = 0; k < s->nframes; k++) {
                    const struct fs_frame *fr = &s->frames[k];
                    if (pass == 0 ? is_user(fr) : has_file(fr)) {
                        if (stack)
                            *stack = i;
                        if (frame)
                            *frame = k;
                        return fr;
                    }
                }
            }
    return NULL;
}
