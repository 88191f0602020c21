/* The trace format shared by the shim (writer) and the analyzer (reader).
 *
 * A trace is one text file per process image, a sequence of newline-terminated records:
 * a tag word followed by space-separated key=value fields.  Text keeps the format greppable and
 * self-delimiting (a record ends at '\n', so a truncated file loses at most its last record), and
 * key=value keeps it extensible (readers ignore keys they do not know).  docs/trace-format.md is
 * the specification; this header only names the vocabulary both sides must agree on. */
#ifndef FORKSAN_TRACE_FORMAT_H
#define FORKSAN_TRACE_FORMAT_H

#define FS_TRACE_MAGIC   "forksan-trace"
#define FS_TRACE_VERSION 1
#define FS_TRACE_SUFFIX  ".trace"

/* Record tags, in the order a process usually writes them. */
#define FS_REC_PROC     "proc"     /* identity of this process image */
#define FS_REC_MOD      "mod"      /* one loaded module: address range, bias, build-id, path */
#define FS_REC_CHILD    "child"    /* written by a forked child: which fork made it, and where */
#define FS_REC_THREAD   "thread"   /* a thread of the parent alive at that fork */
#define FS_REC_HELD     "held"     /* a lock some parent thread held at that fork */
#define FS_REC_FORK     "fork"     /* written by the parent after a fork returned */
#define FS_REC_SPAWN    "spawn"    /* posix_spawn: a child created without fork */
#define FS_REC_EXEC     "exec"     /* this image is about to be replaced */
#define FS_REC_LOST     "lost"     /* something could not be recorded (overflow, failed syscall) */
#define FS_REC_DEADLOCK "deadlock" /* a forked child acquires a lock inherited held */
#define FS_REC_REINIT   "reinit"   /* a forked child re-initialises or destroys such a lock */
#define FS_REC_RACE     "race"     /* a forked child uses a lock a vanished parent thread used */
#define FS_REC_UNTRACED "untraced" /* in a parent's file: a child that could not make its own */
/* Randomness (rng.c): a seeding call, the first values of a run of draws, safe sources used. */
#define FS_REC_SEED "seed"
#define FS_REC_DRAW "draw"
#define FS_REC_SAFE "safe"
/* State copied by fork (streams, exit, reaping, limits): an output stream with bytes pending at
 * the fork (child side), what became of them, how a process ended, a child it reaped (late, or
 * killed by a signal), a fork the limits refused. */
#define FS_REC_STREAM    "stream"
#define FS_REC_STREAMEND "streamend"
#define FS_REC_END       "end"
#define FS_REC_ZOMBIE    "zombie"
#define FS_REC_REFUSED   "refused"
#define FS_REC_REAPED    "reaped"
#define FS_REC_KILLED    "killed"
#define FS_REC_FD        "fd"
/* Python (CPython processes): the interpreter, its threads' Python stacks and names, and the
 * locks it could name, after a `child` record (of=fork) or a `deadlock` record (of=deadlock). */
#define FS_REC_PYTHON   "python"
#define FS_REC_PYTHREAD "pythread"
#define FS_REC_PYFRAME  "pyframe"
#define FS_REC_PYLOCK   "pylock"
/* Hang files (<pid>.hang), written by forksan itself when a run's time limit expires. */
#define FS_HANG_SUFFIX    ".hang"
#define FS_REC_HANG       "hang"
#define FS_REC_HANGTHREAD "hangthread"

/* Lock kinds and the names they carry in traces and reports.  The enum is the index into
 * fs_lock_kind_names (trace_names.c), so there is one table, not two lists to keep in sync. */
enum fs_lock_kind {
    FS_LOCK_MUTEX = 1, /* pthread_mutex_t */
    FS_LOCK_RWLOCK,    /* pthread_rwlock_t */
    FS_LOCK_SPIN,      /* pthread_spinlock_t */
    FS_LOCK_SEM,       /* sem_t used as a lock */
    FS_LOCK_MTX,       /* C11 mtx_t */
    FS_LOCK_KIND_MAX
};

enum fs_lock_mode {
    FS_MODE_EXCL = 1, /* mutex, spin, mtx: the one holder */
    FS_MODE_READ,     /* rwlock read side */
    FS_MODE_WRITE,    /* rwlock write side */
    FS_MODE_MAX
};

/* How a child came to be: the fork() wrapper, _Fork() (no atfork handlers run), or only the
 * atfork handlers (glibc-internal forks such as daemon()). */
enum fs_fork_via { FS_VIA_FORK = 1, FS_VIA_UFORK, FS_VIA_ATFORK, FS_VIA_MAX };

const char *fs_lock_kind_name(int kind);
const char *fs_lock_mode_name(int mode);
const char *fs_fork_via_name(int via);
/* Inverse lookups for the reader; 0 when the name is unknown. */
int fs_lock_kind_from_name(const char *name);
int fs_lock_mode_from_name(const char *name);
int fs_fork_via_from_name(const char *name);

#endif
