/* alloc.c - the alloc family (benchmarks): what an allocation costs
 * through each of CPython's domains against plain malloc, in two regimes
 * kept apart (steady: a small working set, the allocator's fast path;
 * burst: 8 MiB allocated then freed, where arenas are returned, the heap is
 * trimmed and page faults dominate); what creating common objects costs;
 * what freeing most of a heap leaves resident; allocation from threads.
 *
 * All of it is allocation-bound, so every case is timed without the
 * counting hook and gets its counts from one untimed batch under it
 * (pmb_case.count). Blocks are touched (one byte written) when allocated.
 */
#include "cases.h"
#include "gcx.h"
#include "ownmem.h"
#include "procmem.h"
#include "pymstats.h"
#include "pyx.h"
#include "workers.h"
#include "workloads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WORKING_SET 64                /* live blocks in the steady regime */
#define BURST_BYTES ((size_t)8 << 20) /* requested per burst */
#define OBJ_BATCH 256                 /* objects alive at once */
#define DRAIN 2100 /* more than any freelist holds (tuple: 2000) */
#define FRAG_N ((int64_t)1 << 21) /* ints in a keep_one_in heap */
#define THREAD_OPS (1 << 16)      /* alloc/free pairs per thread per batch */
#define THREAD_RING 16            /* blocks each thread keeps live */
#define THREAD_CHUNK 256          /* pairs between GIL hand-overs */

/* ---- shared state: one case runs at a time --------------------------- */

static void **blocks;      /* raw: the blocks of a batch; owned */
static uint32_t *sequence; /* raw: free order; frag: which to free first */
static size_t nblocks;
static size_t block_size;
static PyObject **objs; /* objects and frag: owned references */
static size_t nobjs;

/* Batches the timed loop completed: the checks hold it against the
 * iterations Google Benchmark counted, so a loop that skipped its work
 * would fail (the hook's counts come from count(), not from the loop). */
static int64_t batches_done;

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t
next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* 0..n-1, in a fixed pseudo-random order (the same in every run). */
static int
shuffled(uint32_t *out, size_t n)
{
    rng = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint32_t)i;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = next_random() % i;
        uint32_t t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
    return 0;
}

static void
teardown_alloc(void)
{
    if (objs != NULL) {
        for (size_t i = 0; i < nobjs; i++) {
            Py_CLEAR(objs[i]);
        }
    }
    ownmem_free(objs);
    ownmem_free(blocks);
    ownmem_free(sequence);
    objs = NULL;
    blocks = NULL;
    sequence = NULL;
    nobjs = nblocks = 0;
}

/* ---- raw allocation: four APIs, two regimes, three free orders -------- */

typedef struct raw_api {
    void *(*get)(size_t);
    void *(*grow)(void *, size_t);
    void (*put)(void *);
    int counted; /* Python's domains, which the hook sees */
} raw_api;

enum { LIFO, FIFO, RANDOM };

typedef struct raw_spec {
    const raw_api *api;
    int (*batch)(const raw_api *api); /* raw_batch or grow_batch */
    int burst;
    int order;
} raw_spec;

static size_t live_max; /* blocks alive at once in a batch */

static const raw_api api_obj = {PyObject_Malloc, PyObject_Realloc,
                                PyObject_Free, 1};
static const raw_api api_mem = {PyMem_Malloc, PyMem_Realloc, PyMem_Free, 1};
static const raw_api api_raw = {PyMem_RawMalloc, PyMem_RawRealloc,
                                PyMem_RawFree, 1};
static const raw_api api_libc = {malloc, realloc, free, 0};

/* Allocate nblocks blocks, then free them in `sequence` order. 0, or -1
 * (everything freed) when an allocation fails. */
static int
raw_batch(const raw_api *api)
{
    size_t got = 0;
    for (; got < nblocks; got++) {
        char *p = api->get(block_size);
        if (p == NULL) {
            break;
        }
        p[0] = (char)got;
        blocks[got] = p;
    }
    gbs_clobber_memory();
    if (got < nblocks) {
        for (size_t i = 0; i < got; i++) {
            api->put(blocks[i]);
        }
        return -1;
    }
    for (size_t i = 0; i < nblocks; i++) {
        api->put(blocks[sequence[i]]);
    }
    return 0;
}

static int
setup_raw(int64_t param)
{
    const raw_spec *s = pmb_data();
    block_size = (size_t)param;
    nblocks = s->burst ? BURST_BYTES / block_size : WORKING_SET;
    live_max = nblocks;
    blocks = ownmem_alloc(nblocks * sizeof(void *));
    sequence = ownmem_alloc(nblocks * sizeof(uint32_t));
    if (blocks == NULL || sequence == NULL) {
        return pmb_fail("out of memory for %zu block pointers", nblocks);
    }
    for (size_t i = 0; i < nblocks; i++) {
        sequence[i] = (uint32_t)(s->order == LIFO ? nblocks - 1 - i : i);
    }
    if (s->order == RANDOM) {
        shuffled(sequence, nblocks);
    }
    /* warm-up: the pools, arenas or heap the batch needs exist already */
    if (raw_batch(s->api) < 0) {
        return pmb_fail("cannot allocate %zu blocks of %zu bytes", nblocks,
                        block_size);
    }
    batches_done = 0;
    return 0;
}

/* The timed loop of raw and realloc cases: the spec's batch, repeated. */
static void
run_blocks(gbs_state *st, int64_t param)
{
    (void)param;
    const raw_spec *s = pmb_data();
    const int64_t faults = procmem_minor_faults();
    while (gbs_keep_running_batch(st, (int64_t)nblocks)) {
        if (s->batch(s->api) < 0) {
            PyErr_NoMemory();
            pmb_run_error(st);
            return;
        }
        batches_done++;
    }
    pmb_faults_counter(st, faults);
    gbs_counter(st, "live_blocks_max", (double)live_max, GBS_COUNTER_DEFAULT);
    gbs_set_label(st, s->burst ? "burst" : "steady");
}

static int64_t
count_blocks(int64_t param)
{
    (void)param;
    const raw_spec *s = pmb_data();
    if (s->batch(s->api) < 0) {
        return pmb_fail("a batch of %zu ran out of memory (blocks of up to "
                        "%zu bytes)",
                        nblocks, block_size);
    }
    return (int64_t)nblocks;
}

/* The hook must see exactly one allocation and one free of the requested
 * size per iteration through Python's domains, and none through malloc. */
static int
check_raw(const pmb_result *r)
{
    const raw_spec *s = pmb_data();
    if (pmb_check_batches(r, batches_done, (int64_t)nblocks) < 0) {
        return -1;
    }
    if (!r->hook) {
        return 0;
    }
    const uint64_t n = s->api->counted ? (uint64_t)r->iterations : 0;
    if (r->delta.allocs != n || r->delta.frees != n ||
        r->delta.bytes != n * block_size || r->live_blocks != 0) {
        return pmb_fail("the hook saw %llu allocs, %llu frees, %llu bytes, "
                        "%lld live for %lld "
                        "iterations of %zu bytes (expected %llu each, %llu "
                        "bytes, 0 live)",
                        (unsigned long long)r->delta.allocs,
                        (unsigned long long)r->delta.frees,
                        (unsigned long long)r->delta.bytes,
                        (long long)r->live_blocks, (long long)r->iterations,
                        block_size, (unsigned long long)n,
                        (unsigned long long)(n * block_size));
    }
    return 0;
}

/* ---- realloc growth: 16 bytes at a time up to the final size ---------- */

#define GROW_STEP 16

static int
grow_batch(const raw_api *api)
{
    char *p = api->get(GROW_STEP);
    if (p == NULL) {
        return -1;
    }
    for (size_t size = 2 * GROW_STEP; size <= block_size; size += GROW_STEP) {
        char *q = api->grow(p, size);
        if (q == NULL) {
            api->put(p);
            return -1;
        }
        q[size - 1] = (char)size;
        p = q;
    }
    gbs_do_not_optimize_ptr(p);
    api->put(p);
    return 0;
}

static int
setup_grow(int64_t param)
{
    block_size = (size_t)param;
    nblocks = block_size / GROW_STEP - 1; /* reallocs per batch */
    live_max = 1;
    batches_done = 0;
    return grow_batch(((const raw_spec *)pmb_data())->api) < 0
               ? pmb_fail("cannot grow a block to %zu bytes", block_size)
               : 0;
}

/* One batch: one alloc, a realloc per iteration, one free. */
static int
check_grow(const pmb_result *r)
{
    const raw_spec *s = pmb_data();
    if (pmb_check_batches(r, batches_done, (int64_t)nblocks) < 0) {
        return -1;
    }
    if (!r->hook) {
        return 0;
    }
    const uint64_t batches =
        s->api->counted ? (uint64_t)r->iterations / nblocks : 0;
    if (r->delta.allocs != batches || r->delta.frees != batches ||
        r->delta.reallocs != batches * nblocks || r->live_blocks != 0) {
        return pmb_fail("the hook saw %llu allocs, %llu reallocs, %llu frees "
                        "for %llu "
                        "batches of %zu reallocs",
                        (unsigned long long)r->delta.allocs,
                        (unsigned long long)r->delta.reallocs,
                        (unsigned long long)r->delta.frees,
                        (unsigned long long)batches, nblocks);
    }
    return 0;
}

/* ---- object creation --------------------------------------------------- */

typedef PyObject *(*maker)(long i);

typedef struct obj_spec {
    maker make;
    const char *class_src; /* defines class C, for instances; or NULL */
} obj_spec;

static PyObject *item;  /* a str, the key/item of containers; owned */
static PyObject *klass; /* the class instantiated; owned */
static double object_bytes;

static PyObject *
make_int(long i)
{
    return PyLong_FromLong(1000000L + i);
}

static PyObject *
make_float(long i)
{
    return PyFloat_FromDouble((double)i + 0.5);
}

static PyObject *
make_tuple(long i)
{
    (void)i;
    return PyTuple_Pack(2, item, item);
}

static PyObject *
make_list(long i)
{
    (void)i;
    PyObject *l = PyList_New(2);
    if (l != NULL) {
        Py_INCREF(item);
        PyList_SET_ITEM(l, 0, item);
        Py_INCREF(item);
        PyList_SET_ITEM(l, 1, item);
    }
    return l;
}

static PyObject *
make_dict(long i)
{
    (void)i;
    PyObject *d = PyDict_New();
    if (d != NULL && PyDict_SetItem(d, item, item) < 0) {
        Py_CLEAR(d);
    }
    return d;
}

static PyObject *
make_instance(long i)
{
    (void)i;
    return PyObject_CallObject(klass, NULL);
}

/* Create n objects into objs[from..], then drop them unless keep. 0 or -1. */
static int
obj_batch(maker make, size_t from, size_t n, int keep)
{
    size_t i = from;
    int rc = 0;
    for (; i < from + n; i++) {
        if ((objs[i] = make((long)i)) == NULL) {
            rc = -1;
            break;
        }
    }
    gbs_clobber_memory();
    if (!keep || rc < 0) {
        for (size_t j = from; j < i; j++) {
            Py_CLEAR(objs[j]);
        }
    }
    return rc;
}

static int
setup_obj(int64_t param)
{
    (void)param;
    const obj_spec *s = pmb_data();
    memhook_counts a, b;
    nobjs = DRAIN + OBJ_BATCH;
    objs = ownmem_alloc(nobjs * sizeof(PyObject *));
    if (objs == NULL) {
        return pmb_fail("out of memory");
    }
    item = PyUnicode_InternFromString("item");
    if (item == NULL) {
        return -1;
    }
    if (s->class_src != NULL &&
        (klass = pyx_compile_function(s->class_src, "C")) == NULL) {
        return -1;
    }
    /* What one object asks of the allocator when no freelist can serve it:
     * DRAIN live objects empty every freelist, the next batch allocates. */
    if (obj_batch(s->make, 0, DRAIN, 1) < 0) {
        return -1;
    }
    memhook_read_total(&a);
    int rc = obj_batch(s->make, DRAIN, OBJ_BATCH, 1);
    memhook_read_total(&b);
    for (size_t i = 0; i < nobjs; i++) {
        Py_CLEAR(objs[i]);
    }
    /* measured on the row's counted run, kept on its later ones */
    const int measures = pmb_setup_measures();
    if (measures != 0) {
        object_bytes =
            measures > 0 ? (double)(b.bytes - a.bytes) / OBJ_BATCH : 0;
    }
    batches_done = 0;
    return rc;
}

static void
run_obj(gbs_state *st, int64_t param)
{
    (void)param;
    const obj_spec *s = pmb_data();
    while (gbs_keep_running_batch(st, OBJ_BATCH)) {
        if (obj_batch(s->make, 0, OBJ_BATCH, 0) < 0) {
            pmb_run_error(st);
            return;
        }
        batches_done++;
    }
    gbs_counter(st, "seconds_per_object", (double)gbs_iterations(st),
                GBS_COUNTER_RATE | GBS_COUNTER_INVERT);
    if (object_bytes > 0) {
        gbs_counter(st, "object_bytes", object_bytes, GBS_COUNTER_DEFAULT);
    }
}

static int64_t
count_obj(int64_t param)
{
    (void)param;
    const obj_spec *s = pmb_data();
    return obj_batch(s->make, 0, OBJ_BATCH, 0) < 0
               ? pmb_fail("creating objects failed")
               : OBJ_BATCH;
}

/* Freelists may keep up to a batch of them; more live blocks is a leak.
 * Each type allocates once its freelist is empty (object_bytes), though in
 * the loop a freelist may serve most of them: that is what a loop costs. */
static int
check_obj(const pmb_result *r)
{
    if (pmb_check_batches(r, batches_done, OBJ_BATCH) < 0) {
        return -1;
    }
    if (r->hook && object_bytes <= 0) {
        return pmb_fail("the hook saw no bytes allocated for new objects");
    }
    return pmb_check_no_leak(r, OBJ_BATCH);
}

static void
teardown_obj(void)
{
    teardown_alloc();
    Py_CLEAR(item);
    Py_CLEAR(klass);
}

/* ---- fragmentation: free most of a heap of ints, see what stays ------- */
/* ints, not floats: a freelist (float's keeps 100) holds freed objects
 * from all over the heap, and would pin arenas of its own. */

typedef struct frag_spec {
    int random; /* free a random 90%; else keep one int in every param */
} frag_spec;

typedef struct frag_reading {
    uint64_t rss, peak;
    pymstats pm;
    int have_pm;
} frag_reading;

/* The readings of each case's first cycle in the process: later cycles
 * find the previous cycle's heap still resident under allocators that keep
 * freed memory for reuse (glibc's fastbins, jemalloc's decay, mimalloc),
 * so only the first shows what building and freeing did to the process. */
static struct {
    int64_t param;
    frag_reading at[5]; /* before, at peak, after freeing, after collecting,
                           after all */
} firsts[8];
static int nfirsts;
static frag_reading *at; /* the running case's, in firsts */
static int need_reading; /* its first cycle is still to come */
static size_t nfreed;    /* how many ints the first phase frees */

static void
reading(frag_reading *r)
{
    if (procmem_read(&r->rss, &r->peak) < 0) {
        r->rss = 0;
    }
    r->have_pm = pymstats_read(&r->pm) == 1;
}

/* One cycle: build, free the chosen part, then the rest; with the five
 * readings (and a full collection before the fourth) when `into` is given.
 * 0, or -1 with a Python error set. */
static int
frag_cycle(frag_reading *into)
{
    if (into != NULL) {
        reading(&into[0]);
    }
    for (size_t i = 0; i < nobjs; i++) {
        if ((objs[i] = PyLong_FromLong(1000000L + (long)i)) == NULL) {
            return -1;
        }
    }
    if (into != NULL) {
        reading(&into[1]);
    }
    for (size_t i = 0; i < nfreed; i++) {
        Py_CLEAR(objs[sequence[i]]);
    }
    if (into != NULL) {
        reading(&into[2]);
        if (gcx_collect(2) < 0) {
            return -1;
        }
        reading(&into[3]);
    }
    for (size_t i = 0; i < nobjs; i++) {
        Py_CLEAR(objs[i]);
    }
    if (into != NULL) {
        reading(&into[4]);
    }
    return 0;
}

static int
setup_frag(int64_t param)
{
    const frag_spec *s = pmb_data();
    if (gcx_init() < 0) {
        return -1;
    }
    nobjs = s->random ? (size_t)param : (size_t)FRAG_N;
    objs = ownmem_alloc(nobjs * sizeof(PyObject *));
    sequence = ownmem_alloc(nobjs * sizeof(uint32_t));
    if (objs == NULL || sequence == NULL) {
        return pmb_fail("out of memory for %zu objects", nobjs);
    }
    /* the arrays' pages are resident before any reading */
    for (size_t i = 0; i < nobjs; i++) {
        objs[i] = NULL;
    }
    if (s->random) {
        shuffled(sequence, nobjs);
        nfreed = nobjs - nobjs / 10;
    }
    else {
        nfreed = 0;
        for (size_t i = 0; i < nobjs; i++) {
            if (i % (size_t)param != 0) {
                sequence[nfreed++] = (uint32_t)i;
            }
        }
    }
    batches_done = 0;
    need_reading = 0;
    for (int i = 0; i < nfirsts; i++) {
        if (firsts[i].param == param) {
            at = firsts[i].at;
            return 0;
        }
    }
    if (nfirsts == (int)(sizeof(firsts) / sizeof(firsts[0]))) {
        return pmb_fail("more fragment cases than readings kept");
    }
    firsts[nfirsts].param = param;
    at = firsts[nfirsts++].at;
    need_reading =
        1; /* in run(): unhooked, as the allocator alone leaves RSS */
    return 0;
}

static void
run_frag(gbs_state *st, int64_t param)
{
    (void)param;
    static const char *names[5] = {"before", "at_peak", "after_free",
                                   "after_collect", "after_all"};
    char name[64];
    while (gbs_keep_running(st)) {
        if (need_reading) {
            gbs_pause(st);
            int rc = frag_cycle(at);
            gbs_resume(st);
            need_reading = 0;
            if (rc < 0) {
                pmb_run_error(st);
                return;
            }
        }
        if (frag_cycle(NULL) < 0) {
            pmb_run_error(st);
            return;
        }
        batches_done++;
    }
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "rss_%s_bytes", names[i]);
        gbs_counter(st, name, (double)at[i].rss, GBS_COUNTER_DEFAULT);
        if (at[i].have_pm) {
            snprintf(name, sizeof(name), "arenas_%s", names[i]);
            gbs_counter(st, name, (double)at[i].pm.arenas,
                        GBS_COUNTER_DEFAULT);
        }
    }
    const size_t survivors = nobjs - nfreed;
    const double grown = (double)at[1].rss - (double)at[0].rss;
    const double kept = (double)at[2].rss - (double)at[0].rss;
    gbs_counter(st, "survivors", (double)survivors, GBS_COUNTER_DEFAULT);
    /* An allocator that keeps freed pages for reuse (jemalloc's decay,
     * mimalloc) has the last cycle's heap still resident: no growth to
     * divide by, so no fraction (the absolute readings still tell). */
    if (grown >= 0.25 * (double)nobjs * 32) {
        gbs_counter(st, "retained_fraction", kept / grown,
                    GBS_COUNTER_DEFAULT);
    }
    gbs_counter(st, "pinned_bytes_per_survivor", kept / (double)survivors,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "seconds_per_object",
                (double)gbs_iterations(st) * (double)nobjs,
                GBS_COUNTER_RATE | GBS_COUNTER_INVERT);
    if (at[0].have_pm && at[2].have_pm) {
        gbs_counter(st, "arena_bytes", (double)at[2].pm.arena_bytes,
                    GBS_COUNTER_DEFAULT);
        gbs_counter(st, "pinned_arena_bytes_per_survivor",
                    (double)(at[2].pm.arenas - at[0].pm.arenas) *
                        (double)at[2].pm.arena_bytes / (double)survivors,
                    GBS_COUNTER_DEFAULT);
        gbs_counter(st, "pools_used_after_free", (double)at[2].pm.pools_used,
                    GBS_COUNTER_DEFAULT);
    }
}

static int64_t
count_frag(int64_t param)
{
    (void)param;
    return frag_cycle(NULL) < 0 ? pmb_fail("building the heap failed") : 1;
}

/* Every int was allocated and freed (no freelist for ints up to 3.13;
 * the slack is for versions that add one), and every reading was taken.
 * RSS need not grow: earlier cases may have left free memory to reuse. */
static int
check_frag(const pmb_result *r)
{
    if (pmb_check_batches(r, batches_done, 1) < 0) {
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        if (at[i].rss == 0) {
            return pmb_fail("reading %d of RSS is missing", i);
        }
    }
    if (r->hook &&
        r->delta.allocs + 128 < (uint64_t)nobjs * (uint64_t)r->iterations) {
        return pmb_fail("the hook saw %llu allocations for %zu ints",
                        (unsigned long long)r->delta.allocs, nobjs);
    }
    return pmb_check_no_leak(r, 128);
}

/* ---- threads: allocation from several threads at once ------------------ */

enum { TH_RAW, TH_OBJ_GIL, TH_OBJ_NOGIL };

typedef struct thread_spec {
    int kind;
} thread_spec;

static int nthreads;
static int thread_failures; /* allocations that failed; under failures_mu */
static pthread_mutex_t failures_mu = PTHREAD_MUTEX_INITIALIZER;

static void
thread_job(int index, void *arg)
{
    const int kind = *(const int *)arg;
    void *(*get)(size_t) = kind == TH_RAW ? PyMem_RawMalloc : PyObject_Malloc;
    void (*put)(void *) = kind == TH_RAW ? PyMem_RawFree : PyObject_Free;
    void *ring[THREAD_RING] = {NULL};
    int failed = 0;
    if (kind != TH_RAW) {
        wk_attach(index);
    }
    for (int i = 0; i < THREAD_OPS; i++) {
        void **slot = &ring[i % THREAD_RING];
        put(*slot);
        char *p = *slot = get(64);
        if (p == NULL) {
            failed++;
            continue;
        }
        p[0] = (char)i;
        if (kind == TH_OBJ_GIL && (i + 1) % THREAD_CHUNK == 0) {
            wk_detach(index); /* let the other thread in */
            wk_attach(index);
        }
    }
    for (int i = 0; i < THREAD_RING; i++) {
        put(ring[i]);
    }
    if (kind != TH_RAW) {
        wk_detach(index);
    }
    if (failed) {
        pthread_mutex_lock(&failures_mu);
        thread_failures += failed;
        pthread_mutex_unlock(&failures_mu);
    }
}

static int
setup_threads(int64_t param)
{
    const thread_spec *s = pmb_data();
#ifdef Py_GIL_DISABLED
    if (s->kind == TH_OBJ_GIL) {
        return pmb_skip("this free-threaded build has no GIL; see "
                        "threads/PyObject_Malloc/nogil");
    }
#else
    if (s->kind == TH_OBJ_NOGIL) {
        return pmb_skip("needs a free-threaded build (Py_GIL_DISABLED); "
                        "Python %s has a GIL",
                        PY_VERSION);
    }
#endif
    nthreads = (int)param;
    thread_failures = 0;
    batches_done = 0;
    return wk_start(nthreads) < 0 ? -1 : 0;
}

static void
run_threads(gbs_state *st, int64_t param)
{
    (void)param;
    const thread_spec *s = pmb_data();
    while (gbs_keep_running_batch(st, (int64_t)THREAD_OPS * nthreads)) {
        wk_run(thread_job, (void *)&s->kind);
        batches_done++;
    }
    gbs_counter(st, "threads", nthreads, GBS_COUNTER_DEFAULT);
}

static int64_t
count_threads(int64_t param)
{
    (void)param;
    const thread_spec *s = pmb_data();
    wk_run(thread_job, (void *)&s->kind);
    return (int64_t)THREAD_OPS * nthreads;
}

/* Every thread's every allocation succeeded, and the hook (one lock for
 * all threads) saw each one and each free. */
static int
check_threads(const pmb_result *r)
{
    if (thread_failures != 0) {
        return pmb_fail("%d allocations failed", thread_failures);
    }
    if (pmb_check_batches(r, batches_done, (int64_t)THREAD_OPS * nthreads) <
        0) {
        return -1;
    }
    if (r->hook &&
        (r->delta.allocs != (uint64_t)r->iterations ||
         r->delta.frees != (uint64_t)r->iterations || r->live_blocks != 0)) {
        return pmb_fail("the hook saw %llu allocs and %llu frees for %lld "
                        "from %d threads",
                        (unsigned long long)r->delta.allocs,
                        (unsigned long long)r->delta.frees,
                        (long long)r->iterations, nthreads);
    }
    return 0;
}

static void
teardown_threads(void)
{
    wk_stop();
}

/* ---- the table ---------------------------------------------------------- */

static const int64_t sizes[] = {8, 32, 128, 256, 512, 1024, 4096, 0};
static const int64_t burst_sizes[] = {32, 256, 512, 1024, 4096, 0};
static const int64_t order_sizes[] = {32, 1024, 0};
static const int64_t grow_sizes[] = {1024, 65536, 0};
static const int64_t random_heaps[] = {100000, 1000000, 0};
static const int64_t keep_every[] = {1000, 100000, 0};
/* The quick suite's: each row builds and frees its heap at every repetition
 * (2 to 4 s a row at a million ints or more) */
static const int64_t quick_random_heaps[] = {100000, 0};
static const int64_t quick_keep_every[] = {1000, 0};
static const int64_t thread_counts[] = {1, 2, 0};

#define RAW(api, apiname, regime, burst, ordername, order, sweep, text)    \
    {                                                                      \
        .name = apiname "/" regime "/" ordername, .setup = setup_raw,      \
        .run = run_blocks, .check = check_raw, .teardown = teardown_alloc, \
        .params = sweep, .doc = text, .count = count_blocks,               \
        .data = &(const raw_spec)                                          \
        {                                                                  \
            api, raw_batch, burst, order                                   \
        }                                                                  \
    }

#define RAW_API(api, apiname, what)                                          \
    RAW(api, apiname, "steady", 0, "lifo", LIFO, sizes,                      \
        what ": 64 blocks of N bytes, freed last-in first-out; iteration = " \
             "alloc + free"),                                                \
        RAW(api, apiname, "burst", 1, "lifo", LIFO, burst_sizes,             \
            what ": 8 MiB of N-byte blocks, then all freed LIFO; iteration " \
                 "= alloc + free"),                                          \
        RAW(api, apiname, "burst", 1, "fifo", FIFO, order_sizes,             \
            what ": the burst, freed FIFO"),                                 \
        RAW(api, apiname, "burst", 1, "random", RANDOM, order_sizes,         \
            what ": the burst, freed in random order"),                      \
    {                                                                        \
        .name = apiname "/realloc", .setup = setup_grow, .run = run_blocks,  \
        .check = check_grow, .teardown = teardown_alloc,                     \
        .params = grow_sizes, .count = count_blocks,                         \
        .data = &(const raw_spec){api, grow_batch, 0, LIFO},                 \
        .doc = what                                                          \
            ": grow one block by 16 bytes up to N; iteration = one realloc"  \
    }

#define OBJ(type, make, src, text)                                        \
    {                                                                     \
        .name = "object/" type, .setup = setup_obj, .run = run_obj,       \
        .check = check_obj, .teardown = teardown_obj, .count = count_obj, \
        .counts_setup = 1, .doc = text, .data = &(const obj_spec)         \
        {                                                                 \
            make, src                                                     \
        }                                                                 \
    }

#define INSTANCE_INIT \
    "    def __init__(self):\n        self.a = 1\n        self.b = 2\n"

#define THREADS(what, kind, text)                                            \
    {                                                                        \
        .name = "threads/" what, .setup = setup_threads, .run = run_threads, \
        .check = check_threads, .teardown = teardown_threads,                \
        .params = thread_counts, .count = count_threads, .real_time = 1,     \
        .doc = text, .data = &(const thread_spec)                            \
        {                                                                    \
            kind                                                             \
        }                                                                    \
    }

static const pmb_case cases[] = {
    RAW_API(&api_obj, "PyObject_Malloc",
            "PyObject_Malloc/Free (pymalloc <= 512 B)"),
    RAW_API(&api_mem, "PyMem_Malloc", "PyMem_Malloc/Free"),
    RAW_API(&api_raw, "PyMem_RawMalloc",
            "PyMem_RawMalloc/Free (no GIL needed)"),
    RAW_API(&api_libc, "malloc", "physical reference, libc malloc/free"),
    OBJ("int", make_int, NULL,
        "PyLong_FromLong(1000000 + i); iteration = create + drop one"),
    OBJ("float", make_float, NULL, "PyFloat_FromDouble(i + 0.5)"),
    OBJ("tuple", make_tuple, NULL, "PyTuple_Pack(2, s, s)"),
    OBJ("list", make_list, NULL, "PyList_New(2) filled with s, s"),
    OBJ("dict", make_dict, NULL, "PyDict_New() then d[s] = s"),
    OBJ("instance", make_instance, "class C:\n" INSTANCE_INIT,
        "C() of a plain class whose __init__ sets self.a and self.b"),
    OBJ("slots_instance", make_instance,
        "class C:\n    __slots__ = ('a', 'b')\n" INSTANCE_INIT,
        "the same with __slots__ = ('a', 'b')"),
    {.name = "fragment/random90",
     .setup = setup_frag,
     .run = run_frag,
     .check = check_frag,
     .teardown = teardown_alloc,
     .params = random_heaps,
     .quick_params = quick_random_heaps,
     .count = count_frag,
     .data = &(const frag_spec){1},
     .doc = "N ints, a random 90% freed: RSS before, at peak, after, after "
            "gc.collect()"},
    {.name = "fragment/keep_one_in",
     .setup = setup_frag,
     .run = run_frag,
     .check = check_frag,
     .teardown = teardown_alloc,
     .params = keep_every,
     .quick_params = quick_keep_every,
     .count = count_frag,
     .data = &(const frag_spec){0},
     .doc = "2^21 ints, all but one in every N freed: what one survivor pins "
            "(arenas)"},
    THREADS("PyMem_RawMalloc", TH_RAW,
            "threads each alloc/free 64 B through the RAW domain, no GIL; "
            "iteration = a pair"),
    THREADS("PyObject_Malloc/gil", TH_OBJ_GIL,
            "threads each alloc/free 64 B objects, holding the GIL 256 pairs "
            "at a time"),
    THREADS("PyObject_Malloc/nogil", TH_OBJ_NOGIL,
            "the same without a GIL (free-threaded builds only)"),
    {NULL},
};

int
wl_alloc_register(void)
{
    return pmb_register_family("alloc", cases);
}
