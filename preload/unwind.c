/* Stack capture for fork sites and (optionally) lock acquisitions, with libunwind's local
 * unwinder: it needs no malloc on the unwind path and works without frame pointers, from DWARF
 * CFI.  Only raw return addresses are kept; symbolization happens offline in the analyzer. */
#define UNW_LOCAL_ONLY
#include "shim.h"

#include <libunwind.h>

#define FS_UNWIND_SCRATCH (FS_FORK_STACK_MAX + 8)

__thread int fs_tls_loader __attribute__((tls_model("initial-exec")));

/* __attribute__((noinline)) keeps this frame real, so `skip` counts are stable. */
__attribute__((noinline)) int fs_backtrace(uintptr_t *out, int max, int skip)
{
    if (fs_tls_loader)
        return 0; /* a signal handler interrupted this thread inside the loader's lock */
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
