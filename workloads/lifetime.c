/* lifetime.c - the lifetime family: what it costs to own a C resource (a
 * heap block and a file descriptor, workloads/fixtures/resource.h) through
 * each of Python's release mechanisms, on the normal path and on exception
 * paths.
 *
 * Benchmarks. One iteration acquires and releases the resources of one loop
 * body of a Python snippet (one, three for nested `with`, N for ExitStack).
 * Every check proves, from the resource's own counters, that each resource
 * was released exactly once, by the mechanism the row names, that the
 * suppress/propagate semantics held for every iteration, and that nothing
 * is left alive or allocated.
 */
#include "cases.h"
#include "pyloop.h"
#include "resource.h"
#include "workloads.h"

#include <Python.h>

#define LOOP_CALL 1000 /* loop bodies per snippet call */
#define RAW_BATCH 100  /* iterations per shim call for the C reference */
#define NO_LEAK_SLACK \
    64 /* live blocks a freelist may keep, whatever the iterations */

/* Every function takes (n[, k]) and returns how many of its n loop bodies
 * ended the way the row says (completed, caught, or continued after a
 * suppressed exception). Resource and capsule come from resource.c. */
static const char lifetime_src[] =
    "import contextlib, weakref\n"
    "from itertools import repeat\n"
    "class Boom(Exception):\n"
    "    pass\n"
    "class Managed:\n"
    "    __slots__ = ('r', 'suppress')\n"
    "    def __init__(self, suppress=False):\n"
    "        self.suppress = suppress\n"
    "    def __enter__(self):\n"
    "        self.r = Resource()\n"
    "        return self.r\n"
    "    def __exit__(self, t, v, tb):\n"
    "        self.r.release()\n"
    "        return self.suppress\n"
    "@contextlib.contextmanager\n"
    "def managed():\n"
    "    r = Resource()\n"
    "    try:\n"
    "        yield r\n"
    "    finally:\n"
    "        r.release()\n"
    "class DelOwner:\n"
    "    __slots__ = ('r',)\n"
    "    def __init__(self):\n"
    "        self.r = Resource()\n"
    "    def __del__(self):\n"
    "        self.r.release()\n"
    "class Owner:\n"
    "    __slots__ = ('r', '__weakref__')\n"
    "    def __init__(self):\n"
    "        self.r = Resource()\n"
    "def c_with(n):\n"
    "    for _ in repeat(None, n):\n"
    "        with Resource() as r:\n"
    "            pass\n"
    "    return n\n"
    "def py_with(n):\n"
    "    for _ in repeat(None, n):\n"
    "        with Managed() as r:\n"
    "            pass\n"
    "    return n\n"
    "def contextmanager_with(n):\n"
    "    for _ in repeat(None, n):\n"
    "        with managed() as r:\n"
    "            pass\n"
    "    return n\n"
    "def try_finally(n):\n"
    "    for _ in repeat(None, n):\n"
    "        r = Resource()\n"
    "        try:\n"
    "            pass\n"
    "        finally:\n"
    "            r.release()\n"
    "    return n\n"
    "def del_finalizer(n):\n"
    "    for _ in repeat(None, n):\n"
    "        o = DelOwner()\n"
    "        del o\n"
    "    return n\n"
    "def weakref_finalize(n):\n"
    "    fin = weakref.finalize\n"
    "    for _ in repeat(None, n):\n"
    "        o = Owner()\n"
    "        fin(o, o.r.release)\n"
    "        del o\n"
    "    return n\n"
    "def capsule_owner(n):\n"
    "    for _ in repeat(None, n):\n"
    "        c = capsule()\n"
    "        del c\n"
    "    return n\n"
    "def raise_c_exit(n):\n"
    "    caught = 0\n"
    "    for _ in repeat(None, n):\n"
    "        try:\n"
    "            with Resource():\n"
    "                raise Boom\n"
    "        except Boom:\n"
    "            caught += 1\n"
    "    return caught\n"
    "def raise_py_exit(n):\n"
    "    caught = 0\n"
    "    for _ in repeat(None, n):\n"
    "        try:\n"
    "            with Managed():\n"
    "                raise Boom\n"
    "        except Boom:\n"
    "            caught += 1\n"
    "    return caught\n"
    "def raise_contextmanager(n):\n"
    "    caught = 0\n"
    "    for _ in repeat(None, n):\n"
    "        try:\n"
    "            with managed():\n"
    "                raise Boom\n"
    "        except Boom:\n"
    "            caught += 1\n"
    "    return caught\n"
    "def raise_try_finally(n):\n"
    "    caught = 0\n"
    "    for _ in repeat(None, n):\n"
    "        try:\n"
    "            r = Resource()\n"
    "            try:\n"
    "                raise Boom\n"
    "            finally:\n"
    "                r.release()\n"
    "        except Boom:\n"
    "            caught += 1\n"
    "    return caught\n"
    "def suppress_c_exit(n):\n"
    "    reached = 0\n"
    "    for _ in repeat(None, n):\n"
    "        with Resource(suppress=True):\n"
    "            raise Boom\n"
    "        reached += 1\n"
    "    return reached\n"
    "def suppress_py_exit(n):\n"
    "    reached = 0\n"
    "    for _ in repeat(None, n):\n"
    "        with Managed(True):\n"
    "            raise Boom\n"
    "        reached += 1\n"
    "    return reached\n"
    "def nested_raise(n):\n"
    "    caught = 0\n"
    "    for _ in repeat(None, n):\n"
    "        try:\n"
    "            with Resource() as a, Resource() as b, Resource() as c:\n"
    "                raise Boom\n"
    "        except Boom:\n"
    "            caught += 1\n"
    "    return caught\n"
    "def exit_stack(n, k):\n"
    "    done = 0\n"
    "    for _ in repeat(None, n):\n"
    "        with contextlib.ExitStack() as s:\n"
    "            for _ in repeat(None, k):\n"
    "                s.enter_context(Resource())\n"
    "        done += 1\n"
    "    return done\n";

/* What one loop body must do, in the resource's own counters. */
typedef struct lt_spec {
    const char *fn;
    int per_iter;   /* resources per iteration; 0: the case's param */
    int by_dealloc; /* each released by a deallocation (capsule) */
    int c_exit;     /* each released by Resource.__exit__ */
    int exception;  /* each __exit__ saw an exception */
    int suppressed; /* each __exit__ returned True for it */
} lt_spec;

static struct {
    const lt_spec *spec;
    pyloop loop;
    int64_t per_iter;
    int64_t live_before; /* resources alive before setup (an earlier case's
                            leak) */
    res_raw raw;         /* the C reference's resource */
} lt;

static int check_counts(int64_t iterations, const lt_spec *spec);

/* --- set-up and teardown
 * ------------------------------------------------------ */

/* Compile the row's snippet (its lt_spec), call it once (untimed: imports
 * and caches are warmed, the check's logic is exercised), then zero the
 * counters. */
static int
setup_lifetime(int64_t param)
{
    const lt_spec *spec = pmb_data();
    PyObject *ns = NULL, *extra = NULL, *warm = NULL;
    int64_t per_call = LOOP_CALL;

    lt.spec = spec;
    lt.live_before = res_get()->live;
    lt.per_iter = spec->per_iter > 0 ? spec->per_iter : param;
    if (spec->per_iter == 0) {
        per_call = LOOP_CALL / param > 0 ? LOOP_CALL / param : 1;
        extra = Py_BuildValue("(L)", (long long)param);
        if (extra == NULL) {
            goto error;
        }
    }
    ns = res_namespace();
    if (ns == NULL || pyloop_init(&lt.loop, lifetime_src, spec->fn, ns,
                                  per_call, extra) < 0) {
        goto error;
    }
    res_reset();
    warm = pyloop_call(&lt.loop);
    if (warm == NULL) {
        goto error;
    }
    long long got = PyLong_AsLongLong(warm);
    Py_DECREF(warm);
    if (got != per_call || check_counts(per_call, spec) < 0) {
        Py_XDECREF(extra);
        Py_DECREF(ns);
        if (got != per_call) {
            return pmb_fail("%s: %lld of %lld warm-up loop bodies ended as "
                            "expected",
                            spec->fn, got, (long long)per_call);
        }
        return -1; /* check_counts said why */
    }
    Py_XDECREF(extra);
    Py_DECREF(ns);
    res_reset();
    return 0;
error:
    Py_XDECREF(extra);
    Py_XDECREF(ns);
    return pmb_fail("cannot prepare %s", spec->fn);
}

static void
teardown_lifetime(void)
{
    pyloop_clear(&lt.loop);
    if (lt.raw.open) {
        res_release(&lt.raw);
    }
    lt.spec = NULL;
}

/* --- the checks
 * ------------------------------------------------------------------ */

/* The counters match `iterations` loop bodies of the spec exactly. */
static int
check_counts(int64_t iterations, const lt_spec *spec)
{
    const res_counts *c = res_get();
    int64_t n = iterations * lt.per_iter;
    if (c->live != lt.live_before) {
        return pmb_fail("%lld resources still alive",
                        (long long)(c->live - lt.live_before));
    }
    if (c->double_releases != 0) {
        return pmb_fail("%lld resources released twice",
                        (long long)c->double_releases);
    }
    if (c->acquired != n || c->released != n) {
        return pmb_fail("%lld acquired and %lld released, expected %lld",
                        (long long)c->acquired, (long long)c->released,
                        (long long)n);
    }
    if (c->released_by_dealloc != n * spec->by_dealloc) {
        return pmb_fail("%lld released by deallocation, expected %lld",
                        (long long)c->released_by_dealloc,
                        (long long)(n * spec->by_dealloc));
    }
    if (c->exits != n * spec->c_exit ||
        c->exits_with_exception != n * spec->exception ||
        c->suppressed != n * spec->suppressed) {
        return pmb_fail(
            "__exit__: %lld calls, %lld with an exception, %lld suppressed; "
            "expected %lld, %lld, %lld",
            (long long)c->exits, (long long)c->exits_with_exception,
            (long long)c->suppressed, (long long)(n * spec->c_exit),
            (long long)(n * spec->exception),
            (long long)(n * spec->suppressed));
    }
    return 0;
}

static int
check_lifetime(const pmb_result *r)
{
    long long got =
        lt.loop.last != NULL ? PyLong_AsLongLong(lt.loop.last) : -1;
    if (got != lt.loop.per_call) {
        return pmb_fail("%s: %lld of %lld loop bodies ended as expected",
                        lt.spec->fn, got, (long long)lt.loop.per_call);
    }
    if (check_counts(r->iterations, lt.spec) < 0) {
        return -1;
    }
    return pmb_check_no_leak(r, NO_LEAK_SLACK);
}

/* --- the runs
 * -------------------------------------------------------------------- */

static void
run_lifetime(gbs_state *st, int64_t param)
{
    pyloop_run(&lt.loop, st);
    if (lt.spec->per_iter != 1) { /* resources per iteration: several */
        gbs_set_items_processed(st, gbs_iterations(st) * lt.per_iter);
    }
    (void)param;
}

/* The physical reference: the same resource acquired and released from C,
 * no Python object involved. */
static const lt_spec raw_spec = {"raw", 1, 0, 0, 0, 0};

static int
setup_raw(int64_t param)
{
    (void)param;
    lt.spec = &raw_spec;
    lt.live_before = res_get()->live;
    lt.per_iter = 1;
    if (res_init() < 0) {
        return pmb_fail("cannot open the temporary file");
    }
    res_reset();
    return 0;
}

static void
run_raw(gbs_state *st, int64_t param)
{
    (void)param;
    while (gbs_keep_running_batch(st, RAW_BATCH)) {
        for (int i = 0; i < RAW_BATCH; i++) {
            if (res_acquire(&lt.raw) < 0) {
                pmb_run_error(st);
                return;
            }
            gbs_do_not_optimize_ptr(lt.raw.block);
            res_release(&lt.raw);
        }
    }
}

static int
check_raw(const pmb_result *r)
{
    if (check_counts(r->iterations, &raw_spec) < 0) {
        return -1;
    }
    /* malloc is not a Python domain: the hook must see nothing */
    if (r->hook && (r->delta.allocs != 0 || r->live_blocks != 0)) {
        return pmb_fail("%llu Python allocations for a C-only resource",
                        (unsigned long long)r->delta.allocs);
    }
    return 0;
}

/* --- the table
 * -------------------------------------------------------------------- */

/*                                   fn                   per dealloc exit exc
 * supp */
static const lt_spec c_with_spec = {"c_with", 1, 0, 1, 0, 0};
static const lt_spec py_with_spec = {"py_with", 1, 0, 0, 0, 0};
static const lt_spec cm_spec = {"contextmanager_with", 1, 0, 0, 0, 0};
static const lt_spec try_spec = {"try_finally", 1, 0, 0, 0, 0};
static const lt_spec del_spec = {"del_finalizer", 1, 0, 0, 0, 0};
static const lt_spec weak_spec = {"weakref_finalize", 1, 0, 0, 0, 0};
static const lt_spec capsule_spec = {"capsule_owner", 1, 1, 0, 0, 0};
static const lt_spec raise_c_spec = {"raise_c_exit", 1, 0, 1, 1, 0};
static const lt_spec raise_py_spec = {"raise_py_exit", 1, 0, 0, 0, 0};
static const lt_spec raise_cm_spec = {"raise_contextmanager", 1, 0, 0, 0, 0};
static const lt_spec raise_try_spec = {"raise_try_finally", 1, 0, 0, 0, 0};
static const lt_spec suppress_c_spec = {"suppress_c_exit", 1, 0, 1, 1, 1};
static const lt_spec suppress_py_spec = {"suppress_py_exit", 1, 0, 0, 0, 0};
static const lt_spec nested_spec = {"nested_raise", 3, 0, 1, 1, 0};
static const lt_spec stack_spec = {"exit_stack", 0, 0, 1, 0, 0};

static const int64_t stack_sizes[] = {1, 16, 256, 0};

/* A row of snippet rows: run_lifetime over the lt_spec in .data. */
#define LT_CASE(case_name, spec_, sweep, doc_)                           \
    {                                                                    \
        .name = case_name, .setup = setup_lifetime, .run = run_lifetime, \
        .check = check_lifetime, .teardown = teardown_lifetime,          \
        .params = sweep, .data = &spec_, .doc = doc_                     \
    }

static const pmb_case cases[] = {
    {.name = "raw",
     .setup = setup_raw,
     .run = run_raw,
     .check = check_raw,
     .teardown = teardown_lifetime,
     .doc = "physical reference: malloc + dup, then close + free, from C; "
            "iteration = one resource"},
    LT_CASE("with/c_exit", c_with_spec, NULL,
            "with Resource(): the C type's own __enter__/__exit__ release it"),
    LT_CASE("with/py_class", py_with_spec, NULL,
            "with Managed(): a Python class's __enter__/__exit__ acquire and "
            "release"),
    LT_CASE("with/contextmanager", cm_spec, NULL,
            "with managed(): a contextlib.contextmanager generator, release "
            "in finally"),
    LT_CASE("try_finally", try_spec, NULL,
            "r = Resource(); try: pass; finally: r.release()"),
    LT_CASE("finalizer/del", del_spec, NULL,
            "an owner whose __del__ releases, dropped by refcounting"),
    LT_CASE("finalizer/weakref_finalize", weak_spec, NULL,
            "weakref.finalize(owner, r.release), owner dropped"),
    LT_CASE("finalizer/capsule", capsule_spec, NULL,
            "a PyCapsule whose destructor releases, dropped by refcounting"),
    LT_CASE("raise/c_exit", raise_c_spec, NULL,
            "raise inside with Resource(): C __exit__ returns False, caught "
            "outside"),
    LT_CASE("raise/py_class", raise_py_spec, NULL,
            "raise inside with Managed(): Python __exit__ returns False, "
            "caught outside"),
    LT_CASE("raise/contextmanager", raise_cm_spec, NULL,
            "raise inside with managed(): thrown into the generator, finally "
            "releases"),
    LT_CASE("raise/try_finally", raise_try_spec, NULL,
            "raise inside try/finally that releases, caught outside"),
    LT_CASE("suppress/c_exit", suppress_c_spec, NULL,
            "raise inside with Resource(suppress=True): C __exit__ returns "
            "True"),
    LT_CASE("suppress/py_class", suppress_py_spec, NULL,
            "raise inside with Managed(True): Python __exit__ returns True"),
    LT_CASE("nested/raise", nested_spec, NULL,
            "with three Resources, raise innermost; iteration = three "
            "resources"),
    LT_CASE("exit_stack", stack_spec, stack_sizes,
            "contextlib.ExitStack entering N Resources; iteration = one "
            "stack"),
    {NULL},
};

int
wl_lifetime_register(void)
{
    return pmb_register_family("lifetime", cases);
}
