/* pins.h - --iterations-from files, read the same way by every driver
 * that sizes loops (timed runs, instruction counts): lines
 * "NAME ITERATIONS" (and # comments), as scripts/pins writes them from an
 * earlier run's results, so that a run repeats that run's loops instead
 * of calibrating its own.
 */
#ifndef PYMB_PINS_H
#define PYMB_PINS_H

#include <stdint.h>

#define PINS_MAX ((int64_t)1 << 30) /* the most a line may give */

/* For each registered row i whose iterations[i] is 0 (selected, not yet
 * given a count), the ITERATIONS of the first line naming it; NAME is the
 * name Google Benchmark reports, or the row's name without its
 * /real_time. Entries that are not 0 (-1: not selected) and names of rows
 * not registered are left alone. 0, or -1 with one line on stderr (a file
 * that cannot be read, a line that is not "NAME ITERATIONS" from 1 to
 * PINS_MAX). */
int pins_read(const char *path, int64_t *iterations);

#endif /* PYMB_PINS_H */
