#!/usr/bin/env python3
"""check_containers.py BINARY - the containers family's counts say what a
list and an array.array are, on one interpreter (quick sizes, 16 and 65536
elements): every row passes its check; a list holds a pointer plus a whole
object per element (more than 8 + 24 bytes, from the counting hook) while
sys.getsizeof sees the pointers only, and an array holds 8 bytes per element
whichever way it is measured; iterating an array of ints boxes a new int per
element, iterating a list allocates nothing per element; appending
reallocates the storage a few dozen times for 65536 elements, not per
element; a memoryview of an array copies nothing, tobytes() and
array(list) copy all of it. Negative controls (PYMB_SELFTEST=1): a
memoryview of a copy and a list one element short fail their rows."""
import os
import sys
import tempfile

from pmbtest import expect, failed, run_cases

N = 65536


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        rc, err, doc = run_cases(binary, tmp, "^containers/", "--suite=quick")
        expect(rc == 0 and doc is not None, "containers run: exit %d, stderr %s" % (rc, err[-400:]))
        if doc is None:
            return failed()
        rows = {r["name"]: r for r in doc["benchmarks"]}
        expect(len(rows) == 38, "%d containers rows in the quick suite, expected 38 (19 cases x "
               "2 sizes)" % len(rows))
        for name, r in rows.items():
            expect(not r.get("error_occurred"), "%s: %s" % (name, r.get("error_message")))

        def c(name, counter):
            return rows.get(name, {}).get(counter, float("nan"))

        for kind in ("build", "append"):
            for elt, obj in (("int", 28), ("float", 24)):
                lst, arr = "containers/%s/list/%s/%d" % (kind, elt, N), \
                    "containers/%s/array/%s/%d" % (kind, elt, N)
                held, seen = c(lst, "bytes_per_element"), c(lst, "getsizeof_per_element")
                expect(8 + obj <= held < 8 + obj + 16,
                       "%s holds %.2f bytes per element, expected a pointer and a %d-byte "
                       "object (and growth slack)" % (lst, held, obj))
                expect(8 <= seen < 10, "%s: sys.getsizeof says %.2f bytes per element, "
                       "expected the pointers only" % (lst, seen))
                held, seen = c(arr, "bytes_per_element"), c(arr, "getsizeof_per_element")
                expect(8 <= held < 9 and abs(held - seen) < 0.01,
                       "%s: %.2f bytes per element held, %.2f by sys.getsizeof; expected "
                       "8 and the same" % (arr, held, seen))
            for kind_elt in ("list/int", "array/int", "list/float", "array/float"):
                name = "containers/append/%s/%d" % (kind_elt, N)
                grows = c(name, "reallocs_per_iter")
                expect(10 <= grows <= 200, "%s: %.1f reallocations for %d appends, expected "
                       "amortised growth (tens)" % (name, grows, N))
        boxed = c("containers/iterate/array/int/%d" % N, "allocs_per_iter")
        expect(boxed >= N, "iterating an array('q') of %d allocated %.0f blocks, expected a "
               "new int per element" % (N, boxed))
        for elt in ("int", "float"):
            name = "containers/iterate/list/%s/%d" % (elt, N)
            expect(c(name, "allocs_per_iter") < 16, "%s allocated %.0f blocks per pass"
                   % (name, c(name, "allocs_per_iter")))
            view = "containers/view/array/%s/%d" % (elt, N)
            expect(c(view, "bytes_per_iter") < 1024, "%s allocated %.0f bytes per view"
                   % (view, c(view, "bytes_per_iter")))
            for copy in ("containers/tobytes/array/%s/%d" % (elt, N),
                         "containers/to_array/list/%s/%d" % (elt, N)):
                expect(c(copy, "bytes_per_iter") >= 8 * N, "%s allocated %.0f bytes, less "
                       "than the %d it copies" % (copy, c(copy, "bytes_per_iter"), 8 * N))
        print("containers: %d rows; list/float holds %.2f B per element (getsizeof %.2f), "
              "array/float %.2f; %.0f allocations per pass over an array('q') of %d"
              % (len(rows), c("containers/build/list/float/%d" % N, "bytes_per_element"),
                 c("containers/build/list/float/%d" % N, "getsizeof_per_element"),
                 c("containers/build/array/float/%d" % N, "bytes_per_element"), boxed, N))

        # negative controls: the checks catch a copy and a short container
        env = dict(os.environ, PYMB_SELFTEST="1")
        rc, err, doc = run_cases(binary, tmp, "^containers/selftest/", "--suite=quick", env=env)
        bad = {r["name"]: r.get("error_message", "") for r in doc["benchmarks"]} if doc else {}
        expect(rc == 1, "planted faults exit 1, got %d" % rc)
        for name, why in (("containers/selftest/view_copy/%d" % N, "a copy"),
                          ("containers/selftest/build_short/16", "expected (16,"),
                          ("containers/selftest/build_short/%d" % N, "expected (%d," % N)):
            expect(why in bad.get(name, ""), "%s: the planted fault was not caught: %r"
                   % (name, bad.get(name)))
        print("planted: %s" % "; ".join("%s: %s" % (k, v) for k, v in sorted(bad.items()) if v))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
