/* Text from traces made safe for a terminal.  Every string a trace carries (module paths, comm,
 * thread names, command lines, `lost what=`) was written by the traced program, which may be
 * hostile: printed raw, an escape sequence would recolour or rewrite the user's terminal and a
 * newline would forge a "forksan:" line.  Control bytes (C0, DEL, and the C1 range U+0080-U+009F,
 * which some terminals obey as CSI), and bytes that are not valid UTF-8, are written as \xNN. */
#ifndef FORKSAN_TEXTSAFE_H
#define FORKSAN_TEXTSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s to out with the bytes above escaped. */
void fs_put_safe(FILE *out, const char *s);
/* The same, into a new string (malloc'd; never NULL). */
char *fs_safe_dup(const char *s);
/* True when buf holds only valid UTF-8 and no control byte but '\n' (what fs_put_safe writes,
 * plus line ends): the check the fuzz target and the tests make on the text report. */
bool fs_text_is_clean(const char *buf, size_t len);

#endif
