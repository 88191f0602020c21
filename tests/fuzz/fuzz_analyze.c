/* libFuzzer target for everything the analyzer does with a trace directory it did not write:
 * the reader (common/trace_read.c), the model (analyzer/model/model*.c), every rule, and the three
 * renderers.  One input is a whole trace directory: files separated by NUL bytes, each file
 * named <i>.0.trace, or <i>.hang when it holds a `hang` record.  Stacks are not symbolized
 * (a trace names module paths, and a fuzzer must not open files of the machine); symbolizer
 * inputs are fuzzed through the model's module maps all the same.
 *
 * Beyond "no crash, no leak, no UB", it checks the renderers' promises: the text report holds
 * no control byte but newline and no invalid UTF-8 (it goes to terminals), and the JSON and
 * SARIF reports are complete documents that jansson reads back. */
#include "cli.h"
#include "diag.h"
#include "model.h"
#include "render.h"
#include "rules.h"
#include "textsafe.h"
#include "trace_read.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_file(struct fs_model *m, const uint8_t *p, size_t n, size_t index)
{
    bool hang = memmem(p, n, "\nhang ", 6) != NULL;
    char name[64];
    snprintf(name, sizeof name, hang ? "fuzz/%zu.hang" : "fuzz/%zu.0.trace", index + 1);
    struct fs_trace_file tf;
    if (fs_trace_parse((const char *)p, n, name, &tf) == 0) {
        if (hang)
            (void)fs_model_add_hang(m, &tf);
        else
            (void)fs_model_add_trace(m, &tf);
    }
    fs_trace_release(&tf);
}

static void check_json(const char *buf, size_t len)
{
    json_error_t err;
    json_t *doc = json_loadb(buf, len, 0, &err);
    if (!doc) {
        fprintf(stderr, "report is not JSON: %s\n", err.text);
        abort();
    }
    json_decref(doc);
}

typedef int (*render_fn)(FILE *, const struct fs_findings *, const struct fs_report_meta *);

static int render_text_plain(FILE *out, const struct fs_findings *f,
                             const struct fs_report_meta *meta)
{
    return fs_render_text(out, f, meta, false);
}

static void render(render_fn fn, const struct fs_findings *f, const struct fs_report_meta *meta,
                   bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return;
    int rc = fn(out, f, meta);
    fclose(out);
    if (rc != 0) {
        fprintf(stderr, "a renderer failed\n");
        abort();
    }
    if (json)
        check_json(buf, len);
    else if (!fs_text_is_clean(buf, len)) {
        fprintf(stderr, "the text report holds a control byte or invalid UTF-8\n");
        abort();
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        fs_diag_set_quiet(getenv("FORKSAN_FUZZ_VERBOSE") == NULL);
        init = true;
    }
    struct fs_model m;
    memset(&m, 0, sizeof m);
    size_t start = 0, index = 0;
    for (size_t i = 0; i <= size && index < 64; i++) {
        if (i == size || data[i] == 0) {
            add_file(&m, data + start, i - start, index++);
            start = i + 1;
        }
    }
    fs_model_link(&m);

    struct fs_findings f;
    memset(&f, 0, sizeof f);
    fs_rules_run(&m, NULL, &f);
    fs_findings_sort(&f);
    struct fs_report_meta meta = {.version = "fuzz", .command = "fuzz",
                                  .processes = (unsigned)m.nprocs};
    render(render_text_plain, &f, &meta, false);
    render(fs_render_json, &f, &meta, true);
    render(fs_render_sarif, &f, &meta, true);
    fs_findings_release(&f);
    fs_model_release(&m);
    return 0;
}
