/* buffers.c - the buffers family (benchmarks): what reading memory through
 * the buffer protocol (PEP 3118, and PEP 688's __buffer__ on 3.12+) costs
 * without copying, against the copying paths, from 16 bytes to 256 MiB,
 * with memcpy into a warm and into a fresh destination as the physical
 * reference.
 *
 * One iteration makes one product and drops it: a view of the source
 * (zero-copy), a fresh copy of it, or a preallocated destination filled
 * (readinto, memcpy). Allocation dominates the small sizes, so every case
 * is timed without the counting hook and counted from one untimed batch
 * under it (pmb_case.count). Every check takes one more product and proves
 * where its bytes are: in the source itself (a view), in memory apart from
 * it (a copy) or in the destination; that they equal the source; that the
 * hook saw a copy allocate at least its size and a view a small constant;
 * and, from the exporter's own counters, that every export was taken and
 * released.
 *
 * Ownership: `bf` holds owned references to all that setup makes, dropped
 * by teardown. An op hands its product to a non-NULL `keep` (the check
 * then owns it and drops it with product_clear), else drops it itself.
 */
#include "cases.h"
#include "exporter.h"
#include "npimport.h"
#include "ownmem.h"
#include "procmem.h"
#include "pyx.h"
#include "workloads.h"

#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAD 64 /* bytes either side of a sliced source's window */
#define PATTERN_PERIOD \
    4093 /* prime, and its bytes hashed: a shifted copy cannot match */
#define BATCH_BYTES (256 << 10) /* bytes a batch of copies moves, at most */
#define MAX_BATCH 100           /* iterations per shim call, at most */
#define VIEW_BYTES_MAX 1024     /* what a view may allocate per iteration */
#define NUMPY_CACHE_SLACK 64    /* blocks numpy's dimension cache may keep */

/* What one iteration leaves for a check: an object, a held Py_buffer, or a
 * C block; plus what a call returned, where it returns a count. */
typedef struct bf_product {
    PyObject *obj;  /* owned */
    Py_buffer view; /* held when has_view */
    int has_view;
    char *block; /* a C destination */
    enum { BLOCK_BORROWED, BLOCK_MMAP, BLOCK_MALLOC } block_kind;
    Py_ssize_t returned; /* readinto's count; -1 elsewhere */
} bf_product;

enum bf_source {
    SRC_PATTERN,
    SRC_EXPORTER_RO,
    SRC_EXPORTER_RW,
    SRC_BYTES,
    SRC_BYTEARRAY,
    SRC_PEP688,
    SRC_NDARRAY /* a numpy uint8 array owning a copy of the pattern */
};
enum bf_result { RES_VIEW, RES_COPY, RES_INTO };

typedef struct bf_spec {
    int (*op)(bf_product *keep); /* one iteration */
    int (*prepare)(void); /* what op needs besides the source; may be NULL */
    int (*extra)(
        bf_product *p); /* a further check on a held product; may be NULL */
    enum bf_source source;
    int sliced; /* the source has PAD bytes either side of the n taken */
    enum bf_result result; /* where the product's bytes must be */
    int exports;           /* Exporter exports each iteration takes */
    int c_only; /* never allocates through Python: the hook sees nothing */
    int flags;  /* PyBUF_* flags of a getbuffer op */
    PyTypeObject *type; /* what op_call1 calls: bytes, bytearray */
    const char *numpy;  /* or numpy.<this> (frombuffer, array) */
    /* numpy: an array's bytes come from numpy's own allocator (malloc),
     * which the hook does not see, and numpy keeps a cache of small blocks
     * (shapes and strides) that outlives a batch */
    int numpy_alloc;
} bf_spec;

static struct {
    const bf_spec *spec;
    Py_ssize_t n;    /* bytes per iteration: the case's param */
    char *pattern;   /* ownmem: the expected bytes, n (+ 2 PAD when sliced) */
    size_t span;     /* bytes in pattern and in the source */
    PyObject *src;   /* the source object, or NULL for SRC_PATTERN */
    PyObject *inner; /* PEP 688: the Exporter behind the Python class */
    PyObject *counted;  /* PEP 688: a Counted688 over the same Exporter */
    const char *src_lo; /* the source's memory */
    const char *expect; /* where a view must point */
    PyObject *target; /* what op acts on: src, a memoryview of it, a BytesIO */
    PyObject *key;    /* slices: slice(PAD, PAD + n) */
    PyObject *callable; /* call ops: a type or a bound method */
    PyObject *seek, *io_op, *pos, *count; /* BytesIO: bound methods, PAD, n */
    PyObject *dest;                       /* readinto: a bytearray of n */
    char *dst;                            /* memcpy: ownmem of n */
    Py_ssize_t held; /* exports of the source setup holds (a view target) */
    int64_t batch;
    int64_t batches_done;
    int64_t run_gets; /* Exporter exports taken during the timed run */
} bf;

/* --- products --------------------------------------------------------------
 */

/* Hand obj (a new reference) to keep, or drop it. */
static inline int
done_object(bf_product *keep, PyObject *obj)
{
    if (keep != NULL) {
        keep->obj = obj;
        return 0;
    }
    gbs_do_not_optimize_ptr(obj);
    Py_DECREF(obj);
    return 0;
}

/* Hand a filled C destination to keep, or give it back. */
static inline int
done_block(bf_product *keep, char *block, int kind)
{
    if (keep != NULL) {
        keep->block = block;
        keep->block_kind = kind;
        return 0;
    }
    gbs_do_not_optimize_ptr(block);
    gbs_clobber_memory(); /* the copy must happen before the block goes */
    if (kind == BLOCK_MMAP) {
        munmap(block, (size_t)bf.n);
    }
    else if (kind == BLOCK_MALLOC) {
        free(block);
    }
    return 0;
}

static void
product_clear(bf_product *p)
{
    Py_CLEAR(p->obj);
    if (p->has_view) {
        PyBuffer_Release(&p->view);
        p->has_view = 0;
    }
    if (p->block != NULL && p->block_kind != BLOCK_BORROWED) {
        done_block(NULL, p->block, p->block_kind);
    }
    p->block = NULL;
}

/* --- the ops: one iteration each
 * --------------------------------------------- */

static int
op_memcpy(bf_product *keep)
{
    memcpy(bf.dst, bf.pattern, (size_t)bf.n);
    return done_block(keep, bf.dst, BLOCK_BORROWED);
}

static int
op_memcpy_mmap(bf_product *keep)
{
    char *d = mmap(NULL, (size_t)bf.n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d == MAP_FAILED) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(d, bf.pattern, (size_t)bf.n);
    return done_block(keep, d, BLOCK_MMAP);
}

static int
op_memcpy_malloc(bf_product *keep)
{
    char *d = malloc((size_t)bf.n);
    if (d == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(d, bf.pattern, (size_t)bf.n);
    return done_block(keep, d, BLOCK_MALLOC);
}

static int
op_from_memory(bf_product *keep)
{
    PyObject *mv = PyMemoryView_FromMemory(bf.pattern, bf.n, PyBUF_READ);
    return mv != NULL ? done_object(keep, mv) : -1;
}

static int
op_from_string(bf_product *keep)
{
    PyObject *b = PyBytes_FromStringAndSize(bf.pattern, bf.n);
    return b != NULL ? done_object(keep, b) : -1;
}

static int
op_memoryview(bf_product *keep)
{
    PyObject *mv = PyMemoryView_FromObject(bf.target);
    return mv != NULL ? done_object(keep, mv) : -1;
}

static int
op_getbuffer(bf_product *keep)
{
    Py_buffer view;
    if (PyObject_GetBuffer(bf.target, &view, bf.spec->flags) < 0) {
        return -1;
    }
    if (keep != NULL) {
        keep->view = view;
        keep->has_view = 1;
        return 0;
    }
    gbs_do_not_optimize_ptr(view.buf);
    PyBuffer_Release(&view);
    return 0;
}

static int
op_slice(bf_product *keep)
{
    PyObject *s = PyObject_GetItem(bf.target, bf.key);
    return s != NULL ? done_object(keep, s) : -1;
}

/* memoryview(src)[PAD:PAD+n], the view made and dropped every time. */
static int
op_view_slice(bf_product *keep)
{
    PyObject *mv = PyMemoryView_FromObject(bf.target);
    if (mv == NULL) {
        return -1;
    }
    PyObject *s = PyObject_GetItem(mv, bf.key);
    Py_DECREF(mv); /* the slice keeps the export */
    return s != NULL ? done_object(keep, s) : -1;
}

static int
op_call0(bf_product *keep)
{
    PyObject *r = pyx_call0(bf.callable);
    return r != NULL ? done_object(keep, r) : -1;
}

static int
op_call1(bf_product *keep)
{
    PyObject *r = pyx_call1(bf.callable, bf.target);
    return r != NULL ? done_object(keep, r) : -1;
}

/* bio.seek(PAD), which both io ops start with. */
static inline int
seek_pad(void)
{
    PyObject *r = pyx_call1(bf.seek, bf.pos);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* bio.seek(PAD); bio.read(n): a new bytes object. */
static int
op_read(bf_product *keep)
{
    if (seek_pad() < 0) {
        return -1;
    }
    PyObject *r = pyx_call1(bf.io_op, bf.count);
    return r != NULL ? done_object(keep, r) : -1;
}

/* bio.seek(PAD); bio.readinto(dest): n bytes into the same bytearray. */
static int
op_readinto(bf_product *keep)
{
    if (seek_pad() < 0) {
        return -1;
    }
    PyObject *r = pyx_call1(bf.io_op, bf.dest);
    if (r == NULL) {
        return -1;
    }
    if (keep != NULL) {
        keep->returned = PyLong_AsSsize_t(r);
        Py_DECREF(r);
        Py_INCREF(bf.dest);
        return done_object(keep, bf.dest);
    }
    gbs_do_not_optimize_ptr(r);
    Py_DECREF(r);
    return 0;
}

/* --- what ops need besides the source (spec.prepare) -----------------------
 */

/* The destination is written once here, so every page of it is resident:
 * the timed copies find it warm. */
static int
prep_dst(void)
{
    bf.dst = ownmem_alloc((size_t)bf.n);
    if (bf.dst == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(bf.dst, 1, (size_t)bf.n);
    return 0;
}

/* The op acts on a memoryview of the source (held through the run). */
static int
prep_view(void)
{
    PyObject *mv = PyMemoryView_FromObject(bf.src);
    if (mv == NULL) {
        return -1;
    }
    Py_SETREF(bf.target, mv);
    return 0;
}

static int
prep_key(void)
{
    PyObject *lo = PyLong_FromSsize_t(PAD);
    PyObject *hi = PyLong_FromSsize_t(PAD + bf.n);
    if (lo != NULL && hi != NULL) {
        bf.key = PySlice_New(lo, hi, NULL);
    }
    Py_XDECREF(lo);
    Py_XDECREF(hi);
    return bf.key != NULL ? 0 : -1;
}

static int
prep_view_key(void)
{
    return prep_view() < 0 ? -1 : prep_key();
}

static int
prep_type(void)
{
    bf.callable = (PyObject *)bf.spec->type;
    Py_INCREF(bf.callable);
    return 0;
}

static int
prep_tobytes(void)
{
    if (prep_view() < 0) {
        return -1;
    }
    bf.callable = PyObject_GetAttrString(bf.target, "tobytes");
    return bf.callable != NULL ? 0 : -1;
}

/* numpy.<spec.numpy>, for op_call1. */
static int
prep_numpy(void)
{
    PyObject *np = PyImport_ImportModule("numpy");
    if (np == NULL) {
        return -1;
    }
    bf.callable = PyObject_GetAttrString(np, bf.spec->numpy);
    Py_DECREF(np);
    return bf.callable != NULL ? 0 : -1;
}

/* The source's own tobytes (an ndarray's), for op_call0. */
static int
prep_src_tobytes(void)
{
    bf.callable = PyObject_GetAttrString(bf.src, "tobytes");
    return bf.callable != NULL ? 0 : -1;
}

/* A BytesIO over the source and its bound seek and `io_op` methods. */
static int
prep_bytesio(const char *io_op)
{
    PyObject *io = PyImport_ImportModule("io");
    if (io == NULL) {
        return -1;
    }
    PyObject *bio = PyObject_CallMethod(io, "BytesIO", "O", bf.src);
    Py_DECREF(io);
    if (bio == NULL) {
        return -1;
    }
    Py_SETREF(bf.target, bio);
    if ((bf.seek = PyObject_GetAttrString(bio, "seek")) == NULL ||
        (bf.io_op = PyObject_GetAttrString(bio, io_op)) == NULL ||
        (bf.pos = PyLong_FromSsize_t(PAD)) == NULL ||
        (bf.count = PyLong_FromSsize_t(bf.n)) == NULL ||
        (bf.dest = PyByteArray_FromStringAndSize(NULL, bf.n)) == NULL) {
        return -1; /* teardown drops what was made */
    }
    memset(PyByteArray_AS_STRING(bf.dest), 1,
           (size_t)bf.n); /* resident, as prep_dst */
    return 0;
}

static int
prep_read(void)
{
    return prep_bytesio("read");
}

static int
prep_readinto(void)
{
    return prep_bytesio("readinto");
}

/* --- sources
 * ------------------------------------------------------------------ */

/* A Python class exporting through PEP 688: __buffer__ returns a view of
 * the C Exporter it wraps, so the Exporter's counters see every export.
 * Counted688 is the same class but for a __release_buffer__ that counts its
 * calls: the check takes one export of it (a counter in the timed class
 * would be timed). make(inner) returns one of each over the same Exporter. */
static const char pep688_src[] =
    "class Exporter688:\n"
    "    __slots__ = ('inner',)\n"
    "    def __init__(self, inner):\n"
    "        self.inner = inner\n"
    "    def __buffer__(self, flags):\n"
    "        return memoryview(self.inner)\n"
    "    def __release_buffer__(self, view):\n"
    "        view.release()\n"
    "class Counted688(Exporter688):\n"
    "    __slots__ = ('releases',)\n"
    "    def __init__(self, inner):\n"
    "        Exporter688.__init__(self, inner)\n"
    "        self.releases = 0\n"
    "    def __release_buffer__(self, view):\n"
    "        self.releases += 1\n"
    "        Exporter688.__release_buffer__(self, view)\n"
    "def make(inner):\n"
    "    return Exporter688(inner), Counted688(inner)\n";

static void
fill_pattern(char *p, size_t len)
{
    size_t period = PATTERN_PERIOD < len ? PATTERN_PERIOD : len;
    for (size_t i = 0; i < period; i++) {
        p[i] = (char)((uint32_t)(i + 1) * 2654435761u >>
                      24); /* Knuth's multiplicative hash */
    }
    for (size_t done = period; done < len;) {
        size_t k = done < len - done ? done : len - done;
        memcpy(p + done, p, k);
        done += k;
    }
}

/* numpy.frombuffer(bytes of the pattern, uint8).copy(): an ndarray that
 * owns its memory. A new reference, or NULL with an exception set. */
static PyObject *
ndarray_of_pattern(Py_ssize_t span)
{
    PyObject *np = NULL, *raw = NULL, *view = NULL, *arr = NULL;
    np = PyImport_ImportModule("numpy");
    raw = np != NULL ? PyBytes_FromStringAndSize(bf.pattern, span) : NULL;
    view = raw != NULL
               ? PyObject_CallMethod(np, "frombuffer", "Os", raw, "uint8")
               : NULL;
    arr = view != NULL ? PyObject_CallMethod(view, "copy", NULL) : NULL;
    Py_XDECREF(view);
    Py_XDECREF(raw);
    Py_XDECREF(np);
    return arr;
}

/* Where an ndarray's bytes are (its buffer; the array keeps them). */
static const char *
ndarray_data(PyObject *arr)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arr, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const char *p = view.buf;
    PyBuffer_Release(&view);
    return p;
}

/* bf.src and bf.src_lo for the spec's source; 0, or -1 with an exception. */
static int
make_source(const bf_spec *s)
{
    const Py_ssize_t span = (Py_ssize_t)bf.span;
    PyObject *make = NULL, *pair = NULL;
    switch (s->source) {
    case SRC_PATTERN:
        bf.src_lo = bf.pattern;
        return 0;
    case SRC_EXPORTER_RO:
    case SRC_EXPORTER_RW:
        bf.src = exporter_new(bf.pattern, span, s->source == SRC_EXPORTER_RO);
        bf.src_lo = bf.src != NULL ? exporter_data(bf.src) : NULL;
        break;
    case SRC_BYTES:
        bf.src = PyBytes_FromStringAndSize(bf.pattern, span);
        bf.src_lo = bf.src != NULL ? PyBytes_AS_STRING(bf.src) : NULL;
        break;
    case SRC_BYTEARRAY:
        bf.src = PyByteArray_FromStringAndSize(bf.pattern, span);
        bf.src_lo = bf.src != NULL ? PyByteArray_AS_STRING(bf.src) : NULL;
        break;
    case SRC_PEP688:
        bf.inner = exporter_new(bf.pattern, span, 0);
        make =
            bf.inner != NULL ? pyx_compile_function(pep688_src, "make") : NULL;
        pair = make != NULL ? pyx_call1(make, bf.inner) : NULL;
        Py_XDECREF(make);
        if (pair == NULL ||
            !PyArg_ParseTuple(pair, "OO", &bf.src, &bf.counted)) {
            Py_XDECREF(pair);
            bf.src = bf.counted = NULL;
            return -1;
        }
        Py_INCREF(bf.src); /* borrowed from pair */
        Py_INCREF(bf.counted);
        Py_DECREF(pair);
        bf.src_lo = exporter_data(bf.inner);
        break;
    case SRC_NDARRAY:
        bf.src = ndarray_of_pattern(span);
        bf.src_lo = bf.src != NULL ? ndarray_data(bf.src) : NULL;
        break;
    }
    return bf.src != NULL && bf.src_lo != NULL ? 0 : -1;
}

/* Live exports of the source's memory, where it counts them. */
static Py_ssize_t
source_exports(void)
{
    switch (bf.spec->source) {
    case SRC_EXPORTER_RO:
    case SRC_EXPORTER_RW:
        return exporter_exports(bf.src);
    case SRC_PEP688:
        return exporter_exports(bf.inner);
    case SRC_BYTEARRAY:
        return ((PyByteArrayObject *)bf.src)->ob_exports;
    default:
        return 0;
    }
}

/* --- set-up and teardown
 * ------------------------------------------------------- */

static void
teardown_buffers(void)
{
    Py_CLEAR(bf.key);
    Py_CLEAR(bf.callable);
    Py_CLEAR(bf.seek);
    Py_CLEAR(bf.io_op);
    Py_CLEAR(bf.pos);
    Py_CLEAR(bf.count);
    Py_CLEAR(bf.dest);
    Py_CLEAR(bf.target);
    Py_CLEAR(bf.src);
    Py_CLEAR(bf.counted);
    Py_CLEAR(bf.inner);
    ownmem_free(bf.dst);
    ownmem_free(bf.pattern);
    memset(&bf, 0, sizeof(bf));
}

static int
setup_buffers(int64_t param)
{
    const bf_spec *s = pmb_data();
#if PY_VERSION_HEX < 0x030C0000
    if (s->source == SRC_PEP688) {
        return pmb_skip("PEP 688 (__buffer__ in Python classes) needs Python "
                        "3.12+; this is "
                        "%s",
                        PY_VERSION);
    }
#endif
    const char *no_numpy;
    if ((s->numpy != NULL || s->source == SRC_NDARRAY) &&
        !npimport_usable(&no_numpy)) {
        return pmb_skip("%s", no_numpy);
    }
    memset(&bf, 0, sizeof(bf));
    bf.spec = s;
    bf.n = (Py_ssize_t)param;
    bf.span = (size_t)param + (s->sliced ? 2 * PAD : 0);
    bf.pattern = ownmem_alloc(bf.span);
    if (bf.pattern == NULL) {
        return pmb_fail("cannot map %zu bytes for the source pattern",
                        bf.span);
    }
    fill_pattern(bf.pattern, bf.span);
    if (make_source(s) < 0) {
        return pmb_fail("cannot make the %zu-byte source", bf.span);
    }
    bf.expect = bf.src_lo + (s->sliced ? PAD : 0);
    bf.target = bf.src;
    Py_XINCREF(bf.target);
    if (s->prepare != NULL && s->prepare() < 0) {
        return pmb_fail("cannot prepare the case");
    }
    bf.held = source_exports();
    /* Iterations per shim call: as many as keep the call's cost out of the
     * figure, as few as keep a batch of copies short. A view touches no
     * bytes: the same batch at every size, so its cost is comparable. */
    bf.batch = s->result == RES_VIEW ? MAX_BATCH
                                     : (int64_t)(BATCH_BYTES / (size_t)param);
    bf.batch = bf.batch < 1 ? 1 : bf.batch > MAX_BATCH ? MAX_BATCH : bf.batch;
    return 0;
}

/* --- the run
 * ----------------------------------------------------------------------- */

static void
run_buffers(gbs_state *st, int64_t param)
{
    int (*const op)(bf_product *) = bf.spec->op;
    const int64_t faults = procmem_minor_faults();
    const int64_t gets = exporter_get()->gets;
    while (gbs_keep_running_batch(st, bf.batch)) {
        for (int64_t i = 0; i < bf.batch; i++) {
            if (op(NULL) < 0) {
                pmb_run_error(st);
                return;
            }
        }
        bf.batches_done++;
    }
    bf.run_gets = exporter_get()->gets - gets;
    gbs_set_bytes_processed(st, gbs_iterations(st) * param);
    pmb_faults_counter(st, faults);
    gbs_set_label(st, bf.spec->result == RES_VIEW   ? "zero-copy"
                      : bf.spec->result == RES_COPY ? "copy"
                                                    : "into preallocated");
}

static int64_t
count_buffers(int64_t param)
{
    (void)param;
    for (int64_t i = 0; i < bf.batch; i++) {
        if (bf.spec->op(NULL) < 0) {
            return pmb_fail("an iteration failed");
        }
    }
    return bf.batch;
}

/* --- the checks
 * ------------------------------------------------------------------------ */

/* Where the product's bytes are, and how many. 0, or -1 via pmb_fail. */
static int
product_bytes(bf_product *p, Py_buffer *tmp, const char **ptr, Py_ssize_t *len)
{
    if (p->has_view) {
        *ptr = p->view.buf;
        *len = p->view.len;
        return 0;
    }
    if (p->block != NULL) {
        *ptr = p->block;
        *len = bf.n;
        return 0;
    }
    if (PyObject_GetBuffer(p->obj, tmp, PyBUF_SIMPLE) < 0) {
        return pmb_fail("the product (%s) exports no buffer",
                        Py_TYPE(p->obj)->tp_name);
    }
    *ptr = tmp->buf;
    *len = tmp->len;
    PyBuffer_Release(tmp); /* p->obj keeps the memory alive */
    return 0;
}

/* One more product: its bytes equal the source's, and are where the row
 * says (in the source, apart from it, or in the destination). */
static int
check_product(bf_product *p)
{
    const bf_spec *s = bf.spec;
    const char *want = s->result == RES_INTO && bf.dst != NULL ? bf.dst
                       : s->result == RES_INTO ? PyByteArray_AS_STRING(bf.dest)
                                               : bf.expect;
    const char *ptr = NULL;
    Py_ssize_t len = 0;
    Py_buffer tmp;

    if (s->result == RES_INTO) { /* the op must fill it */
        memset((char *)want, 0, (size_t)bf.n);
    }
    p->returned = -1;
    if (s->op(p) < 0) {
        return pmb_fail("the check's iteration failed");
    }
    if (product_bytes(p, &tmp, &ptr, &len) < 0) {
        return -1;
    }
    if (len != bf.n) {
        return pmb_fail("the product holds %zd bytes, not %zd", len, bf.n);
    }
    if (memcmp(ptr, bf.pattern + (s->sliced ? PAD : 0), (size_t)len) != 0) {
        return pmb_fail("the product's bytes differ from the source's");
    }
    if (s->result != RES_COPY && ptr != want) {
        return pmb_fail("the product is at %p, not %s at %p",
                        (const void *)ptr,
                        s->result == RES_VIEW ? "in the source (it copied)"
                                              : "the destination",
                        (const void *)want);
    }
    if (s->result == RES_COPY && ptr + len > bf.src_lo &&
        ptr < bf.src_lo + bf.span) {
        return pmb_fail("the copy shares the source's memory");
    }
    if (s->op == op_readinto && p->returned != bf.n) {
        return pmb_fail("readinto returned %zd, not %zd", p->returned, bf.n);
    }
    return s->extra != NULL ? s->extra(p) : 0;
}

/* What the hook saw per iteration: a copy through Python allocates at
 * least its size, a view or a fill a small constant, a C copy nothing. */
static int
check_hook(const pmb_result *r)
{
    const bf_spec *s = bf.spec;
    if (!r->hook || r->iterations <= 0) {
        return 0;
    }
    const double bytes = (double)r->delta.bytes / (double)r->iterations;
    if (s->c_only && r->delta.allocs != 0) {
        return pmb_fail("%llu Python allocations for a C-only copy",
                        (unsigned long long)r->delta.allocs);
    }
    if (!s->c_only && !s->numpy_alloc && s->result == RES_COPY &&
        bytes < (double)bf.n) {
        return pmb_fail("a copy of %zd bytes allocated %.0f bytes per "
                        "iteration",
                        bf.n, bytes);
    }
    if (s->result != RES_COPY && bf.n > VIEW_BYTES_MAX &&
        bytes > VIEW_BYTES_MAX) {
        return pmb_fail("no copy expected, yet %.0f bytes allocated per "
                        "iteration of %zd",
                        bytes, bf.n);
    }
    /* No freelist serves a view, a bytes or a bytearray: every block the
     * batch made is gone after it, even at one iteration per batch. */
    return s->numpy_alloc ? pmb_check_no_leak(r, NUMPY_CACHE_SLACK)
                          : pmb_check_nothing_live(r);
}

/* PEP 688: one export of the Counted688 twin, taken by the row's own op
 * and dropped, ran __release_buffer__ exactly once. */
static int
check_release_calls(void)
{
    bf_product p = {0};
    PyObject *timed = bf.target;
    bf.target = bf.counted;
    const int rc = bf.spec->op(&p);
    bf.target = timed;
    if (rc < 0) {
        return pmb_fail("an export of the counting twin failed");
    }
    product_clear(&p);
    PyObject *v = PyObject_GetAttrString(bf.counted, "releases");
    const long long calls = v != NULL ? PyLong_AsLongLong(v) : -1;
    Py_XDECREF(v);
    if (calls != 1) {
        return pmb_fail("__release_buffer__ ran %lld times for one export",
                        calls);
    }
    return 0;
}

static int
check_buffers(const pmb_result *r)
{
    const bf_spec *s = bf.spec;
    bf_product p = {0};
    int rc = -1;

    if (pmb_check_batches(r, bf.batches_done, bf.batch) < 0) {
        return -1;
    }
    if (bf.run_gets != r->timed_iterations * s->exports) {
        return pmb_fail("the exporter saw %lld exports in %lld iterations "
                        "(expected %d each)",
                        (long long)bf.run_gets, (long long)r->timed_iterations,
                        s->exports);
    }
    if (source_exports() != bf.held) {
        return pmb_fail("%zd exports of the source alive after the run (setup "
                        "holds %zd)",
                        source_exports(), bf.held);
    }
    if (check_hook(r) < 0 || check_product(&p) < 0) {
        goto done;
    }
    product_clear(&p);
    if (source_exports() != bf.held) {
        pmb_fail("%zd exports of the source alive after the product was "
                 "dropped (setup "
                 "holds %zd)",
                 source_exports(), bf.held);
        goto done;
    }
    if (s->source == SRC_PEP688 && check_release_calls() < 0) {
        goto done;
    }
    rc = 0;
done:
    product_clear(&p);
    return rc;
}

/* --- further checks on a held product (spec.extra)
 * ------------------------------- */

/* A read-only exporter refuses a writable view with BufferError, and
 * counts no export for it. */
static int
extra_refuses_writable(bf_product *p)
{
    (void)p;
    Py_buffer view;
    const exporter_counts before = *exporter_get();
    if (PyObject_GetBuffer(bf.target, &view, PyBUF_WRITABLE) == 0) {
        PyBuffer_Release(&view);
        return pmb_fail("a read-only exporter gave a writable view");
    }
    if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
        return pmb_fail("a writable request on a read-only exporter raised "
                        "the wrong error");
    }
    PyErr_Clear();
    if (exporter_get()->refused != before.refused + 1 ||
        exporter_get()->gets != before.gets) {
        return pmb_fail("the refused request was not counted as refused");
    }
    return 0;
}

/* Resizing must fail with BufferError and leave the bytes as they were. */
static int
resize_refused(const char *while_alive)
{
    if (PyByteArray_Resize(bf.src, bf.n + 1) == 0) {
        return pmb_fail("the bytearray was resized while %s was alive",
                        while_alive);
    }
    if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
        return pmb_fail("resizing while %s was alive raised the wrong error",
                        while_alive);
    }
    PyErr_Clear();
    if (PyByteArray_GET_SIZE(bf.src) != bf.n ||
        memcmp(PyByteArray_AS_STRING(bf.src), bf.pattern, (size_t)bf.n) != 0) {
        return pmb_fail("a refused resize changed the bytearray");
    }
    return 0;
}

/* p holds a memoryview of the bytearray: resizing is refused while it, or
 * a slice of it, is alive; allowed once both are gone. */
static int
extra_resize_refused(bf_product *p)
{
    if (resize_refused("a memoryview of it") < 0) {
        return -1;
    }
    PyObject *slice = PySequence_GetSlice(p->obj, 1, bf.n);
    if (slice == NULL) {
        return pmb_fail("cannot slice the view");
    }
    Py_CLEAR(p->obj); /* the slice alone holds the export now */
    int rc = resize_refused("a slice of a dropped memoryview");
    Py_DECREF(slice);
    if (rc < 0) {
        return -1;
    }
    if (PyByteArray_Resize(bf.src, bf.n + 1) < 0 ||
        PyByteArray_Resize(bf.src, bf.n) < 0) {
        return pmb_fail(
            "the bytearray cannot be resized once its views are gone");
    }
    bf.src_lo = bf.expect =
        PyByteArray_AS_STRING(bf.src); /* it may have moved */
    return 0;
}

/* --- the table
 * ---------------------------------------------------------------------- */

/* Powers of 4 from 16 bytes to 256 MiB; the quick suite's are powers of 64
 * from 64 bytes to 1 MiB, which bracket both crossovers docs/families.md
 * measures (a view slice beats a bytes slice above about 500 B, a view
 * made and sliced above about 5 KiB; the full suite places them closer).
 * The 4 and 16 MiB rows took 14 of a quick process's 62 s. */
static const int64_t sizes[] = {16,        64,      256,      1024,
                                4096,      16384,   65536,    262144,
                                1048576,   4194304, 16777216, 67108864,
                                268435456, 0};
static const int64_t quick_sizes[] = {64, 4096, 65536, 1048576, 0};

static const bf_spec memcpy_spec = {.op = op_memcpy,
                                    .prepare = prep_dst,
                                    .source = SRC_PATTERN,
                                    .result = RES_INTO,
                                    .c_only = 1};
static const bf_spec mmap_spec = {.op = op_memcpy_mmap,
                                  .source = SRC_PATTERN,
                                  .result = RES_COPY,
                                  .c_only = 1};
static const bf_spec malloc_spec = {.op = op_memcpy_malloc,
                                    .source = SRC_PATTERN,
                                    .result = RES_COPY,
                                    .c_only = 1};
static const bf_spec from_memory_spec = {.op = op_from_memory,
                                         .source = SRC_PATTERN,
                                         .result = RES_VIEW};
static const bf_spec mv_exporter_spec = {.op = op_memoryview,
                                         .source = SRC_EXPORTER_RO,
                                         .result = RES_VIEW,
                                         .exports = 1};
static const bf_spec mv_bytes_spec = {.op = op_memoryview,
                                      .source = SRC_BYTES,
                                      .result = RES_VIEW};
static const bf_spec mv_bytearray_spec = {.op = op_memoryview,
                                          .source = SRC_BYTEARRAY,
                                          .result = RES_VIEW,
                                          .extra = extra_resize_refused};
static const bf_spec gb_ro_spec = {.op = op_getbuffer,
                                   .source = SRC_EXPORTER_RO,
                                   .result = RES_VIEW,
                                   .exports = 1,
                                   .flags = PyBUF_SIMPLE,
                                   .extra = extra_refuses_writable};
static const bf_spec gb_rw_spec = {.op = op_getbuffer,
                                   .source = SRC_EXPORTER_RW,
                                   .result = RES_VIEW,
                                   .exports = 1,
                                   .flags = PyBUF_WRITABLE};
static const bf_spec pep688_mv_spec = {.op = op_memoryview,
                                       .source = SRC_PEP688,
                                       .result = RES_VIEW,
                                       .exports = 1};
static const bf_spec pep688_gb_spec = {.op = op_getbuffer,
                                       .source = SRC_PEP688,
                                       .result = RES_VIEW,
                                       .exports = 1,
                                       .flags = PyBUF_SIMPLE};
static const bf_spec slice_mv_spec = {.op = op_slice,
                                      .prepare = prep_view_key,
                                      .source = SRC_BYTES,
                                      .sliced = 1,
                                      .result = RES_VIEW};
static const bf_spec slice_new_mv_spec = {.op = op_view_slice,
                                          .prepare = prep_key,
                                          .source = SRC_BYTES,
                                          .sliced = 1,
                                          .result = RES_VIEW};
static const bf_spec slice_bytes_spec = {.op = op_slice,
                                         .prepare = prep_key,
                                         .source = SRC_BYTES,
                                         .sliced = 1,
                                         .result = RES_COPY};
static const bf_spec slice_bytearray_spec = {.op = op_slice,
                                             .prepare = prep_key,
                                             .source = SRC_BYTEARRAY,
                                             .sliced = 1,
                                             .result = RES_COPY};
static const bf_spec from_string_spec = {.op = op_from_string,
                                         .source = SRC_PATTERN,
                                         .result = RES_COPY};
static const bf_spec bytes_of_spec = {.op = op_call1,
                                      .prepare = prep_type,
                                      .source = SRC_EXPORTER_RO,
                                      .result = RES_COPY,
                                      .exports = 1,
                                      .type = &PyBytes_Type};
static const bf_spec bytearray_of_spec = {.op = op_call1,
                                          .prepare = prep_type,
                                          .source = SRC_EXPORTER_RO,
                                          .result = RES_COPY,
                                          .exports = 1,
                                          .type = &PyByteArray_Type};
static const bf_spec tobytes_spec = {.op = op_call0,
                                     .prepare = prep_tobytes,
                                     .source = SRC_EXPORTER_RO,
                                     .result = RES_COPY};
static const bf_spec read_spec = {.op = op_read,
                                  .prepare = prep_read,
                                  .source = SRC_BYTES,
                                  .sliced = 1,
                                  .result = RES_COPY};
static const bf_spec readinto_spec = {.op = op_readinto,
                                      .prepare = prep_readinto,
                                      .source = SRC_BYTES,
                                      .sliced = 1,
                                      .result = RES_INTO};

static const bf_spec np_mv_spec = {.op = op_memoryview,
                                   .source = SRC_NDARRAY,
                                   .result = RES_VIEW,
                                   .numpy_alloc = 1};
static const bf_spec np_frombuffer_bytes_spec = {.op = op_call1,
                                                 .prepare = prep_numpy,
                                                 .source = SRC_BYTES,
                                                 .result = RES_VIEW,
                                                 .numpy = "frombuffer",
                                                 .numpy_alloc = 1};
static const bf_spec np_frombuffer_bytearray_spec = {.op = op_call1,
                                                     .prepare = prep_numpy,
                                                     .source = SRC_BYTEARRAY,
                                                     .result = RES_VIEW,
                                                     .extra =
                                                         extra_resize_refused,
                                                     .numpy = "frombuffer",
                                                     .numpy_alloc = 1};
static const bf_spec np_frombuffer_exporter_spec = {.op = op_call1,
                                                    .prepare = prep_numpy,
                                                    .source = SRC_EXPORTER_RO,
                                                    .result = RES_VIEW,
                                                    .exports = 1,
                                                    .numpy = "frombuffer",
                                                    .numpy_alloc = 1};
static const bf_spec np_array_spec = {.op = op_call1,
                                      .prepare = prep_numpy,
                                      .source = SRC_NDARRAY,
                                      .result = RES_COPY,
                                      .numpy = "array",
                                      .numpy_alloc = 1};
static const bf_spec np_tobytes_spec = {.op = op_call0,
                                        .prepare = prep_src_tobytes,
                                        .source = SRC_NDARRAY,
                                        .result = RES_COPY};

#define BF_CASE(case_name, spec_, doc_)                                       \
    {                                                                         \
        .name = case_name, .setup = setup_buffers, .run = run_buffers,        \
        .check = check_buffers, .teardown = teardown_buffers,                 \
        .count = count_buffers, .params = sizes, .data = &spec_, .doc = doc_, \
        .quick_params = quick_sizes                                           \
    }

static const pmb_case cases[] = {
    BF_CASE("memcpy", memcpy_spec,
            "physical reference: memcpy into a warm destination reused every "
            "iteration"),
    BF_CASE("memcpy_fresh", mmap_spec,
            "physical reference: mmap fresh pages, memcpy, munmap (every page "
            "faults)"),
    BF_CASE("memcpy_malloc", malloc_spec,
            "malloc, memcpy, free: a fresh mapping or recycled heap, as the C "
            "allocator decides"),
    BF_CASE("view/PyMemoryView_FromMemory", from_memory_spec,
            "zero-copy: a read-only memoryview over C memory, dropped"),
    BF_CASE("view/memoryview/exporter", mv_exporter_spec,
            "zero-copy: memoryview(exporter) over the C exporter, dropped "
            "(one export)"),
    BF_CASE("view/memoryview/bytes", mv_bytes_spec,
            "zero-copy: memoryview(bytes), dropped"),
    BF_CASE("view/memoryview/bytearray", mv_bytearray_spec,
            "zero-copy: memoryview(bytearray), dropped; resizing under a view "
            "is refused"),
    BF_CASE("view/getbuffer/exporter_ro", gb_ro_spec,
            "zero-copy: PyObject_GetBuffer(PyBUF_SIMPLE) + PyBuffer_Release, "
            "read-only exporter"),
    BF_CASE("view/getbuffer/exporter_rw", gb_rw_spec,
            "zero-copy: PyObject_GetBuffer(PyBUF_WRITABLE) + "
            "PyBuffer_Release, writable exporter"),
    BF_CASE("view/pep688/memoryview", pep688_mv_spec,
            "zero-copy: memoryview(obj) of a Python class with __buffer__ "
            "(3.12+)"),
    BF_CASE("view/pep688/getbuffer", pep688_gb_spec,
            "zero-copy: PyObject_GetBuffer on a Python class with __buffer__ "
            "(3.12+)"),
    BF_CASE("slice/memoryview", slice_mv_spec,
            "zero-copy: mv[64:64+n] of a memoryview over bytes made in setup: "
            "a new view"),
    BF_CASE("slice/memoryview_new", slice_new_mv_spec,
            "zero-copy: memoryview(bytes)[64:64+n], the memoryview made each "
            "time too"),
    BF_CASE("slice/bytes", slice_bytes_spec,
            "copy: bytes[64:64+n], a new bytes object"),
    BF_CASE("slice/bytearray", slice_bytearray_spec,
            "copy: bytearray[64:64+n], a new bytearray"),
    BF_CASE("copy/PyBytes_FromStringAndSize", from_string_spec,
            "copy: PyBytes_FromStringAndSize from C memory, dropped"),
    BF_CASE("copy/bytes/exporter", bytes_of_spec,
            "copy: bytes(exporter), dropped"),
    BF_CASE("copy/bytearray/exporter", bytearray_of_spec,
            "copy: bytearray(exporter), dropped"),
    BF_CASE("copy/tobytes", tobytes_spec,
            "copy: mv.tobytes() of a memoryview over the exporter made in "
            "setup, dropped"),
    BF_CASE("io/read", read_spec,
            "copy: BytesIO.seek(64); read(n), a new bytes object"),
    BF_CASE("numpy/memoryview/ndarray", np_mv_spec,
            "zero-copy: memoryview(ndarray of uint8), dropped (numpy "
            "installed)"),
    BF_CASE("numpy/frombuffer/bytes", np_frombuffer_bytes_spec,
            "zero-copy: numpy.frombuffer(bytes), a float64 ndarray over its "
            "bytes, dropped"),
    BF_CASE("numpy/frombuffer/bytearray", np_frombuffer_bytearray_spec,
            "zero-copy: numpy.frombuffer(bytearray); resizing under it is "
            "refused"),
    BF_CASE("numpy/frombuffer/exporter", np_frombuffer_exporter_spec,
            "zero-copy: numpy.frombuffer(exporter), one export held by the "
            "ndarray"),
    BF_CASE("numpy/array", np_array_spec,
            "copy: numpy.array(ndarray), its bytes from numpy's allocator "
            "(malloc)"),
    BF_CASE("numpy/tobytes", np_tobytes_spec,
            "copy: ndarray.tobytes(), a new bytes object"),
    BF_CASE("io/readinto", readinto_spec,
            "into preallocated: BytesIO.seek(64); readinto(bytearray of n), "
            "no new buffer"),
    {NULL},
};

int
wl_buffers_register(void)
{
    return pmb_register_family("buffers", cases);
}
