#!/usr/bin/env python3
"""check_shim.py BINARY - run test_shim and check its JSON (see test_shim.c)."""
import json
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "shim.json")
        p = subprocess.run([binary, "--benchmark_min_time=0.01", "--benchmark_out=" + out,
                            "--benchmark_out_format=json", "--benchmark_format=console"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            fail("test_shim exited %d: %s" % (p.returncode, p.stderr))
        with open(out) as f:
            doc = json.load(f)
    rows = {b["name"]: b for b in doc["benchmarks"]}
    # Google Benchmark's Range(2, 32) with multiplier 4 is 2, 4, 16, 32;
    # a fixed iteration count is part of the name.
    want = {"shim/counted/8", "shim/counted/64", "shim/range/2", "shim/range/4",
            "shim/range/16", "shim/range/32", "shim/paused/iterations:10", "shim/fails"}
    if set(rows) != want:
        fail("benchmark names %s, expected %s" % (sorted(rows), sorted(want)))
    if doc["context"].get("shim_context") != "present":
        fail("custom context missing")
    for name in ("shim/counted/8", "shim/counted/64", "shim/range/32"):
        row = rows[name]
        if row.get("answer") != 42:
            fail("%s: plain counter 'answer' is %r, expected 42" % (name, row.get("answer")))
        if abs(row.get("three_per_iter", 0) - 3.0) > 1e-9:
            fail("%s: per-iteration counter is %r, expected 3" % (name, row.get("three_per_iter")))
        if row.get("ctx_tag") != 7:
            fail("%s: the context pointer did not reach the function" % name)
        n = int(name.rsplit("/", 1)[1])
        if "items_per_second" not in row or row["iterations"] % 4 != 0:
            fail("%s: no items rate, or iterations %d not in batches of 4"
                 % (name, row["iterations"]))
        if n > 1 and row["items_per_second"] <= 0:
            fail("%s: items rate not positive" % name)
    paused = rows["shim/paused/iterations:10"]
    if paused["iterations"] != 10 or "bytes_per_second" not in paused:
        fail("shim/paused: fixed iterations or bytes rate missing: %r" % paused)
    if paused.get("label") != "paused-and-resumed":
        fail("shim/paused: label missing")
    failed = rows["shim/fails"]
    if not failed.get("error_occurred") or failed.get("error_message") != "expected failure":
        fail("shim/fails: error not reported: %r" % failed)
    print("ok: %d benchmarks, counters, flags, context and errors reached the JSON" % len(rows))


if __name__ == "__main__":
    main(sys.argv[1])
