/* An async-signal-safe writer of trace records.
 *
 * The shim writes between fork and the child's return, from atfork handlers and before exec, so
 * this writer uses only a caller-provided fixed buffer and write(2): no malloc, no stdio, no
 * locale.  Records are never split across write(2) calls, so concurrent writers appending to one
 * O_APPEND file interleave whole records only, and a crash loses at most the unflushed tail. */
#ifndef FORKSAN_LINEBUF_H
#define FORKSAN_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

struct fs_linebuf {
    int fd;           /* -1: accumulate only (the caller copies buf out) */
    int failed;       /* a write failed or a record did not fit: data was lost */
    size_t len;       /* bytes in buf */
    size_t rec_start; /* where the record being built began */
    int dropping;     /* the record being built did not fit and is discarded */
    char *buf;
    size_t cap;
    size_t flush_at; /* fs_lb_end writes when this many bytes are buffered (cap / 2 by
                      * default; cap keeps a batch in one write(2) as long as it fits) */
};

void fs_lb_init(struct fs_linebuf *lb, int fd, char *buf, size_t cap);
void fs_lb_begin(struct fs_linebuf *lb, const char *tag);
void fs_lb_dec(struct fs_linebuf *lb, const char *key, int64_t value);
void fs_lb_hex(struct fs_linebuf *lb, const char *key, uint64_t value);
void fs_lb_str(struct fs_linebuf *lb, const char *key, const char *value);
void fs_lb_strn(struct fs_linebuf *lb, const char *key, const char *value, size_t n);
void fs_lb_hexlist(struct fs_linebuf *lb, const char *key, const uintptr_t *values, size_t n);
void fs_lb_bytes(struct fs_linebuf *lb, const char *key, const unsigned char *bytes, size_t n);
/* Appends bytes as they are (already-formatted record text). */
void fs_lb_raw(struct fs_linebuf *lb, const char *bytes, size_t n);
/* Ends the record; flushes when the buffer is getting full. */
void fs_lb_end(struct fs_linebuf *lb);
/* Writes all complete records; returns 0, or -1 if anything was lost so far. */
int fs_lb_flush(struct fs_linebuf *lb);

/* Small formatting helpers for fixed buffers (paths, env strings); they return the new length,
 * or (size_t)-1 when the result would not fit. */
size_t fs_fmt_str(char *dst, size_t cap, size_t at, const char *s);
size_t fs_fmt_dec(char *dst, size_t cap, size_t at, uint64_t v);

#endif
