/* The analyzer's picture of a run: the trace files of a directory turned into processes, their
 * images (one per exec), and what each fork left in each child.  Built by model.c from
 * common/trace_read; the rules read it and never look at trace records themselves. */
#ifndef FORKSAN_MODEL_H
#define FORKSAN_MODEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_trace_file;

struct fs_module {
    uint64_t start, end, bias;
    char *buildid; /* hex, "" when none */
    char *path;
};

struct fs_modmap {
    struct fs_module *mods;
    size_t n;
    size_t *slots; /* while a file is loaded: mods by start (index + 1, 0 empty); else NULL */
    size_t nslots;
    size_t *by_start; /* once loaded: mods' indices in order of start (NULL: scan mods) */
};

struct fs_addrs {
    uint64_t *pc; /* innermost first; return addresses */
    size_t n;
};

/* A Python frame (trace record pyframe; docs/trace-format.md, "Records added for Python"). */
struct fs_py_frame_rec {
    char *file, *func; /* co_filename, co_name ("" when unknown) */
    int line;
};

/* A parent thread alive at a fork, as the child saw it. */
struct fs_thread_rec {
    int tid;
    char *name;
    bool forker;
    bool known;
    uint64_t start_routine;
    uint64_t start_arg0; /* first word of the start argument (trace key arg0), 0 when unknown */
    struct fs_py_frame_rec py_site; /* Python creation site; line 0 when unknown */
    int creator;
    uint64_t create_site;
};

/* A lock a parent thread held at a fork, as the child saw it. */
struct fs_held_rec {
    int tid;
    uint64_t lock;
    int kind; /* enum fs_lock_kind */
    int mode; /* enum fs_lock_mode */
    int count;
    int mtype;   /* glibc mutex kind bits, -1 when unknown */
    bool shared; /* process-shared (glibc's flag in the lock): a holder elsewhere can release it */
    struct fs_addrs site;
};

/* Python (trace records python, pythread, pyframe, pylock): what the shim read from a CPython
 * process through its C API, at a fork or at a child's deadlock. */
struct fs_py_thread_rec {
    int tid;        /* OS thread id, 0 when the shim did not know the thread */
    uint64_t ident; /* threading.get_ident() */
    char *name;     /* threading.Thread name, "" when the thread has no Thread object */
    bool forker;
    struct fs_py_frame_rec *frames; /* innermost first */
    size_t nframes;
};

enum fs_pylock_role {
    FS_PYLOCK_USER = 1, /* a lock object the program named (a module global of __main__) */
    FS_PYLOCK_TSTATE,   /* a thread's own tstate lock: CPython forgets it in the child */
    FS_PYLOCK_REINIT,   /* a lock re-created in the child by _at_fork_reinit (logging) */
};

struct fs_py_lock_rec {
    uint64_t lock; /* the native lock (sem_t) under the Python object */
    int role;      /* enum fs_pylock_role, 0 when unknown */
    int tid;       /* tstate locks: whose */
    char *name;    /* "__main__.cache_lock", the thread name of a tstate lock, ... */
};

struct fs_py_info {
    char *version; /* "3.11.2" */
    char *status;  /* "ok", or why there are no stacks ("nogil": forked without the GIL) */
    char *stdlib;  /* directory of the standard library, "" when unknown */
    struct fs_py_thread_rec *threads;
    size_t nthreads;
    struct fs_py_lock_rec *locks;
    size_t nlocks;
};

/* The child side of a fork: written by the child, about the parent at the instant of fork. */
struct fs_fork_snapshot {
    int seq;
    int parent_pid;
    int forker_tid;
    int via; /* enum fs_fork_via */
    int64_t time;
    struct fs_addrs frames;
    uint64_t pykey; /* the Python stack's key at the fork, 0 when not forked from Python */
    int pydepth;
    struct fs_thread_rec *threads;
    size_t nthreads;
    size_t *by_tid; /* threads' indices by tid, then record order (NULL: scan threads) */
    struct fs_held_rec *held;
    size_t nheld;
    struct fs_py_info *py; /* NULL unless the parent ran CPython */
};

/* The parent side of a fork or spawn. */
struct fs_fork_event {
    int seq;
    int child_pid; /* -1 when it failed */
    int err;
    int tid;
    int via;
    bool spawn; /* posix_spawn rather than fork */
    char *spawn_path;
    int64_t time;
    struct fs_addrs frames;
    uint64_t pykey; /* as in fs_fork_snapshot */
    int pydepth;
    char *placed; /* spawn: descriptors its file actions put in place, "3,7" ("" when none) */
};

/* A descriptor above 2 found open when an image started (`fd`): it crossed the exec. */
struct fs_fd_rec {
    int fd;
    char *target; /* /proc/self/fd/<fd>: a path, pipe:[n], socket:[n] */
};

/* ---- state copied by fork (model_copied.c) ------------------------------------------------ */

/* An output stream with bytes pending at the fork that made this image (`stream`). */
struct fs_stream_rec {
    char *layer; /* "c" (libc stdio) or "python" (sys.stdout, sys.stderr) */
    uint64_t id; /* the FILE or the Python object, as an address */
    int fd;
    long pending;
    char *buffering; /* full, line, none */
    char *bytes;     /* the first pending bytes (up to 32; NUL-terminated copy) */
    size_t nbytes;
    char *target; /* /proc/self/fd/<fd> */
};

/* What became of a stream's pending bytes when the image ended (`streamend`). */
struct fs_stream_fate {
    char *layer;
    uint64_t id;
    bool still; /* still unwritten at the end: exit writes them, _exit and exec discard them */
};

/* How the image ended (`end`). */
struct fs_end_rec {
    char *how; /* exit, _exit, exec */
    int64_t time;
    bool forked;   /* a forked child that had not exec'd */
    char *sigchld; /* dfl, ign, nocldwait, handler, unknown */
    struct fs_addrs frames;   /* the exit() call's stack (forked children ending in exit) */
    struct fs_addrs handlers; /* exit handlers it inherited (function addresses) */
    struct fs_addrs hsites;   /* where each was registered */
    long pyatexit;            /* Python atexit callbacks registered at the fork */
    int *zombies;             /* children still zombies when it ended */
    size_t nzombies;
};

/* A fork the limits refused (`refused`). */
struct fs_refused {
    char *limit; /* "processes" or "forks" */
    long max, alive, forks;
    int64_t time;
    struct fs_addrs frames;
};

/* A child this image reaped after it had been a zombie longer than the threshold (`reaped`). */
struct fs_late_reap {
    int pid;
    int64_t zombie_ns, threshold_ns, time;
};

/* A forked child (before any exec) acquiring a lock it inherited held by a vanished thread:
 * written by the child's shim when it happens, before the call blocks. */
struct fs_deadlock_rec {
    uint64_t lock;
    int kind, mode;
    int holder;   /* tid, in the parent, of the thread that held it at fork */
    char *call;   /* the function the child called, e.g. "pthread_mutex_lock" */
    bool trylock; /* a try variant: it fails instead of blocking */
    char *policy; /* "wait", "fail" or "abort" (FORKSAN_ON_DEADLOCK) */
    int64_t time;
    struct fs_addrs frames; /* the child's stack at the call */
    struct fs_py_info *py;  /* the calling thread's Python stack, NULL when none */
};

/* fork-lock-race: a forked child (before any exec) used a lock that a parent thread, alive at the
 * fork and absent in the child, had also used (`race`, written by the child at the call). */
struct fs_race_rec {
    uint64_t lock;
    int kind, mode;  /* the child's use */
    int tid;         /* the other thread, in the parent */
    int other_mode;  /* its last use of the lock */
    uint64_t site;   /* where it last acquired, tried or waited on the lock */
    int others;      /* further vanished threads that used it too */
    char state;      /* its /proc state just after the fork ('R', 'S', 'D', ...), '?' unknown */
    char *call;      /* the child's function */
    bool trylock;
    int64_t time;
    struct fs_addrs frames; /* the child's stack at the call */
    struct fs_py_info *py;  /* the child's Python stack, NULL when none */
};

/* A forked child re-initialised (or destroyed) a lock it inherited held by a vanished thread. */
struct fs_reinit_rec {
    uint64_t lock;
    int kind;
    int holder;
    char *call; /* pthread_mutex_init, sem_init, pthread_mutex_destroy, ... */
    bool used;  /* the child had called a lock function on it before */
    int64_t time;
    struct fs_addrs frames;
};

/* The first values of a run of draws from one generator lineage (trace record `draw`). */
struct fs_rng_draw {
    char *gen;        /* family: random, drand48, random_r, drand48_r, erand48, rand_r */
    uint64_t id;      /* the instance: state buffer address, 0 for the global ones */
    uint64_t lineage; /* seed value, default seed, or caller state contents */
    bool seeded;      /* from a seeding call (not the default seed, not a bare caller state) */
    int seedpid;
    uint64_t seedsite;
    bool inherited; /* this process drew from a lineage it did not seed itself */
    int64_t pos;    /* values the lineage had produced before the first one here */
    int n;
    uint64_t values[4];
    bool is_double;
    char *call;
    uint64_t site;
};

struct fs_rng_seed {
    char *gen;
    uint64_t id, value;
    char *call;
    uint64_t site;
    int64_t time;
};

struct fs_rng_safe {
    char *src;
    long count;
};

struct fs_lost {
    char *what;
    long count;
};

/* A process this image knows of that wrote no trace of its own (`untraced` record): a child
 * that could not create its file, or a vfork child exec'ing a program that cannot load the shim. */
struct fs_untraced_rec {
    int pid;
    int seq;       /* the fork that made it; 0 when not known or not a fork */
    char *why;     /* the shim's word: rlimit, setuid, chroot, static, create, ... */
    char *program; /* "" when the record did not say (a forked child runs its parent's) */
};
/* Distinct `lost what=` words kept per image; records beyond are damage. */
#define FS_MODEL_MAX_LOST_KINDS 64

/* Counts from traces are summed across records, images and processes: a hostile or damaged
 * trace can say count=9223372036854775807, so sums saturate instead of overflowing (the model
 * refuses negative counts, so both sides are >= 0). */
static inline long fs_count_add(long a, long b)
{
    return a > LONG_MAX - b ? LONG_MAX : a + b;
}

/* One trace file: one process image. */
struct fs_image {
    char *file;
    int index; /* the <n> of <pid>.<n>.trace */
    int pid, ppid;
    bool forked; /* origin=fork: snapshot is set */
    int64_t time;
    char *exe, *comm, *cmdline;
    struct fs_modmap mods;
    struct fs_fork_snapshot *snapshot; /* NULL unless forked and the child record was read */
    struct fs_fork_event *forks;
    size_t nforks;
    bool execed; /* this image called exec and did not come back */
    char *exec_path;
    char *exec_placed; /* descriptors it had put in place with dup2/dup3, "3,7" */
    struct fs_fd_rec *fds;
    size_t nfds;
    char *exec_next; /* why the exec'd program will not be traced, when the shim could tell */
    struct fs_untraced_rec *untraced;
    size_t nuntraced;
    struct fs_lost *lost;
    size_t nlost;
    struct fs_deadlock_rec *deadlocks;
    size_t ndeadlocks;
    struct fs_reinit_rec *reinits;
    size_t nreinits;
    struct fs_race_rec *races;
    size_t nraces;
    struct fs_rng_draw *draws;
    size_t ndraws;
    struct fs_rng_seed *seeds;
    size_t nseeds;
    struct fs_rng_safe *safes;
    size_t nsafes;
    struct fs_stream_rec *streams;
    size_t nstreams;
    struct fs_stream_fate *fates;
    size_t nfates;
    struct fs_end_rec *end; /* the last `end` record other than how=exec, else an exec one */
    struct fs_refused *refused;
    size_t nrefused;
    struct fs_late_reap *late_reaps;
    size_t nlate_reaps;
    int *killed; /* children this image reaped killed by a signal (`killed` records) */
    size_t nkilled;
    bool damaged;    /* truncated or had unparsable lines */
    bool unfinished; /* the writer promised an `end` record and there is none (killed, or cut) */
};

/* One thread of a process that was still running when the run's time limit expired, as forksan
 * saw it from outside (ptrace + libdwfl), whether or not the shim was in that process. */
struct fs_hang_thread {
    int tid;
    char *name;
    char state;             /* /proc state letter: R, S, D, T, ... ('?' unknown) */
    char *wchan;            /* kernel function it sleeps in, "" when none */
    struct fs_addrs frames; /* innermost first, all adjusted to look like return addresses */
};

/* A `<pid>.hang` file, written by forksan (not the shim) just before it ended the tree. */
struct fs_hang {
    char *file;
    int pid, ppid;
    char *comm, *exe;
    double after;  /* seconds the run had lasted */
    bool attached; /* stacks could be read */
    char *error;   /* why not, when !attached */
    char *ended;   /* why forksan ended this process before the run ended ("deadlock"), "" */
    struct fs_modmap mods;
    struct fs_hang_thread *threads;
    size_t nthreads;
    struct fs_py_info *py; /* Python tracebacks (CPython's own dump), NULL when none */
};

struct fs_process {
    int pid;
    struct fs_image **images; /* in exec order */
    size_t nimages;
    struct fs_process *parent; /* NULL for the root(s) */
    struct fs_process **children;
    size_t nchildren;
};

/* Where a fork event is: the parent-side records indexed by child pid (fs_model_fork_of). */
struct fs_fork_ref {
    int child_pid;
    size_t proc;  /* index into procs */
    size_t image; /* index into that process's images */
    size_t fork;  /* index into that image's forks */
};

struct fs_model {
    struct fs_image *images;
    size_t nimages;
    struct fs_process *procs;
    size_t nprocs;
    size_t *by_pid; /* procs' indices ordered by pid, then index: lookups in O(log n) */
    struct fs_fork_ref *forks_by_child; /* every fork and spawn event, by child pid */
    size_t nforks;
    struct fs_hang *hangs;
    size_t nhangs;
    unsigned unreadable; /* files that could not be used at all */
};

/* Loads every <pid>.<n>.trace and <pid>.hang file of dir.  Damaged and unusable files are reported
 * through diag.h and skipped or used in part.  Returns 0, or -1 if dir cannot be read at all (errno
 * set). */
int fs_model_load_dir(const char *dir, struct fs_model *model);
/* Processes whose end the run saw for itself (forksan run reaped them killed by a signal, and
 * said so or ended them): their traces stop without an `end` record for a known reason, so
 * fs_model_load_dir does not warn about them.  The array is the caller's, kept until then. */
void fs_model_set_known_ends(const int *pids, size_t n);
/* model_rng.c: the randomness records of a trace (seed, draw, safe).  Returns 1 when rec was
 * one of them and was stored, 0 when it is another record, -1 when it is one but malformed. */
struct fs_record;
int fs_model_rng_record(struct fs_image *img, const struct fs_record *rec);
void fs_model_rng_release(struct fs_image *img);
/* model_copied.c: stream, streamend, end, zombie and refused records, as above. */
int fs_model_copied_record(struct fs_image *img, const struct fs_record *rec);
void fs_model_copied_release(struct fs_image *img);
/* model_py.c: the Python records (python, pythread, pyframe, pylock), same contract. */
int fs_model_py_record(struct fs_image *img, const struct fs_record *rec);
void fs_py_info_free(struct fs_py_info *py);
/* The same records into a given slot (a hang file's); 0 when rec is not one of them. */
int fs_model_py_slot_record(struct fs_py_info **slot, const struct fs_record *rec);
/* The Python thread with this OS tid, or NULL. */
const struct fs_py_thread_rec *fs_py_thread_of(const struct fs_py_info *py, int tid);
/* The Python lock record for a native lock address, or NULL. */
const struct fs_py_lock_rec *fs_py_lock_of(const struct fs_py_info *py, uint64_t lock);
/* Adds one parsed `<pid>.hang` file (see fs_hang). */
int fs_model_add_hang(struct fs_model *model, const struct fs_trace_file *file);
/* The hang observation of a pid, or NULL. */
const struct fs_hang *fs_model_hang_of(const struct fs_model *model, int pid);
/* Adds one parsed trace (tests build models from strings this way); call fs_model_link after. */
int fs_model_add_trace(struct fs_model *model, const struct fs_trace_file *file);
/* Orders images into processes and links parents and children. */
void fs_model_link(struct fs_model *model);
void fs_model_release(struct fs_model *model);

struct fs_process *fs_model_find(const struct fs_model *model, int pid);
/* The fork event in the parent that created this child process, or NULL. */
const struct fs_fork_event *fs_model_fork_of(const struct fs_model *model,
                                             const struct fs_process *child);
/* The image a process was running when it forked (its last image that recorded that fork). */
const struct fs_image *fs_process_first_image(const struct fs_process *p);
/* True when a process that started by fork called exec afterwards. */
bool fs_process_execed(const struct fs_process *p);
/* Display name for a process: comm of its first image, or "?" */
const char *fs_process_name(const struct fs_process *p);

#endif
