/* Trace reader: splits a trace into records and fields, tolerating damage (see trace_read.h). */
#include "trace_read.h"
#include "trace_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescapes %XX in place; fails on a malformed escape. */
static int unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%') {
            int hi = hexval((unsigned char)r[1]);
            int lo = hi < 0 ? -1 : hexval((unsigned char)r[2]);
            if (lo < 0)
                return -1;
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return 0;
}

static int is_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* Parses one line (NUL-terminated, no newline) into rec; -1 if it is not a record. */
static int parse_line(char *line, struct fs_record *rec)
{
    size_t nsp = 0;
    for (char *p = line; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ')
            nsp++;
        else if (c < 0x20 || c == 0x7f)
            return -1;
    }
    rec->fields = nsp ? calloc(nsp, sizeof *rec->fields) : NULL;
    if (nsp && !rec->fields)
        return -1;
    rec->nfields = 0;
    char *save = NULL;
    char *tok = strtok_r(line, " ", &save);
    if (!tok || !is_word(tok))
        goto bad;
    rec->tag = tok;
    while ((tok = strtok_r(NULL, " ", &save))) {
        char *eq = strchr(tok, '=');
        if (!eq)
            goto bad;
        *eq = '\0';
        if (!is_word(tok) || unescape(eq + 1) < 0)
            goto bad;
        rec->fields[rec->nfields].key = tok;
        rec->fields[rec->nfields].value = eq + 1;
        rec->nfields++;
    }
    return 0;
bad:
    free(rec->fields);
    rec->fields = NULL;
    rec->nfields = 0;
    return -1;
}

static void note_bad(struct fs_trace_file *f, unsigned line)
{
    if (!f->bad_lines++)
        f->first_bad_line = line;
}

int fs_trace_parse(const char *text, size_t len, const char *name, struct fs_trace_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = strdup(name ? name : "");
    f->text = malloc(len + 1);
    if (!f->path || !f->text) {
        snprintf(f->error, sizeof f->error, "out of memory");
        return -1;
    }
    memcpy(f->text, text, len);
    f->text[len] = '\0';

    if (len > 0 && f->text[len - 1] != '\n')
        f->truncated = true;
    size_t cap_lines = 1;
    for (size_t i = 0; i < len; i++)
        cap_lines += f->text[i] == '\n';
    f->recs = calloc(cap_lines, sizeof *f->recs);
    if (!f->recs) {
        snprintf(f->error, sizeof f->error, "out of memory");
        return -1;
    }

    char *p = f->text, *end = f->text + len;
    unsigned lineno = 0;
    int have_header = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (!nl)
            break; /* truncated last record: already flagged, not parsed */
        *nl = '\0';
        size_t linelen = (size_t)(nl - p);
        struct fs_record rec = {.line = lineno};
        if (strlen(p) != linelen || parse_line(p, &rec) < 0) {
            if (!have_header) {
                snprintf(f->error, sizeof f->error, "not a forksan trace (line 1 is not a header)");
                return -1;
            }
            note_bad(f, lineno);
        } else if (!have_header) {
            int64_t v = 0;
            if (strcmp(rec.tag, FS_TRACE_MAGIC) != 0 || fs_rec_dec(&rec, "version", &v) < 0) {
                free(rec.fields);
                snprintf(f->error, sizeof f->error, "not a forksan trace (no '%s' header)",
                         FS_TRACE_MAGIC);
                return -1;
            }
            if (v != FS_TRACE_VERSION) {
                free(rec.fields);
                snprintf(f->error, sizeof f->error,
                         "trace format version %lld, this forksan reads version %d", (long long)v,
                         FS_TRACE_VERSION);
                return -1;
            }
            f->version = (int)v;
            int64_t ends = 0;
            f->ends_expected = fs_rec_dec(&rec, "ends", &ends) == 0 && ends == 1;
            have_header = 1;
            free(rec.fields);
        } else {
            f->recs[f->nrecs++] = rec;
        }
        p = nl + 1;
    }
    if (!have_header) {
        snprintf(f->error, sizeof f->error, "%s",
                 len ? "not a forksan trace (no header line)" : "empty trace file");
        return -1;
    }
    if (f->nrecs > 0) {
        const char *last = f->recs[f->nrecs - 1].tag;
        f->ended = strcmp(last, FS_REC_END) == 0 || strcmp(last, FS_REC_EXEC) == 0;
    }
    return 0;
}

int fs_trace_read(const char *path, struct fs_trace_file *f)
{
    /* A trace directory is written by the traced program: a planted symlink is not followed,
     * and a FIFO or device must neither block the open nor be read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        memset(f, 0, sizeof *f);
        if (e == ELOOP)
            snprintf(f->error, sizeof f->error, "a symbolic link, not a trace file");
        else
            snprintf(f->error, sizeof f->error, "cannot open: %s", strerror(e));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        memset(f, 0, sizeof *f);
        snprintf(f->error, sizeof f->error, "not a regular file");
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        memset(f, 0, sizeof *f);
        snprintf(f->error, sizeof f->error, "out of memory");
        return -1;
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    int rc = fs_trace_parse(buf, len, path, f);
    free(buf);
    return rc;
}

void fs_trace_release(struct fs_trace_file *f)
{
    for (size_t i = 0; i < f->nrecs; i++)
        free(f->recs[i].fields);
    free(f->recs);
    free(f->text);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const char *fs_rec_str(const struct fs_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].key, key) == 0)
            return rec->fields[i].value;
    return NULL;
}

static int parse_num(const char *s, int base, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    if (base == 16) {
        unsigned long long v = strtoull(s, &end, 16);
        if (errno || *end || *s == '-')
            return -1;
        *out = (int64_t)v;
    } else {
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return -1;
        *out = v;
    }
    return 0;
}

int fs_rec_dec(const struct fs_record *rec, const char *key, int64_t *out)
{
    return parse_num(fs_rec_str(rec, key), 10, out);
}

int fs_rec_hex(const struct fs_record *rec, const char *key, uint64_t *out)
{
    int64_t v;
    if (parse_num(fs_rec_str(rec, key), 16, &v) < 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

long fs_rec_hexlist(const struct fs_record *rec, const char *key, uint64_t **out)
{
    const char *s = fs_rec_str(rec, key);
    *out = NULL;
    if (!s)
        return -1;
    if (!*s)
        return 0;
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    uint64_t *v = calloc(n, sizeof *v);
    if (!v)
        return -1;
    char *copy = strdup(s), *save = NULL;
    if (!copy) {
        free(v);
        return -1;
    }
    size_t i = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t x;
        if (i >= n || parse_num(tok, 16, &x) < 0) {
            free(copy);
            free(v);
            return -1;
        }
        v[i++] = (uint64_t)x;
    }
    free(copy);
    *out = v;
    return (long)i;
}
