#!/usr/bin/env python3
"""check_describe.py SCRIPTS_DIR - scripts/describe and scripts/plots on a
run of one made-up result file: summary.md has the headline (cases and
geometric mean per family, the widest interval named) and one row per case
with its interval, counts and reference; summary.md.json is strict JSON
whose ratios are the made-up figures' (5 x c_increment, 2.5 x memcpy of the
same size, 3 and 16 x lifetime/raw, a reference missing from the run said
so); an error row is named once; a file of one process gets a note; a
RESULT.json beside others leaves compare's summary.md alone; bad input
exits 2 with one line and writes nothing; plots draws the time charts of
one file, and nothing (exit 0) when every case was skipped. No timing:
every figure is made up."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pmbtest import expect, failed  # noqa: E402


def rows(case, per_process, unit="ns", **counters):
    """Iteration rows of case, tagged process_index when there are several
    processes, and a median aggregate carrying the counters (and the memory
    figures real rows have: plots' memory chart reads them)."""
    counters = dict({"peak_bytes": 8388608.0, "rss_bytes": 8388608.0}, **counters)
    out = []
    flat = [t for times in per_process for t in times]
    for p, times in enumerate(per_process):
        for i, t in enumerate(times):
            row = {"name": case, "run_name": case, "run_type": "iteration",
                   "repetitions": len(flat), "repetition_index": len(out), "threads": 1,
                   "iterations": 1000, "real_time": t, "cpu_time": t, "time_unit": unit}
            if len(per_process) > 1:
                row["process_index"] = p
            row.update(counters)
            out.append(row)
    med = sorted(flat)[len(flat) // 2]
    out.append(dict({"name": case + "_median", "run_name": case, "run_type": "aggregate",
                     "aggregate_name": "median", "iterations": len(flat), "real_time": med,
                     "cpu_time": med, "time_unit": unit}, **counters))
    return out


def error_rows(case, message, processes):
    return [{"name": case, "run_name": case, "run_type": "iteration", "error_occurred": True,
             "error_message": message, "process_index": p} for p in range(processes)]


def write(folder, fname, benchmarks, **ctx):
    context = {"python_version": "3.11.2 (main)", "python_tag": "cpython-3.11.2-system",
               "allocator": "default", "host": "testhost", "pymembench_commit": "abc123",
               "suite": "quick", "processes": 2}
    context.update(ctx)
    path = os.path.join(folder, fname)
    with open(path, "w") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f)
    return path


def made_up_run():
    """Two processes x three repetitions. Constant cases have a known
    median whatever the resampling; two cases vary so that their interval
    has a width."""
    const = lambda t: [[t] * 3, [t] * 3]  # noqa: E731
    return (rows("refcount/c_increment", const(1.0), allocs_per_iter=0.0, bytes_per_iter=0.0) +
            rows("refcount/incdec_same/mortal", const(5.0), allocs_per_iter=0.0,
                 bytes_per_iter=0.0) +
            rows("refcount/incdec_spread/mortal/16", [[4.0, 5.0, 6.0], [8.0, 9.0, 10.0]]) +
            rows("refcount/tuple_build/8", const(40.0), allocs_per_iter=1.0,
                 bytes_per_iter=104.0) +
            error_rows("refcount/py_rebind", "skipped: made-up reason", 2) +
            rows("buffers/memcpy/1024", const(100.0)) +
            rows("buffers/copy/bytes/exporter/1024", const(250.0), allocs_per_iter=1.0,
                 bytes_per_iter=1057.0) +
            rows("buffers/view/memoryview/bytes/65536", const(30.0), allocs_per_iter=2.0,
                 bytes_per_iter=65570.0) +
            rows("lifetime/raw", const(0.5), unit="us") +
            rows("lifetime/nested/raise", const(3000.0)) +
            rows("lifetime/exit_stack/16", const(16.0), unit="us") +
            rows("gc/collect/self_list", [[100.0, 110.0, 120.0], [300.0, 310.0, 320.0]]))


def run(tool, *args):
    return subprocess.run([sys.executable, tool] + list(args), capture_output=True, text=True)


def strict(path):
    def refuse(x):
        raise ValueError("not strict JSON: " + x)
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


def check_summary(describe, tmp):
    run_dir = os.path.join(tmp, "run")
    os.mkdir(run_dir)
    write(run_dir, "cpython-3.11.2-system-default.json", made_up_run())
    p = run(describe, run_dir)
    md, js = os.path.join(run_dir, "summary.md"), os.path.join(run_dir, "summary.md.json")
    expect(p.returncode == 0 and os.path.exists(md) and os.path.exists(js),
           "describe DIR: exit %d, %s" % (p.returncode, p.stderr))
    if p.returncode != 0:
        return run_dir
    with open(md) as f:
        text = f.read()
    expect(p.stdout == text, "describe prints what it writes")
    data = strict(js)
    cases = data["cases"]
    expect(data["kind"] == "describe" and data["column"] == "cpython-3.11.2-system/default",
           "summary.md.json names its kind and column: %r" % {k: data.get(k) for k in
                                                              ("kind", "column")})
    expect(sorted(cases) == sorted(
        ["refcount/c_increment", "refcount/incdec_same/mortal",
         "refcount/incdec_spread/mortal/16", "refcount/tuple_build/8", "buffers/memcpy/1024",
         "buffers/copy/bytes/exporter/1024", "buffers/view/memoryview/bytes/65536",
         "lifetime/raw", "lifetime/nested/raise", "lifetime/exit_stack/16",
         "gc/collect/self_list"]), "one entry per timed case: %s" % sorted(cases))
    # constant samples: any resampling gives the same median and interval
    for case, ns in (("refcount/c_increment", 1.0), ("lifetime/raw", 500.0),
                     ("lifetime/exit_stack/16", 16000.0)):
        c = cases.get(case, {})
        expect(c.get("median_ns") == ns and c.get("lo_ns") == ns and c.get("hi_ns") == ns,
               "%s: median and interval %s ns (time_unit read): %r" % (case, ns, c))
    for case in ("refcount/incdec_spread/mortal/16", "gc/collect/self_list"):
        c = cases.get(case, {})
        expect(c.get("lo_ns", 0) < c.get("hi_ns", 0) and
               c["lo_ns"] <= c["median_ns"] <= c["hi_ns"] and c.get("processes") == 2 and
               c.get("samples") == 6, "%s: a real interval around the median: %r" % (case, c))
    ratios = {"refcount/incdec_same/mortal": ("refcount/c_increment", 1, 5.0),
              "refcount/incdec_spread/mortal/16": ("refcount/c_increment", 1, None),
              "buffers/copy/bytes/exporter/1024": ("buffers/memcpy/1024", 1, 2.5),
              "lifetime/nested/raise": ("lifetime/raw", 3, 2.0),
              "lifetime/exit_stack/16": ("lifetime/raw", 16, 2.0)}
    for case, (ref, units, want) in ratios.items():
        r = cases.get(case, {}).get("reference", {})
        got = r.get("ratio")
        if want is None:  # whatever the median: the ratio is it over the reference's
            want = cases.get(case, {}).get("median_ns", math.nan) / cases[ref]["median_ns"]
        expect(r.get("case") == ref and r.get("units") == units and got is not None and
               abs(got - want) < 1e-9, "%s against %d x %s = %s: %r" % (case, units, ref, want,
                                                                         r))
    r = cases.get("buffers/view/memoryview/bytes/65536", {}).get("reference", {})
    expect(r.get("case") == "buffers/memcpy/65536" and "ratio" not in r,
           "a reference missing from the run: no ratio: %r" % r)
    for case in ("refcount/c_increment", "buffers/memcpy/1024", "lifetime/raw",
                 "refcount/tuple_build/8", "gc/collect/self_list"):
        expect("reference" not in cases.get(case, {}),
               "%s is set against nothing: %r" % (case, cases.get(case)))
    expect(cases.get("refcount/tuple_build/8", {}).get("allocs_per_iter") == 1.0 and
           cases["refcount/tuple_build/8"].get("bytes_per_iter") == 104.0 and
           "allocs_per_iter" not in cases.get("lifetime/raw", {}),
           "counters where the row has them, absent where not")
    fams = data.get("families", {})
    ref_fam = fams.get("refcount", {})
    medians = [cases[c]["median_ns"] for c in cases if c.startswith("refcount/")]
    geo = math.exp(sum(math.log(m) for m in medians) / len(medians))
    expect(ref_fam.get("cases") == 4 and abs(ref_fam.get("geomean_ns", 0) - geo) < 1e-9,
           "refcount: 4 timed cases, geometric mean %g: %r" % (geo, ref_fam))
    expect([w["case"] for w in ref_fam.get("widest", [])][:1] ==
           ["refcount/incdec_spread/mortal/16"], "the widest interval of refcount named first")
    expect(data.get("errors") == {"refcount/py_rebind": "skipped: made-up reason"},
           "error rows in the JSON once: %r" % data.get("errors"))
    # the Markdown
    lines = text.splitlines()
    expect(lines[0] == "# pymembench: one run, `cpython-3.11.2-system/default`",
           "title: %r" % lines[:1])
    expect("| family | cases | geometric mean time | widest intervals |" in lines,
           "the headline table")
    for fam in ("buffers", "gc", "lifetime", "refcount"):
        expect("## " + fam in lines, "a section for %s" % fam)
    head = [l for l in lines if l.startswith("| refcount | 4 | ")]
    expect(len(head) == 1 and "`refcount/incdec_spread/mortal/16` ±" in head[0],
           "refcount headline row: %r" % head)
    for want in ("| `refcount/incdec_same/mortal` | 5 ns | [5, 5] ns ±0.0% | 0 | 0 | "
                 "`refcount/c_increment` (1 ns) | 5 |",
                 "| `buffers/copy/bytes/exporter/1024` | 250 ns | [250, 250] ns ±0.0% | 1 | "
                 "1057 | `buffers/memcpy/1024` (100 ns) | 2.5 |",
                 "| `lifetime/exit_stack/16` | 16 us | [16, 16] us ±0.0% | - | - | "
                 "16 x `lifetime/raw` (500 ns) | 2 |",
                 "| `lifetime/nested/raise` | 3 us | [3, 3] us ±0.0% | - | - | "
                 "3 x `lifetime/raw` (500 ns) | 2 |",
                 "| `refcount/c_increment` | 1 ns | [1, 1] ns ±0.0% | 0 | 0 | "
                 "physical reference of 2 case(s) | - |",
                 "| `refcount/tuple_build/8` | 40 ns | [40, 40] ns ±0.0% | 1 | 104 | - | - |",
                 "| `buffers/view/memoryview/bytes/65536` | 30 ns | [30, 30] ns ±0.0% | 2 | "
                 "65570 | `buffers/memcpy/65536` (not in this run) | - |"):
        expect(any(want in l for l in lines), "no %r in summary.md" % want)
    expect(text.count("refcount/py_rebind") == 1 and
           "- skipped or failed (error rows), 1 case(s): `refcount/py_rebind`: skipped: "
           "made-up reason" in lines, "the error row named once, with its reason")
    expect("one process" not in text, "two processes: no one-process note")
    return run_dir


def check_one_process_and_beside(describe, tmp):
    """A file of one process (no process_index) has a note; RESULT.json in
    a folder of several files writes <name>.summary.md, not summary.md."""
    d = os.path.join(tmp, "two")
    os.mkdir(d)
    one = write(d, "a.json", rows("refcount/c_increment", [[1.0, 1.0, 1.0]]) +
                rows("refcount/new_ref", [[2.0, 2.0, 2.0]]), processes=1)
    write(d, "b.json", rows("refcount/c_increment", [[1.0, 1.0, 1.0]]))
    p = run(describe, one)
    out = os.path.join(d, "a.summary.md")
    expect(p.returncode == 0 and os.path.exists(out) and os.path.exists(out + ".json") and
           not os.path.exists(os.path.join(d, "summary.md")),
           "describe a.json beside b.json: a.summary.md(.json), no summary.md: %d %s %s"
           % (p.returncode, p.stderr, sorted(os.listdir(d))))
    expect("some cases come from one process" in p.stdout, "one process: a note")
    expect("| `refcount/new_ref` | 2 ns | [2, 2] ns ±0.0% | - | - | `refcount/c_increment` "
           "(1 ns) | 2 |" in p.stdout, "new_ref against c_increment in one process: %s"
           % p.stdout)
    p = run(describe, d)
    expect(p.returncode == 2 and "2 result files" in p.stderr and
           len(p.stderr.strip().splitlines()) == 1 and
           not os.path.exists(os.path.join(d, "summary.md")),
           "a folder of two files: exit 2, one line, nothing written: %d %r"
           % (p.returncode, p.stderr))
    p = run(describe, one, "--out", os.path.join(tmp, "elsewhere.md"))
    expect(p.returncode == 0 and os.path.exists(os.path.join(tmp, "elsewhere.md.json")),
           "--out FILE writes FILE and FILE.json: %d %s" % (p.returncode, p.stderr))


def check_bad_input(describe, tmp):
    bad = os.path.join(tmp, "bad")
    good = made_up_run()
    cases = [("empty file", ""),
             ("cut short", json.dumps({"context": {}, "benchmarks": good})[:200]),
             ("NaN", json.dumps({"context": {}, "benchmarks": good}).replace(
                 '"real_time": 5.0', '"real_time": NaN', 1)),
             ("another tool's", json.dumps({"results": [{"command": "x", "times": [1.0]}]})),
             ("no rows", json.dumps({"context": {}, "benchmarks": []})),
             ("time 0", json.dumps({"context": {}, "benchmarks": rows("a/b", [[0.0]])}))]
    for what, body in cases:
        if os.path.exists(bad):
            shutil.rmtree(bad)
        os.mkdir(bad)
        with open(os.path.join(bad, "r.json"), "w") as f:
            f.write(body)
        for arg in (bad, os.path.join(bad, "r.json")):
            p = run(describe, arg)
            expect(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and
                   p.stderr.startswith("describe: ") and p.stdout == "" and
                   sorted(os.listdir(bad)) == ["r.json"],
                   "%s (%s): exit 2, one line, nothing written: %d %r %s"
                   % (what, os.path.basename(arg), p.returncode, p.stderr,
                      sorted(os.listdir(bad))))
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    for args in ([empty], [os.path.join(tmp, "nonexistent")], [], ["--bogus", empty]):
        p = run(describe, *args)
        expect(p.returncode == 2 and p.stderr.strip() and os.listdir(empty) == [],
               "describe %s: exit 2 with a line, nothing written: %d %r"
               % (args, p.returncode, p.stderr))


def check_plots(plots, run_dir):
    """plots on a folder of one file, summary.md.json removed first: it has
    describe remake it, then draws a time chart per family."""
    os.remove(os.path.join(run_dir, "summary.md.json"))
    p = run(plots, run_dir)
    expect(p.returncode == 0, "plots on one file: exit %d %s" % (p.returncode, p.stderr))
    for fam in ("buffers", "gc", "lifetime", "refcount"):
        for ext in ("png", "svg", "dat", "gp"):
            path = os.path.join(run_dir, "plots", "times-%s.%s" % (fam, ext))
            expect(os.path.exists(path) and os.path.getsize(path) > 0,
                   "plots drew %s (%s)" % (os.path.basename(path), p.stderr.strip()))
    expect(os.path.exists(os.path.join(run_dir, "summary.md.json")),
           "plots had describe remake summary.md.json")
    gp = os.path.join(run_dir, "plots", "times-lifetime.gp")
    if os.path.exists(gp):
        with open(gp) as f:
            text = f.read()
        # 500 ns .. 16 us: more than a decade, so log scale; the reference in black
        expect("set logscale y 10" in text and "physical reference" in text,
               "lifetime's chart: log scale and its reference: %s" % text)
    gp = os.path.join(run_dir, "plots", "times-refcount.gp")
    if os.path.exists(gp):
        with open(gp) as f:
            text = f.read()
        # the shortest bar (c_increment, 1 ns) starts below its top
        expect("set yrange [0.1:*]" in text, "refcount's chart starts below 1 ns: %s" % text)
    gp = os.path.join(run_dir, "plots", "times-gc.gp")
    if os.path.exists(gp):
        with open(gp) as f:
            text = f.read()
        expect("logscale" not in text and "physical reference" not in text,
               "gc's chart: linear, no reference: %s" % text)


def check_all_skipped(describe, plots, tmp):
    """A run whose every case was skipped: describe names them and exits
    0; plots has nothing to draw and says so, exit 0 (no empty chart for
    gnuplot to fail on)."""
    d = os.path.join(tmp, "skipped")
    os.mkdir(d)
    write(d, "r.json", error_rows("a/b", "skipped: not here", 1) +
          error_rows("a/c", "skipped: not here", 1))
    p = run(describe, d)
    expect(p.returncode == 0 and "- skipped or failed (error rows), 2 case(s): `a/b`, `a/c`: "
           "skipped: not here" in p.stdout, "every case skipped: named once: %d %s %s"
           % (p.returncode, p.stdout, p.stderr))
    p = run(plots, d)
    expect(p.returncode == 0 and "0 charts" in p.stderr,
           "plots with every case skipped: exit 0, no chart: %d %s" % (p.returncode, p.stderr))


def main(scripts):
    describe, plots = os.path.join(scripts, "describe"), os.path.join(scripts, "plots")
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = check_summary(describe, tmp)
        check_one_process_and_beside(describe, tmp)
        check_bad_input(describe, tmp)
        if shutil.which("gnuplot") is None:
            expect(False, "gnuplot is not installed (apt-get install gnuplot-nox)")
        else:
            check_plots(plots, run_dir)
            check_all_skipped(describe, plots, tmp)
    print("describe: %s" % ("FAILED" if failed() else "ok"))
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
