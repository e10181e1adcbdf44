/* stress.h - stress runs (pymembench --stress): stress tests, not
 * benchmarks. Nothing here is timed as a benchmark.
 *
 * Every registered case row (family/case[/variant], over its params) is a
 * stress case named stress/<family>/<case>. Each runs in a child process of
 * its own (a crash is reported with its signal and the run goes on): rounds
 * of every param, each param's iteration count growing until its timed
 * loop alone fills its share of a tenth of `seconds`, one more round at
 * those sizes, then measured rounds until `seconds` have passed (at least
 * three), with invariants checked across rounds. With an operations target
 * per family (`ops`), a case goes on with rounds until its share (what its
 * family still lacks over its cases still to run) is reached, unless at its
 * rate (decided once, when `seconds` have passed) that would take past
 * `max_seconds`: then it stops there, short, and the family's later cases
 * share what it left; one that goes on stops at `max_seconds` all the
 * same. The invariants:
 *   - the case's own check passes every round (work done, nothing leaked
 *     within a run, collector settings, resources and exports released);
 *   - allocations balanced: no more blocks live after the last round than
 *     after the first measured one, unless they grew in fewer than half of
 *     the rounds (counting hook, after a collection);
 *   - RSS bounded: growth from the first measured round to the last within
 *     STRESS_RSS_SLACK_BYTES or STRESS_RSS_SLACK_PCT percent;
 *   - what the fixtures registered as sentinels (pmb_add_sentinel) is
 *     where it was before the rounds (or after the first measured one):
 *     resources released, finalizers run exactly once, exports released,
 *     file descriptors closed;
 *   - on a debug interpreter, sys.gettotalrefcount() unchanged.
 * Then fault injection: one child per point, spread across the allocation
 * sequence of one run of the case's first param that runs; the chosen
 * request fails (memhook_fail) in three runs, and the case must end in a
 * MemoryError or a clean reported failure (or absorb it), without
 * crashing; a leak is what the second and third runs both leave live, or
 * a sentinel that moved. A point that crashed or leaked keeps the C stacks
 * of its failed request, of the crash and of what leaked (the row's label,
 * as JSON: scripts/stress-verdict says whose it is).
 *
 * The report is Google Benchmark's JSON (the shim's writer): one row per
 * stress case, its figures as counters, error_message when it broke an
 * invariant, crashed, or a fault point crashed or leaked ("skipped: ..."
 * when every param skipped); context.finished is "true" once every case
 * ran.
 */
#ifndef PYMB_STRESS_H
#define PYMB_STRESS_H

#define STRESS_RSS_SLACK_BYTES (8 << 20)
#define STRESS_RSS_SLACK_PCT 10

typedef struct stress_options {
    double seconds;      /* per stress case */
    double ops;          /* operations (iterations) per family to reach,
                            shared by its cases; 0: none */
    double max_seconds;  /* a case chasing its share of `ops` stops here */
    int fault_points;    /* per stress case; 0: no fault injection */
    unsigned fault_mask; /* MEMHOOK_MASK(...) of the domains to fail in */
    const char *filter;  /* --benchmark_filter's rules (filter.h) over the
                            stress name and the row names of each case;
                            NULL: every case */
    const char *out;     /* JSON report, rewritten after every case; or NULL */
} stress_options;

/* Run the stress cases over the registered rows. Needs the interpreter
 * started, the families registered with pmb_set_stress(1), the counting
 * hook installed, and no other thread running. Returns the exit status:
 * 0 every invariant held, 1 one broke (or a case crashed), 2 bad usage (a
 * filter that matches nothing, an unwritable report). */
int stress_run(const stress_options *o);
/* Print every stress case name with its doc and number of params. */
void stress_list(void);

#endif /* PYMB_STRESS_H */
