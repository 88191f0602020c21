/* The HTML report (docs/report-html.md): one self-contained page (no network, works from file://)
 * that draws the process tree, a timeline and the findings in the browser from the JSON report
 * embedded in it, so it shows exactly what the JSON says.  The only thing added here is what the
 * JSON does not carry: the source lines around each finding's primary frame, read now, when the
 * file is readable. */
#include "render.h"
#include "render_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define CONTEXT_LINES 3
#define MAX_LINE      400

/* Lines [line - CONTEXT_LINES, line + CONTEXT_LINES] of path (each cut at MAX_LINE bytes), or
 * NULL when the file cannot be read. */
static json_t *source_excerpt(const char *path, int line)
{
    if (!path || path[0] != '/' || line <= 0)
        return NULL;
    FILE *fp = fopen(path, "re");
    if (!fp)
        return NULL;
    json_t *lines = json_array();
    int first = line > CONTEXT_LINES ? line - CONTEXT_LINES : 1;
    char *buf = NULL;
    size_t cap = 0;
    for (int n = 1; n <= line + CONTEXT_LINES && getline(&buf, &cap, fp) >= 0; n++) {
        if (n < first)
            continue;
        buf[strcspn(buf, "\n")] = '\0';
        if (strlen(buf) > MAX_LINE)
            buf[MAX_LINE] = '\0';
        if (append(lines, jstr(buf)) < 0)
            break;
    }
    free(buf);
    fclose(fp);
    if (json_array_size(lines) == 0) {
        json_decref(lines);
        return NULL;
    }
    json_t *o = json_object();
    if (set(o, "start", json_integer(first)) < 0 || set(o, "lines", lines) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* "file:line" -> {start, lines} for every finding's primary frame. */
static char *sources_json(const struct fs_findings *f)
{
    json_t *all = json_object();
    for (size_t i = 0; f && i < f->n; i++) {
        const struct fs_frame *at = fs_finding_primary(&f->items[i], NULL, NULL);
        if (!at || !at->file)
            continue;
        char *key = fs_xasprintf("%s:%d", at->file, at->line);
        if (!json_object_get(all, key)) {
            json_t *ex = source_excerpt(at->file, at->line);
            if (ex && set(all, key, ex) < 0)
                fputs("forksan: out of memory for the HTML report's sources\n", stderr);
        }
        free(key);
    }
    char *s = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    return s;
}

/* JSON inside <script>: "</" would end the element; "<\/" is the same JSON string. */
static void put_script_json(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (s[0] == '<' && (s[1] == '/' || s[1] == '!')) {
            fputs("<\\", out);
            continue;
        }
        fputc(*s, out);
    }
}

extern const char fs_html_page_head[], fs_html_page_tail[];

int fs_render_html(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    char *report = fs_report_json_string(f, meta);
    char *sources = sources_json(f);
    if (!report || !sources) {
        free(report);
        free(sources);
        return -1;
    }
    fputs(fs_html_page_head, out);
    fputs("<script type=\"application/json\" id=\"report\">", out);
    put_script_json(out, report);
    fputs("</script>\n<script type=\"application/json\" id=\"sources\">", out);
    put_script_json(out, sources);
    fputs("</script>\n", out);
    fputs(fs_html_page_tail, out);
    free(report);
    free(sources);
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
