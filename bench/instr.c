/* instr.c - instruction counts per iteration under callgrind (see instr.h).
 *
 * Why it repeats: callgrind counts guest instructions, not time; the hash
 * seed is fixed (pyx_fix_hash_seed), the counting hook is off, each row
 * runs one iteration first (warming what a first run fills), and its
 * iteration count is chosen from that iteration's count (or read from an
 * earlier run with --iterations-from, so that two runs compare the same
 * loops).
 */
#define _GNU_SOURCE
#include "instr.h"

#include "cases.h"
#include "child.h"
#include "gbshim.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define OUT_ENV "PYMB_CALLGRIND_OUT"
#define MAX_ITERATIONS ((int64_t)1 << 24) /* calibration's cap */
#define MAX_PINNED ((int64_t)1 << 30)     /* --iterations-from's (batches overrun) */

/* The callgrind output prefix, kept out of the environment (instr_fix_env). */
static char cg_out[4096];

int instr_in_callgrind(void)
{
    const char *out = getenv(OUT_ENV);
    return RUNNING_ON_VALGRIND && out != NULL && *out != '\0';
}

void instr_fix_env(void)
{
    const char *out = getenv(OUT_ENV);
    snprintf(cg_out, sizeof(cg_out), "%s", out != NULL ? out : "");
    unsetenv(OUT_ENV);
}

/* The callgrind output file prefix: PROFILES/callgrind.out, or one in a
 * fresh temporary folder (*made is then set). 0 or -1. */
static int out_prefix(const char *profiles, char *buf, size_t len, int *made)
{
    *made = 0;
    if (profiles != NULL) {
        if (mkdir(profiles, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "pymembench: cannot create %s: %s; give --instructions-profiles a "
                            "writable folder\n", profiles, strerror(errno));
            return -1;
        }
        snprintf(buf, len, "%s/callgrind.out", profiles);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/pymembench-cg.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(buf) == NULL) {
        fprintf(stderr, "pymembench: cannot create a temporary folder (%s); set TMPDIR to a "
                        "writable folder\n", strerror(errno));
        return -1;
    }
    *made = 1;
    strncat(buf, "/callgrind.out", len - strlen(buf) - 1);
    return 0;
}

void instr_fix_malloc(void)
{
    /* glibc's defaults, fixed: given explicitly, they no longer adapt */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

static volatile pid_t child; /* the callgrind run, while it runs */

static void forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

int instr_relaunch(char **argv, const char *profiles)
{
    char out[4096], exe[4096], flag[4200];
    int made;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        fprintf(stderr, "pymembench: cannot find this program's path (/proc/self/exe)\n");
        return 2;
    }
    exe[n] = '\0';
    if (out_prefix(profiles, out, sizeof(out), &made) < 0) {
        return 2;
    }
    /* each process (one per row) writes OUT.<pid>.<dump> */
    snprintf(flag, sizeof(flag), "--callgrind-out-file=%s.%%p", out);
    int argc = 0;
    while (argv[argc] != NULL) {
        argc++;
    }
    char **args = calloc((size_t)argc + 10, sizeof(char *));
    if (args == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    int a = 0;
    args[a++] = "valgrind";
    args[a++] = "--tool=callgrind";
    args[a++] = "--quiet";
    args[a++] = "--collect-atstart=no";
    args[a++] = flag;
    args[a++] = exe;
    /* BENCHMARK_OUT and BENCHMARK_FILTER go on as flags (before the user's,
     * which win), not in the environment: Google Benchmark copies its
     * variables into the heap before main, so a path's length would reach
     * every count. */
    static const char *const as_flag[][2] = {{"BENCHMARK_OUT", "--benchmark_out="},
                                             {"BENCHMARK_FILTER", "--benchmark_filter="}};
    char *env_flags[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        const char *v = getenv(as_flag[k][0]);
        if (v != NULL && *v != '\0') {
            size_t len = strlen(as_flag[k][1]) + strlen(v) + 1;
            env_flags[k] = malloc(len);
            if (env_flags[k] == NULL) {
                fprintf(stderr, "pymembench: out of memory\n");
                free(args);
                return 2;
            }
            snprintf(env_flags[k], len, "%s%s", as_flag[k][1], v);
            args[a++] = env_flags[k];
        }
    }
    for (int i = 1; i < argc; i++) {
        args[a++] = argv[i];
    }
    args[a] = NULL;

    /* Ctrl-C reaches the child too (same process group); SIGTERM, SIGHUP
     * sent to this process alone are passed on. Either way, wait for the
     * child, then tidy up and report. */
    struct sigaction fwd = {.sa_handler = forward}, ign = {.sa_handler = SIG_IGN};
    struct sigaction old_int, old_term, old_hup;
    sigemptyset(&fwd.sa_mask);
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    int rc = 2;
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        /* A fixed environment: Python copies it into os.environ, so its
         * size would shape the heap every case starts from (UPDATE=1 in
         * make regress's environment moved lifetime/with/c_exit by 0.3%). */
        static const char *const keep[] = {"PYMB_SELFTEST", "PYMB_FAULT_TRACE",
                                           "BENCHMARK_OUT_FORMAT"};
        char *env[16];
        static char outvar[4200];
        int e = 0;
        env[e++] = "PATH=/usr/bin:/bin";
        env[e++] = "LC_ALL=C.UTF-8";
        snprintf(outvar, sizeof(outvar), "%s=%s", OUT_ENV, out);
        env[e++] = outvar;
        for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
            const char *v = getenv(keep[k]);
            if (v != NULL) {
                size_t len = strlen(keep[k]) + strlen(v) + 2;
                char *kv = malloc(len);
                if (kv != NULL) {
                    snprintf(kv, len, "%s=%s", keep[k], v);
                    env[e++] = kv;
                }
            }
        }
        env[e] = NULL;
        execvpe(args[0], args, env);
        fprintf(stderr, "pymembench: --instructions needs valgrind, which cannot be run (%s); "
                        "install it: apt-get install valgrind\n", strerror(errno));
        _exit(2);
    }
    int status;
    child = pid;
    pid_t got;
    while (pid > 0 && (got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (pid < 0) {
        fprintf(stderr, "pymembench: cannot start valgrind: %s\n", strerror(errno));
    }
    else if (got == pid) {
        if (WIFEXITED(status)) {
            rc = WEXITSTATUS(status);
        }
        else if (WIFSIGNALED(status)) {
            rc = 128 + WTERMSIG(status);
            if (WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGTERM) {
                fprintf(stderr, "pymembench: the callgrind run died of %s\n",
                        pmb_signal_name(WTERMSIG(status)));
            }
        }
    }
    child = 0;
    free(args);
    free(env_flags[0]);
    free(env_flags[1]);
    /* callgrind's dumps at exit hold nothing (collection was off); a run
     * that died may leave its last dump */
    *strrchr(out, '/') = '\0';
    {
        DIR *d = opendir(out);
        struct dirent *e;
        char dump[4400];
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, "callgrind.out.", 14) == 0) {
                snprintf(dump, sizeof(dump), "%s/%s", out, e->d_name);
                unlink(dump);
            }
        }
        if (d != NULL) {
            closedir(d);
        }
        if (made && rmdir(out) != 0) {
            fprintf(stderr, "pymembench: left %s (not empty)\n", out);
        }
    }
    return rc;
}

/* The filter, as Google Benchmark applies --benchmark_filter. */
typedef struct filter {
    regex_t re;
    int active;
    int negate;
} filter;

static int filter_init(filter *f, const char *spec)
{
    memset(f, 0, sizeof(*f));
    if (spec == NULL || *spec == '\0' || strcmp(spec, "all") == 0) {
        return 0;
    }
    f->negate = spec[0] == '-';
    if (regcomp(&f->re, spec + f->negate, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "pymembench: --benchmark_filter='%s' is not a valid regular "
                        "expression\n", spec);
        return -1;
    }
    f->active = 1;
    return 0;
}

static int filter_match(const filter *f, const char *name)
{
    return !f->active || ((regexec(&f->re, name, 0, NULL, 0) == 0) != f->negate);
}

/* Row i against the filter, by the name Google Benchmark gives it
 * (wall-clock cases end in /real_time), as a timed run would select. */
static int row_selected(const filter *f, size_t i)
{
    char full[256];
    snprintf(full, sizeof(full), "%s%s", pmb_row_name(i),
             pmb_row_case(i)->real_time ? "/real_time" : "");
    return filter_match(f, full);
}

/* --iterations-from: names and iteration counts, as lines "NAME N". */
typedef struct pinned {
    char **names;
    int64_t *iterations;
    size_t n;
} pinned;

static int pinned_load(pinned *p, const char *path)
{
    memset(p, 0, sizeof(*p));
    if (path == NULL) {
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pymembench: cannot read --iterations-from=%s: %s\n", path,
                strerror(errno));
        return -1;
    }
    char line[512], name[400];
    long long it = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') {
            continue;
        }
        int at = 0;
        char *end = NULL;
        if (sscanf(line, "%399s %n", name, &at) == 1 && at > 0) {
            it = strtoll(line + at, &end, 10);
        }
        if (end == NULL || end == line + at || end[strspn(end, " \t\r\n")] != '\0' || it < 1 ||
            it > MAX_PINNED) {
            fprintf(stderr, "pymembench: %s line %d is not 'NAME ITERATIONS' (1 to %lld)\n",
                    path, lineno, (long long)MAX_PINNED);
            rc = -1;
            break;
        }
        char **names = realloc(p->names, (p->n + 1) * sizeof(char *));
        int64_t *its = names ? realloc(p->iterations, (p->n + 1) * sizeof(int64_t)) : NULL;
        if (names != NULL) {
            p->names = names;
        }
        if (its == NULL || (names[p->n] = strdup(name)) == NULL) {
            fprintf(stderr, "pymembench: out of memory reading %s\n", path);
            rc = -1;
            break;
        }
        p->iterations = its;
        its[p->n++] = it;
    }
    fclose(f);
    return rc;
}

static int64_t pinned_find(const pinned *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->names[i], name) == 0) {
            return p->iterations[i];
        }
    }
    return 0;
}

/* The counted region: the watch (gbs_manual_watch) toggles collection at
 * the loop's edges, and times it. Clocks are read outside the collected
 * part. Only rows' children run loops, and every round of theirs counts. */
static double real_sum, cpu_sum, real_at, cpu_at;

static double now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_loop(int running)
{
    if (running) {
        real_at = now(CLOCK_MONOTONIC);
        cpu_at = now(CLOCK_THREAD_CPUTIME_ID);
        CALLGRIND_TOGGLE_COLLECT;
    }
    else {
        CALLGRIND_TOGGLE_COLLECT;
        cpu_sum += now(CLOCK_THREAD_CPUTIME_ID) - cpu_at;
        real_sum += now(CLOCK_MONOTONIC) - real_at;
    }
}

static unsigned dumps; /* callgrind numbers its dumps from 1 */

/* Read the instruction total of the dump just made for `name`; keep the
 * profile in `profiles` (or remove it). 0, or -1 with a line on stderr. */
static int read_dump(const char *name, const char *profiles, uint64_t *total)
{
    char path[4200], line[512], want[400];
    int found = 0, named = 0;
    snprintf(path, sizeof(path), "%s.%ld.%u", cg_out, (long)getpid(), ++dumps);
    snprintf(want, sizeof(want), "desc: Trigger: Client Request: %s\n", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pymembench: callgrind wrote no profile %s for %s\n", path, name);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long long v;
        named |= strcmp(line, want) == 0;
        if (sscanf(line, "totals: %llu", &v) == 1) {
            *total = v;
            found = 1;
        }
    }
    fclose(f);
    if (!found || !named) {
        fprintf(stderr, "pymembench: %s is not callgrind's profile of %s (no %s)\n", path,
                name, found ? "trigger line" : "totals line");
        return -1;
    }
    if (profiles == NULL) {
        unlink(path);
        return 0;
    }
    char kept[4400];
    int n = snprintf(kept, sizeof(kept), "%s/", profiles);
    for (const char *s = name; *s && (size_t)n < sizeof(kept) - 16; s++) {
        kept[n++] = *s == '/' ? '.' : *s;
    }
    snprintf(kept + n, sizeof(kept) - (size_t)n, ".callgrind");
    if (rename(path, kept) != 0) {
        fprintf(stderr, "pymembench: cannot keep the profile as %s: %s\n", kept,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* One counted round of row i, `iterations` long: instructions into *instr
 * (the profile kept in `profiles` when given), the loop's iterations into *done. Returns
 * pmb_run_row's result (0, PMB_SKIP, -1) with *why; or -1 when the count
 * could not be read. */
static int round_of(size_t i, int64_t iterations, const char *profiles, uint64_t *instr,
                    int64_t *done, const char **why)
{
    const char *name = pmb_row_name(i);
    real_sum = cpu_sum = 0;
    CALLGRIND_ZERO_STATS;
    int rc = pmb_run_row(i, iterations, why);
    *done = pmb_last_iterations();
    CALLGRIND_DUMP_STATS_AT(name);
    if (read_dump(name, rc == 0 ? profiles : NULL, instr) < 0) {
        *why = "the instruction count could not be read";
        return -1;
    }
    return rc;
}

/* Iterations for a counted round of about `target` instructions, from
 * the count of one iteration: a power of two, so that a small change in
 * that count seldom changes it. */
static int64_t choose_iterations(uint64_t one, double target)
{
    int64_t n = 1;
    while (n < MAX_ITERATIONS && (double)one * (double)(n * 2) <= target) {
        n *= 2;
    }
    return n;
}

/* One row, in a child of its own (child_run): every row starts from the
 * same state of the process (malloc's heap above all: a 64 KiB realloc
 * costs 161 or 322 instructions depending on what ran before it), and a
 * crash costs that row only. */
typedef struct row_arg {
    size_t i;
    int64_t iterations; /* 0: calibrate */
    const instr_options *o;
} row_arg;

typedef struct row_report {
    int rc; /* pmb_run_row's (0, PMB_SKIP, -1) */
    int64_t iterations;
    uint64_t instructions;
    double real_seconds, cpu_seconds;
    char why[600];
} row_report;

static void row_body(void *varg, void *vreport)
{
    const row_arg *a = varg;
    row_report *r = vreport;
    const char *why = NULL;
    uint64_t instr = 0;
    int64_t done = 0, n = a->iterations;
    /* The first round (one iteration, counted) warms what a first run
     * fills (caches, free lists, pools) and sizes the second. It is
     * counted even when the size is given: reading a count allocates
     * (stdio), and malloc's state must be the same either way. */
    int rc = round_of(a->i, 1, NULL, &instr, &done, &why);
    if (rc == 0 && n == 0) {
        n = choose_iterations(instr / (uint64_t)(done > 0 ? done : 1), a->o->target);
    }
    if (rc == 0) {
        rc = round_of(a->i, n, a->o->profiles, &instr, &done, &why);
    }
    r->rc = rc;
    r->iterations = done;
    r->instructions = instr;
    r->real_seconds = real_sum;
    r->cpu_seconds = cpu_sum;
    snprintf(r->why, sizeof(r->why), "%s", why != NULL ? why : "");
}

/* Run row_body in a child and remove what callgrind left of it; *rep
 * then holds the row's rc (-1 when the child crashed or could not start)
 * and why. */
static void row_in_child(const row_arg *arg, row_report *rep)
{
    child_end end;
    if (child_run(row_body, (void *)arg, rep, sizeof(*rep), 1800, &end) < 0) {
        rep->rc = -1;
        snprintf(rep->why, sizeof(rep->why), "cannot fork: %s", strerror(errno));
        return;
    }
    /* the child's final dump at exit, and any it did not read */
    char path[4200];
    for (unsigned k = 0; k <= 2; k++) {
        snprintf(path, sizeof(path), k ? "%s.%d.%u" : "%s.%d", cg_out, end.pid, k);
        unlink(path);
    }
    if (!end.ok) {
        memset(rep, 0, sizeof(*rep));
        rep->rc = -1;
        if (end.signal != 0) {
            snprintf(rep->why, sizeof(rep->why), "crashed: %s", pmb_signal_name(end.signal));
        }
        else {
            snprintf(rep->why, sizeof(rep->why), "its process exited with status %d",
                     end.status);
        }
    }
}

/* The plan: which rows run, for how many iterations (0: calibrate; -1:
 * not selected). Made in a child, so that the filter's regex and the
 * --iterations-from table never touch the parent's heap: every row's
 * child then starts from the same state whatever the filter and the
 * iteration source (they moved malloc-heavy cases by up to 3.4%). */
typedef struct plan {
    int status; /* 0, or 2 when the child said what is wrong */
    int selected;
    int64_t iterations[];
} plan;

static void plan_body(void *arg, void *report)
{
    const instr_options *o = arg;
    plan *p = report;
    filter flt;
    pinned pins;
    p->status = 2;
    if (filter_init(&flt, o->filter) < 0 || pinned_load(&pins, o->iterations_from) < 0) {
        return;
    }
    for (size_t i = 0; i < pmb_nrows(); i++) {
        p->iterations[i] = -1;
        if (row_selected(&flt, i)) {
            p->iterations[i] = pinned_find(&pins, pmb_row_name(i));
            p->selected++;
        }
    }
    p->status = 0; /* the child exits: flt and pins go with it */
}

/* Memory outside malloc's heap (anonymous pages), zeroed; NULL on failure. */
static void *pages(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

int instr_run(const instr_options *o)
{
    static const char *const names[] = {"instructions_per_iter", "instructions"};
    int failures = 0;
    const size_t plan_size = sizeof(plan) + pmb_nrows() * sizeof(int64_t);
    const size_t reps_size = pmb_nrows() * sizeof(row_report);
    plan *pl = pages(plan_size);
    row_report *reps = pages(reps_size);
    child_end end;
    if (pl == NULL || reps == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
        return 2;
    }
    if (child_run(plan_body, (void *)o, pl, plan_size, 60, &end) < 0 || !end.ok) {
        fprintf(stderr, "pymembench: cannot choose the rows (fork failed or the child died)\n");
        return 2;
    }
    if (pl->status != 0) {
        return 2; /* the child said why */
    }
    const int selected = pl->selected;
    if (selected == 0) {
        char families[512];
        pmb_family_summary(families, sizeof(families));
        fprintf(stderr, "pymembench: no case matches the filter '%s'; the families are %s; "
                        "run pymembench --list for every name\n", o->filter, families);
        return 2;
    }
    gbs_manual_watch(on_loop);
    int done_rows = 0;
    for (size_t i = 0; i < pmb_nrows(); i++) {
        if (pl->iterations[i] < 0) {
            continue;
        }
        fprintf(stderr, "pymembench: [%d/%d] %s\n", ++done_rows, selected, pmb_row_name(i));
        if (pmb_row_case(i)->real_time) {
            reps[i].rc = PMB_SKIP;
            snprintf(reps[i].why, sizeof(reps[i].why), "skipped: its work runs on other "
                     "threads; callgrind counts the measuring thread only, and thread "
                     "interleaving does not repeat");
            continue;
        }
        row_arg arg = {i, pl->iterations[i], o};
        row_in_child(&arg, &reps[i]);
    }
    /* Only now the context and the report: the commit label, the output
     * path, the date and the load average they hold would otherwise be in
     * the heap every row's child starts from (a label 6 characters longer
     * moved 9 malloc-bound cases, one by 5%). */
    gbs_manual_watch(NULL);
    if (o->add_context != NULL && o->add_context(o->context_arg) < 0) {
        return 2;
    }
    if (gbs_report_begin(o->out) < 0) {
        fprintf(stderr, "pymembench: cannot write %s: check the folder exists and is "
                        "writable\n", o->out);
        return 2;
    }
    for (size_t i = 0; i < pmb_nrows(); i++) {
        if (pl->iterations[i] < 0) {
            continue;
        }
        const row_report *r = &reps[i];
        gbs_row row = {.name = pmb_row_name(i), .ncounters = 0, .counter_names = names};
        double values[2];
        if (r->rc == 0 && r->iterations > 0) {
            values[0] = (double)r->instructions / (double)r->iterations;
            values[1] = (double)r->instructions;
            row.iterations = r->iterations;
            row.real_seconds = r->real_seconds;
            row.cpu_seconds = r->cpu_seconds;
            row.ncounters = 2;
            row.counter_values = values;
        }
        else {
            row.error = r->why[0] ? r->why : "no iteration ran";
            failures += r->rc != PMB_SKIP;
        }
        gbs_report_row(&row);
    }
    munmap(reps, reps_size);
    munmap(pl, plan_size);
    if (gbs_report_end() < 0) {
        fprintf(stderr, "pymembench: could not write the results whole (%s)\n", o->out);
        return 2;
    }
    if (failures > 0) {
        fprintf(stderr, "pymembench: %d case(s) failed; see error_message in the results\n",
                failures);
        return 1;
    }
    return 0;
}
