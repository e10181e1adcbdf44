/* pyloop.c - batched calls of a compiled Python snippet (see pyloop.h). */
#include "pyloop.h"

#include "cases.h"
#include "pyx.h"

int
pyloop_init(pyloop *l, const char *src, const char *name, PyObject *ns,
            int64_t per_call, PyObject *extra)
{
    PyObject *n = NULL;
    Py_ssize_t nextra = extra != NULL ? PyTuple_GET_SIZE(extra) : 0;

    pyloop_clear(l);
    l->per_call = per_call;
    l->fn = pyx_compile_function_ns(src, name, ns);
    if (l->fn == NULL) {
        goto error;
    }
    n = PyLong_FromLongLong(per_call);
    if (n == NULL) {
        goto error;
    }
    l->args = PyTuple_New(1 + nextra);
    if (l->args == NULL) {
        goto error;
    }
    PyTuple_SET_ITEM(l->args, 0, n); /* stolen */
    n = NULL;
    for (Py_ssize_t i = 0; i < nextra; i++) {
        PyObject *item = PyTuple_GET_ITEM(extra, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(l->args, 1 + i, item);
    }
    return 0;
error:
    Py_XDECREF(n);
    pyloop_clear(l);
    return -1;
}

PyObject *
pyloop_call(pyloop *l)
{
    return PyObject_Call(l->fn, l->args, NULL);
}

void
pyloop_run(pyloop *l, gbs_state *st)
{
    while (gbs_keep_running_batch(st, l->per_call)) {
        PyObject *r = PyObject_Call(l->fn, l->args, NULL);
        if (r == NULL) {
            pmb_run_error(st);
            return;
        }
        Py_XSETREF(l->last, r);
    }
}

void
pyloop_clear(pyloop *l)
{
    Py_CLEAR(l->fn);
    Py_CLEAR(l->args);
    Py_CLEAR(l->last);
    l->per_call = 0;
}
