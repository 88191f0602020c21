/* forksan's stderr messages: see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool quiet;
static unsigned damage;
static char **seen;
static size_t nseen;

void fs_diag_set_quiet(bool q)
{
    quiet = q;
}

static void vwarn(const char *fmt, va_list ap)
{
    if (quiet)
        return;
    fputs("forksan: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void fs_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void fs_warn_once(const char *key, const char *fmt, ...)
{
    for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i], key) == 0)
            return;
    char **grown = realloc(seen, (nseen + 1) * sizeof *seen);
    char *copy = strdup(key);
    if (grown)
        seen = grown;
    if (grown && copy)
        seen[nseen++] = copy;
    else
        free(copy);
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void fs_warn_damage(const char *fmt, ...)
{
    damage++;
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

unsigned fs_diag_damage_count(void)
{
    return damage;
}
