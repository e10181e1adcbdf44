/* resource.c - the counted C resource and its owners (see resource.h). */
#include "resource.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tmp_fd = -1; /* the unlinked temporary file every resource dup()s */
static res_counts counts;

typedef struct {
    PyObject_HEAD
    res_raw raw;
    int suppress;          /* what __exit__ returns */
    PyObject *weakreflist; /* weakref.finalize and weakref.ref work on it */
} ResourceObject;

const res_counts *res_get(void) { return &counts; }

void res_reset(void)
{
    int64_t live = counts.live;
    memset(&counts, 0, sizeof(counts));
    counts.live = live;
}

int res_acquire(res_raw *r)
{
    r->open = 0;
    r->exports = 0;
    r->block = malloc(RES_BLOCK_SIZE);
    if (r->block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ((volatile char *)r->block)[0] = 1;
    r->fd = dup(tmp_fd);
    if (r->fd < 0) {
        free(r->block);
        r->block = NULL;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    r->open = 1;
    counts.acquired++;
    counts.live++;
    return 0;
}

void res_release(res_raw *r)
{
    if (!r->open) {
        counts.double_releases++;
        return;
    }
    close(r->fd);
    free(r->block);
    r->fd = -1;
    r->block = NULL;
    r->open = 0;
    counts.released++;
    counts.live--;
}

void res_release_by_dealloc(res_raw *r)
{
    if (r->open) {
        res_release(r);
        counts.released_by_dealloc++;
    }
}

/* release() and __exit__ refuse while a view of the block is alive. */
static int refuse_exported(const res_raw *r)
{
    if (r->exports > 0) {
        PyErr_Format(PyExc_BufferError, "resource has %d buffer view(s) alive", r->exports);
        return -1;
    }
    return 0;
}

int res_release_checked(res_raw *r)
{
    if (refuse_exported(r) < 0) {
        return -1;
    }
    if (!r->open) {
        counts.double_releases++;
        PyErr_SetString(PyExc_RuntimeError, "resource released twice");
        return -1;
    }
    res_release(r);
    return 0;
}

int res_exit(res_raw *r, int with_exception, int suppress)
{
    if (refuse_exported(r) < 0) {
        return -1;
    }
    counts.exits++;
    res_release(r);
    if (with_exception) {
        counts.exits_with_exception++;
        if (suppress) {
            counts.suppressed++;
        }
    }
    return 0;
}

/* --- the Resource type ----------------------------------------------------- */

static PyObject *resource_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"suppress", NULL};
    int suppress = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:Resource", kwlist, &suppress)) {
        return NULL;
    }
    ResourceObject *self = (ResourceObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->suppress = suppress;
    self->weakreflist = NULL;
    if (res_acquire(&self->raw) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void resource_dealloc(PyObject *op)
{
    ResourceObject *self = (ResourceObject *)op;
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs(op);
    }
    res_release_by_dealloc(&self->raw);
    Py_TYPE(op)->tp_free(op);
}

/* release(): raises RuntimeError (and counts it) on a second release. */
static PyObject *resource_release(PyObject *op, PyObject *unused)
{
    (void)unused;
    if (res_release_checked(&((ResourceObject *)op)->raw) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *resource_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    Py_INCREF(op);
    return op;
}

/* __exit__(type, value, tb): releases; returns `suppress` (True swallows
 * the exception, False lets it propagate). */
static PyObject *resource_exit(PyObject *op, PyObject *args)
{
    ResourceObject *self = (ResourceObject *)op;
    PyObject *type, *value, *tb;
    if (!PyArg_UnpackTuple(args, "__exit__", 3, 3, &type, &value, &tb)) {
        return NULL;
    }
    if (res_exit(&self->raw, type != Py_None, self->suppress) < 0) {
        return NULL;
    }
    return PyBool_FromLong(self->suppress);
}

static PyObject *resource_fileno(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(((ResourceObject *)op)->raw.fd);
}

/* copy(): the block as a new bytes object (ValueError once released). */
static PyObject *resource_copy(PyObject *op, PyObject *unused)
{
    (void)unused;
    const res_raw *r = &((ResourceObject *)op)->raw;
    if (!r->open) {
        PyErr_SetString(PyExc_ValueError, "resource is released");
        return NULL;
    }
    return PyBytes_FromStringAndSize(r->block, RES_BLOCK_SIZE);
}

int res_export_check(const res_raw *r)
{
    if (r == NULL || !r->open) {
        PyErr_SetString(PyExc_ValueError, "not an open resource");
        return -1;
    }
    return 0;
}

int res_getbuffer(res_raw *r, PyObject *exporter, Py_buffer *view, int flags)
{
    if (res_export_check(r) < 0 ||
        PyBuffer_FillInfo(view, exporter, r->block, RES_BLOCK_SIZE, 1, flags) < 0) {
        return -1;
    }
    r->exports++;
    return 0;
}

void res_releasebuffer(res_raw *r)
{
    if (r != NULL) {
        r->exports--;
    }
}

/* The buffer protocol: the block itself, read-only; counted in exports. */
static int resource_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    return res_getbuffer(&((ResourceObject *)op)->raw, op, view, flags);
}

static void resource_releasebuffer(PyObject *op, Py_buffer *view)
{
    (void)view;
    res_releasebuffer(&((ResourceObject *)op)->raw);
}

static PyBufferProcs resource_as_buffer = {
    .bf_getbuffer = resource_getbuffer,
    .bf_releasebuffer = resource_releasebuffer,
};

static PyObject *resource_closed(PyObject *op, void *closure)
{
    (void)closure;
    return PyBool_FromLong(!((ResourceObject *)op)->raw.open);
}

static PyMethodDef resource_methods[] = {
    {"release", resource_release, METH_NOARGS, "release the block and the descriptor"},
    {"__enter__", resource_enter, METH_NOARGS, "return self"},
    {"__exit__", resource_exit, METH_VARARGS, "release; return the suppress flag"},
    {"fileno", resource_fileno, METH_NOARGS, "the file descriptor"},
    {"copy", resource_copy, METH_NOARGS, "the block as bytes (a copy)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef resource_getset[] = {
    {"closed", resource_closed, NULL, "True once released", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject resource_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pymembench.Resource",
    .tp_basicsize = sizeof(ResourceObject),
    .tp_dealloc = resource_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a heap block and a file descriptor, released exactly once",
    .tp_weaklistoffset = offsetof(ResourceObject, weakreflist),
    .tp_as_buffer = &resource_as_buffer,
    .tp_methods = resource_methods,
    .tp_getset = resource_getset,
    .tp_new = resource_new,
};

/* --- the capsule owner ------------------------------------------------------ */

#define CAPSULE_NAME "pymembench.resource"

static void capsule_destroy(PyObject *capsule)
{
    res_raw *r = PyCapsule_GetPointer(capsule, CAPSULE_NAME);
    if (r == NULL) {
        PyErr_WriteUnraisable(capsule);
        return;
    }
    res_release_by_dealloc(r);
    free(r);
}

PyObject *res_capsule_new(void)
{
    res_raw *r = malloc(sizeof(*r));
    if (r == NULL) {
        return PyErr_NoMemory();
    }
    if (res_acquire(r) < 0) {
        free(r);
        return NULL;
    }
    PyObject *c = PyCapsule_New(r, CAPSULE_NAME, capsule_destroy);
    if (c == NULL) {
        res_release(r);
        free(r);
    }
    return c;
}

static PyObject *make_capsule(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return res_capsule_new();
}

static PyMethodDef capsule_def = {"capsule", make_capsule, METH_NOARGS,
                                  "a PyCapsule owning a resource; its destructor releases it"};

/* --- set-up ------------------------------------------------------------------ */

int res_init(void)
{
    if (tmp_fd >= 0) {
        return 0;
    }
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/pymembench-resource-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        return -1;
    }
    unlink(path);
    if (PyType_Ready(&resource_type) < 0) {
        close(fd);
        return -1;
    }
    tmp_fd = fd;
    return 0;
}

PyTypeObject *res_type(void) { return &resource_type; }

res_raw *res_raw_of(PyObject *op)
{
    if (!PyObject_TypeCheck(op, &resource_type)) {
        return NULL;
    }
    return &((ResourceObject *)op)->raw;
}

PyObject *res_namespace(void)
{
    PyObject *ns = NULL, *fn = NULL;
    if (res_init() < 0) {
        goto error;
    }
    ns = PyDict_New();
    fn = PyCFunction_New(&capsule_def, NULL);
    if (ns == NULL || fn == NULL ||
        PyDict_SetItemString(ns, "Resource", (PyObject *)&resource_type) < 0 ||
        PyDict_SetItemString(ns, "capsule", fn) < 0) {
        goto error;
    }
    Py_DECREF(fn);
    return ns;
error:
    Py_XDECREF(fn);
    Py_XDECREF(ns);
    return NULL;
}
