/* memhook.c - the counting allocator hook; see memhook.h.
 *
 * One spinlock guards the side table and the counters: the RAW domain is
 * called without the GIL (and, on free-threaded builds, every domain is), so
 * the hook must be thread-safe on its own. The side table is allocated with
 * libc's calloc, never through Python's domains, so it cannot recurse.
 * Only the outermost domain call of a request is counted (see `nesting`).
 */
#include "memhook.h"

#include <Python.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uintptr_t key; /* block address; 0 marks an empty slot */
    size_t size;
    int domain;
    int site; /* its allocation's stack in `sites` plus 1; 0: none */
} slot;

/* The C stack of one live block's allocation (memhook_sites). */
typedef struct {
    int n;
    int next_free; /* in the free list: the next free entry plus 1 */
    void *frames[MEMHOOK_SITE_FRAMES];
} site_rec;

typedef struct {
    PyMemAllocatorEx orig; /* the wrapped allocator */
    memhook_counts c;
    int domain;
} hook_domain;

#define TABLE_START ((size_t)1 << 16)

static hook_domain domains[MEMHOOK_NDOMAINS];
static uint64_t total_live;
static uint64_t total_peak;
static slot *table;
static size_t table_cap; /* a power of two */
static size_t table_used;
static int installed;
static atomic_flag lock = ATOMIC_FLAG_INIT;
/* Fault injection (memhook_fail), under the lock; `armed` is read without
 * it first so that unarmed requests pay one load. */
static atomic_int armed;
static unsigned fail_mask;
static uint64_t fail_next; /* the request number to fail; 0: none */
static uint64_t fail_every;
static uint64_t fail_seen;
static uint64_t fail_count;
static int fail_trace_fd = -1; /* memhook_fail_trace */
static atomic_int fail_paused; /* memhook_fail_pause */
static void **fail_site;       /* memhook_fail_site: where the first failed */
static int fail_site_max;      /* request's stack goes */
static int *fail_site_n;
/* Allocation sites (memhook_sites), under the lock: a pool of stacks with
 * a free list, indexed by the slots; `sites_on` is read without it first. */
static atomic_int sites_on;
static site_rec *sites;
static size_t sites_cap, sites_used;
static int sites_free; /* the first free entry plus 1; 0: none */
/* >0 while this thread is inside a wrapped allocator: pymalloc hands
 * requests over 512 bytes to PyMem_RawMalloc, and that inner call is the
 * same request, not a second one, so it passes through uncounted. */
static _Thread_local int nesting;

static const PyMemAllocatorDomain py_domain[MEMHOOK_NDOMAINS] = {
    PYMEM_DOMAIN_RAW,
    PYMEM_DOMAIN_MEM,
    PYMEM_DOMAIN_OBJ,
};

static void
lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {
        /* spin: the critical sections are a few dozen instructions */
    }
}

static void
lock_give(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* A block's home slot. The 256 16-byte steps of a 4 KiB page keep their
 * order, one slot in 8 of a run of 2048; the page's hash picks the run and
 * which of the 8 phases. Blocks allocated or freed one after another touch
 * neighbouring slots (a hash of each block scattered them over the whole
 * table, up to 200 MiB: about 240 ns a request with 2^21 blocks live). At
 * the table's highest load (1 slot in 2) a run holds on average 4 pages of
 * the densest, 16-byte, blocks, each on a phase of its own unless two draw
 * the same: clusters stay a few slots long, not the run's length, for
 * linear probing and backward-shift deletion to walk. (In a Python model of
 * the table, not in the project, 2^17 16-byte blocks in 2^18 slots: a
 * deletion walks 2.7 slots on average, the block hash 2.9; 4 phases in
 * runs of 1024, 143.) */
static size_t
slot_of(uintptr_t key, size_t cap)
{
    uint64_t h = (uint64_t)(key >> 12) * UINT64_C(0x9E3779B97F4A7C15);
    size_t run = (size_t)(h >> 32) << 11;
    size_t step = ((size_t)(key >> 4) & 0xFF) << 3 | (size_t)((h >> 29) & 7);
    return (run | step) & (cap - 1);
}
_Static_assert(TABLE_START >= 2048, "a run of slot_of must fit in the table");

/* Insert into a table known to have room. */
static void
table_put(slot *t, size_t cap, uintptr_t key, size_t size, int domain,
          int site)
{
    size_t i = slot_of(key, cap);
    while (t[i].key != 0 && t[i].key != key) {
        i = (i + 1) & (cap - 1);
    }
    if (t[i].key == 0) {
        table_used++;
    }
    t[i].key = key;
    t[i].size = size;
    t[i].domain = domain;
    t[i].site = site;
}

/* Double the table; on failure keep the old one (tracking degrades to
 * counting only once it is full, never to a crash). */
static int
table_grow(void)
{
    size_t cap = table_cap * 2;
    slot *t = calloc(cap, sizeof(slot));
    if (t == NULL) {
        return -1;
    }
    table_used = 0;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].key != 0) {
            table_put(t, cap, table[i].key, table[i].size, table[i].domain,
                      table[i].site);
        }
    }
    free(table);
    table = t;
    table_cap = cap;
    return 0;
}

/* A pool entry holding `frames` (n of them), plus 1; 0 when there is no
 * room (the block is then tracked without its site). Under the lock. */
static int
site_new(void *const *frames, int n)
{
    if (n <= 0 || sites == NULL) {
        return 0;
    }
    size_t i;
    if (sites_free != 0) {
        i = (size_t)sites_free - 1;
        sites_free = sites[i].next_free;
    }
    else {
        if (sites_used == sites_cap) {
            size_t cap = sites_cap * 2;
            site_rec *grown = realloc(sites, cap * sizeof(*sites));
            if (grown == NULL) {
                return 0;
            }
            sites = grown;
            sites_cap = cap;
        }
        i = sites_used++;
    }
    sites[i].n = n;
    sites[i].next_free = 0;
    memcpy(sites[i].frames, frames, (size_t)n * sizeof(void *));
    return (int)i + 1;
}

static void
site_release(int site)
{
    if (site != 0 && sites != NULL) {
        sites[site - 1].next_free = sites_free;
        sites_free = site;
    }
}

/* The C stack of the request being served, innermost first, without the
 * `skip` innermost frames: this function's, and the hook's (and inject's
 * when it calls), so that PyMem_Malloc or the like comes first. Never
 * inlined, so that the frames to drop are known. */
__attribute__((noinline)) static int
capture(void **frames, int max, int skip)
{
    void *all[MEMHOOK_SITE_FRAMES + 3];
    const int room = (int)(sizeof(all) / sizeof(all[0]));
    int n = backtrace(all, max + skip < room ? max + skip : room) - skip;
    if (n <= 0) {
        return 0;
    }
    memcpy(frames, all + skip, (size_t)n * sizeof(void *));
    return n;
}

/* The stack of the request being served when sites are kept (its frame
 * count), else 0. Inlined into the hook, so that capture's two dropped
 * frames are capture's and the hook's. */
static inline __attribute__((always_inline)) int
site_of_request(void **site)
{
    return atomic_load_explicit(&sites_on, memory_order_relaxed)
               ? capture(site, MEMHOOK_SITE_FRAMES, 2)
               : 0;
}

/* Track block p of `size` bytes; its allocation's stack when sites are
 * kept (n frames, else 0). Under the lock. */
static void
track_add(hook_domain *d, void *p, size_t size, void *const *frames, int n)
{
    if (table == NULL || (table_used * 2 >= table_cap && table_grow() < 0)) {
        return;
    }
    table_put(table, table_cap, (uintptr_t)p, size, d->domain,
              site_new(frames, n));
    d->c.live_blocks++;
    d->c.live_bytes += size;
    if (d->c.live_bytes > d->c.peak_bytes) {
        d->c.peak_bytes = d->c.live_bytes;
    }
    total_live += size;
    if (total_live > total_peak) {
        total_peak = total_live;
    }
}

/* Remove `p`, with backward-shift deletion so no tombstones are needed.
 * Returns 1 if the block was tracked. */
static int
track_remove(uintptr_t key, size_t *size, int *domain)
{
    if (table == NULL) {
        return 0;
    }
    size_t mask = table_cap - 1;
    size_t i = slot_of(key, table_cap);
    while (table[i].key != key) {
        if (table[i].key == 0) {
            return 0;
        }
        i = (i + 1) & mask;
    }
    *size = table[i].size;
    *domain = table[i].domain;
    site_release(table[i].site);
    size_t j = i;
    for (;;) {
        table[i].key = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (table[j].key == 0) {
                table_used--;
                return 1;
            }
            size_t home = slot_of(table[j].key, table_cap);
            /* move j back to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
                continue;
            }
            break;
        }
        table[i] = table[j];
        i = j;
    }
}

static void
untrack(hook_domain *d, void *p)
{
    size_t size;
    int dom;
    if (track_remove((uintptr_t)p, &size, &dom)) {
        hook_domain *owner = &domains[dom];
        owner->c.live_blocks--;
        owner->c.live_bytes -= size;
        total_live -= size;
    }
    else {
        d->c.untracked_frees++;
    }
}

/* 1 when this request (an outermost one in domain `domain`) must fail.
 * Never inlined: the stack it keeps of a failed request starts two frames
 * up (this one and the hook's). */
__attribute__((noinline)) static int
inject(int domain)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed) ||
        atomic_load_explicit(&fail_paused, memory_order_relaxed)) {
        return 0;
    }
    int fail = 0;
    lock_take();
    if (fail_mask & MEMHOOK_MASK(domain)) {
        if (++fail_seen == fail_next) {
            fail = 1;
            fail_count++;
            fail_next = fail_every ? fail_next + fail_every : 0;
        }
    }
    const int first = fail && fail_count == 1;
    void **site = first ? fail_site : NULL; /* read under the lock */
    int *site_n = fail_site_n;
    const int site_max = fail_site_max;
    lock_give();
    if (site != NULL) {
        *site_n = capture(site, site_max, 3);
    }
    if (fail && fail_trace_fd >= 0) {
        void *frames[48];
        int n = backtrace(frames, 48);
        backtrace_symbols_fd(frames, n, fail_trace_fd);
    }
    return fail;
}

static void *
hook_malloc(void *ctx, size_t size)
{
    hook_domain *d = ctx;
    if (nesting) {
        return d->orig.malloc(d->orig.ctx, size);
    }
    if (inject(d->domain)) {
        return NULL;
    }
    void *site[MEMHOOK_SITE_FRAMES];
    const int n = site_of_request(site);
    nesting++;
    void *p = d->orig.malloc(d->orig.ctx, size);
    nesting--;
    if (p != NULL) {
        lock_take();
        d->c.allocs++;
        d->c.bytes += size;
        track_add(d, p, size, site, n);
        lock_give();
    }
    return p;
}

static void *
hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    hook_domain *d = ctx;
    if (nesting) {
        return d->orig.calloc(d->orig.ctx, nelem, elsize);
    }
    if (inject(d->domain)) {
        return NULL;
    }
    void *site[MEMHOOK_SITE_FRAMES];
    const int n = site_of_request(site);
    nesting++;
    void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
    nesting--;
    if (p != NULL) {
        lock_take();
        d->c.allocs++;
        d->c.bytes += nelem * elsize;
        track_add(d, p, nelem * elsize, site, n);
        lock_give();
    }
    return p;
}

static void *
hook_realloc(void *ctx, void *ptr, size_t size)
{
    hook_domain *d = ctx;
    if (nesting) {
        return d->orig.realloc(d->orig.ctx, ptr, size);
    }
    if (inject(d->domain)) {
        return NULL;
    }
    void *site[MEMHOOK_SITE_FRAMES];
    const int n = site_of_request(site);
    /* Forget the old block before it can be reused by another thread. */
    int was_tracked = 0;
    size_t old_size = 0;
    int old_domain = 0;
    if (ptr != NULL) {
        lock_take();
        was_tracked = track_remove((uintptr_t)ptr, &old_size, &old_domain);
        if (was_tracked) {
            domains[old_domain].c.live_blocks--;
            domains[old_domain].c.live_bytes -= old_size;
            total_live -= old_size;
        }
        lock_give();
    }
    nesting++;
    void *p = d->orig.realloc(d->orig.ctx, ptr, size);
    nesting--;
    lock_take();
    if (p != NULL) {
        if (ptr == NULL) {
            d->c.allocs++;
        }
        else {
            d->c.reallocs++;
        }
        d->c.bytes += size;
        /* A block born before install stays untracked: its free will be
         * counted as untracked, keeping live_blocks = tracked allocs - frees.
         */
        if (ptr == NULL || was_tracked) {
            track_add(d, p, size, site, n);
        }
    }
    else if (was_tracked) {
        /* the old block is still live: track it again (its stack was
         * forgotten with it; this request's stands in) */
        track_add(&domains[old_domain], ptr, old_size, site, n);
    }
    lock_give();
    return p;
}

static void
hook_free(void *ctx, void *ptr)
{
    hook_domain *d = ctx;
    if (nesting) {
        d->orig.free(d->orig.ctx, ptr);
        return;
    }
    if (ptr != NULL) {
        lock_take();
        d->c.frees++;
        untrack(d, ptr);
        lock_give();
    }
    nesting++;
    d->orig.free(d->orig.ctx, ptr);
    nesting--;
}

int
memhook_install(void)
{
    if (installed) {
        return -1;
    }
    /* The table is emptied under the lock: a thread may still be finishing
     * a call into the previous hook. Blocks tracked before are forgotten
     * (their frees count as untracked). */
    lock_take();
    if (table == NULL) {
        table_cap = TABLE_START;
        table = calloc(table_cap, sizeof(slot));
    }
    else {
        memset(table, 0, table_cap * sizeof(slot));
    }
    table_used = 0;
    for (int i = 0; i < MEMHOOK_NDOMAINS; i++) {
        memset(&domains[i].c, 0, sizeof(domains[i].c));
    }
    total_live = 0;
    total_peak = 0;
    lock_give();
    if (table == NULL) {
        return -1;
    }
    for (int i = 0; i < MEMHOOK_NDOMAINS; i++) {
        hook_domain *d = &domains[i];
        d->domain = i;
        PyMem_GetAllocator(py_domain[i], &d->orig);
        PyMemAllocatorEx hook = {d, hook_malloc, hook_calloc, hook_realloc,
                                 hook_free};
        PyMem_SetAllocator(py_domain[i], &hook);
    }
    installed = 1;
    return 0;
}

void
memhook_uninstall(void)
{
    if (!installed) {
        return;
    }
    for (int i = 0; i < MEMHOOK_NDOMAINS; i++) {
        PyMem_SetAllocator(py_domain[i], &domains[i].orig);
    }
    installed = 0;
    /* A grown table would stay resident and inflate the RSS of whatever
     * runs unhooked next: give it back. A thread still inside a hook call
     * takes the lock first and finds no table (it tracks nothing). */
    lock_take();
    if (table_cap > TABLE_START) {
        free(table);
        table = NULL;
        table_cap = 0;
        table_used = 0;
    }
    lock_give();
}

int
memhook_installed(void)
{
    return installed;
}

void
memhook_read(memhook_domain d, memhook_counts *out)
{
    lock_take();
    *out = domains[d].c;
    lock_give();
}

void
memhook_read_total(memhook_counts *out)
{
    memset(out, 0, sizeof(*out));
    lock_take();
    for (int i = 0; i < MEMHOOK_NDOMAINS; i++) {
        const memhook_counts *c = &domains[i].c;
        out->allocs += c->allocs;
        out->frees += c->frees;
        out->reallocs += c->reallocs;
        out->bytes += c->bytes;
        out->live_blocks += c->live_blocks;
        out->live_bytes += c->live_bytes;
        out->untracked_frees += c->untracked_frees;
    }
    out->peak_bytes = total_peak;
    lock_give();
}

void
memhook_fail(unsigned mask, uint64_t nth, uint64_t every)
{
    lock_take();
    fail_mask = mask;
    fail_next = nth;
    fail_every = every;
    fail_seen = 0;
    fail_count = 0;
    atomic_store(&armed, nth != 0);
    lock_give();
}

void
memhook_fail_trace(int fd)
{
    fail_trace_fd = fd;
}

void
memhook_fail_site(void **frames, int max, int *n)
{
    lock_take();
    fail_site = frames;
    fail_site_max = max < MEMHOOK_SITE_FRAMES ? max : MEMHOOK_SITE_FRAMES;
    fail_site_n = n;
    lock_give();
}

int
memhook_sites(int on)
{
    int rc = 0;
    lock_take();
    /* the slots' sites index the pool: forget them with it */
    for (size_t i = 0; table != NULL && i < table_cap; i++) {
        table[i].site = 0;
    }
    free(sites);
    sites = NULL;
    sites_cap = sites_used = 0;
    sites_free = 0;
    if (on) {
        sites_cap = 1024;
        sites = malloc(sites_cap * sizeof(*sites));
        rc = sites == NULL ? -1 : 0;
    }
    atomic_store(&sites_on, on && sites != NULL);
    lock_give();
    return rc;
}

void
memhook_sites_each(memhook_site_fn fn, void *arg)
{
    lock_take();
    for (size_t i = 0; table != NULL && i < table_cap; i++) {
        if (table[i].key != 0 && table[i].site != 0) {
            const site_rec *r = &sites[table[i].site - 1];
            fn((const void *)table[i].key, table[i].size, r->frames, r->n,
               arg);
        }
    }
    lock_give();
}

void
memhook_fail_pause(int paused)
{
    atomic_store(&fail_paused, paused);
}

void
memhook_fail_read(uint64_t *seen, uint64_t *failed)
{
    lock_take();
    *seen = fail_seen;
    *failed = fail_count;
    lock_give();
}

void
memhook_reset_peak(void)
{
    lock_take();
    for (int i = 0; i < MEMHOOK_NDOMAINS; i++) {
        domains[i].c.peak_bytes = domains[i].c.live_bytes;
    }
    total_peak = total_live;
    lock_give();
}
