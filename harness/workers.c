/* workers.c - persistent worker threads; see workers.h.
 *
 * One mutex and two condition variables pace the jobs: the main thread
 * bumps `generation` to post a job (or, with job NULL, the order to exit)
 * and waits until `pending` falls to zero. Each worker makes its thread
 * state with PyGILState_Ensure when it starts and releases it at exit.
 */
#include "workers.h"

#include "memhook.h"

#include <Python.h>
#include <pthread.h>

typedef struct worker {
    pthread_t thread;
    PyThreadState *ts; /* detached between jobs */
    int index;
} worker;

static worker pool[WK_MAX];
static int nworkers;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static unsigned long generation;
static int pending; /* workers still in the current job, or not yet ready */
static wk_job job;  /* NULL tells the workers to exit */
static void *job_arg;

static void finished_one(void)
{
    pthread_mutex_lock(&mu);
    if (--pending == 0) {
        pthread_cond_signal(&done);
    }
    pthread_mutex_unlock(&mu);
}

static void *worker_main(void *p)
{
    worker *w = p;
    unsigned long seen = generation; /* read before wk_start's first post */
    PyGILState_STATE g = PyGILState_Ensure();
    w->ts = PyEval_SaveThread();
    finished_one(); /* ready */
    for (;;) {
        pthread_mutex_lock(&mu);
        while (generation == seen) {
            pthread_cond_wait(&go, &mu);
        }
        seen = generation;
        wk_job j = job;
        void *arg = job_arg;
        pthread_mutex_unlock(&mu);
        if (j == NULL) {
            break;
        }
        j(w->index, arg);
        finished_one();
    }
    PyEval_RestoreThread(w->ts);
    PyGILState_Release(g);
    return NULL;
}

/* Post a job (or the exit order) and, unless exiting, wait for it. */
static void post(wk_job j, void *arg, int wait)
{
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&mu);
    while (pending > 0) { /* workers still getting ready */
        pthread_cond_wait(&done, &mu);
    }
    job = j;
    job_arg = arg;
    pending = wait ? nworkers : 0;
    generation++;
    pthread_cond_broadcast(&go);
    while (pending > 0) {
        pthread_cond_wait(&done, &mu);
    }
    pthread_mutex_unlock(&mu);
    Py_END_ALLOW_THREADS
}

int wk_start(int n)
{
    if (n < 1 || n > WK_MAX || nworkers != 0) {
        PyErr_Format(PyExc_ValueError, "wk_start(%d): 1..%d workers, one pool at a time", n,
                     WK_MAX);
        return -1;
    }
    pending = 0;
    /* PyGILState_Ensure has no error return: a thread state it cannot
     * allocate is a fatal error by design. Fault injection stays out. */
    memhook_fail_pause(1);
    while (nworkers < n) {
        worker *w = &pool[nworkers];
        w->index = nworkers;
        pthread_mutex_lock(&mu);
        pending++;
        pthread_mutex_unlock(&mu);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            pthread_mutex_lock(&mu);
            pending--;
            pthread_mutex_unlock(&mu);
            wk_stop();
            memhook_fail_pause(0);
            PyErr_Format(PyExc_OSError, "cannot start worker thread %d of %d", w->index + 1,
                         n);
            return -1;
        }
        nworkers++;
    }
    /* Ready means each has its thread state: no worker allocates after this
     * (a hook swap must not meet one making its thread state), and thread
     * start-up stays out of the first timed batch. */
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&mu);
    while (pending > 0) {
        pthread_cond_wait(&done, &mu);
    }
    pthread_mutex_unlock(&mu);
    Py_END_ALLOW_THREADS
    memhook_fail_pause(0);
    return 0;
}

void wk_run(wk_job j, void *arg) { post(j, arg, 1); }

void wk_stop(void)
{
    if (nworkers == 0) {
        return;
    }
    post(NULL, NULL, 0);
    Py_BEGIN_ALLOW_THREADS
    for (int i = 0; i < nworkers; i++) {
        pthread_join(pool[i].thread, NULL);
    }
    Py_END_ALLOW_THREADS
    nworkers = 0;
}

void wk_attach(int index) { PyEval_RestoreThread(pool[index].ts); }

void wk_detach(int index) { pool[index].ts = PyEval_SaveThread(); }
