/* test_resource.c - the resource counters that the lifetime checks trust
 * really see what happens: a leak, a double release, a release by
 * deallocation, __exit__'s suppress/propagate result, a capsule's
 * destructor. Embeds the interpreter it is built for. Exit 0 when every
 * check holds; otherwise 1, naming the first broken one. */
#include "pyx.h"
#include "expect.h"
#include "resource.h"

#include <stdio.h>

/* Each snippet defines t() returning an int the test states; it runs with
 * Resource and capsule as globals. */
static long
run(PyObject *ns, const char *src)
{
    PyObject *fn = pyx_compile_function_ns(src, "t", ns);
    PyObject *r = fn != NULL ? PyObject_CallObject(fn, NULL) : NULL;
    long v = r != NULL ? PyLong_AsLong(r) : -1;
    if (r == NULL) {
        char text[256];
        pyx_error_text(text, sizeof(text));
        printf("snippet raised %s\n", text);
    }
    Py_XDECREF(r);
    Py_XDECREF(fn);
    return v;
}

int
main(void)
{
    char err[256];
    if (pyx_start("default", PYMB_PYTHON_HOME, err, sizeof(err)) != 0) {
        printf("FAIL: %s\n", err);
        return 1;
    }
    PyObject *ns = res_namespace();
    if (ns == NULL) {
        printf("FAIL: res_namespace() failed\n");
        return 1;
    }
    const res_counts *c = res_get();

    /* a Resource never released by hand is released by its deallocation */
    res_reset();
    EXPECT(run(ns, "def t():\n    r = Resource()\n    return 1\n") == 1,
           "dropping a resource");
    EXPECT(c->live == 0 && c->acquired == 1 && c->released_by_dealloc == 1,
           "a dropped resource is released by deallocation (acquired %lld, by "
           "dealloc %lld)",
           (long long)c->acquired, (long long)c->released_by_dealloc);

    res_reset();
    PyObject *held =
        PyObject_CallObject(PyDict_GetItemString(ns, "Resource"), NULL);
    EXPECT(held != NULL && c->live == 1, "a live resource shows in live: %lld",
           (long long)c->live);
    Py_XDECREF(held);
    EXPECT(c->live == 0, "released on deallocation");

    /* a second release is counted and raises */
    res_reset();
    EXPECT(run(ns, "def t():\n    r = Resource()\n    r.release()\n"
                   "    try:\n        r.release()\n    except RuntimeError:\n "
                   "       return 1\n"
                   "    return 0\n") == 1,
           "a second release() raises RuntimeError");
    EXPECT(c->double_releases == 1 && c->released == 1,
           "double release counted: %lld", (long long)c->double_releases);

    /* __exit__ propagates by default, suppresses with suppress=True */
    res_reset();
    EXPECT(run(ns, "def t():\n    try:\n        with Resource():\n            "
                   "1/0\n"
                   "    except ZeroDivisionError:\n        return 1\n    "
                   "return 0\n") == 1,
           "__exit__ returning False propagates");
    EXPECT(run(ns, "def t():\n    with Resource(suppress=True):\n        "
                   "1/0\n    return 1\n") == 1,
           "__exit__ returning True suppresses");
    EXPECT(c->exits == 2 && c->exits_with_exception == 2 &&
               c->suppressed == 1 && c->released == 2 &&
               c->released_by_dealloc == 0,
           "exits %lld, with exception %lld, suppressed %lld, released %lld",
           (long long)c->exits, (long long)c->exits_with_exception,
           (long long)c->suppressed, (long long)c->released);

    /* a capsule's destructor releases its resource */
    res_reset();
    EXPECT(run(ns, "def t():\n    c = capsule()\n    del c\n    return 1\n") ==
               1,
           "capsule");
    EXPECT(c->acquired == 1 && c->released == 1 && c->released_by_dealloc == 1,
           "capsule destructor released it (released %lld)",
           (long long)c->released);

    /* res_reset keeps the live count: a leak cannot be reset away */
    res_raw raw;
    EXPECT(res_acquire(&raw) == 0, "res_acquire");
    res_reset();
    EXPECT(c->live == 1, "res_reset forgot a live resource");
    res_release(&raw);
    res_release(&raw);
    EXPECT(c->live == 0 && c->double_releases == 1,
           "raw double release counted");

    Py_DECREF(ns);
    if (pyx_finish() != 0) {
        printf("FAIL: finalize\n");
        return 1;
    }
    if (!failed) {
        printf("ok: leaks, double releases, exits and capsules are counted\n");
    }
    return failed;
}
