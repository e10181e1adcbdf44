/* bind_raw.c - the raw C API layer of the bindings family: the lifetime
 * family's Resource type (harness/resource.c) as it is, Py_INCREF and
 * Py_DECREF, a strong reference as C's way to keep an object, and a
 * PyCapsule as C's way to hand a resource to Python. */
#include "bindings.h"

#include <Python.h>

static PyObject *raw_cls(int holder)
{
    if (holder != BIND_HOLDER_DEFAULT) {
        PyErr_SetString(PyExc_ValueError, "the C API has no holders");
        return NULL;
    }
    return (PyObject *)res_type();
}

static void raw_incref_spread(PyObject *const *objs, int n)
{
    for (int i = 0; i < n; i++) {
        Py_INCREF(objs[i]);
    }
    for (int i = 0; i < n; i++) {
        Py_DECREF(objs[i]);
    }
}

/* C keeps a reference of its own: the object is the resource's only home. */
static int64_t raw_cpp_keeps(int holder, int64_t n)
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
        Py_DECREF(obj); /* Python's reference goes */
        kept += res_raw_of(keep)->open;
        Py_DECREF(keep);
    }
    return kept;
}

/* The capsule owns the resource from its birth; C keeps no handle, so
 * "after C's handle went" is right after the capsule is made. */
static int64_t raw_py_keeps(int holder, int64_t n)
{
    int64_t kept = 0;
    (void)holder;
    for (int64_t i = 0; i < n; i++) {
        PyObject *capsule = res_capsule_new();
        if (capsule == NULL) {
            return -1;
        }
        const res_raw *r = PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
        kept += r != NULL && r->open;
        Py_DECREF(capsule);
    }
    return kept;
}

const bind_layer bind_raw_layer = {
    .name = "raw",
    .library = "the C API",
    .cls = raw_cls,
    .raw_of = res_raw_of,
    .incref_spread = raw_incref_spread,
    .cpp_keeps = raw_cpp_keeps,
    .py_keeps = raw_py_keeps,
    .holders = 1u << BIND_HOLDER_DEFAULT,
    .cpp_keeps_holders = 1u << BIND_HOLDER_DEFAULT,
    .py_keeps_holders = 1u << BIND_HOLDER_DEFAULT,
    .counts_exports = 1,
};
