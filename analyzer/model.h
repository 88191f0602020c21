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

/* A parent thread alive at a fork, as the child saw it. */
struct fs_thread_rec {
    int tid;
    char *name;
    bool forker;
    bool known;
    uint64_t start_routine;
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
    int mtype; /* glibc mutex kind bits, -1 when unknown */
    struct fs_addrs site;
};

/* The child side of a fork: written by the child, about the parent at the instant of fork. */
struct fs_fork_snapshot {
    int seq;
    int parent_pid;
    int forker_tid;
    int via; /* enum fs_fork_via */
    int64_t time;
    struct fs_addrs frames;
    struct fs_thread_rec *threads;
    size_t nthreads;
    size_t *by_tid; /* threads' indices by tid, then record order (NULL: scan threads) */
    struct fs_held_rec *held;
    size_t nheld;
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
    struct fs_lost *lost;
    size_t nlost;
    struct fs_deadlock_rec *deadlocks;
    size_t ndeadlocks;
    struct fs_rng_draw *draws;
    size_t ndraws;
    struct fs_rng_seed *seeds;
    size_t nseeds;
    struct fs_rng_safe *safes;
    size_t nsafes;
    bool damaged; /* truncated or had unparsable lines */
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
    struct fs_modmap mods;
    struct fs_hang_thread *threads;
    size_t nthreads;
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
/* model_rng.c: the randomness records of a trace (seed, draw, safe).  Returns 1 when rec was
 * one of them and was stored, 0 when it is another record, -1 when it is one but malformed. */
struct fs_record;
int fs_model_rng_record(struct fs_image *img, const struct fs_record *rec);
void fs_model_rng_release(struct fs_image *img);
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
