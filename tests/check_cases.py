#!/usr/bin/env python3
"""check_cases.py BINARY - run test_cases and check what reached its JSON."""
import json
import os
import subprocess
import sys
import tempfile


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cases.json")
        p = subprocess.run([binary, "--benchmark_min_time=0.01", "--benchmark_out=" + out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
            return 1
        with open(out) as f:
            rows = {r["name"]: r for r in json.load(f)["benchmarks"]}
    problems = []
    ok = rows.get("t/two_allocs/3", {})
    if ok.get("allocs_per_iter") != 2 or ok.get("frees_per_iter") != 2 \
            or ok.get("bytes_per_iter") != 200 or ok.get("error_occurred"):
        problems.append("two_allocs: counters %r" % ok)
    for name, text in (("t/leaks", "check failed: "), ("t/fails", "check failed: deliberately"),
                       ("t/skips", "skipped: not on this interpreter"),
                       ("t/keeps_export", "left 1 buffer export(s) unreleased")):
        msg = rows.get(name, {}).get("error_message", "")
        if not rows.get(name, {}).get("error_occurred") or not msg.startswith(text):
            problems.append("%s: error_message %r, expected %r" % (name, msg, text))
    after = rows.get("t/after_export", {})
    if not after or after.get("error_occurred"):
        problems.append("after_export was blamed for an earlier case's export: %r" % after)
    if "failures=3" not in p.stdout:
        problems.append("expected 3 failures (leak, check, export), got %r" % p.stdout)
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: exact per-iteration counters; failed checks, leaks, skips and "
              "unreleased exports reported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
