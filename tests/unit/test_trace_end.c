/* The end record: the reader tells a complete trace from one cut at a record boundary, and the
 * model names the untraced processes the traces speak of. */
#include "model.h"
#include "trace_read.h"
#include "untraced.h"

#include <criterion/criterion.h>
#include <string.h>

static const char complete[] = "forksan-trace version=1 pid=10 ends=1\n"
                               "proc pid=10 ppid=1 origin=start image=0 time=1 exe=/bin/x comm=x "
                               "cmdline=x\n"
                               "fork seq=1 tid=10 via=fork time=2 frames=\n"
                               "end how=exit time=3\n";

static void parse(const char *text, struct fs_trace_file *f)
{
    cr_assert_eq(fs_trace_parse(text, strlen(text), "10.0.trace", f), 0, "%s", f->error);
}

Test(trace_end, complete_file_is_ended)
{
    struct fs_trace_file f;
    parse(complete, &f);
    cr_expect(f.ends_expected);
    cr_expect(f.ended);
    cr_expect(!f.truncated);
    fs_trace_release(&f);
}

Test(trace_end, every_cut_at_a_record_boundary_is_seen)
{
    /* Cut after each line but the last: the file parses cleanly, yet is not ended. */
    for (const char *p = complete; (p = strchr(p, '\n')) && p[1]; p++) {
        size_t len = (size_t)(p - complete) + 1;
        char *cut = strndup(complete, len);
        struct fs_trace_file f;
        parse(cut, &f);
        cr_expect(!f.truncated, "cut at %zu: no partial record", len);
        cr_expect(f.ends_expected && !f.ended, "cut at %zu bytes must read as unfinished", len);
        fs_trace_release(&f);
        free(cut);
    }
}

Test(trace_end, exec_ends_an_image_and_old_files_promise_nothing)
{
    struct fs_trace_file f;
    parse("forksan-trace version=1 pid=10 ends=1\nexec time=1 path=/bin/y\n", &f);
    cr_expect(f.ended);
    fs_trace_release(&f);
    parse("forksan-trace version=1 pid=10\nproc pid=10 ppid=1 origin=start image=0 time=1\n", &f);
    cr_expect(!f.ends_expected, "a file from an older shim is not held to the end record");
    fs_trace_release(&f);
}

Test(trace_end, untraced_processes_are_named_with_their_reason)
{
    struct fs_model m;
    memset(&m, 0, sizeof m);
    struct fs_trace_file f;
    parse("forksan-trace version=1 pid=10 ends=1\n"
          "proc pid=10 ppid=1 origin=start image=0 time=1 exe=/bin/x comm=x cmdline=x\n"
          "untraced pid=11 seq=0 why=static program=/bin/static time=2\n"
          "untraced pid=12 seq=1 why=rlimit errno=24 time=3\n"
          "exec time=4 path=/bin/after kept=setuid\n",
          &f);
    cr_assert_eq(fs_model_add_trace(&m, &f), 0);
    fs_trace_release(&f);
    fs_model_link(&m);
    struct fs_untraced_list l;
    fs_untraced_collect(&m, &l);
    cr_assert_eq(l.n, 3);
    int seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct fs_untraced *u = &l.items[i];
        if (u->pid == 11) {
            cr_expect_str_eq(u->program, "/bin/static");
            cr_expect(strstr(u->why, "static") != NULL);
            seen |= 1;
        } else if (u->pid == 12) {
            cr_expect_str_eq(u->program, "/bin/x", "a forked child runs its parent's program");
            cr_expect(strstr(u->why, "RLIMIT_NOFILE") != NULL);
            seen |= 2;
        } else if (u->pid == 10) {
            cr_expect_str_eq(u->program, "/bin/after");
            cr_expect(strstr(u->why, "privilege drop") != NULL);
            seen |= 4;
        }
    }
    cr_expect_eq(seen, 7);
    fs_untraced_release(&l);
    fs_model_release(&m);
}
