/* CPython seen from the shim: Python's own buffered output (sys.stdout, sys.stderr), its atexit
 * callbacks and the Python stack, at the instant of os.fork() and at os._exit().
 *
 * Python's streams live above libc: print() appends encoded text to the TextIOWrapper's
 * pending list, which moves to the BufferedWriter's buffer, which reaches write(2) only when
 * flushed.  None of that is visible in libc's FILE list, so the fork wrapper looks inside the
 * interpreter before the real fork, and only when the forking thread holds the GIL
 * (PyGILState_Check), as os.fork() and os._exit() do.  The C API comes from py_api.c, which
 * finds it lazily: a process without libpython pays one failed lookup.
 *
 * Which streams: sys.stdout and sys.stderr, and the files a program opened for writing where
 * users keep them: the globals of __main__, one level of attributes of the plain instances found
 * there (self.log = open(...)), and the stream of every logging handler (logging._handlerList).
 * CPython keeps no registry of open files and a heap walk costs milliseconds, so this bounded set
 * is read instead (docs/python.md says what it misses: a file held only in a function's locals).
 * Only dictionaries are read, with PyDict_Next and borrowed references, and an instance's
 * dictionary only when its class is a heap type with the generic attribute lookup: no property,
 * __getattr__ or other program code runs.
 *
 * What the C API does not expose (a stream's pending bytes) is read from the objects' memory:
 * CPython's TextIOWrapper and Buffered structures have kept the fields used here at the same
 * offsets from 3.8 to 3.13.  Every read is guarded by checking the type names the pointers lead
 * to (the text layer's buffer must be an _io.Buffered*, its raw an _io.FileIO), so another layout
 * reads as "no Python streams", never as wrong data.  Nothing here allocates a tracked Python
 * object, and the cyclic GC is paused around the stack walk (3.11 may materialise frame objects),
 * so no finalizer can run inside os.fork(). */
#include "py_api.h"
#include "linebuf.h"

#include <string.h>
#include <sys/types.h>
#include <unistd.h>

FS_HIDDEN struct fs_pystate_fork_state fs_pystate_fork;

/* Streams captured by the fork wrapper, for the prepare handler of the same fork. */
#define PY_STREAMS_MAX 8
#define PY_SCAN_MAX    512 /* dictionary entries read per scan: a huge __main__ stays cheap */
static struct fs_stream py_streams[PY_STREAMS_MAX];
static unsigned py_nstreams;
static __thread int tls_py_armed __attribute__((tls_model("initial-exec")));

/* ---- object layouts (default, non-free-threaded builds, 3.8 to 3.13) ------------------- */

struct py_textio { /* Modules/_io/textio.c: textio */
    struct fs_py_head head;
    int ok, detached;
    ssize_t chunk_size;
    fs_pyobj *buffer, *encoding, *encoder, *decoder, *readnl, *errors;
    const char *writenl;
    char line_buffering, write_through, readuniversal, readtranslate, writetranslate, seekable,
        has_read1, telling, finalizing;
    void *encodefunc;
    char encoding_start_of_stream;
    fs_pyobj *decoded_chars;
    ssize_t decoded_chars_used;
    fs_pyobj *pending_bytes; /* NULL, bytes, an ASCII str, or a list of them */
    ssize_t pending_bytes_count;
};
struct py_buffered { /* Modules/_io/bufferedio.c: buffered */
    struct fs_py_head head;
    fs_pyobj *raw;
    int ok, detached, readable, writable;
    char finalizing;
    int fast_closed_checks;
    int64_t abs_pos;
    char *buffer;
    int64_t pos, raw_pos, read_end, write_pos, write_end;
};
struct py_fileio { /* Modules/_io/fileio.c: fileio */
    struct fs_py_head head;
    int fd;
};

static int is_type(const void *obj, const char *name)
{
    if (!obj)
        return 0;
    /* The first byte first: the scans of __main__ test every value against a few names, and
     * almost none share the first letter (measured: most of the scan's cost without it). */
    const char *n = fs_py_type_name(obj);
    return n[0] == name[0] && strcmp(n, name) == 0;
}

/* The first bytes of a pending_bytes item (bytes or ASCII str). */
static ssize_t item_bytes(fs_pyobj *item, const char **out)
{
    if (is_type(item, "bytes")) {
        *out = fs_pyapi.PyBytes_AsString(item);
        return *out ? (ssize_t)FS_STREAM_BYTES : -1;
    }
    if (is_type(item, "str")) {
        ssize_t n = 0;
        *out = fs_pyapi.PyUnicode_AsUTF8AndSize(item, &n);
        return *out ? n : -1;
    }
    return -1;
}

static int is_writer(const void *obj)
{
    return is_type(obj, "_io.BufferedWriter") || is_type(obj, "_io.BufferedRandom");
}

/* The BufferedWriter's own pending bytes (open(path, "wb"), or the layer under a text file). */
static int read_buffered(const struct py_buffered *b, struct fs_stream *s)
{
    if (!b || !is_writer(b) || !b->ok || b->detached || !is_type(b->raw, "_io.FileIO"))
        return -1;
    memset(s, 0, sizeof *s);
    s->layer = FS_LAYER_PYTHON;
    s->id = (uintptr_t)b;
    s->fd = ((const struct py_fileio *)b->raw)->fd;
    s->buffering = FS_BUF_FULL;
    long inbuf = 0;
    if (b->writable && b->buffer && b->write_end > b->write_pos && b->write_pos >= 0)
        inbuf = (long)(b->write_end - b->write_pos);
    s->pending = inbuf;
    size_t n = inbuf < FS_STREAM_BYTES ? (size_t)inbuf : FS_STREAM_BYTES;
    if (n)
        memcpy(s->bytes, b->buffer + b->write_pos, n);
    s->nbytes = (int)n;
    return 0;
}

/* What a stream object has buffered: a TextIOWrapper over a BufferedWriter (the BufferedWriter's
 * bytes come out first, then the text layer's), or a bare BufferedWriter.  Returns 0 and fills
 * s, or -1 when the object is not the layout we know. */
static int read_stream(fs_pyobj *obj, struct fs_stream *s)
{
    if (is_writer(obj))
        return read_buffered((const void *)obj, s);
    if (!is_type(obj, "_io.TextIOWrapper"))
        return -1;
    const struct py_textio *t = (const void *)obj;
    if (!t->ok || t->detached || t->pending_bytes_count < 0 ||
        read_buffered((const void *)t->buffer, s) < 0)
        return -1;
    s->id = (uintptr_t)obj;
    s->buffering = t->line_buffering ? FS_BUF_LINE : t->write_through ? FS_BUF_NONE : FS_BUF_FULL;
    s->pending += (long)t->pending_bytes_count;
    size_t n = (size_t)s->nbytes;
    /* The text layer's pending output: one bytes/str object, or a list of them (one per
     * write() since the last flush), in order. */
    fs_pyobj *pend = t->pending_bytes;
    int is_list = pend && is_type(pend, "list");
    ssize_t items = !pend ? 0 : is_list ? fs_pyapi.PyList_Size(pend) : 1;
    for (ssize_t k = 0; k < items && n < FS_STREAM_BYTES; k++) {
        fs_pyobj *item = is_list ? fs_pyapi.PyList_GetItem(pend, k) : pend;
        const char *p = NULL;
        ssize_t avail = item ? item_bytes(item, &p) : -1;
        if (avail < 0 || !p)
            break;
        size_t len = strnlen(p, FS_STREAM_BYTES - n);
        if ((size_t)avail < len)
            len = (size_t)avail;
        memcpy(s->bytes + n, p, len);
        n += len;
    }
    s->nbytes = (int)n;
    return 0;
}

/* ---- where the streams are looked for ------------------------------------------------------ */

/* One scan's findings: every stream object seen (pending or not, so that a text file and its
 * own BufferedWriter are reported once), with what each had pending. */
struct scan {
    struct fs_stream found[PY_STREAMS_MAX];
    uintptr_t under[PY_STREAMS_MAX]; /* a text stream's BufferedWriter */
    unsigned n;
    unsigned budget; /* dictionary entries left to read */
};

static int seen(const struct scan *sc, uintptr_t id)
{
    for (unsigned i = 0; i < sc->n; i++)
        if (sc->found[i].id == id || sc->under[i] == id)
            return 1;
    return 0;
}

static void consider(struct scan *sc, fs_pyobj *obj)
{
    struct fs_stream s;
    if (!obj || sc->n >= PY_STREAMS_MAX || seen(sc, (uintptr_t)obj) || read_stream(obj, &s) < 0)
        return;
    uintptr_t under = is_type(obj, "_io.TextIOWrapper")
                          ? (uintptr_t)((const struct py_textio *)(const void *)obj)->buffer
                          : 0;
    /* A BufferedWriter seen first, then the text file above it: the text file replaces it. */
    for (unsigned i = 0; under && i < sc->n; i++)
        if (sc->found[i].id == under) {
            sc->found[i] = s;
            sc->under[i] = under;
            return;
        }
    sc->found[sc->n] = s;
    sc->under[sc->n++] = under;
}

/* The instance dictionary of obj when reading it runs no program code: obj's class is a heap
 * type (a class statement) whose attribute lookup is the generic one (no __getattr__ or
 * __getattribute__).  New reference, or NULL.  With the GC paused (3.10+) the dictionary may be
 * created (PyObject_GenericGetDict; 3.11+ creates instance dictionaries lazily); 3.8 and 3.9
 * have no PyGC_Disable but always keep the dictionary in the object, read in place. */
#define FS_PY_TPFLAGS_HEAPTYPE (1UL << 9)
#define FS_PY_TP_GETATTRO      58 /* typeslots.h: Py_tp_getattro, the same since 3.2 */
static fs_pyobj *plain_dict(fs_pyobj *obj)
{
    void *type = fs_py_type(obj);
    if (!fs_pyapi.PyType_GetFlags || !fs_pyapi.PyType_GetSlot ||
        !fs_pyapi.PyObject_GenericGetAttr ||
        !(fs_pyapi.PyType_GetFlags(type) & FS_PY_TPFLAGS_HEAPTYPE) ||
        fs_pyapi.PyType_GetSlot(type, FS_PY_TP_GETATTRO) !=
            (void *)fs_pyapi.PyObject_GenericGetAttr)
        return NULL;
    if (!fs_pyapi.PyGC_Disable) {
        fs_pyobj **slot = fs_pyapi._PyObject_GetDictPtr && fs_pyapi.Py_IncRef
                              ? fs_pyapi._PyObject_GetDictPtr(obj)
                              : NULL;
        fs_pyobj *d = slot ? *slot : NULL;
        if (!d || !is_type(d, "dict"))
            return NULL;
        fs_pyapi.Py_IncRef(d);
        return d;
    }
    fs_pyobj *d = fs_pyapi.PyObject_GenericGetDict(obj, NULL);
    if (!d)
        fs_pyapi.PyErr_Clear(); /* __slots__ only: no dictionary */
    if (d && !is_type(d, "dict")) {
        fs_pyapi.Py_DecRef(d);
        return NULL;
    }
    return d;
}

/* The values of a dictionary; with depth 1, also the values of each plain instance's own
 * dictionary. */
static void scan_dict(struct scan *sc, fs_pyobj *dict, int depth)
{
    if (!dict || !is_type(dict, "dict"))
        return;
    ssize_t pos = 0;
    fs_pyobj *key, *value;
    while (sc->budget && fs_pyapi.PyDict_Next(dict, &pos, &key, &value)) {
        sc->budget--;
        consider(sc, value);
        if (depth <= 0 || is_type(value, "_io.TextIOWrapper") || is_writer(value))
            continue;
        fs_pyobj *inner = plain_dict(value);
        if (inner) {
            scan_dict(sc, inner, depth - 1);
            fs_pyapi.Py_DecRef(inner);
        }
    }
}

static fs_pyobj *module(const char *name)
{
    fs_pyobj *mods = fs_pyapi.PySys_GetObject("modules");
    return mods && is_type(mods, "dict") ? fs_pyapi.PyDict_GetItemString(mods, name) : NULL;
}

/* logging._handlerList holds a weak reference to every handler ever created; a handler's
 * stream (StreamHandler, FileHandler) is in its instance dictionary. */
static void scan_logging(struct scan *sc)
{
    fs_pyobj *mod = module("logging");
    if (!mod || !is_type(mod, "module") || !fs_pyapi.PyWeakref_GetObject)
        return;
    fs_pyobj *list = fs_pyapi.PyDict_GetItemString(fs_pyapi.PyModule_GetDict(mod), "_handlerList");
    if (!list || !is_type(list, "list"))
        return;
    ssize_t n = fs_pyapi.PyList_Size(list);
    for (ssize_t i = 0; i < n && i < 64 && sc->budget; i++, sc->budget--) {
        fs_pyobj *ref = fs_pyapi.PyList_GetItem(list, i);
        fs_pyobj *h = ref && is_type(ref, "weakref.ReferenceType")
                          ? fs_pyapi.PyWeakref_GetObject(ref)
                      : ref && is_type(ref, "weakref") ? fs_pyapi.PyWeakref_GetObject(ref)
                                                       : NULL;
        fs_pyobj *d = h ? plain_dict(h) : NULL;
        if (!d)
            continue;
        consider(sc, fs_pyapi.PyDict_GetItemString(d, "stream"));
        fs_pyapi.Py_DecRef(d);
    }
}

/* Every place named at the top of this file.  The GC is paused: an instance's dictionary may be
 * created on first read (3.11+), and a collection there could run a finalizer. */
/* The layouts above are those of default builds of 3.8 to 3.13: any other interpreter's streams
 * are not read at all (a wrong offset would be read, or worse, in the program). */
static int layouts_known(void)
{
    return !fs_pyapi.free_threaded && fs_pyapi.minor >= 8 && fs_pyapi.minor <= 13;
}

static void scan_streams(struct scan *sc)
{
    static const char *const names[] = {"stdout", "stderr"};
    sc->n = 0;
    sc->budget = PY_SCAN_MAX;
    if (!layouts_known())
        return;
    for (unsigned i = 0; i < 2; i++)
        consider(sc, fs_pyapi.PySys_GetObject(names[i]));
    if (!fs_pyapi.PyModule_GetDict)
        return;
    int gc_was = fs_pyapi.PyGC_Disable && fs_pyapi.PyGC_Enable ? fs_pyapi.PyGC_Disable() : 0;
    fs_pyobj *main_mod = module("__main__");
    if (main_mod && is_type(main_mod, "module"))
        scan_dict(sc, fs_pyapi.PyModule_GetDict(main_mod), 1);
    scan_logging(sc);
    if (gc_was)
        fs_pyapi.PyGC_Enable();
}

static void capture_streams(void)
{
    static struct scan sc; /* os.fork holds the GIL: one scan at a time */
    scan_streams(&sc);
    py_nstreams = 0;
    for (unsigned i = 0; i < sc.n; i++)
        if (sc.found[i].pending > 0)
            py_streams[py_nstreams++] = sc.found[i];
}

/* atexit._ncallbacks(), without importing anything: a program that never imported atexit has
 * registered nothing with it. */
static long atexit_count(void)
{
    fs_pyobj *mods = fs_pyapi.PySys_GetObject("modules");
    fs_pyobj *mod = mods ? fs_pyapi.PyDict_GetItemString(mods, "atexit") : NULL;
    if (!mod)
        return 0;
    fs_pyobj *fn = fs_pyapi.PyObject_GetAttrString(mod, "_ncallbacks");
    if (!fn)
        return -1;
    fs_pyobj *r = fs_pyapi.PyObject_CallObject(fn, NULL);
    fs_pyapi.Py_DecRef(fn);
    if (!r)
        return -1;
    long n = fs_pyapi.PyLong_AsLong(r);
    fs_pyapi.Py_DecRef(r);
    return n;
}

/* FNV-1a over each frame's code object and line: equal keys are the same Python call path. */
static void stack_key(void)
{
    fs_pystate_fork.stack_key = 0;
    fs_pystate_fork.stack_depth = 0;
    if (!fs_pyapi.PyEval_GetFrame || !fs_pyapi.PyFrame_GetBack || !fs_pyapi.PyFrame_GetCode ||
        !fs_pyapi.PyGC_Disable || !fs_pyapi.PyGC_Enable)
        return;
    int gc_was = fs_pyapi.PyGC_Disable();
    uint64_t h = 1469598103934665603ULL;
    void *f = fs_pyapi.PyEval_GetFrame();
    void *owned = NULL;
    int depth = 0;
    while (f && depth < 256) {
        fs_pyobj *code = fs_pyapi.PyFrame_GetCode(f);
        const uint64_t v[2] = {(uint64_t)(uintptr_t)code,
                               (uint64_t)fs_pyapi.PyFrame_GetLineNumber(f)};
        if (code)
            fs_pyapi.Py_DecRef(code);
        for (int k = 0; k < 2; k++)
            for (int b = 0; b < 8; b++) {
                h ^= (v[k] >> (8 * b)) & 0xff;
                h *= 1099511628211ULL;
            }
        void *back = fs_pyapi.PyFrame_GetBack(f);
        if (owned)
            fs_pyapi.Py_DecRef(owned);
        owned = back;
        f = back;
        depth++;
    }
    if (owned)
        fs_pyapi.Py_DecRef(owned);
    if (gc_was)
        fs_pyapi.PyGC_Enable();
    fs_pystate_fork.stack_key = depth ? h : 0;
    fs_pystate_fork.stack_depth = depth;
}

void fs_pystate_before_fork(void)
{
    tls_py_armed = 0;
    if (fs_pystate_fork.valid) /* stored only when set: a write costs a copy-on-write fault */
        fs_pystate_fork.valid = 0;
    if (!fs_py_active())
        return;
    fs_pyobj *et, *ev, *tb;
    fs_pyapi.PyErr_Fetch(&et, &ev, &tb);
    capture_streams();
    fs_pystate_fork.atexit_count = atexit_count();
    stack_key();
    /* Whatever our calls raised is ours: drop it, and give the program its own state back. */
    fs_pyobj *t2, *v2, *b2;
    fs_pyapi.PyErr_Fetch(&t2, &v2, &b2);
    if (t2)
        fs_pyapi.Py_DecRef(t2);
    if (v2)
        fs_pyapi.Py_DecRef(v2);
    if (b2)
        fs_pyapi.Py_DecRef(b2);
    fs_pyapi.PyErr_Restore(et, ev, tb);
    fs_pystate_fork.valid = 1;
    tls_py_armed = 1;
}

void fs_py_streams_append(void)
{
    if (!tls_py_armed)
        return;
    tls_py_armed = 0;
    for (unsigned i = 0; i < py_nstreams && fs_nstreams < FS_STREAMS_MAX; i++) {
        struct fs_stream *s = &fs_streams[fs_nstreams++];
        *s = py_streams[i];
        fs_fd_target(s->fd, s->target, sizeof s->target);
    }
}

int fs_py_stream_still_pending(const struct fs_stream *s)
{
    if (!fs_py_active())
        return 0; /* finalized: Py_FinalizeEx flushed sys.stdout, sys.stderr and open files */
    /* The object is looked for where it was found at fork, never dereferenced blindly: a file
     * closed since (and so flushed) may be freed memory now. */
    static struct scan sc;
    fs_pyobj *et, *ev, *tb;
    fs_pyapi.PyErr_Fetch(&et, &ev, &tb); /* os._exit may run with an exception set */
    scan_streams(&sc);
    fs_pyapi.PyErr_Restore(et, ev, tb);
    for (unsigned i = 0; i < sc.n; i++) {
        const struct fs_stream *now = &sc.found[i];
        if (now->id != s->id)
            continue;
        return now->pending >= s->pending && now->nbytes >= s->nbytes &&
               memcmp(now->bytes, s->bytes, (size_t)s->nbytes) == 0;
    }
    return 0;
}
