#!/usr/bin/env python3
"""check_alloc.py BINARY - the alloc family and the allocator matrix keep
their promises: the counting hook sees exactly the allocations a case makes
(one per iteration through Python's domains, none through malloc, one
realloc per growth step, every thread's); pymalloc's arena size shows in
what one surviving object pins; an LD_PRELOAD allocator is really the
process's malloc, or the run is refused with one line naming the package,
never a silent fallback; the context carries the process's peak RSS;
glibc's malloc thresholds are fixed, so a burst's heap does not follow the
cases before it."""
import os
import re
import subprocess
import sys
import tempfile

from pmbtest import run_cases

problems = []
SANITIZE = os.environ.get("PYMB_SANITIZE") == "1"  # make test SANITIZE=1
LIBS = {"malloc+jemalloc": ("libjemalloc.so.2", "libjemalloc2"),
        "malloc+tcmalloc": ("libtcmalloc.so.4", "libgoogle-perftools4"),
        "malloc+mimalloc": ("libmimalloc.so.2", "libmimalloc2.0")}


def expect(cond, msg):
    if not cond:
        problems.append(msg)


def rows(doc):
    return {r["name"]: r for r in doc["benchmarks"]} if doc else {}


def close(a, b, tol=1e-9):
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


def check_exact_counts(binary, tmp):
    flt = ("^alloc/(PyObject_Malloc|PyMem_Malloc|PyMem_RawMalloc|malloc)/"
           "(steady/lifo/(32|1024)|burst/random/32|realloc/1024)$|"
           "^alloc/threads/PyMem_RawMalloc/2/real_time$")
    rc, err, doc = run_cases(binary, tmp, flt)
    got = rows(doc)
    expect(rc == 0 and len(got) == 17, "exact counts: exit %d, %d rows: %s"
           % (rc, len(got), err[-500:]))
    for name, r in got.items():
        expect("error_message" not in r, "%s: %s" % (name, r.get("error_message")))
        api = name.split("/")[1]
        n = 0 if api == "malloc" else 1
        if "/realloc/" in name:
            # 16 -> 1024 bytes in 16-byte steps: 63 reallocs, one alloc, one free
            expect(close(r.get("reallocs_per_iter"), n) and
                   close(r.get("allocs_per_iter"), n / 63) and
                   close(r.get("frees_per_iter"), n / 63),
                   "%s: allocs %r reallocs %r frees %r" % (name, r.get("allocs_per_iter"),
                   r.get("reallocs_per_iter"), r.get("frees_per_iter")))
            continue
        size = 64 if "/threads/" in name else int(name.split("/")[-1].split("/")[0])
        expect(close(r.get("allocs_per_iter"), n) and close(r.get("frees_per_iter"), n) and
               close(r.get("bytes_per_iter"), n * size),
               "%s: allocs %r frees %r bytes %r, expected %d %d %d"
               % (name, r.get("allocs_per_iter"), r.get("frees_per_iter"),
                  r.get("bytes_per_iter"), n, n, n * size))
        if "/threads/" not in name:
            expect(r.get("label") in ("steady", "burst") and r["label"] in name,
                   "%s: label %r does not name the regime" % (name, r.get("label")))


def check_arena_pinning(binary, tmp, ver):
    # malloc first: it runs (and checks) the case on a build without
    # pymalloc too (make test's smoke leaves the case to this test)
    flt = "^alloc/fragment/keep_one_in/100000$"
    rc, err, doc = run_cases(binary, tmp, flt, "--allocator=malloc")
    r = rows(doc).get("alloc/fragment/keep_one_in/100000", {})
    expect(rc == 0 and "rss_after_free_bytes" in r and "arena_bytes" not in r,
           "malloc: expected RSS readings and no arena counts, got %r (%s)"
           % (sorted(r), err[-300:]))
    rc, err, doc = run_cases(binary, tmp, flt, "--allocator=pymalloc")
    if rc == 2 and "not available" in err:
        print("note: no pymalloc in this build (%s); arena checks skipped" % err.strip())
        return
    r = rows(doc).get("alloc/fragment/keep_one_in/100000", {})
    arena = 262144 if ver <= (3, 9) else 1048576
    expect(rc == 0 and r.get("arena_bytes") == arena,
           "pymalloc: arena_bytes %r, expected %d (%s)" % (r.get("arena_bytes"), arena, err[-300:]))
    pinned = r.get("pinned_arena_bytes_per_survivor", 0)
    expect(0.8 * arena <= pinned <= 1.2 * arena,
           "pymalloc: one survivor every 100000 ints pins %r bytes of arenas, expected ~%d"
           % (pinned, arena))


def check_preload(binary, tmp):
    if SANITIZE:
        # the re-executed process would load the library before the ASan
        # runtime, which ASan refuses (and its malloc would bypass ASan's)
        print("note: sanitizer build (PYMB_SANITIZE=1); LD_PRELOAD allocator checks skipped:"
              " the ASan runtime must be the first library loaded")
        return False
    flt = "^alloc/object/int$"
    for name, (soname, package) in LIBS.items():
        rc, err, doc = run_cases(binary, tmp, flt, "--allocator=" + name)
        if rc == 0:
            ctx = doc["context"]
            expect(os.path.basename(ctx.get("malloc_library", "")).startswith(soname) and
                   soname in ctx.get("allocator_effective", "") and
                   "not glibc's" in ctx.get("malloc_thresholds", "") and
                   ctx.get("allocator") == name,
                   "%s: context %r" % (name, {k: ctx.get(k) for k in
                   ("allocator", "allocator_effective", "malloc_library")}))
        else:
            lines = err.strip().splitlines()
            expect(rc == 2 and len(lines) == 1 and package in lines[0] and doc is None,
                   "%s: exit %d, %r" % (name, rc, err))
        env = dict(os.environ, PYMB_LIBDIRS="/nonexistent")
        rc, err, doc = run_cases(binary, tmp, flt, "--allocator=" + name, env=env)
        lines = err.strip().splitlines()
        expect(rc == 2 and len(lines) == 1 and "apt-get install " + package in lines[0]
               and doc is None and not [f for f in os.listdir(tmp) if ".tmp." in f],
               "%s, library hidden: expected exit 2, one line and no file; got %d %r"
               % (name, rc, err))
    rc, err, doc = run_cases(binary, tmp, flt, "--allocator=malloc+bogus")
    expect(rc == 2 and "malloc+jemalloc" in err and doc is None,
           "malloc+bogus: exit %d %r" % (rc, err))
    return True


def check_thresholds(binary, tmp):
    """glibc's mmap and trim thresholds are fixed before the interpreter
    starts, so a case's heap does not follow the cases before it: an 8 MiB
    burst of 4 KiB blocks freed last-in first-out is not trimmed back to the
    kernel, and faults no page in again, even in a process of its own
    (where glibc's adapting thresholds trim it on every burst: about one
    fault per block). GLIBC_TUNABLES naming them leaves them to the user."""
    if SANITIZE:
        print("note: sanitizer build (PYMB_SANITIZE=1); malloc threshold check skipped:"
              " malloc is ASan's")
        return False
    flt = "^alloc/PyObject_Malloc/burst/lifo/4096$"
    cold = "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072"
    for tunables, fixed in ((None, True), (cold, False)):
        env = dict(os.environ)
        for name in ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
            env.pop(name, None)
        if tunables:
            env["GLIBC_TUNABLES"] = tunables
        rc, err, doc = run_cases(binary, tmp, flt, env=env)
        row = rows(doc).get(flt[1:-1], {})
        faults = row.get("minor_faults_per_iter")
        said = doc["context"].get("malloc_thresholds", "") if doc else ""
        if fixed:
            expect(rc == 0 and faults is not None and faults < 0.1 and "fixed" in said,
                   "thresholds fixed: exit %d, %r faults an iteration, context %r %s"
                   % (rc, faults, said, err[-300:]))
        else:
            expect(rc == 0 and faults is not None and faults > 0.5 and "environment" in said,
                   "GLIBC_TUNABLES=%s: exit %d, %r faults an iteration (each burst trimmed"
                   " expected), context %r %s" % (tunables, rc, faults, said, err[-300:]))
    return True


def check_process_peak(binary, tmp):
    """A large case then a small one: the process's peak is the large one's,
    though the per-case peak was reset before the small one ran."""
    if SANITIZE:
        # freed blocks wait in ASan's quarantine (256 MiB) still resident, so
        # a later, smaller case can show the larger RSS peak
        print("note: sanitizer build (PYMB_SANITIZE=1); process peak check skipped: ASan's"
              " quarantine keeps freed memory resident")
        return False
    big = "alloc/fragment/keep_one_in/1000"
    small = "alloc/threads/PyMem_RawMalloc/1/real_time"
    rc, err, doc = run_cases(binary, tmp, "^%s$|^%s$" % (big, small))
    got = rows(doc)
    if rc != 0 or big not in got or small not in got:
        expect(False, "peak: exit %d, rows %r (%s)" % (rc, sorted(got), err[-300:]))
        return
    peak = doc["context"].get("process_peak_rss_bytes", 0)
    expect(got[small]["peak_bytes"] < got[big]["peak_bytes"] <= peak,
           "process_peak_rss_bytes %r, peaks %r then %r: expected the first, larger one"
           % (peak, got[big]["peak_bytes"], got[small]["peak_bytes"]))
    return True


def main(binary):
    m = re.search(r"Python (\d+)\.(\d+)", subprocess.run([binary, "--version"],
                  capture_output=True, text=True).stdout)
    ver = (int(m.group(1)), int(m.group(2)))
    with tempfile.TemporaryDirectory() as tmp:
        check_exact_counts(binary, tmp)
        check_arena_pinning(binary, tmp, ver)
        preload = check_preload(binary, tmp)
        peak = check_process_peak(binary, tmp)
        thresholds = check_thresholds(binary, tmp)
    for p in problems:
        print("FAIL: " + p)
    if not problems:
        print("ok: exact hook counts, arena pinning, %s, %s, %s"
              % ("LD_PRELOAD allocators" if preload else "(LD_PRELOAD allocators skipped)",
                 "process peak" if peak else "(process peak skipped)",
                 "fixed malloc thresholds" if thresholds else "(malloc thresholds skipped)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
