// pybind11-oom.cc - does pybind11 survive a failed allocation of a new
// instance? A reproducer, outside pymembench, of the crashes `make stress`
// finds in the bindings family's pybind11 rows (scripts/repro/known.json,
// pybind11-instance-alloc-null).
//
// pybind11's make_new_instance (detail/class.h) calls type->tp_alloc and
// then allocate_layout() on the result without checking it: when the
// allocation fails it dereferences NULL. This program embeds Python,
// defines one py::class_, makes the next object allocation fail (a
// PEP 445 allocator that fails once) and constructs an instance: a fixed
// pybind11 raises MemoryError, 2.10.3 dies of SIGSEGV.
//
// Build and run (Debian's python3.11 and pybind11-dev):
//   g++ -O1 -g $(python3.11-config --includes) scripts/repro/pybind11-oom.cc \
//       $(python3.11-config --embed --ldflags) -o /tmp/pybind11-oom
//   /tmp/pybind11-oom; echo "exit $?"
// Prints "MemoryError: pybind11 handled the failed allocation" and exits 0,
// or dies of SIGSEGV (exit 139 from a shell).
#include <pybind11/embed.h>

#include <cstdio>

namespace py = pybind11;

struct Thing {
    int value = 1;
};

static PyMemAllocatorEx original;
static int fail_next; // fail the next object allocation, once

static void *
failing_malloc(void *ctx, size_t size)
{
    if (fail_next) {
        fail_next = 0;
        return nullptr;
    }
    return original.malloc(ctx, size);
}

static void *
failing_calloc(void *ctx, size_t n, size_t size)
{
    if (fail_next) {
        fail_next = 0;
        return nullptr;
    }
    return original.calloc(ctx, n, size);
}

static void *
plain_realloc(void *ctx, void *p, size_t size)
{
    return original.realloc(ctx, p, size);
}

static void
plain_free(void *ctx, void *p)
{
    original.free(ctx, p);
}

PYBIND11_EMBEDDED_MODULE(oom, m)
{
    py::class_<Thing>(m, "Thing").def(py::init<>());
}

int
main()
{
    py::scoped_interpreter guard;
    py::object cls = py::module_::import("oom").attr("Thing");
    py::object warm = cls(); // every lazy table is made before the fault
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &original);
    PyMemAllocatorEx failing = {original.ctx, failing_malloc, failing_calloc,
                                plain_realloc, plain_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &failing);
    fail_next = 1;
    PyObject *made = PyObject_CallNoArgs(cls.ptr()); // tp_alloc fails here
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &original);
    if (made == nullptr && PyErr_ExceptionMatches(PyExc_MemoryError)) {
        PyErr_Clear();
        std::printf("MemoryError: pybind11 handled the failed allocation\n");
        return 0;
    }
    std::printf("no MemoryError (made %p): the allocation did not fail where "
                "expected\n",
                static_cast<void *>(made));
    Py_XDECREF(made);
    PyErr_Clear();
    return 1;
}
