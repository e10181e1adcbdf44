/* exporter.c - the counting buffer exporter; see exporter.h. */
#include "exporter.h"

#include "ownmem.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    char *data; /* owned, from ownmem */
    Py_ssize_t len;
    int readonly;
    Py_ssize_t exports; /* this object's live exports */
} ExporterObject;

static exporter_counts counts;

const exporter_counts *exporter_get(void) { return &counts; }

/* PyBuffer_FillInfo refuses a writable request on read-only memory with
 * BufferError; that refusal is counted, no export is, and view->obj is
 * left NULL as the protocol asks. */
static int exporter_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    ExporterObject *self = (ExporterObject *)op;
    if (PyBuffer_FillInfo(view, op, self->data, self->len, self->readonly, flags) < 0) {
        if (view != NULL) {
            view->obj = NULL;
        }
        counts.refused++;
        return -1;
    }
    self->exports++;
    counts.gets++;
    counts.live++;
    return 0;
}

static void exporter_releasebuffer(PyObject *op, Py_buffer *view)
{
    (void)view;
    ((ExporterObject *)op)->exports--;
    counts.live--;
}

static PyBufferProcs exporter_as_buffer = {
    .bf_getbuffer = exporter_getbuffer,
    .bf_releasebuffer = exporter_releasebuffer,
};

static void exporter_dealloc(PyObject *op)
{
    ExporterObject *self = (ExporterObject *)op;
    ownmem_free(self->data); /* no export is live: each holds a reference */
    PyObject_Free(op);
}

static PyTypeObject exporter_tp = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pymembench.Exporter",
    .tp_basicsize = sizeof(ExporterObject),
    .tp_dealloc = exporter_dealloc,
    .tp_as_buffer = &exporter_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "memory exported through the buffer protocol, every export counted",
};

PyObject *exporter_new(const void *data, Py_ssize_t len, int readonly)
{
    if (len < 0) {
        PyErr_SetString(PyExc_ValueError, "an Exporter's size must be >= 0");
        return NULL;
    }
    if (PyType_Ready(&exporter_tp) < 0) { /* returns at once when ready */
        return NULL;
    }
    ExporterObject *self = PyObject_New(ExporterObject, &exporter_tp);
    if (self == NULL) {
        return NULL;
    }
    self->data = ownmem_alloc((size_t)len);
    if (self->data == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (len > 0) {
        memcpy(self->data, data, (size_t)len);
    }
    self->len = len;
    self->readonly = readonly;
    self->exports = 0;
    return (PyObject *)self;
}

char *exporter_data(PyObject *exporter) { return ((ExporterObject *)exporter)->data; }

Py_ssize_t exporter_exports(PyObject *exporter) { return ((ExporterObject *)exporter)->exports; }
