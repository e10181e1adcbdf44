// bind_newcount.cc - the global operator new and delete, replaced so that
// the bindings family can count what C++ allocates per iteration (pybind11's
// unique_ptr holders, its buffer_info, shared_ptr control blocks): calls and
// bytes while wl_bindings_new_count(1) is on, on that thread only. Everything
// else in the program goes through them too, uncounted: malloc and free, as
// the default ones do. The nothrow forms are replaced as well: libstdc++'s
// call the throwing ones, but AddressSanitizer's own do not, and a block
// from its nothrow new freed by the delete below is a reported mismatch
// (make test SANITIZE=1: gbshim's progress reporter). The aligned forms
// keep their defaults (aligned_alloc and free).
#include "bindings.h"

#include <cstdlib>
#include <new>

static thread_local bool counting;
static thread_local uint64_t new_calls, new_bytes;

void
wl_bindings_new_count(int on)
{
    if (on) {
        new_calls = 0;
        new_bytes = 0;
    }
    counting = on != 0;
}

void
wl_bindings_new_read(uint64_t *calls, uint64_t *bytes)
{
    *calls = new_calls;
    *bytes = new_bytes;
}

void *
operator new(std::size_t n)
{
    if (counting) {
        new_calls++;
        new_bytes += n;
    }
    void *p = std::malloc(n != 0 ? n : 1);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}

void *
operator new[](std::size_t n)
{
    return ::operator new(n);
}
void *
operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    try {
        return ::operator new(n);
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}
void *
operator new[](std::size_t n, const std::nothrow_t &) noexcept
{
    return ::operator new(n, std::nothrow);
}
void
operator delete(void *p) noexcept
{
    std::free(p);
}
void
operator delete[](void *p) noexcept
{
    std::free(p);
}
void
operator delete(void *p, std::size_t) noexcept
{
    std::free(p);
}
void
operator delete[](void *p, std::size_t) noexcept
{
    std::free(p);
}
