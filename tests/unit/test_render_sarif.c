/* Unit tests of the SARIF renderer: findings built with the finding.h builders (and, end to end,
 * the findings of a committed golden trace directory) rendered into memory, parsed back with
 * jansson, checked against the structure SARIF 2.1.0 requires and against the mapping in
 * docs/report-sarif.md. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "finding.h"
#include "render.h"

static const struct fs_report_meta meta = {
    .version = "9.8.7",
    .command = "./mutex_held",
    .processes = 3,
    .damaged_traces = 1,
    .suppressed = 2,
};

static char *render(const struct fs_findings *f, const struct fs_report_meta *m, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    *rc = fs_render_sarif(out, f, m);
    cr_assert_eq(fclose(out), 0);
    return buf;
}

/* Characters of a URI reference as the renderer writes them (RFC 3986 path characters plus
 * percent-escapes; ':' only in the "file:" scheme). */
static void check_uri(const char *uri)
{
    const char *p = uri;
    if (strncmp(p, "file:///", 8) == 0)
        p += 7;
    cr_assert_neq(*p, '\0', "empty uri");
    for (; *p; p++) {
        if (*p == '%') {
            cr_assert(strchr("0123456789ABCDEF", p[1]) && p[1] &&
                          strchr("0123456789ABCDEF", p[2]) && p[2],
                      "bad escape in %s", uri);
            p += 2;
            continue;
        }
        cr_assert((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,;=@", *p),
                  "character '%c' in uri %s", *p, uri);
    }
}

static void check_message(json_t *m, const char *where)
{
    cr_assert(json_is_string(json_object_get(m, "text")), "%s: message.text missing", where);
}

/* A location as SARIF requires it: a physical location names its artifact, a region starts at
 * a line >= 1 (and a column >= 1 when it has one). */
static void check_location(json_t *loc)
{
    cr_assert(json_is_object(loc));
    json_t *phys = json_object_get(loc, "physicalLocation");
    if (phys) {
        const char *uri =
            json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri"));
        cr_assert_not_null(uri, "physicalLocation without artifactLocation.uri");
        check_uri(uri);
        json_t *region = json_object_get(phys, "region");
        if (region) {
            cr_assert_geq(json_integer_value(json_object_get(region, "startLine")), 1);
            json_t *col = json_object_get(region, "startColumn");
            if (col)
                cr_assert_geq(json_integer_value(col), 1);
        }
    }
    json_t *logical = json_object_get(loc, "logicalLocations");
    cr_assert(phys || logical, "empty location");
    if (json_object_get(loc, "message"))
        check_message(json_object_get(loc, "message"), "location");
}

/* The required structure of the whole log; returns the run's results. */
static json_t *check_sarif(json_t *root)
{
    cr_assert(json_is_object(root));
    cr_assert(json_is_string(json_object_get(root, "$schema")));
    cr_assert_str_eq(json_string_value(json_object_get(root, "version")), "2.1.0");
    json_t *runs = json_object_get(root, "runs");
    cr_assert_eq(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
    cr_assert_str_eq(json_string_value(json_object_get(driver, "name")), "forksan");
    json_t *rules = json_object_get(driver, "rules");
    cr_assert(json_is_array(rules));
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        cr_assert(json_is_string(json_object_get(r, "id")));
        check_message(json_object_get(r, "shortDescription"), "rule");
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(json_string_value(json_object_get(json_array_get(rules, j), "id")),
                              json_string_value(json_object_get(r, "id")), "rule given twice");
    }
    json_t *results = json_object_get(run, "results");
    cr_assert(json_is_array(results), "results must be present, [] when empty");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *res = json_array_get(results, i);
        const char *rule_id = json_string_value(json_object_get(res, "ruleId"));
        cr_assert_not_null(rule_id);
        json_int_t idx = json_integer_value(json_object_get(res, "ruleIndex"));
        cr_assert_lt((size_t)idx, json_array_size(rules));
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rules, idx), "id")),
                         rule_id, "ruleIndex does not lead to ruleId");
        const char *level = json_string_value(json_object_get(res, "level"));
        cr_assert(level && (strcmp(level, "error") == 0 || strcmp(level, "warning") == 0 ||
                            strcmp(level, "note") == 0));
        check_message(json_object_get(res, "message"), "result");
        json_t *locs = json_object_get(res, "locations");
        for (size_t j = 0; j < json_array_size(locs); j++)
            check_location(json_array_get(locs, j));
        json_t *related = json_object_get(res, "relatedLocations");
        json_t *stacks = json_object_get(res, "stacks");
        for (size_t j = 0; j < json_array_size(related); j++) {
            json_t *loc = json_array_get(related, j);
            check_location(loc);
            json_int_t id = json_integer_value(json_object_get(loc, "id"));
            cr_assert_lt((size_t)id, json_array_size(stacks), "related id is not a stack index");
            for (size_t k = 0; k < j; k++)
                cr_assert(!json_equal(json_array_get(related, k), loc), "related not unique");
        }
        for (size_t j = 0; j < json_array_size(stacks); j++) {
            json_t *s = json_array_get(stacks, j);
            check_message(json_object_get(s, "message"), "stack");
            json_t *frames = json_object_get(s, "frames");
            cr_assert(json_is_array(frames), "stack.frames is required");
            for (size_t k = 0; k < json_array_size(frames); k++) {
                json_t *loc = json_object_get(json_array_get(frames, k), "location");
                if (loc)
                    check_location(loc);
            }
            for (size_t k = 0; k < j; k++)
                cr_assert(!json_equal(json_array_get(stacks, k), s), "stacks not unique");
        }
    }
    return results;
}

static json_t *render_parsed(const struct fs_findings *f, const struct fs_report_meta *m)
{
    int rc;
    char *s = render(f, m, &rc);
    cr_assert_eq(rc, 0);
    size_t len = strlen(s);
    cr_assert(len > 0 && s[len - 1] == '\n', "the log ends with a newline");
    json_error_t err;
    json_t *root = json_loads(s, 0, &err);
    cr_assert_not_null(root, "invalid JSON (%s at line %d): %s", err.text, err.line, s);
    free(s);
    return root;
}

static struct fs_frame *add_frame(struct fs_stack *s, const char *fn, const char *file, int line,
                                  int column)
{
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->pc = 0x1000 + s->nframes;
    fr->function = fn ? fs_xstrdup(fn) : NULL;
    fr->file = file ? fs_xstrdup(file) : NULL;
    fr->line = line;
    fr->column = column;
    fr->module = fs_xstrdup("/bin/app");
    fr->offset = 0x10;
    return fr;
}

static const char *str_at(json_t *j, const char *path)
{
    /* A dotted path of object keys and array indexes, e.g. "locations.0.message.text". */
    char *copy = fs_xstrdup(path);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
        j = (*tok >= '0' && *tok <= '9') ? json_array_get(j, strtoul(tok, NULL, 10))
                                         : json_object_get(j, tok);
    free(copy);
    return json_string_value(j);
}

static json_int_t int_at(json_t *j, const char *path)
{
    char *copy = fs_xstrdup(path);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
        j = (*tok >= '0' && *tok <= '9') ? json_array_get(j, strtoul(tok, NULL, 10))
                                         : json_object_get(j, tok);
    free(copy);
    cr_assert(json_is_integer(j), "no integer at %s", path);
    return json_integer_value(j);
}

/* The brief's example: a mutex held by a worker when main forked. */
static void add_lock_finding(struct fs_findings *list)
{
    struct fs_finding *f = fs_findings_add(list, "lock-held-at-fork", FS_SEV_WARNING, 4242);
    fs_finding_summary(f, "pthread mutex 0x55d0c0a04040 held by thread 4201 \"worker\"");
    fs_finding_detail(f, "lock", "0x55d0c0a04040 (pthread mutex)");
    fs_finding_detail(f, "holder", "tid 4201 \"worker\"");
    struct fs_stack *s = fs_finding_stack_add(f, "acquire", 4201);
    add_frame(s, NULL, NULL, 0, 0); /* libc, no debug information */
    add_frame(s, "inlined_helper", "/src/x.h", 12, 5)->inlined = true;
    add_frame(s, "worker", "/src/cases/mutex_held.c", 31, 0);
    s = fs_finding_stack_add(f, "fork", 4200);
    add_frame(s, "main", "/src/cases/mutex_held.c", 52, 0);
    fs_finding_path_add(f, 4200, "mutex_held");
    fs_finding_path_add(f, 4242, "mutex_held");
}

Test(render_sarif, lock_finding_mapping)
{
    struct fs_findings list = {0};
    add_lock_finding(&list);
    json_t *root = render_parsed(&list, &meta);
    json_t *results = check_sarif(root);
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);

    cr_assert_str_eq(str_at(run, "tool.driver.version"), "9.8.7");
    cr_assert_str_eq(str_at(run, "tool.driver.rules.0.id"), "lock-held-at-fork");
    cr_assert_str_eq(str_at(run, "tool.driver.rules.0.defaultConfiguration.level"), "warning");
    cr_assert_not_null(str_at(run, "tool.driver.rules.0.shortDescription.text"));
    cr_assert_str_eq(str_at(run, "properties.command"), "./mutex_held");
    cr_assert_eq(int_at(run, "properties.damagedTraces"), 1);
    cr_assert_eq(int_at(run, "properties.suppressed"), 2);

    cr_assert_eq(json_array_size(results), 1);
    json_t *r = json_array_get(results, 0);
    cr_assert_str_eq(str_at(r, "ruleId"), "lock-held-at-fork");
    cr_assert_eq(int_at(r, "ruleIndex"), 0);
    cr_assert_str_eq(str_at(r, "level"), "warning");
    /* The summary, then links to the evidence (relatedLocations by id). */
    const char *want = "pthread mutex 0x55d0c0a04040 held by thread 4201 \"worker\"";
    cr_assert_eq(strncmp(str_at(r, "message.text"), want, strlen(want)), 0, "%s",
                 str_at(r, "message.text"));

    /* The innermost frame with a file of the acquire stack, skipping the libc frame. */
    cr_assert_eq(json_array_size(json_object_get(r, "locations")), 1);
    cr_assert_str_eq(str_at(r, "locations.0.physicalLocation.artifactLocation.uri"),
                     "file:///src/x.h");
    cr_assert_eq(int_at(r, "locations.0.physicalLocation.region.startLine"), 12);
    cr_assert_eq(int_at(r, "locations.0.physicalLocation.region.startColumn"), 5);
    cr_assert_str_eq(str_at(r, "locations.0.logicalLocations.0.fullyQualifiedName"),
                     "inlined_helper");

    /* The fork stack as a related location, no column when it is unknown. */
    cr_assert_eq(json_array_size(json_object_get(r, "relatedLocations")), 1);
    cr_assert_str_eq(str_at(r, "relatedLocations.0.message.text"), "fork");
    cr_assert_eq(int_at(r, "relatedLocations.0.id"), 1);
    cr_assert_str_eq(str_at(r, "relatedLocations.0.physicalLocation.artifactLocation.uri"),
                     "file:///src/cases/mutex_held.c");
    cr_assert_eq(int_at(r, "relatedLocations.0.physicalLocation.region.startLine"), 52);
    cr_assert_null(json_object_get(
        json_object_get(json_object_get(json_array_get(json_object_get(r, "relatedLocations"), 0),
                                        "physicalLocation"),
                        "region"),
        "startColumn"));

    /* Every stack and every frame, also the one without file or function. */
    json_t *stacks = json_object_get(r, "stacks");
    cr_assert_eq(json_array_size(stacks), 2);
    cr_assert_str_eq(str_at(stacks, "0.message.text"), "acquire");
    cr_assert_eq(int_at(stacks, "0.properties.tid"), 4201);
    cr_assert_eq(json_array_size(json_object_get(json_array_get(stacks, 0), "frames")), 3);
    cr_assert_null(
        json_object_get(json_array_get(json_object_get(json_array_get(stacks, 0), "frames"), 0),
                        "location"),
        "a frame with neither file nor function has no location");
    cr_assert_str_eq(str_at(stacks, "0.frames.0.module"), "/bin/app");
    cr_assert_str_eq(str_at(stacks, "0.frames.2.location.logicalLocations.0.fullyQualifiedName"),
                     "worker");
    cr_assert(json_is_true(json_object_get(
        json_object_get(json_array_get(json_object_get(json_array_get(stacks, 0), "frames"), 1),
                        "properties"),
        "inlined")));
    cr_assert_str_eq(str_at(stacks, "1.message.text"), "fork");

    cr_assert_eq(int_at(r, "properties.pid"), 4242);
    cr_assert_eq(int_at(r, "properties.processPath.1.pid"), 4242);
    cr_assert_str_eq(str_at(r, "properties.processPath.0.name"), "mutex_held");
    cr_assert_str_eq(str_at(r, "properties.details.holder"), "tid 4201 \"worker\"");

    json_decref(root);
    fs_findings_release(&list);
}

Test(render_sarif, empty_report_is_a_complete_log)
{
    struct fs_findings list = {0};
    json_t *root = render_parsed(&list, &meta);
    json_t *results = check_sarif(root);
    cr_assert_eq(json_array_size(results), 0);
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_eq(json_array_size(json_object_get(
                     json_object_get(json_object_get(run, "tool"), "driver"), "rules")),
                 0);
    json_decref(root);

    /* Without meta and without a list at all. */
    root = render_parsed(NULL, NULL);
    check_sarif(root);
    run = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_null(str_at(run, "tool.driver.version"), "no version rather than null");
    json_decref(root);
}

Test(render_sarif, primary_location_follows_role_priority)
{
    struct fs_findings list = {0};
    /* 0: child-acquire wins over acquire and fork whatever the order. */
    struct fs_finding *f = fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 10);
    add_frame(fs_finding_stack_add(f, "fork", 1), "main", "fork.c", 3, 0);
    add_frame(fs_finding_stack_add(f, "acquire", 2), "worker", "acquire.c", 4, 0);
    add_frame(fs_finding_stack_add(f, "child-acquire", 10), "child", "child.c", 5, 0);
    /* 1: an acquire stack without any file gives way to the fork. */
    f = fs_findings_add(&list, "lock-held-at-fork", FS_SEV_WARNING, 11);
    add_frame(fs_finding_stack_add(f, "acquire", 2), "pthread_mutex_lock", NULL, 0, 0);
    add_frame(fs_finding_stack_add(f, "thread-created", 2), "main", "create.c", 7, 0);
    add_frame(fs_finding_stack_add(f, "fork", 1), "main", "fork.c", 8, 0);
    /* 2: no known role: the first stack with a file (an empty name is none). */
    f = fs_findings_add(&list, "rng-unseeded", FS_SEV_NOTE, 12);
    add_frame(fs_finding_stack_add(f, "other", 0), NULL, "", 0, 0);
    add_frame(fs_finding_stack_add(f, "draw", 0), "roll", "rng.c", 9, 2);
    /* 3: no frame has a file: located in the binary, and the stacks are there. */
    f = fs_findings_add(&list, "child-hang", FS_SEV_ERROR, 13);
    add_frame(fs_finding_stack_add(f, "thread", 13), "poll", NULL, 0, 0);
    /* 4: no stacks at all. */
    f = fs_findings_add(&list, "threads-at-fork", FS_SEV_NOTE, 14);

    json_t *root = render_parsed(&list, NULL);
    json_t *results = check_sarif(root);
    cr_assert_eq(json_array_size(results), 5);
    const char *uri = "locations.0.physicalLocation.artifactLocation.uri";
    cr_assert_str_eq(str_at(json_array_get(results, 0), uri), "child.c");
    cr_assert_eq(json_array_size(json_object_get(json_array_get(results, 0), "relatedLocations")),
                 2);
    cr_assert_str_eq(str_at(json_array_get(results, 1), uri), "fork.c");
    cr_assert_str_eq(str_at(json_array_get(results, 1), "relatedLocations.0.message.text"),
                     "thread-created");
    cr_assert_eq(int_at(json_array_get(results, 1), "relatedLocations.0.id"), 1);
    cr_assert_str_eq(str_at(json_array_get(results, 2), uri), "rng.c");
    cr_assert_eq(
        int_at(json_array_get(results, 2), "locations.0.physicalLocation.region.startColumn"), 2);
    cr_assert_null(json_object_get(json_array_get(results, 2), "relatedLocations"));
    /* No frame with a source file: located in the binary, as code scanning wants a location. */
    cr_assert_not_null(json_object_get(json_array_get(results, 3), "locations"));
    cr_assert_null(json_object_get(json_array_get(results, 3), "codeFlows"));
    cr_assert_eq(json_array_size(json_object_get(json_array_get(results, 3), "stacks")), 1);
    cr_assert_str_eq(str_at(json_array_get(results, 3),
                            "stacks.0.frames.0.location.logicalLocations.0.fullyQualifiedName"),
                     "poll");
    /* No stacks at all: located in the process's program (its path name here). */
    cr_assert_not_null(json_object_get(json_array_get(results, 4), "locations"));
    cr_assert_null(json_object_get(json_array_get(results, 4), "stacks"));
    json_decref(root);
    fs_findings_release(&list);
}

Test(render_sarif, one_rule_per_hazard_and_levels)
{
    struct fs_findings list = {0};
    fs_findings_add(&list, "threads-at-fork", FS_SEV_NOTE, 1); /* the child exec'd */
    fs_findings_add(&list, "child-deadlock", FS_SEV_ERROR, 2);
    fs_findings_add(&list, "threads-at-fork", FS_SEV_WARNING, 3);
    fs_findings_add(&list, "brand-new-hazard", FS_SEV_ERROR, 4);

    json_t *root = render_parsed(&list, NULL);
    json_t *results = check_sarif(root);
    json_t *rules = json_object_get(
        json_object_get(json_object_get(json_array_get(json_object_get(root, "runs"), 0), "tool"),
                        "driver"),
        "rules");
    cr_assert_eq(json_array_size(rules), 3);
    cr_assert_str_eq(str_at(rules, "0.id"), "threads-at-fork");
    cr_assert_str_eq(str_at(rules, "0.defaultConfiguration.level"), "warning",
                     "a rule's level is the hazard's default, not its first finding's");
    cr_assert_str_eq(str_at(rules, "1.id"), "child-deadlock");
    cr_assert_str_eq(str_at(rules, "1.defaultConfiguration.level"), "error");
    cr_assert_str_eq(str_at(rules, "2.id"), "brand-new-hazard");
    cr_assert_str_eq(str_at(rules, "2.defaultConfiguration.level"), "error");
    cr_assert_not_null(str_at(rules, "2.shortDescription.text"));

    cr_assert_str_eq(str_at(results, "0.level"), "note");
    cr_assert_str_eq(str_at(results, "1.level"), "error");
    cr_assert_str_eq(str_at(results, "2.level"), "warning");
    cr_assert_eq(int_at(results, "2.ruleIndex"), 0);
    cr_assert_eq(int_at(results, "3.ruleIndex"), 2);
    /* No summary: the message is the hazard id, message.text being required. */
    cr_assert_str_eq(str_at(results, "3.message.text"), "brand-new-hazard");
    json_decref(root);
    fs_findings_release(&list);
}

Test(render_sarif, file_paths_become_uri_references)
{
    static const struct {
        const char *file;
        const char *uri;
    } cases[] = {
        {"/src/a.c", "file:///src/a.c"},
        {"src/dir with space/b.c", "src/dir%20with%20space/b.c"},
        {"../csu/libc-start.c", "../csu/libc-start.c"},
        {"c:d.c", "c%3Ad.c"},
        {"/x/\xc3\xbc#?%.c", "file:///x/%C3%BC%23%3F%25.c"},
        {"/bad/\xff.c", "file:///bad/%FF.c"},
    };
    size_t n = sizeof cases / sizeof *cases;
    struct fs_findings list = {0};
    for (size_t i = 0; i < n; i++) {
        struct fs_finding *f = fs_findings_add(&list, "rng-unseeded", FS_SEV_NOTE, (int)i);
        add_frame(fs_finding_stack_add(f, "draw", 0), "f", cases[i].file, 1, 0);
    }
    json_t *root = render_parsed(&list, NULL);
    json_t *results = check_sarif(root);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(
            str_at(json_array_get(results, i), "locations.0.physicalLocation.artifactLocation.uri"),
            cases[i].uri);
    json_decref(root);
    fs_findings_release(&list);
}

Test(render_sarif, duplicate_stacks_and_bad_utf8_stay_valid)
{
    struct fs_findings list = {0};
    struct fs_finding *f = fs_findings_add(&list, "rng-duplicated", FS_SEV_ERROR, 5);
    fs_finding_summary(f, "bytes \xff\xfe in a name");
    fs_finding_detail(f, "name\xff", "value \xc0");
    fs_finding_path_add(f, 5, "pro\xffg");
    /* Siblings forked by one loop: the same fork stack twice. */
    add_frame(fs_finding_stack_add(f, "fork", 4), "main", "loop.c", 20, 0);
    add_frame(fs_finding_stack_add(f, "fork", 4), "main", "loop.c", 20, 0);
    add_frame(fs_finding_stack_add(f, "seed", 4), "main\xff", "loop.c", 10, 0);

    json_t *root = render_parsed(&list, NULL);
    json_t *results = check_sarif(root); /* also checks stacks and related are distinct */
    json_t *r = json_array_get(results, 0);
    cr_assert_eq(strncmp(str_at(r, "message.text"), "bytes ?? in a name", 18), 0);
    cr_assert_eq(json_array_size(json_object_get(r, "stacks")), 2);
    cr_assert_str_eq(str_at(r, "locations.0.physicalLocation.artifactLocation.uri"), "loop.c");
    cr_assert_eq(json_array_size(json_object_get(r, "relatedLocations")), 1);
    cr_assert_str_eq(str_at(r, "relatedLocations.0.message.text"), "seed");
    cr_assert_eq(int_at(r, "relatedLocations.0.id"), 1, "the id is the index in stacks");
    cr_assert_str_eq(str_at(r, "properties.processPath.0.name"), "pro?g");
    json_decref(root);
    fs_findings_release(&list);
}

Test(render_sarif, write_failure_is_reported)
{
    struct fs_findings list = {0};
    add_lock_finding(&list);
    FILE *ro = fopen("/dev/null", "r");
    cr_assert_not_null(ro);
    cr_assert_eq(fs_render_sarif(ro, &list, &meta), -1);
    fclose(ro);
    fs_findings_release(&list);
}

/* End to end without running anything: the analyzer on a committed golden trace directory,
 * rendered as SARIF.  Its modules exist on no machine, so the frames have no files: results
 * without locations, with every stack. */
Test(render_sarif, golden_traces_end_to_end)
{
    struct fs_analysis a;
    memset(&a, 0, sizeof a);
    cr_assert_eq(fs_analyze_dir(FORKSAN_TEST_DATA "/golden/mutex_thread/traces", &a), 0);
    cr_assert_gt(a.findings.n, 0);
    struct fs_report_meta m = {.version = "0", .processes = a.processes};
    json_t *root = render_parsed(&a.findings, &m);
    json_t *results = check_sarif(root);
    cr_assert_eq(json_array_size(results), a.findings.n);
    bool saw_lock = false;
    for (size_t i = 0; i < a.findings.n; i++) {
        json_t *r = json_array_get(results, i);
        cr_assert_str_eq(str_at(r, "ruleId"), a.findings.items[i].hazard);
        cr_assert_str_eq(str_at(r, "level"), fs_severity_name(a.findings.items[i].severity));
        cr_assert_eq(json_array_size(json_object_get(r, "stacks")) > 0,
                     a.findings.items[i].nstacks > 0);
        if (strcmp(a.findings.items[i].hazard, "lock-held-at-fork") == 0) {
            saw_lock = true;
            /* No debug information: the location is the binary itself. */
            cr_assert_str_eq(str_at(r, "locations.0.physicalLocation.artifactLocation.uri"),
                             "file:///nonexistent/golden/app");
            cr_assert_str_eq(str_at(r, "stacks.0.frames.0.module"), "/nonexistent/golden/app");
        }
    }
    cr_assert(saw_lock);
    json_decref(root);
    fs_analysis_release(&a);
}

/* GitHub code scanning: rules carry their help, files below --source-root are relative to
 * %SRCROOT%, the fingerprint ignores pids, tids, addresses and lines, and stacks become code
 * flows outermost frame first. */
static void add_deadlock(struct fs_findings *list, int pid, uint64_t pc, int line)
{
    struct fs_finding *f = fs_findings_add(list, "child-deadlock", FS_SEV_ERROR, pid);
    fs_finding_summary(f, "child %d blocked [really]", pid);
    struct fs_stack *s = fs_finding_stack_add(f, "child-acquire", pid);
    struct fs_frame *fr = add_frame(s, "take", "/repo/src/lock.c", line, 0);
    fr->pc = pc;
    add_frame(s, "main", "/repo/src/main.c", 40, 0);
    add_frame(fs_finding_stack_add(f, "fork", pid - 1), "spawn", "/elsewhere/fork.c", 7, 0);
}

Test(render_sarif, github_code_scanning_fields)
{
    struct fs_findings a = {0}, b = {0};
    add_deadlock(&a, 100, 0x1234, 10);
    add_deadlock(&b, 200, 0x5678, 12);
    struct fs_report_meta meta = {.version = "1", .source_root = "/repo"};
    json_t *ra = render_parsed(&a, &meta), *rb = render_parsed(&b, &meta);
    json_t *run = json_array_get(json_object_get(ra, "runs"), 0);
    json_t *rule = json_array_get(json_object_get(json_object_get(json_object_get(run, "tool"),
                                                                  "driver"),
                                                  "rules"),
                                  0);
    cr_assert_str_eq(str_at(rule, "name"), "ChildDeadlock");
    cr_assert_not_null(str_at(rule, "fullDescription.text"));
    cr_assert_not_null(str_at(rule, "help.text"));
    cr_assert_not_null(str_at(rule, "help.markdown"));
    cr_assert_not_null(strstr(str_at(rule, "helpUri"), "hazards.md#child-deadlock"));
    cr_assert_str_eq(str_at(run, "originalUriBaseIds.%SRCROOT%.uri"), "file:///repo/");

    json_t *r = json_array_get(json_object_get(run, "results"), 0);
    cr_assert_str_eq(str_at(r, "locations.0.physicalLocation.artifactLocation.uri"), "src/lock.c");
    cr_assert_str_eq(str_at(r, "locations.0.physicalLocation.artifactLocation.uriBaseId"),
                     "%SRCROOT%");
    /* Outside the source root: an absolute URI, no base. */
    cr_assert_str_eq(str_at(r, "relatedLocations.0.physicalLocation.artifactLocation.uri"),
                     "file:///elsewhere/fork.c");
    /* The message escapes the summary's brackets and links the evidence. */
    cr_assert_not_null(strstr(str_at(r, "message.text"), "\\[really\\]"));
    cr_assert_not_null(strstr(str_at(r, "message.text"), "[fork](1)"));
    /* A code flow per stack, outermost frame first. */
    cr_assert_str_eq(str_at(r, "codeFlows.0.threadFlows.0.locations.0.location.message.text"),
                     "main");
    cr_assert_str_eq(str_at(r, "codeFlows.0.threadFlows.0.locations.1.location.message.text"),
                     "take");
    json_t *rb0 = json_array_get(
        json_object_get(json_array_get(json_object_get(rb, "runs"), 0), "results"), 0);
    cr_assert_str_eq(str_at(r, "partialFingerprints.forksanFindingHash/v1"),
                     str_at(rb0, "partialFingerprints.forksanFindingHash/v1"),
                     "same code, other pids, addresses and lines: same fingerprint");
    cr_assert_not_null(json_object_get(run, "invocations"));
    json_decref(ra);
    json_decref(rb);
    fs_findings_release(&a);
    fs_findings_release(&b);
}
