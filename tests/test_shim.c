/* test_shim.c - a tiny benchmark program over the C shim alone (no Python),
 * driven by tests/check_shim.py, which runs it and reads its JSON:
 * registration, counters with their flags, items processed, errors and the
 * context all have to reach Google Benchmark's output; so does an entry
 * known only once every row has run (gbs_end_context: the work done). */
#include "gbshim.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t work_done;

/* What a registered benchmark is given: a tag, and the size of its work. */
typedef struct arg {
    int tag;
    int64_t n;
} arg;

/* Sums 0..n-1 once per iteration; counts what it did. */
static void
bm_counted(gbs_state *st, void *ctx)
{
    const arg *a = ctx;
    const int *tag = &a->tag;
    int64_t n = a->n;
    uint64_t sum = 0;
    while (gbs_keep_running_batch(st, 4)) {
        for (int k = 0; k < 4; k++) {
            for (int64_t i = 0; i < n; i++) {
                sum += (uint64_t)i;
                gbs_do_not_optimize(sum);
            }
        }
    }
    work_done += sum;
    int64_t it = gbs_iterations(st);
    gbs_set_items_processed(st, it * n);
    gbs_counter(st, "answer", 42.0, GBS_COUNTER_DEFAULT);
    gbs_counter(st, "three_per_iter", 3.0 * (double)it,
                GBS_COUNTER_AVG_ITERATIONS);
    gbs_counter(st, "ctx_tag", (double)*tag, GBS_COUNTER_DEFAULT);
    /* always 0: its cv across repetitions is 0/0 */
    gbs_counter(st, "zero", 0.0, GBS_COUNTER_DEFAULT);
}

/* gbs_end_context's source: the work of every row, as the file is
 * finished */
static int
work_so_far(uint64_t *value)
{
    *value = work_done;
    return 0;
}

static void
bm_paused(gbs_state *st, void *ctx)
{
    (void)ctx;
    while (gbs_keep_running(st)) {
        gbs_pause(st);
        gbs_resume(st);
    }
    gbs_set_bytes_processed(st, gbs_iterations(st) * 1024);
    gbs_set_label(st, "paused-and-resumed");
}

static void
bm_fails(gbs_state *st, void *ctx)
{
    (void)ctx;
    gbs_skip_with_error(st, "expected failure");
}

int
main(int argc, char **argv)
{
    static const arg args[] = {{7, 8}, {7, 64}, {7, 2},
                               {7, 4}, {7, 16}, {7, 32}};
    static const char *const names[] = {"shim/counted/8", "shim/counted/64",
                                        "shim/range/2",   "shim/range/4",
                                        "shim/range/16",  "shim/range/32"};
    gbs_add_context("shim_context", "present");
    gbs_end_context("shim_work_done", work_so_far);
    if (gbs_initialize(&argc, argv, NULL) < 0) {
        return 2;
    }
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        if (gbs_register(names[i], bm_counted, (void *)&args[i]) == NULL) {
            return 1;
        }
    }
    if (gbs_register("shim/paused", bm_paused, NULL) == NULL ||
        gbs_register("shim/fails", bm_fails, NULL) == NULL) {
        return 1;
    }
    /* TEST_SHIM_PLAIN_JSON: Google Benchmark's own JSON (the negative
     * control of check_shim.py's strict-JSON check) */
    size_t ran =
        gbs_run_specified(getenv("TEST_SHIM_PLAIN_JSON") == NULL, NULL);
    gbs_shutdown();
    printf("ran=%zu work=%llu\n", ran, (unsigned long long)work_done);
    return ran > 0 ? 0 : 1;
}
