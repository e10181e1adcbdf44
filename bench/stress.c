/* stress.c - stress runs and fault injection; see stress.h.
 *
 * The parent never runs a case: it forks one child per stress case and one
 * per fault point. A child runs with the interpreter, the registrations
 * and the counting hook it inherited, writes one fixed-size report into a
 * pipe and leaves with _exit (no finalization: the parent owns that). Its
 * stderr goes to a scratch file, shown when it crashes.
 */
#include "stress.h"

#include "build_info.h"
#include "cases.h"
#include "child.h"
#include "exporter.h"
#include "memhook.h"
#include "procmem.h"
#include "pyx.h"
#include "resource.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What a case must hold across rounds (see stress.h). */
typedef struct snap {
    int64_t live_blocks;
    int64_t live_bytes;
    uint64_t rss;
    int have_refs; /* a debug interpreter: sys.gettotalrefcount() */
    int64_t refs;
    int64_t resources;
    int64_t double_releases;
    int64_t exports;
} snap;

/* A stress child's report. */
typedef struct case_report {
    int rounds;           /* measured rounds (after the calibration) */
    int warmup_rounds;    /* calibration rounds */
    int64_t iterations;   /* per row per measured round */
    int rows;             /* rows run (params) */
    int skipped;          /* rows that skipped (the feature is missing) */
    double seconds;
    uint64_t peak_rss;
    int64_t leaked_blocks; /* last measured round minus the first */
    int64_t leaked_bytes;
    int64_t rss_growth;
    int have_refs;
    int64_t refs_growth;
    int64_t fault_sequence; /* requests in one run of fault_row */
    size_t fault_row;       /* the first row that ran */
    char skip_reason[200];
    char broken[600];       /* the first invariant broken, or "" */
} case_report;

enum { FAULT_ABSORBED, FAULT_MEMORY_ERROR, FAULT_FAILED, FAULT_SKIPPED, FAULT_NOT_REACHED };

static const char *const outcome_names[] = {"absorbed", "MemoryError", "failed cleanly",
                                            "skipped", "not reached"};

/* A fault child's report. */
typedef struct fault_report {
    int outcome;
    int64_t residue_blocks; /* left by the first faulted run */
    int64_t leaked_blocks;  /* left by the second */
    int64_t leaked_bytes;
    int64_t resources;
    int64_t double_releases;
    int64_t exports;
    char why[300];
} fault_report;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* sys.gettotalrefcount(), on debug builds only. 0, or -1 without it. */
static int total_refs(int64_t *out)
{
    PyObject *f = PySys_GetObject("gettotalrefcount"); /* borrowed */
    if (f == NULL) {
        PyErr_Clear();
        return -1;
    }
    PyObject *n = PyObject_CallObject(f, NULL);
    if (n == NULL) {
        PyErr_Clear();
        return -1;
    }
    *out = PyLong_AsLongLong(n);
    Py_DECREF(n);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static void take_snap(snap *s)
{
    memhook_counts c;
    uint64_t peak;
    /* The type attribute cache keeps up to 4096 attribute names alive,
     * hashed by address: every PyObject_GetAttrString with a fresh string
     * adds one until the cache is full. Not a leak; emptied here. */
    PyType_ClearCache();
    PyGC_Collect();
    PyErr_Clear();
    memhook_read_total(&c);
    s->live_blocks = (int64_t)c.live_blocks;
    s->live_bytes = (int64_t)c.live_bytes;
    if (procmem_read(&s->rss, &peak) < 0) {
        s->rss = 0;
    }
    s->have_refs = total_refs(&s->refs) == 0;
    s->resources = res_get()->live;
    s->double_releases = res_get()->double_releases;
    s->exports = exporter_get()->live;
}

/* Append to a fixed buffer, truncating. */
static void say(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The stress rounds of rows [lo, hi), in the child. */
static void stress_rows(size_t lo, size_t hi, const stress_options *o, case_report *rep)
{
    const char *why = "";
    snap start, base = {0}, last = {0};
    int64_t iters = 1;
    const double t0 = now_seconds();
    const double round_target = o->seconds / 10 > 0.002 ? o->seconds / 10 : 0.002;
    int measured = 0;
    int warm = 0;
    int grew = 0; /* round-to-round intervals in which live blocks grew */

    take_snap(&start);
    procmem_reset_peak();
    for (;;) {
        const double r0 = now_seconds();
        int ran = 0;
        rep->skipped = 0;
        for (size_t i = lo; i < hi; i++) {
            int rc = pmb_run_row(i, iters, &why);
            if (rc < 0) {
                say(rep->broken, sizeof(rep->broken), "the case's check failed (%s, %lld "
                    "iterations, round %d): %s", pmb_row_name(i), (long long)iters,
                    rep->warmup_rounds + measured + 1, why);
                goto out;
            }
            if (rc == PMB_SKIP) {
                rep->skipped++;
                say(rep->skip_reason, sizeof(rep->skip_reason), "%s", why);
            }
            else {
                ran++;
            }
        }
        rep->rows = ran;
        if (ran == 0) {
            goto out; /* every param skipped: nothing to stress */
        }
        const double took = now_seconds() - r0;
        if (measured == 0 && took < round_target && iters < ((int64_t)1 << 40)) {
            iters *= 2; /* still calibrating: the round is too short */
            rep->warmup_rounds++;
            continue;
        }
        if (measured == 0 && !warm) {
            /* one round at the final size before the first measured one:
             * freelists and malloc's adaptive thresholds settle in it */
            warm = 1;
            rep->warmup_rounds++;
            continue;
        }
        const int64_t prev_blocks = last.live_blocks;
        take_snap(&last);
        if (measured == 0) {
            base = last;
        }
        else if (last.live_blocks > prev_blocks) {
            grew++;
        }
        measured++;
        if (measured >= 3 && now_seconds() - t0 >= o->seconds) {
            break;
        }
    }
    rep->rounds = measured;
    rep->iterations = iters;
    rep->leaked_blocks = last.live_blocks - base.live_blocks;
    rep->leaked_bytes = last.live_bytes - base.live_bytes;
    rep->rss_growth = (int64_t)last.rss - (int64_t)base.rss;
    rep->have_refs = last.have_refs && base.have_refs;
    rep->refs_growth = rep->have_refs ? last.refs - base.refs : 0;
    const int64_t rss_slack = (int64_t)base.rss * STRESS_RSS_SLACK_PCT / 100 >
                                      STRESS_RSS_SLACK_BYTES
                                  ? (int64_t)base.rss * STRESS_RSS_SLACK_PCT / 100
                                  : STRESS_RSS_SLACK_BYTES;
    /* A leak grows the live blocks in most rounds; a table that grew once
     * (crossed a size) or a cache that filled does not. */
    if (rep->leaked_blocks > 0 && 2 * grew > measured - 1) {
        say(rep->broken, sizeof(rep->broken), "allocations balanced: %lld blocks (%lld "
            "bytes) more live after round %d than after round 1, growing in %d of %d rounds",
            (long long)rep->leaked_blocks, (long long)rep->leaked_bytes, measured, grew,
            measured - 1);
    }
    else if (rep->rss_growth > rss_slack) {
        say(rep->broken, sizeof(rep->broken), "RSS bounded: grew %.1f MiB from round 1 to "
            "round %d (tolerance %.1f MiB)", (double)rep->rss_growth / 1048576.0, measured,
            (double)rss_slack / 1048576.0);
    }
    else if (last.resources != start.resources) {
        say(rep->broken, sizeof(rep->broken), "resources released: %lld left alive",
            (long long)(last.resources - start.resources));
    }
    else if (last.double_releases != start.double_releases) {
        say(rep->broken, sizeof(rep->broken), "finalizers run exactly once: %lld resources "
            "released twice", (long long)(last.double_releases - start.double_releases));
    }
    else if (last.exports != start.exports) {
        say(rep->broken, sizeof(rep->broken), "exports released: %lld buffer exports left",
            (long long)(last.exports - start.exports));
    }
    else if (rep->have_refs && rep->refs_growth != 0) {
        say(rep->broken, sizeof(rep->broken), "refcounts balanced: sys.gettotalrefcount() "
            "moved by %+lld from round 1 to round %d", (long long)rep->refs_growth, measured);
    }
    /* The allocation sequence fault injection spreads its points over:
     * one run of the first param that ran (a skipped one cannot be). */
    size_t first = lo;
    memhook_fail(o->fault_mask, UINT64_MAX, 0);
    int rc = PMB_SKIP;
    for (; first < hi && rc == PMB_SKIP; first++) {
        rc = pmb_run_row(first, 1, &why);
    }
    uint64_t seen, failed;
    memhook_fail_read(&seen, &failed);
    memhook_fail(0, 0, 0);
    rep->fault_row = first - 1;
    if (rc == 0) {
        rep->fault_sequence = (int64_t)seen;
    }
    else if (rep->broken[0] == '\0') {
        say(rep->broken, sizeof(rep->broken), "the case's check failed in the run that counts "
            "its allocations for fault injection (%s): %s", pmb_row_name(first - 1), why);
    }
out:
    rep->seconds = now_seconds() - t0;
    procmem_process_peak(&rep->peak_rss);
}

/* One fault point in the child: a warm run, then three runs whose
 * `point`-th request fails. The first may leave a one-time residue (a
 * cache its error path filled, a table that crossed a size and grew);
 * a leak on the error path recurs: it is what both later runs left live
 * (the smaller of the two). */
static void fault_row(size_t row, uint64_t point, unsigned mask, fault_report *rep)
{
    const char *why;
    snap before, between, second, after;
    uint64_t seen = 0, failed = 0;
    if (pmb_run_row(row, 1, &why) != 0) {
        rep->outcome = FAULT_SKIPPED;
        say(rep->why, sizeof(rep->why), "the warm-up run did not pass: %s", why);
        return;
    }
    take_snap(&before);
    if (getenv("PYMB_FAULT_TRACE") != NULL) {
        printf("fault at request %llu of %s:\n", (unsigned long long)point, pmb_row_name(row));
        fflush(stdout);
        memhook_fail_trace(1);
    }
    int rc = 0;
    for (int pass = 0; pass < 3; pass++) {
        memhook_fail(mask, point, 0);
        int r = pmb_run_row(row, 1, &why);
        memhook_fail_read(&seen, &failed);
        memhook_fail(0, 0, 0);
        if (pass == 0) {
            rc = r;
            say(rep->why, sizeof(rep->why), "%s", why);
            rep->outcome = failed == 0                  ? FAULT_NOT_REACHED
                           : rc == 0                    ? FAULT_ABSORBED
                           : rc == PMB_SKIP             ? FAULT_SKIPPED
                           : strstr(why, "MemoryError") ? FAULT_MEMORY_ERROR
                                                        : FAULT_FAILED;
            take_snap(&between);
        }
        else if (pass == 1) {
            take_snap(&second);
        }
    }
    memhook_fail_trace(-1);
    take_snap(&after);
    rep->residue_blocks = between.live_blocks - before.live_blocks;
    const int64_t grew2 = second.live_blocks - between.live_blocks;
    const int64_t grew3 = after.live_blocks - second.live_blocks;
    if (grew2 > 0 && grew3 > 0) {
        rep->leaked_blocks = grew2 < grew3 ? grew2 : grew3;
        rep->leaked_bytes = after.live_bytes - second.live_bytes;
    }
    rep->resources = after.resources - before.resources;
    rep->double_releases = after.double_releases - before.double_releases;
    rep->exports = after.exports - before.exports;
}

/* The children's stderr: a scratch file, shown when one crashes. */
static FILE *scratch;

typedef struct rows_arg {
    size_t lo, hi;
    const stress_options *o;
} rows_arg;

static void stress_body(void *arg, void *report)
{
    const rows_arg *a = arg;
    stress_rows(a->lo, a->hi, a->o, report);
}

typedef struct fault_arg {
    size_t row;
    uint64_t point;
    unsigned mask;
} fault_arg;

static void fault_body(void *arg, void *report)
{
    const fault_arg *a = arg;
    fault_row(a->row, a->point, a->mask, report);
}

/* The JSON report, kept as text: one object per case. */
static char **records;
static size_t nrecords;

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        }
        else if (ch < 0x20 || ch >= 0x7f) {
            fprintf(f, "\\u%04x", ch); /* bytes, never a split UTF-8 sequence */
        }
        else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

static void json_string_or_null(FILE *f, const char *s)
{
    if (s != NULL && s[0] != '\0') {
        json_string(f, s);
    }
    else {
        fputs("null", f);
    }
}

/* Rewrite the report (a temporary file renamed into place, with Ctrl-C
 * held off meanwhile): always whole. */
static int write_report(const stress_options *o, int finished)
{
    char tmp[4200];
    sigset_t block, old;
    if (o->out == NULL) {
        return 0;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", o->out, (long)getpid());
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    int rc = -1;
    FILE *f = fopen(tmp, "w");
    if (f != NULL) {
        fprintf(f, "{\n  \"context\": {\n    \"python_version\": ");
        json_string(f, PY_VERSION);
        fprintf(f, ",\n    \"python_tag\": ");
        json_string(f, PYMB_TAG);
        fprintf(f, ",\n    \"python_executable\": ");
        json_string(f, PYMB_PYTHON_EXECUTABLE);
        fprintf(f, ",\n    \"pymembench_commit\": ");
        json_string(f, PYMB_COMMIT);
        fprintf(f, ",\n    \"stress_seconds\": %g,\n    \"fault_points\": %d,\n"
                   "    \"fault_domains\": %u,\n    \"rss_slack_bytes\": %d,\n"
                   "    \"rss_slack_pct\": %d,\n    \"finished\": %s\n  },\n  \"cases\": [",
                o->seconds, o->fault_points, o->fault_mask, STRESS_RSS_SLACK_BYTES,
                STRESS_RSS_SLACK_PCT, finished ? "true" : "false");
        for (size_t i = 0; i < nrecords; i++) {
            fprintf(f, "%s\n    %s", i ? "," : "", records[i]);
        }
        fprintf(f, "\n  ]\n}\n");
        rc = fclose(f) == 0 && rename(tmp, o->out) == 0 ? 0 : -1;
        if (rc < 0) {
            remove(tmp);
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* The filter, compiled; `negate` for a leading '-'. */
typedef struct filter {
    int on;
    int negate;
    regex_t re;
} filter;

static int wanted(const filter *flt, const char *stress_name, size_t lo, size_t hi)
{
    if (!flt->on) {
        return 1;
    }
    int hit = regexec(&flt->re, stress_name, 0, NULL, 0) == 0;
    for (size_t i = lo; i < hi && !hit; i++) {
        hit = regexec(&flt->re, pmb_row_name(i), 0, NULL, 0) == 0;
    }
    return hit != flt->negate;
}

/* The stress case starting at row lo: its rows end at the returned index
 * (a case's params are consecutive rows), its name goes into `name`. */
static size_t next_case(size_t lo, char *name, size_t len)
{
    const size_t n = pmb_nrows();
    size_t hi = lo + 1;
    while (hi < n && pmb_row_case(hi) == pmb_row_case(lo)) {
        hi++;
    }
    snprintf(name, len, "stress/%s/%s", pmb_row_family(lo), pmb_row_case(lo)->name);
    return hi;
}

typedef struct totals {
    int cases, crashed, broken, skipped;
    int64_t rounds, leaked_blocks, leaked_bytes;
    int points, fault_crashed, fault_leaked;
    int outcomes[5];
} totals;

/* Fault injection over one case's row: one child per point. Writes the
 * "faults" JSON member to `json`; returns how many points crashed or left
 * something behind. */
static int inject_faults(const stress_options *o, const char *name, size_t row,
                         int64_t sequence, totals *t, FILE *json)
{
    int counts[5] = {0}, crashed = 0, leaked = 0, tried = 0;
    int64_t residue = 0;
    char first_bad[500] = "";
    int points = o->fault_points;
    if (sequence < points) {
        points = (int)sequence;
    }
    for (int k = 0; k < points; k++) {
        uint64_t point = points == 1 ? 1
                         : 1 + (uint64_t)k * (uint64_t)(sequence - 1) / (uint64_t)(points - 1);
        fault_arg a = {row, point, o->fault_mask};
        fault_report rep;
        child_end end;
        if (child_run(fault_body, &a, &rep, sizeof(rep), 120, &end) < 0) {
            say(first_bad, sizeof(first_bad), "cannot fork: %s", strerror(errno));
            crashed++;
            break;
        }
        tried++;
        if (!end.ok) {
            crashed++;
            if (first_bad[0] == '\0') {
                say(first_bad, sizeof(first_bad), "request %llu of %lld: crashed (%s)%s%s",
                    (unsigned long long)point, (long long)sequence,
                    end.signal ? pmb_signal_name(end.signal) : "exit without a report",
                    end.tail[0] ? ": " : "", end.tail);
            }
            continue;
        }
        counts[rep.outcome]++;
        residue += rep.residue_blocks > 0 ? rep.residue_blocks : 0;
        if (rep.leaked_blocks > 0 || rep.resources != 0 || rep.double_releases != 0 ||
            rep.exports != 0) {
            leaked++;
            if (first_bad[0] == '\0') {
                say(first_bad, sizeof(first_bad), "request %llu of %lld (%s: %s): %lld blocks "
                    "(%lld bytes) leaked by each repeat, %lld resources left, %lld released "
                    "twice, %lld exports left", (unsigned long long)point, (long long)sequence,
                    outcome_names[rep.outcome], rep.why, (long long)rep.leaked_blocks,
                    (long long)rep.leaked_bytes, (long long)rep.resources,
                    (long long)rep.double_releases, (long long)rep.exports);
            }
        }
    }
    t->points += tried;
    t->fault_crashed += crashed;
    t->fault_leaked += leaked;
    for (int i = 0; i < 5; i++) {
        t->outcomes[i] += counts[i];
    }
    printf("%-48s faults: %d points over %lld requests: %d MemoryError, %d failed cleanly, "
           "%d absorbed, %d skipped, %d not reached, %d crashed, %d leaked\n", name, tried,
           (long long)sequence, counts[FAULT_MEMORY_ERROR], counts[FAULT_FAILED],
           counts[FAULT_ABSORBED], counts[FAULT_SKIPPED], counts[FAULT_NOT_REACHED], crashed,
           leaked);
    if (first_bad[0] != '\0') {
        printf("%-48s   FAULT: %s\n", "", first_bad);
    }
    fprintf(json, ", \"faults\": {\"points\": %d, \"sequence\": %lld, \"memory_error\": %d, "
                  "\"failed\": %d, \"absorbed\": %d, \"skipped\": %d, \"not_reached\": %d, "
                  "\"crashed\": %d, \"leaked\": %d, \"first_run_residue_blocks\": %lld, "
                  "\"first_problem\": ",
            tried, (long long)sequence, counts[FAULT_MEMORY_ERROR], counts[FAULT_FAILED],
            counts[FAULT_ABSORBED], counts[FAULT_SKIPPED], counts[FAULT_NOT_REACHED], crashed,
            leaked, (long long)residue);
    json_string_or_null(json, first_bad);
    fputc('}', json);
    return crashed + leaked;
}

/* One stress case: rows [lo, hi). Prints its lines, keeps its record. */
static void one_case(const stress_options *o, const char *name, size_t lo, size_t hi,
                     totals *t)
{
    rows_arg a = {lo, hi, o};
    case_report rep;
    child_end end;
    char problem[700] = "";
    unsigned timeout = (unsigned)(o->seconds * 20) + 120;

    t->cases++;
    if (child_run(stress_body, &a, &rep, sizeof(rep), timeout, &end) < 0) {
        memset(&rep, 0, sizeof(rep));
        say(problem, sizeof(problem), "cannot fork: %s", strerror(errno));
    }
    else if (!end.ok) {
        memset(&rep, 0, sizeof(rep));
        t->crashed++;
        say(problem, sizeof(problem), "crashed: %s%s%s",
            end.signal ? pmb_signal_name(end.signal) : "exit without a report",
            end.tail[0] ? ": " : "", end.tail);
    }
    else if (rep.broken[0] != '\0') {
        say(problem, sizeof(problem), "%s", rep.broken);
    }
    const int skipped = problem[0] == '\0' && rep.rows == 0;
    char *text = NULL;
    size_t text_len = 0;
    FILE *json = open_memstream(&text, &text_len);
    if (json == NULL) {
        fprintf(stderr, "pymembench: out of memory for the report\n");
        exit(2);
    }
    fprintf(json, "{\"name\": ");
    json_string(json, name);
    fprintf(json, ", \"params\": %d, \"rounds\": %d, \"warmup_rounds\": %d, "
                  "\"iterations_per_round\": %lld, \"seconds\": %.3f, \"peak_rss_bytes\": %llu, "
                  "\"live_blocks_growth\": %lld, \"live_bytes_growth\": %lld, "
                  "\"rss_growth_bytes\": %lld, \"refs_growth\": ",
            rep.rows, rep.rounds, rep.warmup_rounds, (long long)rep.iterations, rep.seconds,
            (unsigned long long)rep.peak_rss, (long long)rep.leaked_blocks,
            (long long)rep.leaked_bytes, (long long)rep.rss_growth);
    if (rep.have_refs) {
        fprintf(json, "%lld", (long long)rep.refs_growth);
    }
    else {
        fputs("null", json);
    }
    fprintf(json, ", \"skipped\": ");
    json_string_or_null(json, skipped ? rep.skip_reason : NULL);
    fprintf(json, ", \"problem\": ");
    json_string_or_null(json, problem);

    if (skipped) {
        t->skipped++;
        printf("%-48s skipped: %s\n", name, rep.skip_reason);
    }
    else {
        char refs[64] = "";
        t->rounds += rep.rounds;
        if (strncmp(rep.broken, "allocations balanced", 20) == 0) {
            t->leaked_blocks += rep.leaked_blocks;
            t->leaked_bytes += rep.leaked_bytes;
        }
        if (rep.have_refs) {
            snprintf(refs, sizeof(refs), ", refs %+lld", (long long)rep.refs_growth);
        }
        printf("%-48s %3d rounds x %lld it, %6.2f s, peak RSS %6.1f MiB, live %+lld blocks "
               "(%+lld B), RSS %+.1f MiB%s: %s\n", name, rep.rounds, (long long)rep.iterations,
               rep.seconds, (double)rep.peak_rss / 1048576.0, (long long)rep.leaked_blocks,
               (long long)rep.leaked_bytes, (double)rep.rss_growth / 1048576.0, refs,
               problem[0] ? problem : "ok");
    }
    int bad = problem[0] != '\0';
    if (!bad && !skipped && o->fault_points > 0) {
        if (rep.fault_sequence > 0) {
            bad = inject_faults(o, name, rep.fault_row, rep.fault_sequence, t, json) > 0;
        }
        else {
            printf("%-48s faults: none injected (its run made no request in the chosen "
                   "domains)\n", name);
        }
    }
    t->broken += bad;
    fputc('}', json);
    if (fclose(json) != 0 || text == NULL) {
        fprintf(stderr, "pymembench: out of memory for the report\n");
        exit(2);
    }
    char **grown = realloc(records, (nrecords + 1) * sizeof(*records));
    if (grown == NULL) {
        fprintf(stderr, "pymembench: out of memory for the report\n");
        exit(2);
    }
    records = grown;
    records[nrecords++] = text;
    if (write_report(o, 0) < 0) {
        fprintf(stderr, "pymembench: warning: cannot write %s\n", o->out);
    }
    fflush(stdout);
}

void stress_list(void)
{
    const size_t n = pmb_nrows();
    char name[200];
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        printf("%-44s %s (%zu param%s)\n", name, pmb_row_case(lo)->doc, hi - lo,
               hi - lo == 1 ? "" : "s");
    }
}

int stress_run(const stress_options *o)
{
    filter flt = {0};
    const char *pattern = o->filter;
    if (pattern != NULL && *pattern != '\0') {
        flt.negate = pattern[0] == '-';
        if (regcomp(&flt.re, pattern + flt.negate, REG_EXTENDED | REG_NOSUB) != 0) {
            fprintf(stderr, "pymembench: the filter '%s' is not a valid regular expression\n",
                    pattern);
            return 2;
        }
        flt.on = 1;
    }
    scratch = tmpfile(); /* NULL: a crashed child's last words are lost, nothing else */
    child_set_scratch(scratch);
    if (scratch == NULL) {
        fprintf(stderr, "pymembench: warning: no scratch file (%s); crash reports will not "
                        "show the child's stderr\n", strerror(errno));
    }
    totals t = {0};
    const size_t n = pmb_nrows();
    int status = 0;
    /* Count first, so that a filter matching nothing writes nothing. */
    int selected = 0;
    char name[200];
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        selected += wanted(&flt, name, lo, hi);
    }
    if (selected == 0) {
        char families[512];
        pmb_family_summary(families, sizeof(families));
        fprintf(stderr, "pymembench: the filter '%s' matches no stress case; the families are "
                        "%s; run pymembench --stress --list for every name\n",
                pattern ? pattern : "", families);
        status = 2;
        goto done;
    }
    if (write_report(o, 0) < 0) {
        fprintf(stderr, "pymembench: cannot write %s: check the folder exists and is writable\n",
                o->out);
        status = 2;
        goto done;
    }
    fprintf(stderr, "pymembench: %d stress case(s), %.2g s each, %d fault point(s) each\n",
            selected, o->seconds, o->fault_points);
    const double t0 = now_seconds();
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        if (wanted(&flt, name, lo, hi)) {
            one_case(o, name, lo, hi, &t);
        }
    }
    if (write_report(o, 1) < 0) {
        fprintf(stderr, "pymembench: warning: cannot write %s\n", o->out);
    }
    printf("stress: %d cases (%d skipped), %lld rounds in %.0f s: %d broke an invariant "
           "(%d crashed); leaked %lld blocks (%lld bytes)\n", t.cases, t.skipped,
           (long long)t.rounds, now_seconds() - t0, t.broken, t.crashed,
           (long long)t.leaked_blocks, (long long)t.leaked_bytes);
    if (o->fault_points > 0) {
        printf("faults: %d points in %d cases: %d MemoryError, %d failed cleanly, %d absorbed, "
               "%d skipped, %d not reached, %d crashed, %d leaked\n", t.points,
               t.cases - t.skipped, t.outcomes[FAULT_MEMORY_ERROR], t.outcomes[FAULT_FAILED],
               t.outcomes[FAULT_ABSORBED], t.outcomes[FAULT_SKIPPED],
               t.outcomes[FAULT_NOT_REACHED], t.fault_crashed, t.fault_leaked);
    }
    status = t.broken > 0 ? 1 : 0;
done:
    if (flt.on) {
        regfree(&flt.re);
    }
    if (scratch != NULL) {
        child_set_scratch(NULL);
        fclose(scratch);
        scratch = NULL;
    }
    for (size_t i = 0; i < nrecords; i++) {
        free(records[i]);
    }
    free(records);
    records = NULL;
    nrecords = 0;
    return status;
}
