#!/usr/bin/env python3
"""check_balance.py BINARY - every gc/ and lifetime/ case, twice, in random
order: each run's check (resources released exactly once, garbage
accounted for, allocations balanced) must pass whatever ran before it, and
after the run no resource may be alive and the collector's settings must be
as they were (pymembench exits 1 otherwise)."""
import json
import os
import subprocess
import sys
import tempfile

FILTER = "^(gc|lifetime)/"


def main(binary):
    listed = subprocess.run([binary, "--list", "--benchmark_filter=" + FILTER],
                            capture_output=True, text=True)
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    names = [n for n in names if n.startswith(("gc/", "lifetime/"))]
    if listed.returncode != 0 or len(names) < 18:
        print("FAIL: --list gave %d gc/lifetime cases (exit %d)" % (len(names), listed.returncode))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "balance.json")
        p = subprocess.run([binary, "--benchmark_filter=" + FILTER,
                            "--benchmark_repetitions=2", "--benchmark_min_time=0.0001",
                            "--benchmark_enable_random_interleaving=true",
                            "--benchmark_out=" + out, "--benchmark_format=console"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
            return 1
        with open(out) as f:
            rows = json.load(f)["benchmarks"]
    runs = {}
    for r in rows:
        if r.get("run_type") != "iteration":
            continue
        if r.get("error_occurred"):
            print("FAIL: %s: %s" % (r["name"], r.get("error_message")))
            return 1
        runs[r["run_name"]] = runs.get(r["run_name"], 0) + 1
    short = [n for n in names if runs.get(n, 0) != 2]
    if short:
        print("FAIL: cases without two passing runs: %s" % ", ".join(short))
        return 1
    print("ok: %d gc/lifetime cases passed twice in random order; nothing left alive"
          % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
