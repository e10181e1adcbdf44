/* lifetime_real.c - the lifetime family's real resources: what users
 * manage with `with` rather than a counted resource of our own. A sqlite3
 * database (the standard library's, file-backed, in a folder of the run's
 * own: /dev/shm where it exists, so that a commit's fsync costs nothing)
 * opened and closed by contextlib.closing, by try/finally, and by the trap
 * `with sqlite3.connect(path) as c:`, which commits or rolls back but does
 * not close; and files opened with and without `with`.
 *
 * Benchmarks. One iteration opens, writes (one row, or one byte) and ends
 * the way the row names. Checks from the outside: the rows the database
 * holds after the run (a separate connection counts them: every committed
 * row, and none that was lost), the process's open file descriptors back
 * where they were, and, from one probe iteration in set-up, what a body
 * leaves behind while its names are still alive: descriptors still open
 * and whether a second connection can write at once (the database is not
 * locked). The probe's findings are the row's counters
 * (fds_open_after_block, db_locked_after_block, rows_lost_per_iter), so a
 * leak is visible as a number, not only as a failed check.
 *
 * References: rl holds the compiled snippet's functions and the path
 * (owned), dropped by teardown; the folder is removed there too.
 */
#include "cases.h"
#include "gcx.h"
#include "pyloop.h"
#include "pyx.h"
#include "workloads.h"

#include <Python.h>
#include <stdio.h>

#define LOOP_CALL 100 /* loop bodies per snippet call */

/* Every function takes (n, path) and returns the rows (or bytes) it meant
 * to keep; probe_* run one body and report, before the body's names go,
 * (descriptors open beyond the baseline, whether the database refused a
 * second writer). */
static const char real_src[] =
    "import contextlib, os, sqlite3, shutil, tempfile, warnings\n"
    "from itertools import repeat\n"
    "INSERT = 'INSERT INTO t VALUES (1)'\n"
    "def fds():\n"
    "    return len(os.listdir('/proc/self/fd'))\n"
    "def make_db(name):\n"
    "    shm = '/dev/shm'\n"
    "    where = tempfile.mkdtemp(prefix='pymembench-',\n"
    "                             dir=shm if os.path.isdir(shm) else None)\n"
    "    path = os.path.join(where, name)\n"
    "    with contextlib.closing(sqlite3.connect(path)) as c:\n"
    "        with c:\n"
    "            c.execute('CREATE TABLE t (x INTEGER)')\n"
    "    return path\n"
    "def remove(path):\n"
    "    shutil.rmtree(os.path.dirname(path))\n"
    "def rows(path):\n"
    "    with contextlib.closing(sqlite3.connect(path)) as c:\n"
    "        return c.execute('SELECT COUNT(*) FROM t').fetchone()[0]\n"
    "def locked(path):\n"
    "    with contextlib.closing(sqlite3.connect(path, timeout=0)) as c:\n"
    "        try:\n"
    "            with c:\n"
    "                c.execute('DELETE FROM t WHERE x = 2')\n"
    "        except sqlite3.OperationalError:\n"
    "            return True\n"
    "    return False\n"
    "def closing(n, path):\n"
    "    for _ in repeat(None, n):\n"
    "        with contextlib.closing(sqlite3.connect(path)) as c:\n"
    "            with c:\n"
    "                c.execute(INSERT)\n"
    "    return n\n"
    "def try_finally(n, path):\n"
    "    for _ in repeat(None, n):\n"
    "        c = sqlite3.connect(path)\n"
    "        try:\n"
    "            with c:\n"
    "                c.execute(INSERT)\n"
    "        finally:\n"
    "            c.close()\n"
    "    return n\n"
    "def with_connect(n, path):\n"
    "    for _ in repeat(None, n):\n"
    "        with sqlite3.connect(path) as c:\n"
    "            c.execute(INSERT)\n"
    "    return n\n"
    "def pending(fn, path, k):\n"
    "    import gc\n"
    "    was = gc.isenabled()\n"
    "    gc.disable()\n"
    "    try:\n"
    "        base = fds()\n"
    "        fn(k, path)\n"
    "        left = fds() - base\n"
    "    finally:\n"
    "        gc.collect()\n"
    "        if was:\n"
    "            gc.enable()\n"
    "    return left, fds() - base\n"
    "def file_with(n, path):\n"
    "    for _ in repeat(None, n):\n"
    "        with open(path, 'ab') as f:\n"
    "            f.write(b'x')\n"
    "    return n\n"
    /* a debug build warns of every unclosed file (ResourceWarning), and
     * its warning registry keeps one entry per file name: a setup's fresh
     * path grew it by 2 blocks per stress round. The warning is what the
     * case shows; it is not reported. */
    "def file_no_with(n, path):\n"
    "    with warnings.catch_warnings():\n"
    "        warnings.simplefilter('ignore', ResourceWarning)\n"
    "        for _ in repeat(None, n):\n"
    "            f = open(path, 'ab')\n"
    "            f.write(b'x')\n"
    "        f = None\n"
    "    return n\n"
    "def probe(body, path):\n"
    "    base = fds()\n"
    "    return body(path, base)\n"
    "def probe_closing(path, base):\n"
    "    with contextlib.closing(sqlite3.connect(path)) as c:\n"
    "        with c:\n"
    "            c.execute(INSERT)\n"
    "    return fds() - base, locked(path)\n"
    "def probe_try_finally(path, base):\n"
    "    c = sqlite3.connect(path)\n"
    "    try:\n"
    "        with c:\n"
    "            c.execute(INSERT)\n"
    "    finally:\n"
    "        c.close()\n"
    "    return fds() - base, locked(path)\n"
    "def probe_with_connect(path, base):\n"
    "    with sqlite3.connect(path) as c:\n"
    "        c.execute(INSERT)\n"
    "    return fds() - base, locked(path)\n"
    "def probe_write_after_with(path, base):\n"
    "    with sqlite3.connect(path) as c:\n"
    "        c.execute(INSERT)\n"
    "    c.execute('INSERT INTO t VALUES (2)')\n"
    "    return fds() - base, locked(path)\n"
    "def probe_file_with(path, base):\n"
    "    with open(path, 'ab') as f:\n"
    "        f.write(b'x')\n"
    "    return fds() - base, False\n"
    "def probe_file_no_with(path, base):\n"
    "    with warnings.catch_warnings():\n"
    "        warnings.simplefilter('ignore', ResourceWarning)\n"
    "        f = open(path, 'ab')\n"
    "        f.write(b'x')\n"
    "        return fds() - base, False\n";

/* What a row runs and what it must leave. */
typedef struct rl_spec {
    const char *fn;  /* the timed function; its probe is probe_<fn> */
    int sqlite;      /* a database (else a file of bytes) */
    int closes;      /* closes explicitly: nothing waits for the collector */
    int open_after;  /* descriptors its body leaves open after the block */
    int write_after; /* also probe an insert after the block (the trap) */
} rl_spec;

/* Bodies run with the collector off before the descriptors are counted. */
#define PENDING_BODIES 10

static struct {
    const rl_spec *spec;
    pyloop loop;
    PyObject *globals;          /* owned: the snippet's module namespace */
    PyObject *path;             /* owned: the database or file */
    long long before;           /* rows (bytes) there before the run */
    long long fds;              /* descriptors open before the run */
    long long probe_open;       /* after one block, its names alive */
    int probe_locked;           /* the database refused a second writer */
    long long after_write_open; /* write_after: the same after an insert */
    int after_write_locked;     /* after the block */
    long long pending;          /* open after PENDING_BODIES, collector off */
} rl;

/* The snippet's `name`(*args) (args a new tuple, stolen); a new reference
 * or NULL with an exception set. */
static PyObject *
call(const char *name, PyObject *args)
{
    PyObject *f = args != NULL ? PyDict_GetItemString(rl.globals, name) : NULL;
    PyObject *r = f != NULL ? PyObject_Call(f, args, NULL) : NULL;
    if (f == NULL && args != NULL) {
        PyErr_Format(PyExc_RuntimeError, "the snippet has no %s", name);
    }
    Py_XDECREF(args);
    return r;
}

/* A snippet call's result as a count, or -1 (an exception set). */
static long long
count_of(PyObject *r)
{
    long long n = r != NULL ? PyLong_AsLongLong(r) : -1;
    Py_XDECREF(r);
    return n;
}

/* What is there now: rows in the database, or bytes in the file. */
static long long
amount(void)
{
    if (rl.spec->sqlite) {
        return count_of(call("rows", PyTuple_Pack(1, rl.path)));
    }
    PyObject *os = PyImport_ImportModule("os");
    PyObject *st =
        os != NULL ? PyObject_CallMethod(os, "stat", "O", rl.path) : NULL;
    Py_XDECREF(os);
    PyObject *size = st != NULL ? PyObject_GetAttrString(st, "st_size") : NULL;
    Py_XDECREF(st);
    return count_of(size);
}

static long long
open_fds(void)
{
    return count_of(call("fds", PyTuple_New(0)));
}

static void
teardown_real(void)
{
    if (rl.path != NULL && rl.globals != NULL) {
        PyObject *r = call("remove", PyTuple_Pack(1, rl.path));
        if (r == NULL) {
            PyErr_Clear(); /* the folder stays; nothing else depends on it */
        }
        Py_XDECREF(r);
    }
    pyloop_clear(&rl.loop);
    Py_CLEAR(rl.path);
    Py_CLEAR(rl.globals);
    rl.spec = NULL;
}

/* probe_<what>: one body; what it leaves while its names are alive
 * (descriptors open, the database refusing a second writer). Then a full
 * collection, which closes what only the collector reaches. 0, or -1. */
static int
probe(const char *what, long long *open_after, int *locked)
{
    char name[64];
    snprintf(name, sizeof(name), "probe_%s", what);
    PyObject *body = PyDict_GetItemString(rl.globals, name); /* borrowed */
    if (body == NULL) {
        return pmb_fail("the snippet has no %s", name);
    }
    PyObject *r = call("probe", PyTuple_Pack(2, body, rl.path));
    if (r == NULL || !PyArg_ParseTuple(r, "Lp", open_after, locked)) {
        Py_XDECREF(r);
        return pmb_fail("%s failed", name);
    }
    Py_DECREF(r);
    return gcx_collect(2) < 0 ? pmb_fail("gc.collect() failed") : 0;
}

/* PENDING_BODIES bodies with the collector off: how many descriptors wait
 * for it, and none may be left once it ran. 0, or -1. */
static int
pending(void)
{
    PyObject *fn =
        PyDict_GetItemString(rl.globals, rl.spec->fn); /* borrowed */
    PyObject *r =
        fn != NULL ? call("pending",
                          Py_BuildValue("(OOi)", fn, rl.path, PENDING_BODIES))
                   : NULL;
    long long left = -1, after = -1;
    if (r == NULL || !PyArg_ParseTuple(r, "LL", &left, &after)) {
        Py_XDECREF(r);
        return pmb_fail("cannot count what %s leaves for the collector",
                        rl.spec->fn);
    }
    Py_DECREF(r);
    rl.pending = left;
    if (after != 0 || (rl.spec->closes && left != 0)) {
        return pmb_fail("%s: %lld descriptor(s) open after %d bodies, %lld "
                        "after "
                        "a full collection; expected %s and 0",
                        rl.spec->fn, left, PENDING_BODIES, after,
                        rl.spec->closes ? "0" : "any");
    }
    return 0;
}

static int
setup_real(int64_t param)
{
    (void)param;
    const rl_spec *s = pmb_data();
    PyObject *fn = NULL, *extra = NULL;
    rl.spec = s;
    fn = pyx_compile_function(real_src, s->fn);
    if (fn == NULL) {
        goto error;
    }
    rl.globals = PyFunction_GetGlobals(fn);
    Py_INCREF(rl.globals);
    Py_CLEAR(fn);
    rl.path = call("make_db",
                   Py_BuildValue("(s)", s->sqlite ? "db.sqlite" : "file.bin"));
    extra = rl.path != NULL ? PyTuple_Pack(1, rl.path) : NULL;
    if (extra == NULL ||
        pyloop_init(&rl.loop, real_src, s->fn, NULL, LOOP_CALL, extra) < 0) {
        goto error;
    }
    Py_CLEAR(extra);
    if (probe(s->fn, &rl.probe_open, &rl.probe_locked) < 0 ||
        (s->write_after && probe("write_after_with", &rl.after_write_open,
                                 &rl.after_write_locked) < 0) ||
        pending() < 0) {
        return -1; /* they said why */
    }
    if (rl.probe_open != s->open_after || rl.probe_locked) {
        return pmb_fail("%s: %lld descriptor(s) open after the block, the "
                        "database %s; expected %d, writable",
                        s->fn, rl.probe_open,
                        rl.probe_locked ? "locked" : "writable",
                        s->open_after);
    }
    /* an insert after the block opens a transaction nothing commits: the
     * journal is open too, and the database locked */
    if (s->write_after &&
        (rl.after_write_open != 2 || !rl.after_write_locked)) {
        return pmb_fail("an insert after the block left %lld descriptor(s) "
                        "open "
                        "and the database %s; expected 2, locked",
                        rl.after_write_open,
                        rl.after_write_locked ? "locked" : "writable");
    }
    /* the second count only when the first left no exception set */
    if ((rl.before = amount()) < 0 || (rl.fds = open_fds()) < 0) {
        goto error;
    }
    return 0;
error:
    Py_XDECREF(fn);
    Py_XDECREF(extra);
    return pmb_fail("cannot prepare lifetime/%s", s->fn);
}

static void
run_real(gbs_state *st, int64_t param)
{
    (void)param;
    pyloop_run(&rl.loop, st);
    gbs_counter(st, "fds_open_after_block", (double)rl.probe_open,
                GBS_COUNTER_DEFAULT);
    gbs_counter(st, "fds_awaiting_collector_per_iter",
                (double)rl.pending / PENDING_BODIES, GBS_COUNTER_DEFAULT);
    if (rl.spec->sqlite) {
        gbs_counter(st, "db_locked_after_block", (double)rl.probe_locked,
                    GBS_COUNTER_DEFAULT);
    }
    if (rl.spec->write_after) {
        gbs_counter(st, "db_locked_after_write_after_block",
                    (double)rl.after_write_locked, GBS_COUNTER_DEFAULT);
    }
}

/* What the run left, seen from outside it: one row (byte) kept per
 * iteration, and every descriptor closed, at once where the row closes
 * explicitly, after a full collection where it leaves that to Python. */
static int
check_real(const pmb_result *r)
{
    const rl_spec *s = rl.spec;
    long long wrote =
        rl.loop.last != NULL ? PyLong_AsLongLong(rl.loop.last) : -1;
    if (wrote != rl.loop.per_call) {
        return pmb_fail("%s: its last call wrote %lld, expected %lld", s->fn,
                        wrote, (long long)rl.loop.per_call);
    }
    /* a failed count leaves its exception set: said, before any other
     * call (collecting with it set aborts a debug interpreter, as fault
     * injection found on 3.11.2d when the count's listdir failed) */
    long long fds = open_fds();
    if (fds >= 0 && fds != rl.fds && !s->closes) {
        if (gcx_collect(2) < 0) {
            return pmb_fail("gc.collect() failed");
        }
        fds = open_fds();
    }
    if (fds < 0) {
        return pmb_fail("cannot count the open descriptors");
    }
    if (fds != rl.fds) {
        return pmb_fail("%lld descriptors open after the run, %lld before",
                        fds, rl.fds);
    }
    long long now = amount();
    long long want = rl.before + (long long)r->iterations;
    if (now != want) {
        return pmb_fail("%lld %s after %lld iterations, expected %lld", now,
                        s->sqlite ? "rows" : "bytes", (long long)r->iterations,
                        want);
    }
    /* what waits for the collector is live at the hook's last reading;
     * the descriptors, back after a full collection, prove it was not
     * lost (and stress checks memory across rounds, after collections) */
    return s->closes ? pmb_check_no_leak(r, 64) : 0;
}

/* --- the table
 * -------------------------------------------------------------------- */

/*                                  fn                db closes open
 * write_after */
static const rl_spec closing_spec = {"closing", 1, 1, 0, 0};
static const rl_spec try_spec = {"try_finally", 1, 1, 0, 0};
static const rl_spec with_connect_spec = {"with_connect", 1, 0, 1, 1};
static const rl_spec file_with_spec = {"file_with", 0, 1, 0, 0};
static const rl_spec file_no_with_spec = {"file_no_with", 0, 0, 1, 0};

#define RL_CASE(case_name, spec_, doc_)                                 \
    {                                                                   \
        .name = case_name, .setup = setup_real, .run = run_real,        \
        .check = check_real, .teardown = teardown_real, .data = &spec_, \
        .doc = doc_                                                     \
    }

static const pmb_case cases[] = {
    RL_CASE("sqlite/closing", closing_spec,
            "with closing(sqlite3.connect(db)) as c: with c: insert; "
            "committed and closed"),
    RL_CASE("sqlite/try_finally", try_spec,
            "c = connect(db); try: with c: insert; finally: c.close()"),
    RL_CASE("sqlite/with_connect", with_connect_spec,
            "with sqlite3.connect(db) as c: insert; committed, not closed "
            "(3.11+: not until the collector runs)"),
    RL_CASE("file/with", file_with_spec,
            "with open(path, 'ab') as f: f.write(b'x'); closed at the block's "
            "end"),
    RL_CASE("file/no_with", file_no_with_spec,
            "f = open(path, 'ab'); f.write(b'x'); closed when f is rebound"),
    {NULL},
};

int
wl_lifetime_real_register(void)
{
    return pmb_register_family("lifetime", cases);
}
