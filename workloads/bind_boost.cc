// bind_boost.cc - the Boost.Python layer of the bindings family: the C++
// resource (bind_resource.hh) as a class_ with its default holder (the
// object inside the Python instance) and as one held by std::shared_ptr.
// Boost.Python has no buffer support of its own, so the buffer protocol is
// filled in through the raw C API on the class's heap type.
//
// Ownership: the module and both class objects are created once and kept
// for the life of the process (borrowed from then on); Boost.Python's
// registry outlives Py_Finalize, so nothing here is a static bp::object.
#include "bind_resource.hh"

#include <boost/python.hpp>
#ifdef PYMB_HAVE_BOOST_NUMPY
#include <boost/python/numpy.hpp>
#endif

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace bp = boost::python;
#ifdef PYMB_HAVE_BOOST_NUMPY
namespace np = boost::python::numpy;
#endif

namespace {

using Value = CppResource<bp::error_already_set, 0>;
using Shared = CppResource<bp::error_already_set, 1>;

PyObject *classes[BIND_NHOLDERS]; // borrowed from the module, once made

template <class T>
T *
lvalue(PyObject *obj)
{
    return static_cast<T *>(
        bp::converter::get_lvalue_from_python(obj, bp::converter::registered<
                                                       T>::converters));
}

template <class T>
res_raw *
raw_of(PyObject *obj)
{
    T *r = lvalue<T>(obj);
    return r != nullptr ? &r->raw() : nullptr;
}

template <class T>
int
getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    return res_getbuffer(raw_of<T>(self), self, view, flags);
}

template <class T>
void
releasebuffer(PyObject *self, Py_buffer *)
{
    res_releasebuffer(raw_of<T>(self));
}

bp::object
enter(bp::object self)
{
    return self;
}

template <class T>
bool
exit_(T &r, bp::object type, bp::object, bp::object)
{
    return r.exit(!type.is_none());
}

template <class T>
bp::object
copy(const T &r)
{
    return bp::object(
        bp::handle<>(PyBytes_FromStringAndSize(r.block(), RES_BLOCK_SIZE)));
}

template <class T, class Class>
PyObject *
finish(Class cls)
{
    cls.def("fileno", &T::fileno)
        .def("copy", &copy<T>)
        .def("release", &T::release)
        .def("__enter__", &enter)
        .def("__exit__", &exit_<T>);
    PyTypeObject *type = reinterpret_cast<PyTypeObject *>(cls.ptr());
    // a heap type (Boost.Python's metaclass derives from type): its
    // tp_as_buffer points into the type object itself
    type->tp_as_buffer->bf_getbuffer = getbuffer<T>;
    type->tp_as_buffer->bf_releasebuffer = releasebuffer<T>;
    PyType_Modified(type);
    return cls.ptr();
}

// Both classes or neither: classes[] is set only once both exist.
void
make_classes()
{
    PyObject *mod = PyModule_New("pymembench_boost");
    if (mod == nullptr) {
        throw bp::error_already_set();
    }
    bp::object module{bp::handle<>(bp::borrowed(mod))}; // mod is kept for good
    bp::scope in(module);
    PyObject *value =
        finish<Value>(bp::class_<Value, boost::noncopyable>("Resource"));
    PyObject *shared = finish<Shared>(
        bp::class_<Shared, std::shared_ptr<Shared>, boost::noncopyable>(
            "SharedResource"));
    classes[BIND_HOLDER_SHARED] = shared;
    classes[BIND_HOLDER_DEFAULT] = value;
}

PyObject *
boost_cls(int holder)
{
    try {
        if (classes[BIND_HOLDER_DEFAULT] == nullptr) {
            make_classes();
        }
        return classes[holder];
    } catch (...) {
        bp::handle_exception();
        return nullptr;
    }
}

res_raw *
boost_raw_of(PyObject *obj)
{
    res_raw *r = raw_of<Value>(obj);
    return r != nullptr ? r : raw_of<Shared>(obj);
}

void
boost_incref_spread(PyObject *const *objs, int n)
{
    for (int i = 0; i < n; i++) {
        bp::incref(objs[i]);
    }
    gbs_clobber_memory();
    for (int i = 0; i < n; i++) {
        bp::decref(objs[i]);
    }
}

// The default holder has no shared_ptr to share: extract<shared_ptr<T>>
// makes one whose deleter holds the Python object, so the wrapper itself
// lives on with it. The shared_ptr holder's own pointer is shared instead.
template <class T, class Extract>
int64_t
keeps_from_cpp(int holder, int64_t n)
{
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        bp::object obj{
            bp::handle<>(PyObject_CallObject(classes[holder], nullptr))};
        bp::extract<Extract> get(obj);
        std::shared_ptr<T> keep = get();
        int64_t live = wl_bindings_live();
        obj = bp::object(); // Python's reference goes
        kept += wl_bindings_live() == live;
        keep.reset();
    }
    return kept;
}

int64_t
boost_cpp_keeps(int holder, int64_t n)
{
    try {
        if (holder == BIND_HOLDER_SHARED) {
            return keeps_from_cpp<Shared, std::shared_ptr<Shared> &>(holder,
                                                                     n);
        }
        return keeps_from_cpp<Value, std::shared_ptr<Value>>(holder, n);
    } catch (...) {
        bp::handle_exception();
        return -1;
    }
}

int64_t
boost_py_keeps(int holder, int64_t n)
{
    (void)holder; // the shared_ptr holder only
    try {
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            std::shared_ptr<Shared> made = std::make_shared<Shared>();
            bp::object obj(made);
            int64_t live = wl_bindings_live();
            made.reset(); // C++'s handle goes
            kept += wl_bindings_live() == live;
        }
        return kept;
    } catch (...) {
        bp::handle_exception();
        return -1;
    }
}

// --- the seeds' context managers (shared/seeds/000: "boost::python::
// object(resource)" returned by __enter__) ---------------------------------

int64_t seed_copies; // members copied into a new Python object
int64_t seed_lost;   // managers whose member saw no write() in the block

// The seeds' resource: a constructor that acquires, a destructor that
// releases what is still open. Theirs is copied by the implicit copy
// constructor, which would share the handle and release it twice; this one
// is copied as a careful class would be: the copy acquires its own.
class SeedResource {
  public:
    SeedResource()
    {
        acquire();
    }
    SeedResource(const SeedResource &)
    {
        acquire();
        seed_copies++;
    }
    SeedResource &operator=(const SeedResource &) = delete;
    ~SeedResource()
    {
        res_release_by_dealloc(&raw_);
    }
    void write()
    {
        if (!raw_.open) {
            PyErr_SetString(PyExc_ValueError, "resource is released");
            throw bp::error_already_set();
        }
        writes_++;
    }
    // The manager's __exit__: was the block's work done on this member?
    void exit(bool with_exception)
    {
        seed_lost += writes_ == 0;
        if (res_exit(&raw_, with_exception ? 1 : 0, 0) < 0) {
            throw bp::error_already_set();
        }
    }

  private:
    void acquire()
    {
        if (res_acquire(&raw_) < 0) {
            throw bp::error_already_set();
        }
    }
    res_raw raw_;
    int64_t writes_ = 0;
};

// __enter__ returns boost::python::object(member_): a copy, as the seeds do.
class CopyManager {
  public:
    bp::object enter()
    {
        return bp::object(member_);
    }
    bool exit(bp::object type, bp::object, bp::object)
    {
        member_.exit(!type.is_none());
        return false;
    }

  private:
    SeedResource member_;
};

// __enter__ returns member_ itself (return_internal_reference<> keeps the
// manager alive while the Python object does).
class RefManager {
  public:
    SeedResource &enter()
    {
        return member_;
    }
    bool exit(bp::object type, bp::object, bp::object)
    {
        member_.exit(!type.is_none());
        return false;
    }

  private:
    SeedResource member_;
};

// The member lives in a std::shared_ptr; __enter__ returns it (shared).
class SharedManager {
  public:
    SharedManager() : member_(std::make_shared<SeedResource>())
    {}
    std::shared_ptr<SeedResource> enter()
    {
        return member_;
    }
    bool exit(bp::object type, bp::object, bp::object)
    {
        member_->exit(!type.is_none());
        return false;
    }

  private:
    std::shared_ptr<SeedResource> member_;
};

// The seeds' FileStream and FileManager (shared/seeds/000, "Managing File
// Streams"): the stream opens in the constructor and closes in the
// destructor; here __exit__ closes it too, as the seeds' comment asks.
class FileStream {
  public:
    explicit FileStream(const std::string &path) : stream_(path, std::ios::app)
    {
        if (!stream_) {
            PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
            throw bp::error_already_set();
        }
    }
    void write_data(const std::string &data)
    {
        stream_ << data;
    }
    void close()
    {
        stream_.close();
    }

  private:
    std::ofstream stream_;
};

class FileManager {
  public:
    explicit FileManager(const std::string &path) : file_(path)
    {}
    FileStream &enter()
    {
        return file_;
    }
    bool exit(bp::object, bp::object, bp::object)
    {
        file_.close();
        return false;
    }

  private:
    FileStream file_;
};

PyObject *managers[BIND_NSEEDS]; // borrowed from their module, once made

void
make_managers()
{
    PyObject *mod = PyModule_New("pymembench_boost_seeds");
    if (mod == nullptr) {
        throw bp::error_already_set();
    }
    bp::object module{bp::handle<>(bp::borrowed(mod))}; // kept for good
    bp::scope in(module);
    // copyable, held by shared_ptr: object(member) makes a copy in a new
    // shared_ptr; a shared_ptr returned is shared, not copied
    bp::class_<SeedResource, std::shared_ptr<SeedResource>>("SeedResource")
        .def("write", &SeedResource::write);
    bp::object copy =
        bp::class_<CopyManager, boost::noncopyable>("CopyManager")
            .def("__enter__", &CopyManager::enter)
            .def("__exit__", &CopyManager::exit);
    bp::object ref = bp::class_<RefManager, boost::noncopyable>("RefManager")
                         .def("__enter__", &RefManager::enter,
                              bp::return_internal_reference<>())
                         .def("__exit__", &RefManager::exit);
    bp::object shared =
        bp::class_<SharedManager, boost::noncopyable>("SharedManager")
            .def("__enter__", &SharedManager::enter)
            .def("__exit__", &SharedManager::exit);
    bp::class_<FileStream, boost::noncopyable>("FileStream", bp::no_init)
        .def("write_data", &FileStream::write_data);
    bp::object file =
        bp::class_<FileManager, boost::noncopyable>("FileManager",
                                                    bp::init<std::string>())
            .def("__enter__", &FileManager::enter,
                 bp::return_internal_reference<>())
            .def("__exit__", &FileManager::exit);
    managers[BIND_SEED_OFSTREAM] = file.ptr();
    managers[BIND_SEED_SHARED] = shared.ptr();
    managers[BIND_SEED_INTERNAL_REF] = ref.ptr();
    managers[BIND_SEED_COPY] = copy.ptr(); // last: the others exist
}

PyObject *
boost_seed_manager(int how)
{
    try {
        if (managers[BIND_SEED_COPY] == nullptr) {
            make_managers();
        }
        return managers[how];
    } catch (...) {
        bp::handle_exception();
        return nullptr;
    }
}

void
boost_seed_read(int64_t *copies, int64_t *lost)
{
    *copies = seed_copies;
    *lost = seed_lost;
}

#ifdef PYMB_HAVE_BOOST_NUMPY
// --- Boost.Python's numpy layer: a C++ array as an ndarray, no copy ------

int64_t arrays_live; // CppArray objects alive

// A C++ array of doubles 0, 1, 2...; counted, so a check sees it freed.
struct CppArray {
    CppArray() : data(BIND_NUMPY_DOUBLES)
    {
        for (size_t i = 0; i < data.size(); i++) {
            data[i] = static_cast<double>(i);
        }
        arrays_live++;
    }
    ~CppArray()
    {
        arrays_live--;
    }
    CppArray(const CppArray &) = delete;
    CppArray &operator=(const CppArray &) = delete;
    std::vector<double> data;
};

// The array VIEW and COPY look at, and the Python object that owns it
// (a CppArray instance sharing the shared_ptr), both kept for the process.
std::shared_ptr<CppArray> kept_array;
PyObject *kept_owner; // owned, never released (as the classes are)

// An ndarray over a's memory; `owner` (a Python object that keeps a
// alive) becomes its base.
np::ndarray
view_of(CppArray &a, const bp::object &owner)
{
    return np::from_data(a.data.data(), np::dtype::get_builtin<double>(),
                         bp::make_tuple(a.data.size()),
                         bp::make_tuple(sizeof(double)), owner);
}

void
numpy_init()
{
    if (kept_owner != nullptr) {
        return;
    }
    np::initialize(); // numpy's C API; numpy must be importable
    PyObject *mod = PyModule_New("pymembench_boost_numpy");
    if (mod == nullptr) {
        throw bp::error_already_set();
    }
    bp::object module{bp::handle<>(bp::borrowed(mod))}; // kept for good
    bp::scope in(module);
    bp::class_<CppArray, std::shared_ptr<CppArray>,
               boost::noncopyable>("CppArray", bp::no_init);
    std::shared_ptr<CppArray> a = std::make_shared<CppArray>();
    bp::object owner(a);
    kept_array = a;
    kept_owner = bp::incref(owner.ptr());
}

bool
is_c_memory(const np::ndarray &nd, const CppArray &a)
{
    return reinterpret_cast<const void *>(nd.get_data()) ==
           static_cast<const void *>(a.data.data());
}

int64_t
numpy_outlives(int64_t n)
{
    int64_t good = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t before = arrays_live;
        bool viewed, alive;
        double last;
        {
            std::shared_ptr<CppArray> a = std::make_shared<CppArray>();
            np::ndarray nd = view_of(*a, bp::object(a)); // the owner shares a
            viewed = is_c_memory(nd, *a);
            a.reset(); // C++ lets go first
            alive = arrays_live == before + 1;
            // safe: the view's owner keeps the memory
            last = reinterpret_cast<const double *>(
                nd.get_data())[BIND_NUMPY_DOUBLES - 1];
        } // the view goes, and its owner with it
        const bool freed = arrays_live == before;
        good += viewed && alive && freed && last == BIND_NUMPY_DOUBLES - 1;
    }
    return good;
}

int64_t
boost_numpy_run(int job, int64_t n)
{
    try {
        if (job == BIND_NUMPY_INIT) {
            numpy_init();
            return 0;
        }
        if (job == BIND_NUMPY_OUTLIVES) {
            return numpy_outlives(n);
        }
        const bp::object owner{bp::handle<>(bp::borrowed(kept_owner))};
        int64_t good = 0;
        for (int64_t i = 0; i < n; i++) {
            np::ndarray nd = view_of(*kept_array, owner);
            if (job == BIND_NUMPY_VIEW) {
                good += is_c_memory(nd, *kept_array);
                continue;
            }
            np::ndarray c = nd.copy();
            const double *p = reinterpret_cast<const double *>(c.get_data());
            good += !is_c_memory(c, *kept_array) &&
                    p[BIND_NUMPY_DOUBLES - 1] == BIND_NUMPY_DOUBLES - 1;
        }
        return good;
    } catch (...) {
        bp::handle_exception();
        return -1;
    }
}

int64_t
boost_numpy_live()
{
    return arrays_live;
}
#endif

} // namespace

extern "C" const bind_layer wl_bindings_boost = {
    "boost",
    PYMB_BOOST_PYTHON_LIBRARY, // "Boost.Python 1.74.0", from CMake
    boost_cls,
    boost_raw_of,
    boost_incref_spread,
    boost_cpp_keeps,
    boost_py_keeps,
    boost_seed_manager,
    boost_seed_read,
#ifdef PYMB_HAVE_BOOST_NUMPY
    boost_numpy_run,
    boost_numpy_live,
#else
    nullptr,
    nullptr,
#endif
};
