/* workloads.c - the registry of workload families. */
#include "workloads.h"

#include "sentinels.h"

#include <stddef.h>

static int (*const families[])(void) = {
    wl_refcount_register,   wl_gc_register,
    wl_lifetime_register,   wl_lifetime_real_register,
    wl_alloc_register,      wl_buffers_register,
    wl_containers_register, wl_bindings_register,
    wl_selftest_register,   NULL,
};

int
wl_register_all(void)
{
    if (fx_register_sentinels() < 0) {
        return -1;
    }
    for (size_t i = 0; families[i] != NULL; i++) {
        if (families[i]() < 0) {
            return -1;
        }
    }
    return 0;
}

int
wl_register_stress(void)
{
    return wl_threads_register();
}
