/* pyloop.h - a compiled Python snippet driven in batches. The snippet
 * defines a function fn(n, *extra) (usually `bench`), which runs n loop bodies
 * per call and returns a value the case's check verifies; one call covers n
 * iterations, so the call's own cost is amortised (as timeit does).
 */
#ifndef PYMB_PYLOOP_H
#define PYMB_PYLOOP_H

#include "gbshim.h"

#include <Python.h>
#include <stdint.h>

typedef struct pyloop {
    PyObject *fn;     /* owned: the snippet's function */
    PyObject *args;   /* owned: (n, *extra) */
    PyObject *last;   /* owned or NULL: the last call's result */
    int64_t per_call; /* n */
} pyloop;

/* Compile `src` (extra globals from the dict `ns`, borrowed, may be NULL)
 * and prepare calls name(per_call, *extra); `extra` is a borrowed tuple or
 * NULL. 0, or -1 with a Python exception set. */
int pyloop_init(pyloop *l, const char *src, const char *name, PyObject *ns,
                int64_t per_call, PyObject *extra);
/* The timed loop: one call per batch of per_call iterations. On an
 * exception the row gets the error (pmb_run_error) and the loop stops. */
void pyloop_run(pyloop *l, gbs_state *st);
/* One untimed call; returns a new reference or NULL with an exception. */
PyObject *pyloop_call(pyloop *l);
/* Release everything; safe on a zeroed or cleared pyloop. */
void pyloop_clear(pyloop *l);

#endif /* PYMB_PYLOOP_H */
