/* Every truncation of a real trace set: each file of a golden trace directory is cut at every
 * byte offset, the directory is loaded and analysed (rules and text report, no symbolization),
 * and the cut must be reported as damage unless it falls on a record boundary (which the format
 * cannot tell yet: docs/trace-format.md).  Under ASan (scripts/test.sh --sanitize) this is also
 * the crash and leak check for partial records of every kind. */
#include "trace_read.h"
#include "model.h"
#include "diag.h"
#include "render.h"
#include "rules.h"
#include "textsafe.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void quiet(void)
{
    fs_diag_set_quiet(true);
}

TestSuite(truncation, .init = quiet);

struct file {
    char name[256];
    char *text;
    size_t len;
};

static size_t read_set(const char *dir, struct file *files, size_t max)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        struct file *fl = &files[n++];
        snprintf(fl->name, sizeof fl->name, "%s", e->d_name);
        fseek(f, 0, SEEK_END);
        fl->len = (size_t)ftell(f);
        rewind(f);
        fl->text = malloc(fl->len + 1);
        cr_assert_eq(fread(fl->text, 1, fl->len, f), fl->len);
        fclose(f);
    }
    closedir(d);
    return n;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path); /* a new file: rewriting in place makes ext4 flush on every close */
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void every_cut(const char *set)
{
    struct file files[16];
    size_t n = read_set(set, files, 16);
    cr_assert_gt(n, 0);
    char dir[] = "/tmp/forksan-test-trunc-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    size_t cuts = 0, silent = 0;
    for (size_t i = 0; i < n; i++)
        write_file(dir, files[i].name, files[i].text, files[i].len);
    for (size_t victim = 0; victim < n; victim++) {
        for (size_t cut = 0; cut < files[victim].len; cut++) {
            write_file(dir, files[victim].name, files[victim].text, cut);
            unsigned before = fs_diag_damage_count();
            struct fs_model m = {0};
            cr_assert_eq(fs_model_load_dir(dir, &m), 0);
            struct fs_findings f = {0};
            fs_rules_run(&m, NULL, &f);
            char *buf = NULL;
            size_t len = 0;
            FILE *out = open_memstream(&buf, &len);
            struct fs_report_meta meta = {.processes = (unsigned)m.nprocs};
            cr_assert_eq(fs_render_text(out, &f, &meta, false), 0);
            fclose(out);
            cr_assert(fs_text_is_clean(buf, len));
            free(buf);
            fs_findings_release(&f);
            fs_model_release(&m);
            bool damaged = fs_diag_damage_count() > before;
            /* An empty file (a process killed before its first write) is a boundary too. */
            bool boundary = cut == 0 || files[victim].text[cut - 1] == '\n';
            cuts++;
            if (!damaged) {
                silent++;
                cr_assert(boundary, "%s cut at byte %zu of %zu: not reported as damage",
                          files[victim].name, cut, files[victim].len);
            }
        }
        write_file(dir, files[victim].name, files[victim].text, files[victim].len);
    }
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        unlink(path);
        free(files[i].text);
    }
    cr_assert_eq(rmdir(dir), 0);
    cr_log_info("%s: %zu cuts, %zu at record boundaries went unnoticed", set, cuts, silent);
}

Test(truncation, every_byte_of_a_fork_with_a_held_lock)
{
    every_cut(FORKSAN_TEST_DATA "/golden/mutex_thread/traces");
}

Test(truncation, every_byte_of_a_prefork_tree)
{
    every_cut(FORKSAN_TEST_DATA "/golden/prefork_merged/traces");
}
