/* Escaping of trace-supplied text for terminals: see textsafe.h. */
#include "textsafe.h"
#include "finding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid, printable UTF-8 sequence at s (1 to 4), or 0 when the byte at s must be
 * escaped: a control byte, a C1 control, an overlong form, a surrogate, beyond U+10FFFF, or a
 * sequence cut short. */
static size_t printable_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return c < 0x20 || c == 0x7f ? 0 : 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return n;
}

/* Writes the escaped form of s into dst (room for 4 bytes per input byte, plus the NUL). */
static void escape_into(char *dst, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left) {
        size_t n = printable_len(p, left);
        if (n) {
            memcpy(dst, p, n);
            dst += n;
        } else {
            *dst++ = '\\';
            *dst++ = 'x';
            *dst++ = hex[*p >> 4];
            *dst++ = hex[*p & 15];
            n = 1;
        }
        p += n;
        left -= n;
    }
    *dst = '\0';
}

char *fs_safe_dup(const char *s)
{
    s = s ? s : "";
    size_t len = strlen(s);
    char *d = fs_xcalloc(len + 1, 4);
    escape_into(d, s);
    return d;
}

void fs_put_safe(FILE *out, const char *s)
{
    char *d = fs_safe_dup(s);
    fputs(d, out);
    free(d);
}

bool fs_text_is_clean(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    while (len) {
        size_t n = *p == '\n' ? 1 : printable_len(p, len);
        if (!n)
            return false;
        p += n;
        len -= n;
    }
    return true;
}
