/* The JSON report (format: docs/report-json.md), built as a jansson tree and dumped at once.  It
 * carries everything the text report shows, in a shape other renderers (SARIF, JUnit, HTML) can
 * be written from without the traces.  Addresses are hex strings because JSON numbers lose
 * precision above 2^53 in most readers. */
#include "render.h"
#include "render_util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define REPORT_FORMAT_VERSION 2

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

static json_t *scalar_json(enum fs_dtype type, const char *s, long long i, double r, bool b,
                           const long long *ints, const double *reals, size_t n)
{
    json_t *a;
    switch (type) {
    case FS_DT_INT:
        return json_integer(i);
    case FS_DT_REAL:
        return json_real(r);
    case FS_DT_BOOL:
        return json_boolean(b);
    case FS_DT_INTS:
    case FS_DT_REALS:
        a = json_array();
        for (size_t k = 0; k < n; k++)
            if (append(a, type == FS_DT_INTS ? json_integer(ints[k]) : json_real(reals[k])) < 0) {
                json_decref(a);
                return NULL;
            }
        return a;
    default:
        return jstr(s);
    }
}

static json_t *item_json(const struct fs_kv *kv)
{
    json_t *o = json_object();
    int rc = 0;
    for (size_t k = 0; k < kv->nfields && rc == 0; k++) {
        const struct fs_field_val *fv = &kv->fields[k];
        rc |=
            set(o, fv->name,
                scalar_json(fv->type, fv->s, fv->i, fv->r, fv->b, fv->ints, fv->reals, fv->nints));
    }
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Version 2: each detail by its type; items gathered into their arrays.  `related` is not a
 * detail here: it is the finding's own array of ids. */
static json_t *details_json(const struct fs_finding *f)
{
    json_t *details = json_object();
    int rc = 0;
    for (size_t i = 0; i < f->ndetails && rc == 0; i++) {
        const struct fs_kv *kv = &f->details[i];
        if (strcmp(kv->key, "related") == 0)
            continue;
        if (kv->type == FS_DT_ITEM && kv->list) {
            json_t *arr = json_object_get(details, kv->list);
            if (!arr) {
                arr = json_array();
                rc |= set(details, kv->list, arr);
            }
            rc |= append(arr, item_json(kv));
        } else if (kv->type == FS_DT_ITEM) {
            rc |= set(details, kv->key, item_json(kv));
        } else if (kv->type == FS_DT_STRING) {
            rc |= add_detail(details, kv);
        } else {
            rc |= set(
                details, kv->key,
                scalar_json(kv->type, kv->value, kv->i, kv->r, kv->b, kv->ints, NULL, kv->nints));
        }
    }
    if (rc) {
        json_decref(details);
        return NULL;
    }
    return details;
}

static json_t *finding_json(const struct fs_findings *list, const struct fs_finding *f)
{
    json_t *o = json_object();
    json_t *path = json_array();
    json_t *details = details_json(f);
    json_t *stacks = json_array();
    json_t *related = json_array();
    int rc = 0;
    const char *rel = fs_finding_detail_get(f, "related");
    if (rel) {
        json_t *r = json_object();
        const char *id = fs_finding_related_id(list, f);
        rc |= set(r, "id", jstr(id));
        rc |= set(r, "hazard", jstr(rel));
        rc |= append(related, r);
    }

    for (size_t i = 0; i < f->npath && rc == 0; i++) {
        json_t *p = json_object();
        rc |= set(p, "pid", json_integer(f->path[i].pid));
        rc |= set(p, "name", jstr(f->path[i].name));
        rc |= append(path, p);
    }
    for (size_t i = 0; i < f->nstacks && rc == 0; i++)
        rc |= append(stacks, stack_json(&f->stacks[i]));

    rc |= set(o, "id", jstr(f->id));
    rc |= set(o, "hazard", jstr(f->hazard));
    rc |= set(o, "severity", json_string(fs_severity_name(f->severity)));
    rc |= set(o, "summary", jstr(f->summary));
    rc |= set(o, "pid", json_integer(f->pid));
    rc |= set(o, "time_ns", f->time_ns > 0 ? json_integer(f->time_ns) : json_null());
    rc |= set(o, "process_path", path);
    rc |= set(o, "details", details);
    rc |= set(o, "related", related);
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

static json_t *strings_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        if (append(a, jstr(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* ISO 8601 UTC with milliseconds: "2026-11-29T19:13:10.123Z". */
static json_t *iso_time(int64_t s, long ns)
{
    time_t t = (time_t)s;
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm))
        return json_null();
    char full[80];
    snprintf(full, sizeof full, "%s.%03ldZ", buf, ns / 1000000);
    return json_string(full);
}

static json_t *run_json(const struct fs_report_run *r)
{
    if (!r)
        return json_null();
    json_t *o = json_object();
    int rc = 0;
    rc |= set(o, "argv", strings_json(r->argv));
    rc |= set(o, "options", strings_json(r->options));
    rc |= set(o, "started", json_boolean(r->started));
    rc |= set(o, "exit_code", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
    rc |= set(o, "signal", r->signal ? json_integer(r->signal) : json_null());
    rc |= set(o, "timed_out", json_boolean(r->timed_out));
    rc |= set(o, "timeout_s", r->timeout > 0 ? json_real(r->timeout) : json_null());
    rc |= set(o, "interrupted_by", r->interrupted ? json_integer(r->interrupted) : json_null());
    rc |= set(o, "deadlocked_children_ended", json_integer(r->deadlocks_ended));
    rc |= set(o, "start_time", iso_time(r->start_wall_s, r->start_wall_ns));
    rc |= set(o, "start_monotonic_ns", json_integer(r->start_mono_ns));
    rc |= set(o, "duration_s", json_real(r->duration));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *time_or_null(int64_t ns)
{
    return ns > 0 ? json_integer(ns) : json_null();
}

static json_t *process_json(const struct fs_report_proc *p)
{
    json_t *o = json_object();
    json_t *images = json_array();
    int rc = 0;
    for (size_t k = 0; k < p->nimages && rc == 0; k++) {
        const struct fs_report_image *img = &p->images[k];
        json_t *io = json_object();
        rc |= set(io, "exe", jstr(img->exe));
        rc |= set(io, "comm", jstr(img->comm));
        rc |= set(io, "cmdline", jstr(img->cmdline));
        rc |= set(io, "start_ns", time_or_null(img->time_ns));
        rc |= append(images, io);
    }
    rc |= set(o, "pid", json_integer(p->pid));
    rc |= set(o, "parent", p->ppid > 0 ? json_integer(p->ppid) : json_null());
    rc |= set(o, "traced", json_boolean(p->traced));
    rc |= set(o, "images", images);
    rc |= set(o, "start_ns", time_or_null(p->nimages ? p->images[0].time_ns : 0));
    rc |= set(o, "end_ns", time_or_null(p->end_ns));
    rc |= set(o, "end",
              jstr(p->ended_by_forksan ? "ended-by-forksan"
                   : p->hung           ? "hung"
                                       : p->end_how));
    rc |= set(o, "hang_after_s", p->hung ? json_real(p->hang_after) : json_null());
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The lines of the --suppressions files, each with the findings it removed. */
static json_t *suppressions_json(const struct fs_report_meta *meta)
{
    json_t *list = json_array();
    int rc = 0;
    for (size_t i = 0; meta && i < meta->nsuppressions && rc == 0; i++) {
        const struct fs_report_suppression *s = &meta->suppressions[i];
        json_t *o = json_object();
        rc |= set(o, "file", jstr(s->file));
        rc |= set(o, "line", json_integer(s->line));
        rc |= set(o, "hazard", jstr(s->hazard));
        rc |= set(o, "pattern", jstr(s->pattern));
        rc |= set(o, "matched", json_integer(s->matched));
        rc |= set(o, "used", json_boolean(s->matched > 0));
        rc |= append(list, o);
    }
    if (rc) {
        json_decref(list);
        return NULL;
    }
    return list;
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
        rc |= append(findings, finding_json(f, &f->items[i]));

    rc |= set(root, "version", json_integer(REPORT_FORMAT_VERSION));
    rc |= set(root, "tool", tool);
    rc |= set(root, "command", jstr(meta ? meta->command : NULL));
    rc |= set(root, "run", run_json(meta ? meta->run : NULL));
    rc |= set(root, "summary", summary);
    rc |= set(root, "suppressions", suppressions_json(meta));
    json_t *procs = json_array();
    for (size_t i = 0; meta && i < meta->nprocs && rc == 0; i++)
        rc |= append(procs, process_json(&meta->procs[i]));
    rc |= set(root, "processes", procs);
    rc |= set(root, "findings", findings);
    if (rc) {
        json_decref(root);
        return NULL;
    }
    return root;
}

char *fs_report_json_string(const struct fs_findings *f, const struct fs_report_meta *meta)
{
    json_t *root = report_json(f, meta);
    if (!root)
        return NULL;
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

int fs_render_json(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    return write_document(out, report_json(f, meta));
}
