#!/usr/bin/env python3
"""check_bindings.py BINARY TAG - the bindings family keeps its promises on
one interpreter: each binding layer either has its rows or, instead, one
row bindings/unavailable/<layer> skipped with one line naming the library,
the interpreter and why (never both, never silently), and nothing on
stderr either way; Debian's python3 gets all three layers where the packages are
installed; every row passes its check and carries Python's and C++'s
allocation counters; the counts say what each layer does (a view copies
nothing, a copy copies the block, the C API news nothing, pybind11's
unique_ptr holder news the object, Boost.Python's value holder does not);
the seeds' Boost.Python managers: __enter__ returning object(member) copies
it and the block's write is lost to the member, a reference or shared_ptr
does neither; Boost.Python's numpy layer, where numpy imports (Debian's
python3 must manage it), views C++ memory without a copy and the memory
outlives its C++ handle until the last view (else one skip reason); and a
planted leak is caught by the live-resource check."""
import glob
import os
import re
import sys
import tempfile

from pmbtest import expect, failed, run_cases

LIBRARIES = {"boost": "Boost.Python", "pybind11": "pybind11"}
PY_COUNTERS = ("allocs_per_iter", "bytes_per_iter")
CXX_COUNTERS = ("cxx_new_per_iter", "cxx_new_bytes_per_iter")


def debian_layers(tag):
    """The layers Debian's packages give Debian's own python3.11, if installed
    (an AddressSanitizer build leaves Boost.Python out, saying why)."""
    if not tag.startswith("cpython-3.11.") or not tag.endswith("-system") or "d-" in tag:
        return set()
    want = set()
    arch = glob.glob("/usr/lib/*/libboost_python311.so") + glob.glob("/usr/lib/libboost_python311.so")
    if arch and os.path.exists("/usr/include/boost/python.hpp"):
        want.add("boost")
    if os.path.exists("/usr/include/pybind11/pybind11.h"):
        want.add("pybind11")
    if os.environ.get("PYMB_SANITIZE") == "1":
        want.discard("boost")
    return want


def main():
    binary, tag = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        rc, err, doc = run_cases(binary, tmp, "^bindings/")
        expect(rc == 0 and doc is not None, "bindings run: exit %d, stderr %s" % (rc, err[-400:]))
        if doc is None:
            return 1
        rows = {r["name"]: r for r in doc["benchmarks"]
                if not r["name"].startswith("bindings/unavailable/")}
        skips = {r["name"].split("/")[2]: r for r in doc["benchmarks"]
                 if r["name"].startswith("bindings/unavailable/")}
        expect(not re.search(r"^pymembench: bindings", err, re.M),
               "the family wrote to stderr: %r" % err)
        present = {name.split("/")[2].split("_shared_ptr")[0] for name in rows
                   if not name.startswith(("bindings/buffer/", "bindings/seed_enter/",
                                           "bindings/numpy/"))}
        present |= {name.split("/")[3] for name in rows if name.startswith("bindings/buffer/")}
        expect("raw" in present, "the raw C API layer is always there: %s" % sorted(present))

        # each optional layer: rows, or one skipped row saying why not
        for layer, library in LIBRARIES.items():
            skip = skips.get(layer)
            message = skip.get("error_message", "") if skip else ""
            if layer in present:
                expect(skip is None, "%s has rows and a skip row: %r" % (library, message))
                expect(library in doc["context"].get("bindings_layers", ""),
                       "context bindings_layers lacks %s" % library)
            else:
                m = re.match(r"skipped: %s on (\S+): (.+)$" % re.escape(library), message)
                expect(m is not None and m.group(1) == tag and "\n" not in message,
                       "%s has no rows and no skip row naming %s and a reason: %r"
                       % (library, tag, message))
        for layer in debian_layers(tag):
            expect(layer in present, "Debian's python3 with the packages installed lacks %s rows"
                   % LIBRARIES[layer])

        # every row passed its check and carries the counters: C++ new's
        # where a C++ layer is built (nothing replaced operator new otherwise)
        cxx = bool(present - {"raw"})
        # Boost.Python's numpy rows: skipped, all for one reason, where this
        # interpreter cannot import numpy; they run on Debian's python3
        numpy_rows = {n: r for n, r in rows.items() if n.startswith("bindings/numpy/")}
        numpy_skips = {r.get("error_message", "") for r in numpy_rows.values()
                       if r.get("error_occurred")}
        expect(not numpy_skips or (len(numpy_skips) == 1 and next(iter(numpy_skips)).startswith(
            "skipped: numpy cannot be imported by this interpreter (") and all(
                r.get("error_occurred") for r in numpy_rows.values())),
            "Boost.Python numpy rows: %s" % sorted(numpy_skips)[:3])
        if "boost" in debian_layers(tag) and os.path.exists(
                "/usr/lib/python3/dist-packages/numpy/__init__.py") and glob.glob(
                "/usr/lib/*/libboost_numpy311.so"):
            expect(len(numpy_rows) == 3 and not numpy_skips,
                   "Debian's python3 with libboost-numpy-dev and python3-numpy: numpy rows %s, "
                   "skipped %s" % (sorted(numpy_rows), sorted(numpy_skips)))
        if numpy_skips:
            rows = {n: r for n, r in rows.items() if n not in numpy_rows}
        for name, r in rows.items():
            expect(not r.get("error_occurred"), "%s: %s" % (name, r.get("error_message")))
            for c in PY_COUNTERS + (CXX_COUNTERS if cxx else ()):
                expect(c in r, "%s has no %s" % (name, c))
            for c in () if cxx else CXX_COUNTERS:
                expect(c not in r, "%s has %s without a C++ layer" % (name, c))

        def counter(name, c):
            return rows.get(name, {}).get(c, float("nan"))

        for layer in present:
            view, copy = "bindings/buffer/view/" + layer, "bindings/buffer/copy/" + layer
            expect(counter(view, "bytes_per_iter") < 1024,
                   "%s allocated %.0f bytes per view (a copy?)" % (view, counter(view, "bytes_per_iter")))
            expect(counter(copy, "bytes_per_iter") >= 4096,
                   "%s allocated %.0f bytes per copy of a 4 KiB block"
                   % (copy, counter(copy, "bytes_per_iter")))
            expect(counter("bindings/incref/" + layer, "allocs_per_iter") == 0,
                   "bindings/incref/%s allocates" % layer)
        for name in rows if cxx else ():
            if name.endswith("/raw"):
                expect(counter(name, "cxx_new_per_iter") == 0, "%s: the C API called new" % name)
        if "pybind11" in present:
            expect(counter("bindings/create/pybind11", "cxx_new_per_iter") >= 1,
                   "pybind11's unique_ptr holder news the object, counted %g"
                   % counter("bindings/create/pybind11", "cxx_new_per_iter"))
        if "boost" in present:
            expect(counter("bindings/create/boost", "cxx_new_per_iter") == 0,
                   "Boost.Python's value holder lives inside the instance, yet new was called")
            expect(counter("bindings/create/boost_shared_ptr", "cxx_new_per_iter") >= 1,
                   "Boost.Python's shared_ptr holder news the object")

        # the seeds' managers (Boost.Python): object(member) copies the
        # member, so the block's write never reaches it; a reference or a
        # shared_ptr hands over the member itself
        seeds = {n.split("/")[2]: n for n in rows if n.startswith("bindings/seed_enter/")}
        expect(set(seeds) == ({"object_copy", "internal_reference", "shared_ptr", "ofstream"}
                              if "boost" in present else set()),
               "seed manager rows %s with layers %s" % (sorted(seeds), sorted(present)))
        for how, name in seeds.items():
            want = 1 if how == "object_copy" else 0
            expect(counter(name, "copies_per_iter") == want and
                   counter(name, "lost_writes_per_iter") == want,
                   "%s: %g copies and %g lost writes per block, expected %d each"
                   % (name, counter(name, "copies_per_iter"),
                      counter(name, "lost_writes_per_iter"), want))
        if seeds:
            print("seed managers: object(member) %g copies and %g lost writes per block; "
                  "return_internal_reference %g, shared_ptr %g"
                  % (counter(seeds["object_copy"], "copies_per_iter"),
                     counter(seeds["object_copy"], "lost_writes_per_iter"),
                     counter(seeds["internal_reference"], "copies_per_iter"),
                     counter(seeds["shared_ptr"], "copies_per_iter")))

        if numpy_rows and not numpy_skips:
            expect(counter("bindings/numpy/from_data/boost", "bytes_per_iter") < 1024,
                   "numpy::from_data allocated %g bytes per view of 4 KiB"
                   % counter("bindings/numpy/from_data/boost", "bytes_per_iter"))
            print("Boost.Python numpy: from_data %g Python allocations (%g bytes) per view, "
                  "copy %g; the C++ array outlived its handle and went with the view"
                  % (counter("bindings/numpy/from_data/boost", "allocs_per_iter"),
                     counter("bindings/numpy/from_data/boost", "bytes_per_iter"),
                     counter("bindings/numpy/copy/boost", "allocs_per_iter")))

        # a planted leak fails its row, with the count of live resources
        env = dict(os.environ, PYMB_SELFTEST="1")
        rc, err, doc = run_cases(binary, tmp, "^bindings/selftest/", env=env)
        leak = {r["name"]: r for r in doc["benchmarks"]} if doc else {}
        expect(rc == 1, "a planted leak exits 1, got %d" % rc)
        expect(len(leak) == len(present), "one leak row per layer: %s" % sorted(leak))
        for name, r in leak.items():
            expect(r.get("error_occurred") and "resources alive" in r.get("error_message", ""),
                   "%s: the leak was not caught: %s" % (name, r.get("error_message")))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
