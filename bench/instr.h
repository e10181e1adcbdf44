/* instr.h - deterministic mode: instructions per iteration of each case,
 * counted by valgrind's callgrind over the measured region only (the case's
 * loop, where Google Benchmark's timer would run; setup, check, teardown and
 * the interpreter's start-up are not counted).
 *
 * `pymembench --instructions` runs itself again under callgrind
 * (instr_relaunch). In that child, instr_run takes each selected row
 * through the same wrapper as a benchmark (pmb_run_row): one iteration,
 * counted to choose the iteration count, which also warms caches and free
 * lists; then the counted round; callgrind client requests toggle collection
 * at the loop's edges and dump the count after it. Each row runs in a
 * child process of its own, up to --jobs of them at once (each its own
 * callgrind process, on its own core); the counts do not depend on how
 * many. Rows go out in Google
 * Benchmark's console and JSON formats, with the counter
 * instructions_per_iter.
 */
#ifndef PYMB_INSTR_H
#define PYMB_INSTR_H

#define INSTR_MAX_JOBS 64 /* rows counted at once, at most */

typedef struct instr_options {
    const char *filter; /* --benchmark_filter, Google Benchmark's rules
                         * (filter.h) over the names it reports; NULL:
                         * all */
    const char *out;    /* the JSON result file, or NULL */
    const char
        *iterations_from; /* "NAME ITERATIONS" lines: those rows run that
                           * many iterations, uncalibrated; or NULL */
    const char *profiles; /* keep each row's callgrind profile here */
    double target;        /* instructions per counted round */
    int jobs; /* rows counted at once, each a process of its own (1 to
               * INSTR_MAX_JOBS); 0: one per core */
    int (*add_context)(const void *arg); /* called after every row ran, before
                                          * the report: 0, or -1 with a line on
                                          * stderr; may be NULL */
    const void *context_arg;
} instr_options;

/* 1 in the process instr_relaunch started under callgrind. */
int instr_in_callgrind(void);
/* In that process, before the interpreter starts: Python copies the
 * environment into os.environ, so the callgrind output prefix (whose
 * length follows TMPDIR or --instructions-profiles) is taken out of it. */
void instr_fix_env(void);
/* Run this program (its arguments `argv`, argv[0] included) again under
 * callgrind and wait. Returns its exit status: 2 with one line when
 * valgrind cannot be run; 128+N when it died of signal N. */
int instr_relaunch(char **argv, const char *profiles);
/* In that process: count every selected row. 0; 1 when a case failed or
 * crashed; 2 on bad input (one line on stderr). */
int instr_run(const instr_options *o);

#endif /* PYMB_INSTR_H */
