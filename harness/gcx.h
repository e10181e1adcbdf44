/* gcx.h - the cyclic collector as the gc module shows it: collect, the
 * per-generation statistics, thresholds, enable/disable and freeze, saved
 * and put back around a case. Every call goes through the gc module
 * (gc.collect collects even when the collector is disabled, where
 * PyGC_Collect returns 0 on 3.8-3.11).
 */
#ifndef PYMB_GCX_H
#define PYMB_GCX_H

#include <Python.h>
#include <stdint.h>

#define GCX_GENERATIONS 3

/* gc.get_stats(), summed per field. */
typedef struct gcx_stats {
    int64_t collections[GCX_GENERATIONS];
    int64_t collected[GCX_GENERATIONS];
    int64_t uncollectable[GCX_GENERATIONS];
} gcx_stats;

/* What a case may change, to be put back in its teardown. */
typedef struct gcx_saved {
    int valid;
    int enabled;
    long threshold[GCX_GENERATIONS];
} gcx_saved;

/* Import gc once (call before any other gcx_ function); 0 or -1. */
int gcx_init(void);
/* gc.collect(generation): unreachable objects found, or -1 with an exception.
 */
Py_ssize_t gcx_collect(int generation);
/* 0 or -1 with an exception. */
int gcx_stats_read(gcx_stats *out);
/* out = a - b */
void gcx_stats_sub(gcx_stats *out, const gcx_stats *a, const gcx_stats *b);
/* Sum of collections (or collected) over the generations. */
int64_t gcx_total_collections(const gcx_stats *s);
int64_t gcx_total_collected(const gcx_stats *s);
/* len(gc.get_objects()): objects the collector tracks; -1 with an exception.
 */
Py_ssize_t gcx_tracked(void);
/* gc.get_freeze_count(); -1 with an exception. */
Py_ssize_t gcx_frozen(void);
/* len(gc.garbage); -1 with an exception. */
Py_ssize_t gcx_garbage_len(void);
/* gc.get_threshold()[0]; -1 with an exception. */
long gcx_threshold0(void);

/* Save the enabled flag and thresholds; 0 or -1. */
int gcx_save(gcx_saved *s);
/* Put them back (and gc.unfreeze(), which also releases objects frozen
 * before the save); safe when save failed or never ran. Any
 * error is reported on stderr and cleared: this runs in teardowns. */
void gcx_restore(gcx_saved *s);
/* gc.set_threshold(t0, t1, t2), gc.enable()/gc.disable(), gc.freeze(),
 * gc.unfreeze(): 0 or -1 with an exception. */
int gcx_set_threshold(long t0, long t1, long t2);
int gcx_enable(int on);
int gcx_freeze(int on);

#endif /* PYMB_GCX_H */
