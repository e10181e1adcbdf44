#!/usr/bin/env python3
"""check_numpy.py BINARY TAG - the buffers family's numpy rows on one
interpreter (quick sizes): where numpy can be imported (Debian's release
python3 with python3-numpy installed must manage it), every row passes its
check, a view (memoryview of an ndarray, numpy.frombuffer over bytes, a
bytearray or the exporter) allocates the same small amount at 64 B and at
1 MiB, numpy.array copies (its bytes from numpy's allocator, which the hook
does not see: the object only) and ndarray.tobytes() allocates the whole
copy through Python. Where numpy cannot be imported, every row is skipped
with one and the same reason naming the interpreter."""
import os
import sys
import tempfile

from pmbtest import expect, failed, run_cases

SIZES = (64, 4096, 65536, 1048576)
CASES = ("memoryview/ndarray", "frombuffer/bytes", "frombuffer/bytearray",
         "frombuffer/exporter", "array", "tobytes")


def debian_numpy(tag):
    return (tag.startswith("cpython-3.11.") and tag.endswith("-system") and "d-" not in tag
            and os.path.exists("/usr/lib/python3/dist-packages/numpy/__init__.py"))


def main():
    binary, tag = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        rc, err, doc = run_cases(binary, tmp, "^buffers/numpy/", "--suite=quick")
        expect(rc == 0 and doc is not None, "numpy rows: exit %d, stderr %s" % (rc, err[-400:]))
        if doc is None:
            return failed()
        rows = {r["name"]: r for r in doc["benchmarks"]}
        want = {"buffers/numpy/%s/%d" % (c, n) for c in CASES for n in SIZES}
        expect(set(rows) == want, "numpy rows: %s, expected %s"
               % (sorted(set(rows) ^ want)[:4], "the 24 of 6 cases x 4 sizes"))
        skipped = {r.get("error_message", "") for r in rows.values() if r.get("error_occurred")}
        if debian_numpy(tag):
            expect(not skipped, "Debian's python3 with python3-numpy skipped or failed: %s"
                   % sorted(skipped)[:2])
        if skipped:
            expect(len(skipped) == 1 and len(rows) == 24 and all(
                r.get("error_occurred") for r in rows.values()),
                "some numpy rows ran and some did not, or for several reasons: %s"
                % sorted(skipped)[:3])
            why = next(iter(skipped))
            expect(why.startswith("skipped: numpy cannot be imported by this interpreter ("),
                   "the skip does not say why: %r" % why)
            print("numpy: every row skipped, once per row with one reason: %s" % why)
            return failed()

        def c(name, counter):
            return rows[name].get(counter, float("nan"))

        for case in CASES[:4]:
            small, big = ("buffers/numpy/%s/%d" % (case, n) for n in (64, 1048576))
            expect(c(big, "bytes_per_iter") < 1024 and
                   c(big, "bytes_per_iter") == c(small, "bytes_per_iter"),
                   "%s: %g bytes per view of 1 MiB, %g of 64 B: not a constant (a copy?)"
                   % (case, c(big, "bytes_per_iter"), c(small, "bytes_per_iter")))
        big = "buffers/numpy/tobytes/1048576"
        expect(c(big, "bytes_per_iter") >= 1048576, "%s allocated %g bytes through Python"
               % (big, c(big, "bytes_per_iter")))
        big = "buffers/numpy/array/1048576"
        expect(c(big, "bytes_per_iter") < 1024, "%s: numpy's array data went through "
               "Python's allocator (%g bytes per copy)" % (big, c(big, "bytes_per_iter")))
        print("numpy: 24 rows passed; per iteration at 1 MiB: memoryview %g B, frombuffer(bytes) "
              "%g B, numpy.array %g B (data through malloc), tobytes %g B"
              % (c("buffers/numpy/memoryview/ndarray/1048576", "bytes_per_iter"),
                 c("buffers/numpy/frombuffer/bytes/1048576", "bytes_per_iter"),
                 c(big, "bytes_per_iter"), c("buffers/numpy/tobytes/1048576", "bytes_per_iter")))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
