#!/usr/bin/env python3
"""check_processes.py SCRIPTS_DIR - the pieces `make bench` runs after the
benchmarks, on made-up results: merge-processes keeps every process's rows
(tagged, renumbered) and recomputes the aggregates over all of them;
compare reads merged files (processes x repetitions in its header, a 2x case
slower, the same processes against themselves neither slower nor faster),
writes
summary.md.json and the hyperfine section; plots draws PNG and SVG charts
from them; hyperfine-runs without hyperfine says so in one line and exits 0;
bad input to each exits 2."""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def part(version, proc_times, peak):
    """A result file of one process: {case: [times]}."""
    rows = []
    for case, times in proc_times.items():
        for i, t in enumerate(times):
            rows.append({"name": case, "run_name": case, "run_type": "iteration",
                         "repetitions": len(times), "repetition_index": i, "threads": 1,
                         "iterations": 100, "real_time": t, "cpu_time": t, "time_unit": "ns",
                         "bytes_per_iter": 64.0 if case.startswith("buffers") else 8.0,
                         "bytes_per_second": 1024 / t * 1e9, "peak_bytes": 1048576.0 * t,
                         "rss_bytes": 1048576.0 * t, "label": "copy"})
    return {"context": {"python_version": version + " (main)", "python_tag": "cpython-" + version,
                        "python_executable": "/nonexistent/python" + version,
                        "allocator": "default", "host": "test", "suite": "quick",
                        "pymembench_commit": "abc", "process_peak_rss_bytes": peak},
            "benchmarks": rows}


def dump(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


def main(scripts):
    problems = []

    def run(tool, *args, env=None):
        return subprocess.run([sys.executable, os.path.join(scripts, tool)] + list(args),
                              capture_output=True, text=True, env=env)

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "run")
        os.mkdir(run_dir)
        cases = ("buffers/memcpy/16", "buffers/memcpy/1024", "gc/live_heap/1000",
                 "gc/live_heap/100000")
        for version, scale in (("3.9.1", 1.0), ("3.12.0", 2.0)):
            parts = []
            for p, drift in enumerate((1.0, 1.1, 0.95)):
                doc = part(version, {c: [scale * drift * (10 + k + 0.01 * r) for r in range(3)]
                                     for k, c in enumerate(cases)}, 1000 + p)
                parts.append(os.path.join(tmp, "%s.%d.json" % (version, p)))
                dump(parts[-1], doc)
            out = os.path.join(run_dir, "cpython-%s-default.json" % version)
            r = run("merge-processes", out, *parts)
            if r.returncode != 0:
                problems.append("merge-processes: exit %d %s" % (r.returncode, r.stderr))
                continue
            with open(out) as f:
                merged = json.load(f)
            rows = [x for x in merged["benchmarks"] if x["run_name"] == cases[0]]
            it = [x for x in rows if x["run_type"] == "iteration"]
            med = [x for x in rows if x.get("aggregate_name") == "median"]
            want_times = sorted(scale * d * 10 + scale * d * 0.01 * r
                                for d in (1.0, 1.1, 0.95) for r in range(3))
            if [x["process_index"] for x in it] != [0, 0, 0, 1, 1, 1, 2, 2, 2] \
                    or [x["repetition_index"] for x in it] != list(range(9)):
                problems.append("merged rows not tagged 0..2 / numbered 0..8: %r" % [
                    (x.get("process_index"), x.get("repetition_index")) for x in it])
            if len(med) != 1 or abs(med[0]["real_time"] - want_times[4]) > 1e-9 \
                    or med[0]["repetitions"] != 9:
                problems.append("merged median %r, want %r over 9" % (med, want_times[4]))
            if merged["context"].get("processes") != 3 or \
                    merged["context"].get("process_peak_rss_bytes") != 1002:
                problems.append("merged context: %r" % merged["context"])
        hf = os.path.join(run_dir, "hyperfine")
        os.mkdir(hf)
        # 3.12.0t beside 3.12.0: a tag whose parts are not all numbers sorts too
        for version, t in (("3.9.1", 0.010), ("3.12.0", 0.020), ("3.12.0t", 0.030)):
            dump(os.path.join(hf, "cpython-%s.json" % version), {"results": [
                {"command": "startup/python -I -S -c pass",
                 "times": [t * (1 + 0.01 * i) for i in range(10)]}]})
        r = run("compare", run_dir)
        text = r.stdout
        for want in ("3 process(es) x 3 repetitions", "| `buffers/memcpy/16` | ",
                     "2.000 [", "## Whole-process timings (hyperfine)",
                     "| startup/python -I -S -c pass | "):
            if want not in text:
                problems.append("compare: no %r in:\n%s%s" % (want, text, r.stderr))
        table = [l for l in text.split("## Whole")[0].splitlines() if l.startswith("| `")]
        if len(table) != 4 or not all(l.endswith("] slower |") for l in table):
            problems.append("a 2x case not called slower:\n" + text)
        startup = [l for l in text.splitlines() if l.startswith("| startup/")]
        if not startup or "2.000 [" not in startup[0] or "] slower |" not in startup[0]:
            problems.append("hyperfine: 2x not called slower: %r" % startup)
        with open(os.path.join(run_dir, "summary.md.json")) as f:
            data = json.load(f)
        cell = data["cases"]["gc/live_heap/1000"]["cpython-3.12.0/default"]
        if not (cell["lo"] <= 2.0 <= cell["hi"]) or cell["verdict"] != "slower" \
                or not cell["p_adj"] <= 0.05:
            problems.append("summary.md.json cell %r" % cell)
        # the same processes against themselves: nothing slower or faster
        aa = os.path.join(tmp, "aa")
        os.mkdir(aa)
        src = os.path.join(run_dir, "cpython-3.9.1-default.json")
        shutil.copy(src, os.path.join(aa, "a.json"))
        shutil.copy(src, os.path.join(aa, "b.json"))
        r = run("compare", aa)
        body = [l for l in r.stdout.splitlines() if l.startswith("| `")]
        if r.returncode != 0 or len(body) != 4 or \
                not all(l.endswith(("] unsure |", "] same |")) for l in body):
            problems.append("A/A: %r %s" % (body, r.stderr))
        r = run("plots", run_dir)
        made = sorted(os.listdir(os.path.join(run_dir, "plots")))
        for name in ("ratios-buffers", "ratios-gc", "buffers-throughput-cpython-3.9.1_default",
                     "gc-live-heap", "objects-rss", "memory-peak", "hyperfine"):
            for ext in ("png", "svg"):
                f = os.path.join(run_dir, "plots", "%s.%s" % (name, ext))
                if not os.path.exists(f) or os.path.getsize(f) < 1000:
                    problems.append("plots: no %s (exit %d, %s; made %s)" % (
                        f, r.returncode, r.stderr.strip(), made))
        # without hyperfine on PATH: one line, exit 0
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        r = run("hyperfine-runs", run_dir, env={"PATH": bin_dir})
        if r.returncode != 0 or "hyperfine is not installed" not in r.stderr \
                or len(r.stderr.splitlines()) != 1:
            problems.append("hyperfine-runs without hyperfine: exit %d %r" % (
                r.returncode, r.stderr))
        for tool, args, want in (
                ("merge-processes", [os.path.join(tmp, "m.json")], "usage"),
                ("merge-processes", [os.path.join(tmp, "m.json"), os.path.join(tmp, "no.json")],
                 "cannot read"),
                ("plots", [os.path.join(tmp, "nothere")], "no such folder"),
                ("plots", [bin_dir], "no result file"),
                ("hyperfine-runs", [], "usage")):
            r = run(tool, *args)
            if r.returncode != 2 or want not in r.stderr or len(r.stderr.splitlines()) != 1:
                problems.append("%s %s: exit %d %r (want 2, %r)" % (
                    tool, args, r.returncode, r.stderr, want))
    for p in problems:
        print("FAIL:", p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
