/* procmem.h - process memory readings from /proc (Linux).
 *
 * RSS now and peak RSS (VmHWM); the peak can be reset by writing 5 to
 * /proc/self/clear_refs where the kernel allows it (Linux 4.0+).
 */
#ifndef PYMB_PROCMEM_H
#define PYMB_PROCMEM_H

#include <stdint.h>

/* Current and peak resident set size in bytes. 0, or -1 if unreadable. */
int procmem_read(uint64_t *rss, uint64_t *peak);
/* Reset the peak to the current RSS. 0, or -1 where the kernel refuses. */
int procmem_reset_peak(void);
/* The process's peak RSS since it started, across resets. 0 or -1. */
int procmem_process_peak(uint64_t *peak);
/* Minor page faults of the process so far (getrusage); 0 if unreadable. */
int64_t procmem_minor_faults(void);

#endif /* PYMB_PROCMEM_H */
