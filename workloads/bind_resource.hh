// bind_resource.hh - the bindings family's one C++ resource class: the
// counted res_raw (workloads/fixtures/resource.h: a 4 KiB heap block and a
// file descriptor) owned by a C++ object, acquired by the constructor and
// released by release(), __exit__ or, failing those, the destructor.
// `Error` is what the binding layer translates back into the pending Python
// exception (both layers' error_already_set); `Tag` makes distinct C++
// types of one class, since each library registers a type once.
#ifndef PYMB_BIND_RESOURCE_HH
#define PYMB_BIND_RESOURCE_HH

#include "bindings.h"

template <class Error, int Tag> class CppResource {
  public:
    CppResource()
    {
        if (res_acquire(&raw_) < 0) {
            throw Error();
        }
    }
    ~CppResource()
    {
        res_release_by_dealloc(&raw_);
    }
    CppResource(const CppResource &) = delete;
    CppResource &operator=(const CppResource &) = delete;

    int fileno() const
    {
        return raw_.fd;
    }
    void release()
    {
        if (res_release_checked(&raw_) < 0) {
            throw Error();
        }
    }
    // __exit__: releases; never suppresses.
    bool exit(bool with_exception)
    {
        if (res_exit(&raw_, with_exception ? 1 : 0, 0) < 0) {
            throw Error();
        }
        return false;
    }
    // The block, or a ValueError when released.
    const char *block() const
    {
        if (!raw_.open) {
            PyErr_SetString(PyExc_ValueError, "resource is released");
            throw Error();
        }
        return static_cast<const char *>(raw_.block);
    }
    res_raw &raw()
    {
        return raw_;
    }

  private:
    res_raw raw_;
};

// How many resources are alive now: the holder jobs compare it before and
// after a handle goes, without touching an object that may be gone.
inline int64_t
wl_bindings_live()
{
    return res_get()->live;
}

#endif // PYMB_BIND_RESOURCE_HH
