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
    want = {"shim/counted/8", "shim/counted/64", "shim/range/2", "shim/range/4",
            "shim/range/16", "shim/range/32", "shim/paused", "shim/fails"}
    if set(rows) != want:
        fail("benchmark names %s, expected %s" % (sorted(rows), sorted(want)))
    if doc["context"].get("shim_context") != "present":
        fail("custom context missing")
    # the end context: the work of every row, which test_shim prints last
    work = [w for w in p.stdout.split() if w.startswith("work=")]
    if not work or doc["context"].get("shim_work_done") != int(work[-1][5:]) \
            or not doc["context"]["shim_work_done"] > 0:
        fail("end context: shim_work_done %r, test_shim printed %s"
             % (doc["context"].get("shim_work_done"), work))
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
    paused = rows["shim/paused"]
    if paused["iterations"] < 1 or "bytes_per_second" not in paused:
        fail("shim/paused: bytes rate missing: %r" % paused)
    if paused.get("label") != "paused-and-resumed":
        fail("shim/paused: label missing")
    failed = rows["shim/fails"]
    if not failed.get("error_occurred") or failed.get("error_message") != "expected failure":
        fail("shim/fails: error not reported: %r" % failed)
    strict_json(binary)
    print("ok: %d benchmarks, counters, flags, context (with an entry known at the end) and "
          "errors reached the JSON; the cv of "
          "an always-0 counter is left out (strict JSON), where Google Benchmark alone writes "
          "NaN" % len(rows))


def refuse(constant):
    raise ValueError("not strict JSON: %s" % constant)


def strict_json(binary):
    """With repetitions, the cv of the always-0 counter `zero` is 0/0:
    Google Benchmark writes NaN (the negative control), the shim leaves the
    counter out of that row."""
    texts = {}
    for plain in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "shim.json")
            env = dict(os.environ)
            env.pop("TEST_SHIM_PLAIN_JSON", None)
            if plain:
                env["TEST_SHIM_PLAIN_JSON"] = "1"
            p = subprocess.run([binary, "--benchmark_min_time=0.001",
                                "--benchmark_filter=^shim/counted/8$",
                                "--benchmark_repetitions=3", "--benchmark_out=" + out],
                               capture_output=True, text=True, env=env)
            if p.returncode != 0:
                fail("test_shim with repetitions exited %d: %s" % (p.returncode, p.stderr))
            with open(out) as f:
                texts[plain] = f.read()
    try:
        json.loads(texts[True], parse_constant=refuse)
        fail("negative control: Google Benchmark's own JSON has no NaN to refuse")
    except ValueError:
        pass
    try:
        doc = json.loads(texts[False], parse_constant=refuse)
    except ValueError as e:
        fail("the shim's JSON is not strict: %s" % e)
    rows = {b["name"]: b for b in doc["benchmarks"]}
    cv, mean = rows.get("shim/counted/8_cv"), rows.get("shim/counted/8_mean")
    if cv is None or mean is None:
        fail("no _cv or _mean row with repetitions: %s" % sorted(rows))
    if "zero" in cv or mean.get("zero") != 0 or "answer" not in cv:
        fail("the cv row should lack only the undefined counter: cv %r, mean %r" % (cv, mean))


if __name__ == "__main__":
    main(sys.argv[1])
