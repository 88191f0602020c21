/* Unit tests for the trace format's two halves: common/linebuf.c (the shim's async-signal-safe
 * writer) and common/trace_read.c (the analyzer's reader).  Records go through a real file or
 * socket and come back through the reader, so both sides are held to docs/trace-format.md. */
#include "linebuf.h"
#include "trace_format.h"
#include "trace_read.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char tmp_path[64];

static int open_tmp(void)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/forksan-linebuf-XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0, "mkstemp");
    return fd;
}

static void cleanup(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
}

TestSuite(linebuf, .fini = cleanup);
TestSuite(reader);

static void write_header(struct fs_linebuf *lb)
{
    fs_lb_begin(lb, FS_TRACE_MAGIC);
    fs_lb_dec(lb, "version", FS_TRACE_VERSION);
    fs_lb_dec(lb, "pid", 4242);
    fs_lb_end(lb);
}

/* Flushes, closes and reads back the temp file. */
static void read_back(struct fs_linebuf *lb, struct fs_trace_file *tf)
{
    fs_lb_flush(lb);
    cr_assert_eq(close(lb->fd), 0);
    lb->fd = -1;
    cr_assert_eq(fs_trace_read(tmp_path, tf), 0, "%s", tf->error);
    cr_assert_eq(tf->version, FS_TRACE_VERSION);
    cr_assert_eq(tf->bad_lines, 0, "bad line %u", tf->first_bad_line);
    cr_assert_not(tf->truncated);
}

static char *file_text(size_t *len)
{
    FILE *f = fopen(tmp_path, "rb");
    cr_assert_not_null(f);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static int64_t dec(const struct fs_record *r, const char *key)
{
    int64_t v = 0;
    cr_assert_eq(fs_rec_dec(r, key, &v), 0, "line %u: no dec %s", r->line, key);
    return v;
}

Test(linebuf, strings_survive_escaping)
{
    static const char *const values[] = {
        "plain",
        "with spaces  and\ttabs",
        "100% %41 %%",
        "line\nbreak\r\n",
        "caf\xc3\xa9 \xe2\x82\xac \xff\x80\x01\x1f\x7f",
        "key=value=more",
        "",
    };
    enum { N = sizeof values / sizeof values[0] };
    char buf[4096];
    struct fs_linebuf lb;
    fs_lb_init(&lb, open_tmp(), buf, sizeof buf);
    write_header(&lb);
    for (int i = 0; i < N; i++) {
        fs_lb_begin(&lb, "str");
        fs_lb_dec(&lb, "i", i);
        fs_lb_str(&lb, "v", values[i]);
        fs_lb_end(&lb);
    }
    fs_lb_begin(&lb, "str");
    fs_lb_dec(&lb, "i", N);
    fs_lb_str(&lb, "v", NULL);
    fs_lb_strn(&lb, "cut", "abcdef", 3);
    fs_lb_strn(&lb, "nul", "ab\0cd", 5); /* stops at the NUL */
    fs_lb_end(&lb);

    /* The file itself has one line per record and no raw bytes that the format forbids. */
    cr_assert_eq(fs_lb_flush(&lb), 0);
    size_t len;
    const char *text = file_text(&len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        lines += c == '\n';
        cr_assert(c == '\n' || (c >= 0x20 && c < 0x7f), "raw byte %#x at %zu", c, i);
    }
    cr_assert_eq(lines, (size_t)N + 2);
    cr_assert_not_null(strstr(text, "v=100%25%20%2541%20%25%25\n"), "%s", text);

    struct fs_trace_file tf;
    read_back(&lb, &tf);
    cr_assert_eq(tf.nrecs, (size_t)N + 1);
    for (int i = 0; i < N; i++) {
        const struct fs_record *r = &tf.recs[i];
        cr_assert_str_eq(r->tag, "str");
        cr_assert_eq(dec(r, "i"), i);
        cr_assert_str_eq(fs_rec_str(r, "v"), values[i], "value %d", i);
        cr_assert_eq(r->line, (unsigned)i + 2);
    }
    const struct fs_record *last = &tf.recs[N];
    cr_assert_str_eq(fs_rec_str(last, "v"), "");
    cr_assert_str_eq(fs_rec_str(last, "cut"), "abc");
    cr_assert_str_eq(fs_rec_str(last, "nul"), "ab");
    cr_assert_null(fs_rec_str(last, "missing"));
    fs_trace_release(&tf);
}

Test(linebuf, numbers_round_trip)
{
    static const int64_t decs[] = {0, 1, -1, 42, -42, INT32_MIN, INT64_MAX, INT64_MIN};
    static const uint64_t hexes[] = {0, 0xa, 0xdeadbeef, 0x7f00aa029d8f, UINT64_MAX};
    enum { ND = sizeof decs / sizeof decs[0], NH = sizeof hexes / sizeof hexes[0] };
    char buf[1024];
    struct fs_linebuf lb;
    fs_lb_init(&lb, open_tmp(), buf, sizeof buf);
    write_header(&lb);
    for (int i = 0; i < ND; i++) {
        fs_lb_begin(&lb, "n");
        fs_lb_dec(&lb, "d", decs[i]);
        fs_lb_end(&lb);
    }
    for (int i = 0; i < NH; i++) {
        fs_lb_begin(&lb, "h");
        fs_lb_hex(&lb, "x", hexes[i]);
        fs_lb_end(&lb);
    }
    const uintptr_t list[] = {0x1, 0x55d0c0a01234, 0, UINTPTR_MAX};
    const unsigned char bytes[] = {0x00, 0x1f, 0xab, 0xff};
    fs_lb_begin(&lb, "l");
    fs_lb_hexlist(&lb, "frames", list, 4);
    fs_lb_hexlist(&lb, "none", list, 0);
    fs_lb_bytes(&lb, "b", bytes, sizeof bytes);
    fs_lb_end(&lb);

    cr_assert_eq(fs_lb_flush(&lb), 0);
    size_t len;
    const char *text = file_text(&len);
    cr_assert_not_null(strstr(text, "n d=-9223372036854775808\n"), "%s", text);
    cr_assert_not_null(strstr(text, "h x=7f00aa029d8f\n"), "hex is lower case, no 0x");
    cr_assert_not_null(
        strstr(text, "l frames=1,55d0c0a01234,0,ffffffffffffffff none= b=001fabff\n"), "%s", text);

    struct fs_trace_file tf;
    read_back(&lb, &tf);
    cr_assert_eq(tf.nrecs, (size_t)ND + NH + 1);
    for (int i = 0; i < ND; i++)
        cr_assert_eq(dec(&tf.recs[i], "d"), decs[i], "decimal %d", i);
    for (int i = 0; i < NH; i++) {
        uint64_t v = 1;
        cr_assert_eq(fs_rec_hex(&tf.recs[ND + i], "x", &v), 0);
        cr_assert_eq(v, hexes[i], "hex %d", i);
    }
    const struct fs_record *l = &tf.recs[ND + NH];
    uint64_t *got = NULL;
    cr_assert_eq(fs_rec_hexlist(l, "frames", &got), 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(got[i], list[i], "frame %d", i);
    free(got);
    got = (uint64_t *)1;
    cr_assert_eq(fs_rec_hexlist(l, "none", &got), 0);
    cr_assert_null(got);
    cr_assert_eq(fs_rec_hexlist(l, "missing", &got), -1);
    /* A hex field is not a decimal and vice versa where the text says so. */
    uint64_t h;
    cr_assert_eq(fs_rec_hex(&tf.recs[2], "d", &h), -1, "a negative number is not hex");
    int64_t d;
    cr_assert_eq(fs_rec_dec(l, "frames", &d), -1);
    fs_trace_release(&tf);
}

Test(linebuf, record_larger_than_buffer_is_dropped_whole)
{
    char buf[128];
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct fs_linebuf lb;
    fs_lb_init(&lb, open_tmp(), buf, sizeof buf);
    write_header(&lb);
    fs_lb_begin(&lb, "before");
    fs_lb_dec(&lb, "n", 1);
    fs_lb_end(&lb);
    cr_assert_not(lb.failed);

    fs_lb_begin(&lb, "big");
    fs_lb_dec(&lb, "n", 2);
    fs_lb_str(&lb, "v", big);
    fs_lb_dec(&lb, "after", 3); /* fields after the overflow are discarded too */
    fs_lb_end(&lb);
    cr_assert(lb.failed, "a dropped record must set failed");
    cr_assert_not(lb.dropping, "the next record must start clean");

    fs_lb_begin(&lb, "next");
    fs_lb_dec(&lb, "n", 4);
    fs_lb_end(&lb);
    cr_assert_eq(fs_lb_flush(&lb), -1, "flush reports the earlier loss");

    size_t len;
    const char *text = file_text(&len);
    cr_assert_null(strstr(text, "xxxx"), "part of the big record was written: %s", text);
    cr_assert_null(strstr(text, "big"));

    struct fs_trace_file tf;
    read_back(&lb, &tf);
    cr_assert_eq(tf.nrecs, 2);
    cr_assert_str_eq(tf.recs[0].tag, "before");
    cr_assert_str_eq(tf.recs[1].tag, "next");
    cr_assert_eq(dec(&tf.recs[1], "n"), 4);
    fs_trace_release(&tf);
}

Test(linebuf, accumulate_mode_keeps_whole_records_in_the_buffer)
{
    /* fd -1 is how the shim pre-serializes the module map: complete records stay in buf. */
    char buf[64];
    struct fs_linebuf lb;
    fs_lb_init(&lb, -1, buf, sizeof buf);
    fs_lb_begin(&lb, "a");
    fs_lb_str(&lb, "v", "one");
    fs_lb_end(&lb);
    fs_lb_begin(&lb, "b");
    fs_lb_str(&lb, "v", "this value is far too long to fit in the rest of the buffer");
    fs_lb_end(&lb);
    fs_lb_begin(&lb, "c");
    fs_lb_dec(&lb, "n", -5);
    fs_lb_end(&lb);
    cr_assert(lb.failed);
    cr_assert_eq(lb.rec_start, lb.len);
    cr_assert_eq(lb.len, strlen("a v=one\nc n=-5\n"));
    cr_assert_eq(memcmp(buf, "a v=one\nc n=-5\n", lb.len), 0, "%.*s", (int)lb.len, buf);
}

/* Reads one datagram; a SOCK_SEQPACKET socket keeps write(2) boundaries. */
static ssize_t recv_one(int fd, char *out, size_t cap)
{
    ssize_t n = recv(fd, out, cap - 1, MSG_DONTWAIT);
    if (n >= 0)
        out[n] = '\0';
    return n;
}

Test(linebuf, every_write_holds_whole_records)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    char buf[96];
    struct fs_linebuf lb;
    fs_lb_init(&lb, sv[0], buf, sizeof buf);
    for (int i = 0; i < 40; i++) {
        fs_lb_begin(&lb, "rec");
        fs_lb_dec(&lb, "i", i);
        fs_lb_str(&lb, "pad", i % 3 ? "short" : "a somewhat longer value");
        fs_lb_end(&lb);
    }
    /* A record under construction is not written by a flush. */
    fs_lb_begin(&lb, "partial");
    fs_lb_dec(&lb, "i", 40);
    cr_assert_eq(fs_lb_flush(&lb), 0);
    cr_assert_not(lb.failed);

    char msg[256];
    ssize_t n;
    int next = 0, writes = 0;
    while ((n = recv_one(sv[1], msg, sizeof msg)) > 0) {
        writes++;
        cr_assert_eq(msg[n - 1], '\n', "write %d ends inside a record: %s", writes, msg);
        cr_assert_leq((size_t)n, sizeof buf);
        for (char *line = msg; *line;) {
            char *nl = strchr(line, '\n');
            cr_assert_not_null(nl);
            *nl = '\0';
            int i = -1;
            cr_assert_eq(sscanf(line, "rec i=%d ", &i), 1, "write %d: '%s'", writes, line);
            cr_assert_eq(i, next, "records out of order or lost");
            next++;
            line = nl + 1;
        }
    }
    cr_assert_eq(next, 40);
    cr_assert_gt(writes, 1, "a small buffer must have flushed more than once");

    fs_lb_str(&lb, "end", "yes");
    fs_lb_end(&lb);
    cr_assert_eq(fs_lb_flush(&lb), 0);
    n = recv_one(sv[1], msg, sizeof msg);
    cr_assert_str_eq(msg, "partial i=40 end=yes\n");
    close(sv[0]);
    close(sv[1]);
}

Test(linebuf, failed_write_is_reported)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    char buf[64];
    struct fs_linebuf lb;
    fs_lb_init(&lb, fd, buf, sizeof buf);
    fs_lb_begin(&lb, "a");
    fs_lb_end(&lb);
    cr_assert_not(lb.failed);
    cr_assert_eq(fs_lb_flush(&lb), -1, "writing to a read-only descriptor cannot succeed");
    cr_assert(lb.failed);
    cr_assert_eq(lb.len, 0, "the lost records are not retried forever");
    close(fd);
}

Test(linebuf, fmt_helpers_refuse_to_overflow)
{
    char path[16];
    size_t n = fs_fmt_str(path, sizeof path, 0, "/tmp/");
    cr_assert_eq(n, 5);
    n = fs_fmt_dec(path, sizeof path, n, 4242);
    cr_assert_eq(n, 9);
    n = fs_fmt_str(path, sizeof path, n, ".0");
    cr_assert_str_eq(path, "/tmp/4242.0");
    cr_assert_eq(fs_fmt_str(path, sizeof path, n, ".trace"), (size_t)-1);
    cr_assert_eq(fs_fmt_dec(path, sizeof path, n, 123456), (size_t)-1);
    cr_assert_eq(fs_fmt_str(path, sizeof path, (size_t)-1, ""), (size_t)-1, "errors propagate");
    cr_assert_str_eq(path, "/tmp/4242.0", "a refused append must not write");
}

/* ---- reader -------------------------------------------------------------------------------- */

#define HEADER "forksan-trace version=1 pid=7\n"

static int parse(const char *text, struct fs_trace_file *tf)
{
    return fs_trace_parse(text, strlen(text), "mem.trace", tf);
}

Test(reader, truncated_final_line_is_dropped)
{
    struct fs_trace_file tf;
    cr_assert_eq(parse(HEADER "proc pid=7\nheld tid=7 lock=1000 kin", &tf), 0, "%s", tf.error);
    cr_assert(tf.truncated);
    cr_assert_eq(tf.bad_lines, 0);
    cr_assert_eq(tf.nrecs, 1);
    cr_assert_str_eq(tf.recs[0].tag, "proc");
    fs_trace_release(&tf);

    cr_assert_eq(parse(HEADER "proc pid=7\n", &tf), 0);
    cr_assert_not(tf.truncated);
    fs_trace_release(&tf);
}

Test(reader, corrupt_lines_are_counted_and_skipped)
{
    static const char text[] = HEADER "proc pid=7\n"
                                      "no-equals-sign here\n"
                                      "thread tid=8 name=a\n"
                                      "held lock=%zz\n"
                                      "Bad-Tag x=1\n"
                                      "held tid=9 lock=ff\x01\n"
                                      "\n"
                                      "held tid=9 lock=ff kind=mutex\n";
    struct fs_trace_file tf;
    cr_assert_eq(parse(text, &tf), 0, "%s", tf.error);
    cr_assert_eq(tf.bad_lines, 5);
    cr_assert_eq(tf.first_bad_line, 3);
    cr_assert_not(tf.truncated);
    cr_assert_eq(tf.nrecs, 3);
    cr_assert_str_eq(tf.recs[0].tag, "proc");
    cr_assert_str_eq(tf.recs[1].tag, "thread");
    cr_assert_eq(tf.recs[1].line, 4);
    cr_assert_str_eq(tf.recs[2].tag, "held");
    cr_assert_eq(tf.recs[2].line, 9);
    cr_assert_str_eq(fs_rec_str(&tf.recs[2], "kind"), "mutex");
    fs_trace_release(&tf);
}

Test(reader, embedded_nul_is_a_corrupt_line)
{
    static const char text[] = HEADER "proc pid=7\nthread tid=8\0junk\nthread tid=9\n";
    struct fs_trace_file tf;
    cr_assert_eq(fs_trace_parse(text, sizeof text - 1, "mem", &tf), 0, "%s", tf.error);
    cr_assert_eq(tf.bad_lines, 1);
    cr_assert_eq(tf.nrecs, 2);
    cr_assert_eq(dec(&tf.recs[1], "tid"), 9);
    fs_trace_release(&tf);
}

Test(reader, unknown_tags_and_keys_are_kept)
{
    struct fs_trace_file tf;
    cr_assert_eq(parse(HEADER "future-tag a=1 b_2=x\nproc pid=7 newkey=v\n", &tf), 0);
    cr_assert_eq(tf.bad_lines, 0);
    cr_assert_eq(tf.nrecs, 2);
    cr_assert_str_eq(tf.recs[0].tag, "future-tag");
    cr_assert_eq(dec(&tf.recs[1], "pid"), 7);
    fs_trace_release(&tf);
}

Test(reader, wrong_version_names_both)
{
    struct fs_trace_file tf;
    cr_assert_eq(parse("forksan-trace version=99 pid=7\nproc pid=7\n", &tf), -1);
    cr_assert_not_null(strstr(tf.error, "99"), "%s", tf.error);
    char mine[32];
    snprintf(mine, sizeof mine, "version %d", FS_TRACE_VERSION);
    cr_assert_not_null(strstr(tf.error, mine), "%s", tf.error);
    fs_trace_release(&tf);
}

Test(reader, empty_file_is_refused)
{
    int fd = open_tmp();
    close(fd);
    struct fs_trace_file tf;
    cr_assert_eq(fs_trace_read(tmp_path, &tf), -1);
    cr_assert_not_null(strstr(tf.error, "empty"), "%s", tf.error);
    fs_trace_release(&tf);
    unlink(tmp_path);
}

Test(reader, missing_file_is_refused)
{
    struct fs_trace_file tf;
    cr_assert_eq(fs_trace_read("/nonexistent/forksan/0.0.trace", &tf), -1);
    cr_assert_not_null(strstr(tf.error, "cannot open"), "%s", tf.error);
    fs_trace_release(&tf);
}

Test(reader, bad_header_is_refused)
{
    static const char *const bad[] = {
        "hello world\nproc pid=7\n",         /* not a record at all */
        ("proc pid=7\n" HEADER),             /* header not first */
        "forksan-trace pid=7\nproc pid=7\n", /* no version */
        "forksan-trace version=one\n",       /* version not a number */
        "forksan-trace version=1 pid=7",     /* header line itself truncated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fs_trace_file tf;
        cr_assert_eq(parse(bad[i], &tf), -1, "case %zu accepted", i);
        cr_assert_not_null(strstr(tf.error, "not a forksan trace"), "case %zu: %s", i, tf.error);
        fs_trace_release(&tf);
    }
}
