/* program.h - what the parts of the pymembench program share: the options
 * (options.c), the result file and signals (outfile.c), the context every
 * result file carries (context.c) and the modes' drivers (main.c's mode
 * table; stress.c and instr.c are the other two drivers). */
#ifndef PYMB_PROGRAM_H
#define PYMB_PROGRAM_H

#include "instr.h"
#include "stress.h"

#include <stddef.h>

typedef struct options {
    const char *allocator;
    int hook;           /* PMB_HOOK_* */
    int list;           /* --list */
    int init_only;      /* --init-only */
    const char *suite;  /* "quick" or "full" */
    const char *out;    /* --benchmark_out (or BENCHMARK_OUT) as given */
    char out_tmp[4096]; /* where the results are written until whole */
    int list_tests;     /* --benchmark_list_tests: names only, no results */
    int progress;       /* --progress: a line on stderr per case */
    int out_json; /* the output file is JSON (Google Benchmark's default) */
    const char *filter;      /* --benchmark_filter (or BENCHMARK_FILTER) */
    const char *crashed[64]; /* --crashed=NAME=SIGNAL values */
    int ncrashed;
    int stress;        /* --stress */
    int seconds_given; /* --stress-seconds (wins over STRESS_SECONDS) */
    int hook_given;    /* --memhook=... */
    stress_options so;
    int instructions; /* --instructions */
    instr_options io;
} options;

/* options.c: take our options out of argv (Google Benchmark's stay, in
 * order), check how they combine, fill `o` (defaults included). 0, or 2
 * with one line on stderr. --help and --version print and exit 0. */
int bench_parse_args(int *argc, char **argv, options *o);
/* One usage line on stderr ("pymembench: " + fmt with arg); returns 2. */
int bench_usage(const char *fmt, const char *arg);

/* outfile.c: results reach o->out whole or not at all. prepare: the
 * temporary name beside it (0 or 2); open: create it, with the handlers
 * that remove it on Ctrl-C, SIGTERM, SIGHUP or a crash already in place
 * (0 or 2); commit: move it into place (0 or 2); discard: remove it. */
int bench_out_prepare(options *o);
int bench_out_open(const options *o);
int bench_out_commit(const options *o);
void bench_out_discard(const options *o);
/* Fatal signals name the running case and remove the temporary file. */
void bench_catch_crashes(void);
/* From then on a crash also writes its C stack (innermost first, from the
 * handler's own frame) into frames[0..max) and the count into *n: memory a
 * parent can read after the crash (stress runs). frames NULL: not kept. */
void bench_keep_crash_stack(void **frames, int max, int *n);

/* context.c: the result file's context (interpreter, build, allocator,
 * host, commit...). 0, or -1 with the reason on stderr. */
int bench_add_context(const options *o);
/* The same for stress runs, without what would change the state their
 * children fork from (the build facts' import, a peak reset). */
void bench_add_stress_context(const options *o);
/* --instructions: the context, added after every row (an instr_options
 * add_context callback; arg is the options). */
int bench_instr_context(const void *arg);

#endif /* PYMB_PROGRAM_H */
