/* refcount.c - the refcount family: what Py_INCREF/Py_DECREF and reference
 * churn cost, beside the physical reference of a plain C counter.
 *
 * One iteration is one increment plus one decrement (the same object, or the
 * next of N objects), one container built and dropped, or one loop body of
 * a Python snippet. Benchmarks.
 *
 * Reference counts: setup takes a strong reference to every object it makes
 * and teardown drops it; checks compare counts before and after (never an
 * exact value: objects may be immortal, 3.12+). Whether an object is
 * immortal is observed, not assumed: an INCREF that leaves the count alone.
 */
#include "cases.h"
#include "pyloop.h"
#include "pyx.h"
#include "workloads.h"

#include <Python.h>
#include <stdlib.h>

#define BATCH 1000 /* iterations per shim call for single-op loops */
#define CONTAINER_BATCH 64
#define NO_LEAK_SLACK \
    16 /* live blocks a freelist may keep, whatever the iterations */

static struct {
    PyObject **objs; /* owned: n strong references */
    Py_ssize_t n;
    Py_ssize_t *before; /* counts of objs[] at setup */
    int immortal;       /* objs[0] ignores INCREF */
    Py_ssize_t seen; /* a count observed mid-pattern inside the timed loop */
    PyObject *slot;  /* owned or NULL: Py_SETREF/Py_CLEAR target */
    pyloop loop;     /* the compiled snippet, its argument, its last result */
    long *counter;   /* c_increment's counter, malloc'ed */
} rc;

/* --- shared set-up and checks -------------------------------------------- */

static int
objs_alloc(Py_ssize_t n)
{
    rc.objs = calloc((size_t)n, sizeof(PyObject *));
    rc.before = calloc((size_t)n, sizeof(Py_ssize_t));
    if (rc.objs == NULL || rc.before == NULL) {
        return pmb_fail("out of memory for %zd objects", n);
    }
    rc.n = n;
    return 0;
}

/* Observe immortality and record every count; call once objs[] is full. */
static void
objs_snapshot(void)
{
    Py_ssize_t c = Py_REFCNT(rc.objs[0]);
    Py_INCREF(rc.objs[0]);
    rc.immortal = Py_REFCNT(rc.objs[0]) == c;
    Py_DECREF(rc.objs[0]);
    for (Py_ssize_t i = 0; i < rc.n; i++) {
        rc.before[i] = Py_REFCNT(rc.objs[i]);
    }
    rc.seen = -1;
}

/* n distinct mortal objects (floats made here, owned only by us). */
static int
setup_floats(Py_ssize_t n)
{
    if (objs_alloc(n) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rc.objs[i] = PyFloat_FromDouble(0.5 + (double)i);
        if (rc.objs[i] == NULL) {
            return pmb_fail("cannot create float %zd", i);
        }
    }
    objs_snapshot();
    return 0;
}

/* N floats, N the case's param (one without a param), or as many as the
 * Py_ssize_t in .data says: where the param means something else. */
static int
setup_mortal(int64_t param)
{
    const Py_ssize_t *fixed = pmb_data();
    if (fixed != NULL) {
        return setup_floats(*fixed);
    }
    return setup_floats(param > 0 ? (Py_ssize_t)param : 1);
}

static int
setup_none(int64_t param)
{
    (void)param;
    if (objs_alloc(1) < 0) {
        return -1;
    }
    Py_INCREF(Py_None);
    rc.objs[0] = Py_None;
    objs_snapshot();
    return 0;
}

/* The small ints 0..n-1 (cached by every version, immortal from 3.12). */
static int
setup_small_ints(int64_t param)
{
    Py_ssize_t n = param > 0 ? (Py_ssize_t)param : 1;
    if (n > 257) {
        return pmb_fail("only 257 small ints are cached, not %zd", n);
    }
    if (objs_alloc(n) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rc.objs[i] = PyLong_FromSsize_t(i);
        if (rc.objs[i] == NULL) {
            return pmb_fail("cannot create int %zd", i);
        }
    }
    objs_snapshot();
    return 0;
}

static void
teardown_all(void)
{
    for (Py_ssize_t i = 0; i < rc.n; i++) {
        Py_XDECREF(rc.objs[i]);
    }
    free(rc.objs);
    free(rc.before);
    Py_CLEAR(rc.slot);
    pyloop_clear(&rc.loop);
    free(rc.counter);
    rc.objs = NULL;
    rc.before = NULL;
    rc.counter = NULL;
    rc.n = 0;
}

static int
check_balanced(void)
{
    for (Py_ssize_t i = 0; i < rc.n; i++) {
        if (Py_REFCNT(rc.objs[i]) != rc.before[i]) {
            return pmb_fail("object %zd: refcount %zd after the run, %zd "
                            "before",
                            i, Py_REFCNT(rc.objs[i]), rc.before[i]);
        }
    }
    return 0;
}

/* The count seen inside the loop must be `extra` above the start for a
 * mortal object, unchanged for an immortal one. */
static int
check_seen(Py_ssize_t index, Py_ssize_t extra)
{
    Py_ssize_t want = rc.before[index] + (rc.immortal ? 0 : extra);
    if (rc.seen != want) {
        return pmb_fail("count inside the loop was %zd, expected %zd (%s "
                        "object)",
                        rc.seen, want, rc.immortal ? "immortal" : "mortal");
    }
    return 0;
}

/* Pure reference-count traffic allocates nothing at all. */
static int
check_no_allocs(const pmb_result *r)
{
    if (r->hook &&
        (r->delta.allocs != 0 || r->delta.frees != 0 || r->live_blocks != 0)) {
        return pmb_fail("%llu allocations and %llu frees during the run, "
                        "expected none",
                        (unsigned long long)r->delta.allocs,
                        (unsigned long long)r->delta.frees);
    }
    return 0;
}

/* --- the physical reference: a plain C counter ----------------------------
 */

static int
setup_counter(int64_t param)
{
    (void)param;
    rc.counter = calloc(1, sizeof(long));
    if (rc.counter == NULL) {
        return pmb_fail("out of memory");
    }
    rc.seen = -1;
    return 0;
}

static void
run_c_increment(gbs_state *st, int64_t param)
{
    (void)param;
    long *c = rc.counter;
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH - 1; i++) {
            (*c)++;
            gbs_clobber_memory();
            (*c)--;
            gbs_clobber_memory();
        }
        (*c)++;
        gbs_clobber_memory();
        rc.seen = (Py_ssize_t)*c;
        (*c)--;
        gbs_clobber_memory();
    }
}

static int
check_c_increment(const pmb_result *r)
{
    if (*rc.counter != 0 || rc.seen != 1) {
        return pmb_fail("counter %ld after the run (want 0), %zd inside (want "
                        "1)",
                        *rc.counter, rc.seen);
    }
    return check_no_allocs(r);
}

/* --- INCREF/DECREF patterns -----------------------------------------------
 */

/* Back to back on one object; the last pair of a batch samples the count. */
static void
run_incdec_same(gbs_state *st, int64_t param)
{
    (void)param;
    PyObject *o = rc.objs[0];
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH - 1; i++) {
            Py_INCREF(o);
            gbs_clobber_memory();
            Py_DECREF(o);
            gbs_clobber_memory();
        }
        Py_INCREF(o);
        gbs_clobber_memory();
        rc.seen = Py_REFCNT(o);
        Py_DECREF(o);
        gbs_clobber_memory();
    }
}

static int
check_incdec_same(const pmb_result *r)
{
    if (check_balanced() < 0 || check_seen(0, 1) < 0) {
        return -1;
    }
    return check_no_allocs(r);
}

/* One pair on each of N objects in turn: a batch touches all of them. */
static void
run_incdec_spread(gbs_state *st, int64_t param)
{
    (void)param;
    PyObject **objs = rc.objs;
    Py_ssize_t n = rc.n;
    while (gbs_keep_running_batch(st, n)) {
        for (Py_ssize_t i = 0; i < n - 1; i++) {
            Py_INCREF(objs[i]);
            gbs_clobber_memory();
            Py_DECREF(objs[i]);
            gbs_clobber_memory();
        }
        Py_INCREF(objs[n - 1]);
        gbs_clobber_memory();
        rc.seen = Py_REFCNT(objs[n - 1]);
        Py_DECREF(objs[n - 1]);
        gbs_clobber_memory();
    }
}

static int
check_incdec_spread(const pmb_result *r)
{
    if (check_balanced() < 0 || check_seen(rc.n - 1, 1) < 0) {
        return -1;
    }
    return check_no_allocs(r);
}

/* N increments of one object, then N decrements: the count climbs by N. */
static void
run_incs_then_decs(gbs_state *st, int64_t param)
{
    PyObject *o = rc.objs[0];
    int64_t n = param;
    while (gbs_keep_running_batch(st, n)) {
        for (int64_t i = 0; i < n; i++) {
            Py_INCREF(o);
            gbs_clobber_memory();
        }
        rc.seen = Py_REFCNT(o);
        for (int64_t i = 0; i < n; i++) {
            Py_DECREF(o);
            gbs_clobber_memory();
        }
    }
}

static int
check_incs_then_decs(const pmb_result *r)
{
    if (check_balanced() < 0 || check_seen(0, (Py_ssize_t)r->param) < 0) {
        return -1;
    }
    return check_no_allocs(r);
}

/* --- Py_NewRef, Py_SETREF, Py_CLEAR ---------------------------------------
 */

static int
setup_new_ref(int64_t param)
{
#if PY_VERSION_HEX >= 0x030A0000
    return setup_floats(param > 0 ? (Py_ssize_t)param : 1);
#else
    (void)param;
    return pmb_skip("Py_NewRef needs Python 3.10+");
#endif
}

static void
run_new_ref(gbs_state *st, int64_t param)
{
    (void)param;
#if PY_VERSION_HEX >= 0x030A0000
    PyObject *o = rc.objs[0];
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH - 1; i++) {
            PyObject *r = Py_NewRef(o);
            gbs_do_not_optimize(r);
            Py_DECREF(r);
            gbs_clobber_memory();
        }
        PyObject *r = Py_NewRef(o);
        gbs_do_not_optimize(r);
        rc.seen = Py_REFCNT(r);
        Py_DECREF(r);
        gbs_clobber_memory();
    }
#else
    (void)st;
#endif
}

/* The slot alternates between objs[0] and objs[1]: each iteration is one
 * Py_INCREF of the new value and one Py_SETREF dropping the old. */
static int
setup_setref(int64_t param)
{
    (void)param;
    if (setup_floats(2) < 0) {
        return -1;
    }
    Py_INCREF(rc.objs[0]);
    rc.slot = rc.objs[0];
    return 0;
}

static void
run_setref(gbs_state *st, int64_t param)
{
    (void)param;
    PyObject *a = rc.objs[0], *b = rc.objs[1];
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH; i += 2) {
            Py_INCREF(b);
            Py_SETREF(rc.slot, b);
            gbs_clobber_memory();
            Py_INCREF(a);
            Py_SETREF(rc.slot, a);
            gbs_clobber_memory();
        }
        rc.seen = Py_REFCNT(a);
    }
}

static int
check_setref(const pmb_result *r)
{
    /* The slot holds a (BATCH is even): one reference above the start. */
    if (rc.slot != rc.objs[0]) {
        return pmb_fail("slot does not hold the object last set");
    }
    if (rc.seen != rc.before[0] + 1 || Py_REFCNT(rc.objs[1]) != rc.before[1]) {
        return pmb_fail("counts %zd and %zd after the run, expected %zd and "
                        "%zd",
                        rc.seen, Py_REFCNT(rc.objs[1]), rc.before[0] + 1,
                        rc.before[1]);
    }
    return check_no_allocs(r);
}

/* Each iteration stores a new reference in the slot and Py_CLEARs it. */
static void
run_clear(gbs_state *st, int64_t param)
{
    (void)param;
    PyObject *o = rc.objs[0];
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH - 1; i++) {
            Py_INCREF(o);
            rc.slot = o;
            gbs_clobber_memory();
            Py_CLEAR(rc.slot);
            gbs_clobber_memory();
        }
        Py_INCREF(o);
        rc.slot = o;
        gbs_clobber_memory();
        rc.seen = Py_REFCNT(o);
        Py_CLEAR(rc.slot);
        gbs_clobber_memory();
    }
}

static int
check_clear(const pmb_result *r)
{
    if (rc.slot != NULL) {
        return pmb_fail("Py_CLEAR left the slot set");
    }
    return check_incdec_same(r);
}

/* --- container churn --------------------------------------------------------
 */

static void
run_tuple_build(gbs_state *st, int64_t param)
{
    Py_ssize_t n = (Py_ssize_t)param;
    PyObject **items = rc.objs;
    while (gbs_keep_running_batch(st, CONTAINER_BATCH)) {
        for (int k = 0; k < CONTAINER_BATCH; k++) {
            PyObject *t = PyTuple_New(n);
            if (t == NULL) {
                pmb_run_error(st);
                return;
            }
            for (Py_ssize_t i = 0; i < n; i++) {
                Py_INCREF(items[i]);
                PyTuple_SET_ITEM(t, i, items[i]);
            }
            gbs_do_not_optimize(t);
            rc.seen = Py_REFCNT(items[0]);
            Py_DECREF(t);
        }
    }
}

static void
run_list_build(gbs_state *st, int64_t param)
{
    Py_ssize_t n = (Py_ssize_t)param;
    PyObject **items = rc.objs;
    while (gbs_keep_running_batch(st, CONTAINER_BATCH)) {
        for (int k = 0; k < CONTAINER_BATCH; k++) {
            PyObject *l = PyList_New(n);
            if (l == NULL) {
                pmb_run_error(st);
                return;
            }
            for (Py_ssize_t i = 0; i < n; i++) {
                Py_INCREF(items[i]);
                PyList_SET_ITEM(l, i, items[i]);
            }
            gbs_do_not_optimize(l);
            rc.seen = Py_REFCNT(items[0]);
            Py_DECREF(l);
        }
    }
}

static int
check_container(const pmb_result *r)
{
    if (check_balanced() < 0 || check_seen(0, 1) < 0) {
        return -1;
    }
    return pmb_check_no_leak(r, NO_LEAK_SLACK);
}

/* --- Python-level churn
 * ------------------------------------------------------ */

/* Every snippet defines bench(n, x): n loop bodies over x, returning a value
 * the check can verify. itertools.repeat keeps the loop itself from
 * allocating (as timeit does). */
static const char rebind_src[] = "from itertools import repeat\n"
                                 "def bench(n, x):\n"
                                 "    for _ in repeat(None, n):\n"
                                 "        a = x; b = a; c = b; a = c\n"
                                 "    return a\n";

static const char call_src[] = "from itertools import repeat\n"
                               "def callee(a, b, c):\n"
                               "    return c\n"
                               "def bench(n, x):\n"
                               "    f = callee\n"
                               "    r = None\n"
                               "    for _ in repeat(None, n):\n"
                               "        r = f(x, x, x)\n"
                               "    return r\n";

static const char iter_src[] = "def bench(n, lst):\n"
                               "    y = None\n"
                               "    for y in lst:\n"
                               "        pass\n"
                               "    return y\n";

static const char getrefcount_src[] = "from itertools import repeat\n"
                                      "from sys import getrefcount\n"
                                      "def bench(n, x):\n"
                                      "    c = 0\n"
                                      "    for _ in repeat(None, n):\n"
                                      "        c = getrefcount(x)\n"
                                      "    return c\n";

/* bench(loops, arg); `arg` is stolen (NULL: fail). */
static int
setup_snippet(const char *src, Py_ssize_t loops, PyObject *arg)
{
    PyObject *extra = arg != NULL ? PyTuple_Pack(1, arg) : NULL;
    Py_XDECREF(arg);
    if (extra == NULL ||
        pyloop_init(&rc.loop, src, "bench", NULL, loops, extra) < 0) {
        Py_XDECREF(extra);
        return pmb_fail("cannot prepare the snippet");
    }
    Py_DECREF(extra);
    return 0;
}

/* The snippet in .data, whose argument is objs[0], a mortal float; the
 * loop's argument tuple owns one more reference to it, counted in the
 * snapshot. */
static int
setup_py_float(int64_t param)
{
    (void)param;
    const char *src = pmb_data();
    if (setup_floats(1) < 0) {
        return -1;
    }
    Py_INCREF(rc.objs[0]);
    if (setup_snippet(src, BATCH, rc.objs[0]) < 0) {
        return -1;
    }
    objs_snapshot();
    return 0;
}

static int
setup_py_iter(int64_t param)
{
    if (setup_floats((Py_ssize_t)param) < 0) {
        return -1;
    }
    PyObject *lst = PyList_New(rc.n);
    if (lst == NULL) {
        return pmb_fail("cannot create the list");
    }
    for (Py_ssize_t i = 0; i < rc.n; i++) {
        Py_INCREF(rc.objs[i]);
        PyList_SET_ITEM(lst, i, rc.objs[i]);
    }
    if (setup_snippet(iter_src, rc.n, lst) < 0) {
        return -1;
    }
    objs_snapshot();
    return 0;
}

/* One call per batch: the snippet runs the batch's loop bodies itself. */
static void
run_snippet(gbs_state *st, int64_t param)
{
    (void)param;
    pyloop_run(&rc.loop, st);
}

/* The snippet returned the expected object; dropping that result leaves
 * every count where it started. */
static int
check_snippet_returns(PyObject *want, const pmb_result *r)
{
    if (rc.loop.last != want) {
        return pmb_fail("the snippet returned the wrong object");
    }
    Py_CLEAR(rc.loop.last);
    if (check_balanced() < 0) {
        return -1;
    }
    return pmb_check_no_leak(r, NO_LEAK_SLACK);
}

static int
check_py_float(const pmb_result *r)
{
    return check_snippet_returns(rc.objs[0], r);
}

static int
check_py_iter(const pmb_result *r)
{
    return check_snippet_returns(rc.objs[rc.n - 1], r);
}

static int
check_py_getrefcount(const pmb_result *r)
{
    if (rc.loop.last == NULL || !PyLong_Check(rc.loop.last)) {
        return pmb_fail("sys.getrefcount returned no int");
    }
    long c = PyLong_AsLong(rc.loop.last);
    /* the argument is held by objs[], the loop's argument tuple and the call
     * itself */
    if (c < 3) {
        return pmb_fail("sys.getrefcount reported %ld, fewer than the 3 known "
                        "references",
                        c);
    }
    Py_CLEAR(rc.loop.last);
    if (check_balanced() < 0) {
        return -1;
    }
    return pmb_check_no_leak(r, NO_LEAK_SLACK);
}

/* --- the table -------------------------------------------------------------
 */

static const int64_t spread_sizes[] = {16, 1024, 65536, 0};
static const int64_t small_int_count[] = {256, 0};
static const int64_t depths[] = {16, 1024, 0};
static const int64_t container_sizes[] = {1, 8, 64, 1024, 0};
static const int64_t list_sizes[] = {16, 1024, 65536, 0};
/* incs_then_decs/mortal: one float, whatever the depth */
static const Py_ssize_t one_float = 1;

static const pmb_case cases[] = {
    {.name = "c_increment",
     .setup = setup_counter,
     .run = run_c_increment,
     .check = check_c_increment,
     .teardown = teardown_all,
     .doc = "physical reference: ++ and -- of a plain C long in memory; "
            "iteration = one pair"},
    {.name = "incdec_same/mortal",
     .setup = setup_mortal,
     .run = run_incdec_same,
     .check = check_incdec_same,
     .teardown = teardown_all,
     .doc = "Py_INCREF then Py_DECREF back to back on one float; iteration = "
            "one pair"},
    {.name = "incdec_same/none",
     .setup = setup_none,
     .run = run_incdec_same,
     .check = check_incdec_same,
     .teardown = teardown_all,
     .doc =
         "Py_INCREF then Py_DECREF back to back on None (immortal from 3.12)"},
    {.name = "incdec_same/small_int",
     .setup = setup_small_ints,
     .run = run_incdec_same,
     .check = check_incdec_same,
     .teardown = teardown_all,
     .doc = "Py_INCREF then Py_DECREF back to back on the int 0 (immortal "
            "from 3.12)"},
    {.name = "incdec_spread/mortal",
     .setup = setup_mortal,
     .run = run_incdec_spread,
     .check = check_incdec_spread,
     .teardown = teardown_all,
     .params = spread_sizes,
     .doc = "one INCREF/DECREF pair on each of N floats in turn; iteration = "
            "one pair"},
    {.name = "incdec_spread/small_int",
     .setup = setup_small_ints,
     .run = run_incdec_spread,
     .check = check_incdec_spread,
     .teardown = teardown_all,
     .params = small_int_count,
     .doc = "one INCREF/DECREF pair on each of the small ints 0..N-1 in turn"},
    {.name = "incs_then_decs/mortal",
     .setup = setup_mortal,
     .run = run_incs_then_decs,
     .check = check_incs_then_decs,
     .teardown = teardown_all,
     .params = depths,
     .data = &one_float,
     .doc = "N INCREFs of one float, then N DECREFs; iteration = one INCREF "
            "and one DECREF"},
    {.name = "incs_then_decs/none",
     .setup = setup_none,
     .run = run_incs_then_decs,
     .check = check_incs_then_decs,
     .teardown = teardown_all,
     .params = depths,
     .doc = "N INCREFs of None, then N DECREFs"},
    {.name = "new_ref",
     .setup = setup_new_ref,
     .run = run_new_ref,
     .check = check_incdec_same,
     .teardown = teardown_all,
     .doc = "r = Py_NewRef(o); Py_DECREF(r) on one float (3.10+); iteration = "
            "one pair"},
    {.name = "setref",
     .setup = setup_setref,
     .run = run_setref,
     .check = check_setref,
     .teardown = teardown_all,
     .doc = "Py_INCREF(new); Py_SETREF(slot, new) alternating two floats; "
            "iteration = one swap"},
    {.name = "clear",
     .setup = setup_mortal,
     .run = run_clear,
     .check = check_clear,
     .teardown = teardown_all,
     .doc = "slot = o with Py_INCREF, then Py_CLEAR(slot) on one float; "
            "iteration = one pair"},
    {.name = "tuple_build",
     .setup = setup_mortal,
     .run = run_tuple_build,
     .check = check_container,
     .teardown = teardown_all,
     .params = container_sizes,
     .doc = "PyTuple_New(N), N items increfed in, then dropped; iteration = "
            "one tuple"},
    {.name = "list_build",
     .setup = setup_mortal,
     .run = run_list_build,
     .check = check_container,
     .teardown = teardown_all,
     .params = container_sizes,
     .doc = "PyList_New(N), N items increfed in, then dropped; iteration = "
            "one list"},
    {.name = "py_rebind",
     .setup = setup_py_float,
     .run = run_snippet,
     .check = check_py_float,
     .teardown = teardown_all,
     .data = rebind_src,
     .doc =
         "Python loop body a = x; b = a; c = b; a = c; iteration = one body"},
    {.name = "py_call_args",
     .setup = setup_py_float,
     .run = run_snippet,
     .check = check_py_float,
     .teardown = teardown_all,
     .data = call_src,
     .doc = "Python call f(x, x, x) of a 3-argument function; iteration = one "
            "call"},
    {.name = "py_iter_list",
     .setup = setup_py_iter,
     .run = run_snippet,
     .check = check_py_iter,
     .teardown = teardown_all,
     .params = list_sizes,
     .doc =
         "Python for-loop over a list of N floats; iteration = one element"},
    {.name = "sys_getrefcount",
     .setup = setup_py_float,
     .run = run_snippet,
     .check = check_py_getrefcount,
     .teardown = teardown_all,
     .data = getrefcount_src,
     .doc = "Python call sys.getrefcount(x) in a loop; iteration = one call"},
    {NULL},
};

int
wl_refcount_register(void)
{
    return pmb_register_family("refcount", cases);
}
