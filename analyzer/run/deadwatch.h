/* Watching a run's trace directory for children that walk into an inherited lock, while the run
 * goes on.  The shim writes a `deadlock` record before the call blocks (docs/trace-format.md);
 * the runner learns of it through inotify, announces it on forksan's own stderr at once, and
 * under the default policy ends the child after FS_DEADLOCK_GRACE seconds if it is still blocked
 * (runner.c).  Reading only appended bytes keeps the cost proportional to what the shim writes. */
#ifndef FORKSAN_DEADWATCH_H
#define FORKSAN_DEADWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Seconds between the announcement and the end of a child still blocked on an inherited lock:
 * enough for the shim's Python capture to finish, short enough that a run never looks hung.
 * Documented in README ("When a child deadlocks") and forksan run --help. */
#define FS_DEADLOCK_GRACE 1.0

struct fs_deadwatch;

/* NULL when inotify is not available (message printed unless quiet); the run then goes on
 * without live announcements.  `end`: end children still blocked after FS_DEADLOCK_GRACE.
 * `started` is the run's start on CLOCK_MONOTONIC, in seconds (for the hang files). */
struct fs_deadwatch *fs_deadwatch_open(const char *trace_dir, bool end, double started);
/* A descriptor that becomes readable when the directory changed. */
int fs_deadwatch_fd(const struct fs_deadwatch *w);
/* Reads what changed since the last call (announcing new deadlocks on stderr), then ends the
 * children whose grace period is over and that are still blocked (their stacks captured first
 * into `<pid>.hang` with ended=deadlock).  `now` is CLOCK_MONOTONIC seconds.  Returns how many
 * children it ended. */
unsigned fs_deadwatch_service(struct fs_deadwatch *w, double now);
/* Seconds until the next child is due to be ended, or -1 when none is pending. */
double fs_deadwatch_next(const struct fs_deadwatch *w, double now);
void fs_deadwatch_close(struct fs_deadwatch *w);

#endif
