/* exporter.h - Exporter, a C type that exports memory it owns through the
 * buffer protocol (PEP 3118), read-only or writable, and counts every
 * export, so checks can prove how many views were taken and that every one
 * was released.
 *
 * Ownership: an Exporter owns its memory (from ownmem, outside every
 * allocator under test). A Py_buffer filled from it holds a strong
 * reference to it (view->obj), so the memory outlives every export; the
 * export ends at PyBuffer_Release.
 */
#ifndef PYMB_EXPORTER_H
#define PYMB_EXPORTER_H

#include <Python.h>
#include <stdint.h>

typedef struct exporter_counts {
    int64_t gets;     /* successful bf_getbuffer calls */
    int64_t refused;  /* requests refused (a writable view of a read-only one) */
    int64_t live;     /* exports not yet released, over every Exporter */
} exporter_counts;

/* A new Exporter holding a copy of data[0:len]; NULL with an exception. */
PyObject *exporter_new(const void *data, Py_ssize_t len, int readonly);
/* Its memory (borrowed, lives as long as the object), and its live exports. */
char *exporter_data(PyObject *exporter);
Py_ssize_t exporter_exports(PyObject *exporter);

/* Counters over every Exporter, since the process started. */
const exporter_counts *exporter_get(void);

#endif /* PYMB_EXPORTER_H */
