/* Report renderers: findings in, a report on a stdio stream out.  The text report is for people
 * (laid out like ThreadSanitizer reports and lockdep splats), the JSON report for tools (its
 * format is docs/report-json.md).  Renderers print findings in the order given; sorting is the
 * caller's choice (fs_findings_sort). */
#ifndef FORKSAN_RENDER_H
#define FORKSAN_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"

/* A named count, e.g. calls to a fork-safe randomness source. */
struct fs_report_count {
    const char *name;
    long count;
};

/* What the report says about the run as a whole.  Any pointer may be NULL. */
struct fs_report_meta {
    const char *version;     /* forksan's version, e.g. FORKSAN_VERSION */
    const char *command;     /* the program that was run, or the trace directory analyzed */
    unsigned processes;      /* processes traced */
    unsigned untraced;       /* processes known to have run without a trace (untraced.c) */
    unsigned damaged_traces; /* trace files that were corrupt or truncated */
    const struct fs_report_count *safe_random; /* fork-safe randomness sources used */
    size_t nsafe_random;
    unsigned suppressed; /* findings removed by suppressions */
};

/* Both return 0, or -1 when writing to `out` failed or (JSON) the document could not be built.
 * meta may be NULL. */

/* Prints nothing at all when there are no findings, so that a clean run is silent.  `color`
 * colors the severity word with ANSI escapes (for a terminal). */
int fs_render_text(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta,
                   bool color);
/* Always prints one complete JSON document, also without findings. */
int fs_render_json(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);
/* A SARIF 2.1.0 log (docs/report-sarif.md), always complete, also without findings. */
int fs_render_sarif(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta);

#endif
