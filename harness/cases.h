/* cases.h - what a workload case is, and how families register their tables.
 *
 * A case is {name, setup, run, check, teardown, params, doc}. The harness
 * wraps every case: setup (untimed), run (the timed loop, without the
 * counting hook), check (untimed: proves the work was done and nothing
 * leaked), teardown; then, for the hook's counters, a counted pass: setup,
 * counters snapshot, run under the hook for as many iterations (no clock),
 * counters snapshot, check, teardown (or count(), below). Families keep
 * their per-case state file-static: one case runs at a time, on the main
 * thread, with the GIL held.
 */
#ifndef PYMB_CASES_H
#define PYMB_CASES_H

#include "gbshim.h"
#include "memhook.h"

#include <stdint.h>

/* What the harness measured around one run, handed to the check. */
typedef struct pmb_result {
    int64_t param;
    int64_t iterations; /* those that delta covers: run()'s, or count()'s */
    int64_t timed_iterations; /* run()'s */
    int hook;                 /* 1 when the counting hook was on */
    memhook_counts
        delta; /* allocs/frees/reallocs/bytes during run() or count() */
    int64_t live_blocks; /* live blocks after minus before */
    int64_t live_bytes;  /* live bytes after minus before */
} pmb_result;

typedef struct pmb_case {
    const char
        *name; /* "case[/variant]"; the family and the param are added */
    /* Untimed. 0 ready; PMB_SKIP (via pmb_skip) to skip; -1 (via pmb_fail
     * or with a Python exception set) on failure. May be NULL. */
    int (*setup)(int64_t param);
    /* The timed loop; on a Python error call pmb_run_error() and return. */
    void (*run)(gbs_state *st, int64_t param);
    /* Untimed: 0 when the work is proven, -1 (via pmb_fail) when not. */
    int (*check)(const pmb_result *r);
    /* Untimed: release everything setup made. May be NULL. */
    void (*teardown)(void);
    const int64_t *params; /* 0-terminated list of values, or NULL */
    const char *doc; /* one line: what it measures, what one iteration is */
    /* Optional, for cases whose work is allocation itself, where the hook
     * in the path would cost more than what it counts (and its side table
     * would inflate RSS): run() is then timed with the hook uninstalled, and
     * the counters come from count(), called untimed under the hook right
     * after run(): the same work as one batch of run(). Returns how many
     * iterations that batch was, or -1 (via pmb_fail). */
    int64_t (*count)(int64_t param);
    /* Optional: what tells rows that share functions apart (an API, an
     * order...); the running case reads it with pmb_data(). */
    const void *data;
    /* Nonzero: time by the wall clock, not this thread's CPU time (cases
     * whose work runs on other threads). */
    int real_time;
    /* Optional: the params the quick suite runs, 0-terminated, each one of
     * `params` (NULL: every param). For sweeps whose top values take most
     * of a run's time, or whose neighbours tell nothing new at a glance. */
    const int64_t *quick_params;
    /* Nonzero: setup() measures under the counting hook on the row's
     * counted run (pmb_setup_measures), so a count() row has the hook in
     * around its setup then. Without it the hook is in for count() alone:
     * a setup under it costs up to ten times the row's timed batch. */
    int counts_setup;
} pmb_case;

#define PMB_SKIP 1

/* The suite cases are registered for: PMB_SUITE_FULL (every param, the
 * default) or PMB_SUITE_QUICK (each case's quick_params). Set
 * before the families register. */
enum { PMB_SUITE_FULL, PMB_SUITE_QUICK };
void pmb_set_suite(int suite);

/* Register a family's table (ending in a row whose name is NULL). Names
 * become family/name[/param]; a duplicate name is an error. 0 or -1. */
int pmb_register_family(const char *family, const pmb_case *table);
/* Print every registered name the filter selects (NULL: all) with its doc.
 * 0, or -1 with one line on stderr for a bad filter. */
int pmb_list(const char *filter);
/* The one line every mode says when its filter selects nothing: the
 * families there are, and the --list that names every case (`what` is
 * "case" or "stress case"; `list` "pymembench --list" or "pymembench
 * --stress --list"). */
void pmb_say_no_match(const char *filter, const char *what, const char *list);
/* How many registered cases failed setup, run or check so far. */
int pmb_failures(void);
/* How cases use the counting hook; set before registering families.
 * PMB_HOOK_ON: main installs it once, every row has the hook's counters.
 * PMB_HOOK_OFF: no hook, pure timing.
 * PMB_HOOK_BOTH: every case is registered twice, name/memhook:on and
 * name/memhook:off, and the hook is installed around each :on run only, so
 * one run (interleaved with --benchmark_enable_random_interleaving) gives
 * the hook's overhead as a ratio. */
enum { PMB_HOOK_OFF = 0, PMB_HOOK_ON = 1, PMB_HOOK_BOTH = 2 };
void pmb_set_hook(int mode);

/* The running case's pmb_case.data (NULL outside a case). */
const void *pmb_data(void);
/* For a figure a setup measures under the counting hook (what one object
 * asks for): 1 when this setup measures it (the hook is in: the row's
 * counted run in this process, or stress), 0 when the figure the row's
 * counted run measured still holds (its later runs set up without the hook:
 * keep it), -1 when the row has none (no hook: --memhook=off, a :off row). */
int pmb_setup_measures(void);

/* Record why a case failed (printf-style); returns -1. If a Python
 * exception is set its text is appended and it is cleared. */
int pmb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record why a case is skipped; returns PMB_SKIP. */
int pmb_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A check helper: churn may leave a freelist holding up to `slack` blocks,
 * never one per iteration. 0, or -1 (via pmb_fail) when more are live
 * after the run (only when the hook was on). */
int pmb_check_no_leak(const pmb_result *r, int64_t slack);
/* A check helper for cases no freelist serves: not one block or byte more
 * is live after the run than before (only when the hook was on). 0, or -1
 * via pmb_fail. */
int pmb_check_nothing_live(const pmb_result *r);
/* A check helper for cases that run in batches: the timed loop completed
 * `batches` of `per_batch` iterations, as many as Google Benchmark counted.
 * 0, or -1 via pmb_fail. */
int pmb_check_batches(const pmb_result *r, int64_t batches, int64_t per_batch);
/* From inside run(), after the loop: the counter minor_faults_per_iter,
 * page faults since `before` (procmem_minor_faults) per iteration. */
void pmb_faults_counter(gbs_state *st, int64_t before);
/* From inside run(): report the pending Python exception as the run's
 * error (the row gets error_occurred) and clear it. */
void pmb_run_error(gbs_state *st);

/* Sentinels: counts a case must leave as it found them (resources alive,
 * buffer exports unreleased...). Fixtures register theirs; the engine reads
 * them around every case and knows no fixture. */
typedef struct pmb_sentinel {
    const char *key; /* a name for reports: "resources" */
    const char
        *left; /* what a case left, after the number: "resource(s) alive" */
    const char
        *invariant; /* the stress invariant it checks: "resources released" */
    int per_case;   /* also checked after every case, not only across stress
                       rounds */
    int64_t (*count)(void);
    int after_warmup; /* across stress rounds, compared from the first
                         measured round rather than from before the first
                         round: a count a first run may raise for good (a
                         file a fixture opens once and keeps) */
} pmb_sentinel;
/* Register `s` (static storage; registering the same one twice is a
 * no-op). 0, or -1 when the table is full (PMB_MAX_SENTINELS). */
#define PMB_MAX_SENTINELS 8
int pmb_add_sentinel(const pmb_sentinel *s);
size_t pmb_nsentinels(void);
const pmb_sentinel *pmb_sentinel_at(size_t i);

/* Stress runs (bench/stress.c) and crash reports. */

/* Stress mode: cases with a count() keep the hook installed around run()
 * (nothing is timed, and reinstalling it would forget what is live). */
void pmb_set_stress(int on);
/* The registered rows in registration order: a case's params are
 * consecutive rows with the same pmb_case. */
size_t pmb_nrows(void);
const char *pmb_row_name(size_t i); /* family/case[/param] */
/* The name Google Benchmark reports and filters by: wall-clock cases end
 * in /real_time. */
const char *pmb_row_full_name(size_t i);
const char *pmb_row_family(size_t i);
const pmb_case *pmb_row_case(size_t i);
/* The rows `filter` selects (Google Benchmark's rules over the names it
 * reports, filter.h; NULL: all): iterations[i] (one per row) 0 for each,
 * -1 for the others. How many it selects, or -1 with one line on stderr
 * (a filter that does not compile). */
long pmb_select_rows(const char *filter, int64_t *iterations);
/* Give Google Benchmark the rows whose iterations[i] is not -1, in order:
 * those above 0 run exactly that many iterations in every repetition
 * (an earlier process's loops, --iterations-from), the others are sized by
 * Google Benchmark. Timed runs register only what they run, so its filter
 * is never matched against a name that carries an iteration count. 0, or
 * -1 with one line on stderr. */
int pmb_register_timed(const int64_t *iterations);
/* Run row i once outside Google Benchmark, `iterations` iterations (rounded
 * up to the case's batch), through the same wrapper as a benchmark: setup,
 * run, check, teardown, what it left behind. 0 passed, PMB_SKIP skipped,
 * -1 failed; *why then says why (valid until the next call). */
int pmb_run_row(size_t i, int64_t iterations, const char **why);
/* How many iterations the last pmb_run_row's loop ran (its batches may
 * overrun the number asked for). */
int64_t pmb_last_iterations(void);
/* The case running now (family/case[/param]), or NULL: for a fatal-signal
 * handler, which may read it. */
const char *pmb_running_name(void);
/* "SIGSEGV", "SIGABRT"... for a signal number ("a signal" when unknown);
 * async-signal-safe (a constant table). */
const char *pmb_signal_name(int sig);
/* A case that crashed an earlier process of the same run: its row fails at
 * once with `reason` instead of running again. Name as Google Benchmark
 * reports it (a /real_time suffix may be left off). 0, or -1 when no row
 * has that name. */
int pmb_mark_crashed(const char *name, const char *reason);

#endif /* PYMB_CASES_H */
