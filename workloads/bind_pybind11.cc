// bind_pybind11.cc - the pybind11 layer of the bindings family: the C++
// resource (bind_resource.hh) as a py::class_ with pybind11's default
// holder (std::unique_ptr: the object is a separate new) and with
// std::shared_ptr, the buffer through def_buffer.
//
// Ownership: the module and both class objects are created once and kept
// for the life of the process (borrowed from then on). pybind11's
// def_buffer has no release hook, so its views are not counted in
// res_raw.exports (release() cannot refuse while one is alive).
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
void to_python_error()
{
    try {
        throw;
    }
    catch (py::error_already_set &e) {
        e.restore();
    }
    catch (const std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    }
}

template <class T, class Holder> PyObject *define(py::module_ &m, const char *name)
{
    py::class_<T, Holder> cls(m, name, py::buffer_protocol());
    cls.def(py::init<>())
        .def("fileno", &T::fileno)
        .def("copy", [](const T &r) { return py::bytes(r.block(), RES_BLOCK_SIZE); })
        .def("release", &T::release)
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__",
             [](T &r, py::object type, py::object, py::object) {
                 return r.exit(!type.is_none());
             })
        .def_buffer([](T &r) {
            return py::buffer_info(const_cast<char *>(r.block()), 1,
                                   py::format_descriptor<unsigned char>::format(),
                                   RES_BLOCK_SIZE, true);
        });
    return cls.ptr();
}

void make_classes()
{
    PyObject *mod = PyModule_New("pymembench_pybind11");
    if (mod == nullptr) {
        throw py::error_already_set();
    }
    py::module_ m = py::reinterpret_borrow<py::module_>(mod); // mod is kept for good
    classes[BIND_HOLDER_DEFAULT] = define<Unique, std::unique_ptr<Unique>>(m, "Resource");
    classes[BIND_HOLDER_SHARED] = define<Shared, std::shared_ptr<Shared>>(m, "SharedResource");
}

PyObject *pybind11_cls(int holder)
{
    try {
        if (classes[BIND_HOLDER_DEFAULT] == nullptr) {
            make_classes();
        }
        return classes[holder];
    }
    catch (...) {
        to_python_error();
        return nullptr;
    }
}

res_raw *pybind11_raw_of(PyObject *obj)
{
    try {
        py::handle h(obj);
        if (py::isinstance<Unique>(h)) {
            return &h.cast<Unique &>().raw();
        }
        if (py::isinstance<Shared>(h)) {
            return &h.cast<Shared &>().raw();
        }
    }
    catch (...) {
        to_python_error();
        PyErr_Clear();
    }
    return nullptr;
}

void pybind11_incref_spread(PyObject *const *objs, int n)
{
    for (int i = 0; i < n; i++) {
        py::handle(objs[i]).inc_ref();
    }
    for (int i = 0; i < n; i++) {
        py::handle(objs[i]).dec_ref();
    }
}

// The shared_ptr holder's own pointer, copied out of the instance.
int64_t pybind11_cpp_keeps(int holder, int64_t n)
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
            int64_t live = bind_live();
            obj = py::object(); // Python's reference goes
            kept += bind_live() == live;
            keep.reset();
        }
        return kept;
    }
    catch (...) {
        to_python_error();
        return -1;
    }
}

int64_t pybind11_py_keeps(int holder, int64_t n)
{
    (void)holder; // the shared_ptr holder only
    try {
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            std::shared_ptr<Shared> made = std::make_shared<Shared>();
            py::object obj = py::cast(made);
            int64_t live = bind_live();
            made.reset(); // C++'s handle goes
            kept += bind_live() == live;
        }
        return kept;
    }
    catch (...) {
        to_python_error();
        return -1;
    }
}

} // namespace

extern "C" const bind_layer bind_pybind11_layer = {
    "pybind11",
    PYMB_PYBIND11_LIBRARY, // "pybind11 2.10.3", from CMake
    pybind11_cls,
    pybind11_raw_of,
    pybind11_incref_spread,
    pybind11_cpp_keeps,
    pybind11_py_keeps,
    (1u << BIND_HOLDER_DEFAULT) | (1u << BIND_HOLDER_SHARED),
    1u << BIND_HOLDER_SHARED,
    1u << BIND_HOLDER_SHARED,
    0,
};
