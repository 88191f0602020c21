/* child-deadlock, from inside the child: a process that was forked (and has not exec'd) calls a
 * lock function on a lock its parent's snapshot showed held by a thread that does not exist here.
 *
 * The set of such locks (fs_inherited) is filled by snapshot.c at fork; in a parent it is empty,
 * so the hooks pay one load and a predictable branch.  The finding is written to the trace at
 * once, before the call can block, and then the policy (FORKSAN_ON_DEADLOCK) decides: wait (call
 * the real function, which blocks as it would have), fail (return the error a timed or try
 * variant would), or abort (SIGABRT, the record already on disk). */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <errno.h>
#include <stdlib.h>

#define FS_RECORDS_PER_LOCK 8 /* a child retrying forever must not fill the disk */

static struct fs_inherited *find(const void *lock)
{
    for (unsigned i = 0; i < fs_ninherited; i++)
        if (fs_inherited[i].lock == (uintptr_t)lock)
            return &fs_inherited[i];
    return NULL;
}

/* Would this acquisition wait for the vanished holder?  Readers share a read-held rwlock; a
 * semaphore someone has posted since is no longer held. */
static int conflicts(const struct fs_inherited *in, const void *lock, int mode)
{
    if (in->kind == FS_LOCK_RWLOCK && in->mode == FS_MODE_READ && mode == FS_MODE_READ)
        return 0;
    if (in->kind == FS_LOCK_SEM) {
        int v = 0;
        if (sem_getvalue((sem_t *)lock, &v) == 0 && v > 0)
            return 0;
    }
    return 1;
}

static void record(const struct fs_inherited *in, int mode, const char *call, int is_try,
                   const uintptr_t *frames, int nframes)
{
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    fs_lb_begin(lb, FS_REC_DEADLOCK);
    fs_lb_hex(lb, "lock", in->lock);
    fs_lb_str(lb, "kind", fs_lock_kind_name(in->kind));
    fs_lb_str(lb, "mode", fs_lock_mode_name(mode));
    fs_lb_dec(lb, "holder", in->holder);
    fs_lb_str(lb, "call", call);
    fs_lb_dec(lb, "try", is_try);
    fs_lb_str(lb, "policy", fs_deadlock_policy_name(fs_config.on_deadlock));
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, nframes > 0 ? (size_t)nframes : 0);
    fs_lb_end(lb);
    fs_trace_end(lb);
}

__attribute__((noinline)) int fs_child_acquire(const void *lock, int mode, const char *call,
                                               int is_try)
{
    if (fs_tls_internal)
        return 0; /* the shim's own calls (the Python capture taking the GIL) */
    struct fs_inherited *in = find(lock);
    if (!in) {
        if (fs_nrace)
            fs_race_check(lock, mode, call, is_try);
        return 0;
    }
    in->used = 1;
    if (!conflicts(in, lock, mode))
        return 0;
    int saved = errno;
    if (in->records < FS_RECORDS_PER_LOCK && !(is_try && in->records)) {
        in->records++;
        uintptr_t frames[FS_FORK_STACK_MAX];
        int n;
        {
            FS_INTERNAL_BEGIN();
            n = fs_backtrace(frames, FS_FORK_STACK_MAX, 2); /* from the hook's caller */
            FS_INTERNAL_END();
        }
        record(in, mode, call, is_try, frames, n);
        fs_py_deadlock();
    }
    errno = saved;
    if (is_try)
        return 0; /* the real try call fails by itself */
    switch (fs_config.on_deadlock) {
    case FS_ON_DEADLOCK_FAIL:
        return 1;
    case FS_ON_DEADLOCK_ABORT:
        fs_complain("child-deadlock: aborting the child (FORKSAN_ON_DEADLOCK=abort)");
        abort();
    default:
        return 0;
    }
}

static void record_reinit(const struct fs_inherited *in, const char *call, const uintptr_t *frames,
                          int n)
{
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    fs_lb_begin(lb, FS_REC_REINIT);
    fs_lb_hex(lb, "lock", in->lock);
    fs_lb_str(lb, "kind", fs_lock_kind_name(in->kind));
    fs_lb_dec(lb, "holder", in->holder);
    fs_lb_str(lb, "call", call);
    fs_lb_dec(lb, "used", in->used);
    fs_lb_dec(lb, "time", fs_now_ns());
    fs_lb_hexlist(lb, "frames", frames, n > 0 ? (size_t)n : 0);
    fs_lb_end(lb);
    fs_trace_end(lb);
}

/* Runs only in a child that inherited held locks or race candidates (the macro checks). */
__attribute__((noinline)) void fs_inherited_forget(const void *lock, const char *call)
{
    if (fs_nrace)
        fs_race_forget(lock);
    struct fs_inherited *in = find(lock);
    if (!in)
        return;
    int saved = errno;
    uintptr_t frames[FS_FORK_STACK_MAX];
    int n;
    {
        FS_INTERNAL_BEGIN();
        n = fs_backtrace(frames, FS_FORK_STACK_MAX, 2); /* from the hook's caller */
        FS_INTERNAL_END();
    }
    record_reinit(in, call, frames, n);
    errno = saved;
    *in = fs_inherited[--fs_ninherited];
}
