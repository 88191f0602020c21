/* CPython's C API as the shim calls it (py_api.c): one table of entry points, found with
 * dlsym(RTLD_DEFAULT) in whatever image defines them (the python executable or libpython), and
 * the interpreter's version.  python.c and py_state.c read the interpreter through it and decide
 * for themselves which versions and symbols they need; nothing here runs Python code. */
#ifndef FORKSAN_PY_API_H
#define FORKSAN_PY_API_H

#include "shim.h"

#include <sys/types.h>

typedef struct fs_pyobj fs_pyobj; /* PyObject: only ever handled through pointers */

struct fs_py_api {
    int minor;         /* 3.<minor>; 0 for another major version */
    int free_threaded; /* a free-threaded build (other threads run while one holds its lock) */
    char version[24];  /* Py_GetVersion() up to the first space */
    /* Present in every interpreter the table is loaded for (fs_py_api_load returns 1): */
    int (*Py_IsInitialized)(void);
    const char *(*Py_GetVersion)(void);
    int (*PyGILState_Check)(void);
    void *(*PyGILState_GetThisThreadState)(void);
    int (*PyGILState_Ensure)(void);
    void (*PyGILState_Release)(int);
    void *(*PyInterpreterState_Head)(void);
    void *(*PyInterpreterState_ThreadHead)(void *);
    void *(*PyThreadState_Next)(void *);
    int (*PyFrame_GetLineNumber)(fs_pyobj *);
    fs_pyobj *(*PyObject_GetAttrString)(fs_pyobj *, const char *);
    fs_pyobj *(*PyObject_GenericGetDict)(fs_pyobj *, void *);
    fs_pyobj *(*PyObject_CallObject)(fs_pyobj *, fs_pyobj *);
    const char *(*PyUnicode_AsUTF8)(fs_pyobj *);
    const char *(*PyUnicode_AsUTF8AndSize)(fs_pyobj *, ssize_t *);
    char *(*PyBytes_AsString)(fs_pyobj *);
    long (*PyLong_AsLong)(fs_pyobj *);
    fs_pyobj *(*PyLong_FromUnsignedLong)(unsigned long);
    fs_pyobj *(*PyImport_GetModuleDict)(void);                   /* borrowed */
    fs_pyobj *(*PySys_GetObject)(const char *);                  /* borrowed */
    fs_pyobj *(*PyDict_GetItemString)(fs_pyobj *, const char *); /* borrowed */
    fs_pyobj *(*PyDict_GetItem)(fs_pyobj *, fs_pyobj *);         /* borrowed; never raises */
    int (*PyDict_Next)(fs_pyobj *, ssize_t *, fs_pyobj **, fs_pyobj **);
    fs_pyobj *(*PyList_GetItem)(fs_pyobj *, ssize_t); /* borrowed */
    ssize_t (*PyList_Size)(fs_pyobj *);
    fs_pyobj *(*PyModule_GetFilenameObject)(fs_pyobj *);
    void (*PyErr_Fetch)(fs_pyobj **, fs_pyobj **, fs_pyobj **);
    void (*PyErr_Restore)(fs_pyobj *, fs_pyobj *, fs_pyobj *);
    void (*PyErr_Clear)(void);
    void (*Py_DecRef)(fs_pyobj *);
    /* Optional: NULL where the version (or build) lacks them. */
    fs_pyobj *(*PyThreadState_GetFrame)(void *); /* 3.9+, new reference */
    fs_pyobj *(*PyEval_GetFrame)(void);          /* borrowed */
    fs_pyobj *(*PyFrame_GetBack)(fs_pyobj *);    /* 3.9+, new reference */
    fs_pyobj *(*PyFrame_GetCode)(fs_pyobj *);    /* 3.9+, new reference */
    fs_pyobj *(*PyObject_GetIter)(fs_pyobj *);
    fs_pyobj *(*PyIter_Next)(fs_pyobj *);
    fs_pyobj *(*PyWeakref_GetObject)(fs_pyobj *); /* borrowed */
    fs_pyobj *(*PyModule_GetDict)(fs_pyobj *);    /* borrowed */
    unsigned long (*PyType_GetFlags)(void *);
    void *(*PyType_GetSlot)(void *, int);
    fs_pyobj *(*PyObject_GenericGetAttr)(fs_pyobj *, fs_pyobj *);
    fs_pyobj **(*_PyObject_GetDictPtr)(fs_pyobj *); /* 3.8, 3.9: never allocates there */
    void (*Py_IncRef)(fs_pyobj *);
    int (*PyGC_Disable)(void); /* 3.10+ */
    int (*PyGC_Enable)(void);
    int (*_Py_IsFinalizing)(void); /* up to 3.12 */
    int (*Py_IsFinalizing)(void);  /* 3.13+ */
    ssize_t (*PyObject_Size)(fs_pyobj *); /* the standard library's own atexit callbacks */
    fs_pyobj *(*PyDict_New)(void);         /* 3.13's frame locals proxy, read into a dict */
    int (*PyDict_Update)(fs_pyobj *, fs_pyobj *);
    fs_pyobj *(*PyFrame_GetLocals)(fs_pyobj *); /* 3.11+, new reference: frame.f_locals */
};
FS_HIDDEN extern struct fs_py_api fs_pyapi;

/* 3.8 has no PyFrame_GetBack/PyFrame_GetCode: PyFrameObject's f_back and f_code follow its
 * PyObject_VAR_HEAD, and PyThreadState.frame follows prev, next and interp.  Borrowed. */
#define FS_PY38_TS_FRAME 24
static inline fs_pyobj *fs_py38_frame_back(fs_pyobj *f)
{
    return *(fs_pyobj **)((char *)f + 24);
}
static inline fs_pyobj *fs_py38_frame_code(fs_pyobj *f)
{
    return *(fs_pyobj **)((char *)f + 32);
}

/* Every object's header and the start of its type (PyTypeObject up to tp_name), as laid out in
 * the default (not free-threaded) builds of 3.8 to 3.13. */
struct fs_py_head {
    ssize_t refcnt;
    void *type;
};
struct fs_py_type_head {
    struct fs_py_head head;
    ssize_t size;
    const char *tp_name;
};
/* The object's type, read from its header. */
static inline void *fs_py_type(const void *obj)
{
    return ((const struct fs_py_head *)obj)->type;
}
/* The name of the object's type ("_io.TextIOWrapper", "_thread.lock"), "" when it has none. */
static inline const char *fs_py_type_name(const void *obj)
{
    const struct fs_py_type_head *t = fs_py_type(obj);
    return t && t->tp_name ? t->tp_name : "";
}

/* 1 when this process has a CPython 3 whose required entry points are all found (fs_pyapi is
 * then filled, once per image); 0 otherwise, asked again only after a module was loaded (an
 * interpreter embedded with dlopen).  Safe from any thread; never calls into Python. */
FS_HIDDEN int fs_py_api_load(void);
/* fs_py_api_load() and Py_IsInitialized(). */
FS_HIDDEN int fs_py_initialized(void);
/* 1 when this thread holds the GIL of an initialised interpreter. */
FS_HIDDEN int fs_py_active(void);
/* Whether the interpreter is shutting down (Py_IsFinalizing on 3.13+, _Py_IsFinalizing
 * before); 0 when neither is known.  Only after fs_py_api_load() returned 1. */
FS_HIDDEN int fs_py_finalizing(void);

#endif
