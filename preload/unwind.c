/* Stack capture for fork sites and (optionally) lock acquisitions, with libunwind's local
 * unwinder: it needs no malloc on the unwind path and works without frame pointers, from DWARF
 * CFI.  Only raw return addresses are kept; symbolization happens offline in the analyzer.
 *
 * In a forked child the unwinder can block forever: fork copies only the calling thread, so a
 * lock that another parent thread held inside libunwind (its caches) or inside dl_iterate_phdr
 * (ld.so's dl_load_write_lock, which libunwind takes to find a module's unwind tables, and which
 * glibc does not reset in the child) stays held.  The child then records no stacks instead of
 * hanging the program; fs_unwind_after_fork_child decides. */
#define UNW_LOCAL_ONLY
#include "shim.h"

#include <link.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <libunwind.h>

#define FS_UNWIND_SCRATCH (FS_FORK_STACK_MAX + 8)

__thread int fs_tls_loader __attribute__((tls_model("initial-exec")));

/* Mutexes that the shim's own calls into other code (libunwind's caches and memory pools, the
 * Python capture's GIL) hold now, summed over threads; hooks_mutex.c counts them.  A forked child
 * inherits the sum as it was at the fork: the forking thread held none of them then, so any count
 * is a vanished thread's lock, which the child's unwinding could wait on forever. */
static int internal_locks;
static __thread int tls_internal_locks __attribute__((tls_model("initial-exec")));

/* The lock word of ld.so's dl_load_write_lock (a pthread mutex inside _rtld_global, which is
 * private to glibc), or NULL when it could not be found: then a child trusts the loader.  The
 * lock word, not the owner: a thread between taking the word and writing its tid (or between
 * clearing the tid and releasing the word) holds the lock with no owner written. */
static const int *loader_lock;

/* __attribute__((noinline)) keeps this frame real, so `skip` counts are stable. */
__attribute__((noinline)) int fs_backtrace(uintptr_t *out, int max, int skip)
{
    if (fs_tls_loader || fs_proc.unwind_blocked)
        return 0; /* a signal handler interrupted this thread inside the loader's lock; or a
                   * child whose parent's other threads held the unwinder's locks */
    void *ips[FS_UNWIND_SCRATCH];
    int want = max + skip + 1;
    if (want > FS_UNWIND_SCRATCH)
        want = FS_UNWIND_SCRATCH;
    fs_tls_loader++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int n = unw_backtrace(ips, want);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    fs_tls_loader--;
    int first = skip + 1; /* ips[0] is this function */
    int k = 0;
    for (int i = first; i < n && k < max; i++)
        out[k++] = (uintptr_t)ips[i];
    return k;
}

/* pthread_mutex_t on x86-64 and aarch64 glibc: int __lock; unsigned __count; int __owner; ... */
enum { MUTEX_WORDS = 10, MUTEX_COUNT = 1, MUTEX_OWNER = 2 };

struct loader_probe {
    uintptr_t base; /* ld.so's load address (AT_BASE) */
    int tid;
    const int *found;
    int matches;
};

/* Called by dl_iterate_phdr, which holds dl_load_write_lock (recursively, once) meanwhile: the
 * lock is the one mutex in ld.so's writable data owned by this thread with a count of 1. */
static int find_loader_lock(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct loader_probe *p = arg;
    if (info->dlpi_addr != p->base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz < sizeof(int) * MUTEX_WORDS)
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr + 7) & ~(uintptr_t)7;
        uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz - sizeof(int) * MUTEX_WORDS;
        for (uintptr_t a = lo; a <= hi; a += 8) {
            const int *w = (const int *)a;
            if (w[MUTEX_OWNER] == p->tid && w[MUTEX_COUNT] == 1 && w[0] != 0) {
                p->found = w;
                p->matches++;
            }
        }
    }
    return 1;
}

void fs_internal_lock_taken(void)
{
    tls_internal_locks++;
    __atomic_add_fetch(&internal_locks, 1, __ATOMIC_SEQ_CST);
}

void fs_internal_lock_released(void)
{
    /* Only what this thread counted: a lock taken outside the shim's calls is not in the sum. */
    if (tls_internal_locks > 0) {
        tls_internal_locks--;
        __atomic_sub_fetch(&internal_locks, 1, __ATOMIC_SEQ_CST);
    }
}

void fs_unwind_init(void)
{
    struct loader_probe p = {.base = (uintptr_t)getauxval(AT_BASE), .tid = fs_gettid()};
    if (!p.base)
        return; /* no separate loader (a static program would not load the shim at all) */
    fs_tls_loader++;
    dl_iterate_phdr(find_loader_lock, &p);
    fs_tls_loader--;
    /* Exactly one candidate, released once dl_iterate_phdr returned. */
    if (p.matches == 1 && __atomic_load_n(p.found, __ATOMIC_RELAXED) == 0)
        loader_lock = p.found;
    /* libunwind's one-time set-up (its pthread_once, its first caches) happens now, while this
     * is the only thread, not in a thread that a later fork could leave halfway through it. */
    uintptr_t warm[4];
    FS_INTERNAL_BEGIN();
    (void)fs_backtrace(warm, 4, 0);
    FS_INTERNAL_END();
}

/* In the child, from the atfork child handler (async-signal-safe: two loads, at most one store
 * into fs_proc, which the child writes anyway). */
FS_CHILD_PATH void fs_unwind_after_fork_child(void)
{
    int blocked = __atomic_load_n(&internal_locks, __ATOMIC_RELAXED) != 0 ||
                  (loader_lock && __atomic_load_n(loader_lock, __ATOMIC_RELAXED) != 0);
    if (blocked != fs_proc.unwind_blocked)
        fs_proc.unwind_blocked = blocked;
}
