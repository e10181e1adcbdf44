/* options.c - pymembench's command line: a table of our options (each a
 * name and a opt_setter), Google Benchmark's flags passed through in order,
 * then the rules for how options combine. Every refusal is one line on
 * stderr and exit status 2.
 */
#include "program.h"

#include "build_info.h"
#include "cases.h"
#include "memhook.h"
#include "pyx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: pymembench [--allocator=NAME] [--memhook=on|off|both] "
    "[--suite=quick|full]\n"
    "                  [--list] [--init-only] [--version] "
    "[--crashed=NAME=SIGNAL]\n"
    "                  [--progress] [--iterations-from=FILE]\n"
    "       pymembench --stress [--stress-seconds=S] [--stress-ops=N]\n"
    "                  [--stress-max-seconds=M] [--fault-points=N]\n"
    "                  [--fault-domains=raw,mem,obj|all] [--stress-out=FILE]\n"
    "                  [--benchmark_filter=REGEX] [--allocator=NAME] "
    "[--list]\n"
    "       pymembench --instructions [--iterations-from=FILE] "
    "[--instructions-target=N]\n"
    "                  [--instructions-profiles=DIR] [--jobs=N] "
    "[--benchmark_filter=REGEX]\n"
    "                  [--benchmark_out=FILE] [--allocator=NAME] "
    "[--suite=quick|full]\n"
    "                  [Google Benchmark flags: --benchmark_filter=REGEX,\n"
    "                   --benchmark_repetitions=N, "
    "--benchmark_min_time=SECONDS,\n"
    "                   --benchmark_out=FILE, --benchmark_format=json, ...]\n"
    "\n"
    "  --allocator=NAME  default, pymalloc, malloc, mimalloc (3.13+) or "
    "debug;\n"
    "                    or malloc+jemalloc, malloc+tcmalloc, "
    "malloc+mimalloc: Python's\n"
    "                    malloc mode with that library preloaded (LD_PRELOAD; "
    "the program\n"
    "                    re-executes itself; PYMB_LIBDIRS lists where to "
    "look)\n"
    "  --memhook=off     no counting hook: pure timing, no allocs/bytes "
    "counters\n"
    "  --memhook=both    every case twice, NAME/memhook:on and "
    "NAME/memhook:off,\n"
    "                    to measure the hook's overhead in one run\n"
    "  --suite=quick     each sweep's chosen params (buffers 64 B to 1 MiB, "
    "heaps of\n"
    "                    100,000); --suite=full, the default, runs every "
    "param\n"
    "  --list            print every case name (those --benchmark_filter "
    "selects) with\n"
    "                    what one iteration does\n"
    "  --init-only       initialise the interpreter with the allocator, "
    "finalize, exit:\n"
    "                    the harness's own start-up and shutdown, for "
    "whole-process timing\n"
    "  --crashed=NAME=SIGNAL  NAME crashed an earlier process: report it "
    "failed, do not\n"
    "                    run it (make bench passes this when it re-runs after "
    "a crash)\n"
    "  --progress        per case, \"pymembench: progress K/N SECONDS NAME\" "
    "on stderr\n"
    "  --iterations-from=FILE  lines \"NAME ITERATIONS\" (scripts/pins "
    "writes them from\n"
    "                    a result file): those rows run that many iterations "
    "in every\n"
    "                    repetition instead of calibrating, the loops of an "
    "earlier run\n"
    "                    (make bench: its sizing process's, scaled; "
    "--instructions: "
    "the base's)\n"
    "\n"
    "stress runs (stress tests, not benchmarks; nothing is timed):\n"
    "  --stress          every case as stress/<family>/<case>, in a child "
    "process of its\n"
    "                    own, in rounds, checking invariants across rounds; "
    "then fault\n"
    "                    injection at points spread across its allocation "
    "sequence\n"
    "  --stress-seconds=S  rounds per case until S seconds (default "
    "$STRESS_SECONDS or 0.5;\n"
    "                    at least 3 measured rounds)\n"
    "  --stress-ops=N    operations (iterations) to reach per family: each "
    "case goes on\n"
    "                    past S seconds until its share (what its family "
    "lacks over its\n"
    "                    cases left), unless too slow for the limit below "
    "(default 0: none)\n"
    "  --stress-max-seconds=M  the time limit of a case chasing its share "
    "(default 60 x S)\n"
    "  --fault-points=N  injection points per case (default 8; 0: none)\n"
    "  --fault-domains=D the allocator domains to fail in: raw, mem, obj, "
    "comma-separated,\n"
    "                    or all (default)\n"
    "  --stress-out=FILE the JSON report, rewritten whole after every case\n"
    "\n"
    "deterministic mode (instruction counts, for regression verdicts):\n"
    "  --instructions    instructions per iteration of each case under "
    "valgrind's callgrind\n"
    "                    (started by pymembench itself), counted over the "
    "case's loop only;\n"
    "                    hash seed fixed, counting hook off; rows carry "
    "instructions_per_iter\n"
    "  --instructions-target=N  instructions per counted round when "
    "calibrating (default\n"
    "                    2000000; the iteration count is a power of two)\n"
    "  --instructions-profiles=DIR  keep each case's callgrind profile "
    "(kcachegrind,\n"
    "                    callgrind_annotate) as "
    "DIR/<family>.<case>[.<param>].callgrind\n"
    "  --jobs=N          cases counted at once, each in a callgrind process "
    "of its own\n"
    "                    (1 to 64; default: the number of cores); the counts "
    "do not depend on it\n"
    "\n"
    "A crash (SIGSEGV, SIGABRT...) prints \"pymembench: case NAME crashed: "
    "SIGNAL\".\n"
    "exit status: 0 ok, 1 a case failed its check, a stress invariant broke "
    "or a case\n"
    "             crashed (or finalize failed), 2 bad usage or environment\n";

int
bench_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "pymembench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* The value of --fault-domains: a mask, or 0 when it is not one. */
static unsigned
parse_domains(const char *v)
{
    static const char *const names[MEMHOOK_NDOMAINS] = {"raw", "mem", "obj"};
    unsigned mask = 0;
    if (strcmp(v, "all") == 0) {
        return MEMHOOK_MASK_ALL;
    }
    while (*v) {
        size_t len = strcspn(v, ",");
        int found = 0;
        for (int d = 0; d < MEMHOOK_NDOMAINS; d++) {
            if (len == strlen(names[d]) && strncmp(v, names[d], len) == 0) {
                mask |= MEMHOOK_MASK(d);
                found = 1;
            }
        }
        if (!found) {
            return 0;
        }
        v += len + (v[len] == ',');
    }
    return mask;
}

/* A positive number of seconds, or -1. */
static double
parse_seconds(const char *v)
{
    char *end;
    double s = strtod(v, &end);
    return end != v && *end == '\0' && s > 0 && s < 1e6 ? s : -1;
}

/* The setters: each gets the whole argument (for messages) and the text
 * after '=' (or NULL for a flag); 0, or 2 via bench_usage. */
typedef int (*opt_setter)(options *o, const char *arg, const char *value);

static int
set_stress(options *o, const char *arg, const char *v)
{
    (void)arg, (void)v;
    o->stress = 1;
    return 0;
}

static int
set_seconds(options *o, const char *arg, const char *v)
{
    o->so.seconds = parse_seconds(v);
    o->seconds_given = 1;
    return o->so.seconds < 0
               ? bench_usage("'%s' is not a positive number of seconds (e.g. "
                             "--stress-seconds=0.5)",
                             arg)
               : 0;
}

static int
set_ops(options *o, const char *arg, const char *v)
{
    char *end;
    const double n = strtod(v, &end);
    if (end == v || *end != '\0' || !(n >= 0 && n <= 1e15)) {
        return bench_usage("'%s' is not a number of operations from 0 to 1e15 "
                           "(e.g. --stress-ops=1e8; 0: none)",
                           arg);
    }
    o->so.ops = n;
    return 0;
}

static int
set_max_seconds(options *o, const char *arg, const char *v)
{
    o->so.max_seconds = parse_seconds(v);
    return o->so.max_seconds < 0
               ? bench_usage("'%s' is not a positive number of seconds (e.g. "
                             "--stress-max-seconds=600)",
                             arg)
               : 0;
}

static int
set_points(options *o, const char *arg, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 0 || n > 100000) {
        return bench_usage("'%s' is not a number of points from 0 to 100000",
                           arg);
    }
    o->so.fault_points = (int)n;
    return 0;
}

static int
set_domains(options *o, const char *arg, const char *v)
{
    o->so.fault_mask = parse_domains(v);
    return o->so.fault_mask == 0
               ? bench_usage("unknown domain in '%s'; use raw, mem, obj "
                             "(comma-separated) or all",
                             arg)
               : 0;
}

static int
set_stress_out(options *o, const char *arg, const char *v)
{
    (void)arg;
    o->so.out = v;
    return 0;
}

static int
set_instructions(options *o, const char *arg, const char *v)
{
    (void)arg, (void)v;
    o->instructions = 1;
    return 0;
}

static int
set_iterations_from(options *o, const char *arg, const char *v)
{
    (void)arg;
    o->io.iterations_from = v;
    return 0;
}

static int
set_profiles(options *o, const char *arg, const char *v)
{
    (void)arg;
    o->io.profiles = v;
    return 0;
}

static int
set_target(options *o, const char *arg, const char *v)
{
    char *end;
    double t = strtod(v, &end);
    if (end == v || *end != '\0' || !(t >= 1000 && t <= 1e12)) {
        return bench_usage(
            "'%s' is not a number of instructions from 1000 to 1e12", arg);
    }
    o->io.target = t;
    return 0;
}

static int
set_jobs(options *o, const char *arg, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > INSTR_MAX_JOBS) {
        return bench_usage("'%s' is not a whole number of processes from 1 "
                           "to 64 (e.g. --jobs=2)",
                           arg);
    }
    o->io.jobs = (int)n;
    return 0;
}

static int
set_crashed(options *o, const char *arg, const char *v)
{
    if (strchr(v, '=') == NULL || o->ncrashed == 64) {
        return bench_usage(
            "'%s' should be --crashed=NAME=SIGNAL (at most 64 of them)", arg);
    }
    o->crashed[o->ncrashed++] = v;
    return 0;
}

static int
set_allocator(options *o, const char *arg, const char *v)
{
    (void)arg;
    o->allocator = v;
    return 0;
}

static int
set_memhook(options *o, const char *arg, const char *v)
{
    static const char *const modes[] = {[PMB_HOOK_OFF] = "off",
                                        [PMB_HOOK_ON] = "on",
                                        [PMB_HOOK_BOTH] = "both"};
    for (int m = 0; m < 3; m++) {
        if (strcmp(v, modes[m]) == 0) {
            o->hook = m;
            o->hook_given = 1;
            return 0;
        }
    }
    return bench_usage("unknown option '%s'; use --memhook=on, off or both",
                       arg);
}

static int
set_list(options *o, const char *arg, const char *v)
{
    (void)arg, (void)v;
    o->list = 1;
    return 0;
}

static int
set_progress(options *o, const char *arg, const char *v)
{
    (void)arg, (void)v;
    o->progress = 1;
    return 0;
}

static int
set_init_only(options *o, const char *arg, const char *v)
{
    (void)arg, (void)v;
    o->init_only = 1;
    return 0;
}

static int
set_suite(options *o, const char *arg, const char *v)
{
    if (strcmp(v, "quick") != 0 && strcmp(v, "full") != 0) {
        return bench_usage(
            "unknown suite in '%s'; use --suite=quick or --suite=full", arg);
    }
    o->suite = v;
    return 0;
}

static int
show_help(options *o, const char *arg, const char *v)
{
    (void)o, (void)arg, (void)v;
    fputs(usage, stdout);
    exit(0);
}

static int
show_version(options *o, const char *arg, const char *v)
{
    (void)o, (void)arg, (void)v;
    printf("pymembench %s for %s (Python %s, %s)\n", PYMB_COMMIT, PYMB_TAG,
           PY_VERSION, PYMB_PYTHON_EXECUTABLE);
    exit(0);
}

/* Our options: "--name" is a flag, "--name=" takes a value. */
static const struct {
    const char *name;
    opt_setter set;
} option_table[] = {
    {"--allocator=", set_allocator},
    {"--memhook=", set_memhook},
    {"--suite=", set_suite},
    {"--list", set_list},
    {"--init-only", set_init_only},
    {"--progress", set_progress},
    {"--crashed=", set_crashed},
    {"--stress", set_stress},
    {"--stress-seconds=", set_seconds},
    {"--stress-ops=", set_ops},
    {"--stress-max-seconds=", set_max_seconds},
    {"--fault-points=", set_points},
    {"--fault-domains=", set_domains},
    {"--stress-out=", set_stress_out},
    {"--instructions", set_instructions},
    {"--iterations-from=", set_iterations_from},
    {"--instructions-target=", set_target},
    {"--instructions-profiles=", set_profiles},
    {"--jobs=", set_jobs},
    {"--help", show_help},
    {"-h", show_help},
    {"--version", show_version},
    {NULL, NULL},
};

/* Apply `a` if it is one of ours. 0 done, 2 refused, -1 not ours. */
static int
our_option(options *o, const char *a)
{
    for (size_t i = 0; option_table[i].name != NULL; i++) {
        const char *name = option_table[i].name;
        size_t len = strlen(name);
        if (name[len - 1] == '=' ? strncmp(a, name, len) == 0
                                 : strcmp(a, name) == 0) {
            return option_table[i].set(o, a,
                                       name[len - 1] == '=' ? a + len : NULL);
        }
    }
    return -1;
}

/* A Google Benchmark flag: noted where it matters to us. --benchmark_out
 * is taken out (outfile.c gives Google Benchmark a temporary name). Returns
 * 1 to keep it in argv, 0 to drop it. */
static int
benchmark_flag(options *o, const char *a)
{
    if (strncmp(a, "--benchmark_out=", 16) == 0) {
        o->out = a + 16;
        return 0;
    }
    if (strncmp(a, "--benchmark_filter=", 19) == 0) {
        o->filter = a + 19;
    }
    if (strncmp(a, "--benchmark_out_format=", 23) == 0) {
        o->out_json = strcmp(a + 23, "json") == 0;
    }
    if (strncmp(a, "--benchmark_list_tests", 22) == 0 &&
        strcmp(a, "--benchmark_list_tests=false") != 0 &&
        strcmp(a, "--benchmark_list_tests=0") != 0) {
        o->list_tests = 1;
    }
    return 1;
}

/* Defaults and the environment: what no option set. 0 or 2. */
static int
from_environment(options *o)
{
    const char *env = getenv("BENCHMARK_OUT");
    if (o->out == NULL && env != NULL && *env) {
        o->out = env;
    }
    /* Listing names writes no results: never truncate a result file for it. */
    if (o->list_tests) {
        o->out = NULL;
    }
    env = getenv("BENCHMARK_FILTER");
    if (o->filter == NULL && env != NULL) {
        o->filter = env;
    }
    env = getenv("STRESS_SECONDS");
    if (o->stress && env != NULL && *env != '\0' && !o->seconds_given) {
        o->so.seconds = parse_seconds(env);
        if (o->so.seconds < 0) {
            return bench_usage("STRESS_SECONDS='%s' is not a positive number "
                               "of seconds "
                               "(e.g. STRESS_SECONDS=0.5)",
                               env);
        }
    }
    if (o->so.max_seconds == 0) {
        o->so.max_seconds = 60 * o->so.seconds;
    }
    if (o->suite == NULL) {
        o->suite = o->stress ? "quick"
                             : "full"; /* stress: the quick suite's params */
    }
    return 0;
}

/* How options combine. 0 or 2. */
static int
check_combination(const options *o)
{
    if (!o->instructions &&
        (o->io.profiles || o->io.target > 0 || o->io.jobs > 0)) {
        return bench_usage("%s, --instructions-profiles and --jobs need "
                           "--instructions",
                           "--instructions-target");
    }
    if (o->io.iterations_from && (o->stress || o->list_tests || o->list)) {
        return bench_usage("--iterations-from=%s sizes the loops of timed "
                           "runs and instruction counts; leave it out of "
                           "--stress and of listings",
                           o->io.iterations_from);
    }
    if (o->instructions && (o->stress || o->hook_given)) {
        return bench_usage("%s: --instructions counts with the hook off and "
                           "is not a stress "
                           "run; leave out --memhook and --stress",
                           "--instructions");
    }
    if (o->instructions && strchr(o->allocator, '+') != NULL) {
        return bench_usage(
            "--allocator=%s: a preloaded malloc cannot be counted under "
            "callgrind; use default, pymalloc, malloc or mimalloc with "
            "--instructions",
            o->allocator);
    }
    if (o->instructions && o->out != NULL && !o->out_json) {
        return bench_usage("%s: --instructions writes JSON only; leave out "
                           "--benchmark_out_format or set it to json",
                           o->out);
    }
    if (o->stress && o->hook_given) {
        return bench_usage("%s: --memhook has no meaning with --stress "
                           "(stress runs always "
                           "count with the hook)",
                           "--memhook");
    }
    if (o->stress && o->out != NULL) {
        return bench_usage("%s: --benchmark_out has no meaning with --stress; "
                           "use "
                           "--stress-out=FILE",
                           o->out);
    }
    return 0;
}

int
bench_parse_args(int *argc, char **argv, options *o)
{
    const char *fmt = getenv("BENCHMARK_OUT_FORMAT");
    *o = (options){.allocator = "default",
                   .hook = PMB_HOOK_ON,
                   .out_json =
                       fmt == NULL || *fmt == '\0' || strcmp(fmt, "json") == 0,
                   .so = {.seconds = 0.5,
                          .fault_points = 8,
                          .fault_mask = MEMHOOK_MASK_ALL}};
    int w = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        int rc = our_option(o, a);
        if (rc > 0) {
            return rc;
        }
        if (rc == 0) {
            continue;
        }
        if (strncmp(a, "--benchmark_", 12) != 0 &&
            strncmp(a, "--v=", 4) != 0) {
            return bench_usage("unknown option '%s'; run pymembench --help",
                               a);
        }
        if (benchmark_flag(o, a)) {
            argv[w++] = argv[i];
        }
    }
    *argc = w;
    argv[w] = NULL;
    int rc = from_environment(o);
    return rc != 0 ? rc : check_combination(o);
}
