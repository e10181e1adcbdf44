#!/usr/bin/env python3
"""check_result_scripts.py FIGURES_DIR - hook-overhead, variation,
buffers-table, bindings-table and sampling-shapes (scripts/figures/) compute what they claim
from a result file with known numbers, and refuse bad usage; a filter
with a leading '-' keeps the cases it misses (Google Benchmark's rule)."""
import json
import os
import subprocess
import sys
import tempfile


def row(name, time, **extra):
    r = {"name": name, "run_name": name, "run_type": "iteration", "iterations": 1000,
         "real_time": time, "cpu_time": time, "time_unit": "ns"}
    r.update(extra)
    return r


def main(scripts):
    rows = [row("f/a/memhook:on", t) for t in (2.0, 3.0, 2.0)]
    rows += [row("f/a/memhook:off", t) for t in (1.0, 1.0, 9.0)]
    rows += [row("f/b/memhook:on", 5.0), row("f/b/memhook:off", 4.0)]
    for name, cv in (("f/x", 0.01), ("f/y", 0.03), ("f/z", 0.02)):
        rows.append(row(name + "_cv", cv, run_name=name, run_type="aggregate",
                        aggregate_name="cv", repetitions=5))
    # buffers: views flat at 50 ns; bytes slices 30..200 ns, slower from 1 KiB
    for n, t in ((16, 30.0), (64, 35.0), (256, 40.0), (1024, 80.0), (4096, 200.0)):
        rows.append(row("buffers/slice/memoryview/%d" % n, 50.0))
        rows.append(row("buffers/slice/bytes/%d" % n, t))
    rows.append(row("buffers/memcpy/1024", 10.0))
    rows.append(row("buffers/memcpy_fresh/1024", 80.0))
    rows.append(row("buffers/copy/tobytes/1024", 0.04, time_unit="us", minor_faults_per_iter=1))
    rows.append(row("buffers/view/getbuffer/exporter_ro/16", 10.0))
    rows.append(row("buffers/view/getbuffer/exporter_ro/268435456", 12.0))
    # bindings: boost creates at 3x raw's time; three repetitions of pybind11
    # whose median (600) is what counts; an instructions-only row has no counters
    rows.append(row("bindings/create/raw", 500.0, allocs_per_iter=1.0, bytes_per_iter=56.0,
                    cxx_new_per_iter=0.0, cxx_new_bytes_per_iter=0.0))
    rows.append(row("bindings/create/boost", 1500.0, allocs_per_iter=7.0, bytes_per_iter=683.0,
                    cxx_new_per_iter=0.0, cxx_new_bytes_per_iter=0.0))
    for t in (900.0, 600.0, 650.0):
        rows.append(row("bindings/create/pybind11_%s" % t, t, run_name="bindings/create/pybind11",
                        run_type="aggregate" if t == 600.0 else "iteration",
                        aggregate_name="median" if t == 600.0 else None,
                        allocs_per_iter=2.0, bytes_per_iter=120.0, cxx_new_per_iter=4.0,
                        cxx_new_bytes_per_iter=64.0))
    rows.append(row("bindings/method/raw", 15.0))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        with open(path, "w") as f:
            json.dump({"context": {}, "benchmarks": rows}, f)

        def run(script, *args):
            return subprocess.run([sys.executable, os.path.join(scripts, script), path] + list(args),
                                  capture_output=True, text=True)
        # medians: a 2.0/1.0 = 2.0, b 5.0/4.0 = 1.25; median of the two 1.625
        p = run("hook-overhead")
        if p.returncode != 0 or "median on/off over 2 cases: 1.625" not in p.stdout:
            problems.append("hook-overhead: %d %r" % (p.returncode, p.stdout))
        p = run("hook-overhead", "--filter", "f/b")
        if "median on/off over 1 cases: 1.250" not in p.stdout:
            problems.append("hook-overhead --filter: %r" % p.stdout)
        p = run("hook-overhead", "--filter", "-f/b")
        if "median on/off over 1 cases: 2.000" not in p.stdout:
            problems.append("hook-overhead --filter -f/b (all but f/b): %r" % p.stdout)
        p = run("variation", "--filter", "-f/[xz]")
        if "median cv over 1 cases: 3.00%" not in p.stdout:
            problems.append("variation --filter -f/[xz] (only f/y): %r" % p.stdout)
        p = run("variation")
        if p.returncode != 0 or "median cv over 3 cases: 2.00% (max 3.00%)" not in p.stdout:
            problems.append("variation: %d %r" % (p.returncode, p.stdout))
        # the crossover is 1 KiB; the difference -10 ns at 256 B and +30 at
        # 1 KiB crosses zero at 256 + 768 * 10 / 40 = 448 B
        p = run("buffers-table")
        for want in ("| `slice/memoryview` / `slice/bytes` | 1 KiB (above 256 B; about 448 B "
                     "interpolated) | 50.0 / 30.0 | 50.0 / 80.0 |",
                     "| `copy/tobytes` | 0.25 / 2.00 | - | - |",
                     "| `view/getbuffer/exporter_ro` | 10.0 | 12.0 | 1.20 |"):
            if p.returncode != 0 or want not in p.stdout:
                problems.append("buffers-table: %d, no %r in %r %s" % (p.returncode, want, p.stdout, p.stderr))
        p = run("bindings-table")
        for want in ("| create/destroy | boost | 1500.0 | +1000.0 | 3.00 | 7.00 | 683 | 0.00 | 0 |",
                     "| create/destroy | pybind11 | 600.0 | +100.0 | 1.20 | 2.00 | 120 | 4.00 | 64 |",
                     "| method call | raw | 15.0 | +0.0 | 1.00 | - | - | - | - |"):
            if p.returncode != 0 or want not in p.stdout:
                problems.append("bindings-table: %d, no %r in %r %s" % (p.returncode, want, p.stdout, p.stderr))
        p = subprocess.run([sys.executable, os.path.join(scripts, "bindings-table"), "--bogus"],
                           capture_output=True, text=True)
        if p.returncode != 2 or p.stderr.count("\n") != 1:
            problems.append("bindings-table accepted a bogus option (exit %d)" % p.returncode)
        p = run("variation", "--bogus")
        if p.returncode != 2:
            problems.append("variation accepted a bogus option (exit %d)" % p.returncode)
        # sampling-shapes: 4 processes of 3 tight repetitions whose medians
        # disagree (100, 110, 90, 105); a second case of 2 processes is left out
        shaped = os.path.join(tmp, "shapes.json")
        rows = [row("s/a", m + d, process_index=p, repetition_index=k)
                for p, m in enumerate((100.0, 110.0, 90.0, 105.0))
                for k, d in enumerate((0.0, 0.1, -0.1))]
        rows += [row("s/b", 10.0, process_index=p) for p in range(2)]
        with open(shaped, "w") as f:
            json.dump({"context": {}, "benchmarks": rows}, f)
        cmd = [sys.executable, os.path.join(scripts, "sampling-shapes"), shaped]
        p = subprocess.run(cmd, capture_output=True, text=True)
        got = {}
        for part in p.stdout.split(": ")[-1].split("  "):
            shape, _, pct = part.partition(" ")
            got[shape] = float(pct.rstrip("%\n")) if pct else None
        # three processes' t interval (2 degrees of freedom) is wider than
        # four's, and three repetitions barely move it
        if (p.returncode != 0 or ": 1 cases:" not in p.stdout
                or set(got) != {"3x3", "3x1", "3x2", "4x1"}
                or not got["4x1"] < got["3x1"] or abs(got["3x3"] - got["3x1"]) > 1.0):
            problems.append("sampling-shapes: %d %r %s" % (p.returncode, p.stdout, p.stderr))
        p = subprocess.run(cmd + ["--shapes", "3y"], capture_output=True, text=True)
        if p.returncode != 2 or p.stderr.count("\n") != 1:
            problems.append("sampling-shapes accepted --shapes 3y (exit %d)" % p.returncode)
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: hook-overhead, variation, buffers-table, bindings-table and sampling-shapes "
              "give the known figures")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
