/* bindings.h - what one binding layer gives the bindings family
 * (workloads/bindings.c): the raw C API (bind_raw.c), Boost.Python
 * (bind_boost.cc) and pybind11 (bind_pybind11.cc) each wrap the same counted
 * resource (workloads/fixtures/resource.h) and fill one bind_layer. The C++
 * layers are compiled only where CMake found the library for the interpreter;
 * it then defines PYMB_HAVE_BOOST_PYTHON or PYMB_HAVE_PYBIND11, and otherwise
 * PYMB_BOOST_PYTHON_SKIP / PYMB_PYBIND11_SKIP: why not, in one line.
 *
 * Layer functions never throw: a C++ exception becomes a Python exception.
 */
#ifndef PYMB_BINDINGS_H
#define PYMB_BINDINGS_H

#include "build_info.h" /* PYMB_HAVE_BOOST_PYTHON, PYMB_HAVE_PYBIND11 */
#include "gbshim.h"
#include "resource.h"

#include <Python.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a holder keeps the resource: a layer's default, or std::shared_ptr. */
enum { BIND_HOLDER_DEFAULT = 0, BIND_HOLDER_SHARED = 1, BIND_NHOLDERS = 2 };

typedef struct bind_layer {
    const char *name;    /* in case names: raw, boost, pybind11 */
    const char *library; /* for people: "the C API", "Boost.Python 1.74.0" */
    /* The class whose instances own one resource, for a holder (borrowed;
     * NULL with an exception when the layer has no such holder). Calling it
     * with no arguments acquires; methods fileno() and copy() (the block
     * as bytes), __enter__/__exit__ (release), and the buffer protocol
     * (memoryview(obj) is the block itself, read-only). */
    PyObject *(*cls)(int holder);
    /* The resource inside an instance of either class (borrowed), or NULL. */
    res_raw *(*raw_of)(PyObject *obj);
    /* One INCREF and one DECREF of each of objs[0..n) through the layer's
     * own API, all the INCREFs first. */
    void (*incref_spread)(PyObject *const *objs, int n);
    /* n times: an instance made by calling the class from C/C++, C/C++
     * keeps the resource (a shared_ptr; the raw layer a reference) and
     * drops the Python reference, then drops its own. Returns how many
     * times the resource was still open after the Python reference went,
     * or -1 with an exception. */
    int64_t (*cpp_keeps)(int holder, int64_t n);
    /* n times: C/C++ makes the resource (std::make_shared; the raw layer a
     * capsule), hands it to Python and drops its own handle; the Python
     * object is dropped last. Returns how many times the resource was
     * still open after C/C++'s handle went, or -1 with an exception. */
    int64_t (*py_keeps)(int holder, int64_t n);
    /* The seeds' context managers (shared/seeds, as users write them): a
     * manager owns a resource member, its __enter__ hands the member to
     * the with block in one of the BIND_SEED_* ways, its __exit__ releases
     * it. The class (borrowed), or NULL with an exception; NULL for a
     * layer without them (only Boost.Python has them). */
    PyObject *(*seed_manager)(int how);
    /* Since the process began: members copied into a new Python object,
     * and managers whose member saw no write() in their with block. */
    void (*seed_read)(int64_t *copies, int64_t *lost_writes);
    /* Boost.Python's numpy layer (NULL elsewhere): the BIND_NUMPY_* jobs
     * on C++ arrays of BIND_NUMPY_DOUBLES doubles, exposed to numpy with
     * boost::python::numpy::from_data and an owner object. BIND_NUMPY_INIT
     * (n unused; numpy imported first: npimport.h) returns 0, or -1 with an
     * exception; the others run n times and return how many iterations
     * behaved, or -1 with an exception. */
    int64_t (*numpy_run)(int job, int64_t n);
    /* C++ arrays alive now. */
    int64_t (*numpy_live)(void);
    /* Which holders each job has on a layer is said by the rows of
     * bindings.c's static table, not here. */
} bind_layer;

/* The numpy layer's jobs: INIT; VIEW, an ndarray over the C++ array that
 * the layer keeps (its data pointer is the C++ memory); COPY, that view's
 * ndarray.copy() (its data elsewhere, equal); OUTLIVES, a new C++ array
 * viewed, its C++ handle dropped first, read through the view, then the
 * view dropped (alive after the handle went, freed with the view). */
enum {
    BIND_NUMPY_INIT,
    BIND_NUMPY_VIEW,
    BIND_NUMPY_COPY,
    BIND_NUMPY_OUTLIVES
};
#define BIND_NUMPY_DOUBLES 512 /* 4 KiB, the resource's block size */

/* How a seed manager's __enter__ returns its member: boost::python::
 * object(member), a copy (the seeds' own code); the member itself under
 * return_internal_reference<>; or the std::shared_ptr that holds it. */
/* BIND_SEED_OFSTREAM: the seeds' FileManager, whose member owns an
 * std::ofstream (which cannot be copied, so object(member) does not
 * compile): M(path), __enter__ returns the member by reference
 * (return_internal_reference<>), f.write_data(s) writes, __exit__ closes. */
enum {
    BIND_SEED_COPY,
    BIND_SEED_INTERNAL_REF,
    BIND_SEED_SHARED,
    BIND_SEED_OFSTREAM,
    BIND_NSEEDS
};

/* The raw layer's library, for its bind_layer and its rows' docs. */
#define BIND_RAW_LIBRARY "the C API"

extern const bind_layer wl_bindings_raw;
#ifdef PYMB_HAVE_BOOST_PYTHON
extern const bind_layer wl_bindings_boost;
#endif
#ifdef PYMB_HAVE_PYBIND11
extern const bind_layer wl_bindings_pybind11;
#endif

/* C++ operator new and new[] (bind_newcount.cc replaces the global ones,
 * where a C++ layer is built: PYMB_HAVE_CXX_LAYER): calls and bytes while
 * counting is on, on the calling thread only. The aligned forms (no layer
 * uses an over-aligned type) are not counted. */
#if defined(PYMB_HAVE_BOOST_PYTHON) || defined(PYMB_HAVE_PYBIND11)
#define PYMB_HAVE_CXX_LAYER 1
void wl_bindings_new_count(int on);
void wl_bindings_new_read(uint64_t *calls, uint64_t *bytes);
#endif

#ifdef __cplusplus
}
#endif

#endif /* PYMB_BINDINGS_H */
