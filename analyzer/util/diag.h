/* forksan's own messages on stderr: one line each, "forksan: " first, deduplicated on request.
 * Damage to the input is counted so that the CLI can choose its exit status. */
#ifndef FORKSAN_DIAG_H
#define FORKSAN_DIAG_H

#include <stdbool.h>

void fs_diag_set_quiet(bool quiet);
void fs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints only the first message with this key (e.g. a module path). */
void fs_warn_once(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning that the input was damaged (corrupt or truncated trace). */
void fs_warn_damage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned fs_diag_damage_count(void);

#endif
