/* forksan's stderr messages: see diag.h. */
#include "diag.h"
#include "textsafe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* Messages quote trace contents (file names, `lost what=`, module paths): escaped whole, so
     * that no trace can colour the terminal or forge a second "forksan:" line. */
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;
    char *safe = fs_safe_dup(msg);
    free(msg);
    /* One write(2) per line: stderr is unbuffered, and the traced program shares it, so a line
     * written in pieces could have the program's own output land inside it. */
    char *line = NULL;
    int len = asprintf(&line, "forksan: %s\n", safe);
    free(safe);
    if (len < 0)
        return;
    fflush(stderr);
    for (size_t off = 0; off < (size_t)len;) {
        ssize_t w = write(STDERR_FILENO, line + off, (size_t)len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(line);
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
