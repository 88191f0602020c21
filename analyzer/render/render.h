/* Report renderers: the report model (finding.h, report.h) in, a report on a stdio stream out.
 * The text report is for people (laid out like ThreadSanitizer reports and lockdep splats), the
 * JSON report for tools (its format is docs/report-json.md).  Renderers print findings in the order given; sorting is the
 * caller's choice (fs_findings_sort). */
#ifndef FORKSAN_RENDER_H
#define FORKSAN_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "finding.h"
#include "report.h"

/* Both return 0, or -1 when writing to `out` failed or (JSON) the document could not be built.
 * meta may be NULL. */

/* Prints nothing at all when there are no findings, so that a clean run is silent.  `color`
 * colors the severity word with ANSI escapes (for a terminal). */
int fs_render_text(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta,
                   bool color);
/* Always prints one complete JSON document, also without findings. */
int fs_render_json(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);
/* The JSON report as one compact string (malloc'd), for renderers built on it; NULL on failure. */
char *fs_report_json_string(const struct fs_findings *f, const struct fs_report_meta *meta);
/* JUnit XML (docs/report-junit.md): a test case per finding and per process. */
int fs_render_junit(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);
/* One self-contained HTML page (docs/report-html.md), drawn in the browser from the JSON report
 * embedded in it. */
int fs_render_html(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);
/* A SARIF 2.1.0 log (docs/report-sarif.md), always complete, also without findings. */
int fs_render_sarif(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);

#endif
