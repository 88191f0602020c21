/* CPython's C API for the shim: the one place that finds the interpreter's entry points and
 * version (python.c and py_state.c use them; py_api.h lists them).
 *
 * The entry points are looked up with the C library's dlsym (fs_dl) in the global scope, so
 * they are found in the python executable as in libpython.  The lookups run as the shim's own
 * calls (FS_INTERNAL_BEGIN): dlsym may take the dynamic linker's lock and allocate.  A process
 * without CPython pays one failed lookup, and pays it again only after its module set changed
 * (an interpreter loaded later with dlopen).  The table is published once, with a release store,
 * before anyone may call through it; two threads racing here store the same pointers. */
#include "py_api.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

FS_HIDDEN struct fs_py_api fs_pyapi;

static int api_state FS_HOT;              /* 0 not probed, 1 loaded, -1 absent at api_gen */
static unsigned long long api_gen FS_HOT; /* fs_modmap_generation() at the failed probe */

struct py_row {
    const char *name;
    size_t offset; /* of the pointer in struct fs_py_api */
    int required;
};
#define REQ(fn)                                                                                    \
    {                                                                                              \
#fn, offsetof(struct fs_py_api, fn), 1                                                     \
    }
#define OPT(fn)                                                                                    \
    {                                                                                              \
#fn, offsetof(struct fs_py_api, fn), 0                                                     \
    }

/* Required rows first: the probe stops at the first one missing. */
static const struct py_row rows[] = {
    REQ(Py_IsInitialized),
    REQ(Py_GetVersion),
    REQ(PyGILState_Check),
    REQ(PyGILState_GetThisThreadState),
    REQ(PyGILState_Ensure),
    REQ(PyGILState_Release),
    REQ(PyInterpreterState_Head),
    REQ(PyInterpreterState_ThreadHead),
    REQ(PyThreadState_Next),
    REQ(PyFrame_GetLineNumber),
    REQ(PyObject_GetAttrString),
    REQ(PyObject_GenericGetDict),
    REQ(PyObject_CallObject),
    REQ(PyUnicode_AsUTF8),
    REQ(PyUnicode_AsUTF8AndSize),
    REQ(PyBytes_AsString),
    REQ(PyLong_AsLong),
    REQ(PyLong_FromUnsignedLong),
    REQ(PyImport_GetModuleDict),
    REQ(PySys_GetObject),
    REQ(PyDict_GetItemString),
    REQ(PyDict_GetItem),
    REQ(PyDict_Next),
    REQ(PyList_GetItem),
    REQ(PyList_Size),
    REQ(PyModule_GetFilenameObject),
    REQ(PyErr_Fetch),
    REQ(PyErr_Restore),
    REQ(PyErr_Clear),
    REQ(Py_DecRef),
    OPT(PyThreadState_GetFrame),
    OPT(PyEval_GetFrame),
    OPT(PyFrame_GetBack),
    OPT(PyFrame_GetCode),
    OPT(PyObject_GetIter),
    OPT(PyIter_Next),
    OPT(PyWeakref_GetObject),
    OPT(PyModule_GetDict),
    OPT(PyType_GetFlags),
    OPT(PyType_GetSlot),
    OPT(PyObject_GenericGetAttr),
    OPT(_PyObject_GetDictPtr),
    OPT(Py_IncRef),
    OPT(PyGC_Disable),
    OPT(PyGC_Enable),
    OPT(_Py_IsFinalizing),
    OPT(Py_IsFinalizing),
    OPT(PyObject_Size),
    OPT(PyDict_New),
    OPT(PyDict_Update),
    OPT(PyFrame_GetLocals),
};

static int lookup_all(void)
{
    FS_REAL_READY(); /* fs_dl */
    if (!fs_dl.dlsym)
        return 0;
    int ok = 1;
    FS_INTERNAL_BEGIN();
    for (size_t i = 0; ok && i < sizeof rows / sizeof *rows; i++) {
        void *p = fs_dl.dlsym(RTLD_DEFAULT, rows[i].name);
        *(void **)((char *)&fs_pyapi + rows[i].offset) = p;
        ok = p || !rows[i].required;
    }
    FS_INTERNAL_END();
    return ok;
}

/* "3.12.1 (main, ...) [GCC ...]": the version up to the space, the minor, the build kind. */
static void read_version(void)
{
    const char *v = fs_pyapi.Py_GetVersion();
    size_t n = 0;
    while (v[n] && v[n] != ' ' && n < sizeof fs_pyapi.version - 1)
        n++;
    memcpy(fs_pyapi.version, v, n);
    fs_pyapi.version[n] = '\0';
    int minor = 0;
    if (v[0] == '3' && v[1] == '.')
        for (const char *p = v + 2; *p >= '0' && *p <= '9'; p++)
            minor = minor * 10 + (*p - '0');
    fs_pyapi.minor = minor;
    fs_pyapi.free_threaded = strstr(v, "free-threading") != NULL;
}

FS_FORK_PATH int fs_py_api_load(void)
{
    int st = __atomic_load_n(&api_state, __ATOMIC_ACQUIRE);
    if (st > 0)
        return 1;
    unsigned long long gen = fs_modmap_generation();
    if (st < 0 && __atomic_load_n(&api_gen, __ATOMIC_RELAXED) == gen)
        return 0;
    __atomic_store_n(&api_gen, gen, __ATOMIC_RELAXED);
    if (!lookup_all()) {
        __atomic_store_n(&api_state, -1, __ATOMIC_RELEASE);
        return 0;
    }
    read_version();
    __atomic_store_n(&api_state, 1, __ATOMIC_RELEASE);
    return 1;
}

FS_FORK_PATH int fs_py_initialized(void)
{
    return fs_py_api_load() && fs_pyapi.Py_IsInitialized();
}

FS_FORK_PATH int fs_py_active(void)
{
    return fs_py_initialized() && fs_pyapi.PyGILState_Check();
}

int fs_py_finalizing(void)
{
    if (fs_pyapi.Py_IsFinalizing)
        return fs_pyapi.Py_IsFinalizing();
    return fs_pyapi._Py_IsFinalizing ? fs_pyapi._Py_IsFinalizing() : 0;
}
