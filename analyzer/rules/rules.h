/* Hazard rules: they read the model (model.h) and append findings (finding.h).  One file per
 * hazard family under rules/; this header holds the entry point and the helpers every rule uses
 * to build the evidence (stacks, process path) and to merge the identical findings that a
 * prefork parent produces once per child. */
#ifndef FORKSAN_RULES_H
#define FORKSAN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "model.h"

struct fs_symbolizer;

/* Runs every rule family over the model, then sorts the findings.  sym may be NULL: frames then
 * carry only their addresses. */
void fs_rules_run(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);

/* Rule families (rules/<family>.c).  They append to out and do not sort. */
void fs_rules_locks(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);
void fs_rules_threads(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);
/* child-deadlock: a forked child acquiring a lock it inherited held (rules/deadlock.c). */
void fs_rules_deadlock(const struct fs_model *m, struct fs_symbolizer *sym,
                       struct fs_findings *out);
/* fork-lock-race: a child used a lock a vanished parent thread had used (rules/race.c). */
void fs_rules_race(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);
/* rng-duplicated, rng-inherited, rng-unseeded (rules/rng.c). */
void fs_rules_rng(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);
/* child-hang: processes still alive at the run's time limit (rules/hang.c). */
void fs_rules_hang(const struct fs_model *m, struct fs_symbolizer *sym, struct fs_findings *out);
/* stdio-unflushed-at-fork, child-exit-runs-parent-cleanup, unreaped-child, child-repeats-fork,
 * fork-storm: state fork copies besides locks (rules/copied.c). */
void fs_rules_copied(const struct fs_model *m, struct fs_symbolizer *sym,
                     struct fs_findings *out);

/* Adds a stack with this role and tid to f, from recorded return addresses: symbolized against
 * mods when sym is set, else frames with only pc.  Adds nothing when there are no addresses. */
void fs_rules_stack(struct fs_finding *f, struct fs_symbolizer *sym, const struct fs_modmap *mods,
                    const char *role, int tid, const struct fs_addrs *addrs);
/* fs_rules_stack for a stack of a CPython process (py set): the interpreter's frames are marked
 * (fs_findings_finish folds them) and the thread's Python frames, when pt is set, are merged in
 * (pyframes.c).  With no addresses but Python frames, the stack holds the Python frames alone. */
void fs_rules_stack_py(struct fs_finding *f, struct fs_symbolizer *sym,
                       const struct fs_modmap *mods, const char *role, int tid,
                       const struct fs_addrs *addrs, const struct fs_py_info *py,
                       const struct fs_py_thread_rec *pt);
/* The "fork" stack of the fork a child's snapshot s describes: the forking thread's native stack
 * and, for a CPython parent, its Python frames merged in and the interpreter's marked to fold;
 * when the Python stacks could not be read, the `python` detail saying so (once per finding).
 * The one way every rule shows the fork that made a child.  Nothing when s is NULL. */
void fs_rules_fork_stack(struct fs_finding *f, struct fs_symbolizer *sym,
                         const struct fs_modmap *mods, const struct fs_fork_snapshot *s);
/* The "thread-created" stack of a parent thread: its creation site, and for a thread a Python
 * thread started, the creator's Python line (the program's Thread.start()).  Nothing when neither
 * is known. */
void fs_rules_thread_created(struct fs_finding *f, struct fs_symbolizer *sym,
                             const struct fs_modmap *mods, const struct fs_thread_rec *t,
                             const struct fs_py_info *py);
/* Details naming a Python lock (lock_name, lock_owner) when pl is set. */
void fs_rules_py_lock_details(struct fs_finding *f, const struct fs_py_lock_rec *pl);
/* The one-line note of a CPython process whose Python stacks could not be read. */
void fs_rules_py_status(struct fs_finding *f, const struct fs_py_info *py);
/* pyframes.c: merges a thread's Python frames into a symbolized native stack. */
/* Before rendering: marks frames of system libraries, and leaves out interpreter frames unless
 * `native` (counting them in each stack's `folded`). */
void fs_findings_finish(struct fs_findings *list, bool native);
void fs_pystack_merge(struct fs_stack *s, const struct fs_py_info *py,
                      const struct fs_py_thread_rec *t);
/* Fills f's process path, root first, ending with p. */
void fs_rules_path(struct fs_finding *f, const struct fs_process *p);
/* The name of the function that starts at addr (a function entry, such as a thread's start
 * routine, not a return address), or "0x<hex>" when sym is NULL or the name is unknown.
 * Returns a malloc'd string. */
char *fs_rules_function_name(struct fs_symbolizer *sym, const struct fs_modmap *mods,
                             uint64_t addr);
/* `<tid> "<name>"` for a parent thread as a fork snapshot recorded it, or `<tid>` when the
 * snapshot has no record of it.  Returns a malloc'd string. */
char *fs_rules_thread_label(const struct fs_fork_snapshot *s, int tid);
/* A thread as a detail: "tid 4201 \"worker\"" for people, {tid, name} for tools. */
void fs_rules_thread_detail(struct fs_finding *f, const char *key,
                            const struct fs_fork_snapshot *s, int tid);
/* The thread record of tid in a fork snapshot, or NULL. */
const struct fs_thread_rec *fs_rules_thread_find(const struct fs_fork_snapshot *s, int tid);
/* How a report names a lock, as a user would declare it: "recursive pthread mutex",
 * "pthread rwlock (read)", "semaphore", ...  mtype is glibc's mutex kind bits, -1 when unknown;
 * mode matters for rwlocks only.  Returns a malloc'd string. */
char *fs_rules_lock_kind_label(int kind, int mode, int mtype);
/* Appends the addresses as "a,b,c" (hex) to a key being built for merging. Returns a malloc'd
 * string. */
char *fs_rules_pcs_key(const struct fs_addrs *addrs);

/* Merging of findings that differ only by the child they were seen in (a prefork parent forks N
 * children with the same state).  Each rule builds a key from what makes its finding distinct;
 * the first finding with a key stays, later ones only add their child pid. */
struct fs_rules_merge_group;
struct fs_rules_merge {
    struct fs_rules_merge_group *groups;
    size_t n;
    size_t *slots; /* hash of the keys: index + 1 into groups, 0 when empty */
    size_t nslots; /* a power of two, at least twice n */
};

/* True when a finding with this key was already emitted; child_pid is then recorded with it and
 * the caller must not emit a new one. */
bool fs_rules_merge_seen(struct fs_rules_merge *mg, const char *key, int child_pid);
/* Records that out->items[index] was emitted for this key and child. */
void fs_rules_merge_add(struct fs_rules_merge *mg, const char *key, size_t index, int child_pid);
/* Adds the "children" detail to every finding that stands for more than one child, and frees
 * the merge state. */
void fs_rules_merge_finish(struct fs_rules_merge *mg, struct fs_findings *out);

#endif
