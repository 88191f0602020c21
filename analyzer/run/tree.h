/* The process tree below forksan, seen through /proc: used to wait for it and to end it. */
#ifndef FORKSAN_TREE_H
#define FORKSAN_TREE_H

#include <stdbool.h>
#include <sys/types.h>

/* Live (non-zombie) descendants of root, into pids (up to max); returns how many there are. */
size_t fs_tree_descendants(pid_t root, pid_t *pids, size_t max);
bool fs_tree_has_descendants(pid_t root);
/* True when pid is root or one of its descendants (a zombie too: its parent has not reaped it).
 * False when it is not, or when it is gone and can no longer be placed. */
bool fs_tree_contains(pid_t root, pid_t pid);
/* Ends every descendant of root: SIGTERM, up to `grace` seconds for them to go, then SIGKILL.
 * Reaps nothing, so the caller keeps the exit statuses.  Returns how many had to be killed with
 * SIGKILL. */
unsigned fs_tree_end(pid_t root, double grace);

#endif
