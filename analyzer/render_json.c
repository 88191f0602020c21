/* The JSON report (format: docs/report-json.md), built as a jansson tree and dumped at once.  It
 * carries everything the text report shows, in a shape other renderers (SARIF, JUnit, HTML) can
 * be written from without the traces.  Addresses are hex strings because JSON numbers lose
 * precision above 2^53 in most readers. */
#include "render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define REPORT_FORMAT_VERSION 1

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one (overlong forms, surrogates
 * and values past U+10FFFF are invalid, as jansson judges them). */
static size_t utf8_seq_len(const unsigned char *s)
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
static char *utf8_clean(const char *s)
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

/* A JSON string, or null for NULL. */
static json_t *jstr(const char *s)
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

static json_t *jhex(uint64_t v)
{
    char buf[2 + 16 + 1];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

static bool utf8_valid(const char *s)
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

/* Steals value, as json_object_set_new does, also on failure; a NULL value (a failed
 * allocation) fails the whole document. */
static int set(json_t *obj, const char *key, json_t *value)
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

static int append(json_t *arr, json_t *value)
{
    if (!arr || !value) {
        json_decref(value);
        return -1;
    }
    return json_array_append_new(arr, value);
}

static json_t *frame_json(const struct fs_frame *fr)
{
    json_t *o = json_object();
    int rc = 0;
    rc |= set(o, "pc", jhex(fr->pc));
    rc |= set(o, "function", jstr(fr->function));
    rc |= set(o, "function_offset", fr->function ? jhex(fr->fn_off) : json_null());
    rc |= set(o, "file", jstr(fr->file));
    rc |= set(o, "line", json_integer(fr->line > 0 ? fr->line : 0));
    rc |= set(o, "column", json_integer(fr->column > 0 ? fr->column : 0));
    rc |= set(o, "inlined", json_boolean(fr->inlined));
    rc |= set(o, "module", jstr(fr->module));
    rc |= set(o, "offset", fr->module ? jhex(fr->offset) : json_null());
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *stack_json(const struct fs_stack *s)
{
    json_t *o = json_object();
    json_t *frames = json_array();
    int rc = 0;
    for (size_t i = 0; i < s->nframes && rc == 0; i++)
        rc |= append(frames, frame_json(&s->frames[i]));
    rc |= set(o, "role", jstr(s->role));
    rc |= set(o, "tid", json_integer(s->tid));
    rc |= set(o, "frames", frames);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Rules should use a key once per finding; should one repeat, the values are joined rather
 * than one silently replacing the other, and every value stays a string. */
static int add_detail(json_t *details, const struct fs_kv *kv)
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

static json_t *finding_json(const struct fs_finding *f)
{
    json_t *o = json_object();
    json_t *path = json_array();
    json_t *details = json_object();
    json_t *stacks = json_array();
    int rc = 0;

    for (size_t i = 0; i < f->npath && rc == 0; i++) {
        json_t *p = json_object();
        rc |= set(p, "pid", json_integer(f->path[i].pid));
        rc |= set(p, "name", jstr(f->path[i].name));
        rc |= append(path, p);
    }
    for (size_t i = 0; i < f->ndetails && rc == 0; i++)
        rc |= add_detail(details, &f->details[i]);
    for (size_t i = 0; i < f->nstacks && rc == 0; i++)
        rc |= append(stacks, stack_json(&f->stacks[i]));

    rc |= set(o, "hazard", jstr(f->hazard));
    rc |= set(o, "severity", json_string(fs_severity_name(f->severity)));
    rc |= set(o, "summary", jstr(f->summary));
    rc |= set(o, "pid", json_integer(f->pid));
    rc |= set(o, "process_path", path);
    rc |= set(o, "details", details);
    rc |= set(o, "stacks", stacks);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *report_json(const struct fs_findings *f, const struct fs_report_meta *meta)
{
    json_int_t count[3] = {0, 0, 0};
    size_t n = f ? f->n : 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)f->items[i].severity < 3)
            count[f->items[i].severity]++;

    json_t *root = json_object();
    json_t *tool = json_object();
    json_t *summary = json_object();
    json_t *findings = json_array();
    int rc = 0;

    rc |= set(tool, "name", json_string("forksan"));
    rc |= set(tool, "version", jstr(meta ? meta->version : NULL));
    rc |= set(summary, "errors", json_integer(count[FS_SEV_ERROR]));
    rc |= set(summary, "warnings", json_integer(count[FS_SEV_WARNING]));
    rc |= set(summary, "notes", json_integer(count[FS_SEV_NOTE]));
    rc |= set(summary, "processes", json_integer(meta ? meta->processes : 0));
    rc |= set(summary, "damaged_traces", json_integer(meta ? meta->damaged_traces : 0));
    rc |= set(summary, "suppressed", json_integer(meta ? meta->suppressed : 0));
    json_t *safe = json_object();
    for (size_t i = 0; meta && i < meta->nsafe_random && rc == 0; i++)
        rc |= set(safe, meta->safe_random[i].name, json_integer(meta->safe_random[i].count));
    rc |= set(summary, "safe_randomness", safe);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc |= append(findings, finding_json(&f->items[i]));

    rc |= set(root, "version", json_integer(REPORT_FORMAT_VERSION));
    rc |= set(root, "tool", tool);
    rc |= set(root, "command", jstr(meta ? meta->command : NULL));
    rc |= set(root, "summary", summary);
    rc |= set(root, "findings", findings);
    if (rc) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int fs_render_json(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    json_t *root = report_json(f, meta);
    if (!root)
        return -1;
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
