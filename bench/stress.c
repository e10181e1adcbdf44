/* stress.c - stress runs and fault injection; see stress.h.
 *
 * The parent never runs a case: it forks one child per stress case and one
 * per fault point. A child runs with the interpreter, the registrations
 * and the counting hook it inherited, writes one fixed-size report into a
 * pipe and leaves with _exit (no finalization: the parent owns that). Its
 * stderr goes to a scratch file, shown when it crashes.
 *
 * What a case may leave behind besides memory (resources alive, buffer
 * exports...) is whatever the fixtures registered as sentinels with the
 * engine (pmb_sentinel_at): this file names none of them. The report is
 * Google Benchmark's JSON, written by the shim: one row per stress case.
 */
#include "stress.h"

#include "cases.h"
#include "child.h"
#include "clock.h"
#include "filter.h"
#include "gbshim.h"
#include "memhook.h"
#include "procmem.h"
#include "program.h"
#include "pyx.h"
#include "stack.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- In the children: rounds, invariants, fault points ---- */

/* What a case must hold across rounds (see stress.h). */
typedef struct snap {
    int64_t live_blocks;
    int64_t live_bytes;
    uint64_t rss;
    int have_refs; /* a debug interpreter: sys.gettotalrefcount() */
    int64_t refs;
    int64_t left[PMB_MAX_SENTINELS]; /* each sentinel's count */
} snap;

/* A C stack as text in a report (pmb_stack_text). */
#define STACK_TEXT 1400

/* A stress child's report. */
typedef struct case_report {
    int rounds;          /* measured rounds (after the calibration) */
    int warmup_rounds;   /* calibration rounds */
    int64_t iterations;  /* of every row in one measured round */
    int64_t loops;       /* iterations of every row in every round */
    double loop_seconds; /* inside the timed loops, every round */
    int rows;            /* rows run (params) */
    int skipped;         /* rows that skipped (the feature is missing) */
    double seconds;
    double cpu_seconds;
    uint64_t peak_rss;
    int64_t leaked_blocks; /* last measured round minus the first */
    int64_t leaked_bytes;
    int64_t rss_growth;
    int have_refs;
    int64_t refs_growth;
    char refs_blind[120]; /* why refs_growth cannot be judged, or "" */
    int64_t left[PMB_MAX_SENTINELS]; /* sentinels: last round minus start */
    int64_t share;          /* operations this case was asked for; 0: none */
    int short_of_share;     /* it stopped before `share` (too slow) */
    int64_t fault_sequence; /* requests in one run of fault_row */
    size_t fault_row;       /* the first row that ran */
    char skip_reason[200];
    char broken[600]; /* the first invariant broken, or "" */
} case_report;

enum {
    FAULT_ABSORBED,
    FAULT_MEMORY_ERROR,
    FAULT_FAILED,
    FAULT_SKIPPED,
    FAULT_NOT_REACHED
};

static const char *const outcome_names[] = {"absorbed", "MemoryError",
                                            "failed cleanly", "skipped",
                                            "not reached"};

/* A fault child's report. */
typedef struct fault_report {
    int outcome;
    int64_t residue_blocks; /* left by the first faulted run */
    int64_t leaked_blocks;  /* left by the second */
    int64_t leaked_bytes;
    int64_t left[PMB_MAX_SENTINELS]; /* sentinels: after minus before */
    char why[300];
    char fault_stack[STACK_TEXT];     /* where the failed request came from */
    char leak_stacks[3 * STACK_TEXT]; /* the commonest stacks of what the
                                         third run left live (JSON strings,
                                         comma-separated) */
} fault_report;

/* What a child leaves for its parent even when it crashes: the stack of
 * its first failed request and of the crash (shared memory, mapped once
 * before the first child). */
typedef struct shared_stacks {
    int fault_n, crash_n;
    void *fault[MEMHOOK_SITE_FRAMES];
    void *crash[MEMHOOK_SITE_FRAMES + 8]; /* the handler's frames first */
} shared_stacks;
static shared_stacks *shared;

/* sys.gettotalrefcount(), on debug builds only. 0, or -1 without it. */
static int
total_refs(int64_t *out)
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

/* On a debug interpreter, an extension module built for the release one
 * (numpy from Debian's python3-numpy) does its reference counting without
 * _Py_RefTotal, so sys.gettotalrefcount() drifts whatever it does: the
 * first such module loaded, its name in `name` (1), or 0. */
static const char release_src[] =
    "import sys, importlib.machinery as m\n"
    "def release_built():\n"
    "    own, other = m.EXTENSION_SUFFIXES[0], m.EXTENSION_SUFFIXES[1]\n"
    "    if 'd' not in sys.abiflags or own == other:\n"
    "        return ''\n"
    "    for name, mod in list(sys.modules.items()):\n"
    "        if (getattr(mod, '__file__', None) or '').endswith(other):\n"
    "            return name\n"
    "    return ''\n";

static int
release_built_loaded(char *name, size_t len)
{
    PyObject *f = pyx_compile_function(release_src, "release_built");
    PyObject *got = f != NULL ? pyx_call0(f) : NULL;
    const char *text = got != NULL ? PyUnicode_AsUTF8(got) : NULL;
    int found = text != NULL && text[0] != '\0';
    if (found) {
        snprintf(name, len, "%s", text);
    }
    Py_XDECREF(got);
    Py_XDECREF(f);
    PyErr_Clear();
    return found;
}

static void
take_snap(snap *s)
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
    for (size_t i = 0; i < pmb_nsentinels(); i++) {
        s->left[i] = pmb_sentinel_at(i)->count();
    }
}

/* Each sentinel's count in `to` minus the one in `from` (in `warm`, for
 * a sentinel compared after the warm-up; NULL: `from` for every one). */
static void
sentinel_deltas(const snap *from, const snap *warm, const snap *to,
                int64_t *delta)
{
    for (size_t i = 0; i < pmb_nsentinels(); i++) {
        const snap *base =
            warm != NULL && pmb_sentinel_at(i)->after_warmup ? warm : from;
        delta[i] = to->left[i] - base->left[i];
    }
}

/* The first sentinel whose delta is not 0, or -1. */
static int
first_left(const int64_t *delta)
{
    for (size_t i = 0; i < pmb_nsentinels(); i++) {
        if (delta[i] != 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Write to a fixed buffer, truncating. */
static void say(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The rounds of one stress case so far, shared by stress_rows' helpers.
 * Each row (param) has its own iteration count, sized by its timed loop
 * alone: setup, check, teardown and the snapshots around a round do not
 * count against it. */
enum { MAX_CASE_ROWS = 64 };
typedef struct rounds {
    size_t lo, hi;                /* the case's rows */
    int64_t iters[MAX_CASE_ROWS]; /* per row per round */
    double loop[MAX_CASE_ROWS];   /* seconds in the row's loop, last round */
    int measured;                 /* measured rounds so far */
    int warm;                     /* the settling round ran */
    int grew; /* round-to-round intervals in which live blocks grew */
    double t0;
    double t_base;          /* when the first measured round ended */
    int64_t loops_base;     /* the case's operations then */
    int chasing;            /* going on for its share of the family's target */
    snap start, base, last; /* before the rounds, first measured, last */
} rounds;

/* Seconds inside the timed loop (gbs_manual_watch: between the loop's
 * first batch and its end, pauses left out). */
static double loop_seconds, loop_since;

static void
on_loop(int running)
{
    const double now = pmb_seconds(CLOCK_MONOTONIC);
    if (running) {
        loop_since = now;
    }
    else {
        loop_seconds += now - loop_since;
    }
}

/* Row i's slot in r's per-row arrays (rows past MAX_CASE_ROWS share the
 * last one). */
static size_t
slot(const rounds *r, size_t i)
{
    const size_t k = i - r->lo;
    return k < MAX_CASE_ROWS ? k : MAX_CASE_ROWS - 1;
}

/* One round: every row of the case, its own iteration count each. 0, or
 * -1 when a case's check failed (said in rep->broken). */
static int
one_round(rounds *r, case_report *rep)
{
    const char *why = "";
    int ran = 0;
    rep->skipped = 0;
    for (size_t i = r->lo; i < r->hi; i++) {
        const size_t k = slot(r, i);
        loop_seconds = 0;
        const double t0 = pmb_seconds(CLOCK_MONOTONIC);
        int rc = pmb_run_row(i, r->iters[k], &why);
        /* a case whose loop the watch never saw is sized by its whole
         * run, never grown without bound */
        r->loop[k] = loop_seconds > 0 ? loop_seconds
                                      : pmb_seconds(CLOCK_MONOTONIC) - t0;
        if (rc < 0) {
            say(rep->broken, sizeof(rep->broken),
                "the case's check failed (%s, %lld iterations, round %d): %s",
                pmb_row_name(i), (long long)r->iters[k],
                rep->warmup_rounds + r->measured + 1, why);
            return -1;
        }
        if (rc == PMB_SKIP) {
            rep->skipped++;
            r->loop[k] = -1; /* nothing to size */
            say(rep->skip_reason, sizeof(rep->skip_reason), "%s", why);
        }
        else {
            ran++;
            rep->loops += pmb_last_iterations();
            rep->loop_seconds += r->loop[k];
        }
    }
    rep->rows = ran;
    return 0;
}

/* Still calibrating: every row whose loop took less than its share of a
 * round (`share` seconds) gets more iterations, about as many as would
 * fill it (at most 16 times as many per round, at least twice). 1 when a
 * row grew. */
static int
grow_rows(rounds *r, double share)
{
    int grew = 0;
    for (size_t i = r->lo; i < r->hi && i - r->lo < MAX_CASE_ROWS; i++) {
        const size_t k = slot(r, i);
        if (r->loop[k] < 0 || r->loop[k] >= share ||
            r->iters[k] >= ((int64_t)1 << 40)) {
            continue; /* skipped, or long enough */
        }
        double factor = r->loop[k] > 0 ? share / r->loop[k] : 16;
        factor = factor > 16 ? 16 : factor < 2 ? 2 : factor;
        r->iters[k] = (int64_t)((double)r->iters[k] * factor);
        grew = 1;
    }
    return grew;
}

/* Whether the measured rounds are enough: at least three, `seconds`
 * passed and, with a share of the family's operations, the case's
 * operations (every iteration it ran) reached it. Whether to go on for
 * the share is decided once, at the first chance: not when the measured
 * rounds' rate says it would end past `max_seconds`; a case that goes on
 * stops at `max_seconds` all the same. Stopping before the share is said
 * in rep. */
static int
rounds_done(rounds *r, const stress_options *o, case_report *rep)
{
    const double now = pmb_seconds(CLOCK_MONOTONIC);
    const double elapsed = now - r->t0;
    if (r->measured < 3 || elapsed < o->seconds) {
        return 0;
    }
    if (rep->loops >= rep->share) {
        return 1;
    }
    if (!r->chasing) {
        const double since = now - r->t_base;
        const double rate =
            since > 0 ? (double)(rep->loops - r->loops_base) / since : 0;
        if (rate <= 0 || elapsed + (double)(rep->share - rep->loops) / rate >
                             o->max_seconds) {
            rep->short_of_share = 1;
            return 1;
        }
        r->chasing = 1;
    }
    if (elapsed >= o->max_seconds) {
        rep->short_of_share = 1;
        return 1;
    }
    return 0;
}

/* Rounds until the case is measured: each row's iteration count grows
 * until its timed loop fills its share of a tenth of `seconds` (the
 * rows share it equally), one more round at those sizes, then measured
 * rounds until rounds_done says enough. 0, -1 when a check
 * failed, 1 when every param skipped (nothing to stress). */
static int
run_rounds(rounds *r, const stress_options *o, case_report *rep)
{
    const double round_target =
        o->seconds / 10 > 0.002 ? o->seconds / 10 : 0.002;
    const size_t nrows = r->hi - r->lo;
    for (;;) {
        if (one_round(r, rep) < 0) {
            return -1;
        }
        if (rep->rows == 0) {
            return 1;
        }
        if (r->measured == 0 && !r->warm &&
            grow_rows(r, round_target / (double)nrows)) {
            rep->warmup_rounds++; /* still calibrating */
            continue;
        }
        if (r->measured == 0 && !r->warm) {
            /* one round at the final sizes before the first measured one:
             * freelists and malloc's adaptive thresholds settle in it */
            r->warm = 1;
            rep->warmup_rounds++;
            continue;
        }
        const int64_t prev_blocks = r->last.live_blocks;
        take_snap(&r->last);
        if (r->measured == 0) {
            r->base = r->last;
            r->t_base = pmb_seconds(CLOCK_MONOTONIC);
            r->loops_base = rep->loops;
        }
        else if (r->last.live_blocks > prev_blocks) {
            r->grew++;
        }
        r->measured++;
        if (rounds_done(r, o, rep)) {
            return 0;
        }
    }
}

/* The figures of the measured rounds, and the first invariant they break
 * (in rep->broken; see stress.h for the list and its order). */
static void
judge_rounds(const rounds *r, case_report *rep)
{
    const snap *base = &r->base, *last = &r->last;
    rep->rounds = r->measured;
    rep->iterations = 0;
    for (size_t i = r->lo; i < r->hi; i++) {
        if (r->loop[slot(r, i)] >= 0) { /* a skipped row runs nothing */
            rep->iterations += r->iters[slot(r, i)];
        }
    }
    rep->leaked_blocks = last->live_blocks - base->live_blocks;
    rep->leaked_bytes = last->live_bytes - base->live_bytes;
    rep->rss_growth = (int64_t)last->rss - (int64_t)base->rss;
    rep->have_refs = last->have_refs && base->have_refs;
    char ext[80];
    if (rep->have_refs && release_built_loaded(ext, sizeof(ext))) {
        rep->have_refs = 0;
        say(rep->refs_blind, sizeof(rep->refs_blind),
            "refs not judged: %s is built for the release interpreter", ext);
    }
    rep->refs_growth = rep->have_refs ? last->refs - base->refs : 0;
    sentinel_deltas(&r->start, base, last, rep->left);
    const int64_t pct = (int64_t)base->rss * STRESS_RSS_SLACK_PCT / 100;
    const int64_t rss_slack =
        pct > STRESS_RSS_SLACK_BYTES ? pct : STRESS_RSS_SLACK_BYTES;
    const int s = first_left(rep->left);
    char *b = rep->broken;
    const size_t n = sizeof(rep->broken);
    /* A leak grows the live blocks in most rounds; a table that grew once
     * (crossed a size) or a cache that filled does not. */
    if (rep->leaked_blocks > 0 && 2 * r->grew > r->measured - 1) {
        say(b, n,
            "allocations balanced: %lld blocks (%lld bytes) more live after "
            "round %d than after round 1, growing in %d of %d rounds",
            (long long)rep->leaked_blocks, (long long)rep->leaked_bytes,
            r->measured, r->grew, r->measured - 1);
    }
    else if (rep->rss_growth > rss_slack) {
        say(b, n,
            "RSS bounded: grew %.1f MiB from round 1 to round %d (tolerance "
            "%.1f MiB)",
            (double)rep->rss_growth / 1048576.0, r->measured,
            (double)rss_slack / 1048576.0);
    }
    else if (s >= 0) {
        say(b, n, "%s: %lld %s", pmb_sentinel_at((size_t)s)->invariant,
            (long long)rep->left[s], pmb_sentinel_at((size_t)s)->left);
    }
    else if (rep->have_refs && rep->refs_growth != 0) {
        say(b, n,
            "refcounts balanced: sys.gettotalrefcount() moved by %+lld from "
            "round 1 to round %d",
            (long long)rep->refs_growth, r->measured);
    }
}

/* The allocation sequence fault injection spreads its points over: the
 * requests of one run of the first param that runs (a skipped one
 * cannot be), in the domains of `mask`. */
static void
count_sequence(size_t lo, size_t hi, unsigned mask, case_report *rep)
{
    const char *why = "";
    size_t first = lo;
    uint64_t seen, failed;
    int rc = PMB_SKIP;
    memhook_fail(mask, UINT64_MAX, 0); /* counts the requests, fails none */
    for (; first < hi && rc == PMB_SKIP; first++) {
        rc = pmb_run_row(first, 1, &why);
    }
    memhook_fail_read(&seen, &failed);
    memhook_fail(0, 0, 0);
    rep->fault_row = first - 1;
    if (rc == 0) {
        rep->fault_sequence = (int64_t)seen;
    }
    else if (rep->broken[0] == '\0') {
        say(rep->broken, sizeof(rep->broken),
            "the case's check failed in the run that counts its allocations "
            "for fault injection (%s): %s",
            pmb_row_name(first - 1), why);
    }
}

/* The stress rounds of rows [lo, hi), in the child. */
static void
stress_rows(size_t lo, size_t hi, const stress_options *o, case_report *rep)
{
    rounds r = {.lo = lo, .hi = hi, .t0 = pmb_seconds(CLOCK_MONOTONIC)};
    for (size_t k = 0; k < MAX_CASE_ROWS; k++) {
        r.iters[k] = 1;
    }
    const double cpu0 = pmb_seconds(CLOCK_PROCESS_CPUTIME_ID);
    take_snap(&r.start);
    procmem_reset_peak();
    gbs_manual_watch(on_loop);
    const int rc = run_rounds(&r, o, rep);
    gbs_manual_watch(NULL);
    if (rc == 0) {
        judge_rounds(&r, rep);
        count_sequence(lo, hi, o->fault_mask, rep);
    }
    rep->seconds = pmb_seconds(CLOCK_MONOTONIC) - r.t0;
    rep->cpu_seconds = pmb_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    procmem_process_peak(&rep->peak_rss);
}

/* How one faulted run ended: rc and why from pmb_run_row, `failed` the
 * requests the hook failed. */
static int
outcome_of(uint64_t failed, int rc, const char *why)
{
    return failed == 0                  ? FAULT_NOT_REACHED
           : rc == 0                    ? FAULT_ABSORBED
           : rc == PMB_SKIP             ? FAULT_SKIPPED
           : strstr(why, "MemoryError") ? FAULT_MEMORY_ERROR
                                        : FAULT_FAILED;
}

/* The distinct allocation stacks of the blocks live after the third
 * faulted run (memhook_sites_each), with their blocks and bytes. */
enum { MAX_LEAK_STACKS = 64 };
typedef struct leak_stack {
    int nframes;
    int64_t blocks, bytes;
    void *frames[MEMHOOK_SITE_FRAMES];
} leak_stack;
typedef struct leak_sites {
    int n;
    leak_stack s[MAX_LEAK_STACKS];
} leak_sites;

static void
tally_site(const void *block, size_t size, void *const *frames, int n,
           void *arg)
{
    leak_sites *ls = arg;
    (void)block;
    for (int i = 0; i < ls->n; i++) {
        leak_stack *k = &ls->s[i];
        if (k->nframes == n &&
            memcmp(k->frames, frames, (size_t)n * sizeof(void *)) == 0) {
            k->blocks++;
            k->bytes += (int64_t)size;
            return;
        }
    }
    if (ls->n < MAX_LEAK_STACKS) {
        leak_stack *k = &ls->s[ls->n++];
        k->nframes = n;
        k->blocks = 1;
        k->bytes = (int64_t)size;
        memcpy(k->frames, frames, (size_t)n * sizeof(void *));
    }
}

/* The three stacks holding most blocks, as JSON strings "N blocks (B
 * bytes): stack", comma-separated, into buf. */
static void
describe_sites(leak_sites *ls, char *buf, size_t len)
{
    size_t used = 0;
    char text[STACK_TEXT];
    buf[0] = '\0';
    for (int shown = 0; shown < 3 && shown < ls->n; shown++) {
        int top = shown;
        for (int i = shown + 1; i < ls->n; i++) {
            top = ls->s[i].blocks > ls->s[top].blocks ? i : top;
        }
        const leak_stack k = ls->s[top];
        ls->s[top] = ls->s[shown];
        ls->s[shown] = k;
        pmb_stack_text(k.frames, k.nframes, text, sizeof(text));
        int w =
            snprintf(buf + used, len - used,
                     "%s\"%lld blocks (%lld bytes): %s\"", shown ? "," : "",
                     (long long)k.blocks, (long long)k.bytes, text);
        if (w < 0 || (size_t)w >= len - used) {
            buf[used] = '\0'; /* a stack that does not fit is left out */
            return;
        }
        used += (size_t)w;
    }
}

/* One fault point in the child: a warm run, then three runs whose
 * `point`-th request fails. The first may leave a one-time residue (a
 * cache its error path filled, a table that crossed a size and grew);
 * a leak on the error path recurs: it is what both later runs left live
 * (the smaller of the two). The first failed request's stack goes into
 * shared memory (a crash leaves it to the parent); when the second run
 * left blocks, the third keeps every allocation's stack, to say where
 * what it left came from. */
static void
fault_row(size_t row, uint64_t point, unsigned mask, fault_report *rep)
{
    static leak_sites ls; /* large: not on the stack */
    int kept_sites = 0;
    const char *why;
    snap s[4]; /* before the faulted runs, then after each */
    uint64_t seen = 0, failed = 0;
    if (pmb_run_row(row, 1, &why) != 0) {
        rep->outcome = FAULT_SKIPPED;
        say(rep->why, sizeof(rep->why), "the warm-up run did not pass: %s",
            why);
        return;
    }
    take_snap(&s[0]);
    if (getenv("PYMB_FAULT_TRACE") != NULL) {
        printf("fault at request %llu of %s:\n", (unsigned long long)point,
               pmb_row_name(row));
        fflush(stdout);
        memhook_fail_trace(1);
    }
    for (int pass = 1; pass <= 3; pass++) {
        if (pass == 1) {
            memhook_fail_site(shared->fault, MEMHOOK_SITE_FRAMES,
                              &shared->fault_n);
        }
        /* a leak recurs: only when the second run left blocks can the
         * third leave them too; keeping stacks costs a backtrace per
         * request, paid only then */
        if (pass == 3 && s[2].live_blocks > s[1].live_blocks) {
            kept_sites = memhook_sites(1) == 0;
        }
        memhook_fail(mask, point, 0);
        int rc = pmb_run_row(row, 1, &why);
        memhook_fail_read(&seen, &failed);
        memhook_fail(0, 0, 0);
        if (pass == 1) {
            memhook_fail_site(NULL, 0, NULL);
            say(rep->why, sizeof(rep->why), "%s", why);
            rep->outcome = outcome_of(failed, rc, why);
        }
        if (pass == 3) {
            memhook_fail_trace(-1); /* the last snapshot is not traced */
        }
        take_snap(&s[pass]);
    }
    rep->residue_blocks = s[1].live_blocks - s[0].live_blocks;
    const int64_t grew2 = s[2].live_blocks - s[1].live_blocks;
    const int64_t grew3 = s[3].live_blocks - s[2].live_blocks;
    if (grew2 > 0 && grew3 > 0) {
        rep->leaked_blocks = grew2 < grew3 ? grew2 : grew3;
        rep->leaked_bytes = s[3].live_bytes - s[2].live_bytes;
        ls.n = 0;
        memhook_sites_each(tally_site, &ls);
        describe_sites(&ls, rep->leak_stacks, sizeof(rep->leak_stacks));
    }
    if (kept_sites) {
        memhook_sites(0);
    }
    pmb_stack_text(shared->fault, shared->fault_n, rep->fault_stack,
                   sizeof(rep->fault_stack));
    sentinel_deltas(&s[0], NULL, &s[3], rep->left);
}

/* The children's stderr: a scratch file, shown when one crashes. */
static FILE *scratch;

typedef struct rows_arg {
    size_t lo, hi;
    const stress_options *o;
    int64_t share; /* operations asked of the case; 0: none */
} rows_arg;

static void
stress_body(void *arg, void *report)
{
    const rows_arg *a = arg;
    case_report *rep = report; /* zeroed by child_run */
    rep->share = a->share;
    stress_rows(a->lo, a->hi, a->o, rep);
}

typedef struct fault_arg {
    size_t row;
    uint64_t point;
    unsigned mask;
} fault_arg;

static void
fault_body(void *arg, void *report)
{
    const fault_arg *a = arg;
    fault_row(a->row, a->point, a->mask, report);
}

/* ---- In the parent: the report ---- */

/* One row of the report, kept for the whole run: the file is written
 * again, whole, after every case. */
enum { MAX_COUNTERS = 40 };
typedef struct record {
    char name[200];
    char error[700]; /* "", or the row's error_message */
    int64_t iterations;
    double real_seconds, cpu_seconds;
    size_t ncounters;
    const char *counter_names[MAX_COUNTERS]; /* static strings */
    double counter_values[MAX_COUNTERS];
    char *label; /* NULL, or the findings as a JSON array (owned) */
} record;

static record *records;
static size_t nrecords;

/* Counter names of the sentinels' deltas, "<key>_growth": a record's
 * counter names must outlive it. */
static char sentinel_counter[PMB_MAX_SENTINELS][64];

/* A new, empty record for `name`; exits 2 when memory runs out (the
 * report could no longer be whole). */
static record *
new_record(const char *name)
{
    record *grown = realloc(records, (nrecords + 1) * sizeof(*records));
    if (grown == NULL) {
        fprintf(stderr, "pymembench: out of memory for the report\n");
        exit(2);
    }
    records = grown;
    record *r = &records[nrecords++];
    memset(r, 0, sizeof(*r));
    say(r->name, sizeof(r->name), "%s", name);
    return r;
}

/* Add one finding (a JSON object, fmt's text) to r's label, a JSON array
 * of every crash and leak of the case, for scripts/stress-verdict. Exits
 * 2 when memory runs out (the report could no longer be whole). */
static void finding(record *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
finding(record *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    const size_t had = r->label != NULL ? strlen(r->label) : 0;
    char *grown = n < 0 ? NULL : realloc(r->label, had + (size_t)n + 4);
    if (grown == NULL) {
        fprintf(stderr, "pymembench: out of memory for the report\n");
        exit(2);
    }
    r->label = grown;
    if (had == 0) {
        grown[0] = '[';
    }
    else {
        grown[had - 1] = ','; /* the closing bracket goes */
    }
    const size_t at = had == 0 ? 1 : had;
    va_start(ap, fmt);
    vsnprintf(grown + at, (size_t)n + 1, fmt, ap);
    va_end(ap);
    memcpy(grown + at + n, "]", 2);
}

/* src with what a JSON string would need escaped replaced ('"' by '\'',
 * '\\' by '/', control characters by ' '). */
static void
json_safe(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < len; i++) {
        const unsigned char c = (unsigned char)src[i];
        dst[i] = c == '"' ? '\'' : c == '\\' ? '/' : c < 32 ? ' ' : (char)c;
    }
    dst[i] = '\0';
}

/* The C stack a crashed child left in shared memory, as text, without the
 * crash handler's frame and the kernel's return path into it (the first
 * two), so that the window around our code shows the crash's callers. */
static void
crash_stack_text(char *buf, size_t len)
{
    const int skip = shared->crash_n > 2 ? 2 : 0;
    pmb_stack_text(shared->crash + skip, shared->crash_n - skip, buf, len);
}

static void
counter(record *r, const char *name, double value)
{
    if (r->ncounters < MAX_COUNTERS) {
        r->counter_names[r->ncounters] = name;
        r->counter_values[r->ncounters++] = value;
    }
}

/* The stress child's figures as counters (refs_growth only where the
 * interpreter keeps a total refcount). */
static void
case_counters(record *r, const case_report *rep)
{
    r->iterations = rep->loops;
    r->real_seconds = rep->seconds;
    r->cpu_seconds = rep->cpu_seconds;
    counter(r, "params", rep->rows);
    counter(r, "rounds", rep->rounds);
    counter(r, "warmup_rounds", rep->warmup_rounds);
    counter(r, "iterations_per_round", (double)rep->iterations);
    counter(r, "loop_seconds", rep->loop_seconds);
    if (rep->share > 0) {
        counter(r, "operations_share", (double)rep->share);
        counter(r, "operations_short", rep->short_of_share);
    }
    counter(r, "peak_rss_bytes", (double)rep->peak_rss);
    counter(r, "live_blocks_growth", (double)rep->leaked_blocks);
    counter(r, "live_bytes_growth", (double)rep->leaked_bytes);
    counter(r, "rss_growth_bytes", (double)rep->rss_growth);
    if (rep->have_refs) {
        counter(r, "refs_growth", (double)rep->refs_growth);
    }
    for (size_t i = 0; i < pmb_nsentinels(); i++) {
        say(sentinel_counter[i], sizeof(sentinel_counter[i]), "%s_growth",
            pmb_sentinel_at(i)->key);
        counter(r, sentinel_counter[i], (double)rep->left[i]);
    }
}

/* Every record so far through the shim's JSON writer into `path`. */
static int
write_rows(const char *path)
{
    if (gbs_report_begin_quiet(path) < 0) {
        return -1;
    }
    for (size_t i = 0; i < nrecords; i++) {
        const record *r = &records[i];
        gbs_row row = {r->name,
                       r->iterations,
                       r->real_seconds,
                       r->cpu_seconds,
                       r->error[0] ? r->error : NULL,
                       r->ncounters,
                       r->counter_names,
                       r->counter_values,
                       r->label};
        gbs_report_row(&row);
    }
    return gbs_report_end();
}

/* Rewrite the report: into a temporary file beside it, renamed into place,
 * with Ctrl-C held off meanwhile, so that the report is always whole (a
 * crash or Ctrl-C leaves the last one). `finished` marks the last. */
static int
write_report(const stress_options *o, int finished)
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
    /* absent before: Google Benchmark sets a context entry once only */
    if (finished) {
        gbs_add_context("finished", "true");
    }
    int rc = write_rows(tmp) == 0 && rename(tmp, o->out) == 0 ? 0 : -1;
    if (rc < 0) {
        remove(tmp);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* What the report's context says of the stress run; the interpreter, the
 * allocator, the commit and the host are main's (bench_add_stress_context),
 * and Google Benchmark adds the date and the CPUs. */
static void
add_context(const stress_options *o)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%g", o->seconds);
    gbs_add_context("stress_seconds", buf);
    snprintf(buf, sizeof(buf), "%.17g", o->ops);
    gbs_add_context("stress_ops_per_family", buf);
    snprintf(buf, sizeof(buf), "%g", o->max_seconds);
    gbs_add_context("stress_max_seconds", buf);
    snprintf(buf, sizeof(buf), "%d", o->fault_points);
    gbs_add_context("fault_points", buf);
    snprintf(buf, sizeof(buf), "%u", o->fault_mask);
    gbs_add_context("fault_domains", buf);
    snprintf(buf, sizeof(buf), "%d", STRESS_RSS_SLACK_BYTES);
    gbs_add_context("rss_slack_bytes", buf);
    snprintf(buf, sizeof(buf), "%d", STRESS_RSS_SLACK_PCT);
    gbs_add_context("rss_slack_pct", buf);
}

/* ---- In the parent: running the cases ---- */

typedef struct totals {
    int cases, crashed, broken, skipped;
    int broken_rounds; /* cases that broke an invariant across rounds */
    int faulty;        /* cases with a fault point that crashed or leaked */
    int64_t rounds, leaked_blocks, leaked_bytes;
    int points, fault_crashed, fault_leaked;
    int outcomes[5];
} totals;

/* One case's fault points so far. */
typedef struct fault_tally {
    int counts[5], crashed, leaked, tried;
    int64_t residue;
    char first_bad[500]; /* the first point that crashed or leaked */
} fault_tally;

/* What a fault point left behind, for its line and error_message. */
static void
describe_leak(char *buf, size_t len, uint64_t point, int64_t sequence,
              const fault_report *rep)
{
    size_t used;
    say(buf, len,
        "request %llu of %lld (%s: %s): %lld blocks (%lld bytes) leaked by "
        "each repeat",
        (unsigned long long)point, (long long)sequence,
        outcome_names[rep->outcome], rep->why, (long long)rep->leaked_blocks,
        (long long)rep->leaked_bytes);
    for (size_t i = 0; i < pmb_nsentinels() && (used = strlen(buf)) < len;
         i++) {
        say(buf + used, len - used, ", %lld %s", (long long)rep->left[i],
            pmb_sentinel_at(i)->left);
    }
}

/* Fault point `point` of `sequence` on `row`, in a child of its own,
 * tallied; a crash or a leak is also a finding in r's label. -1 when no
 * child could be forked (no later point can be). */
static int
fault_point(const stress_options *o, size_t row, uint64_t point,
            int64_t sequence, fault_tally *ft, record *r)
{
    fault_arg a = {row, point, o->fault_mask};
    fault_report rep;
    child_end end;
    char fault[STACK_TEXT], crash[STACK_TEXT], why[sizeof(rep.why)];
    shared->fault_n = shared->crash_n = 0;
    if (child_run(fault_body, &a, &rep, sizeof(rep), 120, &end) < 0) {
        say(ft->first_bad, sizeof(ft->first_bad), "cannot fork: %s",
            strerror(errno));
        ft->crashed++;
        return -1;
    }
    ft->tried++;
    if (!end.ok) {
        ft->crashed++;
        if (ft->first_bad[0] == '\0') {
            say(ft->first_bad, sizeof(ft->first_bad),
                "request %llu of %lld: crashed (%s)%s%s",
                (unsigned long long)point, (long long)sequence,
                end.signal ? pmb_signal_name(end.signal)
                           : "exit without a report",
                end.tail[0] ? ": " : "", end.tail);
        }
        pmb_stack_text(shared->fault, shared->fault_n, fault, sizeof(fault));
        crash_stack_text(crash, sizeof(crash));
        finding(r,
                "{\"point\":%llu,\"sequence\":%lld,\"kind\":\"crash\","
                "\"signal\":\"%s\",\"fault\":\"%s\",\"crash\":\"%s\"}",
                (unsigned long long)point, (long long)sequence,
                end.signal ? pmb_signal_name(end.signal) : "none", fault,
                crash);
        return 0;
    }
    ft->counts[rep.outcome]++;
    ft->residue += rep.residue_blocks > 0 ? rep.residue_blocks : 0;
    if (rep.leaked_blocks > 0 || first_left(rep.left) >= 0) {
        char left[700];
        ft->leaked++;
        describe_leak(left, sizeof(left), point, sequence, &rep);
        if (ft->first_bad[0] == '\0') {
            say(ft->first_bad, sizeof(ft->first_bad), "%s", left);
        }
        json_safe(why, sizeof(why), rep.why);
        json_safe(left, sizeof(left), left);
        finding(r,
                "{\"point\":%llu,\"sequence\":%lld,\"kind\":\"leak\","
                "\"outcome\":\"%s\",\"why\":\"%s\",\"blocks\":%lld,"
                "\"bytes\":%lld,\"what\":\"%s\",\"fault\":\"%s\","
                "\"leaks\":[%s]}",
                (unsigned long long)point, (long long)sequence,
                outcome_names[rep.outcome], why, (long long)rep.leaked_blocks,
                (long long)rep.leaked_bytes, left, rep.fault_stack,
                rep.leak_stacks);
    }
    return 0;
}

/* Fault injection over the row of the case's sequence (rep): one child
 * per point, spread evenly across the sequence. Prints its lines, adds its
 * counters (and an error_message when a point crashed or leaked) to `r`;
 * returns how many points crashed or leaked. */
static int
inject_faults(const stress_options *o, const char *name,
              const case_report *rep, totals *t, record *r)
{
    const int64_t sequence = rep->fault_sequence;
    fault_tally ft;
    memset(&ft, 0, sizeof(ft));
    if (sequence <= 0) {
        printf("%-48s faults: none injected (its run made no request in the "
               "chosen domains)\n",
               name);
        return 0;
    }
    const int points =
        sequence < o->fault_points ? (int)sequence : o->fault_points;
    for (int k = 0; k < points; k++) {
        uint64_t point = points == 1
                             ? 1
                             : 1 + (uint64_t)k * (uint64_t)(sequence - 1) /
                                       (uint64_t)(points - 1);
        if (fault_point(o, rep->fault_row, point, sequence, &ft, r) < 0) {
            break;
        }
    }
    t->points += ft.tried;
    t->fault_crashed += ft.crashed;
    t->fault_leaked += ft.leaked;
    for (int i = 0; i < 5; i++) {
        t->outcomes[i] += ft.counts[i];
    }
    printf("%-48s faults: %d points over %lld requests: %d MemoryError, %d "
           "failed cleanly, %d absorbed, %d skipped, %d not reached, %d "
           "crashed, %d leaked\n",
           name, ft.tried, (long long)sequence, ft.counts[FAULT_MEMORY_ERROR],
           ft.counts[FAULT_FAILED], ft.counts[FAULT_ABSORBED],
           ft.counts[FAULT_SKIPPED], ft.counts[FAULT_NOT_REACHED], ft.crashed,
           ft.leaked);
    if (ft.first_bad[0] != '\0') {
        printf("%-48s   FAULT: %s\n", "", ft.first_bad);
        say(r->error, sizeof(r->error), "fault injection: %s", ft.first_bad);
    }
    counter(r, "fault_points", ft.tried);
    counter(r, "fault_sequence", (double)sequence);
    counter(r, "faults_memory_error", ft.counts[FAULT_MEMORY_ERROR]);
    counter(r, "faults_failed", ft.counts[FAULT_FAILED]);
    counter(r, "faults_absorbed", ft.counts[FAULT_ABSORBED]);
    counter(r, "faults_skipped", ft.counts[FAULT_SKIPPED]);
    counter(r, "faults_not_reached", ft.counts[FAULT_NOT_REACHED]);
    counter(r, "faults_crashed", ft.crashed);
    counter(r, "faults_leaked", ft.leaked);
    counter(r, "faults_first_run_residue_blocks", (double)ft.residue);
    return ft.crashed + ft.leaked;
}

/* The stress child of rows [lo, hi): its report in `rep` (zeroed when
 * there is none), and in `problem` why it did not pass ("" when it did). */
static void
case_child(const stress_options *o, size_t lo, size_t hi, int64_t share,
           case_report *rep, char *problem, size_t len, totals *t)
{
    rows_arg a = {lo, hi, o, share};
    child_end end;
    /* a generous bound: calibration and snapshots come on top of `seconds`
     * (or `max_seconds`, for a case chasing a share) */
    const double limit =
        share > 0 && o->max_seconds > o->seconds ? o->max_seconds : o->seconds;
    unsigned timeout = (unsigned)(limit + o->seconds * 20) + 120;
    problem[0] = '\0';
    shared->fault_n = shared->crash_n = 0;
    if (child_run(stress_body, &a, rep, sizeof(*rep), timeout, &end) < 0) {
        memset(rep, 0, sizeof(*rep));
        say(problem, len, "cannot fork: %s", strerror(errno));
    }
    else if (!end.ok) {
        memset(rep, 0, sizeof(*rep));
        t->crashed++;
        say(problem, len, "crashed: %s%s%s",
            end.signal ? pmb_signal_name(end.signal) : "exit without a report",
            end.tail[0] ? ": " : "", end.tail);
    }
    else if (rep->broken[0] != '\0') {
        say(problem, len, "%s", rep->broken);
    }
}

/* The case's line on stdout, and its part of the totals. */
static void
print_case(const char *name, const case_report *rep, const char *problem,
           totals *t)
{
    char refs[160] = "";
    t->rounds += rep->rounds;
    /* a leak counts in the totals when it broke the invariant */
    if (strncmp(rep->broken, "allocations balanced", 20) == 0) {
        t->leaked_blocks += rep->leaked_blocks;
        t->leaked_bytes += rep->leaked_bytes;
    }
    if (rep->have_refs) {
        snprintf(refs, sizeof(refs), ", refs %+lld",
                 (long long)rep->refs_growth);
    }
    else if (rep->refs_blind[0] != '\0') {
        snprintf(refs, sizeof(refs), ", %s", rep->refs_blind);
    }
    char ops[120] = "";
    if (rep->share > 0) {
        snprintf(ops, sizeof(ops), ", %.3g of %.3g operations%s",
                 (double)rep->loops, (double)rep->share,
                 rep->short_of_share ? " (short: too slow for the time limit)"
                                     : "");
    }
    printf("%-48s %3d rounds x %lld it, %6.2f s, peak RSS %6.1f MiB, live "
           "%+lld blocks (%+lld B), RSS %+.1f MiB%s%s: %s\n",
           name, rep->rounds, (long long)rep->iterations, rep->seconds,
           (double)rep->peak_rss / 1048576.0, (long long)rep->leaked_blocks,
           (long long)rep->leaked_bytes, (double)rep->rss_growth / 1048576.0,
           refs, ops, problem[0] ? problem : "ok");
}

/* One stress case: rows [lo, hi), asked for `share` operations (0: none).
 * Prints its lines, keeps its row and rewrites the report; returns the
 * operations it ran (0 when it crashed). */
static int64_t
one_case(const stress_options *o, const char *name, size_t lo, size_t hi,
         int64_t share, totals *t)
{
    case_report rep;
    char problem[700];
    record *r = new_record(name);
    t->cases++;
    case_child(o, lo, hi, share, &rep, problem, sizeof(problem), t);
    rep.share = share; /* a crashed child's report is zeroed */
    case_counters(r, &rep);
    if (strncmp(problem, "crashed", 7) == 0) {
        char crash[STACK_TEXT];
        crash_stack_text(crash, sizeof(crash));
        finding(r,
                "{\"point\":0,\"kind\":\"crash\",\"in\":\"rounds\","
                "\"crash\":\"%s\"}",
                crash);
    }
    const int skipped = problem[0] == '\0' && rep.rows == 0;
    int bad = problem[0] != '\0';
    if (skipped) {
        t->skipped++;
        printf("%-48s skipped: %s\n", name, rep.skip_reason);
        /* "skipped: " starts a skip's message, as in Google Benchmark runs */
        say(r->error, sizeof(r->error), "%s%s",
            strncmp(rep.skip_reason, "skipped: ", 9) == 0 ? "" : "skipped: ",
            rep.skip_reason);
    }
    else {
        print_case(name, &rep, problem, t);
        say(r->error, sizeof(r->error), "%s", problem);
    }
    t->broken_rounds += bad;
    if (!bad && !skipped && o->fault_points > 0) {
        bad = inject_faults(o, name, &rep, t, r) > 0;
        t->faulty += bad;
    }
    t->broken += bad;
    if (write_report(o, 0) < 0) {
        fprintf(stderr, "pymembench: warning: cannot write %s\n", o->out);
    }
    fflush(stdout);
    return rep.loops;
}

/* The stress case starting at row lo: its rows end at the returned index
 * (a case's params are consecutive rows), its name goes into `name`. */
static size_t
next_case(size_t lo, char *name, size_t len)
{
    const size_t n = pmb_nrows();
    size_t hi = lo + 1;
    while (hi < n && pmb_row_case(hi) == pmb_row_case(lo)) {
        hi++;
    }
    snprintf(name, len, "stress/%s/%s", pmb_row_family(lo),
             pmb_row_case(lo)->name);
    return hi;
}

/* A case is selected when the filter's expression finds its stress name or
 * any of its row names; with a leading '-', when it finds none of them.
 * (any() of pmb_filter_match would let "-^stress/refcount/" keep the
 * refcount cases through their row names.) */
static int
wanted(const pmb_filter *f, const char *stress_name, size_t lo, size_t hi)
{
    int all = pmb_filter_match(f, stress_name);
    int any = all;
    for (size_t i = lo; i < hi; i++) {
        const int m = pmb_filter_match(f, pmb_row_name(i));
        all &= m;
        any |= m;
    }
    return f->negate ? all : any;
}

void
stress_list(void)
{
    const size_t n = pmb_nrows();
    char name[200];
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        printf("%-44s %s (%zu param%s)\n", name, pmb_row_case(lo)->doc,
               hi - lo, hi - lo == 1 ? "" : "s");
    }
}

/* How many stress cases the filter selects. */
static int
count_selected(const pmb_filter *f)
{
    char name[200];
    int selected = 0;
    for (size_t lo = 0, hi; lo < pmb_nrows(); lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        selected += wanted(f, name, lo, hi);
    }
    return selected;
}

/* A family's operations target so far: the selected cases still to run
 * and the operations its cases ran. */
enum { MAX_FAMILIES = 32 };
typedef struct family_goal {
    const char *family;
    int left;
    double done;
} family_goal;

/* The goal of `family` in goals[0..*n) (added when new; the last slot is
 * shared past MAX_FAMILIES). */
static family_goal *
goal_of(family_goal *goals, size_t *n, const char *family)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(goals[i].family, family) == 0) {
            return &goals[i];
        }
    }
    if (*n == MAX_FAMILIES) {
        static int said;
        if (!said++) {
            fprintf(stderr,
                    "pymembench: warning: more than %d families; the "
                    "operations target of those past it is shared\n",
                    MAX_FAMILIES);
        }
        return &goals[MAX_FAMILIES - 1];
    }
    goals[*n] = (family_goal){family, 0, 0};
    return &goals[(*n)++];
}

/* The operations asked of the next case of goal g: what the family still
 * lacks, shared by its cases still to run (0: no target). */
static int64_t
share_of(const stress_options *o, const family_goal *g)
{
    const double lack = o->ops - g->done;
    if (o->ops <= 0 || lack <= 0 || g->left <= 0) {
        return 0;
    }
    const int64_t share = (int64_t)(lack / (double)g->left);
    return (double)share * g->left < lack ? share + 1 : share; /* rounded up */
}

/* Every selected case, then the final report and the totals. 0 or 1; 2
 * when there is no memory to share with the children. */
static int
run_cases(const stress_options *o, const pmb_filter *f)
{
    totals t = {0};
    char name[200];
    const double t0 = pmb_seconds(CLOCK_MONOTONIC);
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        fprintf(stderr, "pymembench: cannot map memory for the children: %s\n",
                strerror(errno));
        return 2;
    }
    bench_keep_crash_stack(shared->crash,
                           (int)(sizeof(shared->crash) / sizeof(void *)),
                           &shared->crash_n);
    scratch = tmpfile(); /* NULL: a crashed child's last words are lost,
                            nothing else */
    child_set_scratch(scratch);
    if (scratch == NULL) {
        fprintf(stderr,
                "pymembench: warning: no scratch file (%s); crash reports "
                "will not show the child's stderr\n",
                strerror(errno));
    }
    family_goal goals[MAX_FAMILIES];
    size_t ngoals = 0;
    for (size_t lo = 0, hi; lo < pmb_nrows(); lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        if (wanted(f, name, lo, hi)) {
            goal_of(goals, &ngoals, pmb_row_family(lo))->left++;
        }
    }
    for (size_t lo = 0, hi; lo < pmb_nrows(); lo = hi) {
        hi = next_case(lo, name, sizeof(name));
        if (wanted(f, name, lo, hi)) {
            family_goal *g = goal_of(goals, &ngoals, pmb_row_family(lo));
            g->done += (double)one_case(o, name, lo, hi, share_of(o, g), &t);
            g->left--;
        }
    }
    if (write_report(o, 1) < 0) {
        fprintf(stderr, "pymembench: warning: cannot write %s\n", o->out);
    }
    printf("stress: %d cases (%d skipped), %lld rounds in %.0f s: %d broke an "
           "invariant across rounds (%d crashed), leaking %lld blocks (%lld "
           "bytes); %d had a fault point that crashed or leaked\n",
           t.cases, t.skipped, (long long)t.rounds,
           pmb_seconds(CLOCK_MONOTONIC) - t0, t.broken_rounds, t.crashed,
           (long long)t.leaked_blocks, (long long)t.leaked_bytes, t.faulty);
    if (o->fault_points > 0) {
        printf("faults: %d points in %d cases: %d MemoryError, %d failed "
               "cleanly, %d absorbed, %d skipped, %d not reached, %d crashed, "
               "%d leaked\n",
               t.points, t.cases - t.skipped, t.outcomes[FAULT_MEMORY_ERROR],
               t.outcomes[FAULT_FAILED], t.outcomes[FAULT_ABSORBED],
               t.outcomes[FAULT_SKIPPED], t.outcomes[FAULT_NOT_REACHED],
               t.fault_crashed, t.fault_leaked);
    }
    if (scratch != NULL) {
        child_set_scratch(NULL);
        fclose(scratch);
        scratch = NULL;
    }
    bench_keep_crash_stack(NULL, 0, NULL);
    munmap(shared, sizeof(*shared));
    shared = NULL;
    return t.broken > 0 ? 1 : 0;
}

/* Check what can be checked before any case runs, so that bad usage
 * writes nothing: the filter selects something, the report is writable.
 * 0, or 2 said on stderr. */
static int
start_run(const stress_options *o, const pmb_filter *f)
{
    const int selected = count_selected(f);
    if (selected == 0) {
        pmb_say_no_match(o->filter, "stress case",
                         "pymembench --stress --list");
        return 2;
    }
    add_context(o);
    if (write_report(o, 0) < 0) {
        fprintf(stderr,
                "pymembench: cannot write %s: check the folder exists and is "
                "writable\n",
                o->out);
        return 2;
    }
    char ops[120] = "";
    if (o->ops > 0) {
        snprintf(ops, sizeof(ops),
                 " (longer to reach %.3g operations per family, up to %g s)",
                 o->ops, o->max_seconds);
    }
    fprintf(stderr,
            "pymembench: %d stress case(s), %.2g s each%s, %d fault point(s) "
            "each\n",
            selected, o->seconds, ops, o->fault_points);
    return 0;
}

int
stress_run(const stress_options *o)
{
    pmb_filter f;
    char err[300];
    if (pmb_filter_init(&f, o->filter, err, sizeof(err)) < 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return 2;
    }
    int status = start_run(o, &f);
    if (status == 0) {
        status = run_cases(o, &f);
    }
    pmb_filter_clear(&f);
    for (size_t i = 0; i < nrecords; i++) {
        free(records[i].label);
    }
    free(records);
    records = NULL;
    nrecords = 0;
    return status;
}
