/* memhook.h - the counting allocator hook (PEP 445).
 *
 * Wraps whatever allocator is active on the RAW, MEM and OBJ domains and
 * counts allocations, frees, reallocations, bytes requested, live blocks,
 * live bytes and their peak, per domain and in total. Block sizes are kept in
 * a side table (a header would move requests across pymalloc's 512-byte
 * threshold), so live bytes are exact for blocks allocated after install.
 */
#ifndef PYMB_MEMHOOK_H
#define PYMB_MEMHOOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    MEMHOOK_RAW = 0,
    MEMHOOK_MEM = 1,
    MEMHOOK_OBJ = 2,
    MEMHOOK_NDOMAINS = 3,
} memhook_domain;

typedef struct memhook_counts {
    uint64_t allocs;          /* malloc, calloc, realloc(NULL, n) */
    uint64_t frees;           /* free of a non-NULL pointer */
    uint64_t reallocs;        /* realloc of a non-NULL pointer */
    uint64_t bytes;           /* bytes requested by allocs and reallocs */
    uint64_t live_blocks;     /* blocks allocated since install, not freed */
    uint64_t live_bytes;      /* their requested sizes */
    uint64_t peak_bytes;      /* highest live_bytes since memhook_reset_peak */
    uint64_t untracked_frees; /* frees of blocks allocated before install */
} memhook_counts;

/* Install the hook on all three domains, wrapping the current allocators,
 * with every counter at zero. Call after Py_PreInitialize (the GIL, if any,
 * held) with no other thread allocating. 0 or -1 (no memory for the side
 * table). Installing twice is an error; uninstall then install again is
 * fine (pymembench --memhook=both does it around every run). */
int memhook_install(void);
/* Put the wrapped allocators back. Blocks stay valid. */
void memhook_uninstall(void);
int memhook_installed(void);

/* A consistent copy of one domain's counters, or of all domains summed
 * (whose peak is the peak of the sum, not the sum of peaks). */
void memhook_read(memhook_domain d, memhook_counts *out);
void memhook_read_total(memhook_counts *out);
/* Set every peak to the current live bytes. */
void memhook_reset_peak(void);

/* Fault injection (the model is Lua's test allocator): fail the `nth`
 * request (1: the next one) made in the domains of `mask`, and when
 * `every` > 0 each `every`-th request after it. A failed request returns
 * NULL without reaching the wrapped allocator (a failed realloc leaves the
 * block as it was) and is not counted as an allocation. Requests are the
 * malloc, calloc and realloc calls the hook counts. `nth` 0 disarms;
 * UINT64_MAX only counts requests (memhook_fail_read). */
#define MEMHOOK_MASK(d) (1u << (d))
#define MEMHOOK_MASK_ALL ((1u << MEMHOOK_NDOMAINS) - 1)
void memhook_fail(unsigned mask, uint64_t nth, uint64_t every);
/* Requests the injector has seen in its domains since it was armed, and
 * how many of them it failed. */
void memhook_fail_read(uint64_t *seen, uint64_t *failed);
/* Write the C stack of every failed request to `fd` (-1: stop): where a
 * fault landed, for a leak or crash it provoked. */
void memhook_fail_trace(int fd);
/* Where a leak or crash came from (stress runs' attribution). The first
 * request failed after memhook_fail arms the injector writes its C stack,
 * innermost first from the domain's entry point (PyMem_Malloc...), into
 * frames[0..max) and the count into *n (frames NULL: none kept). The
 * buffer may be shared memory: a crash after the fault leaves it for the
 * parent to read. */
#define MEMHOOK_SITE_FRAMES 48
void memhook_fail_site(void **frames, int max, int *n);
/* On (1): from now on every tracked block keeps the C stack of its
 * allocation (at most MEMHOOK_SITE_FRAMES frames), forgotten when it is
 * freed; off (0): forget them all. A backtrace per request: for fault
 * points, never for figures. 0, or -1 when there is no memory for it. */
int memhook_sites(int on);
/* fn(block, size, frames, n, arg) for every live block that has a stack,
 * under the hook's lock: fn must not allocate through Python. */
typedef void (*memhook_site_fn)(const void *block, size_t size,
                                void *const *frames, int n, void *arg);
void memhook_sites_each(memhook_site_fn fn, void *arg);
/* Nonzero: the injector neither counts nor fails requests until called
 * with 0 (the harness's own bookkeeping around a case). */
void memhook_fail_pause(int paused);

#endif /* PYMB_MEMHOOK_H */
