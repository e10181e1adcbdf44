/* workers.h - a few persistent threads that run one job at a time for the
 * main thread, so that threaded cases time the work, not thread creation.
 *
 * Each worker owns a Python thread state for its whole life (made once,
 * so jobs allocate nothing for it) and holds no GIL between jobs; a job
 * that touches objects takes it with wk_attach() and gives it back with
 * wk_detach(). One pool at a time; main thread only; the GIL held.
 */
#ifndef PYMB_WORKERS_H
#define PYMB_WORKERS_H

#define WK_MAX 8

typedef void (*wk_job)(int index, void *arg);

/* Start n (1..WK_MAX) workers. 0, or -1 with a Python exception set. */
int wk_start(int n);
/* Run job(i, arg) on workers 0..n-1 at once and wait for all; the caller's
 * GIL is released while it waits. */
void wk_run(wk_job job, void *arg);
/* Stop and join every worker. */
void wk_stop(void);
/* From inside a job: take and give back the worker's thread state (the
 * GIL, on builds that have one). */
void wk_attach(int index);
void wk_detach(int index);

#endif /* PYMB_WORKERS_H */
