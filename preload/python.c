/* Python stacks, thread names and lock names of a CPython process, read through CPython's own C
 * API at the two slow-path moments where that is safe:
 *
 *  - in the fork()/_Fork() wrapper, before the real fork, when the forking thread holds the GIL
 *    (os.fork and multiprocessing's fork start method call fork() with it held): no other thread
 *    can run Python code, so every thread's frame chain is frozen and can be walked;
 *  - in a forked child at the child-deadlock slow path (inherited.c), for the calling thread.
 *
 * Nothing here runs between fork and the child's return, and nothing touches a lock hook: the
 * capture is stored as plain data in static memory (fs_py_fork), which the child writes out with
 * the rest of its snapshot (async-signal-safe formatting only).  The C API comes from py_api.c:
 * a process without it, a version whose frames cannot be read here, or a fork without the GIL, is
 * recorded without Python information (a `python` record with a status says why).
 *
 * The program must not notice: only borrowed lookups and attribute reads that run no Python code
 * (instance __dict__ through PyObject_GenericGetDict, never __getattribute__), the pending
 * exception saved and restored, the cyclic GC paused on 3.10+ while frame objects are made (3.11
 * creates them lazily; a collection could run finalizers), no import, no output. */
#include "py_api.h"
#include "linebuf.h"
#include "trace_format.h"

#include <string.h>
#include <sys/single_threaded.h>

/* PyThreadState.thread_id's offset (calibrate), -1 until known. */
static long tid_off = -1;

FS_HIDDEN struct fs_py_capture fs_py_fork __attribute__((aligned(4096))); /* see shim.h */
static struct fs_py_capture py_child; /* the child-deadlock capture (single thread) */
/* fs_py_fork.owner_tid is set: what a fork tests first, on the hot page (hot.ld), so that a
 * program without Python never reads the capture's page. */
static int py_fork_owned FS_HOT;

/* Whether frames can be read here.  3.8 has no frame accessors (struct access below); older
 * versions are not supported.  A free-threaded build runs other threads' Python code while this
 * one forks: their frames are not frozen, so nothing is read there. */
FS_FORK_PATH static int supported(void)
{
    if (!fs_py_api_load() || fs_pyapi.free_threaded || fs_pyapi.minor < 8)
        return 0;
    return fs_pyapi.minor == 8 || (fs_pyapi.PyThreadState_GetFrame && fs_pyapi.PyFrame_GetBack &&
                                   fs_pyapi.PyFrame_GetCode);
}

/* ---- the capture: strings go to a pool, frames and threads to arrays ---------------------- */

static unsigned pool_add(struct fs_py_capture *c, const char *s)
{
    if (!s)
        return FS_PY_NOSTR;
    size_t n = strlen(s);
    if (n > 1023)
        n = 1023;
    /* Frames of one stack share file names: look back a little before copying. */
    for (int i = c->nframes - 1, k = 0; i >= 0 && k < 8; i--, k++) {
        unsigned off = c->frames[i].file;
        if (off != FS_PY_NOSTR && strncmp(c->pool + off, s, n) == 0 && c->pool[off + n] == '\0')
            return off;
    }
    if (c->pool_len + n + 1 > sizeof c->pool) {
        c->lost_strings++;
        return FS_PY_NOSTR;
    }
    unsigned off = (unsigned)c->pool_len;
    memcpy(c->pool + off, s, n);
    c->pool[off + n] = '\0';
    c->pool_len += n + 1;
    return off;
}

/* Where a code object keeps co_filename and co_name (borrowed str pointers), learnt from the
 * first code objects read the slow way: PyObject_GetAttrString makes a key string and returns
 * a new reference, and the counts it writes into every frame's name strings cost the forking
 * parent a copy-on-write fault per page holding one.  `cand` has bit i set while the word at
 * offset 8 * i still equalled the attribute in every code object checked; the offset is known
 * once one bit is left (co_name and co_qualname are the same object for a module-level
 * function, so that takes a method's frame).  No bit left: always the slow way. */
#define PY_TP_BASICSIZE 32 /* PyTypeObject: PyObject_VAR_HEAD, tp_name, tp_basicsize */
struct code_field {
    const char *name;
    uint64_t cand;
    long off; /* -1 unknown, -2 never */
};
static struct code_field code_fields[2] = {{"co_filename", ~0ull, -1}, {"co_name", ~0ull, -1}};

static unsigned code_str(struct fs_py_capture *c, fs_pyobj *code, struct code_field *cf)
{
    if (cf->off >= 0) {
        fs_pyobj *s = *(fs_pyobj **)((char *)code + cf->off);
        if (!s || strcmp(fs_py_type_name(s), "str") != 0)
            return FS_PY_NOSTR;
        const char *u = fs_pyapi.PyUnicode_AsUTF8(s);
        if (!u)
            fs_pyapi.PyErr_Clear();
        return u ? pool_add(c, u) : FS_PY_NOSTR;
    }
    fs_pyobj *s = fs_pyapi.PyObject_GetAttrString(code, cf->name);
    if (!s) {
        fs_pyapi.PyErr_Clear();
        return FS_PY_NOSTR;
    }
    if (cf->off == -1) {
        /* Within the code type's fixed part (tp_basicsize, after the type's head), past the
         * object header. */
        ssize_t basicsize = *(const ssize_t *)((const char *)fs_py_type(code) + PY_TP_BASICSIZE);
        ssize_t words = basicsize / (ssize_t)sizeof(void *);
        for (ssize_t i = 0; i < 64; i++)
            if (i < 2 || i >= words || ((fs_pyobj *const *)code)[i] != s)
                cf->cand &= ~(1ull << i);
        if (!cf->cand)
            cf->off = -2;
        else if (!(cf->cand & (cf->cand - 1)))
            cf->off = (long)sizeof(void *) * __builtin_ctzll(cf->cand);
    }
    const char *u = fs_pyapi.PyUnicode_AsUTF8(s);
    unsigned off = u ? pool_add(c, u) : FS_PY_NOSTR;
    if (!u)
        fs_pyapi.PyErr_Clear();
    fs_pyapi.Py_DecRef(s);
    return off;
}

static int add_frame(struct fs_py_capture *c, fs_pyobj *frame, fs_pyobj *code)
{
    if (c->nframes >= FS_PY_FRAMES_MAX) {
        c->lost_frames++;
        return -1;
    }
    struct fs_py_frame *f = &c->frames[c->nframes];
    f->line = fs_pyapi.PyFrame_GetLineNumber(frame);
    f->file = code_str(c, code, &code_fields[0]);
    c->nframes++; /* pool_add's look-back sees this frame's file from here on */
    f->func = code_str(c, code, &code_fields[1]);
    return 0;
}

static void *field(void *base, long off)
{
    return *(void **)((char *)base + off);
}

/* The thread's Python frames, innermost first; returns how many were stored. */
static int walk_frames(struct fs_py_capture *c, void *ts)
{
    int n = 0;
    if (fs_pyapi.minor == 8) {
        for (fs_pyobj *f = field(ts, FS_PY38_TS_FRAME); f; f = fs_py38_frame_back(f)) {
            if (n >= FS_PY_STACK_MAX || add_frame(c, f, fs_py38_frame_code(f)) < 0) {
                c->lost_frames++;
                break;
            }
            n++;
        }
        return n;
    }
    fs_pyobj *f = fs_pyapi.PyThreadState_GetFrame(ts);
    while (f) {
        if (n >= FS_PY_STACK_MAX) {
            c->lost_frames++;
            fs_pyapi.Py_DecRef(f);
            break;
        }
        fs_pyobj *code = fs_pyapi.PyFrame_GetCode(f);
        int rc = code ? add_frame(c, f, code) : -1;
        if (code)
            fs_pyapi.Py_DecRef(code);
        fs_pyobj *back = rc == 0 ? fs_pyapi.PyFrame_GetBack(f) : NULL;
        fs_pyapi.Py_DecRef(f);
        f = back;
        if (rc == 0)
            n++;
    }
    return n;
}

/* PyThreadState.thread_id (the pthread_self() of its thread) sits at a different offset in
 * every minor version; it is found once, in the calling thread's own state. */
static void calibrate(void *self_ts)
{
    if (tid_off >= 0 || !self_ts)
        return;
    uintptr_t me = (uintptr_t)pthread_self();
    for (long off = 24; off < 320; off += 8)
        if (*(uintptr_t *)((char *)self_ts + off) == me) {
            tid_off = off;
            return;
        }
}

/* The calling thread's tid: its registry slot knows it (a gettid system call per use would be
 * three per fork). */
FS_FORK_PATH static int my_tid(void)
{
    const struct fs_thread *t = fs_tls_self;
    return t ? t->tid : fs_gettid();
}

static int tid_of_ident(uintptr_t ident, int self)
{
    if (ident == (uintptr_t)pthread_self())
        return self;
    for (unsigned i = 0, n = fs_threads_used(); i < n; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == FS_SLOT_LIVE &&
            (uintptr_t)t->self == ident)
            return t->tid;
    }
    return 0;
}

/* The sem_t under a _thread.lock or _thread.RLock object (3.8 to 3.13 build both on
 * PyThread_type_lock, a semaphore): both start with PyObject_HEAD then that pointer.  0 when obj
 * is neither.  Should a later version lay them out otherwise, the word read is only compared with
 * the addresses of held semaphores, so it names nothing rather than the wrong lock. */
static uintptr_t lock_addr(fs_pyobj *obj)
{
    if (!obj)
        return 0;
    const char *tp_name = fs_py_type_name(obj);
    if (strcmp(tp_name, "_thread.lock") != 0 && strcmp(tp_name, "_thread.RLock") != 0)
        return 0;
    return (uintptr_t)field(obj, 16);
}

/* "owner.name" (just owner when name is NULL) in out, NUL-terminated: 0, or -1 when it does not
 * fit (out is then empty). */
static int dotted(char *out, size_t cap, const char *owner, const char *name)
{
    size_t at = fs_fmt_str(out, cap, 0, owner);
    if (at != (size_t)-1 && name)
        at = fs_fmt_str(out, cap, at, ".");
    if (at != (size_t)-1 && name)
        at = fs_fmt_str(out, cap, at, name);
    if (at == (size_t)-1) {
        out[0] = '\0';
        return -1;
    }
    return 0; /* fs_fmt_str wrote the NUL */
}

static void add_lock(struct fs_py_capture *c, uintptr_t addr, int role, int tid, const char *owner,
                     const char *name)
{
    if (!addr)
        return;
    for (int i = 0; i < c->nlocks; i++)
        if (c->locks[i].addr == addr)
            return;
    if (c->nlocks >= FS_PY_LOCKS_MAX) {
        c->lost_locks++;
        return;
    }
    struct fs_py_lock *l = &c->locks[c->nlocks++];
    l->addr = addr;
    l->role = role;
    l->tid = tid;
    char full[256];
    dotted(full, sizeof full, owner, name); /* empty when too long */
    l->name = pool_add(c, full);
}

/* The instance __dict__ of a Python object (new reference), without running its class's code. */
static fs_pyobj *instance_dict(fs_pyobj *o)
{
    fs_pyobj *d = fs_pyapi.PyObject_GenericGetDict(o, NULL);
    if (!d)
        fs_pyapi.PyErr_Clear();
    return d;
}

/* threading._active[ident]: the Thread object's name and its tstate lock. */
static void thread_info(struct fs_py_capture *c, fs_pyobj *active, struct fs_py_thread *t)
{
    if (!active)
        return;
    fs_pyobj *key = fs_pyapi.PyLong_FromUnsignedLong((unsigned long)t->ident);
    if (!key) {
        fs_pyapi.PyErr_Clear();
        return;
    }
    fs_pyobj *th = fs_pyapi.PyDict_GetItem(active, key); /* borrowed; never raises */
    fs_pyapi.Py_DecRef(key);
    fs_pyobj *d = th ? instance_dict(th) : NULL;
    if (!d)
        return;
    fs_pyobj *name = fs_pyapi.PyDict_GetItemString(d, "_name");
    const char *u = name ? fs_pyapi.PyUnicode_AsUTF8(name) : NULL;
    if (u)
        t->name = pool_add(c, u);
    else
        fs_pyapi.PyErr_Clear();
    uintptr_t tl = lock_addr(fs_pyapi.PyDict_GetItemString(d, "_tstate_lock"));
    add_lock(c, tl, FS_PY_LOCK_TSTATE, t->tid, u ? u : "?", NULL);
    fs_pyapi.Py_DecRef(d);
}

/* Lock objects the program named: module globals of __main__ and of the program's own modules
 * (`__main__.cache_lock`, `app.store.lock`), and one level into instances of its classes held
 * there (`__main__.cache.lock`).  Bounded: a fork looks at FS_PY_SCAN_MAX entries at most. */
#define FS_PY_SCAN_MAX           4096
#define PY_TPFLAGS_HEAPTYPE      (1ul << 9)
#define PY_TPFLAGS_TYPE_SUBCLASS (1ul << 31)

/* An instance of a class defined in Python (a heap type), not a class itself. */
static int is_plain_instance(fs_pyobj *o)
{
    void *type = fs_py_type(o);
    unsigned long flags = type ? *(unsigned long *)((char *)type + 168) : 0; /* tp_flags */
    return (flags & PY_TPFLAGS_HEAPTYPE) && !(flags & PY_TPFLAGS_TYPE_SUBCLASS);
}

static void dict_locks(struct fs_py_capture *c, fs_pyobj *d, const char *owner, int depth,
                       int *budget)
{
    ssize_t pos = 0;
    fs_pyobj *k, *v;
    while (*budget > 0 && fs_pyapi.PyDict_Next(d, &pos, &k, &v)) {
        (*budget)--;
        uintptr_t a = lock_addr(v);
        if (!a && (depth > 0 || !is_plain_instance(v)))
            continue;
        const char *name = fs_pyapi.PyUnicode_AsUTF8(k);
        if (!name) {
            fs_pyapi.PyErr_Clear();
            continue;
        }
        if (a) {
            add_lock(c, a, FS_PY_LOCK_USER, 0, owner, name);
            continue;
        }
        fs_pyobj *vd = instance_dict(v);
        if (!vd)
            continue;
        char sub[256];
        if (dotted(sub, sizeof sub, owner, name) == 0)
            dict_locks(c, vd, sub, depth + 1, budget);
        fs_pyapi.Py_DecRef(vd);
    }
}

/* A module's __file__ as UTF-8 (valid while the module keeps it), or NULL.  Borrowed from the
 * module's dict: PyModule_GetFilenameObject returns a new reference, and the count it writes
 * into each module's file name costs the forking parent a copy-on-write fault per page holding
 * one (9 per fork for the standard library's modules in a small program). */
static const char *module_file(fs_pyobj *mod)
{
    fs_pyobj *md = fs_pyapi.PyModule_GetDict ? fs_pyapi.PyModule_GetDict(mod) : NULL;
    const char *u = NULL;
    if (md) {
        fs_pyobj *f = fs_pyapi.PyDict_GetItemString(md, "__file__");
        if (f && strcmp(fs_py_type_name(f), "str") == 0) /* as PyModule_GetFilenameObject */
            u = fs_pyapi.PyUnicode_AsUTF8(f);
    } else {
        fs_pyobj *f = fs_pyapi.PyModule_GetFilenameObject(mod);
        if (f) {
            u = fs_pyapi.PyUnicode_AsUTF8(f);
            fs_pyapi.Py_DecRef(f); /* the module's dict keeps it */
        }
    }
    if (!u)
        fs_pyapi.PyErr_Clear();
    return u;
}

/* The program's own module: __main__, or one whose file is outside the standard library and
 * outside site-packages. */
static int is_user_module(const struct fs_py_capture *c, fs_pyobj *mod, const char *name)
{
    if (strcmp(name, "__main__") == 0)
        return 1;
    const char *file = module_file(mod);
    if (!file)
        return 0;
    const char *lib = c->stdlib != FS_PY_NOSTR ? c->pool + c->stdlib : "";
    size_t n = strlen(lib);
    return !(n && strncmp(file, lib, n) == 0 && file[n] == '/') &&
           !strstr(file, "/site-packages/") && !strstr(file, "/dist-packages/");
}

static void program_locks(struct fs_py_capture *c, fs_pyobj *modules)
{
    fs_pyobj *main_mod = fs_pyapi.PyDict_GetItemString(modules, "__main__");
    void *module_type = main_mod ? fs_py_type(main_mod) : NULL;
    int budget = FS_PY_SCAN_MAX;
    ssize_t pos = 0;
    fs_pyobj *k, *mod;
    while (module_type && budget > 0 && fs_pyapi.PyDict_Next(modules, &pos, &k, &mod)) {
        budget--;
        if (fs_py_type(mod) != module_type)
            continue; /* not a plain module object */
        const char *name = fs_pyapi.PyUnicode_AsUTF8(k);
        if (!name) {
            fs_pyapi.PyErr_Clear();
            continue;
        }
        if (!is_user_module(c, mod, name))
            continue;
        fs_pyobj *d = instance_dict(mod);
        if (!d)
            continue;
        char owner[128];
        if (dotted(owner, sizeof owner, name, NULL) == 0)
            dict_locks(c, d, owner, 0, &budget);
        fs_pyapi.Py_DecRef(d);
    }
}

/* logging's module lock and its handlers' locks: logging re-creates them in the child
 * (_at_fork_reinit), so the child never waits on the inherited ones. */
static void logging_locks(struct fs_py_capture *c, fs_pyobj *modules)
{
    fs_pyobj *mod = fs_pyapi.PyDict_GetItemString(modules, "logging");
    fs_pyobj *d = mod ? instance_dict(mod) : NULL;
    if (!d)
        return;
    add_lock(c, lock_addr(fs_pyapi.PyDict_GetItemString(d, "_lock")), FS_PY_LOCK_REINIT, 0,
             "logging", "_lock");
    /* The handlers, through the WeakSet's set of weak references; set iteration runs no
     * Python code. */
    fs_pyobj *ws = fs_pyapi.PyDict_GetItemString(d, "_at_fork_reinit_lock_weakset");
    fs_pyobj *wd =
        ws && fs_pyapi.PyObject_GetIter && fs_pyapi.PyWeakref_GetObject ? instance_dict(ws) : NULL;
    fs_pyobj *data = wd ? fs_pyapi.PyDict_GetItemString(wd, "data") : NULL;
    fs_pyobj *it = data ? fs_pyapi.PyObject_GetIter(data) : NULL;
    for (fs_pyobj *ref; it && (ref = fs_pyapi.PyIter_Next(it)) != NULL;) {
        fs_pyobj *h = fs_pyapi.PyWeakref_GetObject(ref); /* borrowed; None when dead */
        fs_pyobj *hd = h ? instance_dict(h) : NULL;
        if (hd) {
            const char *tp_name = fs_py_type_name(h);
            add_lock(c, lock_addr(fs_pyapi.PyDict_GetItemString(hd, "lock")), FS_PY_LOCK_REINIT, 0,
                     tp_name[0] ? tp_name : "Handler", "lock (logging handler)");
            fs_pyapi.Py_DecRef(hd);
        }
        fs_pyapi.Py_DecRef(ref);
    }
    if (it)
        fs_pyapi.Py_DecRef(it);
    fs_pyapi.PyErr_Clear();
    if (wd)
        fs_pyapi.Py_DecRef(wd);
    fs_pyapi.Py_DecRef(d);
}

static void capture_thread(struct fs_py_capture *c, void *ts, fs_pyobj *active, int self_tid)
{
    if (c->nthreads >= FS_PY_THREADS_MAX) {
        c->lost_threads++;
        return;
    }
    struct fs_py_thread *t = &c->threads[c->nthreads++];
    t->ident = tid_off >= 0 ? *(uintptr_t *)((char *)ts + tid_off) : 0;
    t->tid = t->ident ? tid_of_ident(t->ident, self_tid) : 0;
    t->forker = t->tid == self_tid;
    t->name = FS_PY_NOSTR;
    t->first = c->nframes;
    thread_info(c, active, t);
    t->nframes = walk_frames(c, ts);
}

static void capture_begin(struct fs_py_capture *c, int status)
{
    c->status = status;
    c->nthreads = c->nframes = c->nlocks = 0;
    c->pool_len = 0;
    c->lost_frames = c->lost_threads = c->lost_locks = c->lost_strings = 0;
    c->stdlib = FS_PY_NOSTR;
    memcpy(c->version, fs_pyapi.version, sizeof c->version);
}

/* With the GIL held: every thread (all == 1) or only the caller's. */
static void capture(struct fs_py_capture *c, int all)
{
    fs_pyobj *et, *ev, *tb;
    fs_pyapi.PyErr_Fetch(&et, &ev, &tb);
    int gc_was = fs_pyapi.PyGC_Disable ? fs_pyapi.PyGC_Disable() : 0;
    void *self_ts = fs_pyapi.PyGILState_GetThisThreadState();
    calibrate(self_ts);
    int me = my_tid();
    fs_pyobj *modules = fs_pyapi.PyImport_GetModuleDict();
    fs_pyobj *threading = modules ? fs_pyapi.PyDict_GetItemString(modules, "threading") : NULL;
    /* From the module's dict: an attribute lookup with a key string made for it misses
     * CPython's type attribute cache and rewrites an entry of it (a page fault per fork). */
    fs_pyobj *tdict = threading && fs_pyapi.PyModule_GetDict &&
                              strcmp(fs_py_type_name(threading), "module") == 0
                          ? fs_pyapi.PyModule_GetDict(threading)
                          : NULL;
    fs_pyobj *active = tdict ? fs_pyapi.PyDict_GetItemString(tdict, "_active") : NULL;
    int active_owned = 0; /* borrowed from the dict, which keeps it while the GIL is held */
    if (threading && !tdict) {
        active = fs_pyapi.PyObject_GetAttrString(threading, "_active");
        active_owned = active != NULL;
    }
    if (threading && !active)
        fs_pyapi.PyErr_Clear();
    fs_pyobj *os = modules ? fs_pyapi.PyDict_GetItemString(modules, "os") : NULL;
    const char *u = os ? module_file(os) : NULL;
    const char *slash = u ? strrchr(u, '/') : NULL;
    if (slash) {
        char dir[FS_PATH_MAX];
        size_t n = (size_t)(slash - u) < sizeof dir - 1 ? (size_t)(slash - u) : sizeof dir - 1;
        memcpy(dir, u, n);
        dir[n] = '\0';
        c->stdlib = pool_add(c, dir);
    }
    fs_pyapi.PyErr_Clear();
    if (all) {
        for (void *interp = fs_pyapi.PyInterpreterState_Head(); interp;
             interp = NULL) /* main only */
            for (void *ts = fs_pyapi.PyInterpreterState_ThreadHead(interp); ts;
                 ts = fs_pyapi.PyThreadState_Next(ts))
                capture_thread(c, ts, active, me);
        if (modules) {
            program_locks(c, modules);
            logging_locks(c, modules);
        }
    } else if (self_ts) {
        capture_thread(c, self_ts, active, me);
    }
    if (active_owned)
        fs_pyapi.Py_DecRef(active);
    if (gc_was && fs_pyapi.PyGC_Enable)
        fs_pyapi.PyGC_Enable();
    fs_pyapi.PyErr_Restore(et, ev, tb);
}

/* fork.c, in the fork()/_Fork() wrapper before the real call.  Only a thread that holds the GIL
 * writes fs_py_fork, and it keeps the GIL until the fork is made: two captures cannot overlap. */
FS_FORK_PATH void fs_py_before_fork(void)
{
    struct fs_py_capture *c = &fs_py_fork;
    if (py_fork_owned) { /* stored only when set: a write costs a copy-on-write fault per fork */
        c->owner_tid = 0;
        py_fork_owned = 0;
    }
    if (!supported() || !fs_py_initialized())
        return;
    fs_snapshot_flush(); /* a deferred child file of ours still reads the previous capture */
    if (!fs_pyapi.PyGILState_Check()) {
        capture_begin(c, FS_PY_NOGIL);
        c->owner_tid = my_tid();
        py_fork_owned = 1;
        return;
    }
    capture_begin(c, FS_PY_OK);
    FS_INTERNAL_BEGIN();
    capture(c, 1);
    FS_INTERNAL_END();
    c->owner_tid = my_tid();
    py_fork_owned = 1;
}

/* hooks_thread.c, in pthread_create before the real call, when the creating thread holds the GIL
 * (threading.Thread.start): the innermost Python frame of the program's own code (outside the
 * standard library, else the innermost one) goes into the new thread's slot.  The GIL serializes
 * the users of py_create. */
static struct fs_py_capture py_create;

void fs_py_thread_site(struct fs_thread *t)
{
    t->py_line = 0;
    if (!supported() || !fs_py_active())
        return;
    struct fs_py_capture *c = &py_create;
    FS_INTERNAL_BEGIN();
    capture_begin(c, FS_PY_OK);
    capture(c, 0);
    FS_INTERNAL_END();
    if (c->nthreads != 1 || c->threads[0].nframes == 0)
        return;
    const char *lib = c->stdlib != FS_PY_NOSTR ? c->pool + c->stdlib : "";
    size_t n = strlen(lib);
    const struct fs_py_frame *pick = &c->frames[c->threads[0].first];
    for (int k = 0; k < c->threads[0].nframes; k++) {
        const struct fs_py_frame *f = &c->frames[c->threads[0].first + k];
        const char *file = f->file != FS_PY_NOSTR ? c->pool + f->file : "";
        if (!(n && strncmp(file, lib, n) == 0 && file[n] == '/') && file[0] != '<') {
            pick = f;
            break;
        }
    }
    /* Long paths keep their end, the part that names the file. */
    const char *file = pick->file != FS_PY_NOSTR ? c->pool + pick->file : "";
    size_t len = strlen(file);
    if (len >= sizeof t->py_file)
        file += len - (sizeof t->py_file - 1);
    memcpy(t->py_file, file, strlen(file) + 1);
    const char *func = pick->func != FS_PY_NOSTR ? c->pool + pick->func : "";
    size_t flen = strlen(func);
    if (flen >= sizeof t->py_func)
        flen = sizeof t->py_func - 1;
    memcpy(t->py_func, func, flen);
    t->py_func[flen] = '\0';
    t->py_line = pick->line > 0 ? pick->line : 0;
}

/* ---- writing (async-signal-safe: formatting into the trace buffer only) ------------------ */

static const char *const status_names[] = {
    [FS_PY_OK] = "ok", [FS_PY_NOGIL] = "nogil", [FS_PY_NOTHREAD] = "nothread"};

static void put_str(struct fs_linebuf *lb, const struct fs_py_capture *c, const char *key,
                    unsigned off)
{
    fs_lb_str(lb, key, off == FS_PY_NOSTR ? "" : c->pool + off);
}

void fs_py_write(struct fs_linebuf *lb, const struct fs_py_capture *c, const char *of)
{
    fs_lb_begin(lb, FS_REC_PYTHON);
    fs_lb_str(lb, "of", of);
    fs_lb_str(lb, "version", c->version);
    fs_lb_str(lb, "status", status_names[c->status]);
    put_str(lb, c, "stdlib", c->stdlib);
    fs_lb_end(lb);
    for (int i = 0; i < c->nthreads; i++) {
        const struct fs_py_thread *t = &c->threads[i];
        fs_lb_begin(lb, FS_REC_PYTHREAD);
        fs_lb_str(lb, "of", of);
        fs_lb_dec(lb, "tid", t->tid);
        fs_lb_hex(lb, "ident", t->ident);
        put_str(lb, c, "name", t->name);
        fs_lb_dec(lb, "forker", t->forker);
        fs_lb_dec(lb, "nframes", t->nframes);
        fs_lb_end(lb);
        for (int k = 0; k < t->nframes; k++) {
            const struct fs_py_frame *f = &c->frames[t->first + k];
            fs_lb_begin(lb, FS_REC_PYFRAME);
            fs_lb_str(lb, "of", of);
            fs_lb_dec(lb, "tid", t->tid);
            fs_lb_dec(lb, "line", f->line);
            put_str(lb, c, "file", f->file);
            put_str(lb, c, "func", f->func);
            fs_lb_end(lb);
        }
    }
    static const char *const roles[] = {
        [FS_PY_LOCK_USER] = "user", [FS_PY_LOCK_TSTATE] = "tstate", [FS_PY_LOCK_REINIT] = "reinit"};
    for (int i = 0; i < c->nlocks; i++) {
        const struct fs_py_lock *l = &c->locks[i];
        fs_lb_begin(lb, FS_REC_PYLOCK);
        fs_lb_hex(lb, "lock", l->addr);
        fs_lb_str(lb, "role", roles[l->role]);
        fs_lb_dec(lb, "tid", l->tid);
        put_str(lb, c, "name", l->name);
        fs_lb_end(lb);
    }
    fs_trace_lost(lb, "pyframes", c->lost_frames);
    fs_trace_lost(lb, "pythreads", c->lost_threads);
    fs_trace_lost(lb, "pylocks", c->lost_locks);
    fs_trace_lost(lb, "pystrings", c->lost_strings);
}

void fs_py_name_lock(uintptr_t addr, const char *name)
{
    struct fs_py_capture *c = &fs_py_fork;
    if (c->status == FS_PY_OK && c->owner_tid && c->owner_tid == my_tid())
        add_lock(c, addr, FS_PY_LOCK_USER, 0, name, NULL);
}

/* The child's snapshot: the capture belongs to this fork when the forker made it. */
void fs_py_write_fork(struct fs_linebuf *lb, int forker_tid)
{
    if (fs_py_fork.owner_tid && fs_py_fork.owner_tid == forker_tid)
        fs_py_write(lb, &fs_py_fork, "fork");
}

/* No other thread in this process: glibc says so, or the registry has no other live slot (a
 * forked child whose threads, if any, were all started through pthread_create). */
static int only_thread(void)
{
    if (__libc_single_threaded)
        return 1;
    const struct fs_thread *self = fs_tls_self;
    for (unsigned i = 0, n = fs_threads_used(); i < n; i++) {
        const struct fs_thread *t = &fs_threads[i];
        if (t != self && __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != FS_SLOT_FREE)
            return 0;
    }
    return self != NULL;
}

/* inherited.c, after the deadlock record: the calling thread's Python stack.  With the GIL, or
 * in a child that has only this thread (CPython released the GIL around the blocking call; no
 * other thread can hold it or run Python code, so taking it back cannot wait). */
void fs_py_deadlock(void)
{
    fs_py_child_stack("deadlock");
}

void fs_py_child_stack(const char *of)
{
    if (!supported() || !fs_py_initialized())
        return;
    struct fs_py_capture *c = &py_child;
    int held = fs_pyapi.PyGILState_Check();
    if (!held &&
        (!only_thread() || fs_py_finalizing() || !fs_pyapi.PyGILState_GetThisThreadState()))
        return;
    FS_INTERNAL_BEGIN();
    int g = held ? 0 : fs_pyapi.PyGILState_Ensure();
    capture_begin(c, FS_PY_OK);
    capture(c, 0);
    if (!held)
        fs_pyapi.PyGILState_Release(g);
    FS_INTERNAL_END();
    struct fs_linebuf *lb = fs_trace_begin();
    if (!lb)
        return;
    fs_py_write(lb, c, of);
    fs_trace_end(lb);
}
