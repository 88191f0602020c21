/* Unit tests of the text and JSON renderers: findings built with the finding.h builders, rendered
 * into memory, compared with golden text or parsed back with jansson. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "render.h"

static const struct fs_report_meta meta3 = {
    .version = "9.8.7",
    .command = "./mutex_held",
    .processes = 3,
    .damaged_traces = 0,
};

/* Renders into a string that the caller frees; the renderer's return code goes to *rc. */
static char *render(bool json, const struct fs_findings *f, const struct fs_report_meta *meta,
                    bool color, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    *rc = json ? fs_render_json(out, f, meta) : fs_render_text(out, f, meta, color);
    cr_assert_eq(fclose(out), 0);
    return buf;
}

static char *render_text(const struct fs_findings *f, const struct fs_report_meta *meta)
{
    int rc;
    char *s = render(false, f, meta, false, &rc);
    cr_assert_eq(rc, 0);
    return s;
}

static json_t *render_json_parsed(const struct fs_findings *f, const struct fs_report_meta *meta)
{
    int rc;
    char *s = render(true, f, meta, false, &rc);
    cr_assert_eq(rc, 0);
    json_error_t err;
    json_t *root = json_loads(s, 0, &err);
    cr_assert_not_null(root, "invalid JSON (%s at line %d): %s", err.text, err.line, s);
    free(s);
    return root;
}

/* The finding of the brief's example: a mutex held by a worker when main forked. */
static void add_lock_finding(struct fs_findings *list)
{
    struct fs_finding *f = fs_findings_add(list, "lock-held-at-fork", FS_SEV_WARNING, 4242);
    fs_finding_summary(f, "pthread mutex 0x55d0c0a04040 held by thread 4201 \"worker\" when thread "
                          "4200 \"main\" forked child 4242");
    fs_finding_detail(f, "lock", "0x55d0c0a04040 (pthread mutex)");
    fs_finding_detail(f, "holder", "tid 4201 \"worker\"");

    struct fs_stack *s = fs_finding_stack_add(f, "acquire", 4201);
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->pc = 0x55d0c0a01130;
    fr->function = fs_xstrdup("inlined_helper");
    fr->file = fs_xstrdup("/src/x.h");
    fr->line = 12;
    fr->column = 5;
    fr->inlined = true;
    fr->module = fs_xstrdup("/src/mutex_held");
    fr->offset = 0x1130;
    fr = fs_stack_frame_add(s);
    fr->pc = 0x55d0c0a01130;
    fr->function = fs_xstrdup("worker");
    fr->file = fs_xstrdup("/src/cases/mutex_held.c");
    fr->line = 31;
    fr->module = fs_xstrdup("/src/mutex_held");
    fr->offset = 0x1130;
    fr->fn_off = 0x20;

    s = fs_finding_stack_add(f, "fork", 4200);
    fr = fs_stack_frame_add(s);
    fr->pc = 0x55d0c0a01200;
    fr->function = fs_xstrdup("main");
    fr->file = fs_xstrdup("/src/cases/mutex_held.c");
    fr->line = 52;

    fs_finding_path_add(f, 4200, "mutex_held");
    fs_finding_path_add(f, 4242, "mutex_held");
}

static const char golden_lock[] =
    "==4242== WARNING: forksan: lock-held-at-fork\n"
    "==4242== pthread mutex 0x55d0c0a04040 held by thread 4201 \"worker\" when thread 4200 "
    "\"main\" forked child 4242\n"
    "==4242== location: /src/x.h:12 in inlined_helper\n"
    "==4242==\n"
    "==4242==   lock:    0x55d0c0a04040 (pthread mutex)\n"
    "==4242==   holder:  tid 4201 \"worker\"\n"
    "==4242==\n"
    "==4242==   acquired by thread 4201:\n"
    "==4242==     #0 0x55d0c0a01130 in inlined_helper /src/x.h:12:5 (inlined)\n"
    "==4242==     #1 0x55d0c0a01130 in worker /src/cases/mutex_held.c:31\n"
    "==4242==   fork called by thread 4200:\n"
    "==4242==     #0 0x55d0c0a01200 in main /src/cases/mutex_held.c:52\n"
    "==4242==   process: 4200 (mutex_held) -> 4242 (mutex_held)\n"
    "==4242==\n"
    "SUMMARY: forksan: 0 errors, 1 warning, 0 notes in 3 processes\n";

Test(render_text, golden_lock_finding)
{
    struct fs_findings list = {0};
    add_lock_finding(&list);
    char *s = render_text(&list, &meta3);
    cr_assert_str_eq(s, golden_lock);
    free(s);
    fs_findings_release(&list);
}

Test(render_text, empty_report_is_silent)
{
    struct fs_findings list = {0};
    int rc;
    char *s = render(false, &list, &meta3, true, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "");
    free(s);
    s = render(false, &list, NULL, false, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "");
    free(s);
}

static const char *last_line(const char *s)
{
    size_t len = strlen(s);
    cr_assert_gt(len, 1);
    cr_assert_eq(s[len - 1], '\n');
    const char *p = s + len - 1;
    while (p > s && p[-1] != '\n')
        p--;
    return p;
}

Test(render_text, summary_pluralizes)
{
    struct fs_findings list = {0};
    fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 10);
    fs_findings_add(&list, "lock-held-at-fork", FS_SEV_WARNING, 10);
    fs_findings_add(&list, "threads-at-fork", FS_SEV_WARNING, 11);
    struct fs_report_meta one = {.processes = 1};
    char *s = render_text(&list, &one);
    cr_assert_str_eq(last_line(s), "SUMMARY: forksan: 1 error, 2 warnings, 0 notes in 1 process\n");
    free(s);

    fs_findings_add(&list, "rng-unseeded", FS_SEV_NOTE, 12);
    fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 12);
    struct fs_report_meta two = {.processes = 2, .damaged_traces = 1};
    s = render_text(&list, &two);
    cr_assert_str_eq(last_line(s), "SUMMARY: forksan: 2 errors, 2 warnings, 1 note in 2 processes "
                                   "(1 trace damaged)\n");
    free(s);
    fs_findings_release(&list);
}

Test(render_text, frames_without_symbols)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 7);
    struct fs_stack *s = fs_finding_stack_add(f, "thread-created", 8);
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->pc = 0x7f0000001234;
    fr->module = fs_xstrdup("/lib/libc.so.6");
    fr->offset = 0x1234;
    fr = fs_stack_frame_add(s);
    fr->pc = 0xdead;
    fr = fs_stack_frame_add(s);
    fr->pc = 0x401000;
    fr->file = fs_xstrdup("main.c");
    s = fs_finding_stack_add(f, "hung", 0);
    s = fs_finding_stack_add(f, "wait", 9);

    char *out = render_text(&list, NULL);
    cr_assert_str_eq(out, "==7== ERROR: forksan: child-hang\n"
                          "==7== location: main.c\n"
                          "==7==\n"
                          "==7==   thread 8 created at:\n"
                          "==7==     #0 0x7f0000001234 in ?? (/lib/libc.so.6+0x1234)\n"
                          "==7==     #1 0xdead in ?? (unknown module)\n"
                          "==7==     #2 0x401000 in ?? main.c\n"
                          "==7==   hung:\n"
                          "==7==     <no frames recorded>\n"
                          "==7==   wait (thread 9):\n"
                          "==7==     <no frames recorded>\n"
                          "==7==\n"
                          "SUMMARY: forksan: 1 error, 0 warnings, 0 notes in 0 processes\n");
    free(out);
    fs_findings_release(&list);
}

Test(render_text, control_characters_are_neutralized)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "threads-at-fork", FS_SEV_NOTE, 5);
    fs_finding_summary(f, "thread \"evil\033[2J\nname\" \xc2\x9b" "1m \xff\xc3 caf\xc3\xa9");
    fs_finding_path_add(f, 5, "a\tb");
    char *out = render_text(&list, &meta3);
    /* C0, C1 (U+009B is CSI to some terminals) and invalid UTF-8 escaped; valid UTF-8 kept. */
    cr_assert_str_eq(out, "==5== NOTE: forksan: threads-at-fork\n"
                          "==5== thread \"evil\\x1b[2J\\x0aname\" \\xc2\\x9b1m \\xff\\xc3 caf\xc3\xa9\n"
                          "==5==\n"
                          "==5==   process: 5 (a\\x09b)\n"
                          "==5==\n"
                          "SUMMARY: forksan: 0 errors, 0 warnings, 1 note in 3 processes\n");
    free(out);
    fs_findings_release(&list);
}

Test(render_text, color_only_on_the_severity_word)
{
    struct fs_findings list = {0};
    fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 3);
    int rc;
    char *s = render(false, &list, &meta3, true, &rc);
    cr_assert_eq(rc, 0);
    cr_assert(strncmp(s, "==3== \033[1;31mERROR\033[0m: forksan: child-deadlock\n",
                      strlen("==3== \033[1;31mERROR\033[0m: forksan: child-deadlock\n")) == 0,
              "got: %s", s);
    /* Nothing else is colored. */
    cr_assert_eq(strchr(strstr(s, "\033[0m") + 1, '\033'), NULL);
    free(s);
    s = render(false, &list, &meta3, false, &rc);
    cr_assert_eq(strchr(s, '\033'), NULL);
    free(s);
    fs_findings_release(&list);
}

Test(render_text, write_failure_is_reported)
{
    struct fs_findings list = {0};
    add_lock_finding(&list);
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        cr_skip_test("no /dev/full");
    cr_assert_eq(fs_render_text(full, &list, &meta3, false), -1);
    fclose(full);
    full = fopen("/dev/full", "w");
    cr_assert_not_null(full);
    cr_assert_eq(fs_render_json(full, &list, &meta3), -1);
    fclose(full);
    fs_findings_release(&list);
}

Test(render_json, empty_report_is_valid)
{
    struct fs_findings list = {0};
    json_t *root = render_json_parsed(&list, &meta3);
    cr_assert_eq(json_integer_value(json_object_get(root, "version")), 2);
    cr_assert(json_is_null(json_object_get(root, "run")), "no run object from report");
    cr_assert(json_is_array(json_object_get(root, "processes")));
    json_t *tool = json_object_get(root, "tool");
    cr_assert_str_eq(json_string_value(json_object_get(tool, "name")), "forksan");
    cr_assert_str_eq(json_string_value(json_object_get(tool, "version")), "9.8.7");
    cr_assert_str_eq(json_string_value(json_object_get(root, "command")), "./mutex_held");
    json_t *summary = json_object_get(root, "summary");
    cr_assert_eq(json_integer_value(json_object_get(summary, "errors")), 0);
    cr_assert_eq(json_integer_value(json_object_get(summary, "processes")), 3);
    cr_assert(json_is_integer(json_object_get(summary, "damaged_traces")));
    json_t *findings = json_object_get(root, "findings");
    cr_assert(json_is_array(findings));
    cr_assert_eq(json_array_size(findings), 0);
    json_decref(root);

    root = render_json_parsed(&list, NULL);
    cr_assert(json_is_null(json_object_get(root, "command")));
    cr_assert(json_is_null(json_object_get(json_object_get(root, "tool"), "version")));
    cr_assert(json_is_array(json_object_get(root, "findings")));
    json_decref(root);
}

Test(render_json, typed_details_ids_and_relations)
{
    struct fs_findings list = {0};
    struct fs_finding *a = fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 4242);
    fs_finding_detail(a, "lock", "0x10");
    fs_finding_detail_int(a, "child", 4242);
    fs_finding_detail_bool(a, "execed", false);
    fs_finding_detail(a, "related", "lock-held-at-fork");
    long long pids[] = {1, 2, 3};
    fs_finding_detail_ints(a, "children", pids, 3, "1, 2, 3 (3 children)");
    struct fs_kv *t = fs_finding_item(a, "threads", "thread 7", "\"w\": asleep");
    fs_kv_int(t, "tid", 7);
    fs_kv_str(t, "name", "w");
    struct fs_kv *h = fs_finding_item(a, NULL, "holder", "tid 7 \"w\"");
    fs_kv_int(h, "tid", 7);
    struct fs_finding *b = fs_findings_add(&list, "lock-held-at-fork", FS_SEV_WARNING, 4242);
    fs_finding_detail(b, "lock", "0x10");
    fs_findings_number(&list);
    a = &list.items[0]; /* adding b may have moved it */
    cr_assert_str_eq(fs_finding_related_id(&list, a), "F2");

    json_t *root = render_json_parsed(&list, &meta3);
    json_t *f = json_array_get(json_object_get(root, "findings"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(f, "id")), "F1");
    json_t *d = json_object_get(f, "details");
    cr_assert_eq(json_integer_value(json_object_get(d, "child")), 4242);
    cr_assert(json_is_false(json_object_get(d, "execed")));
    cr_assert_null(json_object_get(d, "related"), "relations are ids, not details");
    cr_assert_eq(json_array_size(json_object_get(d, "children")), 3);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(d, "children"), 2)), 3);
    json_t *th = json_array_get(json_object_get(d, "threads"), 0);
    cr_assert_eq(json_integer_value(json_object_get(th, "tid")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(th, "name")), "w");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "holder"), "tid")), 7);
    json_t *rel = json_array_get(json_object_get(f, "related"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(rel, "id")), "F2");
    cr_assert_str_eq(json_string_value(json_object_get(rel, "hazard")), "lock-held-at-fork");
    json_decref(root);

    /* The text report shows the same details as words. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(fs_render_text(mem, &list, &meta3, false), 0);
    fclose(mem);
    cr_assert_not_null(strstr(buf, "thread 7:"));
    cr_assert_not_null(strstr(buf, "\"w\": asleep"));
    cr_assert_not_null(strstr(buf, "1, 2, 3 (3 children)"));
    free(buf);
    fs_findings_release(&list);
}

Test(render_json, finding_fields_and_types)
{
    struct fs_findings list = {0};
    add_lock_finding(&list);
    json_t *root = render_json_parsed(&list, &meta3);

    json_t *summary = json_object_get(root, "summary");
    cr_assert_eq(json_integer_value(json_object_get(summary, "warnings")), 1);
    cr_assert_eq(json_integer_value(json_object_get(summary, "errors")), 0);

    json_t *f = json_array_get(json_object_get(root, "findings"), 0);
    cr_assert(json_is_object(f));
    cr_assert_str_eq(json_string_value(json_object_get(f, "hazard")), "lock-held-at-fork");
    cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "warning");
    cr_assert_eq(json_integer_value(json_object_get(f, "pid")), 4242);
    cr_assert_not_null(strstr(json_string_value(json_object_get(f, "summary")), "forked child"));

    json_t *path = json_object_get(f, "process_path");
    cr_assert_eq(json_array_size(path), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(path, 0), "pid")), 4200);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(path, 1), "name")),
                     "mutex_held");

    /* Details keep their order. */
    json_t *details = json_object_get(f, "details");
    cr_assert_eq(json_object_size(details), 2);
    void *it = json_object_iter(details);
    cr_assert_str_eq(json_object_iter_key(it), "lock");
    cr_assert_str_eq(json_string_value(json_object_iter_value(it)),
                     "0x55d0c0a04040 (pthread mutex)");
    it = json_object_iter_next(details, it);
    cr_assert_str_eq(json_object_iter_key(it), "holder");

    json_t *stacks = json_object_get(f, "stacks");
    cr_assert_eq(json_array_size(stacks), 2);
    json_t *s0 = json_array_get(stacks, 0);
    cr_assert_str_eq(json_string_value(json_object_get(s0, "role")), "acquire");
    cr_assert_eq(json_integer_value(json_object_get(s0, "tid")), 4201);

    json_t *fr = json_array_get(json_object_get(s0, "frames"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(fr, "pc")), "0x55d0c0a01130");
    cr_assert_str_eq(json_string_value(json_object_get(fr, "function")), "inlined_helper");
    cr_assert_str_eq(json_string_value(json_object_get(fr, "file")), "/src/x.h");
    cr_assert(json_is_integer(json_object_get(fr, "line")));
    cr_assert_eq(json_integer_value(json_object_get(fr, "line")), 12);
    cr_assert_eq(json_integer_value(json_object_get(fr, "column")), 5);
    cr_assert(json_is_true(json_object_get(fr, "inlined")));
    cr_assert_str_eq(json_string_value(json_object_get(fr, "module")), "/src/mutex_held");
    cr_assert_str_eq(json_string_value(json_object_get(fr, "offset")), "0x1130");

    json_t *fr1 = json_array_get(json_object_get(s0, "frames"), 1);
    cr_assert(json_is_false(json_object_get(fr1, "inlined")));
    cr_assert_str_eq(json_string_value(json_object_get(fr1, "function_offset")), "0x20");

    json_decref(root);
    fs_findings_release(&list);
}

Test(render_json, missing_values_are_null_or_zero)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 7);
    struct fs_stack *s = fs_finding_stack_add(f, "hung", 0);
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->pc = 0xdead;

    json_t *root = render_json_parsed(&list, &meta3);
    json_t *jf = json_array_get(json_object_get(root, "findings"), 0);
    cr_assert(json_is_null(json_object_get(jf, "summary")));
    cr_assert_eq(json_array_size(json_object_get(jf, "process_path")), 0);
    cr_assert(json_is_object(json_object_get(jf, "details")));
    json_t *jfr = json_array_get(
        json_object_get(json_array_get(json_object_get(jf, "stacks"), 0), "frames"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(jfr, "pc")), "0xdead");
    cr_assert(json_is_null(json_object_get(jfr, "function")));
    cr_assert(json_is_null(json_object_get(jfr, "function_offset")));
    cr_assert(json_is_null(json_object_get(jfr, "file")));
    cr_assert(json_is_null(json_object_get(jfr, "module")));
    cr_assert(json_is_null(json_object_get(jfr, "offset")));
    cr_assert(json_is_integer(json_object_get(jfr, "line")));
    cr_assert_eq(json_integer_value(json_object_get(jfr, "line")), 0);
    cr_assert_eq(json_integer_value(json_object_get(jfr, "column")), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "summary"), "errors")),
                 1);
    json_decref(root);
    fs_findings_release(&list);
}

Test(render_json, non_utf8_and_repeated_keys_stay_valid)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "threads-at-fork", FS_SEV_NOTE, 5);
    fs_finding_path_add(f, 5, "bad\xff\xc3name");
    fs_finding_detail(f, "thread", "1 \"a\"");
    fs_finding_detail(f, "thread", "2 \"b\"");
    fs_finding_detail(f, "k\xfe", "v");

    json_t *root = render_json_parsed(&list, NULL);
    json_t *jf = json_array_get(json_object_get(root, "findings"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(jf, "process_path"), 0), "name")),
                     "bad??name");
    json_t *details = json_object_get(jf, "details");
    cr_assert_str_eq(json_string_value(json_object_get(details, "thread")), "1 \"a\", 2 \"b\"");
    cr_assert_str_eq(json_string_value(json_object_get(details, "k?")), "v");
    json_decref(root);
    fs_findings_release(&list);
}

/* A stack whose frames all folded away (a Python lock taken inside the interpreter) shows no
 * empty section in the text; JSON keeps it with its count, as typed data. */
Test(render_text, a_stack_folded_away_is_left_out_but_kept_in_json)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "lock-held-at-fork", FS_SEV_WARNING, 7);
    struct fs_stack *s = fs_finding_stack_add(f, "acquire", 8);
    s->folded = 1;
    s = fs_finding_stack_add(f, "holder", 8);
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->lang = FS_LANG_PYTHON;
    fr->function = fs_xstrdup("flush");
    fr->file = fs_xstrdup("/work/app.py");
    fr->line = 59;
    s = fs_finding_stack_add(f, "wait", 9); /* nothing recorded at all: still said */

    char *out = render_text(&list, NULL);
    cr_assert_str_eq(out, "==7== WARNING: forksan: lock-held-at-fork\n"
                          "==7== location: /work/app.py:59 in flush\n"
                          "==7==\n"
                          "==7==   thread 8 at the fork, holding it:\n"
                          "==7==     #0 [py] in flush /work/app.py:59\n"
                          "==7==   wait (thread 9):\n"
                          "==7==     <no frames recorded>\n"
                          "==7==\n"
                          "SUMMARY: forksan: 0 errors, 1 warning, 0 notes in 0 processes\n");
    free(out);

    json_t *root = render_json_parsed(&list, NULL);
    json_t *stacks = json_object_get(json_array_get(json_object_get(root, "findings"), 0),
                                     "stacks");
    cr_assert_eq(json_array_size(stacks), 3);
    json_t *acq = json_array_get(stacks, 0);
    cr_assert_str_eq(json_string_value(json_object_get(acq, "role")), "acquire");
    cr_assert_eq(json_integer_value(json_object_get(acq, "folded")), 1);
    cr_assert_eq(json_array_size(json_object_get(acq, "frames")), 0);
    json_decref(root);
    fs_findings_release(&list);
}
