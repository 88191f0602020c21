/* Suppressions: parsing (good lines, comments, errors naming file and line) and matching (by
 * hazard, by function, file or module glob, in any stack; "*" for every hazard). */
#include "suppress.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/forksan-supp-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void add_finding(struct fs_findings *l, const char *hazard, const char *fn, const char *file,
                        const char *module)
{
    struct fs_finding *f = fs_findings_add(l, hazard, FS_SEV_WARNING, 1);
    struct fs_stack *s = fs_finding_stack_add(f, "acquire", 1);
    struct fs_frame *fr = fs_stack_frame_add(s);
    fr->function = fn ? strdup(fn) : NULL;
    fr->file = file ? strdup(file) : NULL;
    fr->module = module ? strdup(module) : NULL;
}

Test(suppress, parses_and_matches)
{
    char *path = write_file("# comment\n\n  lock-held-at-fork : PyThread_*  \n"
                            "*:libvendor.so*\nthreads-at-fork:worker.c\n");
    struct fs_suppressions s = {0};
    char err[256];
    cr_assert_eq(fs_suppressions_load(&s, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n, 3);

    struct fs_findings l = {0};
    add_finding(&l, "lock-held-at-fork", "PyThread_acquire_lock_timed", NULL, "/usr/lib/libpy.so");
    add_finding(&l, "lock-held-at-fork", "worker", "/src/worker.c", "/bin/app");
    add_finding(&l, "threads-at-fork", "main", "/src/worker.c", "/bin/app");
    add_finding(&l, "rng-duplicated", "draw", NULL, "/opt/lib/libvendor.so.1");
    add_finding(&l, "child-hang", "main", "/src/main.c", "/bin/app");
    cr_assert_eq(fs_suppressions_apply(&s, &l), 3);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.items[0].stacks[0].frames[0].function, "worker");
    cr_assert_str_eq(l.items[1].hazard, "child-hang");
    cr_assert_eq(s.items[0].used, 1);
    fs_findings_release(&l);
    fs_suppressions_release(&s);
    unlink(path);
    free(path);
}

Test(suppress, hazard_must_match)
{
    char *path = write_file("lock-held-by-forker:main\n");
    struct fs_suppressions s = {0};
    char err[256];
    cr_assert_eq(fs_suppressions_load(&s, path, err, sizeof err), 0);
    struct fs_findings l = {0};
    add_finding(&l, "lock-held-at-fork", "main", NULL, NULL);
    cr_assert_eq(fs_suppressions_apply(&s, &l), 0);
    cr_assert_eq(l.n, 1);
    fs_findings_release(&l);
    fs_suppressions_release(&s);
    unlink(path);
    free(path);
}

Test(suppress, errors_name_file_and_line)
{
    char *path = write_file("# ok\nlock-held-at-fork:x\nnot-a-hazard:x\n");
    struct fs_suppressions s = {0};
    char err[256], want[512];
    cr_assert_eq(fs_suppressions_load(&s, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:3: ", path);
    cr_assert(strstr(err, want), "got: %s", err);
    fs_suppressions_release(&s);
    unlink(path);
    free(path);

    path = write_file("lock-held-at-fork\n");
    cr_assert_eq(fs_suppressions_load(&s, path, err, sizeof err), -1);
    cr_assert(strstr(err, "expected HAZARD:PATTERN"), "got: %s", err);
    fs_suppressions_release(&s);
    unlink(path);
    free(path);

    cr_assert_eq(fs_suppressions_load(&s, "/nonexistent/supp", err, sizeof err), -1);
    cr_assert(strstr(err, "cannot read suppressions file /nonexistent/supp"), "got: %s", err);
}
