/* The analyzer's picture of a run: the trace files of a directory turned into processes, their
 * images (one per exec), and what each fork left in each child.  Built by model.c from
 * common/trace_read; the rules read it and never look at trace records themselves. */
#ifndef FORKSAN_MODEL_H
#define FORKSAN_MODEL_H

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
    int kind;  /* enum fs_lock_kind */
    int mode;  /* enum fs_lock_mode */
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

struct fs_lost {
    char *what;
    long count;
};

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
    bool damaged; /* truncated or had unparsable lines */
};

struct fs_process {
    int pid;
    struct fs_image **images; /* in exec order */
    size_t nimages;
    struct fs_process *parent; /* NULL for the root(s) */
    struct fs_process **children;
    size_t nchildren;
};

struct fs_model {
    struct fs_image *images;
    size_t nimages;
    struct fs_process *procs;
    size_t nprocs;
    unsigned unreadable; /* files that could not be used at all */
};

/* Loads every *.trace file of dir.  Damaged and unusable files are reported through diag.h and
 * skipped or used in part.  Returns 0, or -1 if dir cannot be read at all (errno set). */
int fs_model_load_dir(const char *dir, struct fs_model *model);
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
