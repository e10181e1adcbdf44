/* main.c - the pymembench program: one interpreter, one allocator, one
 * mode. Shaped like CPython's Programs/_testembed.c: options come from a
 * table (options.c), the mode from the table below, and main only starts
 * the interpreter and dispatches.
 *
 * Exit codes: 0 success; 1 a measured failure (a case's setup, run or check
 * failed, a stress invariant broke, or the interpreter failed to finalize);
 * 2 bad usage or environment, with one line on stderr saying what and how to
 * fix it.
 */
#include "program.h"

#include "build_info.h"
#include "cases.h"
#include "gbshim.h"
#include "malloclib.h"
#include "memhook.h"
#include "pins.h"
#include "procmem.h"
#include "pyx.h"
#include "workloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where LD_PRELOAD allocators are looked for. */
static const char *
library_dirs(char *buf, size_t len)
{
    const char *env = getenv("PYMB_LIBDIRS");
    if (env != NULL && *env != '\0') {
        return env;
    }
    env = getenv("LD_LIBRARY_PATH");
    snprintf(buf, len, "%s%s%s", env ? env : "", env && *env ? ":" : "",
             PYMB_LIBDIRS);
    return buf;
}

/* Python's allocator for --allocator=NAME; for malloc+LIB, make LIB this
 * process's malloc first (which re-executes the program). 0, or 2 with
 * the reason on stderr. */
static int
choose_allocator(const options *o, char **orig_argv, const char **python_alloc)
{
    char err[512], dirs[4096];
    const mlib_info *lib = mlib_find(o->allocator);
    *python_alloc = o->allocator;
    if (lib == NULL) {
        if (strncmp(o->allocator, "malloc+", 7) == 0) {
            fprintf(stderr,
                    "pymembench: unknown allocator '%s'; with LD_PRELOAD "
                    "pymembench "
                    "knows: %s\n",
                    o->allocator, mlib_names());
            return 2;
        }
        return 0;
    }
    if (mlib_ensure(lib, library_dirs(dirs, sizeof(dirs)), orig_argv, err,
                    sizeof(err)) != 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return 2;
    }
    *python_alloc = "malloc";
    return 0;
}

/* Google Benchmark 1.7.1 answers a bad flag value by printing its help and
 * exiting 0; make that the documented usage error instead. */
static void
bad_benchmark_flag(void)
{
    fprintf(stderr,
            "pymembench: a --benchmark_* flag has an invalid value (e.g. "
            "--benchmark_format must be console, json or csv); run pymembench "
            "--help\n");
    exit(2);
}

/* Register the families a mode runs (the stress-only ones too for
 * --stress), then mark the cases an earlier process crashed in. 0 or 2. */
static int
register_cases(const options *o)
{
    pmb_set_suite(strcmp(o->suite, "quick") == 0 ? PMB_SUITE_QUICK
                                                 : PMB_SUITE_FULL);
    pmb_set_hook(o->stress ? PMB_HOOK_ON : o->hook);
    pmb_set_stress(o->stress);
    if (wl_register_all() < 0 || (o->stress && wl_register_stress() < 0)) {
        return 2;
    }
    /* (stress runs isolate every case in a child of its own) */
    for (int i = 0; i < o->ncrashed && !o->stress; i++) {
        char name[200], reason[96];
        const char *sig = strrchr(o->crashed[i], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(sig - o->crashed[i]),
                 o->crashed[i]);
        snprintf(reason, sizeof(reason),
                 "crashed an earlier process (%.20s); not run again", sig + 1);
        if (pmb_mark_crashed(name, reason) < 0) {
            return bench_usage(
                "--crashed names no case: %s; run pymembench --list", name);
        }
    }
    return 0;
}

static int
install_hook(void)
{
    if (memhook_install() < 0) {
        fprintf(stderr, "pymembench: cannot install the counting hook (out of "
                        "memory)\n");
        return 2;
    }
    return 0;
}

/* The modes. Each returns the exit status; the interpreter is running. */

static int
mode_init_only(options *o)
{
    (void)o;
    return 0;
}

static int
mode_list(options *o)
{
    int rc = register_cases(o);
    if (rc != 0) {
        return rc;
    }
    if (o->stress) {
        stress_list();
        return 0;
    }
    return pmb_list(o->filter) < 0 ? 2 : 0;
}

static int
mode_stress(options *o)
{
    int rc = register_cases(o);
    if (rc != 0 || (rc = install_hook()) != 0) {
        return rc;
    }
    bench_add_stress_context(o);
    o->so.filter = o->filter;
    rc = stress_run(&o->so);
    memhook_uninstall();
    return rc;
}

static int
mode_instructions(options *o)
{
    int rc = register_cases(o);
    if (rc != 0) {
        return rc;
    }
    /* the context comes after the rows: its strings must not shape the
     * heap the rows start from */
    o->io.add_context = bench_instr_context;
    o->io.context_arg = o;
    o->io.filter = o->filter;
    o->io.out = o->out != NULL ? o->out_tmp : NULL;
    if (o->io.target <= 0) {
        o->io.target = 2e6;
    }
    rc = instr_run(&o->io);
    return rc != 2 && bench_out_commit(o) != 0 ? 2 : rc;
}

/* Give Google Benchmark the rows the filter selects, with the iterations
 * --iterations-from gives them. How many, or -1 with one line on stderr. */
static long
register_timed(const options *o)
{
    int64_t *iterations = calloc(pmb_nrows() + 1, sizeof(int64_t));
    long n = iterations != NULL ? pmb_select_rows(o->filter, iterations) : -1;
    if (iterations == NULL) {
        fprintf(stderr, "pymembench: out of memory choosing the rows\n");
    }
    if (n >= 0 && ((o->io.iterations_from != NULL &&
                    pins_read(o->io.iterations_from, iterations) < 0) ||
                   pmb_register_timed(iterations) < 0)) {
        n = -1;
    }
    free(iterations);
    return n;
}

/* Google Benchmark runs: every selected case timed, counted by the hook in
 * its untimed pass. */
static int
mode_bench(options *o)
{
    int rc = register_cases(o);
    if (rc != 0) {
        return rc;
    }
    const long selected = register_timed(o);
    if (selected < 0) {
        return 2;
    }
    if (selected == 0) {
        pmb_say_no_match(o->filter, "case", "pymembench --list");
        return 2;
    }
    if (bench_add_context(o) < 0) {
        return 2;
    }
    /* the process's peak RSS (across the per-case resets) is known only
     * once every row has run: the shim adds it to the finished file */
    gbs_end_context("process_peak_rss_bytes", procmem_process_peak);
    /* PMB_HOOK_ON: the engine puts the hook in only while it counts a case
     * (harness/cases.c, hook_in) */
    if (o->progress) {
        gbs_progress((size_t)selected);
    }
    /* only the selected rows were registered: run every one */
    size_t ran = gbs_run_specified(o->out != NULL && o->out_json, "all");
    memhook_uninstall();
    if (ran == 0) {
        pmb_say_no_match(o->filter, "case", "pymembench --list");
        return 2;
    }
    rc = pmb_failures() > 0 ? 1 : 0;
    if (rc != 0) {
        fprintf(stderr,
                "pymembench: %d case(s) failed; see error_message in the "
                "results\n",
                pmb_failures());
    }
    uint64_t peak = 0;
    if (procmem_process_peak(&peak) == 0) {
        fprintf(stderr,
                "pymembench: peak RSS of the process %.1f MiB (malloc from "
                "%s)\n",
                (double)peak / 1048576.0, mlib_malloc_path());
    }
    return bench_out_commit(o) != 0 ? 2 : rc;
}

typedef int (*mode_fn)(options *o);

/* The first mode whose option is set runs; benchmarks otherwise. */
static mode_fn
choose_mode(const options *o)
{
    static const struct {
        size_t offset; /* of the option's int in `options` */
        mode_fn run;
    } modes[] = {
        {offsetof(options, init_only), mode_init_only},
        {offsetof(options, list), mode_list},
        {offsetof(options, stress), mode_stress},
        {offsetof(options, instructions), mode_instructions},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (*(const int *)((const char *)o + modes[i].offset)) {
            return modes[i].run;
        }
    }
    return mode_bench;
}

/* Before the interpreter starts: --instructions counts in a copy of this
 * program under callgrind; the allocator may re-execute it. 0, 2, or
 * -(status + 1) when the run is over (the relaunched copy's status). */
static int
prepare_process(options *o, char **orig_argv, const char **python_alloc)
{
    if (o->instructions && !o->list && !instr_in_callgrind()) {
        return -(instr_relaunch(orig_argv, o->io.profiles) + 1);
    }
    if (o->instructions) {
        o->hook = PMB_HOOK_OFF;
        pyx_fix_hash_seed();
        instr_fix_env();
    }
    mlib_fix_thresholds();
    bench_catch_crashes();
    return choose_allocator(o, orig_argv, python_alloc); /* may re-execute */
}

/* Google Benchmark takes its flags; the result file is opened. `argv` has
 * room for one more entry (the temporary --benchmark_out). 0 or 2. */
static int
prepare_output(options *o, int *argc, char **argv)
{
    static char flag[4200];
    unsetenv("BENCHMARK_OUT"); /* the flag added below is the only output */
    int rc = bench_out_prepare(o);
    if (rc != 0) {
        return rc;
    }
    if (o->out != NULL && !o->instructions) { /* instr_run writes its own */
        snprintf(flag, sizeof(flag), "--benchmark_out=%s", o->out_tmp);
        argv[(*argc)++] = flag;
        argv[*argc] = NULL;
    }
    if (gbs_initialize(argc, argv, bad_benchmark_flag) < 0) {
        fprintf(stderr, "pymembench: unrecognised Google Benchmark flag; run "
                        "pymembench --help\n");
        return 2;
    }
    return bench_out_open(o);
}

/* The interpreter's life: started, one mode, finalized. */
static int
run_mode(options *o, const char *python_alloc)
{
    char err[512];
    if (pyx_start(python_alloc, PYMB_PYTHON_HOME, err, sizeof(err)) != 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return 2; /* an allocator it lacks, or a broken install */
    }
    int rc = choose_mode(o)(o);
    gbs_shutdown();
    if (pyx_finish() < 0) {
        fprintf(stderr, "pymembench: Py_FinalizeEx failed (buffered data "
                        "could not be flushed)\n");
        rc = rc == 0 ? 1 : rc;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    options o;
    const char *python_alloc = NULL;
    /* argv copies of one size whatever the arguments, made and freed in
     * this order: --instructions counts from this process's heap, which
     * must not depend on the arguments */
    const size_t slots = (size_t)argc + 2 > 64 ? (size_t)argc + 2 : 64;
    char **orig_argv = calloc(slots, sizeof(char *));
    if (orig_argv == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    memcpy(orig_argv, argv, (size_t)argc * sizeof(char *));
    int rc = bench_parse_args(&argc, argv, &o);
    if (rc == 0) {
        rc = prepare_process(&o, orig_argv, &python_alloc);
    }
    free(orig_argv);
    if (rc != 0) {
        return rc < 0 ? -rc - 1 : rc;
    }
    char **gb_argv = calloc(slots, sizeof(char *));
    if (gb_argv == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    memcpy(gb_argv, argv, (size_t)argc * sizeof(char *));
    rc = prepare_output(&o, &argc, gb_argv);
    if (rc == 0) {
        rc = run_mode(&o, python_alloc);
    }
    bench_out_discard(&o);
    free(gb_argv);
    return rc;
}
