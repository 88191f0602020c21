/* The JUnit XML report (docs/report-junit.md), for CI systems that show test results: one test
 * case per finding (an error finding is a JUnit error, a warning a failure, a note a passing
 * case that says what it saw) and one per process of the tree (failing when a finding at warning
 * or above is about it), so a CI page lists the hazards and the processes they hit.  Rendered from
 * the report model like every other format. */
#include "render.h"
#include "render_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Text as XML character data or attribute value: markup characters escaped, bytes that are not
 * valid UTF-8 made '?' (utf8_clean), and control characters, which XML 1.0 forbids, made '?'. */
static void put_xml(FILE *out, const char *s)
{
    char *clean = utf8_clean(s ? s : "");
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            fputc(*p < 0x20 && *p != '\n' && *p != '\t' ? '?' : *p, out);
        }
    }
    free(clean);
}

/* The finding as the body of its failure: summary, location, details, stacks. */
static void put_body(FILE *out, const struct fs_finding *f)
{
    put_xml(out, f->summary);
    fputc('\n', out);
    const struct fs_frame *at = fs_finding_primary(f, NULL, NULL);
    if (at) {
        fputs("location: ", out);
        put_xml(out, at->file);
        fprintf(out, ":%d in ", at->line);
        put_xml(out, at->function ? at->function : "?");
        fputc('\n', out);
    }
    for (size_t i = 0; i < f->ndetails; i++) {
        fputs("  ", out);
        put_xml(out, f->details[i].key);
        fputs(": ", out);
        put_xml(out, f->details[i].value);
        fputc('\n', out);
    }
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct fs_stack *s = &f->stacks[i];
        if (fs_stack_folded_away(s))
            continue;
        fputs("  ", out);
        put_xml(out, s->role);
        fprintf(out, " (thread %d):\n", s->tid);
        for (size_t k = 0; k < s->nframes; k++) {
            const struct fs_frame *fr = &s->frames[k];
            fprintf(out, "    #%zu ", k);
            put_xml(out, fr->function ? fr->function : "??");
            if (fr->file) {
                fputc(' ', out);
                put_xml(out, fr->file);
                fprintf(out, ":%d", fr->line);
            } else if (fr->module) {
                fputs(" (", out);
                put_xml(out, fr->module);
                fprintf(out, "+0x%" PRIx64 ")", fr->offset);
            }
            fputc('\n', out);
        }
    }
}

static const char *proc_name(const struct fs_report_proc *p)
{
    for (size_t k = p->nimages; k-- > 0;)
        if (p->images[k].comm && *p->images[k].comm)
            return p->images[k].comm;
    return "?";
}

int fs_render_junit(FILE *out, const struct fs_findings *f, const struct fs_report_meta *meta)
{
    size_t n = f ? f->n : 0, nprocs = meta ? meta->nprocs : 0;
    size_t errors = 0, failures = 0, proc_failures = 0;
    for (size_t i = 0; i < n; i++) {
        errors += f->items[i].severity == FS_SEV_ERROR;
        failures += f->items[i].severity == FS_SEV_WARNING;
    }
    bool *bad = fs_xcalloc(nprocs ? nprocs : 1, sizeof *bad);
    for (size_t p = 0; p < nprocs; p++) {
        for (size_t i = 0; i < n; i++)
            bad[p] |=
                f->items[i].pid == meta->procs[p].pid && f->items[i].severity >= FS_SEV_WARNING;
        proc_failures += bad[p];
    }
    double secs = meta && meta->run ? meta->run->duration : 0;

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"forksan\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "time=\"%.3f\">\n",
            n + nprocs, failures + proc_failures, errors, secs);

    fprintf(out,
            "  <testsuite name=\"forksan.hazards\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"0\" time=\"%.3f\">\n",
            n, failures, errors, secs);
    fputs("    <properties>\n      <property name=\"command\" value=\"", out);
    put_xml(out, meta && meta->command ? meta->command : "");
    fputs("\"/>\n      <property name=\"forksan.version\" value=\"", out);
    put_xml(out, meta && meta->version ? meta->version : "");
    fputs("\"/>\n    </properties>\n", out);
    for (size_t i = 0; i < n; i++) {
        const struct fs_finding *x = &f->items[i];
        fputs("    <testcase classname=\"forksan.", out);
        put_xml(out, x->hazard);
        fputs("\" name=\"", out);
        put_xml(out, x->id ? x->id : "");
        fputc(' ', out);
        put_xml(out, x->hazard);
        fprintf(out, " in pid %d\"", x->pid);
        const struct fs_frame *at = fs_finding_primary(x, NULL, NULL);
        if (at && at->file) {
            fputs(" file=\"", out);
            put_xml(out, at->file);
            fprintf(out, "\" line=\"%d\"", at->line);
        }
        fputs(">\n", out);
        const char *tag = x->severity == FS_SEV_ERROR     ? "error"
                          : x->severity == FS_SEV_WARNING ? "failure"
                                                          : NULL;
        if (tag) {
            fprintf(out, "      <%s type=\"", tag);
            put_xml(out, x->hazard);
            fputs("\" message=\"", out);
            put_xml(out, x->summary);
            fputs("\">", out);
            put_body(out, x);
            fprintf(out, "</%s>\n", tag);
        } else {
            fputs("      <system-out>note: ", out);
            put_body(out, x);
            fputs("</system-out>\n", out);
        }
        fputs("    </testcase>\n", out);
    }
    fputs("  </testsuite>\n", out);

    fprintf(out,
            "  <testsuite name=\"forksan.processes\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"0\" time=\"%.3f\">\n",
            nprocs, proc_failures, secs);
    for (size_t p = 0; p < nprocs; p++) {
        const struct fs_report_proc *pr = &meta->procs[p];
        fprintf(out, "    <testcase classname=\"forksan.process\" name=\"pid %d (", pr->pid);
        put_xml(out, proc_name(pr));
        fputs(")\">\n", out);
        if (bad[p]) {
            fputs("      <failure type=\"fork-hazard\" message=\"", out);
            for (size_t i = 0, k = 0; i < n; i++)
                if (f->items[i].pid == pr->pid && f->items[i].severity >= FS_SEV_WARNING) {
                    fputs(k++ ? ", " : "", out);
                    put_xml(out, f->items[i].hazard);
                }
            fputs("\">", out);
            for (size_t i = 0; i < n; i++)
                if (f->items[i].pid == pr->pid && f->items[i].severity >= FS_SEV_WARNING) {
                    put_xml(out, f->items[i].id ? f->items[i].id : "");
                    fputs(": ", out);
                    put_xml(out, f->items[i].summary);
                    fputc('\n', out);
                }
            fputs("</failure>\n", out);
        }
        fprintf(out, "      <system-out>parent %d; %s", pr->ppid,
                pr->traced ? "traced" : "not traced (known from its hang file)");
        for (size_t k = 0; k < pr->nimages; k++) {
            fputs(k ? "; exec " : "; image ", out);
            put_xml(out, pr->images[k].exe);
        }
        fputs("; ended: ", out);
        put_xml(out, pr->ended_by_forksan ? "ended by forksan (--on-deadlock end)"
                     : pr->hung           ? "still running at the time limit"
                     : pr->end_how        ? pr->end_how
                                          : "not recorded");
        fputs("</system-out>\n    </testcase>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
    free(bad);
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
