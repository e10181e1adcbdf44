#!/usr/bin/env python3
"""check_result_scripts.py FIGURES_DIR - hook-overhead, variation,
buffers-table, bindings-table, sampling-shapes and process-widths (scripts/figures/) compute
what they claim
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


def serial_figures(tool, tmp, pmbstats):
    """process-widths' run-order figures, worked out by hand: 100 processes
    of one value in blocks of 10 alike, 100 then 200 ns, alternating. On
    the logs (+-d about their mean, d^2 each) the pairs k apart are alike
    10 (10 - k) times and unlike 9k times for k <= 10, so the lag-k
    autocorrelation is (100 - 19k) / 100: lag 1 0.81, lag 10 -0.90. Geyer's
    pairs: 1 + 0.81, 0.62 + 0.43, 0.24 + 0.05, then -0.14 - 0.33 (stop):
    tau = -1 + 2 x 3.15 = 5.3, worth 100 / 5.3 = 18.9 processes. One
    process's repetitions in the same order give the same figures."""
    problems = []
    times = [100.0 if (i // 10) % 2 == 0 else 200.0 for i in range(100)]
    many = os.path.join(tmp, "serial-many.json")
    one = os.path.join(tmp, "serial-one.json")
    for path, procs in ((many, range(100)), (one, [0] * 100)):
        with open(path, "w") as f:
            json.dump({"context": {}, "benchmarks": [
                row("s/a", t, process_index=p) for p, t in zip(procs, times)]}, f)
    half = pmbstats.sampling([[t] for t in times], 0.01)[1]
    want = {many: "process medians in run order: autocorrelation lag 1 0.81, lag 10 -0.90;"
                  " worth 19 independent of 100 (+-%.2f%% for so many)"
                  % (100 * half * (5.3 ** 0.5)),
            one: "repetitions of the one process in run order: autocorrelation lag 1 0.81,"
                 " lag 10 -0.90; worth 19 independent of 100"}
    for path in (many, one):
        p = subprocess.run([sys.executable, tool, path], capture_output=True, text=True)
        last = p.stdout.splitlines()[-1] if p.stdout else ""
        if p.returncode != 0 or last != want[path]:
            problems.append("process-widths run order: exit %d, %r, want %r %s"
                            % (p.returncode, last, want[path], p.stderr))
    return problems


def process_widths(scripts, tmp):
    """process-widths groups by process (pymembench's process_index, a
    pyperf worker's run) and reads a pyperf worker's end from its date:
    3 processes of 3 tight values whose medians disagree (100, 120, 80)
    must be as wide as those 3 processes, far wider than the 9 values
    taken as one process; the third worker ends 30 s after the first one
    started. Two cases without --case, a bad option: exit 2."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(scripts)))
    import pmbstats
    problems = []
    groups = [[m - 0.1, m, m + 0.1] for m in (100.0, 120.0, 80.0)]
    want = pmbstats.sampling(groups, 0.01)[1]
    if want < 2 * pmbstats.sampling([sum(groups, [])], 0.01)[1]:
        problems.append("process-widths: the made-up processes do not tell grouping apart")
    runs = [{"metadata": {"date": "2026-12-03 10:00:%02d.000000" % (10 * (k + 1)),
                          "duration": 10.0}, "values": [v * 1e-9 for v in g]}
            for k, g in enumerate(groups)]
    pp = os.path.join(tmp, "pyperf.json")
    with open(pp, "w") as f:
        json.dump({"benchmarks": [{"runs": [{"metadata": {}, "warmups": [[1, 0.1]]}] + runs}]},
                  f)
    pm = os.path.join(tmp, "widths.json")
    rows = [row("w/a", v, process_index=p) for p, g in enumerate(groups) for v in g]
    rows += [row("w/b", 5.0, process_index=p) for p in range(3)]
    with open(pm, "w") as f:
        json.dump({"context": {}, "benchmarks": rows}, f)
    tool = os.path.join(scripts, "process-widths")
    for args, med, when in (([pp], 100e-9, " at 30 s"), ([pm, "--case", "w/a"], 100.0, "")):
        p = subprocess.run([sys.executable, tool] + args, capture_output=True, text=True)
        first = p.stdout.splitlines()[0] if p.stdout else ""
        if p.returncode != 0 or first != "3 processes: median %.4g, +-%.2f%%%s" % (
                med, 100 * want, when):
            problems.append("process-widths %s: exit %d %r %s"
                            % (args[1:], p.returncode, p.stdout, p.stderr))
    problems += serial_figures(tool, tmp, pmbstats)
    for args in ([pm], [pp, "--bogus"]):
        p = subprocess.run([sys.executable, tool] + args, capture_output=True, text=True)
        if p.returncode != 2 or p.stderr.count("\n") not in (1, 2):
            problems.append("process-widths %s: exit %d %r" % (args, p.returncode, p.stderr))
    return problems


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
        problems += process_widths(scripts, tmp)
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: hook-overhead, variation, buffers-table, bindings-table, sampling-shapes and "
              "process-widths give the known figures")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
