/* main.c - the pymembench program: one interpreter, one allocator, every
 * registered case run under Google Benchmark, results in its JSON format.
 *
 * Exit codes: 0 success; 1 a measured failure (a case's setup, run or check
 * failed, or the interpreter failed to finalize); 2 bad usage or
 * environment, with one line on stderr saying what and how to fix it.
 */
#include "build_info.h"
#include "cases.h"
#include "gbshim.h"
#include "instr.h"
#include "malloclib.h"
#include "memhook.h"
#include "procmem.h"
#include "pyx.h"
#include "stress.h"
#include "workloads.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char usage[] =
    "usage: pymembench [--allocator=NAME] [--memhook=on|off|both] [--suite=quick|full]\n"
    "                  [--list] [--init-only] [--version] [--crashed=NAME=SIGNAL]\n"
    "       pymembench --stress [--stress-seconds=S] [--fault-points=N]\n"
    "                  [--fault-domains=raw,mem,obj|all] [--stress-out=FILE]\n"
    "                  [--benchmark_filter=REGEX] [--allocator=NAME] [--list]\n"
    "       pymembench --instructions [--iterations-from=FILE] [--instructions-target=N]\n"
    "                  [--instructions-profiles=DIR] [--benchmark_filter=REGEX]\n"
    "                  [--benchmark_out=FILE] [--allocator=NAME] [--suite=quick|full]\n"
    "                  [Google Benchmark flags: --benchmark_filter=REGEX,\n"
    "                   --benchmark_repetitions=N, --benchmark_min_time=SECONDS,\n"
    "                   --benchmark_out=FILE, --benchmark_format=json, ...]\n"
    "\n"
    "  --allocator=NAME  default, pymalloc, malloc, mimalloc (3.13+) or debug;\n"
    "                    or malloc+jemalloc, malloc+tcmalloc, malloc+mimalloc: Python's\n"
    "                    malloc mode with that library preloaded (LD_PRELOAD; the program\n"
    "                    re-executes itself; PYMB_LIBDIRS lists where to look)\n"
    "  --memhook=off     no counting hook: pure timing, no allocs/bytes counters\n"
    "  --memhook=both    every case twice, NAME/memhook:on and NAME/memhook:off,\n"
    "                    to measure the hook's overhead in one run\n"
    "  --suite=quick     leave out the largest params of long sweeps (buffers above\n"
    "                    16 MiB); --suite=full, the default, runs every param\n"
    "  --list            print every case name with what one iteration does\n"
    "  --init-only       initialise the interpreter with the allocator, finalize, exit:\n"
    "                    the harness's own start-up and shutdown, for whole-process timing\n"
    "  --crashed=NAME=SIGNAL  NAME crashed an earlier process: report it failed, do not\n"
    "                    run it (make bench passes this when it re-runs after a crash)\n"
    "\n"
    "stress runs (stress tests, not benchmarks; nothing is timed):\n"
    "  --stress          every case as stress/<family>/<case>, in a child process of its\n"
    "                    own, in rounds, checking invariants across rounds; then fault\n"
    "                    injection at points spread across its allocation sequence\n"
    "  --stress-seconds=S  rounds per case until S seconds (default $STRESS_SECONDS or 0.5;\n"
    "                    at least 3 measured rounds)\n"
    "  --fault-points=N  injection points per case (default 8; 0: none)\n"
    "  --fault-domains=D the allocator domains to fail in: raw, mem, obj, comma-separated,\n"
    "                    or all (default)\n"
    "  --stress-out=FILE the JSON report, rewritten whole after every case\n"
    "\n"
    "deterministic mode (instruction counts, for regression verdicts):\n"
    "  --instructions    instructions per iteration of each case under valgrind's callgrind\n"
    "                    (started by pymembench itself), counted over the case's loop only;\n"
    "                    hash seed fixed, counting hook off; rows carry instructions_per_iter\n"
    "  --iterations-from=FILE  lines \"NAME ITERATIONS\": run those rows that many iterations\n"
    "                    (to count the same loops as an earlier run) instead of calibrating\n"
    "  --instructions-target=N  instructions per counted round when calibrating (default\n"
    "                    2000000; the iteration count is a power of two)\n"
    "  --instructions-profiles=DIR  keep each case's callgrind profile (kcachegrind,\n"
    "                    callgrind_annotate) as DIR/<family>.<case>[.<param>].callgrind\n"
    "\n"
    "A crash (SIGSEGV, SIGABRT...) prints \"pymembench: case NAME crashed: SIGNAL\".\n"
    "exit status: 0 ok, 1 a case failed its check, a stress invariant broke or a case\n"
    "             crashed (or finalize failed), 2 bad usage or environment\n";

typedef struct options {
    const char *allocator;
    int hook;
    int list;
    int init_only;
    const char *suite;
    const char *out;      /* --benchmark_out (or BENCHMARK_OUT) as given */
    char out_tmp[4096];   /* where Google Benchmark really writes */
    int list_tests;       /* --benchmark_list_tests: names only, no results */
    int out_json;         /* the output file is JSON (Google Benchmark's default) */
    const char *filter;   /* --benchmark_filter's value, for --stress */
    const char *crashed[64]; /* --crashed=NAME=SIGNAL values */
    int ncrashed;
    int stress;
    int seconds_given;   /* --stress-seconds (wins over STRESS_SECONDS) */
    int hook_given;      /* --memhook=... */
    stress_options so;
    int instructions;    /* --instructions */
    instr_options io;
} options;

static int die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "pymembench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* The value of --fault-domains: a mask, or 0 when it is not one. */
static unsigned parse_domains(const char *v)
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
static double parse_seconds(const char *v)
{
    char *end;
    double s = strtod(v, &end);
    return end != v && *end == '\0' && s > 0 && s < 1e6 ? s : -1;
}

/* Take our options out of argv, leave Google Benchmark's in place. */
static int parse_args(int *argc, char **argv, options *o)
{
    int w = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--stress") == 0) {
            o->stress = 1;
        }
        else if (strncmp(a, "--stress-seconds=", 17) == 0) {
            o->so.seconds = parse_seconds(a + 17);
            o->seconds_given = 1;
            if (o->so.seconds < 0) {
                return die_usage("'%s' is not a positive number of seconds (e.g. "
                                 "--stress-seconds=0.5)", a);
            }
        }
        else if (strncmp(a, "--fault-points=", 15) == 0) {
            char *end;
            long n = strtol(a + 15, &end, 10);
            if (end == a + 15 || *end != '\0' || n < 0 || n > 100000) {
                return die_usage("'%s' is not a number of points from 0 to 100000", a);
            }
            o->so.fault_points = (int)n;
        }
        else if (strncmp(a, "--fault-domains=", 16) == 0) {
            o->so.fault_mask = parse_domains(a + 16);
            if (o->so.fault_mask == 0) {
                return die_usage("unknown domain in '%s'; use raw, mem, obj (comma-separated) "
                                 "or all", a);
            }
        }
        else if (strncmp(a, "--stress-out=", 13) == 0) {
            o->so.out = a + 13;
        }
        else if (strcmp(a, "--instructions") == 0) {
            o->instructions = 1;
        }
        else if (strncmp(a, "--iterations-from=", 18) == 0) {
            o->io.iterations_from = a + 18;
        }
        else if (strncmp(a, "--instructions-profiles=", 24) == 0) {
            o->io.profiles = a + 24;
        }
        else if (strncmp(a, "--instructions-target=", 22) == 0) {
            char *end;
            double t = strtod(a + 22, &end);
            if (end == a + 22 || *end != '\0' || !(t >= 1000 && t <= 1e12)) {
                return die_usage("'%s' is not a number of instructions from 1000 to 1e12", a);
            }
            o->io.target = t;
        }
        else if (strncmp(a, "--crashed=", 10) == 0) {
            if (strchr(a + 10, '=') == NULL || o->ncrashed == 64) {
                return die_usage("'%s' should be --crashed=NAME=SIGNAL (at most 64 of them)", a);
            }
            o->crashed[o->ncrashed++] = a + 10;
        }
        else if (strncmp(a, "--allocator=", 12) == 0) {
            o->allocator = a + 12;
        }
        else if (strcmp(a, "--memhook=on") == 0) {
            o->hook = PMB_HOOK_ON;
            o->hook_given = 1;
        }
        else if (strcmp(a, "--memhook=off") == 0) {
            o->hook = PMB_HOOK_OFF;
            o->hook_given = 1;
        }
        else if (strcmp(a, "--memhook=both") == 0) {
            o->hook = PMB_HOOK_BOTH;
            o->hook_given = 1;
        }
        else if (strcmp(a, "--list") == 0) {
            o->list = 1;
        }
        else if (strcmp(a, "--init-only") == 0) {
            o->init_only = 1;
        }
        else if (strcmp(a, "--suite=quick") == 0 || strcmp(a, "--suite=full") == 0) {
            o->suite = a + 8;
        }
        else if (strncmp(a, "--suite=", 8) == 0) {
            return die_usage("unknown suite in '%s'; use --suite=quick or --suite=full", a);
        }
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        else if (strcmp(a, "--version") == 0) {
            printf("pymembench %s for %s (Python %s, %s)\n", PYMB_COMMIT, PYMB_TAG,
                   PY_VERSION, PYMB_PYTHON_EXECUTABLE);
            exit(0);
        }
        else if (strncmp(a, "--benchmark_", 12) == 0 || strncmp(a, "--v=", 4) == 0) {
            if (strncmp(a, "--benchmark_out=", 16) == 0) {
                o->out = a + 16;
                continue; /* re-added by redirect_out */
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
            argv[w++] = argv[i];
        }
        else {
            return die_usage("unknown option '%s'; run pymembench --help", a);
        }
    }
    *argc = w;
    argv[w] = NULL;
    if (o->out == NULL && getenv("BENCHMARK_OUT") != NULL && *getenv("BENCHMARK_OUT")) {
        o->out = getenv("BENCHMARK_OUT");
    }
    /* Listing names writes no results: never truncate a result file for it. */
    if (o->list_tests) {
        o->out = NULL;
    }
    if (!o->instructions && (o->io.iterations_from || o->io.profiles || o->io.target > 0)) {
        return die_usage("%s, --instructions-target and --instructions-profiles need "
                         "--instructions", "--iterations-from");
    }
    if (o->instructions && (o->stress || o->hook_given)) {
        return die_usage("%s: --instructions counts with the hook off and is not a stress run; "
                         "leave out --memhook and --stress", "--instructions");
    }
    if (o->instructions && strchr(o->allocator, '+') != NULL) {
        return die_usage("--allocator=%s: a preloaded malloc cannot be counted under callgrind; "
                         "use default, pymalloc, malloc or mimalloc with --instructions",
                         o->allocator);
    }
    if (o->instructions && o->out != NULL && !o->out_json) {
        return die_usage("%s: --instructions writes JSON only; leave out "
                         "--benchmark_out_format or set it to json", o->out);
    }
    if (o->stress && o->hook_given) {
        return die_usage("%s: --memhook has no meaning with --stress (stress runs always count "
                         "with the hook)", "--memhook");
    }
    if (o->stress && o->out != NULL) {
        return die_usage("%s: --benchmark_out has no meaning with --stress; use --stress-out=FILE",
                         o->out);
    }
    if (o->filter == NULL && getenv("BENCHMARK_FILTER") != NULL) {
        o->filter = getenv("BENCHMARK_FILTER");
    }
    return 0;
}

/* The temporary result file, removed if the run is interrupted. */
static const char *volatile pending_tmp;
static volatile pid_t pending_owner; /* a forked child (--instructions) leaves it */

static void on_interrupt(int sig)
{
    if (pending_tmp != NULL && getpid() == pending_owner) {
        unlink(pending_tmp); /* async-signal-safe */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A case that crashes the process: say which and how, remove the partial
 * result file, then die of the same signal (the exit status tells it). */
static void on_crash(int sig)
{
    static const char head[] = "pymembench: case ";
    const char *name = pmb_running_name();
    const char *what = pmb_signal_name(sig);
    if (name != NULL) {
        ssize_t w = write(2, head, sizeof(head) - 1);
        w += write(2, name, strlen(name));
        w += write(2, " crashed: ", 10);
        w += write(2, what, strlen(what));
        w += write(2, "\n", 1);
        (void)w;
    }
    if (pending_tmp != NULL && getpid() == pending_owner) {
        unlink(pending_tmp);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Fatal signals name the running case; on an alternate stack, so that a
 * stack overflow is reported too. */
static void catch_crashes(void)
{
    static char altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)(SA_ONSTACK | SA_RESETHAND | SA_NODEFER);
    sigemptyset(&sa.sa_mask);
    sigaltstack(&ss, NULL);
    const int sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Point --benchmark_out at a temporary file beside the target, so that an
 * interrupted run never leaves a truncated result; renamed at the end.
 * Appends the flag to argv, which has room for one more entry. */
static int redirect_out(int *argc, char **argv, options *o)
{
    static char flag[4200];
    if (o->out == NULL) {
        return 0;
    }
    int n = snprintf(o->out_tmp, sizeof(o->out_tmp), "%s.tmp.%ld", o->out, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(o->out_tmp)) {
        return die_usage("output path too long: %s", o->out);
    }
    if (o->instructions) {
        return 0; /* instr_run writes it: its length stays out of the heap */
    }
    snprintf(flag, sizeof(flag), "--benchmark_out=%s", o->out_tmp);
    argv[(*argc)++] = flag;
    argv[*argc] = NULL;
    return 0;
}

/* Create the temporary file (proving the folder is writable), with the
 * interrupt handlers that remove it already in place. */
static int open_out(const options *o)
{
    if (o->out == NULL) {
        return 0;
    }
    pending_tmp = o->out_tmp;
    pending_owner = getpid();
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    signal(SIGHUP, on_interrupt);
    FILE *f = fopen(o->out_tmp, "w");
    if (f == NULL) {
        pending_tmp = NULL;
        return die_usage("cannot write %s: check the folder exists and is writable",
                         o->out_tmp);
    }
    fclose(f);
    return 0;
}

/* Google Benchmark 1.7.1 answers a bad flag value by printing its help and
 * exiting 0; make that the documented usage error instead. */
static void bad_benchmark_flag(void)
{
    fprintf(stderr, "pymembench: a --benchmark_* flag has an invalid value (e.g. "
                    "--benchmark_format must be console, json or csv); run pymembench --help\n");
    exit(2);
}

static int add_context(const options *o)
{
    char host[256] = "unknown";
    char buf[1024];
    struct utsname u;
    uint64_t rss, peak;

    /* Py_GetVersion() may hold a newline before the compiler part */
    snprintf(buf, sizeof(buf), "%s", Py_GetVersion());
    for (char *p = buf; *p; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }
    gbs_add_context("python_version", buf);
    gbs_add_context("python_executable", PYMB_PYTHON_EXECUTABLE);
    gbs_add_context("python_tag", PYMB_TAG);
    PyObject *facts = pyx_build_facts();
    if (facts == NULL) {
        pyx_error_text(buf, sizeof(buf));
        fprintf(stderr, "pymembench: cannot read sysconfig: %s\n", buf);
        return -1;
    }
    const char *text = PyUnicode_AsUTF8(facts);
    if (text == NULL) {
        Py_DECREF(facts);
        pyx_error_text(buf, sizeof(buf));
        fprintf(stderr, "pymembench: cannot read the build facts: %s\n", buf);
        return -1;
    }
    gbs_add_context("python_build", text);
    Py_DECREF(facts);
    gbs_add_context("allocator", o->allocator);
    gbs_add_context("suite", o->suite);
    if (mlib_find(o->allocator) != NULL) {
        snprintf(buf, sizeof(buf), "%s, %s via LD_PRELOAD", pyx_allocator_effective(),
                 mlib_find(o->allocator)->soname);
        gbs_add_context("allocator_effective", buf);
    }
    else {
        gbs_add_context("allocator_effective", pyx_allocator_effective());
    }
    gbs_add_context("malloc_library", mlib_malloc_path());
    gbs_add_context("memhook", o->hook == PMB_HOOK_BOTH ? "both"
                               : o->hook == PMB_HOOK_ON ? "on" : "off");
    gbs_add_context("pymembench_commit", PYMB_COMMIT);
    gethostname(host, sizeof(host) - 1);
    if (uname(&u) == 0) {
        snprintf(buf, sizeof(buf), "%s (%s %s %s)", host, u.sysname, u.release, u.machine);
    }
    else {
        snprintf(buf, sizeof(buf), "%s", host);
    }
    gbs_add_context("host", buf);
    gbs_add_context("compiler", PYMB_COMPILER);
    int resettable = procmem_reset_peak() == 0 && procmem_read(&rss, &peak) == 0;
    gbs_add_context("peak_bytes_scope", resettable ? "each run (reset via /proc/self/clear_refs)"
                                                   : "whole process (peak reset refused)");
    return 0;
}

/* --instructions: the context, added once every row has run (its strings
 * must not shape the heap the rows start from). 0 or -1. */
static int instr_context(const void *arg)
{
    const options *o = arg;
    if (add_context(o) < 0) {
        return -1;
    }
    gbs_add_context("measure", "instructions per iteration under callgrind (client requests "
                               "around each case's loop); times are under callgrind");
    gbs_add_context("hash_seed", "0 (fixed)");
    gbs_add_context("malloc_thresholds", "mmap and trim fixed at 128 KiB (glibc's initial)");
    /* what ran before a case shapes malloc's state, so its count */
    gbs_add_context("benchmark_filter", o->filter != NULL ? o->filter : "");
    return 0;
}

/* Where LD_PRELOAD allocators are looked for. */
static const char *library_dirs(char *buf, size_t len)
{
    const char *env = getenv("PYMB_LIBDIRS");
    if (env != NULL && *env != '\0') {
        return env;
    }
    env = getenv("LD_LIBRARY_PATH");
    snprintf(buf, len, "%s%s%s", env ? env : "", env && *env ? ":" : "", PYMB_LIBDIRS);
    return buf;
}

/* Python's allocator for --allocator=NAME; for malloc+LIB, make LIB this
 * process's malloc first (which re-executes the program). 0, or 2 with
 * the reason on stderr. */
static int choose_allocator(const options *o, char **orig_argv, const char **python_alloc)
{
    char err[512], dirs[4096];
    const mlib_info *lib = mlib_find(o->allocator);
    *python_alloc = o->allocator;
    if (lib == NULL) {
        if (strncmp(o->allocator, "malloc+", 7) == 0) {
            fprintf(stderr, "pymembench: unknown allocator '%s'; with LD_PRELOAD pymembench "
                            "knows: %s\n", o->allocator, mlib_names());
            return 2;
        }
        return 0;
    }
    if (mlib_ensure(lib, library_dirs(dirs, sizeof(dirs)), orig_argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return 2;
    }
    *python_alloc = "malloc";
    return 0;
}

/* Add the process's peak RSS (across the per-case resets) to the finished
 * result file's context, where Google Benchmark wrote only what was known
 * at the start. 0 or -1. */
static int add_end_context(const char *path, uint64_t peak)
{
    static const char key[] = "\"context\": {";
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char *text = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size > 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, f) != (size_t)size) {
            size = -1;
        }
        text[size > 0 ? size : 0] = '\0';
    }
    fclose(f);
    char *at = text != NULL && size > 0 ? strstr(text, key) : NULL;
    if (at == NULL) {
        free(text);
        return -1;
    }
    const size_t len = (size_t)size;
    size_t head = (size_t)(at - text) + sizeof(key) - 1;
    f = fopen(path, "w");
    if (f == NULL) {
        free(text);
        return -1;
    }
    fwrite(text, 1, head, f);
    fprintf(f, "\n    \"process_peak_rss_bytes\": %llu,", (unsigned long long)peak);
    fwrite(text + head, 1, len - head, f);
    free(text);
    return fclose(f) == 0 ? 0 : -1;
}

/* --crashed=NAME=SIGNAL: those cases fail at once. 0, or 2 for a name
 * that is no case. */
static int mark_crashed(const options *o)
{
    for (int i = 0; i < o->ncrashed; i++) {
        char name[200], reason[96];
        const char *sig = strrchr(o->crashed[i], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(sig - o->crashed[i]), o->crashed[i]);
        snprintf(reason, sizeof(reason), "crashed an earlier process (%.20s); not run again",
                 sig + 1);
        if (pmb_mark_crashed(name, reason) < 0) {
            return die_usage("--crashed names no case: %s; run pymembench --list", name);
        }
    }
    return 0;
}

/* pymembench --stress: the families registered for stress, then
 * stress_run. Returns the exit status. */
static int run_stress(options *o)
{
    pmb_set_hook(PMB_HOOK_ON);
    pmb_set_stress(1);
    if (wl_register_all() < 0 || wl_register_stress() < 0) {
        return 2;
    }
    if (o->list) {
        stress_list();
        return 0;
    }
    if (memhook_install() < 0) {
        fprintf(stderr, "pymembench: cannot install the counting hook (out of memory)\n");
        return 2;
    }
    o->so.filter = o->filter;
    int rc = stress_run(&o->so);
    memhook_uninstall();
    return rc;
}

int main(int argc, char **argv)
{
    const char *fmt = getenv("BENCHMARK_OUT_FORMAT");
    options o = {.allocator = "default", .hook = PMB_HOOK_ON,
                 .out_json = fmt == NULL || *fmt == '\0' || strcmp(fmt, "json") == 0,
                 .so = {.seconds = 0.5, .fault_points = 8, .fault_mask = MEMHOOK_MASK_ALL}};
    char err[512];
    const char *python_alloc = NULL;
    /* argv copies of one size whatever the arguments: --instructions counts
     * from this process's heap, which must not depend on how many there are */
    const size_t slots = (size_t)argc + 2 > 64 ? (size_t)argc + 2 : 64;
    char **orig_argv = calloc(slots, sizeof(char *));
    if (orig_argv == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    memcpy(orig_argv, argv, (size_t)argc * sizeof(char *));
    const char *env_seconds = getenv("STRESS_SECONDS");
    int rc = parse_args(&argc, argv, &o);
    if (rc == 0 && o.stress && env_seconds != NULL && *env_seconds != '\0' && !o.seconds_given) {
        o.so.seconds = parse_seconds(env_seconds);
        if (o.so.seconds < 0) {
            rc = die_usage("STRESS_SECONDS='%s' is not a positive number of seconds "
                           "(e.g. STRESS_SECONDS=0.5)", env_seconds);
        }
    }
    if (o.suite == NULL) {
        o.suite = o.stress ? "quick" : "full"; /* stress: buffers up to 16 MiB */
    }
    if (rc == 0 && o.instructions && !o.list && !instr_in_callgrind()) {
        /* the counting happens in a copy of this program under callgrind */
        rc = instr_relaunch(orig_argv, o.io.profiles);
        free(orig_argv);
        return rc;
    }
    if (o.instructions) {
        o.hook = PMB_HOOK_OFF;
        pyx_fix_hash_seed();
        instr_fix_malloc();
        instr_fix_env();
    }
    catch_crashes();
    if (rc == 0) {
        rc = choose_allocator(&o, orig_argv, &python_alloc); /* may re-execute */
    }
    free(orig_argv);
    if (rc != 0) {
        return rc;
    }
    unsetenv("BENCHMARK_OUT"); /* the flag added below is the only output */
    /* A copy of argv with room for the redirected --benchmark_out. */
    char **gb_argv = calloc(slots, sizeof(char *));
    if (gb_argv == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    memcpy(gb_argv, argv, (size_t)argc * sizeof(char *));
    rc = redirect_out(&argc, gb_argv, &o);
    if (rc != 0) {
        goto done;
    }
    if (gbs_initialize(&argc, gb_argv, bad_benchmark_flag) < 0) {
        fprintf(stderr, "pymembench: unrecognised Google Benchmark flag; run pymembench --help\n");
        rc = 2;
        goto done;
    }
    rc = open_out(&o);
    if (rc != 0) {
        goto done;
    }
    if (pyx_start(python_alloc, PYMB_PYTHON_HOME, err, sizeof(err)) != 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        rc = 2; /* an allocator it lacks, or a broken install: environment */
        goto done;
    }
    if (o.init_only) {
        goto finish;
    }
    pmb_set_suite(strcmp(o.suite, "quick") == 0 ? PMB_SUITE_QUICK : PMB_SUITE_FULL);
    if (o.stress) {
        rc = run_stress(&o);
        goto finish;
    }
    pmb_set_hook(o.hook);
    if (wl_register_all() < 0) {
        rc = 2;
        goto finish;
    }
    rc = mark_crashed(&o);
    if (rc != 0) {
        goto finish;
    }
    if (o.list) {
        rc = pmb_list(o.filter) < 0 ? 2 : 0;
        goto finish;
    }
    if (!o.instructions && add_context(&o) < 0) {
        rc = 2;
        goto finish;
    }
    if (o.hook == PMB_HOOK_ON && memhook_install() < 0) {
        fprintf(stderr, "pymembench: cannot install the counting hook (out of memory)\n");
        rc = 2;
        goto finish;
    }
    if (o.instructions) {
        /* the context comes after the rows (instr_context) */
        o.io.add_context = instr_context;
        o.io.context_arg = &o;
        o.io.filter = o.filter;
        o.io.out = o.out != NULL ? o.out_tmp : NULL;
        if (o.io.target <= 0) {
            o.io.target = 2e6;
        }
        rc = instr_run(&o.io);
        goto move_results;
    }
    size_t ran = gbs_run_specified(o.out != NULL && o.out_json);
    memhook_uninstall();
    if (ran == 0) {
        char families[512];
        pmb_family_summary(families, sizeof(families));
        fprintf(stderr, "pymembench: no case matches the filter '%s' (--benchmark_filter or "
                        "BENCHMARK_FILTER); the families are %s; run pymembench --list for "
                        "every name\n", o.filter ? o.filter : "", families);
        rc = 2;
    }
    else if (pmb_failures() > 0) {
        fprintf(stderr, "pymembench: %d case(s) failed; see error_message in the results\n",
                pmb_failures());
        rc = 1;
    }
    uint64_t peak = 0;
    if (ran > 0 && procmem_process_peak(&peak) == 0) {
        fprintf(stderr, "pymembench: peak RSS of the process %.1f MiB (malloc from %s)\n",
                (double)peak / 1048576.0, mlib_malloc_path());
        if (o.out != NULL && o.out_json && add_end_context(o.out_tmp, peak) < 0) {
            fprintf(stderr, "pymembench: warning: could not add process_peak_rss_bytes to "
                            "the results (they are kept as written)\n");
        }
    }
move_results:
    if (rc != 2 && o.out != NULL) {
        if (rename(o.out_tmp, o.out) != 0) {
            perror("pymembench: cannot move the results into place");
            rc = 2;
        }
    }
finish:
    gbs_shutdown();
    if (pyx_finish() < 0) {
        fprintf(stderr, "pymembench: Py_FinalizeEx failed (buffered data could not be flushed)\n");
        if (rc == 0) {
            rc = 1;
        }
    }
done:
    if (o.out != NULL) {
        pending_tmp = NULL;
        remove(o.out_tmp); /* no-op once renamed */
    }
    free(gb_argv);
    return rc;
}
