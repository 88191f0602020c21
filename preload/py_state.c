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
 * is read instead, plus the locals of the forking thread's frames (docs/python.md says what it
 * misses).
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

FS_HIDDEN struct fs_pystate_fork_state fs_pystate_fork FS_HOT;

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
    void *lock; /* PyThread_type_lock: a sem_t * on 3.8-3.12, what the lock hooks see */
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

/* The local variables of the forking thread's Python frames (def work(): f = open(...);
 * os.fork()).  frame.f_locals is C code in every version: a dictionary (3.8-3.12: a snapshot
 * of the fast locals, the one locals() returns; module frames: their globals) or, on 3.13, a
 * FrameLocalsProxy, copied into a new dictionary through its C mapping methods.  Only with the
 * cyclic GC paused (3.10+, PyGC_Disable): the snapshots allocate. */
#define PY_LOCALS_FRAMES 64
static void scan_locals(struct scan *sc)
{
    if (!fs_pyapi.PyEval_GetFrame || !fs_pyapi.PyFrame_GetBack)
        return;
    void *f = fs_pyapi.PyEval_GetFrame(), *owned = NULL;
    for (int depth = 0; f && depth < PY_LOCALS_FRAMES && sc->budget; depth++) {
        /* PyFrame_GetLocals where there is one (3.11+): the attribute lookup makes a key
         * string that misses CPython's type attribute cache and rewrites an entry of it. */
        fs_pyobj *loc = fs_pyapi.PyFrame_GetLocals ? fs_pyapi.PyFrame_GetLocals(f)
                                                   : fs_pyapi.PyObject_GetAttrString(f, "f_locals");
        if (loc && !is_type(loc, "dict") && is_type(loc, "FrameLocalsProxy") && fs_pyapi.PyDict_New &&
            fs_pyapi.PyDict_Update) {
            fs_pyobj *copy = fs_pyapi.PyDict_New();
            if (copy && fs_pyapi.PyDict_Update(copy, loc) < 0) {
                fs_pyapi.Py_DecRef(copy);
                copy = NULL;
            }
            fs_pyapi.Py_DecRef(loc);
            loc = copy;
        }
        if (loc) {
            scan_dict(sc, loc, 1);
            fs_pyapi.Py_DecRef(loc);
        }
        fs_pyapi.PyErr_Clear();
        void *back = fs_pyapi.PyFrame_GetBack(f);
        if (owned)
            fs_pyapi.Py_DecRef(owned);
        owned = f = back;
    }
    if (owned)
        fs_pyapi.Py_DecRef(owned);
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
    int pausable = fs_pyapi.PyGC_Disable && fs_pyapi.PyGC_Enable;
    int gc_was = pausable ? fs_pyapi.PyGC_Disable() : 0;
    fs_pyobj *main_mod = module("__main__");
    if (main_mod && is_type(main_mod, "module"))
        scan_dict(sc, fs_pyapi.PyModule_GetDict(main_mod), 1);
    scan_logging(sc);
    if (pausable)
        scan_locals(sc);
    if (gc_was)
        fs_pyapi.PyGC_Enable();
}

/* A stream whose BufferedWriter lock another thread holds at the fork (a thread inside write()
 * or flush()) is named in the report: "internal lock of sys.stdout's BufferedWriter".  Only held
 * ones, found in the registry: the descriptor's path costs a readlink. */
static void name_held_lock(const struct fs_stream *s, uintptr_t buffered)
{
    const struct py_buffered *b = (const void *)buffered;
    uintptr_t lock = (uintptr_t)b->lock;
    if (!lock || !fs_held_by_other(lock, fs_tls_self))
        return;
    char name[200], target[128];
    size_t at;
    fs_pyobj *out = fs_pyapi.PySys_GetObject("stdout"), *err = fs_pyapi.PySys_GetObject("stderr");
    if (s->id == (uintptr_t)out || s->id == (uintptr_t)err) {
        at = fs_fmt_str(name, sizeof name, 0, "internal lock of ");
        at = at == (size_t)-1 ? at
                              : fs_fmt_str(name, sizeof name, at,
                                           s->id == (uintptr_t)out ? "sys.stdout" : "sys.stderr");
        at = at == (size_t)-1 ? at : fs_fmt_str(name, sizeof name, at, "'s BufferedWriter");
    } else {
        fs_fd_target(s->fd, target, sizeof target);
        at = fs_fmt_str(name, sizeof name, 0, "internal lock of the BufferedWriter of ");
        at = at == (size_t)-1 ? at : fs_fmt_str(name, sizeof name, at, target[0] ? target : "a file");
    }
    if (at != (size_t)-1)
        fs_py_name_lock(lock, name);
}

static void capture_streams(void)
{
    static struct scan sc; /* os.fork holds the GIL: one scan at a time */
    scan_streams(&sc);
    py_nstreams = 0;
    for (unsigned i = 0; i < sc.n; i++) {
        if (sc.found[i].pending > 0)
            py_streams[py_nstreams++] = sc.found[i];
        name_held_lock(&sc.found[i], sc.under[i] ? sc.under[i] : sc.found[i].id);
    }
}

/* atexit._ncallbacks(), without importing anything: a program that never imported atexit has
 * registered nothing with it. */
static long atexit_count(void)
{
    fs_pyobj *mods = fs_pyapi.PySys_GetObject("modules");
    fs_pyobj *mod = mods ? fs_pyapi.PyDict_GetItemString(mods, "atexit") : NULL;
    if (!mod)
        return 0;
    /* From the module's dict, borrowed: an attribute lookup with a key string made for it
     * misses CPython's type attribute cache and rewrites an entry (a page fault per fork). */
    fs_pyobj *md = is_type(mod, "module") && fs_pyapi.PyModule_GetDict ? fs_pyapi.PyModule_GetDict(mod)
                                                                        : NULL;
    fs_pyobj *fn = md ? fs_pyapi.PyDict_GetItemString(md, "_ncallbacks")
                      : fs_pyapi.PyObject_GetAttrString(mod, "_ncallbacks");
    if (!fn)
        return -1;
    fs_pyobj *r = fs_pyapi.PyObject_CallObject(fn, NULL);
    if (!md)
        fs_pyapi.Py_DecRef(fn);
    if (!r)
        return -1;
    long n = fs_pyapi.PyLong_AsLong(r);
    fs_pyapi.Py_DecRef(r);
    return n;
}

/* ---- the standard library's own atexit callbacks ------------------------------------------ */

/* Some standard modules register an atexit callback for their own state, at import or on first
 * use.  In a forked child that ends through sys.exit() these do no harm to the parent as long as
 * they touch only the child's copy: they are counted out, each only in the state where that holds
 * (checked below), so that a callback the program registered is what remains.  The check reads
 * module and class dictionaries and sizes of built-in containers: no program code runs. */

/* sys.modules[mod].name, borrowed, or NULL. */
static fs_pyobj *module_value(const char *mod, const char *name)
{
    fs_pyobj *m = module(mod);
    fs_pyobj *d = m && is_type(m, "module") && fs_pyapi.PyModule_GetDict ? fs_pyapi.PyModule_GetDict(m) : NULL;
    return d && is_type(d, "dict") ? fs_pyapi.PyDict_GetItemString(d, name) : NULL;
}

/* A class attribute (a plain value in the class dictionary: no descriptor runs). New ref. */
static fs_pyobj *class_value(fs_pyobj *cls, const char *name)
{
    if (!cls || !is_type(cls, "type"))
        return NULL;
    fs_pyobj *v = fs_pyapi.PyObject_GetAttrString(cls, name);
    if (!v)
        fs_pyapi.PyErr_Clear();
    return v;
}

/* 1 when the built-in set or dict obj is empty, 0 when not, -1 when it cannot be told. */
static int is_empty(fs_pyobj *obj)
{
    if (!obj || !fs_pyapi.PyObject_Size || !(is_type(obj, "set") || is_type(obj, "dict")))
        return -1;
    ssize_t n = fs_pyapi.PyObject_Size(obj);
    return n == 0 ? 1 : n > 0 ? 0 : -1;
}

/* A logging handler of the standard library whose flush() and close() touch only this process
 * (StreamHandler, FileHandler, the rotating ones, SocketHandler, SysLogHandler...): not a program's
 * subclass, whose close() may do anything, nor a MemoryHandler, whose flush() would send the
 * parent's buffered records once more. */
static int stdlib_handler(fs_pyobj *h)
{
    fs_pyobj *cls = h ? (fs_pyobj *)((const struct fs_py_head *)(const void *)h)->type : NULL;
    if (!cls || !is_type(cls, "type"))
        return 0;
    const char *name = ((const struct fs_py_type_head *)(const void *)cls)->tp_name;
    if (!name || strcmp(name, "MemoryHandler") == 0 || strcmp(name, "BufferingHandler") == 0)
        return 0;
    fs_pyobj *mod = class_value(cls, "__module__");
    ssize_t n = 0;
    const char *m = mod && is_type(mod, "str") ? fs_pyapi.PyUnicode_AsUTF8AndSize(mod, &n) : NULL;
    int ok = m && (strcmp(m, "logging") == 0 || strcmp(m, "logging.handlers") == 0);
    if (!m)
        fs_pyapi.PyErr_Clear();
    if (mod)
        fs_pyapi.Py_DecRef(mod);
    return ok;
}

/* logging.shutdown (registered when logging is imported) flushes and closes every live handler. */
static int logging_harmless(void)
{
    fs_pyobj *list = module_value("logging", "_handlerList");
    if (!module_value("logging", "shutdown") || !list || !is_type(list, "list") ||
        !fs_pyapi.PyWeakref_GetObject)
        return 0;
    ssize_t n = fs_pyapi.PyList_Size(list);
    if (n < 0 || n > 64)
        return 0;
    for (ssize_t i = 0; i < n; i++) {
        fs_pyobj *ref = fs_pyapi.PyList_GetItem(list, i);
        if (!ref || !(is_type(ref, "weakref.ReferenceType") || is_type(ref, "weakref")))
            return 0;
        fs_pyobj *h = fs_pyapi.PyWeakref_GetObject(ref);
        if (h && !is_type(h, "NoneType") && !stdlib_handler(h))
            return 0;
    }
    return 1;
}

static long stdlib_atexit_count(void)
{
    long n = 0;
    if (!fs_pyapi.PyErr_Clear || !fs_pyapi.PyModule_GetDict)
        return 0;
    n += logging_harmless();
    /* multiprocessing.util._exit_function (at import): its finalizers check the pid, but it
     * terminates the daemonic children of multiprocessing.process._children, which a forked
     * child inherits: harmless only when there are none. */
    if (module_value("multiprocessing.util", "_exit_function")) {
        fs_pyobj *children = module_value("multiprocessing.process", "_children");
        n += !children || is_empty(children) == 1;
    }
    /* concurrent.futures.thread._python_exit, an atexit callback on 3.8 only (3.9+ registers it
     * with threading._register_atexit): it joins worker threads, which a child does not have. */
    if (module_value("concurrent.futures.thread", "_python_exit") &&
        !module_value("threading", "_register_atexit"))
        n++;
    /* weakref.finalize._exitfunc (on the first finalize()): runs the live finalizers, which may
     * remove the parent's files (tempfile.TemporaryDirectory): harmless only with none. */
    fs_pyobj *fin = module_value("weakref", "finalize");
    fs_pyobj *reg = class_value(fin, "_registered_with_atexit");
    if (reg && is_type(reg, "bool") && fs_pyapi.PyLong_AsLong(reg) == 1 && fs_pyapi.PyObject_Size) {
        fs_pyobj *registry = class_value(fin, "_registry");
        n += is_empty(registry) == 1;
        if (registry)
            fs_pyapi.Py_DecRef(registry);
    }
    if (reg)
        fs_pyapi.Py_DecRef(reg);
    return n;
}

/* FNV-1a over each frame's code object and line: equal keys are the same Python call path.
 * From 3.11 PyFrame_GetBack may create the frame objects it returns, and an allocation may run
 * the collector (and a program's finalizers) at the fork: the collector is off meanwhile there.
 * 3.8 to 3.10 hand out frames that exist already; 3.8 is walked through its layout. */
static void stack_key(void)
{
    fs_pystate_fork.stack_key = 0;
    fs_pystate_fork.stack_depth = 0;
    int py38 = fs_pyapi.minor == 8;
    int gc_off = fs_pyapi.PyGC_Disable && fs_pyapi.PyGC_Enable;
    if (!fs_pyapi.PyEval_GetFrame || (fs_pyapi.minor >= 11 && !gc_off) ||
        (!py38 && (!fs_pyapi.PyFrame_GetBack || !fs_pyapi.PyFrame_GetCode)))
        return;
    int gc_was = gc_off ? fs_pyapi.PyGC_Disable() : 0;
    uint64_t h = 1469598103934665603ULL;
    void *f = fs_pyapi.PyEval_GetFrame();
    void *owned = NULL;
    int depth = 0;
    while (f && depth < 256) {
        fs_pyobj *code = py38 ? fs_py38_frame_code(f) : fs_pyapi.PyFrame_GetCode(f);
        const uint64_t v[2] = {(uint64_t)(uintptr_t)code,
                               (uint64_t)fs_pyapi.PyFrame_GetLineNumber(f)};
        if (code && !py38)
            fs_pyapi.Py_DecRef(code);
        for (int k = 0; k < 2; k++)
            for (int b = 0; b < 8; b++) {
                h ^= (v[k] >> (8 * b)) & 0xff;
                h *= 1099511628211ULL;
            }
        void *back = py38 ? fs_py38_frame_back(f) : fs_pyapi.PyFrame_GetBack(f);
        if (owned)
            fs_pyapi.Py_DecRef(owned);
        owned = py38 ? NULL : back;
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

FS_FORK_PATH void fs_pystate_before_fork(void)
{
    tls_py_armed = 0;
    if (fs_pystate_fork.valid) /* stored only when set: a write costs a copy-on-write fault */
        fs_pystate_fork.valid = 0;
    if (!fs_py_active())
        return;
    fs_pyobj *et, *ev, *tb;
    fs_pyapi.PyErr_Fetch(&et, &ev, &tb);
    capture_streams();
    long ncb = atexit_count();
    long nstd = ncb > 0 ? stdlib_atexit_count() : 0;
    fs_pystate_fork.atexit_count = ncb > nstd ? ncb - nstd : ncb < 0 ? ncb : 0;
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

FS_FORK_PATH void fs_py_streams_append(void)
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
