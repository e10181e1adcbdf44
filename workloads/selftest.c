/* selftest.c - the selftest family: planted faults that prove the
 * harness's verdicts can fail. Not benchmarks and not part of any suite:
 * registered only when the environment has PYMB_SELFTEST=1 (the tests set
 * it). Each case does real work in run() and breaks one thing on purpose,
 * in the place only the verdict it targets can see:
 *   crash/segv, crash/abort   the process dies (crash isolation)
 *   leak/object_per_round     one bytes object leaked per teardown
 *   leak/raw_per_round        one 1000-byte PyMem_RawMalloc block per teardown
 *   rss/grow_per_round        32 MiB of libc memory per teardown (the hook
 *                             cannot see it; only RSS can)
 *   resource/double_release   a resource released twice per teardown
 *   resource/fd_per_round     a file descriptor left open per teardown
 *   refcount/leak_per_round   one reference leaked per teardown (only a
 *                             debug interpreter's total refcount sees it)
 *   fault/leak_on_error       an error path that forgets a reference (only
 *                             fault injection reaches it)
 *   planted/slowdown          100 units of calibrated work per iteration,
 *                             plus PYMB_SELFTEST_SLOWDOWN percent more (the
 *                             verdicts' planted slowdowns: docs/statistics.md)
 */
#include "cases.h"
#include "resource.h"
#include "workloads.h"

#include <Python.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100

static int64_t batches;
static PyObject *kept; /* refcount/leak_per_round: a long-lived object */

/* The run every case shares: BATCH pairs of bytes objects made and
 * dropped per batch, with a planted bug on one error path (see below). */
static void
run_pairs(gbs_state *st, int64_t param)
{
    (void)param;
    const int planted_bug = pmb_data() != NULL; /* fault/leak_on_error only */
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            PyObject *a = PyBytes_FromStringAndSize(NULL, 100);
            if (a == NULL) {
                pmb_run_error(st);
                return;
            }
            PyObject *b = PyBytes_FromStringAndSize(NULL, 200);
            if (b == NULL) {
                if (!planted_bug) {
                    Py_DECREF(a);
                }
                pmb_run_error(st); /* the planted bug: `a` is never released */
                return;
            }
            gbs_do_not_optimize(a);
            Py_DECREF(b);
            Py_DECREF(a);
        }
        batches++;
    }
}

static int
setup_pairs(int64_t param)
{
    (void)param;
    batches = 0;
    return 0;
}

/* The work was done, and run() itself left nothing live. */
static int
check_pairs(const pmb_result *r)
{
    if (pmb_check_batches(r, batches, BATCH) < 0) {
        return -1;
    }
    return pmb_check_nothing_live(r);
}

static void
run_segv(gbs_state *st, int64_t param)
{
    static int *volatile nowhere;
    run_pairs(st, param);
    *nowhere = 1;
}

static void
run_abort(gbs_state *st, int64_t param)
{
    run_pairs(st, param);
    abort();
}

static void
leak_object(void)
{
    PyObject *o = PyBytes_FromStringAndSize("leaked", 6);
    (void)o; /* never released */
}

static void
leak_raw(void)
{
    char *p = PyMem_RawMalloc(1000);
    if (p != NULL) {
        p[0] = 1; /* never released */
    }
}

static void
grow_rss(void)
{
    char *p = malloc(32u << 20);
    if (p != NULL) {
        memset(p, 1, 32u << 20);    /* touched, never freed */
        gbs_do_not_optimize_ptr(p); /* the compiler may not drop the block */
    }
}

static void
double_release(void)
{
    res_raw r;
    if (res_init() < 0 || res_acquire(&r) < 0) {
        PyErr_Clear();
        return;
    }
    res_release(&r);
    res_release(&r); /* the second one is the fault */
}

static void
leak_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    (void)fd; /* never closed */
}

static void
leak_reference(void)
{
    if (kept == NULL && (kept = PyList_New(0)) == NULL) {
        PyErr_Clear(); /* no list, no leak: the refcount verdict will say so */
        return;
    }
    Py_INCREF(kept); /* never released */
}

static const char planted[] = "planted";

/* planted/slowdown: UNITS units of work per iteration, plus `extra` (the
 * percentage PYMB_SELFTEST_SLOWDOWN asks for, 0 to 100), each unit the
 * same 8 dependent multiply-adds, so a run with N% more units does N% more
 * instructions and takes about N% longer. */
#define UNITS 100
static int64_t extra;
static uint64_t work_state;

static int
setup_slowdown(int64_t param)
{
    (void)param;
    const char *v = getenv("PYMB_SELFTEST_SLOWDOWN");
    char *end = NULL;
    extra = 0;
    work_state = 1;
    if (v != NULL && *v != '\0') {
        extra = strtoll(v, &end, 10);
        if (*end != '\0' || extra < 0 || extra > 100) {
            return pmb_fail("PYMB_SELFTEST_SLOWDOWN='%s' is not a whole "
                            "percentage from 0 to 100",
                            v);
        }
    }
    batches = 0;
    return 0;
}

static void
run_slowdown(gbs_state *st, int64_t param)
{
    (void)param;
    uint64_t x = work_state;
    while (gbs_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            for (int64_t u = 0; u < UNITS + extra; u++) {
                for (int k = 0; k < 8; k++) {
                    x = x * 6364136223846793005u + 1442695040888963407u;
                }
                gbs_do_not_optimize(x);
            }
        }
        batches++;
    }
    work_state = x;
}

#define SELFTEST(n, r, td, text)                                         \
    {                                                                    \
        .name = n, .setup = setup_pairs, .run = r, .check = check_pairs, \
        .teardown = td, .doc = "self-test: " text                        \
    }

static const pmb_case cases[] = {
    SELFTEST("crash/segv", run_segv, NULL,
             "writes through a null pointer after its loop"),
    SELFTEST("crash/abort", run_abort, NULL, "calls abort() after its loop"),
    SELFTEST("leak/object_per_round", run_pairs, leak_object,
             "leaks one bytes object in every teardown"),
    SELFTEST("leak/raw_per_round", run_pairs, leak_raw,
             "leaks a 1000-byte PyMem_RawMalloc block in every teardown"),
    SELFTEST("rss/grow_per_round", run_pairs, grow_rss,
             "leaks 32 MiB of touched libc memory in every teardown"),
    SELFTEST("resource/double_release", run_pairs, double_release,
             "releases a resource twice in every teardown"),
    SELFTEST("resource/fd_per_round", run_pairs, leak_fd,
             "leaves a file descriptor open in every teardown"),
    SELFTEST("refcount/leak_per_round", run_pairs, leak_reference,
             "leaks one reference to a long-lived list in every teardown"),
    {.name = "fault/leak_on_error",
     .setup = setup_pairs,
     .run = run_pairs,
     .check = check_pairs,
     .data = planted,
     .doc = "self-test: forgets a reference when its second allocation fails"},
    {.name = "planted/slowdown",
     .setup = setup_slowdown,
     .run = run_slowdown,
     .check = check_pairs,
     .doc = "self-test: 100 units of calibrated work per iteration, plus "
            "PYMB_SELFTEST_SLOWDOWN percent more"},
    {NULL},
};

int
wl_selftest_register(void)
{
    const char *on = getenv("PYMB_SELFTEST");
    if (on == NULL || strcmp(on, "1") != 0) {
        return 0;
    }
    return pmb_register_family("selftest", cases);
}
