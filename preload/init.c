/* Start-up of the shim in each process image: resolve the real functions, read the
 * configuration, create this image's trace file, register the fork handlers.
 *
 * A preloaded library's constructor can run after other libraries' constructors have already
 * taken locks; those calls resolved the real functions lazily and were passed through unrecorded
 * (no slot yet), which is harmless: recording starts here. */
#include "shim.h"
#include "linebuf.h"

#include <errno.h>
#include <unistd.h>

FS_HIDDEN long fs_errno_off FS_HOT;

void fs_errno_setup(void)
{
#if defined(__x86_64__)
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    fs_errno_off = (char *)&errno - tp;
#endif
}

__attribute__((constructor(101))) static void fs_init(void)
{
    FS_REAL_READY();
    fs_config_load();
    if (!fs_config.active)
        return;
    fs_pid = getpid();
    fs_errno_setup();
    fs_registry_init();
    fs_proc_identity_load();
    fs_fd_scan_start(); /* before the shim opens anything of its own */
    fs_unwind_init();
    if (fs_trace_open_new(1) < 0) {
        fs_config.active = 0;
        return;
    }
    {
        FS_INTERNAL_BEGIN();
        fs_modmap_refresh();
        FS_INTERNAL_END();
    }
    struct fs_linebuf *lb = fs_trace_begin();
    if (lb) {
        fs_trace_write_start(lb, "start");
        fs_fd_write_start(lb);
        fs_trace_end(lb);
    }
    fs_stdio_init();
    fs_wait_init(); /* before the limits: their accounting counts ends in the exits file */
    fs_storm_init();
    fs_fork_init();
    (void)fs_self(); /* the main thread's slot */
}

/* Buffered fork records reach the file at exit (and at _exit, hooks_rng.c); a process killed by
 * a signal loses its last few, and the children's own records still link the tree. */
__attribute__((destructor)) static void fs_fini(void)
{
    if (fs_config.active) {
        fs_rng_flush();
        fs_fork_records_flush_final();
        fs_end_record(FS_END_EXIT, -1);
        fs_wait_stamp_exit(fs_storm_end());
    }
}
