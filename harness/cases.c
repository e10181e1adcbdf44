/* cases.c - the lifecycle of one case, whatever drives it (Google
 * Benchmark, a stress round, an instruction count): setup, a timed run,
 * check, teardown, a counted pass where the hook's counts are wanted (see
 * count_mode), then what the case left behind; and the counters every row
 * carries (docs/results.md).
 */
#include "registry.h"

#include "clock.h"
#include "gcx.h"
#include "procmem.h"
#include "pyx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static char msg[1024];
static const pmb_case *running; /* the case between setup and teardown */
/* The row whose setup last ran with the hook in, and whether the running
 * setup does (pmb_setup_measures). */
static const pmb_reg *hooked_setup_row;
static int setup_hooked;
static const pmb_reg *running_reg;
static const char *volatile running_name; /* its name, for crash reports */
static int stress_mode;
static const pmb_sentinel *sentinels[PMB_MAX_SENTINELS];
static size_t nsentinels;

int
pmb_failures(void)
{
    return failures;
}

const void *
pmb_data(void)
{
    return running != NULL ? running->data : NULL;
}

int
pmb_setup_measures(void)
{
    if (setup_hooked) {
        return 1;
    }
    return running_reg != NULL && running_reg->hook &&
                   hooked_setup_row == running_reg
               ? 0
               : -1;
}

const char *
pmb_running_name(void)
{
    return running_name;
}

void
pmb_set_stress(int on)
{
    stress_mode = on;
}

int
pmb_add_sentinel(const pmb_sentinel *s)
{
    for (size_t i = 0; i < nsentinels; i++) {
        if (sentinels[i] == s) {
            return 0;
        }
    }
    if (nsentinels == PMB_MAX_SENTINELS) {
        fprintf(stderr,
                "pymembench: more than %d sentinels (raise "
                "PMB_MAX_SENTINELS)\n",
                PMB_MAX_SENTINELS);
        return -1;
    }
    sentinels[nsentinels++] = s;
    return 0;
}

size_t
pmb_nsentinels(void)
{
    return nsentinels;
}

const pmb_sentinel *
pmb_sentinel_at(size_t i)
{
    return sentinels[i];
}

/* Append to msg, truncating at its end. */
static void
msg_append(const char *s)
{
    size_t used = strlen(msg);
    size_t len = strlen(s);
    if (len > sizeof(msg) - 1 - used) {
        len = sizeof(msg) - 1 - used;
    }
    memcpy(msg + used, s, len);
    msg[used + len] = '\0';
}

/* msg = prefix + formatted text [+ " (" pending exception ")"]; the
 * exception, if any, is always cleared. */
static void
vrecord(const char *prefix, const char *fmt, va_list ap)
{
    char exc[512] = "";
    char text[sizeof(msg)];
    if (PyErr_Occurred()) {
        pyx_error_text(exc, sizeof(exc)); /* clears it */
    }
    if (vsnprintf(text, sizeof(text), fmt, ap) < 0) {
        strcpy(text, "(unformattable message)");
    }
    msg[0] = '\0';
    msg_append(prefix);
    msg_append(text);
    if (exc[0] != '\0') {
        msg_append(" (");
        msg_append(exc);
        msg_append(")");
    }
}

int
pmb_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord("", fmt, ap);
    va_end(ap);
    return -1;
}

int
pmb_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord("skipped: ", fmt, ap);
    va_end(ap);
    return PMB_SKIP;
}

int
pmb_check_no_leak(const pmb_result *r, int64_t slack)
{
    if (r->hook && r->live_blocks > slack) {
        return pmb_fail("%lld blocks still live after %lld iterations",
                        (long long)r->live_blocks, (long long)r->iterations);
    }
    return 0;
}

int
pmb_check_nothing_live(const pmb_result *r)
{
    if (r->hook && (r->live_blocks != 0 || r->live_bytes != 0)) {
        return pmb_fail("%lld blocks (%lld bytes) still live after %lld "
                        "iterations",
                        (long long)r->live_blocks, (long long)r->live_bytes,
                        (long long)r->iterations);
    }
    return 0;
}

int
pmb_check_batches(const pmb_result *r, int64_t batches, int64_t per_batch)
{
    if (batches * per_batch != r->timed_iterations) {
        return pmb_fail("the timed loop completed %lld batches of %lld for "
                        "%lld iterations",
                        (long long)batches, (long long)per_batch,
                        (long long)r->timed_iterations);
    }
    return 0;
}

void
pmb_faults_counter(gbs_state *st, int64_t before)
{
    gbs_counter(st, "minor_faults_per_iter",
                (double)(procmem_minor_faults() - before),
                GBS_COUNTER_AVG_ITERATIONS);
}

void
pmb_run_error(gbs_state *st)
{
    char text[512];
    pyx_error_text(text, sizeof(text));
    snprintf(msg, sizeof(msg), "run raised %s", text);
    gbs_skip_with_error(st, msg);
}

/* A failed row: counted, said on stderr when `loud`, and its error set
 * (unless one already is). */
static void
row_failed(gbs_state *st, const pmb_reg *r, const char *why, int loud)
{
    failures++;
    if (loud) {
        fprintf(stderr, "pymembench: %s: %s\n", pmb_reg_full_name(r), why);
    }
    if (!gbs_error_occurred(st)) {
        gbs_skip_with_error(st, why);
    }
}

/* What a case found before its setup. */
typedef struct found {
    Py_ssize_t frozen;
    int64_t counts[PMB_MAX_SENTINELS];
} found;

static void
look_before(found *was)
{
    was->frozen = gcx_init() == 0 ? gcx_frozen() : -1;
    if (was->frozen < 0) {
        PyErr_Clear();
        was->frozen = 0;
    }
    for (size_t i = 0; i < nsentinels; i++) {
        was->counts[i] = sentinels[i]->count();
    }
}

/* The collector as the first case found it, and no more objects frozen
 * than before this one. 0, or -1 with the reason in msg. */
static int
collector_unchanged(const found *was)
{
    static gcx_saved first;
    gcx_saved now;
    if (gcx_init() < 0 || gcx_save(&now) < 0) {
        return pmb_fail("cannot read the collector's settings");
    }
    Py_ssize_t frozen = gcx_frozen();
    if (!first.valid) {
        first = now;
    }
    if (PyGC_Collect() < 0 || PyErr_Occurred()) {
        return pmb_fail("collecting the case's garbage failed");
    }
    if (now.enabled != first.enabled ||
        now.threshold[0] != first.threshold[0] ||
        now.threshold[1] != first.threshold[1] ||
        now.threshold[2] != first.threshold[2] || frozen > was->frozen) {
        return pmb_fail("left the collector changed: enabled %d, thresholds "
                        "%ld %ld %ld, "
                        "%zd frozen (was %d, %ld %ld %ld, %zd)",
                        now.enabled, now.threshold[0], now.threshold[1],
                        now.threshold[2], frozen, first.enabled,
                        first.threshold[0], first.threshold[1],
                        first.threshold[2], was->frozen);
    }
    return 0;
}

/* What a case must leave as it found it: the collector's settings and
 * every per-case sentinel. After the teardown, garbage the case left (a
 * snippet's globals form a cycle) is collected here, untimed, so that no
 * later case's timed loop collects it. 0, or -1 with the reason in msg. */
static int
left_behind(const found *was)
{
    if (collector_unchanged(was) < 0) {
        return -1;
    }
    for (size_t i = 0; i < nsentinels; i++) {
        int64_t now = sentinels[i]->count();
        if (sentinels[i]->per_case && now > was->counts[i]) {
            return pmb_fail("left %lld %s", (long long)(now - was->counts[i]),
                            sentinels[i]->left);
        }
    }
    return 0;
}

static void
counts_sub(memhook_counts *out, const memhook_counts *a,
           const memhook_counts *b)
{
    out->allocs = a->allocs - b->allocs;
    out->frees = a->frees - b->frees;
    out->reallocs = a->reallocs - b->reallocs;
    out->bytes = a->bytes - b->bytes;
    out->untracked_frees = a->untracked_frees - b->untracked_frees;
    out->live_blocks = a->live_blocks;
    out->live_bytes = a->live_bytes;
    out->peak_bytes = a->peak_bytes;
}

/* One measured run of a set-up case, and what it gave. */
typedef struct measured {
    memhook_counts before, after;
    int64_t counted; /* count()'s iterations, when the counts come from it */
    int have_rss;
    uint64_t rss, peak;
} measured;

/* Where a row's counts come from. Google Benchmark runs (the bench mode):
 * never from the timed run, whose loop runs with the hook uninstalled -
 * from count() right after it (allocation-bound cases), or else from a
 * counted pass of the row's own (count_pass). A row of --memhook=both's
 * :on half keeps the hook in its timed run (it measures the hook), and in
 * stress mode the hook stays in (the live counts carry across rounds):
 * both count during run(), or with count() where the case has one. */
enum { COUNT_IN_RUN, COUNT_AFTER_RUN, COUNT_PASS };

static double timed_seconds; /* a COUNT_PASS row's last timed run, wall */

/* The last row counted, once per row and process: Google Benchmark calls
 * a row once per repetition and at each step that sizes its loop, and a
 * count does not change with the clock. COUNT_PASS rows keep the checked
 * result of their counted pass, COUNT_AFTER_RUN rows the snapshots around
 * their first count() (a million-int heap counted under the hook takes a
 * second; its repetitions reuse it). Stress counts every round. */
static struct {
    const pmb_reg *r; /* whose counts these are, or NULL */
    pmb_result res;
    measured m;
} last_count;

static int
count_mode(const pmb_reg *r)
{
    if (r->c->count != NULL) {
        return COUNT_AFTER_RUN;
    }
    return r->hook_per_run || stress_mode ? COUNT_IN_RUN : COUNT_PASS;
}

/* The hook in for a counted region: 1 when this call put it in (take it
 * out again after), 0 when it was in already (a driver that keeps it in
 * throughout), -1 out of memory. In `make bench` it is in only while a
 * case is counted: setups and teardowns (which can build a million-object
 * heap) and timed runs never pay for it. */
static int
hook_in(void)
{
    if (memhook_installed()) {
        return 0;
    }
    return memhook_install() < 0 ? -1 : 1;
}

/* The timed run; for COUNT_AFTER_RUN, the counted one right after. The
 * hook is out of the timed loop unless it counts there (COUNT_IN_RUN).
 * 0, or -1 with the row's error set. */
static int
measure(gbs_state *st, const pmb_reg *r, measured *m)
{
    const pmb_case *c = r->c;
    const int in_run = r->hook && count_mode(r) == COUNT_IN_RUN;
    const int out = r->hook && !in_run && !stress_mode && memhook_installed();
    if (out) {
        memhook_uninstall(); /* gives back a grown side table: before the reset
                              */
    }
    procmem_reset_peak();
    if (in_run) {
        memhook_reset_peak();
        memhook_read_total(&m->before);
    }
    const int paced = r->hook && count_mode(r) == COUNT_PASS;
    const double start = paced ? pmb_seconds(CLOCK_MONOTONIC) : 0.0;
    c->run(st, r->param);
    if (paced) {
        timed_seconds = pmb_seconds(CLOCK_MONOTONIC) - start;
    }
    if (in_run) {
        memhook_read_total(&m->after);
    }
    m->have_rss = procmem_read(&m->rss, &m->peak) == 0;
    if (out && memhook_install() < 0) {
        gbs_skip_with_error(st, "cannot reinstall the counting hook (out of "
                                "memory)");
        return -1;
    }
    if (r->hook && count_mode(r) == COUNT_AFTER_RUN && !stress_mode &&
        !gbs_error_occurred(st) && last_count.r == r) {
        m->before = last_count.m.before;
        m->after = last_count.m.after;
        m->counted = last_count.m.counted;
    }
    else if (r->hook && count_mode(r) == COUNT_AFTER_RUN &&
             !gbs_error_occurred(st)) {
        last_count.r = NULL;
        const int put = hook_in();
        if (put < 0) {
            gbs_skip_with_error(st, "cannot install the counting hook (out "
                                    "of memory)");
            return -1;
        }
        memhook_reset_peak();
        memhook_read_total(&m->before);
        m->counted = c->count(r->param);
        memhook_read_total(&m->after);
        if (put) {
            memhook_uninstall();
        }
        if (m->counted >= 0 && !stress_mode) {
            last_count.m = *m;
            last_count.r = r;
        }
    }
    return gbs_error_occurred(st) ? -1 : 0;
}

/* The hook's counters; per-iteration values are divided here (by the
 * iterations the counts cover). */
static void
add_hook_counters(gbs_state *st, const pmb_result *res, const measured *m)
{
    if (!res->hook || res->iterations <= 0) {
        return;
    }
    const double n = (double)res->iterations;
    const uint64_t peak_above =
        m->after.peak_bytes > m->before.live_bytes
            ? m->after.peak_bytes - m->before.live_bytes
            : 0;
    gbs_counter(st, "allocs_per_iter", (double)res->delta.allocs / n,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "frees_per_iter", (double)res->delta.frees / n,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "reallocs_per_iter", (double)res->delta.reallocs / n,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "bytes_per_iter", (double)res->delta.bytes / n,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "heap_peak_bytes", (double)peak_above,
                GBS_COUNTER_DEFAULT);
}

/* What the hook saw between m's two snapshots, for the check. */
static void
fill_result(pmb_result *res, const pmb_reg *r, const measured *m,
            int64_t iterations, int64_t timed_iterations, int hook)
{
    memset(res, 0, sizeof(*res));
    res->param = r->param;
    res->iterations = iterations;
    res->timed_iterations = timed_iterations;
    res->hook = hook;
    if (hook) {
        counts_sub(&res->delta, &m->after, &m->before);
        res->live_blocks =
            (int64_t)m->after.live_blocks - (int64_t)m->before.live_blocks;
        res->live_bytes =
            (int64_t)m->after.live_bytes - (int64_t)m->before.live_bytes;
    }
}

/* Measure a set-up case, check it, and give its row the counters (RSS was
 * read right after the timed run, before the check or count() could move
 * it; a COUNT_PASS row gets the hook's counters from count_pass). */
static void
measure_and_check(gbs_state *st, const pmb_reg *r)
{
    measured m = {0};
    pmb_result res;
    if (measure(st, r, &m) < 0) {
        failures++;
        return;
    }
    const int mode = count_mode(r);
    const int after = r->hook && mode == COUNT_AFTER_RUN;
    fill_result(&res, r, &m, after ? m.counted : gbs_iterations(st),
                gbs_iterations(st), r->hook && mode != COUNT_PASS);
    if (m.counted < 0 || r->c->check(&res) != 0) {
        char text[sizeof(msg) + 32];
        snprintf(text, sizeof(text), "%s failed: %s",
                 m.counted < 0 ? "count" : "check",
                 msg[0] ? msg : "(no reason)");
        row_failed(st, r, text, 1);
        last_count.r = NULL; /* its next run counts again */
        return;
    }
    add_hook_counters(st, &res, &m);
    if (m.have_rss) {
        gbs_counter(st, "rss_bytes", (double)m.rss, GBS_COUNTER_DEFAULT);
        gbs_counter(st, "peak_bytes", (double)m.peak, GBS_COUNTER_DEFAULT);
    }
}

/* Setup, measured run and check; the teardown is the caller's. Fault
 * injection reaches the case's own code only (setup, run, count, check,
 * teardown), never the engine's bookkeeping. */
static void
run_set_up(gbs_state *st, const pmb_reg *r)
{
    running = r->c;
    running_reg = r;
    setup_hooked = memhook_installed();
    if (setup_hooked) {
        hooked_setup_row = r;
    }
    memhook_fail_pause(0);
    int rc = r->c->setup ? r->c->setup(r->param) : 0;
    setup_hooked = 0;
    if (rc == 0) {
        measure_and_check(st, r);
        return;
    }
    if (rc != PMB_SKIP) {
        failures++;
        if (msg[0] == '\0') {
            pmb_fail("setup failed");
        }
    }
    gbs_skip_with_error(st, msg);
}

/* The counted pass (COUNT_PASS rows): the row's own setup, `n` iterations
 * of run() under the hook with no clock (a manual state), check, teardown.
 * Once per row and process: Google Benchmark calls a row once per
 * repetition and while it sizes the loop, and a count does not change with
 * the clock. n is what fills COUNT_PASS_SECONDS at the pace of the row's
 * first timed run, from 1 to COUNT_PASS_MAX: enough iterations that a
 * first iteration's extra allocations (a freelist filling) weigh little,
 * few enough that counting costs a small part of a row's time. */
#define COUNT_PASS_MAX ((int64_t)1 << 16)
#define COUNT_PASS_SECONDS 0.005

/* 0, or -1 with the reason in msg and the failed step in *what ("check"
 * like the timed run's, or "counted pass"). */
static int
count_pass(const pmb_reg *r, int64_t n, const char **what)
{
    const pmb_case *c = r->c;
    last_count.r = NULL;
    *what = "counted pass";
    int rc = c->setup ? c->setup(r->param) : 0;
    if (rc != 0) {
        return msg[0] ? -1 : pmb_fail("setup failed");
    }
    measured *m = &last_count.m;
    memset(m, 0, sizeof(*m));
    const int put = hook_in();
    gbs_manual_keep_counters(1);
    gbs_state *ms = gbs_manual_begin(n);
    if (put < 0) {
        gbs_skip_with_error(ms, "cannot install the counting hook (out of "
                                "memory)");
    }
    else {
        memhook_reset_peak();
        memhook_read_total(&m->before);
        c->run(ms, r->param);
        memhook_read_total(&m->after);
    }
    if (put > 0) {
        memhook_uninstall();
    }
    const int64_t done = gbs_iterations(ms);
    const char *err = gbs_manual_error(ms);
    if (err != NULL) {
        rc = pmb_fail("%s", err);
    }
    else {
        fill_result(&last_count.res, r, m, done, done, 1);
        *what = "check";
        rc = c->check(&last_count.res);
    }
    gbs_manual_end(ms);
    gbs_manual_keep_counters(0);
    if (c->teardown) {
        c->teardown();
    }
    if (rc == 0) {
        last_count.r = r;
    }
    return rc;
}

/* A COUNT_PASS row's counters, counted on the row's first run. */
static void
add_counted(gbs_state *st, const pmb_reg *r)
{
    if (last_count.r != r) {
        const double per_iteration =
            timed_seconds /
            (double)(gbs_iterations(st) > 0 ? gbs_iterations(st) : 1);
        int64_t n = COUNT_PASS_MAX;
        if (per_iteration * (double)COUNT_PASS_MAX > COUNT_PASS_SECONDS) {
            n = (int64_t)(COUNT_PASS_SECONDS / per_iteration);
        }
        const char *what;
        msg[0] = '\0';
        if (count_pass(r, n > 0 ? n : 1, &what) < 0) {
            char text[sizeof(msg) + 32];
            snprintf(text, sizeof(text), "%s failed: %s", what,
                     msg[0] ? msg : "(no reason)");
            row_failed(st, r, text, 1);
            return;
        }
    }
    add_hook_counters(st, &last_count.res, &last_count.m);
    gbs_manual_counters_to(st);
}

/* After the teardown: what the case left behind, and whether it left an
 * exception set (said once); the hook out again if `put` in. */
static void
after_teardown(gbs_state *st, const pmb_reg *r, const found *was, int put)
{
    if (left_behind(was) < 0) {
        row_failed(st, r, msg, 1);
    }
    if (put > 0) {
        memhook_uninstall();
    }
    if (PyErr_Occurred()) {
        char text[256];
        pyx_error_text(text, sizeof(text));
        fprintf(stderr, "pymembench: %s left an exception set: %s\n",
                pmb_reg_full_name(r), text);
        failures++;
    }
}

void
pmb_case_run(gbs_state *st, void *ctx)
{
    const pmb_reg *r = ctx;
    found was;
    msg[0] = '\0';
    if (r->crashed[0] != '\0') {
        row_failed(st, r, r->crashed, 0);
        return;
    }
    running_name = r->name;
    memhook_fail_pause(1);
    look_before(&was);
    /* count() cases that measure in their setup too (counts_setup:
     * alloc/object/...: what one object asks for): on the run that counts
     * the row (its first in this process), the hook is in for its whole
     * lifecycle but the timed run; its later runs reuse those counts
     * (last_count) and need no hook at all. Other count() cases have it in
     * for count() alone (measure): a burst's setup under it costs ten times
     * its timed batch. */
    const int put =
        r->hook && (r->hook_per_run ||
                    (count_mode(r) == COUNT_AFTER_RUN && r->c->counts_setup &&
                     (last_count.r != r || hooked_setup_row != r)))
            ? hook_in()
            : 0;
    if (put < 0) {
        memhook_fail_pause(0);
        running_name = NULL;
        row_failed(st, r, "cannot install the counting hook", 0);
        return;
    }
    run_set_up(st, r);
    memhook_fail_pause(0);
    if (r->c->teardown) {
        r->c->teardown();
    }
    if (r->hook && count_mode(r) == COUNT_PASS && !gbs_error_occurred(st)) {
        add_counted(st, r);
    }
    memhook_fail_pause(1);
    running = NULL;
    running_reg = NULL;
    after_teardown(st, r, &was, put);
    memhook_fail_pause(0);
    running_name = NULL;
}

static int64_t last_iterations;

int64_t
pmb_last_iterations(void)
{
    return last_iterations;
}

int
pmb_run_row(size_t i, int64_t iterations, const char **why)
{
    static char reason[sizeof(msg)];
    const int before = failures;
    gbs_state *st = gbs_manual_begin(iterations);
    pmb_case_run(st, (void *)pmb_reg_at(i));
    last_iterations = gbs_iterations(st);
    const char *err = gbs_manual_error(st);
    snprintf(reason, sizeof(reason), "%s", err != NULL ? err : msg);
    gbs_manual_end(st);
    *why = reason;
    if (failures > before) {
        if (reason[0] == '\0') {
            snprintf(reason, sizeof(reason),
                     "failed (no reason given; see stderr)");
        }
        return -1;
    }
    return err != NULL ? PMB_SKIP : 0;
}
