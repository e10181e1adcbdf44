/* containers.c - the containers family: a list of Python numbers against
 * array.array, the classic "list of floats or a typed array" question. For
 * ints ('q') and floats ('d') at N elements: what one element costs in memory
 * (the counting hook's retained bytes, and what sys.getsizeof says), to
 * build (from an iterator of fresh values), to append one by one (and how
 * often the storage is reallocated), to iterate in Python, and to hand the
 * bytes on: memoryview(array) without a copy against tobytes() and a list
 * converted to an array, both copies.
 *
 * Benchmarks. One iteration is one container of N elements (built,
 * appended, iterated, converted) or one memoryview of it. Every check
 * proves the container's length, first and last value and element type,
 * that nothing leaked, that a memoryview copied nothing (and that the array
 * refuses a resize while one is alive), and that a copy copied all N.
 *
 * References: the functions are called with new tuples of arguments built
 * in setup (owned by ct); a row's source container lives in those tuples.
 */
#include "cases.h"
#include "gcx.h"
#include "memhook.h"
#include "pyx.h"
#include "workloads.h"

#include <Python.h>
#include <stdlib.h>
#include <string.h>

#define LOOP_ELEMENTS 4096 /* elements per call of an O(N) snippet */
#define LOOP_CALL 1000     /* loop bodies per call of an O(1) snippet */
#define FIRST 1000         /* the first value: above the small-int cache */
/* Live blocks a run may leave: the float freelist (up to 100 floats on
 * 3.8 to 3.13) and the tuple and frame freelists refill from a row's
 * temporaries. */
#define FREELIST_SLACK 256

/* The values are range(FIRST, FIRST + k) as ints, or map(float, ...): a
 * fresh object per element (none cached). Each function runs n loop bodies
 * and returns what the check reads; build1/append1 return one container,
 * for its size. */
static const char containers_src[] =
    "from array import array\n"
    "from itertools import repeat\n"
    "FIRST = 1000\n"
    "def ints(k):\n"
    "    return range(FIRST, FIRST + k)\n"
    "def floats(k):\n"
    "    return map(float, range(FIRST, FIRST + k))\n"
    "def make(k, new, args, src):\n"
    "    return new(*args, src(k))\n"
    "def build(n, k, new, args, src):\n"
    "    for _ in repeat(None, n):\n"
    "        c = new(*args, src(k))\n"
    "    return len(c), c[0], c[-1]\n"
    "def append1(k, new, args, src):\n"
    "    c = new(*args)\n"
    "    app = c.append\n"
    "    for v in src(k):\n"
    "        app(v)\n"
    "    return c\n"
    "def append(n, k, new, args, src):\n"
    "    for _ in repeat(None, n):\n"
    "        c = new(*args)\n"
    "        app = c.append\n"
    "        for v in src(k):\n"
    "            app(v)\n"
    "    return len(c), c[0], c[-1]\n"
    "def iterate(n, c):\n"
    "    for _ in repeat(None, n):\n"
    "        for x in c:\n"
    "            pass\n"
    "    return len(c), c[0], x\n"
    "def view(n, a):\n"
    "    for _ in repeat(None, n):\n"
    "        with memoryview(a) as m:\n"
    "            x = m[-1]\n"
    "    return len(a), a[0], x\n"
    "def tobytes(n, a):\n"
    "    for _ in repeat(None, n):\n"
    "        b = a.tobytes()\n"
    "    return len(b), a[0], a[-1]\n"
    "def to_array(n, c, tc):\n"
    "    for _ in repeat(None, n):\n"
    "        a = array(tc, c)\n"
    "    return len(a), a[0], a[-1]\n"
    "def view_copy(n, a):\n" /* selftest: a copy where a view is promised */
    "    for _ in repeat(None, n):\n"
    "        with memoryview(a.tobytes()).cast(a.typecode) as m:\n"
    "            x = m[-1]\n"
    "    return len(a), a[0], x\n"
    "def build_short(n, k, new, args, src):\n" /* selftest: one element short
                                                */
    "    for _ in repeat(None, n):\n"
    "        c = new(*args, src(k - 1))\n"
    "    return len(c), c[0], c[-1]\n"
    "def resize_refused(a):\n"
    "    with memoryview(a):\n"
    "        try:\n"
    "            a.append(a[0])\n"
    "        except BufferError:\n"
    "            return True\n"
    "    return False\n";

enum ct_op {
    OP_BUILD,
    OP_APPEND,
    OP_ITERATE,
    OP_VIEW,
    OP_TOBYTES,
    OP_CONVERT
};
enum ct_kind { KIND_LIST, KIND_ARRAY };

/* What tells the rows apart. */
typedef struct ct_spec {
    enum ct_op op;
    enum ct_kind kind; /* the container the row builds, or starts from */
    int floats;        /* elements: 0 ints ('q'), 1 floats ('d') */
    const char *fn;    /* the snippet's function, if not the op's own name
                          (the planted faults of the selftest rows) */
} ct_spec;

static struct {
    const ct_spec *spec;
    PyObject *fn;   /* owned: the row's snippet function */
    PyObject *args; /* owned: (n, ...) for the timed loop */
    int64_t per_call;
    int64_t k;            /* elements per container */
    long long summary[3]; /* the last call's (len, first, last) */
    int summary_floats;   /* 1 when first and last were floats */
    double retained;      /* bytes one container holds (hook), or -1 */
    double getsizeof;     /* sys.getsizeof(container), or -1 */
    double c_last;        /* c_fill: the last block's last value */
} ct;

static const char *
op_name(enum ct_op op)
{
    static const char *const names[] = {"build", "append",  "iterate",
                                        "view",  "tobytes", "to_array"};
    return names[op];
}

static int64_t
item_size(void)
{
    return 8; /* 'q' and 'd' */
}

/* --- set-up and teardown
 * ------------------------------------------------------ */

/* (new, args, src) for a row that makes containers: list or array with
 * its typecode, ints or floats. A new reference or NULL. */
static PyObject *
maker_args(PyObject *globals, const ct_spec *s)
{
    PyObject *array = PyDict_GetItemString(globals, "array"); /* borrowed */
    PyObject *src =
        PyDict_GetItemString(globals, s->floats ? "floats" : "ints");
    if (array == NULL || src == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the snippet lacks array or its sources");
        return NULL;
    }
    if (s->kind == KIND_LIST) {
        return Py_BuildValue("(O()O)", (PyObject *)&PyList_Type, src);
    }
    return Py_BuildValue("(O(s)O)", array, s->floats ? "d" : "q", src);
}

/* Call the snippet's `name` with `args` (borrowed); a new reference. */
static PyObject *
call_named(PyObject *globals, const char *name, PyObject *args)
{
    PyObject *f = PyDict_GetItemString(globals, name); /* borrowed */
    if (f == NULL) {
        PyErr_Format(PyExc_RuntimeError, "the snippet has no %s", name);
        return NULL;
    }
    return PyObject_Call(f, args, NULL);
}

/* The bytes one container holds, measured by the counting hook when it is
 * installed (the set-up of a row's counted run, stress; never a timed or
 * counted run; later runs of the row keep the figure):
 * freelists emptied (a full collection clears them), one container made
 * the row's own way, freelists emptied again, live bytes compared. They
 * are the bytes asked for: pymalloc serves them in 16-byte classes (a
 * 24-byte float takes 32). And sys.getsizeof of it, which counts the
 * container but not its elements. 0, or -1 with an exception set. */
static int
measure_size(PyObject *globals, const char *maker, PyObject *margs)
{
    memhook_counts before, after;
    PyObject *first = NULL, *c = NULL, *size = NULL;
    PyObject *getsizeof = PySys_GetObject("getsizeof"); /* borrowed */
    if (pmb_setup_measures() <= 0) {
        return 0; /* kept from the row's counted run, or none */
    }
    if (getsizeof == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sys.getsizeof is missing");
        return -1;
    }
    /* The second of two containers, the first still held: what a first
     * call leaves for good (a frame cached on the maker's code object on
     * 3.8 to 3.10, 56 bytes of interpreter state on 3.11) is no part of
     * a container. */
    first = call_named(globals, maker, margs);
    if (first == NULL || gcx_collect(2) < 0) {
        goto error;
    }
    memhook_read_total(&before);
    c = call_named(globals, maker, margs);
    if (c == NULL || gcx_collect(2) < 0) {
        goto error;
    }
    memhook_read_total(&after);
    size = PyObject_CallFunctionObjArgs(getsizeof, c, NULL);
    if (size == NULL) {
        goto error;
    }
    ct.getsizeof = PyFloat_AsDouble(size);
    Py_DECREF(size);
    if (ct.getsizeof < 0 && PyErr_Occurred()) {
        goto error;
    }
    ct.retained = (double)after.live_bytes - (double)before.live_bytes;
    Py_DECREF(c);
    Py_DECREF(first);
    return 0;
error:
    Py_XDECREF(c);
    Py_XDECREF(first);
    return -1;
}

/* The container a row starts from (iterate, view, tobytes, to_array): a
 * new reference made by the snippet's make(). */
static PyObject *
source_container(PyObject *globals, PyObject *margs)
{
    PyObject *a =
        Py_BuildValue("(LOOO)", (long long)ct.k, PyTuple_GET_ITEM(margs, 0),
                      PyTuple_GET_ITEM(margs, 1), PyTuple_GET_ITEM(margs, 2));
    if (a == NULL) {
        return NULL;
    }
    PyObject *c = call_named(globals, "make", a);
    Py_DECREF(a);
    return c;
}

/* The timed loop's arguments: (n, k, new, args, src) to make containers,
 * (n, container) to use one, (n, list, typecode) to convert. A new
 * reference or NULL. */
static PyObject *
loop_args(PyObject *globals, PyObject *margs)
{
    const ct_spec *s = ct.spec;
    PyObject *c = NULL, *args = NULL;
    if (s->op == OP_BUILD || s->op == OP_APPEND) {
        return Py_BuildValue("(LLOOO)", (long long)ct.per_call,
                             (long long)ct.k, PyTuple_GET_ITEM(margs, 0),
                             PyTuple_GET_ITEM(margs, 1),
                             PyTuple_GET_ITEM(margs, 2));
    }
    c = source_container(globals, margs);
    if (c == NULL) {
        return NULL;
    }
    if (s->op == OP_CONVERT) {
        args = Py_BuildValue("(LOs)", (long long)ct.per_call, c,
                             s->floats ? "d" : "q");
    }
    else {
        args = Py_BuildValue("(LO)", (long long)ct.per_call, c);
    }
    Py_DECREF(c);
    return args;
}

/* For a view row: a memoryview of the array really exports it (the array
 * refuses to grow while one is alive). 0, or -1 via pmb_fail. */
static int
check_export(PyObject *globals)
{
    PyObject *a = PyTuple_Pack(1, PyTuple_GET_ITEM(ct.args, 1));
    if (a == NULL) {
        return pmb_fail("cannot test the export");
    }
    PyObject *r = call_named(globals, "resize_refused", a);
    Py_DECREF(a);
    if (r == NULL) {
        return pmb_fail("cannot test the export");
    }
    int refused = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (refused != 1) {
        return refused < 0
                   ? pmb_fail("cannot test the export")
                   : pmb_fail("the array grew under a live memoryview: "
                              "no buffer was exported");
    }
    return 0;
}

static int
setup_containers(int64_t param)
{
    const ct_spec *s = pmb_data();
    PyObject *globals = NULL, *margs = NULL;
    const char *maker = s->op == OP_APPEND ? "append1" : "make";
    ct.spec = s;
    ct.k = param;
    ct.per_call =
        s->op == OP_VIEW
            ? LOOP_CALL
            : (LOOP_ELEMENTS / param > 0 ? LOOP_ELEMENTS / param : 1);
    if (pmb_setup_measures() != 0) { /* else kept from the counted run */
        ct.retained = ct.getsizeof = -1.0;
    }
    ct.fn =
        pyx_compile_function(containers_src, s->fn ? s->fn : op_name(s->op));
    if (ct.fn == NULL) {
        goto error;
    }
    globals = PyFunction_GetGlobals(ct.fn); /* borrowed */
    margs = maker_args(globals, s);
    if (margs == NULL) {
        goto error;
    }
    if (s->op == OP_BUILD || s->op == OP_APPEND) {
        PyObject *one = Py_BuildValue("(LOOO)", (long long)ct.k,
                                      PyTuple_GET_ITEM(margs, 0),
                                      PyTuple_GET_ITEM(margs, 1),
                                      PyTuple_GET_ITEM(margs, 2));
        int rc = one == NULL ? -1 : measure_size(globals, maker, one);
        Py_XDECREF(one);
        if (rc < 0) {
            goto error;
        }
    }
    ct.args = loop_args(globals, margs);
    if (ct.args == NULL) {
        goto error;
    }
    Py_DECREF(margs);
    return s->op == OP_VIEW ? check_export(globals) : 0;
error:
    Py_XDECREF(margs);
    return pmb_fail("cannot prepare containers/%s", op_name(s->op));
}

static void
teardown_containers(void)
{
    /* the function and its globals form a cycle: collected by the engine's
     * full collection between cases */
    Py_CLEAR(ct.fn);
    Py_CLEAR(ct.args);
    ct.spec = NULL;
}

/* --- the runs
 * -------------------------------------------------------------------- */

/* (len, first, last) of the last call into ct.summary. 0, or -1 with an
 * exception set. */
static int
keep_summary(PyObject *r)
{
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "the snippet returned no (len, first, last)");
        return -1;
    }
    ct.summary_floats = PyFloat_CheckExact(PyTuple_GET_ITEM(r, 2)) &&
                        PyFloat_CheckExact(PyTuple_GET_ITEM(r, 1));
    for (Py_ssize_t i = 0; i < 3; i++) {
        PyObject *v = PyTuple_GET_ITEM(r, i);
        double d = PyFloat_Check(v) ? PyFloat_AS_DOUBLE(v)
                                    : (double)PyLong_AsLongLong(v);
        if (d == -1.0 && PyErr_Occurred()) {
            return -1;
        }
        ct.summary[i] = (long long)d;
        if ((double)ct.summary[i] != d) {
            PyErr_SetString(PyExc_ValueError,
                            "the snippet returned a fractional value");
            return -1;
        }
    }
    return 0;
}

static void
run_containers(gbs_state *st, int64_t param)
{
    while (gbs_keep_running_batch(st, ct.per_call)) {
        PyObject *r = PyObject_Call(ct.fn, ct.args, NULL);
        if (r == NULL || keep_summary(r) < 0) {
            Py_XDECREF(r);
            pmb_run_error(st);
            return;
        }
        Py_DECREF(r);
    }
    if (ct.spec->op != OP_VIEW) {
        gbs_set_items_processed(st, gbs_iterations(st) * param);
    }
    if (ct.retained >= 0) {
        gbs_counter(st, "bytes_per_element", ct.retained / (double)param,
                    GBS_COUNTER_DEFAULT);
        gbs_counter(st, "getsizeof_per_element", ct.getsizeof / (double)param,
                    GBS_COUNTER_DEFAULT);
    }
}

/* The counters' pass (count(): the engine calls it under the counting hook
 * right after the timed run, and has the hook in for set-up too, where
 * measure_size reads it): one call, as one batch of the timed loop. */
static int64_t
count_containers(int64_t param)
{
    (void)param;
    PyObject *r = PyObject_Call(ct.fn, ct.args, NULL);
    if (r == NULL || keep_summary(r) < 0) {
        Py_XDECREF(r);
        return pmb_fail("%s", op_name(ct.spec->op));
    }
    Py_DECREF(r);
    return ct.per_call;
}

/* --- the checks
 * ------------------------------------------------------------------ */

static int
check_containers(const pmb_result *r)
{
    const ct_spec *s = ct.spec;
    const long long k = (long long)ct.k;
    const long long bytes = k * item_size();
    /* a view's length is in items; tobytes' in bytes */
    const long long len = s->op == OP_TOBYTES ? bytes : k;
    /* the elements come back as floats where the container holds floats */
    const int floats = s->floats;
    if (ct.summary[0] != len || ct.summary[1] != FIRST ||
        ct.summary[2] != FIRST + k - 1) {
        return pmb_fail("%s: (len, first, last) = (%lld, %lld, %lld), "
                        "expected "
                        "(%lld, %d, %lld)",
                        op_name(s->op), ct.summary[0], ct.summary[1],
                        ct.summary[2], len, FIRST, FIRST + k - 1);
    }
    if (ct.summary_floats != floats) {
        return pmb_fail("%s: the elements came back as %s, expected %s",
                        op_name(s->op), ct.summary_floats ? "floats" : "ints",
                        floats ? "floats" : "ints");
    }
    if (!r->hook) {
        return 0;
    }
    const double per_iter = (double)r->delta.bytes / (double)r->iterations;
    if (s->op == OP_VIEW && k >= 1024 && per_iter >= (double)bytes) {
        return pmb_fail("a memoryview allocated %.0f bytes per iteration for "
                        "an "
                        "array of %lld bytes: a copy",
                        per_iter, bytes);
    }
    if ((s->op == OP_TOBYTES || s->op == OP_CONVERT) &&
        per_iter < (double)bytes) {
        return pmb_fail("%s allocated %.0f bytes per iteration, less than the "
                        "%lld bytes it copies",
                        op_name(s->op), per_iter, bytes);
    }
    if ((s->op == OP_BUILD || s->op == OP_APPEND) &&
        r->delta.allocs < (uint64_t)r->iterations) {
        return pmb_fail("%s: %llu allocations in %lld iterations, fewer than "
                        "one "
                        "container each",
                        op_name(s->op), (unsigned long long)r->delta.allocs,
                        (long long)r->iterations);
    }
    return pmb_check_no_leak(r, FREELIST_SLACK);
}

/* --- the physical reference: a C array of doubles
 * ----------------------------------------------- */

static int
setup_fill(int64_t param)
{
    ct.k = param;
    ct.c_last = 0.0;
    return 0;
}

static void
run_fill(gbs_state *st, int64_t param)
{
    const size_t k = (size_t)param;
    while (gbs_keep_running(st)) {
        double *p = malloc(k * sizeof(*p));
        if (p == NULL) {
            gbs_skip_with_error(st, "out of memory");
            return;
        }
        for (size_t i = 0; i < k; i++) {
            p[i] = (double)(FIRST + (int64_t)i);
        }
        gbs_clobber_memory();
        ct.c_last = p[k - 1];
        free(p);
    }
    gbs_set_items_processed(st, gbs_iterations(st) * param);
}

static int
check_fill(const pmb_result *r)
{
    if (ct.c_last != (double)(FIRST + ct.k - 1)) {
        return pmb_fail("the last element was %g, expected %lld", ct.c_last,
                        (long long)(FIRST + ct.k - 1));
    }
    /* malloc is not a Python domain: the hook must see nothing */
    if (r->hook && r->delta.allocs != 0) {
        return pmb_fail("%llu Python allocations for a C array",
                        (unsigned long long)r->delta.allocs);
    }
    return 0;
}

/* --- the table
 * -------------------------------------------------------------------- */

static const int64_t sizes[] = {16, 1024, 65536, 1048576, 0};
static const int64_t quick_sizes[] = {16, 65536, 0};

/* op, the container it makes or starts from, floats or ints */
#define SPEC(op_, kind_, floats_)                   \
    {                                               \
        .op = op_, .kind = kind_, .floats = floats_ \
    }
static const ct_spec build_list_int = SPEC(OP_BUILD, KIND_LIST, 0);
static const ct_spec build_list_float = SPEC(OP_BUILD, KIND_LIST, 1);
static const ct_spec build_array_int = SPEC(OP_BUILD, KIND_ARRAY, 0);
static const ct_spec build_array_float = SPEC(OP_BUILD, KIND_ARRAY, 1);
static const ct_spec append_list_int = SPEC(OP_APPEND, KIND_LIST, 0);
static const ct_spec append_list_float = SPEC(OP_APPEND, KIND_LIST, 1);
static const ct_spec append_array_int = SPEC(OP_APPEND, KIND_ARRAY, 0);
static const ct_spec append_array_float = SPEC(OP_APPEND, KIND_ARRAY, 1);
static const ct_spec iterate_list_int = SPEC(OP_ITERATE, KIND_LIST, 0);
static const ct_spec iterate_list_float = SPEC(OP_ITERATE, KIND_LIST, 1);
static const ct_spec iterate_array_int = SPEC(OP_ITERATE, KIND_ARRAY, 0);
static const ct_spec iterate_array_float = SPEC(OP_ITERATE, KIND_ARRAY, 1);
static const ct_spec view_array_int = SPEC(OP_VIEW, KIND_ARRAY, 0);
static const ct_spec view_array_float = SPEC(OP_VIEW, KIND_ARRAY, 1);
static const ct_spec tobytes_array_int = SPEC(OP_TOBYTES, KIND_ARRAY, 0);
static const ct_spec tobytes_array_float = SPEC(OP_TOBYTES, KIND_ARRAY, 1);
static const ct_spec convert_list_int = SPEC(OP_CONVERT, KIND_LIST, 0);
static const ct_spec convert_list_float = SPEC(OP_CONVERT, KIND_LIST, 1);

#define CT_CASE(case_name, spec_, doc_)                                      \
    {                                                                        \
        .name = case_name, .setup = setup_containers, .run = run_containers, \
        .check = check_containers, .teardown = teardown_containers,          \
        .count = count_containers, .counts_setup = 1, .params = sizes,       \
        .quick_params = quick_sizes, .data = &spec_, .doc = doc_             \
    }

static const pmb_case cases[] = {
    {.name = "c_fill",
     .setup = setup_fill,
     .run = run_fill,
     .check = check_fill,
     .params = sizes,
     .quick_params = quick_sizes,
     .doc = "physical reference: malloc N doubles, write each, free; "
            "iteration = N elements"},
    CT_CASE("build/list/int", build_list_int,
            "list(range(1000, 1000+N)): N int objects and the list"),
    CT_CASE("build/array/int", build_array_int,
            "array('q', range(1000, 1000+N)): each int converted, the array "
            "grown"),
    CT_CASE("build/list/float", build_list_float,
            "list(map(float, range(...))): N float objects and the list"),
    CT_CASE("build/array/float", build_array_float,
            "array('d', map(float, range(...))): each float converted"),
    CT_CASE("append/list/int", append_list_int,
            "N list.append of fresh ints into an empty list (growth "
            "reallocs)"),
    CT_CASE("append/array/int", append_array_int,
            "N array.append of fresh ints into an empty array('q')"),
    CT_CASE("append/list/float", append_list_float,
            "N list.append of fresh floats into an empty list"),
    CT_CASE("append/array/float", append_array_float,
            "N array.append of fresh floats into an empty array('d')"),
    CT_CASE("iterate/list/int", iterate_list_int,
            "for x in a list of N ints: each element referenced"),
    CT_CASE("iterate/array/int", iterate_array_int,
            "for x in an array('q') of N: each element boxed into a new int"),
    CT_CASE("iterate/list/float", iterate_list_float,
            "for x in a list of N floats: each element referenced"),
    CT_CASE("iterate/array/float", iterate_array_float,
            "for x in an array('d') of N: each element boxed into a new "
            "float"),
    CT_CASE("view/array/int", view_array_int,
            "with memoryview(array('q') of N) as m: m[-1]; zero-copy"),
    CT_CASE("view/array/float", view_array_float,
            "with memoryview(array('d') of N) as m: m[-1]; zero-copy"),
    CT_CASE("tobytes/array/int", tobytes_array_int,
            "array('q') of N .tobytes(): a copy of 8N bytes"),
    CT_CASE("tobytes/array/float", tobytes_array_float,
            "array('d') of N .tobytes(): a copy of 8N bytes"),
    CT_CASE("to_array/list/int", convert_list_int,
            "array('q', a list of N ints): each element converted, a copy"),
    CT_CASE("to_array/list/float", convert_list_float,
            "array('d', a list of N floats): each element converted, a copy"),
    {NULL},
};

/* Negative controls for tests/check_containers.py (PYMB_SELFTEST=1): each
 * check must fail its row. */
static const ct_spec copy_planted = {.op = OP_VIEW,
                                     .kind = KIND_ARRAY,
                                     .fn = "view_copy"};
static const ct_spec short_planted = {.op = OP_BUILD,
                                      .kind = KIND_LIST,
                                      .fn = "build_short"};
static const pmb_case selftest_cases[] = {
    CT_CASE("selftest/view_copy", copy_planted,
            "planted: a memoryview of a copy where a view is promised"),
    CT_CASE("selftest/build_short", short_planted,
            "planted: a list one element short"),
    {NULL},
};

int
wl_containers_register(void)
{
    const char *selftest = getenv("PYMB_SELFTEST");
    if (pmb_register_family("containers", cases) < 0) {
        return -1;
    }
    if (selftest != NULL && strcmp(selftest, "1") == 0) {
        return pmb_register_family("containers", selftest_cases);
    }
    return 0;
}
