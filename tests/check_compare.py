#!/usr/bin/env python3
"""check_compare.py SCRIPTS_DIR - scripts/compare on result files with known
repetitions: the base defaults to the oldest Python, the headline comes
first (verdict counts, family geometric means, the largest real
differences), a doubled time is 2.000 and "slower", equal samples with
spread are "unsure", equal tight samples "same" (and "unsure" at --margin
0), a column of one process is never slower or faster and says so, counts
that differ are shown, cases on one side only are named,
summary.md.json has each cell's verdict, p and p_adj, BASE picks the
column, and bad input (a bad --margin, --fdr or MARGIN too) exits 2 with one
line."""
import json
import os
import subprocess
import sys
import tempfile


def rows(name, times, allocs=1.0, processes=3):
    """Iteration rows of times, dealt round the processes, and a median row."""
    out = [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(times),
            "iterations": 1000, "real_time": t, "cpu_time": t, "time_unit": "ns",
            "process_index": i % processes}
           for i, t in enumerate(times)]
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

    def run(*args, env=None):
        return subprocess.run([sys.executable, tool] + list(args), capture_output=True,
                              text=True, env=env)

    with tempfile.TemporaryDirectory() as tmp:
        # the newer file first: the base must still be the oldest Python
        write(tmp, "b.json", "3.12.0",
              rows("a/x", [20.0, 20.2, 19.8, 20.1, 19.9]) +
              rows("a/y", [5.0, 5.1, 4.9, 5.0, 5.05], allocs=2.0) +
              rows("a/z", [7.0, 7.001, 6.999, 7.0005, 6.9995]) +
              [{"name": "c/e", "run_name": "c/e", "run_type": "iteration",
                "error_occurred": True, "error_message": "skipped: not here"}])
        write(tmp, "a.json", "3.9.1",
              rows("a/x", [10.0, 10.1, 9.9, 10.05, 9.95]) +
              rows("a/y", [5.0, 5.05, 4.95, 5.1, 4.9]) + rows("only/here", [1.0, 1.0, 1.0]) +
              rows("a/z", [7.0, 7.001, 6.999, 7.0005, 6.9995]) +
              rows("c/e", [3.0, 3.0, 3.0]))
        p = run(tmp)
        summary = os.path.join(tmp, "summary.md")
        text = p.stdout
        if p.returncode != 0 or not os.path.exists(summary):
            problems.append("compare DIR: exit %d, %s" % (p.returncode, p.stderr))
        for want in ("Base: `cpython-3.9.1/default`",
                     "- `cpython-3.12.0/default`: 1 slower, 0 faster, 1 same, 1 unsure of 3 "
                     "cases; geometric mean per family: a 1.260",
                     "  - `a/x` 2.000 [",
                     "| `a/x` | 10 ns | 20 ns, 2.000 [",
                     "- `cpython-3.12.0/default` lacks 1 case(s): `only/here`",
                     "skipped or failed (error rows) 1 case(s): `c/e`",
                     "| a | 1.260 (3 cases; 1 slower, 0 faster, 1 same, 1 unsure) |"):
            if want not in text:
                problems.append("compare DIR: no %r in:\n%s" % (want, text))
        if "| case |" not in text or text.find("  - `a/x` 2.000") > text.find("| case |"):
            problems.append("the headline does not come before the table:\n" + text)
        line = {c: [l for l in text.splitlines() if l.startswith("| `%s`" % c)]
                for c in ("a/x", "a/y", "a/z")}
        if not line["a/x"] or not line["a/x"][0].endswith("] slower |"):
            problems.append("a doubled time is not slower: %r" % line["a/x"])
        if not line["a/y"] or not line["a/y"][0].endswith("] unsure |") \
                or "(allocs 1 / 2)" not in line["a/y"][0]:
            problems.append("equal times with spread not unsure or counts not shown: %r"
                            % line["a/y"])
        if not line["a/z"] or not line["a/z"][0].endswith("] same |"):
            problems.append("equal tight times not the same: %r" % line["a/z"])
        try:
            with open(summary + ".json") as f:
                cells = json.load(f)["cases"]
            x = cells["a/x"]["cpython-3.12.0/default"]
            if x["verdict"] != "slower" or not 0 <= x["p"] <= x["p_adj"] <= 0.05 \
                    or not x["lo_ns"] <= x["median_ns"] <= x["hi_ns"] \
                    or cells["a/z"]["cpython-3.12.0/default"]["verdict"] != "same":
                problems.append("summary.md.json cells: %r" % cells)
        except (OSError, ValueError, KeyError) as e:
            problems.append("summary.md.json: %s" % e)
        # one process a side: an interval, never slower or faster, and a note
        one = os.path.join(tmp, "one")
        os.mkdir(one)
        write(one, "a.json", "3.9.1", rows("a/x", [10.0, 10.1, 9.9, 10.05, 9.95], processes=1))
        write(one, "b.json", "3.12.0", rows("a/x", [20.0, 20.2, 19.8, 20.1, 19.9], processes=1))
        p = run(one)
        x = [l for l in p.stdout.splitlines() if l.startswith("| `a/x`")]
        if p.returncode != 0 or not x or not x[0].endswith("] unsure |") \
                or "some columns come from one process" not in p.stdout:
            problems.append("one process a side: %r, exit %d\n%s" % (x, p.returncode, p.stdout))
        p = run("--margin", "0", "--out", os.path.join(tmp, "s0.md"), tmp)
        z = [l for l in p.stdout.splitlines() if l.startswith("| `a/z`")]
        if p.returncode != 0 or not z or not z[0].endswith("] unsure |"):
            problems.append("--margin 0: equal tight times not unsure: %r" % z)
        p = run("--base", "3.12", "--out", os.path.join(tmp, "s2.md"), tmp)
        if p.returncode != 0 or "Base: `cpython-3.12.0/default`" not in p.stdout \
                or "10 ns, 0.500 [" not in p.stdout or "] faster |" not in p.stdout:
            problems.append("--base 3.12: exit %d %r" % (p.returncode, p.stdout[:400]))
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        write(bad, "a.json", "3.9.1", rows("a/x", [1.0]))
        cases = [(["--base", "3.7", tmp], "BASE=3.7 matches nothing", None),
                 ([os.path.join(tmp, "a.json")], "need at least two result files", None),
                 ([bad], "cannot read", '{"context": {}, "benchmarks": ['),
                 ([bad], "is empty", ""),
                 (["--bogus", tmp], "unknown option --bogus", None),
                 (["--margin", "-1", tmp], "--margin (MARGIN) '-1' is not a percentage", None),
                 (["--margin", "two", tmp], "--margin (MARGIN) 'two' is not a percentage", None),
                 (["--fdr", "1", tmp], "--fdr (FDR) '1' is not a false-discovery rate", None),
                 (["--fdr", "nan", tmp], "--fdr (FDR) 'nan' is not a false-discovery rate", None),
                 ([tmp, "--margin"], "--margin needs a value", None),
                 (["MARGIN=x", tmp], "--margin (MARGIN) 'x' is not a percentage", None)]
        for args, want, corrupt in cases:
            if corrupt is not None:
                with open(os.path.join(bad, "corrupt.json"), "w") as f:
                    f.write(corrupt)
            env = None
            if args[0].startswith("MARGIN="):
                env = dict(os.environ, MARGIN=args[0].split("=", 1)[1])
                args = args[1:]
            p = run(*args, env=env)
            if p.returncode != 2 or want not in p.stderr or len(p.stderr.splitlines()) != 1:
                problems.append("compare %s: exit %d, stderr %r (wanted exit 2, one line with "
                                "%r)" % (" ".join(args), p.returncode, p.stderr, want))
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: base, headline, ratios with intervals and verdicts (slower, unsure, same; "
              "--margin), summary.md.json, counts, missing cases and bad input")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
