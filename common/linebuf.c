/* Async-signal-safe record writer: see linebuf.h for why it looks the way it does. */
#include "linebuf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The record writers a fork runs in the parent (its `fork` record), placed with the shim's fork
 * path (preload/hot.ld); in any other program the section is just more .text. */
#define LB_FORK_PATH __attribute__((section(".text.hot.fs_fork")))

void fs_lb_init(struct fs_linebuf *lb, int fd, char *buf, size_t cap)
{
    lb->fd = fd;
    lb->buf = buf;
    lb->cap = cap;
    lb->flush_at = cap / 2;
    lb->failed = 0;
    lb->dropping = 0;
    lb->len = 0;
    lb->rec_start = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes room for n more bytes of the current record by flushing the complete records before it.
 * A record larger than the whole buffer cannot be written in one piece and is dropped. */
static __attribute__((noinline)) int reserve(struct fs_linebuf *lb, size_t n)
{
    if (lb->rec_start > 0 && lb->fd >= 0) {
        if (write_all(lb->fd, lb->buf, lb->rec_start) < 0)
            lb->failed = 1;
        memmove(lb->buf, lb->buf + lb->rec_start, lb->len - lb->rec_start);
        lb->len -= lb->rec_start;
        lb->rec_start = 0;
    }
    if (lb->len + n <= lb->cap)
        return 0;
    lb->failed = 1;
    lb->dropping = 1;
    return -1;
}

/* Inline, with the flush out of line: a record is a few dozen of these (the fork record is
 * formatted at every fork). */
static inline void put(struct fs_linebuf *lb, const char *s, size_t n)
{
    if (lb->dropping || (lb->len + n > lb->cap && reserve(lb, n) < 0))
        return;
    memcpy(lb->buf + lb->len, s, n);
    lb->len += n;
}

static inline void put_char(struct fs_linebuf *lb, char c)
{
    if (lb->dropping || (lb->len + 1 > lb->cap && reserve(lb, 1) < 0))
        return;
    lb->buf[lb->len++] = c;
}

LB_FORK_PATH void fs_lb_begin(struct fs_linebuf *lb, const char *tag)
{
    lb->rec_start = lb->len;
    lb->dropping = 0;
    put(lb, tag, strlen(tag));
}

LB_FORK_PATH static void key(struct fs_linebuf *lb, const char *k)
{
    put_char(lb, ' ');
    put(lb, k, strlen(k));
    put_char(lb, '=');
}

/* Digits without a division per digit for hex (shifts) and with a division by the constant 10
 * (a multiply) for decimal: the fork record's frames and times are formatted on every fork. */
static size_t u64_to_hex(char *out, uint64_t v)
{
    static const char hexdig[] = "0123456789abcdef";
    size_t n = v ? (size_t)(64 - __builtin_clzll(v) + 3) / 4 : 1;
    for (size_t i = n; i-- > 0; v >>= 4)
        out[i] = hexdig[v & 15];
    return n;
}

static size_t u64_to_dec(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

LB_FORK_PATH void fs_lb_dec(struct fs_linebuf *lb, const char *k, int64_t value)
{
    char tmp[24];
    size_t n = 0;
    uint64_t mag = (uint64_t)value;
    key(lb, k);
    if (value < 0) {
        tmp[n++] = '-';
        mag = 0 - mag;
    }
    n += u64_to_dec(tmp + n, mag);
    put(lb, tmp, n);
}

void fs_lb_hex(struct fs_linebuf *lb, const char *k, uint64_t value)
{
    char tmp[24];
    key(lb, k);
    size_t n = u64_to_hex(tmp, value);
    put(lb, tmp, n);
}

/* Bytes that would break the line or field structure, and '%' itself, become %XX. */
static int needs_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '%';
}

LB_FORK_PATH void fs_lb_strn(struct fs_linebuf *lb, const char *k, const char *value, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    key(lb, k);
    for (size_t i = 0; i < n && value[i]; i++) {
        unsigned char c = (unsigned char)value[i];
        if (needs_escape(c)) {
            char esc[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            put(lb, esc, 3);
        } else {
            put_char(lb, (char)c);
        }
    }
}

LB_FORK_PATH void fs_lb_str(struct fs_linebuf *lb, const char *k, const char *value)
{
    fs_lb_strn(lb, k, value ? value : "", SIZE_MAX);
}

LB_FORK_PATH void fs_lb_hexlist(struct fs_linebuf *lb, const char *k, const uintptr_t *values,
                                size_t n)
{
    char tmp[24];
    key(lb, k);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put_char(lb, ',');
        size_t n_ = u64_to_hex(tmp, values[i]);
        put(lb, tmp, n_);
    }
}

void fs_lb_bytes(struct fs_linebuf *lb, const char *k, const unsigned char *bytes, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    key(lb, k);
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hexdig[bytes[i] >> 4], hexdig[bytes[i] & 15]};
        put(lb, two, 2);
    }
}

void fs_lb_raw(struct fs_linebuf *lb, const char *bytes, size_t n)
{
    put(lb, bytes, n);
}

LB_FORK_PATH void fs_lb_end(struct fs_linebuf *lb)
{
    put(lb, "\n", 1);
    if (lb->dropping) {
        lb->len = lb->rec_start;
        lb->dropping = 0;
        return;
    }
    lb->rec_start = lb->len;
    if (lb->fd >= 0 && lb->len > lb->flush_at)
        fs_lb_flush(lb);
}

int fs_lb_flush(struct fs_linebuf *lb)
{
    size_t n = lb->rec_start;
    if (n > 0) {
        if (lb->fd < 0 || write_all(lb->fd, lb->buf, n) < 0)
            lb->failed = 1;
        memmove(lb->buf, lb->buf + n, lb->len - n);
        lb->len -= n;
        lb->rec_start = 0;
    }
    return lb->failed ? -1 : 0;
}

size_t fs_fmt_str(char *dst, size_t cap, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at == (size_t)-1 || at + n + 1 > cap)
        return (size_t)-1;
    memcpy(dst + at, s, n + 1);
    return at + n;
}

size_t fs_fmt_dec(char *dst, size_t cap, size_t at, uint64_t v)
{
    char tmp[24];
    size_t n = u64_to_dec(tmp, v);
    if (at == (size_t)-1 || at + n + 1 > cap)
        return (size_t)-1;
    memcpy(dst + at, tmp, n);
    dst[at + n] = '\0';
    return at + n;
}
