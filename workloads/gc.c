/* gc.c - the gc family: what cyclic garbage and the collector cost.
 *
 * Benchmarks of four kinds: collecting garbage of a known shape (time per
 * collected object), a full collection over a live heap (time per traversed
 * object), allocation loops with automatic collection (time per allocation
 * beside collections per generation), and finalizers, weak edges, freeze
 * and disable. Each check proves the collector did what the row claims:
 * the number of objects collected, finalizers run exactly once, garbage
 * accounted for to the last object, nothing left in gc.garbage.
 *
 * Every case saves the collector's settings in setup and puts them back in
 * teardown; cases that build garbage outside the timed region disable the
 * collector so that it cannot run there.
 */
#include "cases.h"
#include "gcx.h"
#include "pyloop.h"
#include "pyx.h"
#include "memhook.h"
#include "workloads.h"

#include <Python.h>

#define MIN_GARBAGE 4096 /* objects per collection in the shape cases */
#define LOOP_CALL 1000   /* loop bodies per snippet call */
#define C_BATCH 1000     /* iterations per shim call in C loops */
/* C loops collect (clock paused) at this much garbage */
#define GARBAGE_CAP 10000
/* the memory cases let this much garbage pile up */
#define MEMORY_CAP 100000
/* old_heap_build drops its survivors at this many */
#define KEEP_CAP 200000
/* objects in the old heap of old_heap_build */
#define OLD_HEAP 100000

/* Garbage builders, loops and finalizer classes. Every builder takes
 * (k, n): k structures of n nodes, all dropped on return. */
static const char gc_src[] =
    "import gc, weakref\n"
    "from itertools import repeat\n"
    "class Pair:\n"
    "    pass\n"
    "class Node:\n"
    "    __slots__ = ('next',)\n"
    "class TreeNode:\n"
    "    __slots__ = ('parent', 'children')\n"
    "class Parent:\n"
    "    __slots__ = ('child', '__weakref__')\n"
    "class Child:\n"
    "    __slots__ = ('parent',)\n"
    "def self_list(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        x = []\n"
    "        x.append(x)\n"
    "def instance_pair(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        a = Pair(); b = Pair()\n"
    "        a.field = b; b.field = a\n"
    "def dict_pair(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        a = {}; b = {'peer': a}; a['peer'] = b\n"
    "def ring(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        first = cur = Node()\n"
    "        for _ in repeat(None, n - 1):\n"
    "            nxt = Node(); cur.next = nxt; cur = nxt\n"
    "        cur.next = first\n"
    "def tree(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        root = TreeNode(); root.parent = None; root.children = []\n"
    "        level = [root]; made = 1\n"
    "        while made < n:\n"
    "            below = []\n"
    "            for p in level:\n"
    "                for _ in repeat(None, min(4, n - made)):\n"
    "                    c = TreeNode(); c.parent = p; c.children = []\n"
    "                    p.children.append(c); below.append(c); made += 1\n"
    "            level = below\n"
    "finalized = [0, 0]\n"
    "saved = []\n"
    "class Finalized:\n"
    "    __slots__ = ('peer', 'done', 'resurrect')\n"
    "    def __del__(self):\n"
    "        if self.done:\n"
    "            finalized[1] += 1\n"
    "        self.done = True\n"
    "        finalized[0] += 1\n"
    "        if self.resurrect:\n"
    "            saved.append(self)\n"
    "def finalizer_pairs(k, n):\n"
    "    for _ in repeat(None, k):\n"
    "        a = Finalized(); b = Finalized()\n"
    "        a.done = b.done = False; a.resurrect = b.resurrect = bool(n)\n"
    "        a.peer = b; b.peer = a\n"
    "def finalizer_counts():\n"
    "    return finalized[0], finalized[1], len(saved)\n"
    "def release_saved():\n"
    "    saved.clear()\n"
    "edge_collected = [0]\n"
    "def edge(n, weak):\n"
    "    ref = weakref.ref\n"
    "    for _ in repeat(None, n):\n"
    "        p = Parent(); c = Child(); p.child = c\n"
    "        c.parent = ref(p) if weak else p\n"
    "    p = c = None\n"
    "    edge_collected[0] += gc.collect(0)\n"
    "    return edge_collected[0]\n"
    "def cycles(n):\n"
    "    for _ in repeat(None, n):\n"
    "        x = []\n"
    "        x.append(x)\n"
    "def cycles_payload(n):\n"
    "    for _ in repeat(None, n):\n"
    "        x = [None, bytearray(256)]\n"
    "        x[0] = x\n"
    "def build_keep(n, keep):\n"
    "    app = keep.append\n"
    "    for _ in repeat(None, n):\n"
    "        app([])\n"
    "def live_lists(n):\n"
    "    return [[] for _ in repeat(None, n)]\n";

/* The shapes of pyperformance's bm_gc_collect (create_gc_cycles(100, 20):
 * 100 doubly linked rings of 21 plain-class nodes, attributes set in
 * __init__ and by a method) and bm_gc_traversal (list k holding k
 * references to list k - 1, 1000 levels): docs/families.md. A snippet of
 * their own: every class a snippet defines is made again at each set-up,
 * and the other gc rows' set-ups make no more than they did. */
static const char pp_src[] = "class PNode:\n"
                             "    def __init__(self):\n"
                             "        self.next = None\n"
                             "        self.prev = None\n"
                             "    def link_next(self, other):\n"
                             "        self.next = other\n"
                             "        other.prev = self\n"
                             "def pp_rings(k, n):\n"
                             "    rings = []\n"
                             "    for _ in range(k):\n"
                             "        first = cur = PNode()\n"
                             "        rings.append(first)\n"
                             "        for _ in range(n - 1):\n"
                             "            nxt = PNode()\n"
                             "            cur.link_next(nxt)\n"
                             "            cur = nxt\n"
                             "        cur.link_next(first)\n"
                             "    return rings\n"
                             "def pp_levels(n):\n"
                             "    cur = []\n"
                             "    for k in range(n):\n"
                             "        new = [None] * k\n"
                             "        for i in range(k):\n"
                             "            new[i] = cur\n"
                             "        cur = new\n"
                             "    return cur\n";

/* What a batch-end step of an allocation loop does, clock paused. */
enum { AT_CAP_NOTHING, AT_CAP_COLLECT, AT_CAP_DROP_KEPT };

/* What tells rows that share functions apart; each setup reads the fields
 * of its group. */
typedef struct gc_spec {
    const char *fn; /* the gc_src function: a garbage builder or a loop */
    /* collect, finalizer: the garbage's shape */
    Py_ssize_t nodes;   /* nodes per structure; 0: the case's param */
    Py_ssize_t tracked; /* tracked objects per node, at least */
    int finalizers;     /* finalizer_pairs: setup notes the calls; its n is
                           resurrect */
    int resurrect; /* __del__ resurrects: no fixed count (collect() skips them)
                    */
    /* auto, garbage_memory, old_heap_build, edge: the collector's setting */
    int enabled;       /* the collector on */
    int threshold;     /* gc.set_threshold(param, 10, 10) */
    int at_cap;        /* AT_CAP_* */
    int64_t cap;       /* allocations between batch-end steps */
    int check_signals; /* the C loop calls PyErr_CheckSignals() */
    int frozen; /* old_heap_build: the old heap moved away by gc.freeze() */
    int weak;   /* edge: the back-link is a weakref */
    /* collect: a fixed number of structures (else enough for
     * MIN_GARBAGE); full: an untimed gc.collect() before each build and a
     * full one timed, as pyperformance's bm_gc_collect does */
    Py_ssize_t structures;
    int full;
    int empty;         /* collect: no structure at all (the heap's own cost) */
    int pyperformance; /* fn is pp_src's, not gc_src's */
} gc_spec;

static struct {
    gcx_saved saved;
    pyloop loop;          /* the timed snippet, for loop cases */
    PyObject *build;      /* owned: garbage builder, for collect cases */
    PyObject *build_args; /* owned: (k, n) */
    PyObject *heap;       /* owned or NULL: objects kept alive for the case */
    Py_ssize_t expected;  /* objects one collection must find; -1: not fixed */
    Py_ssize_t objects;   /* tracked objects one build leaves */
    int64_t found;        /* objects collected by timed collections */
    int64_t mismatches;   /* timed collections that found != expected */
    Py_ssize_t traversed; /* tracked objects a full collection visits */
    gcx_stats before, run; /* stats before the run; their change over it */
    int64_t explicit_collections; /* batch-end ones */
    int64_t finalized_before[3];
    int at_cap; /* AT_CAP_* */
    int64_t cap;
    int check_signals; /* the C loop calls PyErr_CheckSignals() */
    int frozen;
    Py_ssize_t frozen_count; /* gc.get_freeze_count() */
    int64_t
        garbage_peak; /* largest live-byte growth seen at a cap (hook on) */
    int hook;         /* the counting hook is installed */
    int want_enabled; /* old_heap_build: the collector should be on */
} g;

/* --- shared set-up
 * -------------------------------------------------------------- */

/* A sibling of fn in its snippet's globals; borrowed or NULL with an error. */
static PyObject *
sibling(PyObject *fn, const char *name)
{
    PyObject *o = PyDict_GetItemString(PyFunction_GetGlobals(fn), name);
    if (o == NULL) {
        PyErr_Format(PyExc_KeyError, "snippet defines no '%s'", name);
    }
    return o;
}

/* Call sibling `name` of fn with no arguments; new reference or NULL. */
static PyObject *
call_sibling(PyObject *fn, const char *name)
{
    PyObject *f = sibling(fn, name);
    return f != NULL ? PyObject_CallObject(f, NULL) : NULL;
}

/* Save the collector's settings, then enable or disable it. */
static int
gc_prepare(int enabled)
{
    if (gcx_init() < 0 || gcx_save(&g.saved) < 0 || gcx_enable(enabled) < 0) {
        return pmb_fail("cannot prepare the collector");
    }
    g.expected = -1;
    return 0;
}

static void
teardown_gc(void)
{
    pyloop_clear(&g.loop);
    Py_CLEAR(g.build);
    Py_CLEAR(g.build_args);
    Py_CLEAR(g.heap);
    /* 3.12+: a collection scheduled by a C loop runs here, not later. */
    if (PyErr_CheckSignals() < 0) {
        PyErr_Clear();
    }
    if (gcx_collect(2) < 0) {
        PyErr_Clear();
    }
    gcx_restore(&g.saved);
    memset(&g, 0, sizeof(g));
}

static PyObject *
call_build(void)
{
    return PyObject_Call(g.build, g.build_args, NULL);
}

/* Collector disabled; the builder `name` makes k structures of n nodes per
 * collection. The objects one collection must find are counted here, as
 * the growth of gc.get_objects(), and proved by one untimed collection.
 * lower < 0: no fixed count (collect() does not count resurrected objects). */
static int
setup_shape(const char *name, Py_ssize_t k, Py_ssize_t n, Py_ssize_t lower)
{
    if (gc_prepare(0) < 0) {
        return -1;
    }
    const gc_spec *s = pmb_data();
    g.build =
        pyx_compile_function(s != NULL && s->pyperformance ? pp_src : gc_src,
                             name);
    g.build_args = Py_BuildValue("(nn)", k, n);
    if (g.build == NULL || g.build_args == NULL || gcx_collect(2) < 0) {
        return pmb_fail("cannot prepare the builder %s", name);
    }
    Py_ssize_t t0 = gcx_tracked();
    PyObject *r = t0 >= 0 ? call_build() : NULL;
    Py_XDECREF(r);
    Py_ssize_t t1 = r != NULL ? gcx_tracked() : -1;
    Py_ssize_t found = t1 >= 0 ? gcx_collect(0) : -1;
    if (found < 0) {
        return pmb_fail("cannot build and collect %s", name);
    }
    g.objects = t1 - t0;
    if (lower < 0) {
        return 0;
    }
    if (found != t1 - t0 || found < lower) {
        return pmb_fail("%s: collect(0) found %zd objects; the builder left "
                        "%zd tracked "
                        "objects and the shape implies at least %zd",
                        name, found, t1 - t0, lower);
    }
    g.expected = found;
    return 0;
}

/* k structures of n nodes, k*n >= MIN_GARBAGE. */
static Py_ssize_t
structures(Py_ssize_t n)
{
    return n >= MIN_GARBAGE ? 1 : (MIN_GARBAGE + n - 1) / n;
}

/* The row's shape: k structures of n nodes, k * n >= MIN_GARBAGE. */
static int
setup_collect(int64_t param)
{
    const gc_spec *s = pmb_data();
    Py_ssize_t n = s->nodes > 0 ? s->nodes : (Py_ssize_t)param;
    Py_ssize_t k = s->empty            ? 0
                   : s->structures > 0 ? s->structures
                                       : structures(n);
    Py_ssize_t lower = s->resurrect ? -1 : s->tracked * k * n;
    PyObject *counts = NULL;
    if (setup_shape(s->fn, k, s->finalizers ? s->resurrect : n, lower) < 0) {
        return -1;
    }
    if (!s->finalizers) {
        return 0;
    }
    counts = call_sibling(g.build, "finalizer_counts");
    if (counts == NULL ||
        !PyArg_ParseTuple(counts, "LLL", &g.finalized_before[0],
                          &g.finalized_before[1], &g.finalized_before[2])) {
        Py_XDECREF(counts);
        return pmb_fail("cannot read the finalizer counts");
    }
    Py_DECREF(counts);
    return 0;
}

/* --- collecting garbage of a known shape
 * ------------------------------------------ */

/* Untimed before each collection of a resurrect case: the objects the last
 * collection resurrected are dropped and freed (their finalizers must not
 * run again). */
static int
drop_resurrected(void)
{
    PyObject *r = call_sibling(g.build, "release_saved");
    Py_XDECREF(r);
    return r != NULL && gcx_collect(2) >= 0 ? 0 : -1;
}

/* Iteration: build the garbage (clock paused), then gc.collect(0) timed. */
static void
run_collect(gbs_state *st, int64_t param)
{
    (void)param;
    int resurrect = g.expected < 0;
    const int full = ((const gc_spec *)pmb_data())->full;
    while (gbs_keep_running(st)) {
        gbs_pause(st);
        PyObject *r = NULL;
        if ((!resurrect || drop_resurrected() == 0) &&
            (!full || gcx_collect(2) >= 0)) {
            r = call_build();
        }
        if (r == NULL) {
            pmb_run_error(st);
            return;
        }
        Py_DECREF(r);
        gbs_resume(st);
        Py_ssize_t n = gcx_collect(full ? 2 : 0);
        if (n < 0) {
            pmb_run_error(st);
            return;
        }
        g.found += n;
        g.mismatches += !resurrect && n != g.expected;
    }
    /* per object built: a resurrecting collection does not count its objects
     */
    double objects = (double)g.objects * (double)gbs_iterations(st);
    gbs_set_items_processed(st, (int64_t)objects);
    gbs_counter(st, "collected_per_iter", (double)g.found,
                GBS_COUNTER_AVG_ITERATIONS);
    gbs_counter(st, "seconds_per_object", objects,
                GBS_COUNTER_RATE | GBS_COUNTER_INVERT);
}

static int
check_collect(const pmb_result *r)
{
    if (g.mismatches != 0) {
        return pmb_fail("%lld of %lld collections found other than %zd "
                        "objects",
                        (long long)g.mismatches, (long long)r->iterations,
                        g.expected);
    }
    if (g.found != r->iterations * g.expected) {
        return pmb_fail("collected %lld objects in %lld collections, expected "
                        "%zd each",
                        (long long)g.found, (long long)r->iterations,
                        g.expected);
    }
    return 0;
}

/* Each finalizer ran exactly once; nothing reached gc.garbage. */
static int
check_finalizers(int64_t want_calls)
{
    PyObject *counts = call_sibling(g.build, "finalizer_counts");
    long long calls, twice, saved;
    if (counts == NULL ||
        !PyArg_ParseTuple(counts, "LLL", &calls, &twice, &saved)) {
        Py_XDECREF(counts);
        return pmb_fail("cannot read the finalizer counts");
    }
    Py_DECREF(counts);
    calls -= g.finalized_before[0];
    twice -= g.finalized_before[1];
    if (calls != want_calls || twice != 0) {
        return pmb_fail("%lld finalizer calls (%lld repeated) for %lld "
                        "objects",
                        calls, twice, (long long)want_calls);
    }
    Py_ssize_t left = gcx_garbage_len();
    if (left != 0) {
        return pmb_fail("%zd objects left in gc.garbage", left);
    }
    return 0;
}

static int
check_del_cycle(const pmb_result *r)
{
    if (check_collect(r) < 0) {
        return -1;
    }
    return check_finalizers(r->iterations * MIN_GARBAGE);
}

/* After the last collection resurrected its objects, drop them: they are
 * freed without a second finalizer call (PEP 442). */
static int
check_resurrect(const pmb_result *r)
{
    if (drop_resurrected() < 0) {
        return pmb_fail("cannot drop the resurrected objects");
    }
    return check_finalizers(r->iterations * MIN_GARBAGE);
}

/* --- a full collection over a live heap
 * ---------------------------------------------- */

/* N live lists; the collector enabled, so the heap ages as it would. */
static int
setup_live_heap(int64_t n)
{
    const gc_spec *s = pmb_data();
    if (gc_prepare(1) < 0) {
        return -1;
    }
    if (s != NULL && s->nodes > 0) { /* a heap of a fixed shape */
        n = s->nodes;
    }
    PyObject *make =
        pyx_compile_function(s != NULL && s->pyperformance ? pp_src : gc_src,
                             s != NULL && s->fn != NULL ? s->fn
                                                        : "live_lists");
    g.heap =
        make != NULL ? PyObject_CallFunction(make, "L", (long long)n) : NULL;
    Py_XDECREF(make);
    if (g.heap == NULL || gcx_collect(2) < 0 || gcx_collect(2) < 0) {
        return pmb_fail("cannot build a heap of %lld lists", (long long)n);
    }
    g.traversed = gcx_tracked();
    if (g.traversed < n) {
        return pmb_fail("the collector tracks %zd objects, fewer than the "
                        "%lld made",
                        g.traversed, (long long)n);
    }
    return 0;
}

static int
setup_frozen_heap(int64_t n)
{
    if (setup_live_heap(n) < 0) {
        return -1;
    }
    if (gcx_freeze(1) < 0) {
        return pmb_fail("gc.freeze() failed");
    }
    g.frozen = 1;
    g.traversed = gcx_tracked(); /* the permanent generation is not listed */
    g.frozen_count = gcx_frozen();
    if (g.traversed < 0 || g.frozen_count < n) {
        return pmb_fail("gc.freeze() moved %zd objects, fewer than the %lld "
                        "made",
                        g.frozen_count, (long long)n);
    }
    return 0;
}

/* Iteration: one gc.collect() (full), timed. */
static void
run_full_collect(gbs_state *st, int64_t param)
{
    (void)param;
    gcx_stats after;
    if (gcx_stats_read(&g.before) < 0) {
        pmb_run_error(st);
        return;
    }
    while (gbs_keep_running(st)) {
        Py_ssize_t n = gcx_collect(2);
        if (n < 0) {
            pmb_run_error(st);
            return;
        }
        g.found += n;
    }
    if (gcx_stats_read(&after) < 0) {
        pmb_run_error(st);
        return;
    }
    gcx_stats_sub(&g.run, &after, &g.before);
    gbs_counter(st, "traversed_objects", (double)g.traversed,
                GBS_COUNTER_DEFAULT);
    if (g.traversed > 0) {
        gbs_counter(st, "seconds_per_traversed",
                    (double)g.traversed * (double)gbs_iterations(st),
                    GBS_COUNTER_RATE | GBS_COUNTER_INVERT);
    }
    if (g.frozen) {
        gbs_counter(st, "frozen_objects", (double)g.frozen_count,
                    GBS_COUNTER_DEFAULT);
    }
}

static int
check_full_collect(const pmb_result *r)
{
    /* get_stats() may trigger a young collection of its own, never a full one
     */
    if (g.run.collections[2] != r->iterations) {
        return pmb_fail("%lld full collections recorded for %lld iterations",
                        (long long)g.run.collections[2],
                        (long long)r->iterations);
    }
    if (g.found != 0) {
        return pmb_fail("%lld objects collected from a heap without garbage",
                        (long long)g.found);
    }
    if (g.frozen && gcx_frozen() != g.frozen_count) {
        return pmb_fail("the frozen generation changed during the run");
    }
    return 0;
}

/* --- allocation loops and automatic collection
 * ------------------------------------ */

/* The row's collector setting (gc_spec), its threshold0 the case's param
 * where it says so; the loop is the row's snippet, or C's when it has none. */
static int
setup_auto(int64_t param)
{
    const gc_spec *s = pmb_data();
    if (gc_prepare(s->enabled) < 0) {
        return -1;
    }
    if (s->threshold && gcx_set_threshold((long)param, 10, 10) < 0) {
        return pmb_fail("gc.set_threshold(%lld, 10, 10) failed",
                        (long long)param);
    }
    g.at_cap = s->at_cap;
    g.cap = s->cap;
    g.check_signals = s->check_signals;
    if (s->fn != NULL &&
        pyloop_init(&g.loop, gc_src, s->fn, NULL, LOOP_CALL, NULL) < 0) {
        return pmb_fail("cannot compile %s", s->fn);
    }
    return gcx_collect(2) >= 0 ? 0 : pmb_fail("gc.collect() failed");
}

/* old_heap_build: OLD_HEAP live lists aged into the oldest generation (and
 * frozen, for the frozen variant), then a loop adding survivors. */
static int
setup_old_heap(int64_t param)
{
    (void)param;
    const gc_spec *s = pmb_data();
    PyObject *extra = NULL;
    if (setup_live_heap(OLD_HEAP) < 0) {
        return -1;
    }
    if (gcx_enable(s->enabled) < 0 || (s->frozen && gcx_freeze(1) < 0)) {
        return pmb_fail("cannot set the collector up");
    }
    g.frozen = s->frozen;
    g.want_enabled = s->enabled;
    g.at_cap = AT_CAP_DROP_KEPT;
    g.cap = KEEP_CAP;
    PyObject *keep = PyList_New(0);
    extra = keep != NULL ? PyTuple_Pack(1, keep) : NULL;
    Py_XDECREF(keep);
    if (extra == NULL || pyloop_init(&g.loop, gc_src, "build_keep", NULL,
                                     LOOP_CALL, extra) < 0) {
        Py_XDECREF(extra);
        return pmb_fail("cannot compile build_keep");
    }
    Py_DECREF(extra);
    return 0;
}

/* Batch end, clock paused: collect the young garbage (noting how much
 * live memory it held), or drop the kept survivors. */
static int
at_cap(void)
{
    if (g.at_cap == AT_CAP_DROP_KEPT) {
        return PyList_SetSlice(PyTuple_GET_ITEM(g.loop.args, 1), 0,
                               PY_SSIZE_T_MAX, NULL);
    }
    if (gcx_collect(0) < 0) {
        return -1;
    }
    g.explicit_collections++;
    return 0;
}

/* Record the garbage's live bytes at a cap (hook on only). */
static void
note_live(int64_t base)
{
    memhook_counts now;
    memhook_read_total(&now);
    int64_t grown = (int64_t)now.live_bytes - base;
    if (grown > g.garbage_peak) {
        g.garbage_peak = grown;
    }
}

/* The counters every allocation loop reports; called after the loop. */
static void
report_auto(gbs_state *st)
{
    gcx_stats after;
    if (gcx_stats_read(&after) < 0) {
        pmb_run_error(st);
        return;
    }
    gcx_stats_sub(&g.run, &after, &g.before);
    /* batch-end collections are ours, not automatic */
    int64_t auto0 = g.run.collections[0] - g.explicit_collections;
    gbs_counter(st, "gen0_per_1k_allocs", 1000.0 * (double)auto0,
                GBS_COUNTER_AVG_ITERATIONS);
    gbs_counter(st, "gen1_per_1k_allocs",
                1000.0 * (double)g.run.collections[1],
                GBS_COUNTER_AVG_ITERATIONS);
    gbs_counter(st, "gen2_per_1k_allocs",
                1000.0 * (double)g.run.collections[2],
                GBS_COUNTER_AVG_ITERATIONS);
    long t0 = gcx_threshold0();
    if (t0 < 0) {
        pmb_run_error(st);
        return;
    }
    gbs_counter(st, "threshold0", (double)t0, GBS_COUNTER_DEFAULT);
    if (g.at_cap == AT_CAP_COLLECT) {
        gbs_counter(st, "explicit_collections", (double)g.explicit_collections,
                    GBS_COUNTER_DEFAULT);
    }
    if (g.cap == MEMORY_CAP && g.hook) {
        gbs_counter(st, "garbage_live_bytes", (double)g.garbage_peak,
                    GBS_COUNTER_DEFAULT);
    }
}

/* Iteration: one loop body of the snippet (one allocation). */
static void
run_auto_py(gbs_state *st, int64_t param)
{
    (void)param;
    int64_t since = 0;
    memhook_counts base;
    g.hook = memhook_installed();
    memhook_read_total(&base);
    if (gcx_stats_read(&g.before) < 0) {
        pmb_run_error(st);
        return;
    }
    while (gbs_keep_running_batch(st, g.loop.per_call)) {
        PyObject *r = PyObject_Call(g.loop.fn, g.loop.args, NULL);
        if (r == NULL) {
            pmb_run_error(st);
            return;
        }
        Py_DECREF(r);
        since += g.loop.per_call;
        if (g.at_cap != AT_CAP_NOTHING && since >= g.cap) {
            gbs_pause(st);
            if (g.cap == MEMORY_CAP) {
                note_live((int64_t)base.live_bytes);
            }
            if (at_cap() < 0) {
                pmb_run_error(st);
                return;
            }
            since = 0;
            gbs_resume(st);
        }
    }
    if (g.cap == MEMORY_CAP) {
        note_live((int64_t)base.live_bytes); /* the garbage left at the end */
    }
    report_auto(st);
}

/* Iteration: one self-referencing list made and dropped from C. */
static void
run_auto_c(gbs_state *st, int64_t param)
{
    (void)param;
    int64_t since = 0;
    if (gcx_stats_read(&g.before) < 0) {
        pmb_run_error(st);
        return;
    }
    while (gbs_keep_running_batch(st, C_BATCH)) {
        for (int i = 0; i < C_BATCH; i++) {
            PyObject *x = PyList_New(0);
            if (x == NULL || PyList_Append(x, x) < 0) {
                Py_XDECREF(x);
                pmb_run_error(st);
                return;
            }
            Py_DECREF(x);
            if (g.check_signals && PyErr_CheckSignals() < 0) {
                pmb_run_error(st);
                return;
            }
        }
        since += C_BATCH;
        if (since >= g.cap) {
            gbs_pause(st);
            if (at_cap() < 0) {
                pmb_run_error(st);
                return;
            }
            since = 0;
            gbs_resume(st);
        }
    }
    report_auto(st);
}

/* Every cycle made was collected: automatically, at a batch end, or by a
 * final collection now; none twice, none missed. The statistics are read
 * again after the final collection: gc.get_stats() snapshots them before
 * building its result, whose allocations may trigger one more collection. */
static int
check_auto(const pmb_result *r)
{
    gcx_stats end, all;
    /* full: a cycle alive during a collection was promoted */
    Py_ssize_t last = gcx_collect(2);
    if (last < 0 || gcx_stats_read(&end) < 0) {
        return pmb_fail("gc.collect() or gc.get_stats() failed");
    }
    gcx_stats_sub(&all, &end, &g.before);
    int64_t total = gcx_total_collected(&all);
    if (total != r->iterations) {
        return pmb_fail("%lld cycles made, %lld objects collected (%lld by "
                        "the final collection)",
                        (long long)r->iterations, (long long)total,
                        (long long)last);
    }
    return 0;
}

/* With the collector on and several thresholds' worth of allocations, a
 * Python loop must have seen automatic collections. */
static int
check_auto_py(const pmb_result *r)
{
    long t0 = gcx_threshold0();
    int64_t auto0 = g.run.collections[0] - g.explicit_collections;
    if (t0 < 0) {
        return pmb_fail("cannot read the threshold");
    }
    if (r->iterations > 4 * (int64_t)t0 && auto0 == 0) {
        return pmb_fail("no automatic collection in %lld allocations at "
                        "threshold %ld",
                        (long long)r->iterations, t0);
    }
    return check_auto(r);
}

/* gc.disable(): the only collections are the case's own. */
static int
check_auto_disabled(const pmb_result *r)
{
    int64_t others = gcx_total_collections(&g.run) - g.explicit_collections;
    if (others != 0) {
        return pmb_fail("%lld automatic collections with the collector "
                        "disabled",
                        (long long)others);
    }
    return check_auto(r);
}

/* Survivors are not garbage: nothing may be collected; disabled means no
 * automatic collection at all. */
static int
check_old_heap(const pmb_result *r)
{
    int64_t collected = gcx_total_collected(&g.run);
    int64_t collections = gcx_total_collections(&g.run);
    if (collected != 0) {
        return pmb_fail("%lld objects collected from survivors",
                        (long long)collected);
    }
    if (!g.want_enabled && collections != 0) {
        return pmb_fail("%lld collections with the collector disabled",
                        (long long)collections);
    }
    if (g.want_enabled && r->iterations > 4 * (int64_t)gcx_threshold0() &&
        g.run.collections[0] == 0) {
        return pmb_fail("no automatic collection in %lld allocations with the "
                        "collector on",
                        (long long)r->iterations);
    }
    if (g.frozen && gcx_frozen() < OLD_HEAP) {
        return pmb_fail("only %zd objects frozen, fewer than the %d old ones",
                        gcx_frozen(), OLD_HEAP);
    }
    return 0;
}

/* --- breaking cycles with a weak edge
 * ---------------------------------------------- */

static int
setup_edge(int64_t param)
{
    (void)param;
    const int weak = ((const gc_spec *)pmb_data())->weak;
    PyObject *extra = NULL;
    if (gc_prepare(0) < 0) {
        return -1;
    }
    extra = Py_BuildValue("(O)", weak ? Py_True : Py_False);
    if (extra == NULL ||
        pyloop_init(&g.loop, gc_src, "edge", NULL, LOOP_CALL, extra) < 0) {
        Py_XDECREF(extra);
        return pmb_fail("cannot compile edge");
    }
    Py_DECREF(extra);
    g.expected = weak ? 0 : 2; /* objects collected per parent/child pair */
    return gcx_collect(2) >= 0 ? 0 : pmb_fail("gc.collect() failed");
}

/* Iteration: one parent/child pair made and dropped; each snippet call
 * ends with gc.collect(0), timed, which frees the strong pairs. */
static void
run_edge(gbs_state *st, int64_t param)
{
    pyloop_run(&g.loop, st);
    (void)param;
}

static int
check_edge(const pmb_result *r)
{
    long long total =
        g.loop.last != NULL ? PyLong_AsLongLong(g.loop.last) : -1;
    if (total != r->iterations * g.expected) {
        return pmb_fail("the collector freed %lld objects for %lld pairs, "
                        "expected %zd each",
                        total, (long long)r->iterations, g.expected);
    }
    return 0;
}

/* --- the table
 * ----------------------------------------------------------------------- */

static const int64_t ring_sizes[] = {16, 1024, 65536, 0};
static const int64_t tree_sizes[] = {15, 1365, 87381, 0};
static const int64_t heap_sizes[] = {1000, 10000, 100000, 1000000, 0};
static const int64_t frozen_sizes[] = {100000, 1000000, 0};
/* The quick suite's: a heap of a million lists is built (and collected
 * twice) at every repetition, seconds a row; 100,000 tells live against
 * frozen as well */
static const int64_t quick_trees[] = {15, 1365, 0};
static const int64_t quick_heaps[] = {1000, 100000, 0};
static const int64_t quick_frozen[] = {100000, 0};
static const int64_t thresholds[] = {100, 10000, 0};

/* Rows that differ only by the gc_spec in .data share these functions. */
#define COLLECT(case_name, check_, sweep, doc_, ...)                   \
    {                                                                  \
        .name = case_name, .setup = setup_collect, .run = run_collect, \
        .check = check_, .teardown = teardown_gc, .params = sweep,     \
        .doc = doc_, .data = &(const gc_spec)                          \
        {                                                              \
            __VA_ARGS__                                                \
        }                                                              \
    }
#define AUTO(case_name, run_, check_, sweep, doc_, ...)                       \
    {                                                                         \
        .name = case_name, .setup = setup_auto, .run = run_, .check = check_, \
        .teardown = teardown_gc, .params = sweep, .doc = doc_,                \
        .data = &(const gc_spec)                                              \
        {                                                                     \
            __VA_ARGS__                                                       \
        }                                                                     \
    }
#define OLD_HEAP_BUILD(case_name, doc_, ...)                            \
    {                                                                   \
        .name = case_name, .setup = setup_old_heap, .run = run_auto_py, \
        .check = check_old_heap, .teardown = teardown_gc, .doc = doc_,  \
        .data = &(const gc_spec)                                        \
        {                                                               \
            __VA_ARGS__                                                 \
        }                                                               \
    }
#define EDGE(case_name, doc_, ...)                                 \
    {                                                              \
        .name = case_name, .setup = setup_edge, .run = run_edge,   \
        .check = check_edge, .teardown = teardown_gc, .doc = doc_, \
        .data = &(const gc_spec)                                   \
        {                                                          \
            __VA_ARGS__                                            \
        }                                                          \
    }

static const pmb_case cases[] = {
    COLLECT("collect/self_list", check_collect, NULL,
            "gc.collect(0) of 4096 lists x.append(x); iteration = one "
            "collection",
            .fn = "self_list", .nodes = 1, .tracked = 1),
    COLLECT("collect/instance_pair", check_collect, NULL,
            "gc.collect(0) of 2048 instance pairs a.field = b; b.field = a",
            .fn = "instance_pair", .nodes = 2, .tracked = 1),
    COLLECT("collect/dict_pair", check_collect, NULL,
            "gc.collect(0) of 2048 pairs of dicts pointing at each other",
            .fn = "dict_pair", .nodes = 2, .tracked = 1),
    COLLECT("collect/ring", check_collect, ring_sizes,
            "gc.collect(0) of rings of N __slots__ nodes (>= 4096 nodes)",
            .fn = "ring", .tracked = 1),
    /* a node and its children list: two objects per node */
    {.name = "collect/tree",
     .setup = setup_collect,
     .run = run_collect,
     .check = check_collect,
     .teardown = teardown_gc,
     .params = tree_sizes,
     .quick_params = quick_trees,
     .doc = "gc.collect(0) of 4-ary trees of N nodes with parent back-links",
     .data = &(const gc_spec){.fn = "tree", .tracked = 2}},
    {.name = "live_heap",
     .setup = setup_live_heap,
     .run = run_full_collect,
     .check = check_full_collect,
     .teardown = teardown_gc,
     .params = heap_sizes,
     .quick_params = quick_heaps,
     .doc = "full gc.collect() with N live lists and no garbage"},
    /* pyperformance's gc benchmarks, their shapes and what they time */
    COLLECT("pyperformance/gc_collect", check_collect, NULL,
            "a full gc.collect() of 100 rings of 21 plain-class nodes, as "
            "pyperformance's bm_gc_collect",
            .fn = "pp_rings", .nodes = 21, .tracked = 1, .structures = 100,
            .full = 1, .pyperformance = 1),
    COLLECT("pyperformance/gc_collect_empty", check_collect, NULL,
            "the same with no ring: what the full collection costs without "
            "the garbage",
            .fn = "pp_rings", .nodes = 21, .full = 1, .empty = 1,
            .pyperformance = 1),
    {.name = "pyperformance/gc_traversal",
     .setup = setup_live_heap,
     .run = run_full_collect,
     .check = check_full_collect,
     .teardown = teardown_gc,
     .doc = "a full gc.collect() of 1000 live lists, list k holding k "
            "references to list k-1 (bm_gc_traversal)",
     .data = &(
         const gc_spec){.fn = "pp_levels", .nodes = 1000, .pyperformance = 1}},
    {.name = "frozen_heap",
     .setup = setup_frozen_heap,
     .run = run_full_collect,
     .check = check_full_collect,
     .teardown = teardown_gc,
     .params = frozen_sizes,
     .quick_params = quick_frozen,
     .doc = "full gc.collect() with N live lists moved away by gc.freeze()"},
    AUTO("auto/py/default", run_auto_py, check_auto_py, NULL,
         "Python loop x = []; x.append(x) at the default thresholds; "
         "iteration = one cycle",
         .fn = "cycles", .enabled = 1),
    AUTO("auto/py/threshold", run_auto_py, check_auto_py, thresholds,
         "the same after gc.set_threshold(N, 10, 10)", .fn = "cycles",
         .enabled = 1, .threshold = 1),
    AUTO("auto/c/alloc", run_auto_c, check_auto, NULL,
         "C loop PyList_New + append itself; automatic collections reported "
         "as they happen",
         .enabled = 1, .at_cap = AT_CAP_COLLECT, .cap = GARBAGE_CAP),
    AUTO("auto/c/check_signals", run_auto_c, check_auto, NULL,
         "the same C loop calling PyErr_CheckSignals() after each cycle",
         .enabled = 1, .at_cap = AT_CAP_COLLECT, .cap = GARBAGE_CAP,
         .check_signals = 1),
    EDGE("edge/strong",
         "parent/child pair with strong back-link, freed by gc.collect(0); "
         "iteration = one pair",
         .weak = 0),
    EDGE("edge/weakref",
         "the same with a weakref.ref back-link, freed by refcounting",
         .weak = 1),
    COLLECT("finalizer/del_cycle", check_del_cycle, NULL,
            "gc.collect(0) of 2048 pairs with __del__; each finalizer must "
            "run once",
            .fn = "finalizer_pairs", .nodes = 2, .tracked = 1,
            .finalizers = 1),
    COLLECT("finalizer/resurrect", check_resurrect, NULL,
            "the same with __del__ resurrecting self; freed later without a "
            "second call",
            .fn = "finalizer_pairs", .nodes = 2, .finalizers = 1,
            .resurrect = 1),
    OLD_HEAP_BUILD("old_heap_build/enabled",
                   "Python loop keeping new lists beside 100000 old ones; "
                   "collector on",
                   .enabled = 1),
    OLD_HEAP_BUILD("old_heap_build/disabled", "the same after gc.disable()",
                   .enabled = 0),
    OLD_HEAP_BUILD("old_heap_build/frozen",
                   "the same with the old heap moved away by gc.freeze()",
                   .enabled = 1, .frozen = 1),
    AUTO("garbage_memory/enabled", run_auto_py, check_auto_py, NULL,
         "cycles holding 256-byte payloads; collector on; memory as counters",
         .fn = "cycles_payload", .enabled = 1, .at_cap = AT_CAP_COLLECT,
         .cap = MEMORY_CAP),
    AUTO("garbage_memory/disabled", run_auto_py, check_auto_disabled, NULL,
         "the same with gc.disable(): garbage piles up to 100000 cycles",
         .fn = "cycles_payload", .enabled = 0, .at_cap = AT_CAP_COLLECT,
         .cap = MEMORY_CAP),
    {NULL},
};

int
wl_gc_register(void)
{
    return pmb_register_family("gc", cases);
}
