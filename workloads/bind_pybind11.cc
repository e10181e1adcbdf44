// bind_pybind11.cc - the pybind11 layer of the bindings family: the C++
// resource (bind_resource.hh) as a py::class_ with pybind11's default
// holder (std::unique_ptr: the object is a separate new) and with
// std::shared_ptr, the buffer through def_buffer.
//
// Ownership: the module and both class objects are created once and kept
// for the life of the process (borrowed from then on). def_buffer has no
// release hook, and pybind11 2.10 lets a C++ exception thrown in it escape
// into CPython; so pybind11's own bf_getbuffer/bf_releasebuffer are wrapped:
// the wrapper refuses a released resource before def_buffer runs and counts
// the view in res_raw.exports, as the other layers do.
#include "bind_resource.hh"

#include <pybind11/pybind11.h>

#include <exception>
#include <memory>

namespace py = pybind11;

namespace {

using Unique = CppResource<py::error_already_set, 0>;
using Shared = CppResource<py::error_already_set, 1>;

PyObject *classes[BIND_NHOLDERS]; // borrowed from the module, once made

// A C++ exception back into a Python one, for callers in C.
void
to_python_error()
{
    try {
        throw;
    } catch (py::error_already_set &e) {
        e.restore();
    } catch (const std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError,
                        "unknown C++ exception in the pybind11 layer");
    }
}

// The C++ object inside an instance of our (single-base) classes, found as
// pybind11's own caster finds it, without a type lookup; NULL before
// __init__ ran.
template <class T>
T *
value_of(PyObject *self)
{
    auto *inst = reinterpret_cast<py::detail::instance *>(self);
    return static_cast<T *>(inst->get_value_and_holder().value_ptr());
}

template <class T>
res_raw *
raw_of(PyObject *self)
{
    T *r = value_of<T>(self);
    return r != nullptr ? &r->raw() : nullptr;
}

template <class T>
int
counted_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    res_raw *r = raw_of<T>(self);
    if (res_export_check(r) < 0 ||
        py::detail::pybind11_getbuffer(self, view, flags) < 0) {
        return -1;
    }
    r->exports++;
    return 0;
}

template <class T>
void
counted_releasebuffer(PyObject *self, Py_buffer *view)
{
    py::detail::pybind11_releasebuffer(self, view);
    res_releasebuffer(raw_of<T>(self));
}

template <class T, class Holder>
PyObject *
define(py::module_ &m, const char *name)
{
    py::class_<T, Holder> cls(m, name, py::buffer_protocol());
    cls.def(py::init<>())
        .def("fileno", &T::fileno)
        .def("copy",
             [](const T &r) { return py::bytes(r.block(), RES_BLOCK_SIZE); })
        .def("release", &T::release)
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](T &r, py::object type, py::object,
                            py::object) { return r.exit(!type.is_none()); })
        // counted_getbuffer made sure the resource is open: block() cannot
        // throw
        .def_buffer([](T &r) {
            return py::buffer_info(r.raw().block, 1,
                                   py::format_descriptor<
                                       unsigned char>::format(),
                                   RES_BLOCK_SIZE, true);
        });
    PyTypeObject *type = reinterpret_cast<PyTypeObject *>(cls.ptr());
    type->tp_as_buffer->bf_getbuffer = counted_getbuffer<T>;
    type->tp_as_buffer->bf_releasebuffer = counted_releasebuffer<T>;
    PyType_Modified(type);
    return cls.ptr();
}

void
make_classes()
{
    PyObject *mod = PyModule_New("pymembench_pybind11");
    if (mod == nullptr) {
        throw py::error_already_set();
    }
    py::module_ m =
        py::reinterpret_borrow<py::module_>(mod); // mod is kept for good
    // both classes or neither: classes[] is set only once both exist
    PyObject *unique = define<Unique, std::unique_ptr<Unique>>(m, "Resource");
    PyObject *shared =
        define<Shared, std::shared_ptr<Shared>>(m, "SharedResource");
    classes[BIND_HOLDER_SHARED] = shared;
    classes[BIND_HOLDER_DEFAULT] = unique;
}

PyObject *
pybind11_cls(int holder)
{
    try {
        if (classes[BIND_HOLDER_DEFAULT] == nullptr) {
            make_classes();
        }
        return classes[holder];
    } catch (...) {
        to_python_error();
        return nullptr;
    }
}

res_raw *
pybind11_raw_of(PyObject *obj)
{
    try {
        py::handle h(obj);
        if (py::isinstance<Unique>(h)) {
            return raw_of<Unique>(obj);
        }
        if (py::isinstance<Shared>(h)) {
            return raw_of<Shared>(obj);
        }
    } catch (...) {
        to_python_error();
        PyErr_Clear();
    }
    return nullptr;
}

void
pybind11_incref_spread(PyObject *const *objs, int n)
{
    for (int i = 0; i < n; i++) {
        py::handle(objs[i]).inc_ref();
    }
    gbs_clobber_memory();
    for (int i = 0; i < n; i++) {
        py::handle(objs[i]).dec_ref();
    }
}

// The shared_ptr holder's own pointer, copied out of the instance.
int64_t
pybind11_cpp_keeps(int holder, int64_t n)
{
    try {
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            py::object obj = py::reinterpret_steal<py::object>(
                PyObject_CallObject(classes[holder], nullptr));
            if (!obj) {
                throw py::error_already_set();
            }
            std::shared_ptr<Shared> keep = obj.cast<std::shared_ptr<Shared>>();
            int64_t live = wl_bindings_live();
            obj = py::object(); // Python's reference goes
            kept += wl_bindings_live() == live;
            keep.reset();
        }
        return kept;
    } catch (...) {
        to_python_error();
        return -1;
    }
}

int64_t
pybind11_py_keeps(int holder, int64_t n)
{
    (void)holder; // the shared_ptr holder only
    try {
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            std::shared_ptr<Shared> made = std::make_shared<Shared>();
            py::object obj = py::cast(made);
            int64_t live = wl_bindings_live();
            made.reset(); // C++'s handle goes
            kept += wl_bindings_live() == live;
        }
        return kept;
    } catch (...) {
        to_python_error();
        return -1;
    }
}

} // namespace

extern "C" const bind_layer wl_bindings_pybind11 = {
    "pybind11",
    PYMB_PYBIND11_LIBRARY, // "pybind11 2.10.3", from CMake
    pybind11_cls,
    pybind11_raw_of,
    pybind11_incref_spread,
    pybind11_cpp_keeps,
    pybind11_py_keeps,
    nullptr, // the seeds' managers are Boost.Python code
    nullptr,
    nullptr, // and so is the numpy layer measured here
    nullptr,
};
