/* clock.h - a clock read as seconds, for the drivers that time what runs
 * outside Google Benchmark (a stress child's rounds, a counted loop):
 * CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for the
 * process's CPU time. */
#ifndef PYMB_CLOCK_H
#define PYMB_CLOCK_H

#include <time.h>

static inline double
pmb_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif /* PYMB_CLOCK_H */
