/* jansson helpers the machine-readable renderers (render_json.c, render_sarif.c) share: strings
 * from the traced program made valid UTF-8, hex addresses, and builders that fail the whole
 * document on one failed allocation instead of checking every call.  Static inline so that each
 * renderer pays only for what it calls. */
#ifndef FORKSAN_RENDER_UTIL_H
#define FORKSAN_RENDER_UTIL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "finding.h"

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one (overlong forms, surrogates
 * and values past U+10FFFF are invalid, as jansson judges them). */
static inline size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Thread names, paths and symbols are bytes, not necessarily UTF-8; JSON strings must be.  Bytes
 * that are not valid UTF-8 become '?' so that the report stays valid. */
static inline char *utf8_clean(const char *s)
{
    char *copy = fs_xstrdup(s);
    unsigned char *p = (unsigned char *)copy;
    while (*p) {
        size_t len = utf8_seq_len(p);
        if (len == 0) {
            *p++ = '?';
        } else {
            p += len;
        }
    }
    return copy;
}

static inline bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = utf8_seq_len(p);
        if (len == 0)
            return false;
        p += len;
    }
    return true;
}

/* A JSON string, or null for NULL. */
static inline json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *clean = utf8_clean(s);
    j = json_string(clean);
    free(clean);
    return j;
}

static inline json_t *jhex(uint64_t v)
{
    char buf[2 + 16 + 1];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

/* Steals value, as json_object_set_new does, also on failure; a NULL value (a failed
 * allocation) fails the whole document. */
static inline int set(json_t *obj, const char *key, json_t *value)
{
    if (!obj || !value) {
        json_decref(value);
        return -1;
    }
    /* json_object_set_new drops the value when it rejects the key, so check the key first. */
    if (utf8_valid(key))
        return json_object_set_new(obj, key, value);
    char *clean = utf8_clean(key);
    int rc = json_object_set_new(obj, clean, value);
    free(clean);
    return rc;
}

/* Steals value, as set() does. */
static inline int append(json_t *arr, json_t *value)
{
    if (!arr || !value) {
        json_decref(value);
        return -1;
    }
    return json_array_append_new(arr, value);
}

/* Rules should use a key once per finding; should one repeat, the values are joined rather
 * than one silently replacing the other, and every value stays a string. */
static inline int add_detail(json_t *details, const struct fs_kv *kv)
{
    char *key = utf8_clean(kv->key ? kv->key : "");
    const char *value = kv->value ? kv->value : "";
    json_t *old = json_object_get(details, key);
    int rc;
    if (json_is_string(old)) {
        char *joined = fs_xasprintf("%s, %s", json_string_value(old), value);
        rc = set(details, key, jstr(joined));
        free(joined);
    } else {
        rc = set(details, key, jstr(value));
    }
    free(key);
    return rc;
}

/* Writes a finished document (taking ownership of root): indented, in insertion order, ended
 * by a newline.  0, or -1 when it could not be built or written. */
static inline int write_document(FILE *out, json_t *root)
{
    if (!root)
        return -1;
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}

#endif
