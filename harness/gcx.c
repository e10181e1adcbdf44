/* gcx.c - the gc module from C (see gcx.h). */
#include "gcx.h"

#include "pyx.h"

#include <stdio.h>

static PyObject *gc_module; /* owned; lives until exit */

int
gcx_init(void)
{
    if (gc_module == NULL) {
        gc_module = PyImport_ImportModule("gc");
    }
    return gc_module != NULL ? 0 : -1;
}

/* gc.<name>(*args); new reference or NULL. */
static PyObject *
gc_call(const char *name, const char *fmt, long a, long b, long c)
{
    if (gc_module == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "gcx_init() was not called");
        return NULL;
    }
    PyObject *fn = PyObject_GetAttrString(gc_module, name);
    if (fn == NULL) {
        return NULL;
    }
    PyObject *r = fmt != NULL ? PyObject_CallFunction(fn, fmt, a, b, c)
                              : PyObject_CallObject(fn, NULL);
    Py_DECREF(fn);
    return r;
}

/* Call, drop the result; 0 or -1. */
static int
gc_do(const char *name, const char *fmt, long a, long b, long c)
{
    PyObject *r = gc_call(name, fmt, a, b, c);
    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

Py_ssize_t
gcx_collect(int generation)
{
    PyObject *r = gc_call("collect", "(l)", generation, 0, 0);
    if (r == NULL) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(r);
    Py_DECREF(r);
    return n;
}

/* stats[field] from one gc.get_stats() entry; 0 or -1. */
static int
stat_field(PyObject *entry, const char *field, int64_t *out)
{
    PyObject *v = PyDict_GetItemString(entry, field); /* borrowed */
    if (v == NULL) {
        PyErr_Format(PyExc_KeyError, "gc.get_stats() has no '%s'", field);
        return -1;
    }
    *out = PyLong_AsLongLong(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

int
gcx_stats_read(gcx_stats *out)
{
    int rc = -1;
    PyObject *list = gc_call("get_stats", NULL, 0, 0, 0);
    if (list == NULL) {
        goto error;
    }
    if (!PyList_Check(list) || PyList_GET_SIZE(list) < GCX_GENERATIONS) {
        PyErr_SetString(PyExc_TypeError,
                        "gc.get_stats() is not a list of 3 generations");
        goto error;
    }
    for (int g = 0; g < GCX_GENERATIONS; g++) {
        PyObject *e = PyList_GET_ITEM(list, g);
        if (!PyDict_Check(e) ||
            stat_field(e, "collections", &out->collections[g]) < 0 ||
            stat_field(e, "collected", &out->collected[g]) < 0 ||
            stat_field(e, "uncollectable", &out->uncollectable[g]) < 0) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError,
                                "gc.get_stats() entry is not a dict");
            }
            goto error;
        }
    }
    rc = 0;
error:
    Py_XDECREF(list);
    return rc;
}

void
gcx_stats_sub(gcx_stats *out, const gcx_stats *a, const gcx_stats *b)
{
    for (int g = 0; g < GCX_GENERATIONS; g++) {
        out->collections[g] = a->collections[g] - b->collections[g];
        out->collected[g] = a->collected[g] - b->collected[g];
        out->uncollectable[g] = a->uncollectable[g] - b->uncollectable[g];
    }
}

int64_t
gcx_total_collections(const gcx_stats *s)
{
    return s->collections[0] + s->collections[1] + s->collections[2];
}

int64_t
gcx_total_collected(const gcx_stats *s)
{
    return s->collected[0] + s->collected[1] + s->collected[2];
}

/* len(gc.<name>) or len(gc.<name>()); -1 with an exception. */
static Py_ssize_t
gc_len(const char *name, int call)
{
    PyObject *o = call || gc_module == NULL
                      ? gc_call(name, NULL, 0, 0, 0)
                      : PyObject_GetAttrString(gc_module, name);
    if (o == NULL) {
        return -1;
    }
    Py_ssize_t n = PyObject_Size(o);
    Py_DECREF(o);
    return n;
}

Py_ssize_t
gcx_tracked(void)
{
    return gc_len("get_objects", 1);
}

Py_ssize_t
gcx_garbage_len(void)
{
    return gc_len("garbage", 0);
}

Py_ssize_t
gcx_frozen(void)
{
    PyObject *r = gc_call("get_freeze_count", NULL, 0, 0, 0);
    if (r == NULL) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(r);
    Py_DECREF(r);
    return n;
}

long
gcx_threshold0(void)
{
    PyObject *t = gc_call("get_threshold", NULL, 0, 0, 0);
    if (t == NULL) {
        return -1;
    }
    long v = -1;
    if (PyTuple_Check(t) && PyTuple_GET_SIZE(t) >= 1) {
        v = PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
    }
    else {
        PyErr_SetString(PyExc_TypeError, "gc.get_threshold() is not a tuple");
    }
    Py_DECREF(t);
    return v;
}

int
gcx_set_threshold(long t0, long t1, long t2)
{
    return gc_do("set_threshold", "(lll)", t0, t1, t2);
}

int
gcx_enable(int on)
{
    return gc_do(on ? "enable" : "disable", NULL, 0, 0, 0);
}

int
gcx_freeze(int on)
{
    return gc_do(on ? "freeze" : "unfreeze", NULL, 0, 0, 0);
}

int
gcx_save(gcx_saved *s)
{
    int rc = -1;
    PyObject *t = NULL;

    s->valid = 0;
    t = gc_call("isenabled", NULL, 0, 0, 0);
    if (t == NULL || (s->enabled = PyObject_IsTrue(t)) < 0) {
        goto error;
    }
    Py_CLEAR(t);
    t = gc_call("get_threshold", NULL, 0, 0, 0);
    if (t == NULL) {
        goto error;
    }
    if (!PyArg_ParseTuple(t, "lll", &s->threshold[0], &s->threshold[1],
                          &s->threshold[2])) {
        goto error;
    }
    s->valid = 1;
    rc = 0;
error:
    Py_XDECREF(t);
    return rc;
}

static void
report_restore(const char *step)
{
    char text[256];
    pyx_error_text(text, sizeof(text));
    fprintf(stderr,
            "pymembench: cannot restore the collector's settings (%s): %s\n",
            step, text);
}

void
gcx_restore(gcx_saved *s)
{
    if (!s->valid) {
        return;
    }
    s->valid = 0;
    /* each step on its own: one failing must not skip the others */
    if (gcx_freeze(0) < 0) {
        report_restore("unfreeze");
    }
    if (gcx_enable(s->enabled) < 0) {
        report_restore("enable/disable");
    }
    if (gcx_set_threshold(s->threshold[0], s->threshold[1], s->threshold[2]) <
        0) {
        report_restore("set_threshold");
    }
}
