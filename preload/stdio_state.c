/* C stdio streams with output still buffered at fork (stdio-unflushed-at-fork), and what became
 * of those bytes when the process ended (written, or discarded by _exit/exec).
 *
 * glibc keeps every open FILE on one list (_IO_list_all) and a stream's unwritten output between
 * _IO_write_base and _IO_write_ptr.  The prepare handler walks that list once per fork into a
 * static table, which the child gets as a copy.  Reading it races with other threads' fopen and
 * fclose (glibc takes its list lock only after the prepare handlers), so in a multi-threaded
 * process every FILE and every buffer is read with process_vm_readv: a FILE freed under us reads
 * as garbage or fails, never faults.  When the forker is the only thread (glibc says so, or
 * /proc/self/task listed no other, just before) nothing can change the list
 * while we walk it (fopen links a fully initialised FILE with one store, fclose unlinks before it
 * frees), so the structures are read directly; the pending bytes always go through
 * process_vm_readv.  Everything here is async-signal-safe: static memory and raw syscalls. */
#include "shim.h"
#include "linebuf.h"
#include "trace_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/uio.h>
#include <unistd.h>

/* glibc's flag bits (libio.h), stable since glibc 2.1. */
#define IO_UNBUFFERED 0x0002
#define IO_NO_WRITES  0x0008
#define IO_LINE_BUF   0x0200
#define IO_WALK_MAX   256 /* FILEs visited per fork: a corrupt or cyclic chain still ends */

FS_HIDDEN struct fs_stream fs_streams[FS_STREAMS_MAX];
FS_HIDDEN unsigned fs_nstreams FS_HOT;

static FILE **list_head FS_HOT; /* &_IO_list_all, resolved once */
static int list_resolved;

/* The pid process_vm_readv names: asked once per walk, not once per read (fs_pid may be stale
 * in a process made without our fork handlers). */
static pid_t walk_pid;

static int read_mem(uintptr_t addr, void *out, size_t size)
{
    struct iovec local = {out, size};
    struct iovec remote = {(void *)addr, size};
    return process_vm_readv(__atomic_load_n(&walk_pid, __ATOMIC_RELAXED), &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -1;
}

/* The FILE at addr: itself when no other thread can change it, else a copy in *buf. */
static const FILE *read_file(uintptr_t addr, FILE *buf, int direct)
{
    if (!addr)
        return NULL;
    if (direct)
        return (const FILE *)addr;
    return read_mem(addr, buf, sizeof *buf) == 0 ? buf : NULL;
}

void fs_stdio_init(void)
{
    if (__atomic_load_n(&list_resolved, __ATOMIC_ACQUIRE))
        return;
    list_head = (FILE **)dlsym(RTLD_DEFAULT, "_IO_list_all");
    __atomic_store_n(&list_resolved, 1, __ATOMIC_RELEASE);
}

FS_FORK_PATH void fs_stdio_at_fork(int alone)
{
    if (fs_nstreams) /* a store per fork would cost the parent a copy-on-write fault per fork */
        fs_nstreams = 0;
    if (!list_head) {
        fs_py_streams_append();
        return;
    }
    int direct = alone || __libc_single_threaded;
    if (!direct) {
        pid_t pid = getpid();
        if (__atomic_load_n(&walk_pid, __ATOMIC_RELAXED) != pid) /* no store, no fault */
            __atomic_store_n(&walk_pid, pid, __ATOMIC_RELAXED);
    }
    uintptr_t at = 0;
    if (direct)
        at = (uintptr_t)*list_head;
    else if (read_mem((uintptr_t)list_head, &at, sizeof at) < 0)
        at = 0;
    for (int walked = 0; at && walked < IO_WALK_MAX; walked++) {
        static FILE buf; /* the prepare handler runs under the fork lock: one at a time */
        const FILE *fp = read_file(at, &buf, direct);
        if (!fp)
            break;
        int flags = fp->_flags, mode = fp->_mode, fileno_ = fp->_fileno;
        uintptr_t base = (uintptr_t)fp->_IO_write_base, ptr = (uintptr_t)fp->_IO_write_ptr;
        uintptr_t next = (uintptr_t)fp->_chain;
        /* Narrow streams only (_mode <= 0); wide streams keep their output elsewhere. */
        if (!(flags & IO_NO_WRITES) && mode <= 0 && ptr > base && ptr - base < (1u << 24) &&
            fs_nstreams < FS_STREAMS_MAX) {
            struct fs_stream *s = &fs_streams[fs_nstreams];
            s->layer = FS_LAYER_C;
            s->id = at;
            s->base = base;
            s->fd = fileno_;
            s->pending = (long)(ptr - base);
            s->buffering = (flags & IO_UNBUFFERED) ? FS_BUF_NONE
                           : (flags & IO_LINE_BUF) ? FS_BUF_LINE
                                                      : FS_BUF_FULL;
            size_t nb = s->pending < FS_STREAM_BYTES ? (size_t)s->pending : FS_STREAM_BYTES;
            s->nbytes = read_mem(base, s->bytes, nb) == 0 ? (int)nb : 0;
            fs_fd_target(s->fd, s->target, sizeof s->target);
            fs_nstreams++;
        }
        at = next;
    }
    fs_py_streams_append();
}

/* Are the bytes recorded at fork still the head of this stream's buffer?  Then nobody wrote
 * them yet: exit() will, _exit() and exec discard them. */
static int c_still_pending(const struct fs_stream *s)
{
    FILE f = {0}; /* at a process's end only */
    __atomic_store_n(&walk_pid, getpid(), __ATOMIC_RELAXED);
    if (read_mem(s->id, &f, sizeof f) < 0 || (uintptr_t)f._IO_write_base != s->base)
        return 0;
    if ((uintptr_t)f._IO_write_ptr < s->base + (uintptr_t)s->nbytes)
        return 0;
    char now[FS_STREAM_BYTES];
    if (s->nbytes && read_mem(s->base, now, (size_t)s->nbytes) < 0)
        return 0;
    return memcmp(now, s->bytes, (size_t)s->nbytes) == 0 &&
           (uintptr_t)f._IO_write_ptr - s->base >= (uintptr_t)s->pending;
}

int fs_stream_still_pending(const struct fs_stream *s)
{
    if (s->layer == FS_LAYER_C)
        return c_still_pending(s);
    return fs_py_stream_still_pending(s);
}

static const char *const layer_names[] = {[FS_LAYER_C] = "c", [FS_LAYER_PYTHON] = "python"};
static const char *const buf_names[] = {
    [FS_BUF_FULL] = "full", [FS_BUF_LINE] = "line", [FS_BUF_NONE] = "none"};

void fs_stdio_write_streams(struct fs_linebuf *lb)
{
    for (unsigned i = 0; i < fs_nstreams; i++) {
        const struct fs_stream *s = &fs_streams[i];
        fs_lb_begin(lb, FS_REC_STREAM);
        fs_lb_str(lb, "layer", layer_names[s->layer]);
        fs_lb_hex(lb, "id", s->id);
        fs_lb_dec(lb, "fd", s->fd);
        fs_lb_dec(lb, "pending", s->pending);
        fs_lb_str(lb, "buffering", buf_names[s->buffering]);
        fs_lb_strn(lb, "bytes", s->bytes, (size_t)s->nbytes);
        fs_lb_str(lb, "target", s->target);
        fs_lb_end(lb);
    }
}

void fs_stdio_write_fates(struct fs_linebuf *lb)
{
    for (unsigned i = 0; i < fs_nstreams; i++) {
        const struct fs_stream *s = &fs_streams[i];
        fs_lb_begin(lb, FS_REC_STREAMEND);
        fs_lb_str(lb, "layer", layer_names[s->layer]);
        fs_lb_hex(lb, "id", s->id);
        fs_lb_dec(lb, "still", fs_stream_still_pending(s));
        fs_lb_end(lb);
    }
}
