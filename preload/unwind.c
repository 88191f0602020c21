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

#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <libunwind.h>

#define FS_UNWIND_SCRATCH (FS_FORK_STACK_MAX + 8)

__thread int fs_tls_loader __attribute__((tls_model("initial-exec")));

/* The mutexes that the shim's own calls into other code (libunwind's caches and memory pools, the
 * Python capture's GIL) hold or are acquiring now, one entry per acquisition, over all threads;
 * hooks_mutex.c adds an entry before the real lock call and removes one after the unlock (or a
 * failed attempt).  A forked child inherits the table as it was at the fork and reads each entry's
 * lock word in its own copy of memory: a word still set means a vanished thread held that mutex
 * (the forking thread held none in the middle of a fork), which the child's unwinding could wait
 * on for ever; an entry whose word is clear (a thread that was only waiting, or had just
 * unlocked) is harmless.  Acquisitions that found the table full are only counted, and any such
 * count makes the child give up its stacks. */
#define INFLIGHT_MAX 64
static const void *inflight[INFLIGHT_MAX] FS_HOT;
static int inflight_overflow FS_HOT;
static __thread int tls_internal_locks __attribute__((tls_model("initial-exec")));

/* The lock word of ld.so's dl_load_write_lock (a pthread mutex inside _rtld_global, which is
 * private to glibc), or NULL when it could not be found: then a child trusts the loader.  The
 * lock word, not the owner: a thread between taking the word and writing its tid (or between
 * clearing the tid and releasing the word) holds the lock with no owner written. */
static const int *loader_lock FS_HOT;

/* unw_backtrace keeps a frame cache per thread: a table of 2^14 16-byte entries (256 KiB), every
 * entry written when it is created, reached from libunwind's pthread key.  All 64 pages stayed
 * resident in every thread that ever captured a stack, so every fork copied their page table
 * entries and every child dropped them again, although a program's fork stacks fill a handful of
 * entries.  After a thread's first unwind, the pages holding no entry yet are given back
 * (MADV_DONTNEED): they read as zeros again, and an entry with a zero address is a free slot to
 * libunwind, so the cache is the same to it; a page comes back when an entry lands in it.  (Not
 * MADV_WIPEONFORK: a child that unwinds, as every Python child does for its re-created locks,
 * would then start cold and walk every frame the slow way.)  The table's layout is libunwind's
 * (1.6: {frames, log_size, used, dtor_count}; the slot of address a is (a * 0x9e3779b97f4a7c16)
 * >> 43 modulo its size, 16 probes), so the key is trusted only if the table it names holds the
 * addresses the warm-up unwind just returned (each at its slot, as returned or less one);
 * otherwise nothing is given back and the fork copies the whole cache as before. */
struct unw_cache_head {
    uintptr_t frames;
    size_t log_size;
};
enum { UNW_ENTRY = 16, UNW_LOG_MIN = 14, UNW_LOG_MAX = 24, UNW_PROBES = 16 };
static pthread_key_t unw_cache_key FS_HOT;
static int unw_cache_key_ok FS_HOT;
static __thread uintptr_t tls_cache_trimmed __attribute__((tls_model("initial-exec")));

/* Whether the table at `frames` (2^log entries) holds address a in one of its probe slots. */
static int cache_holds(uintptr_t frames, size_t log, uintptr_t a)
{
    uint64_t size = (uint64_t)1 << log, slot = ((a * 0x9e3779b97f4a7c16ULL) >> 43) & (size - 1);
    for (int i = 0; i < UNW_PROBES; i++, slot = (slot + 1) & (size - 1)) {
        uintptr_t va;
        if (fs_read_self(frames + slot * UNW_ENTRY, &va, sizeof va) < 0 || va == 0)
            return 0;
        if (va == a)
            return 1;
    }
    return 0;
}

/* At start-up, after the warm-up unwind that created libunwind's key and this thread's cache:
 * ips[0..n-2] were looked up in it (the last one is recorded without a lookup). */
static void unw_cache_key_check(pthread_key_t key, void *const *ips, int n)
{
    const void *c = pthread_getspecific(key);
    struct unw_cache_head h = {0, 0};
    if (!c || n < 3 || fs_read_self((uintptr_t)c, &h, sizeof h) < 0 || h.log_size < UNW_LOG_MIN ||
        h.log_size > UNW_LOG_MAX || !h.frames || (h.frames & 4095))
        return;
    for (int i = 0; i < n - 1; i++) /* a return address is looked up as the call's last byte */
        if (!cache_holds(h.frames, h.log_size, (uintptr_t)ips[i] - 1) &&
            !cache_holds(h.frames, h.log_size, (uintptr_t)ips[i]))
            return;
    unw_cache_key = key;
    unw_cache_key_ok = 1;
}

/* Gives back the pages of this thread's cache that hold no entry, once per table (again after
 * libunwind replaced it by a bigger one).  Only this thread writes its cache; a signal handler
 * unwinding in the middle only loses an entry (a free slot again) if its page is given back. */
FS_FORK_PATH static void unw_cache_trim(void)
{
    const struct unw_cache_head *c = pthread_getspecific(unw_cache_key);
    if (!c || c->frames == tls_cache_trimmed)
        return;
    tls_cache_trimmed = c->frames;
    if (c->log_size < UNW_LOG_MIN || c->log_size > UNW_LOG_MAX || (c->frames & 4095))
        return;
    const size_t per_page = 4096 / UNW_ENTRY, pages = ((size_t)UNW_ENTRY << c->log_size) / 4096;
    const uintptr_t *e = (const uintptr_t *)c->frames; /* entry i's address is e[2 * i] */
    int saved = errno;
    size_t run = 0; /* free pages just before page p */
    for (size_t p = 0; p <= pages; p++) {
        int used = 0;
        for (size_t i = 0; p < pages && i < per_page && !used; i++)
            used = e[2 * (p * per_page + i)] != 0;
        if (p < pages && !used) {
            run++;
            continue;
        }
        if (run)
            (void)madvise((void *)(c->frames + (p - run) * 4096), run * 4096, MADV_DONTNEED);
        run = 0;
    }
    errno = saved;
}

/* __attribute__((noinline)) keeps this frame real, so `skip` counts are stable. */
FS_FORK_PATH __attribute__((noinline)) int fs_backtrace(uintptr_t *out, int max, int skip)
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
    if (unw_cache_key_ok)
        unw_cache_trim();
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
    uintptr_t found_end; /* the end of the segment holding it */
    int matches;
    unsigned long long adds; /* what this dl_iterate_phdr call reports */
};

FS_HIDDEN const unsigned long long *fs_loader_counters FS_HOT;

/* glibc keeps the count of objects loaded (_dl_load_adds, dl_iterate_phdr's dlpi_adds) in
 * _rtld_global, a structure private to glibc, right after the loader's recursive locks:
 * dl_load_write_lock, then (2.35 and later) dl_load_tls_lock.  It is taken to be the one of those
 * two places that holds what dl_iterate_phdr reported; every locked refresh compares it again
 * (trace.c) and stops trusting it at the first difference.  Read without the lock it lets a fork
 * skip dl_iterate_phdr, whose lock write is a copy-on-write fault of ld.so's page at every fork.
 * Unloads are not counted there (dlpi_subs lives elsewhere): a module map that still lists an
 * unloaded object is only rewritten at the next load, and no code can appear at its addresses
 * without one. */
static void find_loader_counters(const struct loader_probe *p)
{
    const unsigned long long *hit = NULL;
    int n = 0;
    for (int k = 1; k <= 2; k++) {
        const unsigned long long *w =
            (const unsigned long long *)((uintptr_t)p->found + k * MUTEX_WORDS * sizeof(int));
        if (((uintptr_t)w & 7) == 0 && (uintptr_t)(w + 1) <= p->found_end && *w == p->adds) {
            hit = w;
            n++;
        }
    }
    if (n == 1)
        fs_loader_counters = hit;
}

static int find_loader_lock(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct loader_probe *p = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        p->adds = info->dlpi_adds;
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
                p->found_end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
                p->matches++;
            }
        }
    }
    return 1;
}

void fs_internal_lock_taken(const void *mutex)
{
    tls_internal_locks++;
    for (int i = 0; i < INFLIGHT_MAX; i++) {
        const void *none = NULL;
        if (!__atomic_load_n(&inflight[i], __ATOMIC_RELAXED) &&
            __atomic_compare_exchange_n(&inflight[i], &none, mutex, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            return;
    }
    __atomic_add_fetch(&inflight_overflow, 1, __ATOMIC_SEQ_CST);
}

void fs_internal_lock_released(const void *mutex)
{
    /* Only what this thread added: a lock taken outside the shim's calls has no entry. */
    if (tls_internal_locks <= 0)
        return;
    tls_internal_locks--;
    for (int i = 0; i < INFLIGHT_MAX; i++) {
        const void *m = mutex;
        if (__atomic_load_n(&inflight[i], __ATOMIC_RELAXED) == mutex &&
            __atomic_compare_exchange_n(&inflight[i], &m, NULL, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            return;
    }
    __atomic_sub_fetch(&inflight_overflow, 1, __ATOMIC_SEQ_CST);
}

/* In the child: whether a vanished thread held one of the shim's internal mutexes at the fork. */
FS_CHILD_PATH static int internal_lock_held(void)
{
    if (__atomic_load_n(&inflight_overflow, __ATOMIC_RELAXED) > 0)
        return 1;
    for (int i = 0; i < INFLIGHT_MAX; i++) {
        const int *m = __atomic_load_n(&inflight[i], __ATOMIC_RELAXED);
        if (m && __atomic_load_n(m, __ATOMIC_RELAXED) != 0) /* glibc: the lock word, 0 when free */
            return 1;
    }
    return 0;
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
    if (p.matches == 1 && __atomic_load_n(p.found, __ATOMIC_RELAXED) == 0) {
        loader_lock = p.found;
        if (p.adds)
            find_loader_counters(&p);
    }
    /* libunwind's one-time set-up (its pthread_once, its first caches) happens now, while this
     * is the only thread, not in a thread that a later fork could leave halfway through it. */
    /* The key libunwind creates for its caches is the lowest free one: the one a probe created
     * and deleted just before gets (glibc hands out the first free key). */
    pthread_key_t probe;
    int have_probe = pthread_key_create(&probe, NULL) == 0;
    if (have_probe)
        (void)pthread_key_delete(probe);
    void *ips[8];
    int n;
    FS_INTERNAL_BEGIN();
    fs_tls_loader++;
    n = unw_backtrace(ips, 8);
    fs_tls_loader--;
    FS_INTERNAL_END();
    if (have_probe)
        unw_cache_key_check(probe, ips, n);
    if (unw_cache_key_ok)
        unw_cache_trim();
}

/* In the child, from the atfork child handler (async-signal-safe: loads, at most one store into
 * fs_proc, which the child writes anyway). */
FS_CHILD_PATH void fs_unwind_after_fork_child(void)
{
    int blocked = internal_lock_held() ||
                  (loader_lock && __atomic_load_n(loader_lock, __ATOMIC_RELAXED) != 0);
    if (blocked != fs_proc.unwind_blocked)
        fs_proc.unwind_blocked = blocked;
}
