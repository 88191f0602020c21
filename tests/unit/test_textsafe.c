/* Unit tests for analyzer/util/textsafe.c: what reaches a terminal from a trace. */
#include "textsafe.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void expect(const char *in, const char *out)
{
    char *got = fs_safe_dup(in);
    cr_assert_str_eq(got, out, "escaping %s", in);
    cr_assert(fs_text_is_clean(got, strlen(got)));
    free(got);
}

Test(textsafe, printable_ascii_and_utf8_pass)
{
    expect("plain text: /usr/lib/x.so", "plain text: /usr/lib/x.so");
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    expect("", "");
}

Test(textsafe, control_bytes_are_escaped)
{
    expect("a\x1b[31mb", "a\\x1b[31mb");
    expect("line\nforksan: FAKE", "line\\x0aforksan: FAKE");
    expect("\t\r\x7f", "\\x09\\x0d\\x7f");
    /* C1 controls, U+0080 to U+009F: U+009B is a one-byte CSI to some terminals. */
    expect("\xc2\x9b" "31m", "\\xc2\\x9b31m");
    expect("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is printable */
}

Test(textsafe, invalid_utf8_is_escaped)
{
    expect("\xff\xfe", "\\xff\\xfe");
    expect("\xc0\xaf", "\\xc0\\xaf");                 /* overlong '/' */
    expect("\xe0\x80\xaf", "\\xe0\\x80\\xaf");         /* overlong, 3 bytes */
    expect("\xed\xa0\x80", "\\xed\\xa0\\x80");         /* a UTF-16 surrogate */
    expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* beyond U+10FFFF */
    expect("cut \xe2\x82", "cut \\xe2\\x82");          /* a sequence cut short */
    expect("\xc3(", "\\xc3(");
}

Test(textsafe, is_clean_allows_only_newline_as_control)
{
    cr_assert(fs_text_is_clean("a\nb\n", 4));
    cr_assert_not(fs_text_is_clean("a\tb", 3));
    cr_assert_not(fs_text_is_clean("\x1b", 1));
    cr_assert_not(fs_text_is_clean("\xc3", 1));
    cr_assert(fs_text_is_clean("", 0));
}
