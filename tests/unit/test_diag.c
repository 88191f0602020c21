/* Unit tests for analyzer/diag.c: each of forksan's stderr lines reaches the terminal in one
 * write(2), so the traced program, which shares that stderr, cannot land inside one.  A pipe in
 * packet mode (O_DIRECT) keeps every write a packet of its own: one read, one write. */
#include "diag.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

Test(diag, a_warning_is_one_write)
{
    int p[2];
    cr_assert_eq(pipe2(p, O_DIRECT), 0);
    int saved = dup(STDERR_FILENO);
    cr_assert(saved >= 0);
    cr_assert_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
    fs_warn("%s: no end record: process %d", "x.trace", 42);
    fs_warn("second \x1b line");
    cr_assert_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    close(p[1]);
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    cr_assert(n > 0);
    buf[n] = '\0';
    cr_assert_str_eq(buf, "forksan: x.trace: no end record: process 42\n");
    n = read(p[0], buf, sizeof buf - 1);
    cr_assert(n > 0);
    buf[n] = '\0';
    cr_assert_str_eq(buf, "forksan: second \\x1b line\n");
    close(p[0]);
}
