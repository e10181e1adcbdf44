/* cases.c - the case registry and the wrapper that runs one case under
 * Google Benchmark: setup, snapshot, timed run, snapshot, check, teardown,
 * then the counters every row carries (see README "Result files").
 */
#include "cases.h"

#include "exporter.h"
#include "gcx.h"
#include "procmem.h"
#include "pyx.h"
#include "resource.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reg {
    const pmb_case *c;
    const char *family; /* static, from the family's register call */
    int64_t param;
    int hook;         /* the hook counts during this case's runs */
    int hook_per_run; /* install it around each run (PMB_HOOK_BOTH) */
    char name[160];
    char crashed[96]; /* why it is not run (pmb_mark_crashed), or "" */
} reg;

static reg **regs; /* owned; lives until exit, Google Benchmark holds ctx */
static size_t nregs;
static int failures;
static int hook_mode = PMB_HOOK_ON;
static char msg[1024];
static const pmb_case *running; /* the case between setup and teardown */
static const char *volatile running_name; /* its name, for crash reports */
static int stress_mode;

/* The name Google Benchmark reports: it marks wall-clock cases. */
static const char *full_name(const reg *r)
{
    static char buf[sizeof(r->name) + 16];
    snprintf(buf, sizeof(buf), "%s%s", r->name, r->c->real_time ? "/real_time" : "");
    return buf;
}

void pmb_set_hook(int mode) { hook_mode = mode; }

int pmb_failures(void) { return failures; }

const void *pmb_data(void) { return running != NULL ? running->data : NULL; }

/* Append to msg, truncating at its end. */
static void msg_append(const char *s)
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
static void vrecord(const char *prefix, const char *fmt, va_list ap)
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

int pmb_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord("", fmt, ap);
    va_end(ap);
    return -1;
}

int pmb_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord("skipped: ", fmt, ap);
    va_end(ap);
    return PMB_SKIP;
}

int pmb_check_no_leak(const pmb_result *r, int64_t slack)
{
    if (r->hook && r->live_blocks > slack) {
        return pmb_fail("%lld blocks still live after %lld iterations",
                        (long long)r->live_blocks, (long long)r->iterations);
    }
    return 0;
}

int pmb_check_nothing_live(const pmb_result *r)
{
    if (r->hook && (r->live_blocks != 0 || r->live_bytes != 0)) {
        return pmb_fail("%lld blocks (%lld bytes) still live after %lld iterations",
                        (long long)r->live_blocks, (long long)r->live_bytes,
                        (long long)r->iterations);
    }
    return 0;
}

int pmb_check_batches(const pmb_result *r, int64_t batches, int64_t per_batch)
{
    if (batches * per_batch != r->timed_iterations) {
        return pmb_fail("the timed loop completed %lld batches of %lld for %lld iterations",
                        (long long)batches, (long long)per_batch,
                        (long long)r->timed_iterations);
    }
    return 0;
}

void pmb_faults_counter(gbs_state *st, int64_t before)
{
    gbs_counter(st, "minor_faults_per_iter", (double)(procmem_minor_faults() - before),
                GBS_COUNTER_AVG_ITERATIONS);
}

void pmb_run_error(gbs_state *st)
{
    char text[512];
    pyx_error_text(text, sizeof(text));
    snprintf(msg, sizeof(msg), "run raised %s", text);
    gbs_skip_with_error(st, msg);
}

/* The counters every row carries; per-iteration values are divided here
 * (by count()'s iterations when the counts come from it). RSS is read right
 * after the timed run, before the check or count() can move it. */
static void add_counters(gbs_state *st, const pmb_result *res, uint64_t peak_above,
                         int have_rss, uint64_t rss, uint64_t peak)
{
    if (res->hook && res->iterations > 0) {
        const double n = (double)res->iterations;
        gbs_counter(st, "allocs_per_iter", (double)res->delta.allocs / n, GBS_COUNTER_DEFAULT);
        gbs_counter(st, "frees_per_iter", (double)res->delta.frees / n, GBS_COUNTER_DEFAULT);
        gbs_counter(st, "reallocs_per_iter", (double)res->delta.reallocs / n,
                    GBS_COUNTER_DEFAULT);
        gbs_counter(st, "bytes_per_iter", (double)res->delta.bytes / n, GBS_COUNTER_DEFAULT);
        gbs_counter(st, "heap_peak_bytes", (double)peak_above, GBS_COUNTER_DEFAULT);
    }
    if (have_rss) {
        gbs_counter(st, "rss_bytes", (double)rss, GBS_COUNTER_DEFAULT);
        gbs_counter(st, "peak_bytes", (double)peak, GBS_COUNTER_DEFAULT);
    }
}

/* What a case found before its setup. */
typedef struct found {
    Py_ssize_t frozen;
    int64_t resources; /* alive */
    int64_t exports;   /* unreleased */
} found;

/* What a case must leave as it found it: the collector's settings (as at
 * the first case), no more objects frozen, resources alive or buffer
 * exports unreleased than before its setup. After the teardown,
 * garbage the case left (a snippet's globals form a cycle) is collected
 * here, untimed, so that no later case's timed loop collects it. Returns 0,
 * or -1 with the reason in msg. */
static int left_behind(const found *was)
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
    if (now.enabled != first.enabled || now.threshold[0] != first.threshold[0] ||
        now.threshold[1] != first.threshold[1] || now.threshold[2] != first.threshold[2] ||
        frozen > was->frozen) {
        return pmb_fail("left the collector changed: enabled %d, thresholds %ld %ld %ld, "
                        "%zd frozen (was %d, %ld %ld %ld, %zd)", now.enabled, now.threshold[0],
                        now.threshold[1], now.threshold[2], frozen, first.enabled,
                        first.threshold[0], first.threshold[1], first.threshold[2],
                        was->frozen);
    }
    if (res_get()->live > was->resources) {
        return pmb_fail("left %lld resource(s) alive",
                        (long long)(res_get()->live - was->resources));
    }
    if (exporter_get()->live > was->exports) {
        return pmb_fail("left %lld buffer export(s) unreleased",
                        (long long)(exporter_get()->live - was->exports));
    }
    return 0;
}

static void counts_sub(memhook_counts *out, const memhook_counts *a, const memhook_counts *b)
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

/* The Google Benchmark function for every registered (case, param). */
static void run_registered(gbs_state *st, void *ctx)
{
    const reg *r = ctx;
    const pmb_case *c = r->c;
    const int hook_on = r->hook;
    memhook_counts before = {0}, after = {0};
    pmb_result res;

    msg[0] = '\0';
    if (r->crashed[0] != '\0') {
        failures++;
        gbs_skip_with_error(st, r->crashed);
        return;
    }
    running_name = r->name;
    /* Fault injection reaches the case's own code only (setup, run,
     * count, check, teardown), never this bookkeeping. */
    memhook_fail_pause(1);
    found was = {gcx_init() == 0 ? gcx_frozen() : -1, res_get()->live, exporter_get()->live};
    if (was.frozen < 0) {
        PyErr_Clear();
        was.frozen = 0;
    }
    if (r->hook_per_run && memhook_install() < 0) {
        memhook_fail_pause(0);
        running_name = NULL;
        failures++;
        gbs_skip_with_error(st, "cannot install the counting hook");
        return;
    }
    running = c;
    memhook_fail_pause(0);
    int rc = c->setup ? c->setup(r->param) : 0;
    if (rc != 0) {
        if (rc != PMB_SKIP) {
            failures++;
            if (msg[0] == '\0') {
                pmb_fail("setup failed");
            }
        }
        gbs_skip_with_error(st, msg);
        goto done;
    }

    /* Allocation-bound cases are timed without the hook, and counted by
     * count() (see pmb_case.count); in stress mode the hook stays in (the
     * live counts must carry across rounds), but count() still counts. */
    const int unhooked = hook_on && c->count != NULL;
    const int uninstall = unhooked && !stress_mode;
    int64_t counted = 0;
    uint64_t rss = 0, peak = 0;
    if (uninstall) {
        memhook_uninstall(); /* gives back a grown side table: before the reset */
    }
    procmem_reset_peak();
    if (hook_on && !unhooked) {
        memhook_reset_peak();
        memhook_read_total(&before);
    }
    c->run(st, r->param);
    if (hook_on && !unhooked) {
        memhook_read_total(&after);
    }
    const int have_rss = procmem_read(&rss, &peak) == 0;
    if (unhooked) {
        if (uninstall && memhook_install() < 0) {
            failures++;
            gbs_skip_with_error(st, "cannot reinstall the counting hook (out of memory)");
            goto done;
        }
        if (!gbs_error_occurred(st)) {
            memhook_reset_peak();
            memhook_read_total(&before);
            counted = c->count(r->param);
            memhook_read_total(&after);
        }
    }
    if (gbs_error_occurred(st)) {
        failures++;
        goto done;
    }

    memset(&res, 0, sizeof(res));
    res.param = r->param;
    res.iterations = unhooked ? counted : gbs_iterations(st);
    res.timed_iterations = gbs_iterations(st);
    res.hook = hook_on;
    if (hook_on) {
        counts_sub(&res.delta, &after, &before);
        res.live_blocks = (int64_t)after.live_blocks - (int64_t)before.live_blocks;
        res.live_bytes = (int64_t)after.live_bytes - (int64_t)before.live_bytes;
    }
    if (counted < 0 || c->check(&res) != 0) {
        failures++;
        char text[sizeof(msg) + 32];
        snprintf(text, sizeof(text), "%s failed: %s", counted < 0 ? "count" : "check",
                 msg[0] ? msg : "(no reason)");
        fprintf(stderr, "pymembench: %s: %s\n", full_name(r), text);
        gbs_skip_with_error(st, text);
        goto done;
    }
    add_counters(st, &res,
                 hook_on && after.peak_bytes > before.live_bytes
                     ? after.peak_bytes - before.live_bytes : 0,
                 have_rss, rss, peak);
done:
    memhook_fail_pause(0);
    if (c->teardown) {
        c->teardown();
    }
    memhook_fail_pause(1);
    running = NULL;
    if (left_behind(&was) < 0) {
        failures++;
        fprintf(stderr, "pymembench: %s: %s\n", full_name(r), msg);
        if (!gbs_error_occurred(st)) {
            gbs_skip_with_error(st, msg);
        }
    }
    if (r->hook_per_run) {
        memhook_uninstall();
    }
    if (PyErr_Occurred()) {
        /* A case must not leave an exception behind; say so, once. */
        char text[256];
        pyx_error_text(text, sizeof(text));
        fprintf(stderr, "pymembench: %s left an exception set: %s\n", full_name(r),
                text);
        failures++;
    }
    memhook_fail_pause(0);
    running_name = NULL;
}

static int add_reg(const char *family, const pmb_case *c, int64_t param, int has_param,
                   int hook, const char *suffix)
{
    reg *r = calloc(1, sizeof(reg));
    if (r == NULL) {
        fprintf(stderr, "pymembench: out of memory registering cases\n");
        return -1;
    }
    r->c = c;
    r->family = family;
    r->param = param;
    r->hook = hook;
    r->hook_per_run = hook_mode == PMB_HOOK_BOTH && hook;
    int n = has_param
                ? snprintf(r->name, sizeof(r->name), "%s/%s/%lld%s", family, c->name,
                           (long long)param, suffix)
                : snprintf(r->name, sizeof(r->name), "%s/%s%s", family, c->name, suffix);
    if (n < 0 || (size_t)n >= sizeof(r->name)) {
        fprintf(stderr, "pymembench: case name too long: %s/%s\n", family, c->name);
        goto error;
    }
    for (size_t i = 0; i < nregs; i++) {
        if (strcmp(regs[i]->name, r->name) == 0) {
            fprintf(stderr, "pymembench: duplicate case name %s\n", r->name);
            goto error;
        }
    }
    reg **grown = realloc(regs, (nregs + 1) * sizeof(*regs));
    if (grown == NULL) {
        fprintf(stderr, "pymembench: out of memory registering cases\n");
        goto error;
    }
    regs = grown;
    gbs_bench *b = gbs_register(r->name, run_registered, r);
    if (b == NULL) {
        fprintf(stderr, "pymembench: Google Benchmark refused %s\n", r->name);
        goto error;
    }
    if (c->real_time) {
        gbs_bench_use_real_time(b);
    }
    regs[nregs++] = r;
    return 0;
error:
    free(r);
    return -1;
}

/* One registration, or two (hook on and off) in PMB_HOOK_BOTH mode. */
static int add_variants(const char *family, const pmb_case *c, int64_t param, int has_param)
{
    if (hook_mode != PMB_HOOK_BOTH) {
        return add_reg(family, c, param, has_param, hook_mode == PMB_HOOK_ON, "");
    }
    if (add_reg(family, c, param, has_param, 1, "/memhook:on") < 0) {
        return -1;
    }
    return add_reg(family, c, param, has_param, 0, "/memhook:off");
}

static int suite = PMB_SUITE_FULL;

void pmb_set_suite(int which)
{
    suite = which;
}

int pmb_register_family(const char *family, const pmb_case *table)
{
    for (const pmb_case *c = table; c->name != NULL; c++) {
        if (c->run == NULL || c->check == NULL || c->doc == NULL) {
            fprintf(stderr, "pymembench: %s/%s lacks run, check or doc\n", family, c->name);
            return -1;
        }
        if (c->params == NULL) {
            if (add_variants(family, c, 0, 0) < 0) {
                return -1;
            }
            continue;
        }
        for (const int64_t *p = c->params; *p != 0; p++) {
            if (suite == PMB_SUITE_QUICK && c->quick_max != 0 && *p > c->quick_max) {
                continue;
            }
            if (add_variants(family, c, *p, 1) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

void pmb_family_summary(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0, j; i < nregs && used < len; i = j) {
        for (j = i + 1; j < nregs && strcmp(regs[j]->family, regs[i]->family) == 0; j++) {
        }
        int n = snprintf(buf + used, len - used, "%s%s (%zu)", i ? ", " : "", regs[i]->family,
                         j - i);
        if (n < 0) {
            break;
        }
        used += (size_t)n;
    }
}

void pmb_list(void)
{
    for (size_t i = 0; i < nregs; i++) {
        printf("%-44s %s\n", full_name(regs[i]), regs[i]->c->doc);
    }
}

void pmb_set_stress(int on) { stress_mode = on; }

size_t pmb_nrows(void) { return nregs; }

const char *pmb_row_name(size_t i) { return regs[i]->name; }

const char *pmb_row_family(size_t i) { return regs[i]->family; }

const pmb_case *pmb_row_case(size_t i) { return regs[i]->c; }

static int64_t last_iterations;

int64_t pmb_last_iterations(void) { return last_iterations; }

int pmb_run_row(size_t i, int64_t iterations, const char **why)
{
    static char reason[sizeof(msg)];
    const int before = failures;
    gbs_state *st = gbs_manual_begin(iterations);
    run_registered(st, regs[i]);
    last_iterations = gbs_iterations(st);
    const char *err = gbs_manual_error(st);
    snprintf(reason, sizeof(reason), "%s", err != NULL ? err : msg);
    gbs_manual_end(st);
    *why = reason;
    if (failures > before) {
        if (reason[0] == '\0') {
            snprintf(reason, sizeof(reason), "failed (no reason given; see stderr)");
        }
        return -1;
    }
    return err != NULL ? PMB_SKIP : 0;
}

const char *pmb_running_name(void) { return running_name; }

const char *pmb_signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
        {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGALRM, "SIGALRM (timed out)"},
        {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].sig == sig) {
            return names[i].name;
        }
    }
    return "a signal";
}

int pmb_mark_crashed(const char *name, const char *reason)
{
    for (size_t i = 0; i < nregs; i++) {
        if (strcmp(regs[i]->name, name) == 0 || strcmp(full_name(regs[i]), name) == 0) {
            snprintf(regs[i]->crashed, sizeof(regs[i]->crashed), "%s", reason);
            return 0;
        }
    }
    return -1;
}
