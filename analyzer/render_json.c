/* The JSON report (format: docs/report-json.md), built as a jansson tree and dumped at once.  It
 * carries everything the text report shows, in a shape other renderers (SARIF, JUnit, HTML) can
 * be written from without the traces.  Addresses are hex strings because JSON numbers lose
 * precision above 2^53 in most readers. */
#include "render.h"
#include "render_util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define REPORT_FORMAT_VERSION 1

static json_t *frame_json(const struct fs_frame *fr)
{
    json_t *o = json_object();
    int rc = 0;
    rc |= set(o, "kind", json_string(fs_frame_lang_name(fr->lang)));
    rc |= set(o, "origin", json_string(fs_frame_origin_name(fr->origin)));
    rc |= set(o, "pc", fr->lang == FS_LANG_NATIVE ? jhex(fr->pc) : json_null());
    rc |= set(o, "function", jstr(fr->function));
    rc |= set(o, "function_offset",
              fr->function && fr->lang == FS_LANG_NATIVE ? jhex(fr->fn_off) : json_null());
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
    rc |= set(o, "thread_name", jstr(s->thread_name));
    rc |= set(o, "folded", json_integer((json_int_t)s->folded));
    rc |= set(o, "frames", frames);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
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
    json_t *loc = json_null();
    size_t at_stack = 0, at_frame = 0;
    const struct fs_frame *at = fs_finding_primary(f, &at_stack, &at_frame);
    if (at) {
        loc = json_object();
        rc |= set(loc, "stack", json_integer((json_int_t)at_stack));
        rc |= set(loc, "frame", json_integer((json_int_t)at_frame));
        rc |= set(loc, "file", jstr(at->file));
        rc |= set(loc, "line", json_integer(at->line > 0 ? at->line : 0));
        rc |= set(loc, "function", jstr(at->function));
    }
    rc |= set(o, "location", loc);
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
    rc |= set(summary, "untraced", json_integer(meta ? meta->untraced : 0));
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
    return write_document(out, report_json(f, meta));
}
