/* filter.h - case selection with Google Benchmark's --benchmark_filter
 * rules, written once for every mode (timed runs, stress runs, instruction
 * counts, --list): an empty spec or "all" selects everything, a leading
 * '-' selects what the rest does not match, the rest is a POSIX extended
 * regular expression searched anywhere in the name.
 */
#ifndef PYMB_FILTER_H
#define PYMB_FILTER_H

#include <regex.h>
#include <stddef.h>

typedef struct pmb_filter {
    int active; /* 0: everything matches */
    int negate; /* a leading '-' */
    regex_t re; /* compiled when active */
} pmb_filter;

/* Compile `spec` (NULL selects everything). 0, or -1 with one line saying
 * what is wrong in err. */
int pmb_filter_init(pmb_filter *f, const char *spec, char *err, size_t len);
/* 1 when `name` is selected. */
int pmb_filter_match(const pmb_filter *f, const char *name);
/* Safe to call twice, and after a failed init. */
void pmb_filter_clear(pmb_filter *f);

#endif /* PYMB_FILTER_H */
