/* resource.h - a C resource (a heap block and a duplicated file descriptor
 * of one unlinked temporary file) and the ways Python can own one: the
 * extension type Resource with __enter__/__exit__ written in C, and a
 * PyCapsule whose destructor releases it. Every acquire and release is
 * counted, so checks can prove each resource was released exactly once.
 * The bindings family wraps the same res_raw in C++ (Boost.Python,
 * pybind11), so every layer is counted by the same counters.
 *
 * Ownership: a res_raw is owned by whoever acquired it; a Resource object
 * owns its res_raw and releases it in release(), __exit__ or, failing
 * those, its deallocation (counted apart as released_by_dealloc). While a
 * buffer export is alive (exports > 0) release() and __exit__ refuse with
 * BufferError: the block stays valid under every view.
 */
#ifndef PYMB_RESOURCE_H
#define PYMB_RESOURCE_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the bindings family's C++ layers use it too */
#endif

typedef struct res_raw {
    void *block; /* malloc'ed, RES_BLOCK_SIZE bytes, first byte touched */
    int fd;      /* dup() of the shared temporary file */
    int open;
    int exports; /* buffer views alive on the block */
} res_raw;

#define RES_BLOCK_SIZE 4096

typedef struct res_counts {
    int64_t acquired;
    int64_t released;
    int64_t live;                /* acquired - released */
    int64_t double_releases;     /* release of a resource already released */
    int64_t released_by_dealloc; /* released by a deallocation (object, capsule) */
    int64_t exits;               /* __exit__ calls */
    int64_t exits_with_exception;
    int64_t suppressed;          /* __exit__ calls that returned True for an exception */
} res_counts;

/* Open the temporary file and ready the type; 0, or -1 with an exception.
 * Idempotent. */
int res_init(void);
/* The counters; res_reset zeroes all but `live`, which never forgets. */
const res_counts *res_get(void);
void res_reset(void);

/* The bare C resource: the physical reference. 0, or -1 with an exception. */
int res_acquire(res_raw *r);
void res_release(res_raw *r);
/* A deallocation (object, capsule, C++ destructor) releasing what is still
 * open: releases and counts released_by_dealloc. */
void res_release_by_dealloc(res_raw *r);
/* release() and __exit__ for every layer: BufferError while views are
 * alive (-1); otherwise releases (a second release is counted and raises
 * RuntimeError for release(); __exit__ counts the call and whether it saw
 * an exception). 0, or -1 with an exception. */
int res_release_checked(res_raw *r);
int res_exit(res_raw *r, int with_exception, int suppress);

/* Buffer exports of the block, for every layer: res_export_check is 0 for
 * an open resource (else -1 with ValueError); res_getbuffer fills a
 * read-only view of the block for `exporter` and counts it in exports;
 * res_releasebuffer uncounts one. r may be NULL (not a resource). */
int res_export_check(const res_raw *r);
int res_getbuffer(res_raw *r, PyObject *exporter, Py_buffer *view, int flags);
void res_releasebuffer(res_raw *r);

/* The Resource type, borrowed (after res_init), and the res_raw inside one
 * of its objects (NULL when `op` is not one). */
PyTypeObject *res_type(void);
res_raw *res_raw_of(PyObject *op);
/* A new PyCapsule owning a new resource (its destructor releases it), or
 * NULL with an exception. */
PyObject *res_capsule_new(void);

/* A new dict {"Resource": type, "capsule": function returning a capsule
 * that owns a resource} to give to snippets as globals; NULL with an
 * exception. Resource(suppress=False): __exit__ returns `suppress`;
 * r.fileno() its descriptor; r.copy() its block as bytes; memoryview(r)
 * the block itself, read-only, without a copy. */
PyObject *res_namespace(void);

#ifdef __cplusplus
}
#endif

#endif /* PYMB_RESOURCE_H */
