#!/usr/bin/env python3
"""check_regress.py BINARY PYTHON - make regress (scripts/regress) end to end
on binaries already built (PYMB_PREBUILT=1), on a few cases:

1. UPDATE=1 writes a baseline (instructions.json, time.json).
2. The same cases against that baseline pass (exit 0, report PASS), count the
   same instructions (within 0.01%), and add a history record and charts.
3. Planted regressions, on copies of the baseline: one case's instructions
   made 5% cheaper than reality fails the verdict (exit 1, the case named
   under Regressions); 1% cheaper passes at the 2% threshold; times made
   half of reality fail GATE=time but not the default gate; a failed case
   fails the verdict.
4. A case that crashes under callgrind is named, counted around (exit 1, the
   case under Failed cases), and UPDATE=1 then leaves the baseline alone.
5. A negative filter ('-REGEX', as Google Benchmark's) selects the rest.
6. Bad input: one line, exit 2, nothing written.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "scripts")
FILTER = "^(refcount/(incdec_same/mortal|tuple_build/8)|gc/collect/ring/16|lifetime/with/c_exit)$"
PLANT = "refcount/tuple_build/8"


def regress(binary, python, tmp, **extra):
    env = dict(os.environ)
    for k in ("FILTER", "ALLOCATORS", "SUITE", "PROCESSES", "BASE", "BENCHMARK_FILTER",
              "UPDATE", "THRESHOLD", "TIME_THRESHOLD", "GATE", "TIME", "BASELINE", "HISTORY",
              "PYMB_PYTHONS_GIVEN"):
        env.pop(k, None)
    env.update(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
               PYTHONS=python, FILTER=FILTER, PROCESSES="2",
               BASELINE=os.path.join(tmp, "baseline"), HISTORY=os.path.join(tmp, "history"))
    env.update(extra)
    return subprocess.run([os.path.join(SCRIPTS, "regress")], capture_output=True, text=True,
                          timeout=900, env=env)


def verdict(baseline, run, *args):
    return subprocess.run([os.path.join(SCRIPTS, "regress-verdict"), baseline, run,
                           "--filter", FILTER, *args], capture_output=True, text=True,
                          timeout=120)


def load(path):
    with open(path) as f:
        return json.load(f)


def save(doc, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f)


def planted(base_dir, tmp, name, edit):
    """A copy of the baseline with edit(doc_name, row) applied to PLANT's rows."""
    out = os.path.join(tmp, name)
    for f in ("instructions.json", "time.json"):
        doc = load(os.path.join(base_dir, f))
        for row in doc["benchmarks"]:
            if row.get("run_name", row["name"]) == PLANT:
                edit(f, row)
        save(doc, os.path.join(out, f))
    return out


def section(report, title):
    """The lines of one '## title (N)' section of report.md."""
    lines, on = [], False
    for line in report.splitlines():
        if line.startswith("## "):
            on = line.startswith("## " + title)
        elif on:
            lines.append(line)
    return "\n".join(lines)


def end_to_end(binary, python, tmp):
    base = os.path.join(tmp, "baseline")
    p = regress(binary, python, tmp, UPDATE="1", RESULTS=os.path.join(tmp, "r1"))
    expect(p.returncode == 0, "UPDATE=1: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
    expect("baseline rewritten in" in p.stderr, "UPDATE=1 did not say it rewrote the baseline")
    for f in ("instructions.json", "time.json"):
        expect(os.path.exists(os.path.join(base, f)), "UPDATE=1 wrote no %s" % f)
    if p.returncode != 0:
        return None
    run = os.path.join(tmp, "r2")
    p = regress(binary, python, tmp, RESULTS=run)
    expect(p.returncode == 0, "against itself: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
    if p.returncode != 0:
        return None
    report = open(os.path.join(run, "report.md")).read()
    expect("**PASS**" in report and "## Regressions" not in report,
           "against itself: the report does not pass:\n" + report[:1500])
    a = {r["name"]: r for r in load(os.path.join(base, "instructions.json"))["benchmarks"]}
    b = {r["name"]: r for r in load(os.path.join(run, "instructions.json"))["benchmarks"]}
    expect(set(a) == set(b) and len(a) == 4, "rows differ: %s / %s" % (sorted(a), sorted(b)))
    for name in a:
        x, y = a[name].get("instructions_per_iter"), b[name].get("instructions_per_iter")
        expect(x and y and abs(x - y) <= 1e-4 * x, "%s: %s then %s instructions" % (name, x, y))
    records = os.listdir(os.path.join(tmp, "history"))
    expect(len(records) == 1 and records[0].endswith(".json"), "history: %s" % records)
    if records:
        rec = load(os.path.join(tmp, "history", records[0]))
        expect(rec.get("pymembench_history") == 1 and rec.get("date") and rec.get("commit")
               and set(rec.get("cases", {})) == set(a),
               "history record lacks commit, date or cases: %s" % str(rec)[:500])
    for fam in ("refcount", "gc", "lifetime"):
        expect(os.path.exists(os.path.join(run, "charts", "history-%s.png" % fam)),
               "no history chart for %s" % fam)
    return run


def plants(tmp, run):
    base = os.path.join(tmp, "baseline")

    def instr(factor):
        def edit(f, row):
            if f == "instructions.json":
                row["instructions_per_iter"] *= factor
        return edit

    p = verdict(planted(base, tmp, "cheaper5", instr(1 / 1.05)), run)
    report = open(os.path.join(run, "report.md")).read()
    expect(p.returncode == 1 and "`%s`" % PLANT in section(report, "Regressions"),
           "a baseline 5%% cheaper than reality: exit %d\n%s" % (p.returncode, report[:2000]))
    p = verdict(planted(base, tmp, "cheaper1", instr(1 / 1.01)), run)
    expect(p.returncode == 0, "1%% cheaper at the 2%% threshold: exit %d %s"
           % (p.returncode, p.stderr))
    p = verdict(planted(base, tmp, "cheaper1b", instr(1 / 1.01)), run, "--threshold", "0.5")
    expect(p.returncode == 1, "1%% cheaper at a 0.5%% threshold: exit %d" % p.returncode)
    p = verdict(planted(base, tmp, "dearer5", instr(1.05)), run)
    report = open(os.path.join(run, "report.md")).read()
    expect(p.returncode == 0 and "`%s`" % PLANT in section(report, "Improvements"),
           "5%% dearer baseline: exit %d, not under Improvements" % p.returncode)

    def half_time(f, row):
        if f == "time.json":
            row["real_time"] *= 0.5
            row["cpu_time"] *= 0.5
    fast = planted(base, tmp, "time-half", half_time)
    p = verdict(fast, run, "--gate", "time")
    expect(p.returncode == 1, "baseline times halved, GATE=time: exit %d\n%s"
           % (p.returncode, open(os.path.join(run, "report.md")).read()[:2000]))
    p = verdict(fast, run)
    case = [c for c in load(os.path.join(run, "verdict.json"))["cases"] if c["name"] == PLANT]
    expect(p.returncode == 0 and case and case[0].get("time") == "regression"
           and case[0]["verdict"] == "unchanged",
           "baseline times halved, default gate: exit %d, %s (time is reported, not gating)"
           % (p.returncode, case))
    broken = os.path.join(tmp, "r-failed")
    shutil.copytree(run, broken)
    doc = load(os.path.join(broken, "instructions.json"))
    for row in doc["benchmarks"]:
        if row["name"] == PLANT:
            row["error_occurred"] = True
            row["error_message"] = "check failed: planted"
    save(doc, os.path.join(broken, "instructions.json"))
    p = verdict(base, broken)
    report = open(os.path.join(broken, "report.md")).read()
    expect(p.returncode == 1 and "planted" in section(report, "Failed cases"),
           "a failed case: exit %d\n%s" % (p.returncode, report[:1500]))


def crashes(binary, python, tmp):
    crash_filter = "^(selftest/crash/segv|refcount/tuple_build/8)$"
    run = os.path.join(tmp, "r-crash")
    p = regress(binary, python, tmp, RESULTS=run, FILTER=crash_filter, TIME="0",
                PYMB_SELFTEST="1")
    expect(p.returncode == 1 and "case selftest/crash/segv crashed: SIGSEGV" in p.stderr,
           "a crash under callgrind: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
    report = open(os.path.join(run, "report.md")).read() \
        if os.path.exists(os.path.join(run, "report.md")) else ""
    expect("**FAIL**" in report and "selftest/crash/segv" in section(report, "Failed cases"),
           "a crash under callgrind: not a failed case in the report\n" + report[:1500])
    fresh = os.path.join(tmp, "baseline-crash")
    p = regress(binary, python, tmp, RESULTS=os.path.join(tmp, "r-crash-update"),
                FILTER=crash_filter, TIME="0", PYMB_SELFTEST="1", UPDATE="1", BASELINE=fresh)
    expect(p.returncode == 1 and "baseline is left as it was" in p.stderr
           and not os.path.exists(os.path.join(fresh, "instructions.json")),
           "UPDATE=1 with a crash: exit %d, baseline %s\n%s"
           % (p.returncode, os.path.exists(fresh), p.stderr[-1500:]))


def negative_filter(tmp, run):
    out = os.path.join(tmp, "v-negative")
    os.mkdir(out)
    p = subprocess.run([os.path.join(SCRIPTS, "regress-verdict"), os.path.join(tmp, "baseline"),
                        run, "--filter=-^refcount/", "--out", out], capture_output=True,
                       text=True, timeout=120)
    names = [c["name"] for c in load(os.path.join(out, "verdict.json"))["cases"]] \
        if p.returncode == 0 else []
    expect(p.returncode == 0 and names and not [n for n in names if n.startswith("refcount/")],
           "--filter=-^refcount/: exit %d, cases %s %s" % (p.returncode, names, p.stderr))


def bad_input(binary, python, tmp):
    other = os.path.join(tmp, "other-build")
    doc = load(os.path.join(tmp, "baseline", "instructions.json"))
    doc = copy.deepcopy(doc)
    doc["context"]["python_version"] = "3.11.0 (main, Jan  1 2020, 00:00:00) [GCC 1.0]"
    save(doc, os.path.join(other, "instructions.json"))
    corrupt = os.path.join(tmp, "corrupt")
    os.mkdir(corrupt)
    with open(os.path.join(corrupt, "instructions.json"), "w") as f:
        f.write('{"context": {"python_version": ')
    cases = [
        ({"THRESHOLD": "two"}, "THRESHOLD='two' is not a percentage"),
        ({"GATE": "speed"}, "GATE='speed' is not instructions, time or both"),
        ({"BASELINE": os.path.join(tmp, "none")}, "no baseline in"),
        ({"GATE": "time", "TIME": "0"}, "needs the timed run"),
        ({"BASELINE": other}, "instruction counts differ between builds"),
        ({"PYTHONS": python + " " + python}, "a baseline is for one"),
        ({"GATE": "time", "PROCESSES": "1"}, "smallest possible p is 0.1"),
        ({"BASELINE": corrupt}, "cannot read"),
    ]
    for k, (env, words) in enumerate(cases):
        out = os.path.join(tmp, "bad%d" % k)
        p = regress(binary, python, tmp, RESULTS=out, **env)
        lines = [l for l in p.stderr.splitlines() if l.strip() and "find-pythons" not in l]
        expect(p.returncode == 2 and len(lines) == 1 and words in lines[0],
               "%s: exit %d, stderr %r (expected one line with %r)"
               % (env, p.returncode, p.stderr[-800:], words))
        expect(not os.path.exists(out), "%s: created %s" % (env, out))


def main():
    if len(sys.argv) != 3:
        print("usage: check_regress.py BINARY PYTHON")
        return 2
    binary, python = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        run = end_to_end(binary, python, tmp)
        if run:
            plants(tmp, run)
            negative_filter(tmp, run)
            crashes(binary, python, tmp)
            bad_input(binary, python, tmp)
    if not failed():
        print("ok: make regress writes a baseline, passes against it, records history and "
              "charts; planted 5% instruction and 2x time regressions fail; bad input refused")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
