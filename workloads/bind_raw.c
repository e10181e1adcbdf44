/* bind_raw.c - the raw C API layer of the bindings family: the lifetime
 * family's Resource type (workloads/fixtures/resource.c) as it is, Py_INCREF
 * and Py_DECREF, a strong reference as C's way to keep an object, and a
 * PyCapsule as C's way to hand a resource to Python. */
#include "bindings.h"
#include "gbshim.h"

#include <Python.h>

static PyObject *
raw_cls(int holder)
{
    if (holder != BIND_HOLDER_DEFAULT) {
        PyErr_SetString(PyExc_ValueError, "the C API has no holders");
        return NULL;
    }
    return (PyObject *)res_type();
}

static void
raw_incref_spread(PyObject *const *objs, int n)
{
    for (int i = 0; i < n; i++) {
        Py_INCREF(objs[i]);
    }
    gbs_clobber_memory();
    for (int i = 0; i < n; i++) {
        Py_DECREF(objs[i]);
    }
}

/* The C API has no holder apart from the object: C keeps a reference of
 * its own (the reference figure for the C++ holders). Whether the resource
 * survived is read from the live counter, as the C++ layers do. */
static int64_t
raw_cpp_keeps(int holder, int64_t n)
{
    int64_t kept = 0;
    (void)holder;
    for (int64_t i = 0; i < n; i++) {
        PyObject *obj = PyObject_CallObject((PyObject *)res_type(), NULL);
        if (obj == NULL) {
            return -1;
        }
        PyObject *keep = obj;
        Py_INCREF(keep);
        int64_t live = res_get()->live;
        Py_DECREF(obj); /* Python's reference goes */
        kept += res_get()->live == live;
        Py_DECREF(keep);
    }
    return kept;
}

/* C's way to hand Python a resource it made: res_capsule_new acquires a
 * res_raw and gives it to a capsule, which C does not keep a handle to
 * beyond the call. */
static int64_t
raw_py_keeps(int holder, int64_t n)
{
    int64_t kept = 0;
    (void)holder;
    for (int64_t i = 0; i < n; i++) {
        int64_t live = res_get()->live;
        PyObject *capsule = res_capsule_new();
        if (capsule == NULL) {
            return -1;
        }
        kept += res_get()->live == live + 1;
        Py_DECREF(capsule);
    }
    return kept;
}

const bind_layer wl_bindings_raw = {
    .name = "raw",
    .library = BIND_RAW_LIBRARY,
    .cls = raw_cls,
    .raw_of = res_raw_of,
    .incref_spread = raw_incref_spread,
    .cpp_keeps = raw_cpp_keeps,
    .py_keeps = raw_py_keeps,
};
