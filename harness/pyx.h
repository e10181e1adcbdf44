/* pyx.h - embedding: start and stop one interpreter per process, and small
 * helpers every workload family shares (compiled snippets, error text).
 */
#ifndef PYMB_PYX_H
#define PYMB_PYX_H

#include <Python.h>
#include <stddef.h>

/* Pre-initialise with the named allocator (default, pymalloc, malloc,
 * mimalloc, debug) and initialise from an isolated config whose home is
 * `home` (the interpreter's sys.prefix; NULL to let Python compute it).
 * Returns 0; or 2 with a one-line reason in `err` when the name is unknown
 * or this Python cannot provide it; or 1 when initialisation failed. */
int pyx_start(const char *allocator, const char *home, char *err,
              size_t errlen);
/* Before pyx_start: hash randomisation off (PYTHONHASHSEED=0), for runs
 * that must repeat to the instruction. */
void pyx_fix_hash_seed(void);
/* Py_FinalizeEx; returns its result (0, or -1 when finalisation failed). */
int pyx_finish(void);
/* The allocator actually in use, e.g. "pymalloc" for "default". */
const char *pyx_allocator_effective(void);
/* Space-separated allocator names this build accepts. */
const char *pyx_allocators_supported(void);
/* Config arguments that shape numbers (optimizations, LTO, debug,
 * free-threading), as one string. New reference, or NULL with an error. */
PyObject *pyx_build_facts(void);

/* Run `src` in a fresh module namespace and return a new reference to its
 * global `name`, or NULL with an exception set. */
PyObject *pyx_compile_function(const char *src, const char *name);
/* The same, with the items of the dict `ns` (borrowed; may be NULL) as
 * extra globals of the snippet, e.g. a type the harness defines. The
 * function and its globals form a cycle: drop it outside timed regions. */
PyObject *pyx_compile_function_ns(const char *src, const char *name,
                                  PyObject *ns);
/* Call f() or f(arg) by the fastest path each version has (vectorcall;
 * 3.8 spells it with an underscore). New reference, or NULL with an
 * exception. */
static inline PyObject *
pyx_call0(PyObject *f)
{
#if PY_VERSION_HEX >= 0x03090000
    return PyObject_CallNoArgs(f);
#else
    return _PyObject_Vectorcall(f, NULL, 0, NULL);
#endif
}

static inline PyObject *
pyx_call1(PyObject *f, PyObject *arg)
{
#if PY_VERSION_HEX >= 0x03090000
    return PyObject_CallOneArg(f, arg);
#else
    return _PyObject_Vectorcall(f, &arg, 1, NULL);
#endif
}

/* Move the current exception (if any) into `buf` as "Type: message". */
void pyx_error_text(char *buf, size_t len);

#endif /* PYMB_PYX_H */
