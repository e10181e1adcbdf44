/* test_cases.c - the case wrapper end to end: a case that makes exactly two
 * 100-byte allocations per iteration must report allocs_per_iter 2 and
 * bytes_per_iter 200, counted while its timed loop ran without the hook
 * (hook_in_timed_loop 0; with TEST_HOOK_BOTH=1 its /memhook:on row times
 * with the hook, 1); a failing check, a leak, a skip and a buffer export
 * left unreleased must reach the JSON as error rows; duplicate names are
 * refused, and so is a quick param a case lacks; a case with count() is
 * counted once per row and process, however many times Google Benchmark
 * runs it (main prints count_calls=N), and with TEST_HOOK_IN_MAIN=0 (the
 * hook in only where the engine puts it, as pymembench's timed runs) only
 * that run's setup has the hook: a figure measured there is kept for the
 * row's later runs (main prints setups=N hooked_setups=M); a count() case
 * that does not say its setup counts (counts_setup) never sets up under
 * the hook, and its counts are still exact. Driven by
 * check_cases.py. */
#include "cases.h"
#include "exporter.h"
#include "memhook.h"
#include "pins.h"
#include "pyx.h"
#include "sentinels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One batch: ten iterations of two 100-byte allocations and their frees. */
static void
two_allocs_batch(void)
{
    for (int i = 0; i < 10; i++) {
        void *a = PyMem_Malloc(100);
        void *b = PyObject_Malloc(100);
        gbs_do_not_optimize(a);
        gbs_do_not_optimize(b);
        PyObject_Free(b);
        PyMem_Free(a);
    }
}

static void
run_two_allocs(gbs_state *st, int64_t param)
{
    (void)param;
    while (gbs_keep_running_batch(st, 10)) {
        two_allocs_batch();
    }
    gbs_counter(st, "hook_in_timed_loop", memhook_installed() ? 1.0 : 0.0,
                GBS_COUNTER_DEFAULT);
}

/* count(): one batch of run()'s work under the hook, counted */
static int count_calls;

static int64_t
count_two_allocs(int64_t param)
{
    (void)param;
    count_calls++;
    two_allocs_batch();
    return 10;
}

/* A figure the setup measures under the hook (what one 100-byte
 * PyMem_Malloc asks for), kept across the row's runs as the engine says
 * (pmb_setup_measures); every run reports it. */
static int setups, hooked_setups;
static double setup_figure;

static int
setup_measures_bytes(int64_t param)
{
    (void)param;
    setups++;
    hooked_setups += memhook_installed();
    const int measures = pmb_setup_measures();
    if (measures != 0) {
        memhook_counts a, b;
        memhook_read_total(&a);
        PyMem_Free(PyMem_Malloc(100));
        memhook_read_total(&b);
        setup_figure = measures > 0 ? (double)(b.bytes - a.bytes) : 0.0;
    }
    return 0;
}

static void
run_reports_figure(gbs_state *st, int64_t param)
{
    run_two_allocs(st, param);
    if (setup_figure > 0) {
        gbs_counter(st, "setup_figure", setup_figure, GBS_COUNTER_DEFAULT);
    }
}

static void *leaked[1 << 20];
static int64_t nleaked;

static void
run_leaks(gbs_state *st, int64_t param)
{
    (void)param;
    while (gbs_keep_running(st)) {
        if (nleaked < (1 << 20)) {
            leaked[nleaked++] = PyMem_Malloc(16);
        }
    }
}

static int
check_ok(const pmb_result *r)
{
    return r->iterations > 0 ? 0 : pmb_fail("no iterations");
}

static int
check_no_leak(const pmb_result *r)
{
    if (r->live_blocks > 0) {
        return pmb_fail("%lld blocks leaked", (long long)r->live_blocks);
    }
    return 0;
}

static int
check_always_fails(const pmb_result *r)
{
    (void)r;
    return pmb_fail("deliberately");
}

static int
setup_skip(int64_t param)
{
    (void)param;
    return pmb_skip("not on this interpreter");
}

static void
teardown_leaks(void)
{
    for (int64_t i = 0; i < nleaked; i++) {
        PyMem_Free(leaked[i]);
    }
    nleaked = 0;
}

/* Takes one export of an Exporter and keeps it past its teardown: the
 * wrapper must report the case (main releases it at the end). */
static Py_buffer kept;
static int kept_valid;

static void
run_keeps_export(gbs_state *st, int64_t param)
{
    (void)param;
    if (!kept_valid) {
        PyObject *e = exporter_new("abcd", 4, 1);
        if (e == NULL || PyObject_GetBuffer(e, &kept, PyBUF_SIMPLE) < 0) {
            Py_XDECREF(e);
            pmb_run_error(st);
            return;
        }
        Py_DECREF(e); /* the view holds it */
        kept_valid = 1;
    }
    while (gbs_keep_running(st)) {
        gbs_do_not_optimize_ptr(kept.buf);
    }
}

static const int64_t params[] = {3, 0};

static const pmb_case cases[] = {
    {.name = "two_allocs",
     .run = run_two_allocs,
     .check = check_ok,
     .params = params,
     .doc = "two 100-byte allocations"},
    {.name = "counted_once",
     .run = run_two_allocs,
     .check = check_ok,
     .count = count_two_allocs,
     .doc = "two 100-byte allocations, counted by count()"},
    {.name = "measured_in_setup",
     .setup = setup_measures_bytes,
     .run = run_reports_figure,
     .check = check_ok,
     .count = count_two_allocs,
     .counts_setup = 1,
     .doc = "its setup measures a figure under the hook, counted by count()"},
    {.name = "setup_unhooked",
     .setup = setup_measures_bytes,
     .run = run_reports_figure,
     .check = check_ok,
     .count = count_two_allocs,
     .doc = "counted by count(), its setup never under the hook"},
    {.name = "leaks",
     .run = run_leaks,
     .check = check_no_leak,
     .teardown = teardown_leaks,
     .doc = "leaks one block"},
    {.name = "fails",
     .run = run_two_allocs,
     .check = check_always_fails,
     .doc = "check fails"},
    {.name = "skips",
     .setup = setup_skip,
     .run = run_two_allocs,
     .check = check_ok,
     .doc = "skipped"},
    {.name = "keeps_export",
     .run = run_keeps_export,
     .check = check_ok,
     .doc = "leaves a buffer export unreleased"},
    {.name = "after_export",
     .run = run_two_allocs,
     .check = check_ok,
     .doc = "runs after it: not blamed for its export"},
    {NULL},
};

/* a quick param the case does not have: refused at registration */
static const int64_t quick_not_a_param[] = {4, 0};
static const pmb_case bad_quick[] = {
    {.name = "bad_quick",
     .run = run_two_allocs,
     .check = check_ok,
     .params = params,
     .quick_params = quick_not_a_param,
     .doc = "quick param 4 of params {3}"},
    {NULL},
};

static const pmb_case duplicate[] = {
    {.name = "fails",
     .run = run_two_allocs,
     .check = check_ok,
     .doc = "same name again"},
    {NULL},
};

int
main(int argc, char **argv)
{
    char err[256];
    /* the rows are chosen here, as pymembench chooses them (its filter, the
     * iterations TEST_ITERATIONS_FROM gives) */
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--benchmark_filter=", 19) == 0) {
            filter = argv[i] + 19;
        }
    }
    if (gbs_initialize(&argc, argv, NULL) < 0) {
        return 2;
    }
    if (pyx_start("default", PYMB_PYTHON_HOME, err, sizeof(err)) != 0) {
        printf("cannot start Python: %s\n", err);
        return 2;
    }
    const char *both = getenv("TEST_HOOK_BOTH");
    const int hook_both = both != NULL && strcmp(both, "1") == 0;
    pmb_set_hook(hook_both ? PMB_HOOK_BOTH : PMB_HOOK_ON);
    if (fx_register_sentinels() < 0 || pmb_register_family("t", cases) < 0) {
        return 2;
    }
    if (pmb_register_family("t", duplicate) == 0) {
        printf("FAIL: a duplicate name was accepted\n");
        return 1;
    }
    if (pmb_register_family("q", bad_quick) == 0) {
        printf("FAIL: a quick param that is not a param was accepted\n");
        return 1;
    }
    const char *in_main = getenv("TEST_HOOK_IN_MAIN");
    const int hook_in_main = in_main == NULL || strcmp(in_main, "0") != 0;
    if (!hook_both && hook_in_main && memhook_install() < 0) {
        return 2;
    }
    int64_t iterations[64];
    const char *pins = getenv("TEST_ITERATIONS_FROM");
    if (pmb_nrows() > 64 || pmb_select_rows(filter, iterations) < 0 ||
        (pins != NULL && pins_read(pins, iterations) < 0) ||
        pmb_register_timed(iterations) < 0) {
        return 2;
    }
    gbs_run_specified(1, "all"); /* --benchmark_out: JSON, as ours */
    if (kept_valid) {
        PyBuffer_Release(&kept);
    }
    if (exporter_get()->live != 0) {
        printf("FAIL: %lld exports live at the end\n",
               (long long)exporter_get()->live);
        return 1;
    }
    memhook_uninstall();
    gbs_shutdown();
    printf("failures=%d\n", pmb_failures());
    printf("count_calls=%d\n", count_calls);
    printf("setups=%d hooked_setups=%d\n", setups, hooked_setups);
    pyx_finish();
    return 0;
}
