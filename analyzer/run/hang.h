/* Capturing a hung process tree from outside: when a run's time limit expires, the runner asks
 * for the stack of every thread of every live descendant (ptrace + libdwfl, as `eu-stack -p`
 * does) and gets one `<pid>.hang` file per process in the trace directory (docs/trace-format.md,
 * "Hang files"), before it ends the tree.  The child-hang rule reads them back. */
#ifndef FORKSAN_HANG_H
#define FORKSAN_HANG_H

#include <sys/types.h>

/* Most processes and threads per process whose state is captured: a runaway tree must not turn
 * the capture into a hang of its own. */
#define FS_HANG_MAX_PROCS   64
#define FS_HANG_MAX_THREADS 256
#define FS_HANG_MAX_FRAMES  64

/* Writes `<pid>.hang` into trace_dir for each live descendant of root (up to FS_HANG_MAX_PROCS).
 * `after` is how long the run had lasted, in seconds.  Returns how many files were written, or -1
 * when trace_dir is NULL. */
int fs_hang_capture_tree(pid_t root, const char *trace_dir, double after);

/* The same for one process.  A process that cannot be attached (ptrace not permitted, already
 * traced, gone) still gets its file, with attached=0, the reason and what /proc says of its
 * threads.  Returns 0 when the file was written, -1 when it could not be (message printed). */
int fs_hang_capture(pid_t pid, const char *trace_dir, double after);
/* The same, for a process forksan is about to end on its own before the run ends; `ended` says
 * why (`deadlock`: blocked on an inherited lock, --on-deadlock end) and goes into the hang
 * record, so that the report says the process did not end by itself. */
int fs_hang_capture_ended(pid_t pid, const char *trace_dir, double after, const char *ended);

#endif
