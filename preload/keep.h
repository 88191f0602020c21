/* Kept descriptors (keep.c, keep_hooks.c): what a process keeps open when it is about to lose
 * the way to its trace directory (a privilege drop, chroot, a lowered descriptor limit). */
#ifndef FORKSAN_KEEP_H
#define FORKSAN_KEEP_H

#include "shim.h"

#include <sys/resource.h>
#include <sys/types.h>

struct fs_keep {
    int active;    /* the own file is kept: never open a trace by path again */
    int file_fd;   /* this image's trace file, appending; -1 */
    int parent_fd; /* forked child: its parent's kept file, until its own exists; -1 */
    dev_t parent_dev;
    ino_t parent_ino;
    int dir_fd;      /* where this process's descendants create their files (O_PATH); -1 */
    int sub;         /* dir_fd is a per-process subdirectory handed to another uid */
    const char *why; /* setuid, chroot, rlimit: written in the exec record */
    dev_t file_dev, dir_dev;
    ino_t file_ino, dir_ino;
};
FS_HIDDEN extern struct fs_keep fs_keep;
FS_HIDDEN int fs_keep_file_fd(void);            /* the kept file, checked still ours; -1 */
FS_HIDDEN int fs_keep_create(const char *name); /* creates and keeps a new file; 0 or -1 */
FS_HIDDEN int fs_keep_on_emfile(void);          /* keep the directory when no descriptor is free */
FS_HIDDEN int fs_keep_own_on_emfile(void);      /* same for the own file; the fd or -1 */
FS_HIDDEN void fs_keep_child_reset(void);       /* forked child: set the parent's file aside */
/* Forked child: its own file exists (ok) or cannot be made (then an `untraced` record goes to
 * the parent's file, naming this process and why); the parent's file is closed either way. */
FS_HIDDEN void fs_keep_child_file_done(int ok, int seq, int err);
FS_HIDDEN const char *fs_trace_path(void); /* this image's trace path ("" when none) */

/* Opens what the process will need before a call that may take its access away: `uid` is the
 * effective uid it is about to take ((uid_t)-1: unchanged), `why` the exec record's reason. */
FS_HIDDEN void fs_keep_prepare(uid_t uid, gid_t gid, const char *why);
FS_HIDDEN int fs_keep_is(int fd);
FS_HIDDEN void fs_keep_vacate(int fd); /* a dup onto a kept number: move ours away */
/* close_range over [lo, hi] except the kept descriptors; 0 or -1 with errno. */
FS_HIDDEN int fs_keep_close_range_around(unsigned lo, unsigned hi, int flags);
FS_HIDDEN int fs_keep_raw_close(int fd);

#endif
