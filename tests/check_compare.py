#!/usr/bin/env python3
"""check_compare.py SCRIPTS_DIR - scripts/compare on result files with known
repetitions: the base defaults to the oldest Python, a doubled time is a
significant 2.00, equal samples are marked not significant, counts that
differ are shown, cases on one side only are named, BASE picks the column,
and bad input exits 2 with one line."""
import json
import os
import subprocess
import sys
import tempfile


def rows(name, times, allocs=1.0):
    out = [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(times),
            "iterations": 1000, "real_time": t, "cpu_time": t, "time_unit": "ns"}
           for t in times]
    med = sorted(times)[len(times) // 2]
    out.append({"name": name + "_median", "run_name": name, "run_type": "aggregate",
                "aggregate_name": "median", "iterations": len(times), "real_time": med,
                "cpu_time": med, "time_unit": "ns", "allocs_per_iter": allocs})
    return out


def write(folder, fname, version, benchmarks):
    tag = "cpython-" + version
    with open(os.path.join(folder, fname), "w") as f:
        json.dump({"context": {"python_version": version + " (main)", "python_tag": tag,
                               "allocator": "default", "host": "test"},
                   "benchmarks": benchmarks}, f)


def main(scripts):
    tool = os.path.join(scripts, "compare")
    problems = []

    def run(*args):
        return subprocess.run([sys.executable, tool] + list(args), capture_output=True,
                              text=True)

    with tempfile.TemporaryDirectory() as tmp:
        # the newer file first: the base must still be the oldest Python
        write(tmp, "b.json", "3.12.0",
              rows("a/x", [20.0, 20.2, 19.8, 20.1, 19.9]) +
              rows("a/y", [5.0, 5.1, 4.9, 5.0, 5.05], allocs=2.0) +
              [{"name": "c/e", "run_name": "c/e", "run_type": "iteration",
                "error_occurred": True, "error_message": "skipped: not here"}])
        write(tmp, "a.json", "3.9.1",
              rows("a/x", [10.0, 10.1, 9.9, 10.05, 9.95]) +
              rows("a/y", [5.0, 5.05, 4.95, 5.1, 4.9]) + rows("only/here", [1.0, 1.0, 1.0]) +
              rows("c/e", [3.0, 3.0, 3.0]))
        p = run(tmp)
        summary = os.path.join(tmp, "summary.md")
        text = p.stdout
        if p.returncode != 0 or not os.path.exists(summary):
            problems.append("compare DIR: exit %d, %s" % (p.returncode, p.stderr))
        for want in ("Base: `cpython-3.9.1/default`",
                     "| `a/x` | 10 ns | 20 ns, 2.00 [",
                     "- `cpython-3.12.0/default` lacks 1 case(s): `only/here`",
                     "skipped or failed (error rows) 1 case(s): `c/e`",
                     "| a | 1.414 (2 cases; 1 slower, 0 faster) |"):
            if want not in text:
                problems.append("compare DIR: no %r in:\n%s" % (want, text))
        line_x = [l for l in text.splitlines() if l.startswith("| `a/x`")]
        line_y = [l for l in text.splitlines() if l.startswith("| `a/y`")]
        if not line_x or line_x[0].endswith("~ |"):
            problems.append("a doubled time is not significant: %r" % line_x)
        if not line_y or not line_y[0].endswith("~ |") or "(allocs 1 / 2)" not in line_y[0]:
            problems.append("equal times marked significant or counts not shown: %r" % line_y)
        p = run("--base", "3.12", "--out", os.path.join(tmp, "s2.md"), tmp)
        if p.returncode != 0 or "Base: `cpython-3.12.0/default`" not in p.stdout \
                or "10 ns, 0.50 [" not in p.stdout:
            problems.append("--base 3.12: exit %d %r" % (p.returncode, p.stdout[:400]))
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        write(bad, "a.json", "3.9.1", rows("a/x", [1.0]))
        cases = [(["--base", "3.7", tmp], "BASE=3.7 matches nothing", None),
                 ([os.path.join(tmp, "a.json")], "need at least two result files", None),
                 ([bad], "cannot read", '{"context": {}, "benchmarks": ['),
                 ([bad], "is empty", ""),
                 (["--bogus", tmp], "unknown option --bogus", None)]
        for args, want, corrupt in cases:
            if corrupt is not None:
                with open(os.path.join(bad, "corrupt.json"), "w") as f:
                    f.write(corrupt)
            p = run(*args)
            if p.returncode != 2 or want not in p.stderr or len(p.stderr.splitlines()) != 1:
                problems.append("compare %s: exit %d, stderr %r (wanted exit 2, one line with "
                                "%r)" % (" ".join(args), p.returncode, p.stderr, want))
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: base, ratios with intervals, significance marks, counts, missing cases "
              "and bad input")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
