/* resource.h - a C resource (a heap block and a duplicated file descriptor
 * of one unlinked temporary file) and the ways Python can own one: the
 * extension type Resource with __enter__/__exit__ written in C, and a
 * PyCapsule whose destructor releases it. Every acquire and release is
 * counted, so checks can prove each resource was released exactly once.
 *
 * Ownership: a res_raw is owned by whoever acquired it; a Resource object
 * owns its res_raw and releases it in release(), __exit__ or, failing
 * those, its deallocation (counted apart as released_by_dealloc).
 */
#ifndef PYMB_RESOURCE_H
#define PYMB_RESOURCE_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>

typedef struct res_raw {
    void *block; /* malloc'ed, RES_BLOCK_SIZE bytes, first byte touched */
    int fd;      /* dup() of the shared temporary file */
    int open;
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

/* A new dict {"Resource": type, "capsule": function returning a capsule
 * that owns a resource} to give to snippets as globals; NULL with an
 * exception. Resource(suppress=False): __exit__ returns `suppress`. */
PyObject *res_namespace(void);

#endif /* PYMB_RESOURCE_H */
