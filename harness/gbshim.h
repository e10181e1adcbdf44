/* gbshim.h - a plain C interface to Google Benchmark (1.7.1).
 *
 * The only C++ in pymembench is gbshim.cc, which implements this header.
 * Cases register a function, a context pointer and argument values; the
 * function drives the timed loop with gbs_keep_running_batch().
 */
#ifndef PYMB_GBSHIM_H
#define PYMB_GBSHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque: a benchmark::State, valid only inside a benchmark function; or
 * the manual state below. */
typedef struct gbs_state gbs_state;
/* Opaque: a registered benchmark, used to attach arguments and options. */
typedef struct gbs_bench gbs_bench;

typedef void (*gbs_fn)(gbs_state *st, void *ctx);

/* Counter flags: the same bits as benchmark::Counter::Flags, except
 * GBS_COUNTER_INVERT, which the shim maps to kInvert (1 << 31). */
enum {
    GBS_COUNTER_DEFAULT = 0,
    GBS_COUNTER_RATE = 1 << 0,           /* divided by the elapsed time */
    GBS_COUNTER_AVG_ITERATIONS = 1 << 3, /* divided by the iterations */
    GBS_COUNTER_AVG_ITERATIONS_RATE = (1 << 0) | (1 << 3),
    /* 1/value after the above: value*1e-9 with RATE|INVERT gives
     * nanoseconds per unit of value (the shim maps it to kInvert). */
    GBS_COUNTER_INVERT = 1 << 16,
};

/* Parse and strip Google Benchmark's own flags from argv. Returns 0, or -1
 * when unrecognised arguments remain (they are named on stderr). A flag
 * with a bad value calls `on_bad_flag` (which must not return), or Google
 * Benchmark's help-and-exit(0) when it is NULL. */
int gbs_initialize(int *argc, char **argv, void (*on_bad_flag)(void));
/* Run the registered benchmarks `spec` selects (Google Benchmark's filter
 * rules; "all": every one; NULL: --benchmark_filter's); returns how many
 * ran. json_out: --benchmark_out names a JSON file, to be written as
 * strict JSON (a figure Google Benchmark cannot compute is left out, not
 * NaN). */
size_t gbs_run_specified(int json_out, const char *spec);
/* From now on gbs_run_specified also says on stderr, as each case's report
 * comes in, "pymembench: progress K/N SECONDS NAME": K cases done of
 * `total`, SECONDS since the previous case was reported (the case's own
 * setup, counted pass, repetitions and teardown). Its console table is
 * then always Google Benchmark's console format (coloured on a terminal). */
void gbs_progress(size_t total);
void gbs_shutdown(void);

/* Register `fn` under `name`; the name is copied. Returns NULL on failure. */
gbs_bench *gbs_register(const char *name, gbs_fn fn, void *ctx);
void gbs_bench_use_real_time(gbs_bench *b);
/* Every repetition runs exactly n iterations (no sizing). Its rows keep
 * the name they were registered with. */
void gbs_bench_iterations(gbs_bench *b, int64_t n);

/* The timed loop: true while `n` more iterations should run. */
int gbs_keep_running_batch(gbs_state *st, int64_t n);
int gbs_keep_running(gbs_state *st);
void gbs_pause(gbs_state *st);
void gbs_resume(gbs_state *st);
int64_t gbs_iterations(const gbs_state *st);
void gbs_set_items_processed(gbs_state *st, int64_t items);
void gbs_set_bytes_processed(gbs_state *st, int64_t bytes);
void gbs_set_label(gbs_state *st, const char *label);
/* A named user counter; `flags` from the GBS_COUNTER_* values. */
void gbs_counter(gbs_state *st, const char *name, double value, int flags);
/* Mark the run failed: the JSON row gets error_occurred and the message. */
void gbs_skip_with_error(gbs_state *st, const char *msg);
int gbs_error_occurred(const gbs_state *st);

/* Outside Google Benchmark: a state that runs a case's loop for a fixed
 * number of iterations, untimed (stress runs, fault injection). Counters,
 * labels and timing calls are ignored; an error is kept. One at a time,
 * main thread: begin returns the same state until end. A loop may overrun
 * `iterations` by less than one batch, as under Google Benchmark. */
gbs_state *gbs_manual_begin(int64_t iterations);
/* The message given to gbs_skip_with_error, or NULL. Valid until end. */
const char *gbs_manual_error(const gbs_state *st);
void gbs_manual_end(gbs_state *st);
/* Told when the manual state's measured region starts and stops, as
 * Google Benchmark's timer would be: on(1) at the loop's first batch and at
 * gbs_resume, on(0) when the loop ends, at gbs_pause, and at
 * gbs_manual_end if still on. Calls alternate, starting with on(1). NULL
 * to stop watching. (Instruction counting: bench/instr.c.) */
void gbs_manual_watch(void (*on)(int running));
/* Keep the counters a case sets on the manual state (1), or ignore them
 * (0, the default: instruction counts never see the bookkeeping). Kept
 * counters live until the next gbs_manual_begin with keeping on. */
void gbs_manual_keep_counters(int on);
/* Give st every kept counter it does not have itself: a counter averaged
 * over iterations is divided by the manual run's iterations first; a rate
 * (per second) has no meaning without a clock and is left out. */
void gbs_manual_counters_to(gbs_state *st);

/* Writing result rows measured outside Google Benchmark in its formats:
 * its console table on stdout and, given a path, its JSON file (context
 * included, gbs_add_context's entries too). One report at a time. */
typedef struct gbs_row {
    const char *name; /* family/case[/param] */
    int64_t iterations;
    double real_seconds; /* accumulated over the iterations */
    double cpu_seconds;
    const char *error; /* NULL, or why the row failed or was skipped */
    size_t ncounters;  /* user counters (plain values, not rates) */
    const char *const *counter_names;
    const double *counter_values;
    const char *label; /* NULL, or the row's "label" (Google Benchmark's
                          SetLabel field) */
} gbs_row;
/* 0, or -1 when `json_path` cannot be opened. */
int gbs_report_begin(const char *json_path);
/* The same, without the console table (nor its header on stderr): the JSON
 * file only, for a driver that prints lines of its own and writes the file
 * again after every case (stress runs). */
int gbs_report_begin_quiet(const char *json_path);
void gbs_report_row(const gbs_row *row);
/* Finish the JSON; 0, or -1 when the file could not be written whole. */
int gbs_report_end(void);

/* A key/value pair in the result's "context" object. */
void gbs_add_context(const char *key, const char *value);
/* A context entry known only once every row has run (the process's peak
 * RSS): gbs_run_specified's JSON file gets "key": N, N from `value` as
 * the file is finished (written over a blank line left for it at the
 * start of the context); `value` returning nonzero leaves the key out.
 * Set before gbs_run_specified. The key is written as it is (a plain name)
 * and must outlive the run. */
void gbs_end_context(const char *key, int (*value)(uint64_t *value));

/* Do-not-optimize and clobber-memory, as Google Benchmark defines them for
 * GCC and Clang: an empty asm that claims to read the value (or all of
 * memory), so the compiler must compute and store it. Inline, no call. */
#define gbs_do_not_optimize(lvalue) \
    __asm__ __volatile__("" : "+m,r"(lvalue) : : "memory")
#define gbs_do_not_optimize_ptr(ptr) \
    __asm__ __volatile__("" : : "r,m"(ptr) : "memory")
#define gbs_clobber_memory() __asm__ __volatile__("" : : : "memory")

#ifdef __cplusplus
}
#endif

#endif /* PYMB_GBSHIM_H */
