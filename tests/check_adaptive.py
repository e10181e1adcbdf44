#!/usr/bin/env python3
"""check_adaptive.py REPO - make bench's adaptive sampling and console, on
made-up files and lines (no timing, no binary):

1. scripts/next-round plans a round from merged result files: a case whose
   interval meets the target gets nothing; one whose processes disagree
   gets an ordinary process, one whose repetitions scatter gets one with
   twice the repetitions; skipped cases, cases at the process cap and cases
   past their own budget get none; --budget-left keeps the cheapest cases
   that fit and leaves the rest "run budget"; each process's filter names
   exactly its cases (anchored, special characters escaped); --summary says
   all of it, each skipped case once with its configurations (one line
   per reason, family/case/{a,b} for siblings); --json is
   strict JSON; the cache gives the same answers; bad input is one line,
   exit 2. A round gives a case the processes its width says it lacks, at
   most doubling them, within the cap and the budgets, one line a process.
2. scripts/merge-processes merges processes that hold different subsets of
   the cases (an extra process of some cases): rows tagged and numbered per
   case, aggregates over every repetition, strict JSON; --add, a process at
   a time, gives the same file. scripts/pins lists each case's loops
   (the first repetition's iterations) for --iterations-from.
3. scripts/progress keeps every stderr line in its log, draws the line in
   place on a terminal and clears it, prints plain lines at most every
   --every seconds otherwise, gives the time to go, and outlives Ctrl-C.
4. scripts/bench (and make bench) refuse bad TARGET, BUDGET, MAX_PROCESSES,
   CASE_BUDGET and VERBOSE values in one line, exit 2, before anything is
   built or written; a value holding $(...) or backquotes never runs.
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from pmbtest import expect, failed, make_env  # noqa: E402

CTX = {"python_version": "3.12.0 (main)", "python_tag": "cpython-3.12.0",
       "python_executable": "/nonexistent/python3.12", "allocator": "default",
       "host": "test", "suite": "quick", "pymembench_commit": "abc"}


def rows(case, per_process, start=0):
    """Iteration rows of case: per_process is a list of lists of ns."""
    out = []
    for p, times in enumerate(per_process):
        for t in times:
            out.append({"name": case, "run_name": case, "run_type": "iteration",
                        "repetitions": len(times), "threads": 1, "iterations": 1000,
                        "real_time": t, "cpu_time": t, "time_unit": "ns",
                        "process_index": start + p})
    return out


def error_rows(case, message, processes=2):
    return [{"name": case, "run_name": case, "run_type": "iteration", "error_occurred": True,
             "error_message": message, "process_index": p} for p in range(processes)]


def dump(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


def strict(path):
    def refuse(text):
        raise ValueError("%s in %s" % (text, path))
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


OURS = ("TARGET", "BUDGET", "MAX_PROCESSES", "CASE_BUDGET", "VERBOSE")
TIGHT = [[100.0, 100.1, 99.9], [100.05, 99.95, 100.0], [100.0, 100.02, 99.98]]
APART = [[100.0, 100.1, 99.9], [120.0, 120.1, 119.9]]  # the processes disagree
SCATTER = [[60.0, 100.0, 160.0, 100.0], [61.0, 101.0, 159.0, 100.5]]  # the repetitions do
ODD = "odd/a+b.c(1)[x]{2}|y^$*?\\"


def next_round(scripts, *args):
    return subprocess.run([sys.executable, os.path.join(scripts, "next-round")] + list(args),
                          capture_output=True, text=True)


def plan_lines(text):
    """{(config, repetitions): (count, filter)}: rounds of one process a
    case (a second line of a key fails the check)."""
    out = {}
    for line in text.splitlines():
        cell, reps, count, flt = line.split(" ", 3)
        expect((cell, int(reps)) not in out, "next-round: a second process in %r:\n%s"
               % (line, text))
        out[(cell, int(reps))] = (int(count), flt)
    return out


def check_batches(scripts, tmp):
    """How many processes a round gives a case: what its width says it
    lacks (k x ((half / target)^2 - 1)), at least 1, at most k (a round at
    most doubles), within the process cap, the case budget and the run's
    budget."""
    f = os.path.join(tmp, "batches", "cpython-3.12.0-default.json")
    os.makedirs(os.path.dirname(f))
    # 4 processes whose medians' t interval is +-0.51%, a bit wider than +-0.5%
    # (the median's bootstrap interval, +-0.32%, is within it)
    near = [[c - 0.1, c, c + 0.1] for c in (100.0, 100.25, 100.5, 100.75)]
    dump(f, {"context": CTX, "benchmarks": rows("x/apart", APART * 2) + rows("x/near", near)})

    def plan(*args):
        r = next_round(scripts, "--target", "0.5", "--repetitions", "3", *args, f)
        expect(r.returncode == 0 and not r.stderr, "next-round %s: exit %d %s"
               % (args, r.returncode, r.stderr))
        got = {}
        for line in r.stdout.splitlines():
            flt = line.split(" ", 3)[3]
            for case in ("x/apart", "x/near"):
                if re.search(flt, case):
                    got[case] = got.get(case, 0) + 1
        return got, r.stdout

    got, text = plan("--max-processes", "64", "--case-budget", "1000")
    # x/apart: 4 processes at about +-9%: it lacks hundreds, a round doubles
    # it; x/near: 4 processes a little wider than +-0.5%: one more
    expect(got == {"x/apart": 4, "x/near": 1}, "next-round batches: %s\n%s" % (got, text))
    got, text = plan("--max-processes", "6", "--case-budget", "1000")
    expect(got.get("x/apart") == 2, "next-round batches at the process cap 6: %s\n%s" % (got, text))
    # without costs a process costs 1.5 x its measured time, 1.5 x 3 x 1000
    # iterations x 110 ns = 0.5 ms; a case budget of 3 ms leaves room for 2
    # more past the 4 processes' 2 ms
    got, text = plan("--max-processes", "64", "--case-budget", "0.003")
    expect(got.get("x/apart") == 2, "next-round batches in the case budget: %s\n%s" % (got, text))
    # one line per process: x/near's process is x/apart's first, and the
    # turns come in order (both cases, then x/apart alone)
    got, text = plan("--max-processes", "64", "--case-budget", "1000")
    lines = text.splitlines()
    expect(len(lines) == 4 and lines[0].endswith("^(x/apart|x/near)$")
           and all(x.endswith("^(x/apart)$") for x in lines[1:]),
           "next-round batches, one line per process:\n%s" % text)
    # the run's budget: 0.3 s to start each process; 0.7 s fits 2 processes
    got, text = plan("--max-processes", "64", "--case-budget", "1000", "--budget-left", "0.7")
    expect(got == {"x/apart": 2, "x/near": 1} and len(text.splitlines()) == 2,
           "next-round batches in 0.7 s: %s\n%s" % (got, text))
    # a cap of 2 (PROCESSES=2 alone: exactly 2 processes) does not ask for the 3
    # processes an interval needs before it may stop a case
    two = os.path.join(tmp, "batches", "two", "cpython-3.12.0-default.json")
    os.makedirs(os.path.dirname(two))
    dump(two, {"context": CTX, "benchmarks": rows("x/tight", TIGHT[:2])})
    r = next_round(scripts, "--target", "1", "--max-processes", "2", "--summary", two)
    expect(r.returncode == 0 and "1 case(s) measured, 1 within +-1%" in r.stdout
           and "process cap" not in r.stdout,
           "next-round at a cap of 2: %r %r" % (r.stdout, r.stderr))
    r = next_round(scripts, "--target", "1", "--max-processes", "3", two)
    expect(r.returncode == 0 and r.stdout.endswith("^(x/tight)$\n"),
           "next-round at a cap of 3, 2 tight processes: %r %r" % (r.stdout, r.stderr))
    # one process (PROCESSES=1, or a configuration whose second process died):
    # no interval of process medians yet; a round plans one more, the
    # summary's JSON stays strict
    one = os.path.join(tmp, "batches", "one", "cpython-3.12.0-default.json")
    os.makedirs(os.path.dirname(one))
    dump(one, {"context": CTX, "benchmarks": rows("x/one", TIGHT[:1])})
    r = next_round(scripts, "--target", "1", "--max-processes", "4", one)
    expect(r.returncode == 0 and r.stdout.endswith("^(x/one)$\n") and not r.stderr,
           "next-round on one process: %r %r" % (r.stdout, r.stderr[-600:]))
    js = os.path.join(tmp, "batches", "one", "sampling.json")
    r = next_round(scripts, "--target", "1", "--max-processes", "4", "--summary", "--json", js,
                   "--cache", js + ".cache", one)
    try:
        ok = r.returncode == 0 and not r.stderr and strict(js) is not None
    except (OSError, ValueError):
        ok = False
    expect(ok, "next-round --summary on one process: %r %r" % (r.stdout, r.stderr[-600:]))
    print("next-round batches: a round doubles a wide case's processes (4 -> 8), gives one to a "
          "case just wider than the target, and stays within the cap, the case budget and the "
          "run's budget")


def check_next_round(scripts, tmp):
    a = os.path.join(tmp, "cpython-3.12.0-default.json")
    b = os.path.join(tmp, "cpython-3.13.0-default.json")
    dump(a, {"context": CTX, "benchmarks":
             rows("x/tight", TIGHT) + rows("x/apart", APART) + rows("x/scatter", SCATTER)
             + rows(ODD, APART) + rows("x/capped", APART + [APART[0]])
             + rows("x/costly", APART) + error_rows("x/pep688", "skipped: needs 3.12+")
             + error_rows("x/crashy", "crashed an earlier process (SIGSEGV); not run again")
             + error_rows("y/pep/16", "skipped: needs 3.12+")
             + error_rows("y/pep/64", "skipped: needs 3.12+")
             + error_rows("z/lib", "skipped: library A missing")})
    dump(b, {"context": dict(CTX, python_tag="cpython-3.13.0"), "benchmarks":
             rows("x/tight", APART) + error_rows("x/pep688", "skipped: needs 3.12+")
             + error_rows("y/pep/16", "skipped: needs 3.12+")
             + error_rows("y/pep/64", "skipped: needs 3.12+")
             + error_rows("z/lib", "skipped: library B missing")})
    costs = os.path.join(tmp, "costs")
    os.mkdir(costs)
    with open(os.path.join(costs, "cpython-3.12.0-default.costs"), "w") as f:
        for p in range(2):
            for k, case in enumerate(("x/tight", "x/apart", "x/scatter", ODD, "x/costly")):
                seconds = 6.0 if case == "x/costly" else 0.1 * (k + 1)
                f.write("pymembench: progress %d/9 %.3f %s\n" % (k + 1, seconds, case))
    common = ["--target", "1", "--repetitions", "3", "--max-processes", "3",
              "--case-budget", "10", "--costs", costs]
    r = next_round(scripts, *common, a, b)
    expect(r.returncode == 0 and not r.stderr, "next-round: exit %d %s" % (r.returncode, r.stderr))
    got = plan_lines(r.stdout)
    want_a3 = ["x/apart", ODD]
    expect(set(got) == {("cpython-3.12.0-default", 3), ("cpython-3.12.0-default", 6),
                        ("cpython-3.13.0-default", 3)},
           "next-round: planned processes %s\n%s" % (sorted(got), r.stdout))
    if ("cpython-3.12.0-default", 3) in got:
        count, flt = got[("cpython-3.12.0-default", 3)]
        rx = re.compile(flt)
        expect(count == 2 and sorted(n for n in ["x/tight", "x/apart", "x/scatter", ODD,
                                                 "x/capped", "x/costly", "x/pep688", ODD + "x",
                                                 "y" + ODD, "x/apartx"]
                                     if rx.search(n)) == sorted(want_a3),
               "next-round: the 3-repetition process's filter %r selects the wrong cases" % flt)
        print("filter: %s" % flt)
    if ("cpython-3.12.0-default", 6) in got:
        count, flt = got[("cpython-3.12.0-default", 6)]
        expect((count, flt) == (1, "^(x/scatter)$"),
               "next-round: scattered repetitions: %r, want 6 repetitions of x/scatter" % ((count, flt),))
    if ("cpython-3.13.0-default", 3) in got:
        expect(got[("cpython-3.13.0-default", 3)] == (1, "^(x/tight)$"),
               "next-round: second file: %r" % (got[("cpython-3.13.0-default", 3)],))
    print("next-round: plans %s" % ", ".join("%s x%d: %d case(s)" % (c, n, got[(c, n)][0])
                                              for c, n in sorted(got)))

    # a case one configuration wants runs in every configuration's turn
    # (what ran before a case in its process can move its time): x/tight,
    # within the target in 3.12 (3 processes) and wide in 3.13 (2), rides
    # along in 3.12 once the cap leaves it room, at 3.13's repetitions
    r = next_round(scripts, *(common[:5] + ["4"] + common[6:]), a, b)
    rides = {}
    for line in r.stdout.splitlines():
        cell, reps, _, flt = line.split(" ", 3)
        if re.search(flt, "x/tight"):
            rides.setdefault(cell, set()).add(int(reps))
    expect(r.returncode == 0 and rides == {"cpython-3.12.0-default": {3},
                                           "cpython-3.13.0-default": {3}},
           "next-round: x/tight, wanted in 3.13 only, must run in both at the cap of 4:\n%s%s"
           % (r.stdout, r.stderr))
    # at the repetitions the others need: x/tight scattered within 3.13's
    # processes wants 6 repetitions, and 3.12's rides at 6 too
    a2 = os.path.join(tmp, "rides", "cpython-3.12.0-default.json")
    b2 = os.path.join(tmp, "rides", "cpython-3.13.0-default.json")
    os.makedirs(os.path.dirname(a2))
    dump(a2, {"context": CTX, "benchmarks": rows("x/tight", TIGHT)})
    dump(b2, {"context": dict(CTX, python_tag="cpython-3.13.0"),
              "benchmarks": rows("x/tight", SCATTER)})
    r = next_round(scripts, "--target", "1", "--repetitions", "3", "--max-processes", "4",
                   "--case-budget", "10", a2, b2)
    reps = {line.split(" ")[0]: int(line.split(" ")[1]) for line in r.stdout.splitlines()}
    expect(r.returncode == 0 and reps == {"cpython-3.12.0-default": 6,
                                          "cpython-3.13.0-default": 6},
           "next-round: the rider must run at the 6 repetitions the other needs:\n%s%s"
           % (r.stdout, r.stderr))
    print("next-round: a case wanted in one configuration runs in every configuration's turn,"
          " at the repetitions it needs")

    # the run's budget: the cheapest first (x/apart 0.2 s, x/tight 0.1+...),
    # each process started counted once
    # x/apart 0.2 s + 0.3 s to start its process; x/scatter 0.3 + 0.3; ODD 0.4
    r = next_round(scripts, *common, "--budget-left", "0.8", a)
    got = plan_lines(r.stdout)
    names = sorted(n for (_, flt) in got.values() for n in ["x/apart", "x/scatter", ODD]
                   if re.search(flt, n))
    expect(r.returncode == 0 and names == ["x/apart"],
           "next-round --budget-left 0.8: planned %s, want only x/apart\n%s%s"
           % (names, r.stdout, r.stderr))
    r = next_round(scripts, *common, "--budget-left", "0", a)
    expect(r.returncode == 0 and r.stdout == "", "next-round --budget-left 0 planned %r" % r.stdout)

    # the summary and its JSON
    js = os.path.join(tmp, "sampling.json")
    cache = os.path.join(tmp, "cache.json")
    r = next_round(scripts, *common, "--budget-left", "1.0", "--summary", "--json", js,
                   "--cache", cache, a, b)
    text = r.stdout
    expect(r.returncode == 0, "next-round --summary: exit %d %s" % (r.returncode, r.stderr))
    for want in ("cpython-3.12.0-default: 6 case(s) measured, 1 within +-1%",
                 "5 still wider than +-1%", "x/capped", "at the process cap",
                 "x/costly", "out of the case budget", "out of the run's time (BUDGET)",
                 "skipped x/pep688, y/pep/{16,64} (every configuration): skipped: needs 3.12+",
                 "failed x/crashy (cpython-3.12.0-default): crashed an earlier process"):
        expect(want in text, "next-round --summary: no %r in:\n%s" % (want, text))
    expect(text.count("x/pep688") == 1, "a skipped case said more than once:\n" + text)
    # skipped for another reason in each configuration: each reason said,
    # with its own configuration
    for want in ("skipped z/lib (cpython-3.12.0-default): skipped: library A missing",
                 "skipped z/lib (cpython-3.13.0-default): skipped: library B missing"):
        expect(want in text, "next-round --summary: no %r in:\n%s" % (want, text))
    try:
        doc = strict(js)
        status = {(c["config"], c["case"]): c["status"] for c in doc["cases"]}
        expect(status.get(("cpython-3.12.0-default", "x/tight")) == "ok"
               and status.get(("cpython-3.12.0-default", "x/capped")) == "process cap"
               and status.get(("cpython-3.12.0-default", "x/costly")) == "case budget"
               and status.get(("cpython-3.12.0-default", "x/pep688")) == "skipped"
               and status.get(("cpython-3.12.0-default", "x/crashy")) == "failed"
               and status.get(("cpython-3.12.0-default", "x/scatter")) == "run budget",
               "sampling.json statuses: %s" % status)
        widths = [c["half_width"] for c in doc["cases"] if "half_width" in c]
        expect(all(isinstance(w, float) and math.isfinite(w) for w in widths) and widths,
               "sampling.json half-widths: %s" % widths)
    except (OSError, ValueError, KeyError) as e:
        expect(False, "sampling.json: %s" % e)
    print("next-round --summary:\n  " + "\n  ".join(text.splitlines()))
    # the cache answers as the computation did
    r2 = next_round(scripts, *common, "--budget-left", "1.0", "--summary", "--cache", cache, a, b)
    expect(r2.stdout == text, "next-round with its cache said something else:\n%s" % r2.stdout)

    # bad input: one line, exit 2
    bad_costs = os.path.join(tmp, "bad-costs")
    os.mkdir(bad_costs)
    with open(os.path.join(bad_costs, "cpython-3.12.0-default.costs"), "w") as f:
        f.write("not a progress line\n")
    bad_cache = os.path.join(tmp, "bad-cache.json")
    with open(bad_cache, "w") as f:
        f.write("{NaN")
    nan = os.path.join(tmp, "nan.json")
    with open(nan, "w") as f:
        f.write('{"context": {}, "benchmarks": [{"name": "a", "real_time": NaN}]}')
    for args, want in ((["--target", "0", a], "--target"), (["--target", "x", a], "--target"),
                       (["--max-processes", "1.5", a], "--max-processes"),
                       ([os.path.join(tmp, "none.json")], "cannot read"),
                       ([nan], "NaN"), (["--costs", bad_costs, a], "not a progress line"),
                       (["--cache", bad_cache, a], "bad-cache.json"),
                       (["--json", js, a], "--json goes with --summary"), ([], "")):
        r = next_round(scripts, *args)
        lines = r.stderr.splitlines()
        expect(r.returncode == 2 and len(lines) == 1 and want in r.stderr
               and "Traceback" not in r.stderr,
               "next-round %s: exit %d %r (want 2, %r)" % (args, r.returncode, r.stderr, want))
    print("next-round: bad input refused in one line, exit 2")


def check_merge(scripts, tmp):
    parts = []
    for p, per_case in enumerate(({"a": [10.0, 10.1, 10.2], "b": [20.0, 20.1, 20.2]},
                                  {"a": [10.3, 10.4, 10.5], "b": [21.0, 21.1, 21.2]},
                                  {"b": [22.0, 22.1, 22.2, 22.3, 22.4, 22.5]})):
        # the second process could not read its peak: the largest known is kept
        ctx = dict(CTX, process_peak_rss_bytes=100 + p) if p != 1 else dict(CTX)
        doc = {"context": ctx,
               "benchmarks": [r for case, ts in per_case.items() for r in rows(case, [ts])]}
        for r in doc["benchmarks"]:
            del r["process_index"]
        parts.append(os.path.join(tmp, "part.%d.json" % p))
        dump(parts[-1], doc)
    out = os.path.join(tmp, "merged.json")
    r = subprocess.run([sys.executable, os.path.join(scripts, "merge-processes"), out] + parts,
                       capture_output=True, text=True)
    expect(r.returncode == 0, "merge-processes of subsets: exit %d %s" % (r.returncode, r.stderr))
    try:
        doc = strict(out)
    except (OSError, ValueError) as e:
        expect(False, "merge-processes of subsets: %s" % e)
        return
    it = {c: [x for x in doc["benchmarks"] if x["run_name"] == c and x["run_type"] == "iteration"]
          for c in "ab"}
    expect([x["process_index"] for x in it["a"]] == [0, 0, 0, 1, 1, 1]
           and [x["repetition_index"] for x in it["a"]] == list(range(6)),
           "merged a: %s" % [(x["process_index"], x["repetition_index"]) for x in it["a"]])
    expect([x["process_index"] for x in it["b"]] == [0] * 3 + [1] * 3 + [2] * 6
           and [x["repetition_index"] for x in it["b"]] == list(range(12))
           and all(x["repetitions"] == 12 for x in it["b"]),
           "merged b: %s" % [(x["process_index"], x["repetition_index"]) for x in it["b"]])
    med = [x for x in doc["benchmarks"] if x.get("aggregate_name") == "median"]
    want_b = sorted([20.0, 20.1, 20.2, 21.0, 21.1, 21.2] + [22.0 + 0.1 * k for k in range(6)])
    got = {x["run_name"]: (x["real_time"], x["repetitions"]) for x in med}
    expect(abs(got.get("b", (0, 0))[0] - (want_b[5] + want_b[6]) / 2) < 1e-9
           and got["b"][1] == 12 and got.get("a", (0, 0))[1] == 6,
           "merged medians: %s" % got)
    expect(doc["context"].get("processes") == 3
           and doc["context"].get("process_peak_rss_bytes") == 102,
           "merged context: %s" % doc["context"])
    print("merge-processes: a third process holding one case of two merges: a in 2 processes "
          "(6 rows), b in 3 (12 rows), medians over each")
    # --add one process at a time (make bench's first pass), and of several
    # at once (a later round's, merged at its end): the same file
    merge = [sys.executable, os.path.join(scripts, "merge-processes")]
    inc, batch = os.path.join(tmp, "added.json"), os.path.join(tmp, "batch.json")
    for out, how, steps in (
            (inc, "part by part", [merge + [inc, parts[0]]]
             + [merge + ["--add", inc, p] for p in parts[1:]]),
            (batch, "of two parts at once", [merge + [batch, parts[0]],
                                             merge + ["--add", batch] + parts[1:]])):
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=True, text=True)
            expect(r.returncode == 0, "%s: exit %d %s" % (cmd[2:], r.returncode, r.stderr))
        try:
            expect(strict(out) == doc, "merge-processes --add, %s, differs from merging every "
                   "part at once" % how)
        except (OSError, ValueError) as e:
            expect(False, "merge-processes --add, %s: %s" % (how, e))
    r = subprocess.run(merge + ["--add", parts[1], parts[2]], capture_output=True, text=True)
    expect(r.returncode == 2 and len(r.stderr.splitlines()) == 1
           and "no count of processes" in r.stderr,
           "merge-processes --add to a part: exit %d %r" % (r.returncode, r.stderr))
    print("merge-processes --add: part by part, or two parts at once, gives the same file; "
          "adding to what it did not merge is one line, exit 2")


def check_counted_once(scripts, tmp):
    """make bench counts a configuration in its first process only: the
    merged file's aggregates take each hook counter from the rows that have
    it, its context says which processes ran with the hook
    (memhook_by_process), and validate-results asks for the hook's counters
    only there."""
    ctx = dict(CTX, python_build="--enable-shared", memhook="on")
    parts = []
    for p in range(3):
        doc = {"context": dict(ctx, memhook="on" if p == 0 else "off"),
               "benchmarks": rows("c/counted", [[10.0 + p]])}
        for r in doc["benchmarks"]:
            del r["process_index"]
            r.update(rss_bytes=1000.0 + p, peak_bytes=2000.0 + p)
            if p == 0:
                r.update(allocs_per_iter=3.0, frees_per_iter=3.0, bytes_per_iter=96.0)
        parts.append(os.path.join(tmp, "counted.%d.json" % p))
        dump(parts[-1], doc)
    merge = [sys.executable, os.path.join(scripts, "merge-processes")]
    whole, added = os.path.join(tmp, "counted.json"), os.path.join(tmp, "counted-added.json")
    runs = [merge + [whole] + parts, merge + [added, parts[0]]]
    runs += [merge + ["--add", added, p] for p in parts[1:]]
    for cmd in runs:
        r = subprocess.run(cmd, capture_output=True, text=True)
        expect(r.returncode == 0, "%s: exit %d %s" % (cmd[2:], r.returncode, r.stderr))
    try:
        doc, inc = strict(whole), strict(added)
    except (OSError, ValueError) as e:
        expect(False, "merge-processes, counted once: %s" % e)
        return
    med = [x for x in doc["benchmarks"] if x.get("aggregate_name") == "median"]
    expect(doc == inc and doc["context"].get("memhook_by_process") == ["on", "off", "off"]
           and len(med) == 1 and med[0].get("allocs_per_iter") == 3.0
           and med[0].get("bytes_per_iter") == 96.0 and med[0].get("rss_bytes") == 1001.0,
           "merge-processes, counted once: context %s, median %s" % (doc["context"], med))
    r = subprocess.run([sys.executable, os.path.join(scripts, "validate-results"), whole],
                       capture_output=True, text=True)
    expect(r.returncode == 0, "validate-results on a file counted once: exit %d %s%s"
           % (r.returncode, r.stdout, r.stderr))
    # a row of the counted process without its counters is still a problem
    doc["benchmarks"][0].pop("allocs_per_iter")
    dump(whole, doc)
    r = subprocess.run([sys.executable, os.path.join(scripts, "validate-results"), whole],
                       capture_output=True, text=True)
    expect(r.returncode == 1 and "lacks counter allocs_per_iter" in r.stdout,
           "validate-results, counted row without allocs_per_iter: exit %d %r"
           % (r.returncode, r.stdout))
    print("merge-processes, counted in the first process only: counters over the rows that have "
          "them, memhook_by_process; validate-results asks for them there only")


def check_pins(scripts, tmp):
    """scripts/pins: one line per case that ran, its first repetition's
    iterations (a merged file's later processes ran the same), error rows
    and aggregates left out; a bad file is one line, exit 2."""
    doc = {"context": CTX, "benchmarks": rows("a/x/8", [[5.0, 5.1], [5.2]])
           + [dict(r, iterations=400) for r in rows("b/real_time", [[7.0, 7.1]])]
           + error_rows("c/skipped", "skipped: not here")}
    doc["benchmarks"][0]["iterations"] = 3000
    doc["benchmarks"].append(dict(doc["benchmarks"][1], run_type="aggregate",
                                  name="a/x/8_median", aggregate_name="median", iterations=3))
    path = os.path.join(tmp, "pins.json")
    dump(path, doc)
    pins = os.path.join(scripts, "pins")
    r = subprocess.run([sys.executable, pins, path], capture_output=True, text=True)
    expect(r.returncode == 0 and r.stdout == "a/x/8 3000\nb/real_time 400\n",
           "pins: exit %d %r %r" % (r.returncode, r.stdout, r.stderr))
    with open(path, "w") as f:
        f.write('{"context": {}, "benchmarks": [{"name": "a", "real_time": NaN}]}')
    r = subprocess.run([sys.executable, pins, path], capture_output=True, text=True)
    expect(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and not r.stdout,
           "pins of a bad file: exit %d %r" % (r.returncode, r.stderr))
    # --min-time 1e-5: each loop runs 10 us at its pace, the larger of real
    # and CPU time: fewer than it ran (6 ns: 1667 of 3000), more (7 ns: 1429
    # of 400, as from a sizing process of a shorter minimum time), at least 1
    # (a 20 us iteration)
    doc["benchmarks"][0]["cpu_time"] = 6.0
    doc["benchmarks"] += [dict(r, iterations=1000, time_unit="us", real_time=20.0, cpu_time=19.0)
                          for r in rows("d/slow", [[0]])]
    dump(path, doc)
    r = subprocess.run([sys.executable, pins, "--min-time", "1e-5", path], capture_output=True,
                       text=True)
    expect(r.returncode == 0 and r.stdout == "a/x/8 1667\nb/real_time 1429\nd/slow 1\n",
           "pins --min-time: exit %d %r %r" % (r.returncode, r.stdout, r.stderr))
    for bad in ("0", "-1", "nan", "inf", "x"):
        r = subprocess.run([sys.executable, pins, "--min-time", bad, path], capture_output=True,
                           text=True)
        expect(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and not r.stdout,
               "pins --min-time %s: exit %d %r" % (bad, r.returncode, r.stderr))
    print("pins: each case that ran with its first repetition's iterations; errors and "
          "aggregates left out; --min-time sizes a loop to it; bad input is one line, "
          "exit 2")


def check_progress(scripts, tmp):
    prog = os.path.join(scripts, "progress")
    log = os.path.join(tmp, "errlog")
    lines = ["Running pymembench", "pymembench: progress 1/3 0.100 a/one",
             "pymembench: case a/two crashed: SIGSEGV", "pymembench: progress 2/3 0.200 a/two",
             "pymembench: progress 3/3 0.300 a/three", "pymembench: peak RSS 1 MiB"]
    feed = "".join(line + "\n" for line in lines)
    since = "%.3f" % (time.time() - 1000)
    r = subprocess.run([prog, "--errlog", log, "--label", "cpython-3.12.0/default"
                        ", process 1/2", "--total", "4", "--since", since, "--tty"],
                       input=feed.encode(), capture_output=True)  # bytes: "\r" kept
    with open(log) as f:
        kept = f.read()
    expect(r.returncode == 0 and kept == feed, "progress: exit %d, log %r" % (r.returncode, kept))
    err = r.stderr.decode()
    expect(err.count("\r\033[K") == 4 and err.endswith("\r\033[K") and "\n" not in err
           and "case 3/3" in err and re.search(r"case 2/3, 16:[34]\d in, about 16:[34]\d to go", err),
           "progress --tty: drew %r" % err)
    r = subprocess.run([prog, "--errlog", log, "--label", "x", "--total", "3",
                        "--every", "0"], input=feed, capture_output=True, text=True)
    expect(r.returncode == 0 and r.stderr.splitlines() == ["bench: x: case %d/3" % k
                                                           for k in (1, 2, 3)],
           "progress, plain lines every 0 s: %r" % r.stderr)
    r = subprocess.run([prog, "--errlog", log, "--label", "x", "--total", "3",
                        "--every", "1000"], input=feed, capture_output=True, text=True)
    expect(r.returncode == 0 and r.stderr == "", "progress, every 1000 s: %r" % r.stderr)
    # Ctrl-C reaches the whole group: the line carries on to the end
    p = subprocess.Popen([prog, "--errlog", log, "--label", "x", "--total", "3",
                          "--every", "0"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    p.stdin.write(lines[1] + "\n")
    p.stdin.flush()
    first = p.stderr.readline()  # it is reading: past its start-up
    p.send_signal(signal.SIGINT)
    p.stdin.write(lines[3] + "\n")
    p.stdin.close()
    rest = p.stderr.read()
    rc = p.wait(timeout=60)
    with open(log) as f:
        kept = f.read()
    expect(rc == 0 and first.startswith("bench: x: case 1/3") and "case 2/3" in rest
           and kept == lines[1] + "\n" + lines[3] + "\n",
           "progress after SIGINT: exit %s, %r %r, log %r" % (rc, first, rest, kept))
    r = subprocess.run([prog, "--label", "x"], capture_output=True, text=True)
    expect(r.returncode == 2, "progress without --errlog: exit %d" % r.returncode)
    print("progress: every line kept; drawn in place and cleared on a terminal; plain lines "
          "otherwise; Ctrl-C ignored until the end")


def check_bench_input(repo, tmp):
    marker = os.path.join(tmp, "ran")
    results = os.path.join(tmp, "never")
    cases = [({"TARGET": "abc"}, "TARGET='abc' is not a percentage"),
             ({"TARGET": "0"}, "TARGET='0' is not a percentage"),
             ({"TARGET": "-1"}, "TARGET='-1'"),
             ({"BUDGET": "soon"}, "BUDGET='soon' is not a number of seconds"),
             ({"MAX_PROCESSES": "0"}, "MAX_PROCESSES='0'"),
             ({"PROCESSES": "4", "MAX_PROCESSES": "3"}, "MAX_PROCESSES=3 is fewer"),
             ({"MAX_PROCESSES": "1"}, "MAX_PROCESSES=1 is fewer than the first pass's 4"),
             ({"CASE_BUDGET": "0"}, "CASE_BUDGET='0'"),
             ({"VERBOSE": "yes"}, "VERBOSE='yes' is not 0 or 1"),
             ({"TARGET": "$(touch %s)" % marker}, "TARGET="),
             ({"TARGET": "$(shell touch %s)" % marker}, "TARGET="),
             ({"CASE_BUDGET": "$(shell touch %s)" % marker}, "CASE_BUDGET="),
             ({"BUDGET": "`touch %s`" % marker}, "BUDGET=")]
    for extra, want in cases:
        # through make's command line, then through the environment
        for how in ("make", "env"):
            env = make_env(PYTHONS="/nonexistent/python3", RESULTS=results, HYPERFINE="0",
                           PLOTS="0")
            for k in OURS:
                env.pop(k, None)
            if how == "env":
                env.update(extra)
                cmd = ["make", "--no-print-directory", "bench"]
            else:
                cmd = ["make", "--no-print-directory", "bench"] + \
                    ["%s=%s" % kv for kv in extra.items()]
            p = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                               timeout=300)
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            expect(p.returncode == 2 and len(lines) == 1 and want in lines[0],
                   "make bench %s (%s): exit %d %r, want one line with %r"
                   % (extra, how, p.returncode, p.stderr[-600:], want))
            expect(not os.path.exists(marker), "make bench %s ran a value as code" % extra)
            expect(not os.path.exists(results), "make bench %s wrote %s" % (extra, results))
    good = make_env(PYTHONS="/nonexistent/python3", RESULTS=results, TARGET="0.5%",
                    BUDGET="120", MAX_PROCESSES="4", CASE_BUDGET="2.5", VERBOSE="1")
    p = subprocess.run([os.path.join(repo, "scripts", "bench")], env=good, capture_output=True,
                       text=True, timeout=300)
    expect(p.returncode == 2 and "matches no interpreter" in p.stderr,
           "bench with good TARGET=0.5%% BUDGET MAX_PROCESSES CASE_BUDGET VERBOSE: exit %d %r"
           % (p.returncode, p.stderr[-600:]))
    print("bench: %d bad TARGET/BUDGET/MAX_PROCESSES/CASE_BUDGET/VERBOSE values refused in one "
          "line through make's command line and the environment; good ones accepted"
          % len(cases))


def main(repo):
    scripts = os.path.join(repo, "scripts")
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("next", "merge", "progress"):
            os.mkdir(os.path.join(tmp, part))
        check_next_round(scripts, os.path.join(tmp, "next"))
        check_batches(scripts, tmp)
        check_merge(scripts, os.path.join(tmp, "merge"))
        check_counted_once(scripts, os.path.join(tmp, "merge"))
        check_pins(scripts, tmp)
        check_progress(scripts, os.path.join(tmp, "progress"))
        check_bench_input(repo, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
