/* filter.c - Google Benchmark's --benchmark_filter rules (see filter.h). */
#include "filter.h"

#include <stdio.h>
#include <string.h>

int
pmb_filter_init(pmb_filter *f, const char *spec, char *err, size_t len)
{
    memset(f, 0, sizeof(*f));
    if (spec == NULL || *spec == '\0' || strcmp(spec, "all") == 0) {
        return 0;
    }
    f->negate = spec[0] == '-';
    if (regcomp(&f->re, spec + f->negate, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(err, len,
                 "the filter '%s' is not a valid regular expression "
                 "(e.g. --benchmark_filter='refcount/|gc/collect')",
                 spec);
        return -1;
    }
    f->active = 1;
    return 0;
}

int
pmb_filter_match(const pmb_filter *f, const char *name)
{
    if (!f->active) {
        return 1;
    }
    return (regexec(&f->re, name, 0, NULL, 0) == 0) != f->negate;
}

void
pmb_filter_clear(pmb_filter *f)
{
    if (f->active) {
        regfree(&f->re);
        f->active = 0;
    }
}
