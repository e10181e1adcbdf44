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

void exporter_reset(void)
{
    int64_t live = counts.live;
    memset(&counts, 0, sizeof(counts));
    counts.live = live;
}

/* PyBuffer_FillInfo refuses a writable request on read-only memory with
 * BufferError; that refusal is counted, no export is. */
static int exporter_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    ExporterObject *self = (ExporterObject *)op;
    if (PyBuffer_FillInfo(view, op, self->data, self->len, self->readonly, flags) < 0) {
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
    counts.releases++;
    counts.live--;
}

static PyBufferProcs exporter_as_buffer = {
    .bf_getbuffer = exporter_getbuffer,
    .bf_releasebuffer = exporter_releasebuffer,
};

/* A zeroed Exporter of `len` bytes; NULL with an exception. */
static PyObject *exporter_alloc(PyTypeObject *type, Py_ssize_t len, int readonly)
{
    if (len < 0) {
        PyErr_SetString(PyExc_ValueError, "Exporter size must be >= 0");
        return NULL;
    }
    ExporterObject *self = (ExporterObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->data = ownmem_alloc((size_t)len);
    if (self->data == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->len = len;
    self->readonly = readonly;
    return (PyObject *)self;
}

static PyObject *exporter_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"size", "readonly", NULL};
    Py_ssize_t size;
    int readonly = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|p:Exporter", kwlist, &size, &readonly)) {
        return NULL;
    }
    return exporter_alloc(type, size, readonly);
}

static void exporter_dealloc(PyObject *op)
{
    ExporterObject *self = (ExporterObject *)op;
    ownmem_free(self->data); /* no export is live: each holds a reference */
    Py_TYPE(op)->tp_free(op);
}

static PyObject *exporter_get_exports(PyObject *op, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(((ExporterObject *)op)->exports);
}

static PyGetSetDef exporter_getset[] = {
    {"exports", exporter_get_exports, NULL, "live exports of this object", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject exporter_tp = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pymembench.Exporter",
    .tp_basicsize = sizeof(ExporterObject),
    .tp_dealloc = exporter_dealloc,
    .tp_as_buffer = &exporter_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "memory exported through the buffer protocol, every export counted",
    .tp_getset = exporter_getset,
    .tp_new = exporter_tp_new,
};

int exporter_init(void)
{
    return PyType_Ready(&exporter_tp);
}

PyObject *exporter_type(void) { return (PyObject *)&exporter_tp; }

PyObject *exporter_new(const void *data, Py_ssize_t len, int readonly)
{
    if (exporter_init() < 0) {
        return NULL;
    }
    PyObject *e = exporter_alloc(&exporter_tp, len, readonly);
    if (e != NULL && len > 0) {
        memcpy(((ExporterObject *)e)->data, data, (size_t)len);
    }
    return e;
}

char *exporter_data(PyObject *exporter) { return ((ExporterObject *)exporter)->data; }

Py_ssize_t exporter_exports(PyObject *exporter) { return ((ExporterObject *)exporter)->exports; }
