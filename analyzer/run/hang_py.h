/* Python tracebacks of a hung CPython process (hang_py.c): CPython's own traceback dumper, called
 * in the process through ptrace, just before forksan ends the tree. */
#ifndef FORKSAN_HANG_PY_H
#define FORKSAN_HANG_PY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_linebuf;

struct fs_hang_py {
    char *dump; /* what _Py_DumpTracebackThreads wrote, NULL when nothing */
    struct {
        int tid;
        uint64_t ident; /* pthread_self() of that thread */
    } *ids;
    size_t nids;
};

/* Stops the threads tids of pid, has one of them dump every thread's Python traceback into a
 * file of dir (read back, then removed), restores it and lets them all go.  Returns 0 with
 * out->dump set, or -1 (not CPython, not x86-64, or the call failed; nothing was changed). */
int fs_hang_py_capture(pid_t pid, const int *tids, size_t ntids, const char *dir,
                       struct fs_hang_py *out);
/* Writes the dump as `python`, `pythread` and `pyframe` records (of=hang); consumes out->dump. */
void fs_hang_py_write(struct fs_linebuf *lb, const struct fs_hang_py *py);
void fs_hang_py_release(struct fs_hang_py *py);

#endif
