#!/usr/bin/env python3
"""check_regress.py BINARY PYTHON - `make regress` end to end, through make
(so the exit codes are the ones users and CI see), on binaries already
built (PYMB_PREBUILT=1), on a few cases:

1. Base against head with the same binary on both sides (PYMB_BASE_BIN): a
   verdict (exit 0, PASS), both sides counted alike, a history record and
   charts.
2. Base against head with the base built from HEAD in a git worktree, under
   another commit label (PYMB_COMMIT_LABEL, of another length), another
   results path and another clock: 0 cases changed, instruction for
   instruction (an unchanged commit is never a regression).
3. A stored baseline (UPDATE=1 BASELINE=dir), then the same run against it
   passes; against a copy planted 5% cheaper, make regress exits 1 and the
   workflow's verdict step (scripts/ci-verdict) fails as a regression.
4. Planted instruction changes judged by regress-verdict at the threshold.
5. The time gate on made-up figures (no real time is judged: no test here
   depends on a quiet machine).
6. A case that crashes under callgrind is named and fails the verdict
   (exit 1), and UPDATE=1 then leaves the baseline alone.
7. Bad input: one line, exit 2, nothing written.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed, make_env  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPTS = os.path.join(REPO, "scripts")
FILTER = ("^(refcount/(incdec_same/mortal|tuple_build/8)|gc/collect/ring/16|"
          "lifetime/(with/c_exit|finalizer/capsule|try_finally))$")
NCASES = 6
PLANT = "refcount/tuple_build/8"


def regress(binary, python, tmp, **extra):
    """make regress with our variables in the environment (and no other's)."""
    env = make_env(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
                   PYTHONS=python, FILTER=FILTER, PROCESSES="2",
                   HISTORY=os.path.join(tmp, "history"), PYMB_BASE_BIN=binary)
    env.update(extra)
    for k, v in list(env.items()):
        if v is None:
            del env[k]
    return subprocess.run(["make", "--no-print-directory", "regress"], cwd=REPO,
                          capture_output=True, text=True, timeout=1800, env=env)


def verdict(base, run, out, *args):
    os.makedirs(out, exist_ok=True)
    return subprocess.run([os.path.join(SCRIPTS, "regress-verdict"), base, run, "--out", out,
                           "--filter", FILTER, *args], capture_output=True, text=True,
                          timeout=120)


def load(path):
    with open(path) as f:
        return json.load(f)


def save(doc, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, allow_nan=False)


def section(report, title):
    """The lines of one '## title (N)' section of report.md."""
    lines, on = [], False
    for line in report.splitlines():
        if line.startswith("## "):
            on = line.startswith("## " + title)
        elif on:
            lines.append(line)
    return "\n".join(lines)


def counts(path):
    return {r["name"]: r.get("instructions_per_iter")
            for r in load(path)["benchmarks"] if not r.get("error_occurred")}


def same_counts(what, run):
    """Every case counted on both sides, and counted the same."""
    a = counts(os.path.join(run, "base", "instructions.json"))
    b = counts(os.path.join(run, "head", "instructions.json"))
    expect(len(a) == NCASES and set(a) == set(b), "%s: rows %s / %s" % (what, sorted(a), sorted(b)))
    moved = ["%s %s -> %s" % (n, a[n], b.get(n)) for n in a
             if not (a[n] and b.get(n) and abs(a[n] - b[n]) <= 1e-4 * a[n])]
    expect(not moved, "%s: instructions moved: %s" % (what, moved))
    return len(moved)


def base_vs_head(binary, python, tmp):
    run = os.path.join(tmp, "r1")
    p = regress(binary, python, tmp, RESULTS=run)
    expect(p.returncode == 0, "base vs head: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
    if p.returncode != 0:
        return None
    report = open(os.path.join(run, "report.md")).read()
    expect("**PASS**" in report and "## Regressions" not in report,
           "base vs head, one binary: the report does not pass:\n" + report[:1500])
    same_counts("base vs head, one binary", run)
    loops = {}
    for side in ("base", "head"):
        path = os.path.join(run, side, "time.json")
        expect(os.path.exists(path), "no %s/time.json" % side)
        if os.path.exists(path):
            for r in load(path)["benchmarks"]:
                if r.get("run_type") == "iteration" and not r.get("error_occurred"):
                    loops.setdefault(r["run_name"], set()).add(r["iterations"])
    # every timed process, of both sides, ran the first one's loops
    uneven = {n: sorted(v) for n, v in loops.items() if len(v) > 1}
    expect(loops and not uneven, "timed loops differ between processes: %s"
           % dict(list(uneven.items())[:3]))
    records = os.listdir(os.path.join(tmp, "history"))
    expect(len(records) == 1 and records[0].endswith(".json"), "history: %s" % records)
    if records:
        rec = load(os.path.join(tmp, "history", records[0]))
        expect(rec.get("pymembench_history") == 1 and rec.get("date") and rec.get("commit")
               and len(rec.get("cases", {})) == NCASES,
               "history record lacks commit, date or cases: %s" % str(rec)[:500])
    for fam in ("refcount", "gc", "lifetime"):
        expect(os.path.exists(os.path.join(run, "charts", "history-%s.png" % fam)),
               "no history chart for %s" % fam)
    print("base vs head, one binary: PASS, %d cases counted alike, history and charts" % NCASES)
    return run


def unchanged_commit(binary, python, tmp):
    """The base built from HEAD in a worktree, labelled otherwise. The head
    binary is the working tree's: with uncommitted changes the two are not
    the same code, and the check is left out, saying so."""
    if subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True).returncode:
        print("unchanged commit: skipped (not a git checkout)")
        return
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        print("unchanged commit: skipped (uncommitted changes: the working tree is not HEAD)")
        return
    run = os.path.join(tmp, "a-much-longer-results-folder-name-for-the-same-commit")
    p = regress(binary, python, tmp, RESULTS=run, BASE_REF="HEAD", TIME="0",
                PYMB_BASE_BIN=None, PYMB_COMMIT_LABEL="label-of-another-length-0123456789")
    expect(p.returncode == 0, "unchanged commit: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
    if p.returncode != 0:
        return
    ctx = load(os.path.join(run, "base", "instructions.json"))["context"]
    expect(ctx.get("pymembench_commit") == "label-of-another-length-0123456789",
           "the base was not built under the planted label: %s" % ctx.get("pymembench_commit"))
    moved = same_counts("unchanged commit", run)
    v = load(os.path.join(run, "verdict.json"))
    changed = [c["name"] for c in v["cases"] if c["verdict"] != "unchanged"]
    expect(not changed, "unchanged commit: cases flagged: %s" % changed)
    print("unchanged commit (base built from HEAD, another label, path and clock): %d cases, "
          "%d moved, %d flagged" % (len(v["cases"]), moved, len(changed)))


def stored_baseline(binary, python, tmp):
    base = os.path.join(tmp, "baseline")
    p = regress(binary, python, tmp, UPDATE="1", BASELINE=base, TIME="0",
                RESULTS=os.path.join(tmp, "r-update"))
    expect(p.returncode == 0 and "baseline rewritten in" in p.stderr,
           "UPDATE=1: exit %d\n%s" % (p.returncode, p.stderr[-3000:]))
    expect(os.path.exists(os.path.join(base, "instructions.json")), "UPDATE=1 wrote nothing")
    if p.returncode != 0:
        return
    p = regress(binary, python, tmp, BASELINE=base, TIME="0",
                RESULTS=os.path.join(tmp, "r-stored"))
    expect(p.returncode == 0, "against the stored baseline: exit %d\n%s"
           % (p.returncode, p.stderr[-3000:]))
    # Another compiler counts other code: refused once the head is counted.
    other_cc = os.path.join(tmp, "baseline-other-compiler")
    doc = load(os.path.join(base, "instructions.json"))
    doc["context"]["compiler"] = "GNU 99.0.0 (-O2)"
    save(doc, os.path.join(other_cc, "instructions.json"))
    p = regress(binary, python, tmp, BASELINE=other_cc, TIME="0",
                RESULTS=os.path.join(tmp, "r-other-compiler"))
    lines = [l for l in p.stderr.splitlines() if l.startswith("regress:")]
    expect(p.returncode == 2 and lines and "compiler 'GNU 99.0.0 (-O2)'" in lines[-1],
           "a baseline from another compiler: exit %d\n%s" % (p.returncode, p.stderr[-1500:]))
    planted = os.path.join(tmp, "baseline-cheaper5")
    doc = load(os.path.join(base, "instructions.json"))
    for row in doc["benchmarks"]:
        if row["name"] == PLANT:
            row["instructions_per_iter"] /= 1.05
    save(doc, os.path.join(planted, "instructions.json"))
    run = os.path.join(tmp, "r-planted")
    p = regress(binary, python, tmp, BASELINE=planted, TIME="0", RESULTS=run)
    report = open(os.path.join(run, "report.md")).read() \
        if os.path.exists(os.path.join(run, "report.md")) else ""
    expect(p.returncode == 1 and "`%s`" % PLANT in section(report, "Regressions"),
           "make regress, a planted 5%% regression: exit %d (expected 1)\n%s"
           % (p.returncode, p.stderr[-2000:]))
    ci = subprocess.run([os.path.join(SCRIPTS, "ci-verdict"), str(p.returncode), run],
                        capture_output=True, text=True)
    expect(ci.returncode == 1 and "found a regression" in ci.stdout,
           "ci-verdict on a regression: exit %d %r" % (ci.returncode, ci.stdout))
    ci2 = subprocess.run([os.path.join(SCRIPTS, "ci-verdict"), "2", run],
                         capture_output=True, text=True)
    expect(ci2.returncode == 1, "ci-verdict: a FAIL report with status 2 (make without the "
           "plugin) is still a regression: exit %d" % ci2.returncode)
    print("stored baseline: UPDATE=1, PASS against itself; planted 5%%: make regress exit %d, "
          "ci-verdict exit %d" % (p.returncode, ci.returncode))


def plants(tmp, run):
    """Instruction changes at the threshold, judged on copies of run/base."""
    def planted(name, factor):
        out = os.path.join(tmp, name)
        doc = load(os.path.join(run, "base", "instructions.json"))
        for row in doc["benchmarks"]:
            if row["name"] == PLANT:
                row["instructions_per_iter"] *= factor
        save(doc, os.path.join(out, "instructions.json"))
        return out

    head, out = os.path.join(run, "head"), os.path.join(tmp, "v")
    for name, factor, args, want, where in (
            ("cheaper5", 1 / 1.05, (), 1, "Regressions"),
            ("cheaper1", 1 / 1.01, (), 0, None),
            ("cheaper1b", 1 / 1.01, ("--threshold", "0.5"), 1, "Regressions"),
            ("dearer5", 1.05, (), 0, "Improvements")):
        p = verdict(planted(name, factor), head, out, *args)
        report = open(os.path.join(out, "report.md")).read()
        expect(p.returncode == want and (where is None or "`%s`" % PLANT in section(report, where)),
               "%s %s: exit %d (expected %d)\n%s" % (name, args, p.returncode, want, report[:1500]))
    broken = os.path.join(tmp, "head-failed")
    shutil.copytree(head, broken)
    doc = load(os.path.join(broken, "instructions.json"))
    for row in doc["benchmarks"]:
        if row["name"] == PLANT:
            row["error_occurred"] = True
            row["error_message"] = "check failed: planted"
    save(doc, os.path.join(broken, "instructions.json"))
    p = verdict(os.path.join(run, "base"), broken, out)
    report = open(os.path.join(out, "report.md")).read()
    expect(p.returncode == 1 and "planted" in section(report, "Failed cases"),
           "a failed case: exit %d\n%s" % (p.returncode, report[:1500]))
    print("planted instructions: 5% and 1% at 0.5% fail, 1% at 2% passes, dearer is an "
          "improvement, a failed case fails")


def time_doc(ctx, figures):
    """A time.json of made-up repetitions: figures {case: [[ns per rep]
    per process]}."""
    rows = []
    for case, procs in figures.items():
        for p, reps in enumerate(procs):
            for t in reps:
                rows.append({"name": case, "run_name": case, "run_type": "iteration",
                             "iterations": 1000, "real_time": t, "cpu_time": t,
                             "time_unit": "ns", "process_index": p})
    return {"context": ctx, "benchmarks": rows}


def time_gate(tmp, run):
    """GATE=time judged on made-up figures: a 50% slower case with tight
    repetitions fails it; equal figures with spread do not."""
    ctx = load(os.path.join(run, "head", "instructions.json"))["context"]
    names = list(counts(os.path.join(run, "head", "instructions.json")))
    steady = [[100.0, 101.0, 99.0], [100.5, 99.5, 100.2]]
    noisy = [[90.0, 110.0, 100.0], [95.0, 105.0, 120.0]]
    base, slow, same = (os.path.join(tmp, n) for n in ("t-base", "t-slow", "t-same"))
    for folder, plant in ((base, steady), (slow, [[x * 1.5 for x in p] for p in steady]),
                          (same, noisy)):
        shutil.copytree(os.path.join(run, "head"), folder)
        figures = {n: steady for n in names}
        figures[PLANT] = plant
        save(time_doc(ctx, figures), os.path.join(folder, "time.json"))
    out = os.path.join(tmp, "v-time")
    p = verdict(base, slow, out, "--gate", "time")
    case = [c for c in load(os.path.join(out, "verdict.json"))["cases"] if c["name"] == PLANT]
    expect(p.returncode == 1 and case and case[0]["verdict"] == "regression",
           "made-up times 50%% slower, GATE=time: exit %d, %s" % (p.returncode, case))
    p = verdict(base, slow, out)
    case = [c for c in load(os.path.join(out, "verdict.json"))["cases"] if c["name"] == PLANT]
    expect(p.returncode == 0 and case and case[0].get("time") == "regression"
           and case[0]["verdict"] == "unchanged",
           "made-up times 50%% slower, default gate: exit %d, %s (time is reported, not gating)"
           % (p.returncode, case))
    p = verdict(base, same, out, "--gate", "time")
    expect(p.returncode == 0, "made-up equal times with spread, GATE=time: exit %d\n%s"
           % (p.returncode, open(os.path.join(out, "report.md")).read()[:1500]))
    print("time gate on made-up figures: 50% slower fails GATE=time and is reported under the "
          "default gate; equal figures with spread pass")
    # a base whose malloc thresholds were fixed otherwise (before 64b33c9):
    # the report says so
    older = os.path.join(tmp, "t-older")
    shutil.copytree(base, older)
    doc = load(os.path.join(older, "instructions.json"))
    doc["context"]["malloc_thresholds"] = "mmap and trim fixed at 128 KiB (glibc's initial)"
    save(doc, os.path.join(older, "instructions.json"))
    p = verdict(older, base, out)
    report = open(os.path.join(out, "report.md")).read()
    expect(p.returncode == 0 and "set malloc's thresholds differently" in report
           and "128 KiB" in report,
           "malloc thresholds differing between the sides: exit %d, not in the report:\n%s"
           % (p.returncode, report[:1500]))
    p = verdict(base, same, out)
    report = open(os.path.join(out, "report.md")).read()
    expect("thresholds differently" not in report,
           "the same malloc thresholds on both sides reported as different:\n" + report[:1500])


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
    # A case that crashes on the base side only judges nothing the change
    # did: said, not compared, exit 0.
    wrapper = os.path.join(tmp, "base-that-crashes")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nPYMB_SELFTEST=1 exec "%s" "$@"\n' % binary)
    os.chmod(wrapper, 0o755)
    p = regress(binary, python, tmp, RESULTS=os.path.join(tmp, "r-base-crash"),
                FILTER=crash_filter, TIME="0", PYMB_BASE_BIN=wrapper)
    expect(p.returncode == 0 and "regress: the base commit: some cases failed" in p.stderr,
           "a crash on the base side only: exit %d (expected 0, said)\n%s"
           % (p.returncode, p.stderr[-1500:]))
    print("crash under callgrind: named, exit 1, a failed case; UPDATE=1 keeps the old "
          "baseline; a crash on the base side only is said and fails nothing")


def bad_input(binary, python, tmp):
    other = os.path.join(tmp, "other-build")
    doc = load(os.path.join(tmp, "baseline", "instructions.json"))
    doc["context"]["python_version"] = "3.11.0 (main, Jan  1 2020, 00:00:00) [GCC 1.0]"
    save(doc, os.path.join(other, "instructions.json"))
    corrupt = os.path.join(tmp, "corrupt")
    os.mkdir(corrupt)
    with open(os.path.join(corrupt, "instructions.json"), "w") as f:
        f.write('{"context": {"python_version": ')
    cases = [
        ({"THRESHOLD": "two"}, "THRESHOLD='two' is not a percentage"),
        ({"GATE": "speed"}, "GATE='speed' is not instructions, time or both"),
        ({"PROCESSES": "many"}, "PROCESSES='many' is not a whole number"),
        ({"BASELINE": os.path.join(tmp, "none")}, "no baseline in"),
        ({"GATE": "time", "TIME": "0"}, "needs the timed run"),
        ({"BASELINE": other}, "instruction counts differ between builds"),
        ({"PYTHONS": python + " " + python}, "a verdict is for one"),
        ({"GATE": "time", "PROCESSES": "1"}, "one process against one"),
        ({"BASELINE": corrupt}, "corrupt/instructions.json"),
        ({"BASE_REF": "no-such-ref-anywhere"}, "BASE_REF='no-such-ref-anywhere' is not a commit"),
        ({"BASE_REF": "HEAD", "BASELINE": other}, "BASE_REF and BASELINE both given"),
        ({"UPDATE": "1"}, "UPDATE=1 writes a stored baseline"),
    ]
    for k, (env, words) in enumerate(cases):
        out = os.path.join(tmp, "bad%d" % k)
        p = regress(binary, python, tmp, RESULTS=out, **env)
        lines = [l for l in p.stderr.splitlines() if l.strip() and "find-pythons" not in l]
        expect(p.returncode == 2 and len(lines) == 1 and words in lines[0],
               "%s: exit %d, stderr %r (expected one line with %r)"
               % (env, p.returncode, p.stderr[-800:], words))
        expect(not os.path.exists(out), "%s: created %s" % (env, out))
    print("bad input: %d cases, one line and exit 2 each, nothing written" % len(cases))


def main():
    if len(sys.argv) != 3:
        print("usage: check_regress.py BINARY PYTHON")
        return 2
    binary, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        run = base_vs_head(binary, python, tmp)
        if run:
            plants(tmp, run)
            time_gate(tmp, run)
        unchanged_commit(binary, python, tmp)
        stored_baseline(binary, python, tmp)
        crashes(binary, python, tmp)
        if os.path.exists(os.path.join(tmp, "baseline", "instructions.json")):
            bad_input(binary, python, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
