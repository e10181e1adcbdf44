#!/usr/bin/env python3
"""check_bad_files.py SCRIPTS_DIR - every reader of result files (compare,
plots, regress-verdict and regress-sensitivity as baseline and as run,
validate-results, merge-processes, the tables, variation, hook-overhead,
ci-verdict's verdict.json) and history-plots refuse a bad file: NaN,
Infinity, negative or zero times, wrong shapes, a file cut short, an empty
file, a hyperfine export, a pyperf file. Each
refusal is exit 2, one stderr line naming the file and what is wrong, no
traceback, and no file written or left. The good files they were made from
are accepted (exit 0), the NaN Google Benchmark itself writes for the cv of
a counter always 0 included; merge-processes writes strict JSON."""
import copy
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed

CONTEXT = {"python_version": "3.11.7 (main)", "python_tag": "cpython-3.11.7",
           "python_executable": "/nonexistent/python3.11", "python_build": "release",
           "allocator": "default", "pymembench_commit": "abc1234", "host": "test",
           "memhook": "both", "suite": "quick"}
HOOK = {"allocs_per_iter": 0.0, "frees_per_iter": 0.0, "bytes_per_iter": 0.0}


def iteration(name, t, i, hook=True, **extra):
    row = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 3,
           "repetition_index": i, "threads": 1, "iterations": 1000, "real_time": t,
           "cpu_time": t, "time_unit": "ns", "rss_bytes": 1e7, "peak_bytes": 1e7}
    row.update(HOOK if hook else {})
    row.update(extra)
    return row


def case(name, times, hook=True, **extra):
    """A case's rows as Google Benchmark writes them with repetitions: its
    iterations, then mean, median, stddev and cv; the cv of a counter that
    is 0 every time is NaN (0 / 0), as Google Benchmark writes it."""
    rows = [iteration(name, t, i, hook, **extra) for i, t in enumerate(times)]
    mean = sum(times) / len(times)
    sd = math.sqrt(sum((t - mean) ** 2 for t in times) / (len(times) - 1))
    for what, t in (("mean", mean), ("median", sorted(times)[1]), ("stddev", sd),
                    ("cv", sd / mean)):
        agg = dict(rows[0], name=name + "_" + what, run_type="aggregate", aggregate_name=what,
                   iterations=3, real_time=t, cpu_time=t)
        del agg["repetition_index"]
        if what == "cv":
            agg.update((k, math.nan) for k in HOOK if k in agg)
        rows.append(agg)
    return rows


def good_time(tag="cpython-3.11.7", version="3.11.7", scale=1.0):
    rows = case("f/a/memhook:on", [2.0 * scale, 2.1 * scale, 2.2 * scale])
    rows += case("f/a/memhook:off", [1.0 * scale, 1.1 * scale, 1.2 * scale], hook=False)
    rows += case("buffers/memcpy/16", [5.0, 5.1, 5.2], label="copy", bytes_per_second=3.2e9)
    rows += case("bindings/create/raw", [50.0, 51.0, 52.0])
    rows.append({"name": "f/skipped", "run_name": "f/skipped", "run_type": "iteration",
                 "error_occurred": True, "error_message": "skipped: not here",
                 "iterations": 0, "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ns"})
    ctx = dict(CONTEXT, python_tag=tag, python_version=version + " (main)")
    return {"context": ctx, "benchmarks": rows}


def good_instructions():
    rows = [{"name": n, "run_name": n, "run_type": "iteration", "iterations": 1000,
             "real_time": 40.0, "cpu_time": 40.0, "time_unit": "ns",
             "instructions": 4000.0 * (k + 1), "instructions_per_iter": 4.0 * (k + 1)}
            for k, n in enumerate(("f/a", "f/b"))]
    return {"context": dict(CONTEXT, memhook="off"), "benchmarks": rows}


def good_record():
    return {"pymembench_history": 1, "commit": "a" * 40, "commit_short": "aaaaaaa",
            "date": "2026-11-21T08:00:00Z", "subject": "s", "python_tag": "cpython-3.11.7",
            "baseline_commit": "b000001",
            "cases": {"f/a": {"instructions_per_iter": 4.0, "time_ns": 2.0,
                              "baseline_instructions_per_iter": 4.0, "baseline_time_ns": 2.0}}}


def first_timed(doc):
    return next(r for r in doc["benchmarks"] if not r.get("error_occurred"))


def edited(**fields):
    """A bad file: the first row that ran with fields set."""
    def make(doc):
        first_timed(doc).update(fields)
        return json.dumps(doc)
    return make


def shaped(fn):
    def make(doc):
        fn(doc)
        return json.dumps(doc)
    return make


def nan_in_mean(doc):
    """NaN outside the one place Google Benchmark puts it (a cv row)."""
    row = next((r for r in doc["benchmarks"] if r.get("aggregate_name") == "mean"),
               doc["benchmarks"][0])
    row["allocs_per_iter"] = math.nan


HYPERFINE = json.dumps({"results": [{"command": "python -c pass", "mean": 0.01,
                                     "times": [0.01, 0.011]}]})
PYPERF = json.dumps({"version": "1.0", "metadata": {"name": "x"},
                     "benchmarks": [{"runs": [{"values": [0.1, 0.2]}]}]})
# (what, make the text from a good document, a phrase the refusal must hold)
BAD = [("NaN time", edited(real_time=math.nan), "real_time is NaN"),
       ("Infinity", edited(cpu_time=math.inf), "cpu_time is Infinity"),
       ("NaN counter", shaped(nan_in_mean), "allocs_per_iter is NaN"),
       ("negative time", edited(real_time=-1.5), "real_time is -1.5"),
       ("zero time", edited(real_time=0.0), "real_time is 0"),
       ("iterations 0", edited(iterations=0), "iterations is 0"),
       ("unknown time_unit", edited(time_unit="fortnight"), '"fortnight" is not one of'),
       ("benchmarks a string", shaped(lambda d: d.update(benchmarks="rows")),
        '"benchmarks" is a string'),
       ("a row a list", shaped(lambda d: d["benchmarks"].__setitem__(1, [1, 2])),
        "benchmarks[1] is a list"),
       ("cut short", lambda d: json.dumps(d)[:200], "cut short"),
       ("empty", lambda d: "", "is empty"),
       ("hyperfine export", lambda d: HYPERFINE, "not a Google Benchmark/pymembench result"),
       ("pyperf file", lambda d: PYPERF, "not a Google Benchmark/pymembench result")]
BAD_INSTRUCTIONS = [("instructions NaN", edited(instructions_per_iter=math.nan),
                     "instructions_per_iter is NaN"),
                    ("instructions 0", edited(instructions_per_iter=0),
                     "instructions_per_iter is 0")]


def cell(doc):
    return doc["cases"]["f/a"]


BAD_RECORDS = [("NaN time", shaped(lambda d: cell(d).update(time_ns=math.nan)), "is NaN"),
               ("Infinity", shaped(lambda d: cell(d).update(time_ns=math.inf)), "is Infinity"),
               ("negative time", shaped(lambda d: cell(d).update(time_ns=-1.5)),
                '"time_ns" is -1.5'),
               ("zero time", shaped(lambda d: cell(d).update(baseline_time_ns=0)),
                '"baseline_time_ns" is 0'),
               ("cases a string", shaped(lambda d: d.update(cases="x")), '"cases" is'),
               ("a case a list", shaped(lambda d: d["cases"].update({"f/a": [1]})),
                "not an object"),
               ("cut short", lambda d: json.dumps(d)[:50], "cut short"),
               ("empty", lambda d: "", "is empty"),
               ("hyperfine export", lambda d: HYPERFINE, "not a pymembench history record"),
               ("pyperf file", lambda d: PYPERF, "not a pymembench history record")]


def write(path, doc_or_text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder)
                  for d, dirs, names in os.walk(folder) for n in dirs + names)


def run(scripts, tool, *args):
    return subprocess.run([sys.executable, os.path.join(scripts, tool)] + list(args),
                          capture_output=True, text=True, timeout=120)


def refused(what, p, bad, want, folder, before):
    """p must be a refusal of the file bad: exit 2, one stderr line naming
    it and holding want, no traceback, nothing printed or written."""
    lines = p.stderr.splitlines()
    expect(p.returncode == 2 and len(lines) == 1 and lines[0].strip() and bad in lines[0]
           and want in lines[0] and "Traceback" not in p.stderr and not p.stdout,
           "%s: want exit 2 and one stderr line naming %s with %r; got exit %d, stdout %r, "
           "stderr %r" % (what, bad, want, p.returncode, p.stdout[:300], p.stderr[-600:]))
    after = files_under(folder)
    expect(after == before, "%s: files written or left: %s"
           % (what, sorted(set(after) - set(before))))


def readers(scripts, tmp, good, good_base, bad_text, want, label):
    """Each reader of result files given the bad text where a good file was;
    bad_text None: the good files, which each must accept."""
    def place(folder, name, doc):
        path = os.path.join(folder, name)
        write(path, doc if bad_text is None else bad_text(copy.deepcopy(doc)))
        return path

    def check(what, folder, bad, args, tool):
        before = files_under(folder)
        p = run(scripts, tool, *args)
        if bad_text is None:
            expect(p.returncode == 0, "%s accepts a good file: exit %d, %s"
                   % (what, p.returncode, p.stderr[-600:]))
        else:
            refused("%s, %s" % (what, label), p, bad, want, folder, before)

    d = tempfile.mkdtemp(dir=tmp)
    write(os.path.join(d, "cpython-3.11.7-default.json"), good_base)
    bad = place(d, "cpython-3.12.1-default.json", good)
    check("compare", d, bad, [d], "compare")
    check("plots", d, bad, [d], "plots")
    check("validate-results", d, bad, [bad], "validate-results")
    check("merge-processes", d, bad,
          [os.path.join(d, "merged.json"), os.path.join(d, "cpython-3.11.7-default.json"), bad],
          "merge-processes")
    for tool in ("hook-overhead", "variation", "buffers-table", "bindings-table"):
        check(tool, d, bad, [bad], os.path.join("figures", tool))
    check("alloc-table", d, bad, [d, "cpython-3.12.1"], os.path.join("figures", "alloc-table"))
    # regress-verdict: the bad file as each of the four inputs
    for side in ("baseline", "run"):
        for name, doc in (("instructions.json", good_instructions()), ("time.json", good)):
            d = tempfile.mkdtemp(dir=tmp)
            for s in ("baseline", "run"):
                write(os.path.join(d, s, "instructions.json"), good_instructions())
                write(os.path.join(d, s, "time.json"), good)
            bad = place(os.path.join(d, side), name, doc)
            check("regress-verdict, %s %s" % (side, name), d, bad,
                  [os.path.join(d, "baseline"), os.path.join(d, "run"), "--gate", "both"],
                  "regress-verdict")
            check("regress-sensitivity, %s %s" % (side, name), d, bad,
                  [os.path.join(d, "baseline"), os.path.join(d, "run"), "--plants", "0,5"],
                  os.path.join("figures", "regress-sensitivity"))


def strict_load(path):
    def refuse(text):
        raise ValueError("not strict JSON: " + text)
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


def merge_is_strict(scripts, tmp):
    """Parts with a counter always 0 (and Google Benchmark's NaN for its cv)
    merge into strict JSON: the cv row leaves the counter out."""
    parts = []
    for p in range(2):
        parts.append(os.path.join(tmp, "part%d.json" % p))
        write(parts[-1], good_time(scale=1 + p / 10))
    try:
        strict_load(parts[0])
        expect(False, "the strict parser took a part with NaN: it cannot fail")
    except ValueError:
        pass
    out = os.path.join(tmp, "merged.json")
    p = run(scripts, "merge-processes", out, *parts)
    expect(p.returncode == 0, "merge-processes: exit %d %s" % (p.returncode, p.stderr))
    try:
        doc = strict_load(out)
    except (OSError, ValueError) as e:
        expect(False, "merge-processes wrote what a strict parser refuses: %s" % e)
        return
    rows = {r["name"]: r for r in doc["benchmarks"] if r["run_type"] == "aggregate"}
    cv, mean = rows.get("f/a/memhook:on_cv", {}), rows.get("f/a/memhook:on_mean", {})
    expect("allocs_per_iter" not in cv and cv.get("real_time", 0) > 0
           and mean.get("allocs_per_iter") == 0.0,
           "the merged cv row should leave out the zero counter, keep real_time, and the "
           "mean row keep the counter: cv %r, mean %r" % (cv, mean))


def history(scripts, tmp):
    def check(label, text, want):
        d = tempfile.mkdtemp(dir=tmp)
        write(os.path.join(d, "hist", "a.json"), good_record())
        bad = os.path.join(d, "hist", "b.json")
        write(bad, text)
        before = files_under(d)
        p = run(scripts, "history-plots", os.path.join(d, "hist"), os.path.join(d, "out"))
        if want is None:
            expect(p.returncode == 0, "history-plots accepts a good record: exit %d, %s"
                   % (p.returncode, p.stderr[-600:]))
        else:
            refused("history-plots, %s" % label, p, bad, want, d, before)

    check("good", json.dumps(dict(good_record(), commit="c" * 40)), None)
    for label, make, want in BAD_RECORDS:
        check(label, make(good_record()), want)


def verdicts(scripts, tmp):
    """ci-verdict reads a run's verdict.json: a good one turns status 2 into
    a regression (1); one cut short or with NaN is refused."""
    for label, text, want in (("good", json.dumps({"cases": [], "status": 1}), None),
                              ("cut short", '{"cases": [], "status": 1', "cut short"),
                              ("NaN", '{"cases": [], "status": NaN}', "status is NaN")):
        d = tempfile.mkdtemp(dir=tmp)
        bad = os.path.join(d, "verdict.json")
        write(bad, text)
        before = files_under(d)
        p = run(scripts, "ci-verdict", "2", d)
        if want is None:
            expect(p.returncode == 1 and "found a regression" in p.stdout,
                   "ci-verdict on a FAIL verdict with status 2: exit %d, %r %r"
                   % (p.returncode, p.stdout, p.stderr[-600:]))
        else:
            refused("ci-verdict, %s" % label, p, bad, want, d, before)


def main(scripts):
    if shutil.which("gnuplot") is None:
        print("FAIL: gnuplot not found: install gnuplot-nox (apt-get install gnuplot-nox)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        good = good_time("cpython-3.12.1", "3.12.1", 2.0)
        base = good_time()
        readers(scripts, tmp, good, base, None, None, "good")
        for label, make, want in BAD:
            readers(scripts, tmp, good, base, make, want, label)
        # instructions_per_iter: regress-verdict's figure, in instructions.json
        for label, make, want in BAD_INSTRUCTIONS:
            for side in ("baseline", "run"):
                d = tempfile.mkdtemp(dir=tmp)
                for s in ("baseline", "run"):
                    write(os.path.join(d, s, "instructions.json"), good_instructions())
                bad = os.path.join(d, side, "instructions.json")
                write(bad, make(good_instructions()))
                before = files_under(d)
                p = run(scripts, "regress-verdict", os.path.join(d, "baseline"),
                        os.path.join(d, "run"))
                refused("regress-verdict, %s %s" % (side, label), p, bad, want, d, before)
        merge_is_strict(scripts, tmp)
        history(scripts, tmp)
        verdicts(scripts, tmp)
    if not failed():
        print("ok: %d bad result files and %d bad history records refused by every reader "
              "(exit 2, one line, nothing written); the good ones accepted; merge-processes "
              "writes strict JSON" % (len(BAD) + len(BAD_INSTRUCTIONS), len(BAD_RECORDS)))
    return failed()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: check_bad_files.py SCRIPTS_DIR\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
