/* test_memhook.c - the counting hook counts exactly what is asked of it.
 * Embeds the interpreter it is built for. Exit 0 when every check holds;
 * otherwise 1, naming the first broken one. */
#include "memhook.h"
#include "pyx.h"
#include "expect.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1000

typedef void *(*alloc_fn)(size_t);
typedef void (*free_fn)(void *);

/* N allocations of sizes 1..N through one API, then N frees. */
static void
exact_counts(const char *api, alloc_fn do_alloc, free_fn do_free)
{
    static void *blocks[N];
    memhook_counts a, b, c;
    uint64_t sum = 0;

    memhook_reset_peak();
    memhook_read_total(&a);
    for (int i = 0; i < N; i++) {
        blocks[i] = do_alloc((size_t)i + 1);
        sum += (uint64_t)i + 1;
    }
    memhook_read_total(&b);
    for (int i = 0; i < N; i++) {
        do_free(blocks[i]);
    }
    memhook_read_total(&c);
    EXPECT(b.allocs - a.allocs == N,
           "%s: %llu allocations counted, expected %d", api,
           (unsigned long long)(b.allocs - a.allocs), N);
    EXPECT(b.bytes - a.bytes == sum, "%s: %llu bytes counted, expected %llu",
           api, (unsigned long long)(b.bytes - a.bytes),
           (unsigned long long)sum);
    EXPECT(b.live_blocks - a.live_blocks == N,
           "%s: live blocks +%llu, expected +%d", api,
           (unsigned long long)(b.live_blocks - a.live_blocks), N);
    EXPECT(b.live_bytes - a.live_bytes == sum, "%s: live bytes wrong", api);
    EXPECT(b.peak_bytes >= a.live_bytes + sum,
           "%s: peak %llu below the %llu live", api,
           (unsigned long long)b.peak_bytes,
           (unsigned long long)(a.live_bytes + sum));
    EXPECT(c.frees - b.frees == N, "%s: %llu frees counted, expected %d", api,
           (unsigned long long)(c.frees - b.frees), N);
    EXPECT(c.live_blocks == a.live_blocks && c.live_bytes == a.live_bytes,
           "%s: live counts not back where they started", api);
    printf("%s: %d allocations of %llu bytes counted exactly\n", api, N,
           (unsigned long long)sum);
}

/* The side table under load: DENSE blocks of the densest class (sizes 1 to
 * 16: pymalloc's 16-byte blocks, 256 to a page) grow the table 5 or 6
 * times from its start (at most 1 slot in 2 used) and crowd its runs;
 * freed in an order unlike the allocations' (every odd one, then the even
 * ones from the last), each free must still find its size: the live bytes
 * come back exactly. A deletion that shifts nothing back, or shifts a block
 * before its home, loses blocks here; the wrap-around at the table's end is
 * reached only if a cluster crosses it, which these addresses may not do. */
#define DENSE ((size_t)1 << 20)

static void
dense_table(void)
{
    void **blocks = malloc(DENSE * sizeof(void *));
    memhook_counts a, b, c;
    uint64_t sum = 0;

    EXPECT(blocks != NULL, "no memory for the dense test's pointers");
    memhook_read(MEMHOOK_OBJ, &a);
    for (size_t i = 0; i < DENSE; i++) {
        blocks[i] = PyObject_Malloc(i % 16 + 1);
        EXPECT(blocks[i] != NULL, "PyObject_Malloc failed at block %zu", i);
        sum += i % 16 + 1;
    }
    memhook_read(MEMHOOK_OBJ, &b);
    for (size_t i = 1; i < DENSE; i += 2) {
        PyObject_Free(blocks[i]);
    }
    for (size_t i = DENSE; i >= 2; i -= 2) {
        PyObject_Free(blocks[i - 2]);
    }
    memhook_read(MEMHOOK_OBJ, &c);
    free(blocks);
    EXPECT(b.live_blocks - a.live_blocks == DENSE &&
               b.live_bytes - a.live_bytes == sum,
           "dense: +%llu live blocks of %llu bytes, expected %zu of %llu",
           (unsigned long long)(b.live_blocks - a.live_blocks),
           (unsigned long long)(b.live_bytes - a.live_bytes), DENSE,
           (unsigned long long)sum);
    EXPECT(c.frees - b.frees == DENSE && c.live_blocks == a.live_blocks &&
               c.live_bytes == a.live_bytes,
           "dense: %llu frees; live %llu blocks of %llu bytes, expected "
           "%llu of %llu",
           (unsigned long long)(c.frees - b.frees),
           (unsigned long long)c.live_blocks, (unsigned long long)c.live_bytes,
           (unsigned long long)a.live_blocks,
           (unsigned long long)a.live_bytes);
    printf("dense: %zu blocks of 1 to 16 bytes (%llu in all) tracked and "
           "freed exactly\n",
           DENSE, (unsigned long long)sum);
}

static void *
obj_alloc(size_t n)
{
    return PyObject_Malloc(n);
}
static void
obj_free(void *p)
{
    PyObject_Free(p);
}
static void *
mem_alloc(size_t n)
{
    return PyMem_Malloc(n);
}
static void
mem_free(void *p)
{
    PyMem_Free(p);
}
static void *
raw_alloc(size_t n)
{
    return PyMem_RawMalloc(n);
}
static void
raw_free(void *p)
{
    PyMem_RawFree(p);
}

/* The RAW domain is thread-safe without the GIL: count from a thread. */
static void *
raw_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        void *p = PyMem_RawMalloc(64);
        PyMem_RawFree(p);
    }
    return NULL;
}

/* The Nth request in a chosen domain fails, and every Nth after it; other
 * domains, and the requests between, are untouched; a Python call that
 * meets a failure raises MemoryError and leaks nothing. */
static void
fault_injection(void)
{
    void *blocks[10];
    uint64_t seen, nfailed;
    memhook_counts a, b;

    memhook_read_total(&a);
    memhook_fail(MEMHOOK_MASK(MEMHOOK_MEM), 3, 0);
    void *raw = PyMem_RawMalloc(16); /* another domain: not seen */
    int nulls = 0, third_failed = 0;
    for (int i = 0; i < 10; i++) {
        blocks[i] = PyMem_Malloc(16);
        nulls += blocks[i] == NULL;
        third_failed |= i == 2 && blocks[i] == NULL;
    }
    memhook_fail_read(&seen, &nfailed);
    memhook_fail(0, 0, 0);
    memhook_read_total(&b);
    EXPECT(raw != NULL, "a RAW request failed while only MEM was chosen");
    EXPECT(nulls == 1 && third_failed, "fail the 3rd MEM request: %d failed",
           nulls);
    EXPECT(seen == 10 && nfailed == 1,
           "injector saw %llu requests, failed %llu", (unsigned long long)seen,
           (unsigned long long)nfailed);
    EXPECT(b.allocs - a.allocs == 10,
           "a failed request was counted as an allocation");
    for (int i = 0; i < 10; i++) {
        PyMem_Free(blocks[i]);
    }
    PyMem_RawFree(raw);

    memhook_fail(MEMHOOK_MASK_ALL, 2, 4); /* the 2nd, 6th, 10th... */
    nulls = 0;
    int pattern_ok = 1;
    for (int i = 0; i < 10; i++) {
        blocks[i] = PyObject_Malloc(32);
        nulls += blocks[i] == NULL;
        pattern_ok &= (blocks[i] == NULL) == (i % 4 == 1);
    }
    void *q = PyMem_RawMalloc(8);
    char *r = PyMem_RawRealloc(q, 64); /* the 12th request: kept */
    memhook_fail(0, 0, 0);
    EXPECT(nulls == 3 && pattern_ok, "every 4th from the 2nd: %d failed",
           nulls);
    EXPECT(q != NULL && r != NULL, "requests between the failing ones failed");
    for (int i = 0; i < 10; i++) {
        PyObject_Free(blocks[i]);
    }
    PyMem_RawFree(r);

    /* a failed realloc leaves the block intact and tracked */
    char *s = PyMem_Malloc(8);
    memcpy(s, "kept", 5);
    memhook_read_total(&a);
    memhook_fail(MEMHOOK_MASK(MEMHOOK_MEM), 1, 0);
    char *t = PyMem_Realloc(s, 4096);
    memhook_fail(0, 0, 0);
    memhook_read_total(&b);
    EXPECT(t == NULL && strcmp(s, "kept") == 0,
           "failed realloc moved or lost the block");
    EXPECT(b.live_blocks == a.live_blocks && b.live_bytes == a.live_bytes,
           "failed realloc changed the live counts");
    PyMem_Free(s);

    /* Python code meeting the failure: MemoryError, nothing leaked */
    PyObject *warm = PyList_New(0);
    Py_XDECREF(warm);
    memhook_read_total(&a);
    memhook_fail(MEMHOOK_MASK_ALL, 1, 1); /* every request fails */
    PyObject *big = PyBytes_FromStringAndSize(NULL, 100000);
    memhook_fail(0, 0, 0);
    int was_memory_error =
        big == NULL && PyErr_ExceptionMatches(PyExc_MemoryError);
    Py_XDECREF(big);
    PyErr_Clear();
    memhook_read_total(&b);
    EXPECT(was_memory_error,
           "a failed bytes allocation did not raise MemoryError");
    EXPECT(b.live_blocks == a.live_blocks,
           "MemoryError path left %lld blocks live",
           (long long)(b.live_blocks - a.live_blocks));
    printf(
        "fault injection: the Nth and every Nth request failed as chosen\n");
}

/* Near fn's code: a return address into it (fn's body is short). */
static int
in_fn(const void *pc, void (*fn)(void))
{
    const char *start = (const char *)(uintptr_t)fn;
    return (const char *)pc > start && (const char *)pc < start + 512;
}

static void *made[3];

__attribute__((noinline)) static void
site_maker(void)
{
    for (int i = 0; i < 3; i++) {
        made[i] = PyMem_Malloc(24);
    }
    __asm__ __volatile__("" ::: "memory"); /* not a tail call */
}

static int site_blocks, site_in_maker;

static void
count_site(const void *block, size_t size, void *const *frames, int n,
           void *arg)
{
    (void)arg;
    (void)size;
    int mine = 0;
    for (int i = 0; i < n && i < 4; i++) {
        mine |= in_fn(frames[i], site_maker);
    }
    site_blocks += block == made[0] || block == made[1] || block == made[2];
    site_in_maker += mine;
}

static void *fault_frames[MEMHOOK_SITE_FRAMES];
static int fault_n;

__attribute__((noinline)) static void
fault_maker(void)
{
    memhook_fail(MEMHOOK_MASK(MEMHOOK_MEM), 1, 0);
    made[0] = PyMem_Malloc(8);
    memhook_fail(0, 0, 0);
    __asm__ __volatile__("" ::: "memory");
}

/* Where blocks and a failed request came from: the stacks the hook keeps
 * start at the domain's entry point, our caller a frame or two up; a
 * freed block's stack goes with it; off, none is kept. */
static void
sites(void)
{
    EXPECT(memhook_sites(1) == 0, "cannot keep allocation stacks");
    site_maker();
    PyMem_Free(made[1]);
    made[1] = NULL;
    site_blocks = site_in_maker = 0;
    memhook_sites_each(count_site, NULL);
    EXPECT(site_blocks == 2, "%d live blocks of 2 have a stack", site_blocks);
    EXPECT(site_in_maker >= 2, "%d stacks reach the caller", site_in_maker);
    memhook_sites(0);
    site_blocks = site_in_maker = 0;
    memhook_sites_each(count_site, NULL);
    EXPECT(site_blocks == 0, "stacks kept after memhook_sites(0)");
    PyMem_Free(made[0]);
    PyMem_Free(made[2]);

    memhook_fail_site(fault_frames, MEMHOOK_SITE_FRAMES, &fault_n);
    fault_maker();
    memhook_fail_site(NULL, 0, NULL);
    int mine = 0;
    for (int i = 0; i < fault_n && i < 4; i++) {
        mine |= in_fn(fault_frames[i], fault_maker);
    }
    EXPECT(made[0] == NULL && fault_n > 0 && mine,
           "the failed request's stack (%d frames) misses its caller",
           fault_n);
    printf("sites: live blocks and a failed request keep their callers\n");
}

int
main(void)
{
    char err[256];
    if (pyx_start("default", PYMB_PYTHON_HOME, err, sizeof(err)) != 0) {
        printf("FAIL: cannot start Python: %s\n", err);
        return 1;
    }
    EXPECT(memhook_install() == 0, "install failed");
    EXPECT(memhook_install() != 0, "a second install was accepted");

    exact_counts("PyMem_Malloc", mem_alloc, mem_free);
    /* sizes 513..1000 go from pymalloc to PyMem_RawMalloc: counted once */
    exact_counts("PyObject_Malloc", obj_alloc, obj_free);
    exact_counts("PyMem_RawMalloc", raw_alloc, raw_free);
    dense_table();

    /* calloc and realloc */
    memhook_counts a, b;
    memhook_read_total(&a);
    char *p = PyMem_Calloc(10, 10);
    EXPECT(p != NULL && p[99] == 0, "calloc did not zero");
    p = PyMem_Realloc(p, 4000);
    memhook_read_total(&b);
    EXPECT(b.allocs - a.allocs == 1 && b.reallocs - a.reallocs == 1,
           "calloc+realloc counted as %llu allocs, %llu reallocs",
           (unsigned long long)(b.allocs - a.allocs),
           (unsigned long long)(b.reallocs - a.reallocs));
    EXPECT(b.live_bytes - a.live_bytes == 4000,
           "realloc live bytes %llu, expected 4000",
           (unsigned long long)(b.live_bytes - a.live_bytes));
    PyMem_Free(p);

    /* per-domain attribution */
    memhook_counts obj_a, obj_b, raw_a, raw_b;
    memhook_read(MEMHOOK_OBJ, &obj_a);
    memhook_read(MEMHOOK_RAW, &raw_a);
    PyObject_Free(
        PyObject_Malloc(100000)); /* large: pymalloc passes it to RAW */
    memhook_read(MEMHOOK_OBJ, &obj_b);
    memhook_read(MEMHOOK_RAW, &raw_b);
    EXPECT(obj_b.allocs - obj_a.allocs == 1 && raw_b.allocs == raw_a.allocs,
           "a large PyObject_Malloc was not counted once, in the OBJ domain");

    /* a thread without the GIL */
    memhook_read(MEMHOOK_RAW, &raw_a);
    Py_BEGIN_ALLOW_THREADS pthread_t t1, t2;
    pthread_create(&t1, NULL, raw_thread, NULL);
    pthread_create(&t2, NULL, raw_thread, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    Py_END_ALLOW_THREADS memhook_read(MEMHOOK_RAW, &raw_b);
    EXPECT(raw_b.allocs - raw_a.allocs == 2 * N &&
               raw_b.frees - raw_a.frees == 2 * N,
           "two threads: %llu allocs and %llu frees counted, expected %d each",
           (unsigned long long)(raw_b.allocs - raw_a.allocs),
           (unsigned long long)(raw_b.frees - raw_a.frees), 2 * N);

    fault_injection();
    sites();

    /* switched off: nothing counted */
    memhook_uninstall();
    memhook_read_total(&a);
    PyMem_Free(PyMem_Malloc(10));
    memhook_read_total(&b);
    EXPECT(b.allocs == a.allocs, "counted after uninstall");

    if (pyx_finish() < 0) {
        printf("FAIL: Py_FinalizeEx failed\n");
        return 1;
    }
    if (!failed) {
        printf("ok: the hook counted every request exactly\n");
    }
    return failed;
}
