/* threads.c - the threads family: stress tests, not benchmarks. Registered
 * only by pymembench --stress (as stress/threads/...), never timed.
 *
 * Several worker threads (workloads/fixtures/workers.c) at once create and
 * drop objects, reference cycles and buffer exports, and collect, taking turns
 * with the GIL every few loop bodies; the check proves every loop body
 * completed, every export was released and the cycles were collected.
 */
#include "cases.h"
#include "exporter.h"
#include "pyx.h"
#include "workers.h"
#include "workloads.h"

#include <Python.h>
#include <pthread.h>

#define BODIES 256 /* loop bodies per thread per job */
#define TURN 16    /* loop bodies between giving the GIL to another thread */

static int nthreads;
static int64_t bodies_done; /* loop bodies completed, over every thread */
static int thread_errors;
static char first_error[256];
static int64_t batches;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* One loop body: a list of ints, a dict, a cycle (a list holding itself
 * and the dict) and a memoryview over the thread's Exporter `exp` (a
 * buffer export), all dropped. 0 or -1 with an exception set. */
static int
body(int i, PyObject *exp)
{
    int rc = -1;
    PyObject *list = PyList_New(8), *dict = NULL, *cycle = NULL, *view = NULL;
    if (list == NULL) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < 8; k++) {
        PyObject *n = PyLong_FromLong(1000000 + i + k);
        if (n == NULL) {
            goto done;
        }
        PyList_SET_ITEM(list, k, n);
    }
    dict = PyDict_New();
    cycle = PyList_New(0);
    if (dict == NULL || cycle == NULL ||
        PyDict_SetItemString(dict, "list", list) < 0 ||
        PyList_Append(cycle, cycle) < 0 || PyList_Append(cycle, dict) < 0) {
        goto done;
    }
    view = PyMemoryView_FromObject(exp);
    if (view == NULL) {
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(view);
    Py_XDECREF(cycle); /* garbage now: a cycle */
    Py_XDECREF(dict);
    Py_DECREF(list);
    return rc;
}

/* Record the thread's error (the first one's text is kept) and clear it. */
static void
thread_failed(void)
{
    char text[200];
    pyx_error_text(text, sizeof(text)); /* clears it */
    pthread_mutex_lock(&mu);
    if (thread_errors++ == 0) {
        snprintf(first_error, sizeof(first_error), "%s", text);
    }
    pthread_mutex_unlock(&mu);
}

/* One thread's job: an Exporter (read-only in odd threads), BODIES loop
 * bodies exporting it, a collection. One Exporter per job rather than per
 * body: its buffer comes from mmap, and a mapping made and dropped per body
 * cost a TLB shootdown across the threads each time (most of the job's
 * time before 2026-12-03). */
static void
job(int index, void *arg)
{
    static const char data[256] = "pymembench";
    (void)arg;
    int64_t done = 0;
    wk_attach(index);
    PyObject *exp = exporter_new(data, (Py_ssize_t)sizeof(data), index & 1);
    if (exp == NULL) {
        thread_failed();
    }
    for (int i = 0; exp != NULL && i < BODIES; i++) {
        if (body(i, exp) < 0) {
            thread_failed();
            break;
        }
        done++;
        if ((i + 1) % TURN == 0) {
            wk_detach(index); /* let another thread in */
            wk_attach(index);
        }
    }
    Py_XDECREF(exp);
    if (PyGC_Collect() < 0) {
        PyErr_Clear();
    }
    wk_detach(index);
    pthread_mutex_lock(&mu);
    bodies_done += done;
    pthread_mutex_unlock(&mu);
}

static int
setup_mixed(int64_t param)
{
    nthreads = (int)param;
    bodies_done = 0;
    thread_errors = 0;
    first_error[0] = '\0';
    batches = 0;
    return wk_start(nthreads) < 0 ? -1 : 0;
}

static void
run_mixed(gbs_state *st, int64_t param)
{
    (void)param;
    while (gbs_keep_running_batch(st, (int64_t)BODIES * nthreads)) {
        wk_run(job, NULL);
        batches++;
        if (thread_errors) {
            PyErr_Format(PyExc_RuntimeError, "%d thread(s) failed: %s",
                         thread_errors, first_error);
            pmb_run_error(st);
            return;
        }
    }
}

/* Every body of every thread completed; the cycles were collected: each
 * thread collects at the end of its job, so at most what the other threads
 * made after that (under a GIL, a turn of TURN bodies each; 8 blocks a
 * body) is live after the run. */
static int
check_mixed(const pmb_result *r)
{
    if (pmb_check_batches(r, batches, (int64_t)BODIES * nthreads) < 0) {
        return -1;
    }
    if (bodies_done != r->timed_iterations) {
        return pmb_fail("%lld loop bodies completed of %lld",
                        (long long)bodies_done,
                        (long long)r->timed_iterations);
    }
    return pmb_check_no_leak(r, (int64_t)TURN * nthreads * nthreads * 8);
}

static void
teardown_mixed(void)
{
    wk_stop();
}

static const int64_t thread_counts[] = {2, 4, 0};

static const pmb_case cases[] = {
    {.name = "mixed",
     .setup = setup_mixed,
     .run = run_mixed,
     .check = check_mixed,
     .teardown = teardown_mixed,
     .params = thread_counts,
     .real_time = 1,
     .doc = "N threads each build and drop ints, a dict, a cycle and a buffer "
            "export, "
            "collecting; iteration = one loop body"},
    {NULL},
};

int
wl_threads_register(void)
{
    return pmb_register_family("threads", cases);
}
