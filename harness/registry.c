/* registry.c - the table of registered rows: each (case, param[, hook
 * variant]) of every family, named family/case[/param], registered with
 * Google Benchmark and listed, selected and found by name for the drivers.
 */
#include "registry.h"

#include "filter.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pmb_reg *
    *regs; /* owned; lives until exit, Google Benchmark holds ctx */
static size_t nregs;
static int hook_mode = PMB_HOOK_ON;
static int suite = PMB_SUITE_FULL;

void
pmb_set_hook(int mode)
{
    hook_mode = mode;
}

void
pmb_set_suite(int which)
{
    suite = which;
}

size_t
pmb_nrows(void)
{
    return nregs;
}

const pmb_reg *
pmb_reg_at(size_t i)
{
    return regs[i];
}

const char *
pmb_row_name(size_t i)
{
    return regs[i]->name;
}

const char *
pmb_reg_full_name(const pmb_reg *r)
{
    static char buf[sizeof(r->name) + 16];
    snprintf(buf, sizeof(buf), "%s%s", r->name,
             r->c->real_time ? "/real_time" : "");
    return buf;
}

const char *
pmb_row_full_name(size_t i)
{
    return pmb_reg_full_name(regs[i]);
}

const char *
pmb_row_family(size_t i)
{
    return regs[i]->family;
}

const pmb_case *
pmb_row_case(size_t i)
{
    return regs[i]->c;
}

/* r's names: family/case[/param]suffix, and the one Google Benchmark
 * reports. 0, or -1 when too long. */
static int
name_row(pmb_reg *r, int has_param, const char *suffix)
{
    int n = has_param
                ? snprintf(r->name, sizeof(r->name), "%s/%s/%lld%s", r->family,
                           r->c->name, (long long)r->param, suffix)
                : snprintf(r->name, sizeof(r->name), "%s/%s%s", r->family,
                           r->c->name, suffix);
    if (n < 0 || (size_t)n >= sizeof(r->name)) {
        fprintf(stderr, "pymembench: case name too long: %s/%s\n", r->family,
                r->c->name);
        return -1;
    }
    for (size_t i = 0; i < nregs; i++) {
        if (strcmp(regs[i]->name, r->name) == 0) {
            fprintf(stderr, "pymembench: duplicate case name %s\n", r->name);
            return -1;
        }
    }
    return 0;
}

static int
add_reg(const char *family, const pmb_case *c, int64_t param, int has_param,
        int hook, const char *suffix)
{
    pmb_reg *r = calloc(1, sizeof(pmb_reg));
    if (r == NULL) {
        fprintf(stderr, "pymembench: out of memory registering cases\n");
        return -1;
    }
    *r = (pmb_reg){.c = c,
                   .family = family,
                   .param = param,
                   .hook = hook,
                   .hook_per_run = hook_mode == PMB_HOOK_BOTH && hook};
    if (name_row(r, has_param, suffix) < 0) {
        goto error;
    }
    pmb_reg **grown = realloc(regs, (nregs + 1) * sizeof(*regs));
    if (grown == NULL) {
        fprintf(stderr, "pymembench: out of memory registering cases\n");
        goto error;
    }
    regs = grown;
    regs[nregs++] = r;
    return 0;
error:
    free(r);
    return -1;
}

/* One registration, or two (hook on and off) in PMB_HOOK_BOTH mode. */
static int
add_variants(const char *family, const pmb_case *c, int64_t param,
             int has_param)
{
    if (hook_mode != PMB_HOOK_BOTH) {
        return add_reg(family, c, param, has_param, hook_mode == PMB_HOOK_ON,
                       "");
    }
    if (add_reg(family, c, param, has_param, 1, "/memhook:on") < 0) {
        return -1;
    }
    return add_reg(family, c, param, has_param, 0, "/memhook:off");
}

/* Whether the 0-terminated `list` holds `p`. */
static int
has_param(const int64_t *list, int64_t p)
{
    for (; *list != 0; list++) {
        if (*list == p) {
            return 1;
        }
    }
    return 0;
}

/* A quick param the case does not have is a mistake in its table: -1 with
 * a line naming it, else 0. */
static int
quick_not_in_params(const char *family, const pmb_case *c)
{
    for (const int64_t *q = c->quick_params; *q != 0; q++) {
        if (c->params == NULL || !has_param(c->params, *q)) {
            fprintf(stderr,
                    "pymembench: %s/%s: quick param %lld is not one of its "
                    "params\n",
                    family, c->name, (long long)*q);
            return -1;
        }
    }
    return 0;
}

int
pmb_register_family(const char *family, const pmb_case *table)
{
    for (const pmb_case *c = table; c->name != NULL; c++) {
        if (c->run == NULL || c->check == NULL || c->doc == NULL) {
            fprintf(stderr, "pymembench: %s/%s lacks run, check or doc\n",
                    family, c->name);
            return -1;
        }
        if (c->params == NULL) {
            if (add_variants(family, c, 0, 0) < 0) {
                return -1;
            }
            continue;
        }
        if (c->quick_params != NULL && quick_not_in_params(family, c) < 0) {
            return -1;
        }
        for (const int64_t *p = c->params; *p != 0; p++) {
            if (suite == PMB_SUITE_QUICK && c->quick_params != NULL &&
                !has_param(c->quick_params, *p)) {
                continue;
            }
            if (add_variants(family, c, *p, 1) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* "family (N), ..." over the registered rows, into buf. */
static void
family_summary(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0, j; i < nregs && used < len; i = j) {
        for (j = i + 1;
             j < nregs && strcmp(regs[j]->family, regs[i]->family) == 0; j++) {
        }
        int n = snprintf(buf + used, len - used, "%s%s (%zu)", i ? ", " : "",
                         regs[i]->family, j - i);
        if (n < 0) {
            break;
        }
        used += (size_t)n;
    }
}

void
pmb_say_no_match(const char *filter, const char *what, const char *list)
{
    char families[512];
    family_summary(families, sizeof(families));
    fprintf(stderr,
            "pymembench: no %s matches the filter '%s' (--benchmark_filter or "
            "BENCHMARK_FILTER); the families are %s; run %s for every name\n",
            what, filter != NULL ? filter : "", families, list);
}

int
pmb_list(const char *filter)
{
    char err[256];
    pmb_filter f;
    if (pmb_filter_init(&f, filter, err, sizeof(err)) < 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < nregs; i++) {
        const char *full = pmb_reg_full_name(regs[i]);
        if (pmb_filter_match(&f, full)) {
            printf("%-44s %s\n", full, regs[i]->c->doc);
        }
    }
    pmb_filter_clear(&f);
    return 0;
}

long
pmb_select_rows(const char *filter, int64_t *iterations)
{
    char err[256];
    pmb_filter f;
    long n = 0;
    if (pmb_filter_init(&f, filter, err, sizeof(err)) < 0) {
        fprintf(stderr, "pymembench: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < nregs; i++) {
        const int chosen = pmb_filter_match(&f, pmb_reg_full_name(regs[i]));
        iterations[i] = chosen ? 0 : -1;
        n += chosen;
    }
    pmb_filter_clear(&f);
    return n;
}

int
pmb_register_timed(const int64_t *iterations)
{
    for (size_t i = 0; i < nregs; i++) {
        if (iterations[i] < 0) {
            continue;
        }
        gbs_bench *b = gbs_register(regs[i]->name, pmb_case_run, regs[i]);
        if (b == NULL) {
            fprintf(stderr, "pymembench: Google Benchmark refused %s\n",
                    regs[i]->name);
            return -1;
        }
        if (regs[i]->c->real_time) {
            gbs_bench_use_real_time(b);
        }
        if (iterations[i] > 0) {
            gbs_bench_iterations(b, iterations[i]);
        }
    }
    return 0;
}

int
pmb_mark_crashed(const char *name, const char *reason)
{
    for (size_t i = 0; i < nregs; i++) {
        if (strcmp(regs[i]->name, name) == 0 ||
            strcmp(pmb_reg_full_name(regs[i]), name) == 0) {
            snprintf(regs[i]->crashed, sizeof(regs[i]->crashed), "%s", reason);
            return 0;
        }
    }
    return -1;
}

const char *
pmb_signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGILL, "SIGILL"},   {SIGALRM, "SIGALRM (timed out)"},
        {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"},
        {SIGINT, "SIGINT"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].sig == sig) {
            return names[i].name;
        }
    }
    return "a signal";
}
