/* instr.c - instruction counts per iteration under callgrind (see instr.h).
 *
 * Why it repeats: callgrind counts guest instructions, not time; the hash
 * seed is fixed (pyx_fix_hash_seed), the counting hook is off, each row
 * runs one iteration first (warming what a first run fills), and its
 * iteration count is chosen from that iteration's count (or read from an
 * earlier run with --iterations-from, so that two runs compare the same
 * loops). And every row's child forks from a heap that holds nothing of
 * variable length: the filter, the --iterations-from table, the context
 * and the report stay out of it (choose_rows, instr_run), and the
 * bookkeeping of the rows' children running at once (--jobs) is in fixed
 * arrays (count_rows), so the heap is the same whatever the number of jobs.
 */
#define _GNU_SOURCE
#include "instr.h"

#include "cases.h"
#include "clock.h"
#include "child.h"
#include "gbshim.h"
#include "pins.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
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

/* The callgrind output prefix, kept out of the environment (instr_fix_env). */
static char cg_out[4096];

int
instr_in_callgrind(void)
{
    const char *out = getenv(OUT_ENV);
    return RUNNING_ON_VALGRIND && out != NULL && *out != '\0';
}

void
instr_fix_env(void)
{
    const char *out = getenv(OUT_ENV);
    snprintf(cg_out, sizeof(cg_out), "%s", out != NULL ? out : "");
    unsetenv(OUT_ENV);
}

/* ---- The relaunch under callgrind (the outer process) ---- */

/* What instr_relaunch hands valgrind, and what it tidies after. */
typedef struct launch {
    char exe[4096];     /* this program, by the path of its file */
    char out[4096];     /* the callgrind output prefix */
    int made;           /* out's folder is a temporary one of ours */
    char flag[4200];    /* --callgrind-out-file=... */
    char *env_flags[2]; /* BENCHMARK_OUT, BENCHMARK_FILTER as flags */
    char **args;        /* valgrind's command line */
} launch;

/* The callgrind output file prefix: PROFILES/callgrind.out, or one in a
 * fresh temporary folder (*made is then set). 0 or -1. */
static int
out_prefix(const char *profiles, char *buf, size_t len, int *made)
{
    *made = 0;
    if (profiles != NULL) {
        if (mkdir(profiles, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr,
                    "pymembench: cannot create %s: %s; give "
                    "--instructions-profiles a "
                    "writable folder\n",
                    profiles, strerror(errno));
            return -1;
        }
        snprintf(buf, len, "%s/callgrind.out", profiles);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/pymembench-cg.XXXXXX",
             tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(buf) == NULL) {
        fprintf(stderr,
                "pymembench: cannot create a temporary folder (%s); set "
                "TMPDIR to a "
                "writable folder\n",
                strerror(errno));
        return -1;
    }
    *made = 1;
    strncat(buf, "/callgrind.out", len - strlen(buf) - 1);
    return 0;
}

/* This program's file (valgrind needs a path, argv[0] may be a bare name).
 * 0, or -1 with a line on stderr. */
static int
self_path(char *exe, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", exe, len - 1);
    if (n <= 0) {
        fprintf(stderr, "pymembench: cannot find this program's path "
                        "(/proc/self/exe)\n");
        return -1;
    }
    exe[n] = '\0';
    return 0;
}

/* BENCHMARK_OUT and BENCHMARK_FILTER go on as flags (before the user's,
 * which win), not in the environment: Google Benchmark copies its
 * variables into the heap before main, so a path's length would reach
 * every count. 0, or -1 out of memory. */
static int
env_as_flags(launch *l)
{
    static const char *const as_flag[][2] = {{"BENCHMARK_OUT",
                                              "--benchmark_out="},
                                             {"BENCHMARK_FILTER",
                                              "--benchmark_filter="}};
    for (int k = 0; k < 2; k++) {
        const char *v = getenv(as_flag[k][0]);
        if (v == NULL || *v == '\0') {
            continue;
        }
        size_t len = strlen(as_flag[k][1]) + strlen(v) + 1;
        l->env_flags[k] = malloc(len);
        if (l->env_flags[k] == NULL) {
            return -1;
        }
        snprintf(l->env_flags[k], len, "%s%s", as_flag[k][1], v);
    }
    return 0;
}

/* valgrind's command line: callgrind, collection off until a row's loop
 * starts, then this program with the environment's flags and argv's.
 * 0, or -1 with a line on stderr. */
static int
launch_args(launch *l, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL) {
        argc++;
    }
    /* each process (one per row) writes OUT.<pid>.<dump> */
    snprintf(l->flag, sizeof(l->flag), "--callgrind-out-file=%s.%%p", l->out);
    l->args = calloc((size_t)argc + 10, sizeof(char *));
    if (l->args == NULL || env_as_flags(l) < 0) {
        fprintf(stderr, "pymembench: out of memory\n");
        return -1;
    }
    char **a = l->args;
    *a++ = "valgrind";
    *a++ = "--tool=callgrind";
    *a++ = "--quiet";
    *a++ = "--collect-atstart=no";
    *a++ = l->flag;
    *a++ = l->exe;
    for (int k = 0; k < 2; k++) {
        if (l->env_flags[k] != NULL) {
            *a++ = l->env_flags[k];
        }
    }
    for (int i = 1; i < argc; i++) {
        *a++ = argv[i];
    }
    *a = NULL;
    return 0;
}

/* In the forked child: exec valgrind in a fixed environment. Python copies
 * the environment into os.environ, so its size would shape the heap every
 * case starts from (UPDATE=1 in make regress's environment moved
 * lifetime/with/c_exit by 0.3%). */
static _Noreturn void
exec_valgrind(char *const *args, const char *out)
{
    static const char *const keep[] = {"PYMB_SELFTEST",
                                       "PYMB_SELFTEST_SLOWDOWN",
                                       "PYMB_FAULT_TRACE",
                                       "BENCHMARK_OUT_FORMAT"};
    static char outvar[4200];
    char *env[16];
    int e = 0;
    env[e++] = "PATH=/usr/bin:/bin";
    env[e++] = "LC_ALL=C.UTF-8";
    snprintf(outvar, sizeof(outvar), "%s=%s", OUT_ENV, out);
    env[e++] = outvar;
    for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
        const char *v = getenv(keep[k]);
        size_t len = v != NULL ? strlen(keep[k]) + strlen(v) + 2 : 0;
        char *kv = len > 0 ? malloc(len) : NULL;
        if (kv != NULL) {
            snprintf(kv, len, "%s=%s", keep[k], v);
            env[e++] = kv;
        }
    }
    env[e] = NULL;
    execvpe(args[0], args, env);
    fprintf(stderr,
            "pymembench: --instructions needs valgrind, which cannot be run "
            "(%s); "
            "install it: apt-get install valgrind\n",
            strerror(errno));
    _exit(2);
}

static volatile pid_t child; /* the callgrind run, while it runs */

static void
forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

/* Wait for the callgrind run: its exit status, 128+N when it died of
 * signal N (said unless it was Ctrl-C or SIGTERM), 2 when it was lost. */
static int
wait_valgrind(pid_t pid)
{
    int status, rc = 2;
    pid_t got;
    child = pid;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    child = 0;
    if (got == pid && WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    }
    else if (got == pid && WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
        if (WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGTERM) {
            fprintf(stderr, "pymembench: the callgrind run died of %s\n",
                    pmb_signal_name(WTERMSIG(status)));
        }
    }
    return rc;
}

/* Run valgrind and wait. Ctrl-C reaches the child too (same process
 * group), so this process ignores it; SIGTERM and SIGHUP sent to this
 * process alone are passed on. Either way the parent outlives the child,
 * to tidy up and report (the handlers stay: only that is left to do). */
static int
run_valgrind(char *const *args, const char *out)
{
    struct sigaction fwd = {.sa_handler = forward},
                     ign = {.sa_handler = SIG_IGN};
    struct sigaction old_int, old_term, old_hup;
    sigemptyset(&fwd.sa_mask);
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        exec_valgrind(args, out);
    }
    if (pid < 0) {
        fprintf(stderr, "pymembench: cannot start valgrind: %s\n",
                strerror(errno));
        return 2;
    }
    return wait_valgrind(pid);
}

/* Free l, and remove the profiles left in its output folder: callgrind's
 * dumps at exit hold nothing (collection was off); a run that died may
 * leave its last dump. Our temporary folder goes too. */
static void
launch_clear(launch *l)
{
    free(l->args);
    free(l->env_flags[0]);
    free(l->env_flags[1]);
    *strrchr(l->out, '/') = '\0';
    DIR *d = opendir(l->out);
    struct dirent *e;
    char dump[4400];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "callgrind.out.", 14) == 0) {
            snprintf(dump, sizeof(dump), "%s/%s", l->out, e->d_name);
            unlink(dump);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    if (l->made && rmdir(l->out) != 0) {
        fprintf(stderr, "pymembench: left %s (not empty)\n", l->out);
    }
}

int
instr_relaunch(char **argv, const char *profiles)
{
    launch l;
    memset(&l, 0, sizeof(l));
    if (self_path(l.exe, sizeof(l.exe)) < 0 ||
        out_prefix(profiles, l.out, sizeof(l.out), &l.made) < 0) {
        return 2; /* nothing made yet */
    }
    int rc = launch_args(&l, argv) < 0 ? 2 : run_valgrind(l.args, l.out);
    launch_clear(&l);
    return rc;
}

/* ---- Choosing the rows (in a child of the callgrind process) ---- */

/* The plan: which rows run, for how many iterations (0: calibrate; -1:
 * not selected). Made in a child, so that the filter's regex and the
 * --iterations-from file never touch the parent's heap: every row's
 * child then starts from the same state whatever the filter and the
 * iteration source (they moved malloc-heavy cases by up to 3.4%). */
typedef struct plan {
    int status; /* 0, or 2 when the child said what is wrong */
    int selected;
    int64_t iterations[];
} plan;

/* Rows are selected by the name Google Benchmark reports (wall-clock
 * cases end in /real_time), as a timed run would select them. */
static void
plan_body(void *arg, void *report)
{
    const instr_options *o = arg;
    plan *p = report;
    const long n = pmb_select_rows(o->filter, p->iterations);
    p->status = n < 0 || (o->iterations_from != NULL &&
                          pins_read(o->iterations_from, p->iterations) < 0)
                    ? 2
                    : 0;
    p->selected = n > 0 ? (int)n : 0;
    if (p->status == 0 && p->selected == 0) {
        pmb_say_no_match(o->filter, "case", "pymembench --list");
        p->status = 2;
    }
}

/* Fill pl (size bytes, outside malloc's heap) in a child. 0, or -1 with
 * a line on stderr (the child's, or ours when it did not report). */
static int
choose_rows(const instr_options *o, plan *pl, size_t size)
{
    child_end end;
    if (child_run(plan_body, (void *)o, pl, size, 60, &end) < 0 || !end.ok) {
        fprintf(stderr, "pymembench: cannot choose the rows (fork failed or "
                        "the child died)\n");
        return -1;
    }
    return pl->status == 0 ? 0 : -1;
}

/* ---- Counting a row (in a child of the callgrind process) ---- */

/* The counted region: the watch (gbs_manual_watch) toggles collection at
 * the loop's edges, and times it. Clocks are read outside the collected
 * part. Only rows' children run loops, and every round of theirs counts. */
static double real_sum, cpu_sum, real_at, cpu_at;

static void
on_loop(int running)
{
    if (running) {
        real_at = pmb_seconds(CLOCK_MONOTONIC);
        cpu_at = pmb_seconds(CLOCK_THREAD_CPUTIME_ID);
        CALLGRIND_TOGGLE_COLLECT;
    }
    else {
        CALLGRIND_TOGGLE_COLLECT;
        cpu_sum += pmb_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_at;
        real_sum += pmb_seconds(CLOCK_MONOTONIC) - real_at;
    }
}

static unsigned dumps; /* callgrind numbers its dumps from 1 */

/* The instruction total in the dump at `path`, which must be `name`'s.
 * 0, or -1 with a line on stderr. */
static int
dump_total(const char *path, const char *name, uint64_t *total)
{
    char line[512], want[400];
    int found = 0, named = 0;
    snprintf(want, sizeof(want), "desc: Trigger: Client Request: %s\n", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pymembench: callgrind wrote no profile %s for %s\n",
                path, name);
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
        fprintf(stderr,
                "pymembench: %s is not callgrind's profile of %s (no %s)\n",
                path, name, found ? "trigger line" : "totals line");
        return -1;
    }
    return 0;
}

/* Keep the profile at `path` as PROFILES/<name, '/' as '.'>.callgrind.
 * 0, or -1 with a line on stderr. */
static int
keep_profile(const char *path, const char *name, const char *profiles)
{
    char kept[4400];
    int n = snprintf(kept, sizeof(kept), "%s/", profiles);
    for (const char *s = name; *s && (size_t)n < sizeof(kept) - 16; s++) {
        kept[n++] = *s == '/' ? '.' : *s;
    }
    snprintf(kept + n, sizeof(kept) - (size_t)n, ".callgrind");
    if (rename(path, kept) != 0) {
        fprintf(stderr, "pymembench: cannot keep the profile as %s: %s\n",
                kept, strerror(errno));
        return -1;
    }
    return 0;
}

/* Read the instruction total of the dump just made for `name`; keep the
 * profile in `profiles` (or remove it). 0, or -1 with a line on stderr. */
static int
read_dump(const char *name, const char *profiles, uint64_t *total)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s.%ld.%u", cg_out, (long)getpid(), ++dumps);
    int rc = dump_total(path, name, total);
    if (rc == 0 && profiles == NULL) {
        unlink(path);
    }
    else if (rc == 0) {
        rc = keep_profile(path, name, profiles);
    }
    return rc;
}

/* One counted round of row i, `iterations` long: instructions into *instr
 * (the profile kept in `profiles` when given), the loop's iterations into
 * *done. Returns pmb_run_row's result (0, PMB_SKIP, -1) with *why; or -1
 * when the count could not be read. */
static int
round_of(size_t i, int64_t iterations, const char *profiles, uint64_t *instr,
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
static int64_t
choose_iterations(uint64_t one, double target)
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

static sigset_t row_mask; /* the signal mask a row's child runs with */

static void
row_body(void *varg, void *vreport)
{
    const row_arg *a = varg;
    row_report *r = vreport;
    const char *why = NULL;
    sigprocmask(SIG_SETMASK, &row_mask, NULL); /* blocked by start_row */
    uint64_t instr = 0;
    int64_t done = 0, n = a->iterations;
    /* The first round (one iteration, counted) warms what a first run
     * fills (caches, free lists, pools) and sizes the second. It is
     * counted even when the size is given: reading a count allocates
     * (stdio), and malloc's state must be the same either way. */
    int rc = round_of(a->i, 1, NULL, &instr, &done, &why);
    if (rc == 0 && n == 0) {
        n = choose_iterations(instr / (uint64_t)(done > 0 ? done : 1),
                              a->o->target);
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

/* The rows' children running at once (--jobs), in a fixed array: no
 * bookkeeping of theirs is in malloc's heap, which every row's child
 * forks from, so the counts do not depend on the number of jobs. */
typedef struct slot {
    child_proc proc; /* proc.pid > 0 while it runs */
    size_t row;
} slot;

_Static_assert(INSTR_MAX_JOBS <= CHILD_MAX_RUNNING, "one pipe per job");

static slot slots[INSTR_MAX_JOBS];
static volatile pid_t counting_parent;
static struct sigaction before[3];
static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* Ctrl-C, SIGTERM or SIGHUP in the parent: the running children go too
 * (a child sent the signal alone ends its own row only), and the parent
 * waits for them, then takes the signal as it would have (the result file
 * is removed, the process dies of it). */
static void
stop_children(int sig)
{
    for (int k = 0; getpid() == counting_parent && k < INSTR_MAX_JOBS; k++) {
        if (slots[k].proc.pid > 0) {
            kill(slots[k].proc.pid, sig);
        }
    }
    for (int k = 0; getpid() == counting_parent && k < INSTR_MAX_JOBS; k++) {
        if (slots[k].proc.pid > 0) {
            waitpid(slots[k].proc.pid, NULL, 0);
        }
    }
    for (int s = 0; s < 3; s++) {
        if (stop_signals[s] == sig) {
            sigaction(sig, &before[s], NULL);
        }
    }
    raise(sig); /* delivered once this handler returns */
}

/* Install stop_children (on) or put back what was there (off); a signal
 * this process ignores stays ignored. */
static void
catch_stops(int on)
{
    struct sigaction sa = {.sa_handler = stop_children};
    sigemptyset(&sa.sa_mask);
    counting_parent = getpid();
    for (int s = 0; s < 3; s++) {
        if (on) {
            sigaction(stop_signals[s], NULL, &before[s]);
        }
        if (before[s].sa_handler != SIG_IGN) {
            sigaction(stop_signals[s], on ? &sa : &before[s], NULL);
        }
    }
}

/* Start row i in a free slot; 1, or 0 when it could not be (its report
 * then says why). */
static int
start_row(const instr_options *o, const plan *pl, size_t i, row_report *reps)
{
    int k = 0, rc;
    sigset_t stops;
    row_arg arg = {i, pl->iterations[i], o}; /* the child's copy is read */
    while (slots[k].proc.pid > 0) {
        k++;
    }
    slots[k].row = i;
    /* a stop arriving now waits until the child is in its slot */
    sigemptyset(&stops);
    for (int s = 0; s < 3; s++) {
        sigaddset(&stops, stop_signals[s]);
    }
    sigprocmask(SIG_BLOCK, &stops, &row_mask);
    rc = child_start(row_body, &arg, &reps[i], sizeof(reps[i]), 1800,
                     &slots[k].proc);
    if (rc < 0) {
        reps[i].rc = -1;
        snprintf(reps[i].why, sizeof(reps[i].why), "cannot fork: %s",
                 strerror(errno));
    }
    sigprocmask(SIG_SETMASK, &row_mask, NULL);
    return rc == 0;
}

/* Wait until one of the running children ends; its report into reps, and
 * what callgrind left of it removed. A crashed child's row says so. */
static void
finish_one(row_report *reps)
{
    struct pollfd fds[INSTR_MAX_JOBS];
    int at[INSTR_MAX_JOBS], n = 0, k = -1;
    for (int j = 0; j < INSTR_MAX_JOBS; j++) {
        if (slots[j].proc.pid > 0) {
            fds[n] = (struct pollfd){.fd = slots[j].proc.fd, .events = POLLIN};
            at[n++] = j;
        }
    }
    while (k < 0) {
        if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR) {
            k = at[0]; /* cannot poll: wait for the first */
        }
        for (int j = 0; k < 0 && j < n; j++) {
            k = fds[j].revents != 0 ? at[j] : -1;
        }
    }
    row_report *rep = &reps[slots[k].row];
    child_end end;
    child_finish(&slots[k].proc, rep, sizeof(*rep), &end);
    /* the child's final dump at exit, and any it did not read */
    char path[4200];
    for (unsigned d = 0; d <= 2; d++) {
        snprintf(path, sizeof(path), d ? "%s.%d.%u" : "%s.%d", cg_out, end.pid,
                 d);
        unlink(path);
    }
    if (!end.ok) {
        memset(rep, 0, sizeof(*rep));
        rep->rc = -1;
        if (end.signal != 0) {
            snprintf(rep->why, sizeof(rep->why), "crashed: %s",
                     pmb_signal_name(end.signal));
        }
        else {
            snprintf(rep->why, sizeof(rep->why),
                     "its process exited with status %d", end.status);
        }
    }
}

/* A row callgrind cannot count repeatably: said in its report. */
static int
skip_row(size_t i, row_report *rep)
{
    if (!pmb_row_case(i)->real_time) {
        return 0;
    }
    rep->rc = PMB_SKIP;
    snprintf(rep->why, sizeof(rep->why),
             "skipped: its work runs on other threads; callgrind counts the "
             "measuring thread only, and thread interleaving does not repeat");
    return 1;
}

/* Count every row the plan selected, each in its own child, up to `jobs`
 * at once, into reps (indexed by row): the report is the same whatever
 * order they end in. */
static void
count_rows(const instr_options *o, const plan *pl, row_report *reps, int jobs)
{
    int shown = 0, now = 0;
    size_t i = 0;
    gbs_manual_watch(on_loop);
    catch_stops(1);
    while (i < pmb_nrows() || now > 0) {
        if (i == pmb_nrows() || now == jobs) {
            finish_one(reps);
            now--;
            continue;
        }
        if (pl->iterations[i] >= 0) {
            fprintf(stderr, "pymembench: [%d/%d] %s\n", ++shown, pl->selected,
                    pmb_row_name(i));
            now += skip_row(i, &reps[i]) ? 0 : start_row(o, pl, i, reps);
        }
        i++;
    }
    catch_stops(0);
    gbs_manual_watch(NULL);
}

/* ---- The report (after every row ran) ---- */

/* Row i's result, r, in Google Benchmark's formats. 1 when it failed (a
 * skip is no failure), else 0. */
static int
report_row(size_t i, const row_report *r)
{
    static const char *const names[] = {"instructions_per_iter",
                                        "instructions"};
    gbs_row row = {.name = pmb_row_name(i),
                   .ncounters = 0,
                   .counter_names = names};
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
    }
    gbs_report_row(&row);
    return row.error != NULL && r->rc != PMB_SKIP;
}

/* The context, then the selected rows. Only now: the commit label, the
 * output path, the date and the load average they hold would otherwise be
 * in the heap every row's child starts from (a label 6 characters longer
 * moved 9 malloc-bound cases, one by 5%). 0 all passed, 1 some failed, 2
 * when the results could not be written (said on stderr). */
static int
write_report(const instr_options *o, const plan *pl, const row_report *reps)
{
    int failures = 0;
    if (o->add_context != NULL && o->add_context(o->context_arg) < 0) {
        return 2; /* it said why */
    }
    if (gbs_report_begin(o->out) < 0) {
        fprintf(stderr,
                "pymembench: cannot write %s: check the folder exists and is "
                "writable\n",
                o->out);
        return 2;
    }
    for (size_t i = 0; i < pmb_nrows(); i++) {
        failures += pl->iterations[i] >= 0 ? report_row(i, &reps[i]) : 0;
    }
    if (gbs_report_end() < 0) {
        fprintf(stderr, "pymembench: could not write the results whole (%s)\n",
                o->out);
        return 2;
    }
    if (failures > 0) {
        fprintf(stderr,
                "pymembench: %d case(s) failed; see error_message in the "
                "results\n",
                failures);
        return 1;
    }
    return 0;
}

/* The cores this process may run on (nproc), at most INSTR_MAX_JOBS. */
static int
cores(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    return n < 1 ? 1 : n > INSTR_MAX_JOBS ? INSTR_MAX_JOBS : n;
}

/* Memory outside malloc's heap (anonymous pages), zeroed; NULL on failure:
 * the plan and the rows' reports, sized by the number of rows. */
static void *
pages(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

int
instr_run(const instr_options *o)
{
    const size_t plan_size = sizeof(plan) + pmb_nrows() * sizeof(int64_t);
    const size_t reps_size = pmb_nrows() * sizeof(row_report);
    plan *pl = pages(plan_size);
    row_report *reps = pages(reps_size);
    int rc = 2;
    if (pl == NULL || reps == NULL) {
        fprintf(stderr, "pymembench: out of memory\n");
    }
    else if (choose_rows(o, pl, plan_size) == 0) {
        count_rows(o, pl, reps, o->jobs > 0 ? o->jobs : cores());
        rc = write_report(o, pl, reps);
    }
    if (pl != NULL) {
        munmap(pl, plan_size);
    }
    if (reps != NULL) {
        munmap(reps, reps_size);
    }
    return rc;
}
