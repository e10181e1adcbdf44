/* pyx.c - embedding; see pyx.h.
 *
 * Version differences are guarded with PY_VERSION_HEX: PyPreConfig and
 * PyConfig exist from 3.8, mimalloc from 3.13.
 */
#include "pyx.h"

#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03080000
#error "pymembench needs CPython 3.8 or newer (PyPreConfig/PyConfig)"
#endif

static const char *effective = "unknown";

#ifdef Py_DEBUG
#define DEBUG_SUFFIX "+debug"
#else
#define DEBUG_SUFFIX ""
#endif

#if defined(Py_GIL_DISABLED)
#define DEFAULT_ALLOC "mimalloc"
#elif defined(WITH_PYMALLOC)
#define DEFAULT_ALLOC "pymalloc"
#else
#define DEFAULT_ALLOC "malloc"
#endif

const char *
pyx_allocators_supported(void)
{
    return "default"
#if defined(WITH_PYMALLOC) && !defined(Py_GIL_DISABLED)
           " pymalloc"
#endif
           " malloc"
#if PY_VERSION_HEX >= 0x030D0000 && defined(WITH_MIMALLOC)
           " mimalloc"
#endif
           " debug";
}

/* Map a name to PyPreConfig.allocator; -1 unknown, -2 unsupported here. */
static int
allocator_code(const char *name, const char **eff)
{
    if (strcmp(name, "default") == 0) {
        *eff = DEFAULT_ALLOC DEBUG_SUFFIX;
        return PYMEM_ALLOCATOR_NOT_SET;
    }
    if (strcmp(name, "malloc") == 0) {
        *eff = "malloc";
        return PYMEM_ALLOCATOR_MALLOC;
    }
    if (strcmp(name, "debug") == 0) {
        *eff = DEFAULT_ALLOC "+debug";
        return PYMEM_ALLOCATOR_DEBUG;
    }
    if (strcmp(name, "pymalloc") == 0) {
#if defined(WITH_PYMALLOC) && !defined(Py_GIL_DISABLED)
        *eff = "pymalloc";
        return PYMEM_ALLOCATOR_PYMALLOC;
#else
        return -2;
#endif
    }
    if (strcmp(name, "mimalloc") == 0) {
#if PY_VERSION_HEX >= 0x030D0000 && defined(WITH_MIMALLOC)
        *eff = "mimalloc";
        return PYMEM_ALLOCATOR_MIMALLOC;
#else
        return -2;
#endif
    }
    return -1;
}

static int
status_failed(PyStatus st, const char *what, char *err, size_t errlen)
{
    if (!PyStatus_Exception(st)) {
        return 0;
    }
    snprintf(err, errlen, "%s failed: %s%s%s", what, st.func ? st.func : "",
             st.func ? ": " : "", st.err_msg ? st.err_msg : "exit requested");
    return 1;
}

static int fixed_hash_seed;

void
pyx_fix_hash_seed(void)
{
    fixed_hash_seed = 1;
}

int
pyx_start(const char *allocator, const char *home, char *err, size_t errlen)
{
    const char *eff = NULL;
    int code = allocator_code(allocator, &eff);
    if (code == -1) {
        snprintf(err, errlen, "unknown allocator '%s'; use one of: %s",
                 allocator, pyx_allocators_supported());
        return 2;
    }
    if (code == -2) {
        snprintf(err, errlen,
                 "allocator '%s' is not available in Python %s%s; this build "
                 "supports: %s",
                 allocator, PY_VERSION,
                 strcmp(allocator, "mimalloc") == 0
                     ? " (CPython bundles mimalloc from 3.13; malloc+mimalloc "
                       "preloads "
                       "Debian's libmimalloc instead)"
                     : "",
                 pyx_allocators_supported());
        return 2;
    }

    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.allocator = code;
    if (status_failed(Py_PreInitialize(&pre), "Py_PreInitialize", err,
                      errlen)) {
        return 2;
    }

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    /* No site-packages, no .pth files, no user site: only the stdlib. */
    config.site_import = 0;
    config.user_site_directory = 0;
    /* Leave SIGINT to the OS so Ctrl-C stops a C loop at once. */
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    if (fixed_hash_seed) {
        /* str/bytes hashes, dict and set layouts the same in every run */
        config.use_hash_seed = 1;
        config.hash_seed = 0;
    }
    PyStatus st = PyStatus_Ok();
    if (home != NULL) {
        st = PyConfig_SetBytesString(&config, &config.home, home);
    }
    if (!status_failed(st, "PyConfig home", err, errlen)) {
        st = Py_InitializeFromConfig(&config);
        status_failed(st, "Py_InitializeFromConfig", err, errlen);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        return 1;
    }
    effective = eff;
    return 0;
}

int
pyx_finish(void)
{
    return Py_FinalizeEx();
}

const char *
pyx_allocator_effective(void)
{
    return effective;
}

PyObject *
pyx_build_facts(void)
{
    static const char code[] =
        "def facts():\n"
        "    import sysconfig, sys\n"
        "    args = sysconfig.get_config_var('CONFIG_ARGS') or ''\n"
        "    keep = ('--enable-optimizations', '--with-lto', "
        "'--with-pydebug',\n"
        "            '--disable-gil', '--without-pymalloc', "
        "'--with-mimalloc',\n"
        "            '--enable-shared', '--with-assertions')\n"
        "    words = [w.strip(\"'\\\"\") for w in args.split()]\n"
        "    got = [w for w in words if w.split('=')[0] in keep]\n"
        "    if hasattr(sys, 'gettotalrefcount'):\n"
        "        got.append('Py_DEBUG')\n"
        "    if sysconfig.get_config_var('Py_GIL_DISABLED'):\n"
        "        got.append('Py_GIL_DISABLED')\n"
        "    cflags = (sysconfig.get_config_var('PY_CORE_CFLAGS') or\n"
        "              sysconfig.get_config_var('OPT') or '').split()\n"
        "    ldflags = (sysconfig.get_config_var('PY_LDFLAGS_NODIST') or "
        "'').split()\n"
        "    opt = [w for w in cflags if w.startswith('-O')]\n"
        "    if opt:\n"
        "        got.append('OPT=' + opt[-1])\n"
        "    for flag in ('-flto', '-fprofile-use'):\n"
        "        if any(w.startswith(flag) for w in cflags + ldflags):\n"
        "            got.append(flag)\n"
        "    got.append('CC=' + (sysconfig.get_config_var('CC') or "
        "'?').split()[0])\n"
        "    return ' '.join(got)\n";
    PyObject *fn = pyx_compile_function(code, "facts");
    if (fn == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallFunctionObjArgs(fn, NULL);
    Py_DECREF(fn);
    return res;
}

PyObject *
pyx_compile_function(const char *src, const char *name)
{
    return pyx_compile_function_ns(src, name, NULL);
}

PyObject *
pyx_compile_function_ns(const char *src, const char *name, PyObject *ns)
{
    PyObject *globals = NULL, *codeobj = NULL, *res = NULL, *fn = NULL;

    globals = ns != NULL ? PyDict_Copy(ns) : PyDict_New();
    if (globals == NULL) {
        goto error;
    }
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) <
        0) {
        goto error;
    }
    if (PyDict_SetItemString(globals, "__name__", Py_None) < 0) {
        goto error;
    }
    codeobj = Py_CompileString(src, "<pymembench>", Py_file_input);
    if (codeobj == NULL) {
        goto error;
    }
    res = PyEval_EvalCode(codeobj, globals, globals);
    if (res == NULL) {
        goto error;
    }
    fn = PyDict_GetItemString(globals, name); /* borrowed */
    if (fn == NULL) {
        PyErr_Format(PyExc_KeyError, "snippet defines no '%s'", name);
        goto error;
    }
    Py_INCREF(fn);
error:
    Py_XDECREF(res);
    Py_XDECREF(codeobj);
    Py_XDECREF(globals);
    return fn;
}

void
pyx_error_text(char *buf, size_t len)
{
    if (!PyErr_Occurred()) {
        snprintf(buf, len, "no Python exception set");
        return;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *type = (PyObject *)Py_TYPE(exc);
    Py_INCREF(type);
#else
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    Py_XDECREF(tb);
#endif
    const char *tname = PyExceptionClass_Check(type)
                            ? ((PyTypeObject *)type)->tp_name
                            : "exception";
    PyObject *msg = exc ? PyObject_Str(exc) : NULL;
    const char *text = msg ? PyUnicode_AsUTF8(msg) : NULL;
    snprintf(buf, len, "%s: %s", tname, text ? text : "(unprintable)");
    Py_XDECREF(msg);
    Py_XDECREF(exc);
    Py_XDECREF(type);
    PyErr_Clear();
}
