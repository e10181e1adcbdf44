#!/usr/bin/env python3
"""check_history_plots.py REPO_ROOT - scripts/history-plots on a made-up
history of three records, written out of date order, across two families
(one of 13 cases, so split in two charts): every chart has its PNG, SVG,
.dat and .gp, the .dat rows are in date order and hold value / baseline
(NaN where the baseline is missing), history.md lists the charts, a subject
with quotes goes through; a missing folder, an empty one, a JSON file that
is not a record, a record of another version and a missing gnuplot exit 2
with one `history-plots:` line."""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def record(short, date, subject, cases):
    return {"pymembench_history": 1, "commit": short + "0" * 33, "commit_short": short,
            "date": date, "subject": subject, "python_tag": "cpython-3.11.7",
            "baseline_commit": "b000001", "cases": cases}


def cell(instr, base_instr, time, base_time):
    return {"instructions_per_iter": instr, "time_ns": time,
            "baseline_instructions_per_iter": base_instr, "baseline_time_ns": base_time}


def history(folder):
    """Three records; the file names sort against the dates, so the order
    must come from "date". Record i (1..3): refcount/case_k at (1 + i/100)x
    its baseline in instructions, gc/collect at 1.05x in time in record 3,
    gc/new_case without a baseline."""
    os.makedirs(folder)
    for i, (name, short, date) in enumerate((("c.json", "aaaaaa1", "2026-11-19T08:00:00Z"),
                                              ("b.json", "aaaaaa2", "2026-11-20T08:00:00Z"),
                                              ("a.json", "aaaaaa3", "2026-11-21T08:00:00Z")), 1):
        cases = {"refcount/case_%02d" % k: cell(100.0 * (1 + i / 100.0), 100.0, 2.0, 2.0)
                 for k in range(13)}
        cases["gc/collect"] = cell(50.0, 50.0, 1.0 + 0.025 * (i - 1), 1.0)
        cases["gc/new_case"] = cell(7.0, None, 3.0, None)
        subject = 'regress: "quoted" subject, it\'s %d' % i if i == 3 else "commit %d" % i
        with open(os.path.join(folder, name), "w") as f:
            json.dump(record(short, date, subject, cases), f)


def read_dat(path):
    """(header columns, data rows) of a .dat: '#' lines are comments, the
    last of them names the columns."""
    header, rows = [], []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# index"):
                header = line[2:].split("\t")
            elif line and not line.startswith("#"):
                rows.append(line.split("\t"))
    return header, rows


def column(header, rows, name):
    if name not in header:
        return None
    j = header.index(name)
    return [r[j] for r in rows]


def refusal(problems, what, p, want):
    lines = p.stderr.splitlines()
    if p.returncode != 2 or len(lines) != 1 or not lines[0].startswith("history-plots: ") \
            or want not in lines[0] or p.stdout:
        problems.append("%s: want exit 2 and one 'history-plots: ...%s...' line, got exit %d, "
                        "stdout %r, stderr %r" % (what, want, p.returncode, p.stdout, p.stderr))


def main(root):
    script = os.path.join(root, "scripts", "history-plots")
    if shutil.which("gnuplot") is None:
        print("FAIL: gnuplot not found: install gnuplot-nox (apt-get install gnuplot-nox)")
        return 1
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        hist, out = os.path.join(tmp, "history"), os.path.join(tmp, "out", "charts")
        history(hist)

        def run(*args, env=None):
            return subprocess.run([sys.executable, script] + list(args),
                                  capture_output=True, text=True, env=env)
        p = run(hist, out)
        if p.returncode != 0:
            print("FAIL: history-plots exit %d: %s" % (p.returncode, p.stderr.strip()))
            return 1
        charts = ("history-gc", "history-refcount", "history-refcount-2")
        for name in charts:
            for ext in ("png", "svg", "dat", "gp"):
                path = os.path.join(out, "%s.%s" % (name, ext))
                if not os.path.isfile(path) or os.path.getsize(path) == 0:
                    problems.append("no %s.%s (made: %s)" % (name, ext, sorted(os.listdir(out))))
            if ("%s.png" % os.path.join(out, name)) not in p.stderr:
                problems.append("no line for %s in the output: %r" % (name, p.stderr))
        extra = sorted(f for f in os.listdir(out) if f.endswith(".png")
                       and f[:-4] not in charts)
        if extra:
            problems.append("charts not expected: %s" % extra)
        if problems:  # the checks below read these files
            for prob in problems:
                print("FAIL: " + prob)
            return 1
        with open(os.path.join(out, "history-gc.png"), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                problems.append("history-gc.png is not a PNG")

        header, rows = read_dat(os.path.join(out, "history-gc.dat"))
        if column(header, rows, "commit") != ["aaaaaa1", "aaaaaa2", "aaaaaa3"]:
            problems.append("history-gc.dat: records not in date order: %r" % rows)
        want = {"gc/collect:time_ns": [1.0, 1.025, 1.05],
                "gc/collect:instructions_per_iter": [1.0, 1.0, 1.0],
                "gc/new_case:instructions_per_iter": ["NaN"] * 3,
                "gc/new_case:time_ns": ["NaN"] * 3}
        for name, values in want.items():
            got = column(header, rows, name)
            try:
                ok = got is not None and all(
                    g == v if v == "NaN" else abs(float(g) - v) < 1e-9
                    for g, v in zip(got, values)) and len(got) == len(values)
            except ValueError:
                ok = False
            if not ok:
                problems.append("history-gc.dat: %s is %r, want %r" % (name, got, values))

        # 13 cases: two charts of 7 and 6, every case once, at 1.01 1.02 1.03
        seen = []
        for name in ("history-refcount", "history-refcount-2"):
            header, rows = read_dat(os.path.join(out, name + ".dat"))
            for col in header:
                if col.endswith(":instructions_per_iter"):
                    seen.append(col.split(":")[0])
                    got = [float(v) for v in column(header, rows, col)]
                    if any(abs(g - w) > 1e-9 for g, w in zip(got, (1.01, 1.02, 1.03))):
                        problems.append("%s.dat: %s is %r, want 1.01 1.02 1.03" % (name, col, got))
        if sorted(seen) != ["refcount/case_%02d" % k for k in range(13)]:
            problems.append("refcount charts hold %r, want the 13 cases once each" % seen)

        with open(os.path.join(out, "history-gc.gp")) as f:
            gp = f.read()
        if 'regress: "quoted" subject, it\'\'s 3' not in gp:
            problems.append("history-gc.gp: the latest subject is not in the title, quoted for "
                            "gnuplot: %r" % [l for l in gp.splitlines() if "multiplot" in l])
        with open(os.path.join(out, "history.md")) as f:
            md = f.read()
        for name, fam in (("history-gc", "| gc |"), ("history-refcount", "| refcount (1 of 2) |"),
                          ("history-refcount-2", "| refcount (2 of 2) |")):
            line = [l for l in md.splitlines() if "[%s](%s.png)" % (name, name) in l]
            if len(line) != 1 or fam not in line[0] or "| 3 |" not in line[0] \
                    or "`aaaaaa1`" not in line[0] or "`aaaaaa3`" not in line[0]:
                problems.append("history.md: no row for %s with %s, 3 records, aaaaaa1..aaaaaa3: "
                                "%r" % (name, fam, md))
        if 'regress: "quoted" subject' not in md:
            problems.append("history.md does not name the latest subject: %r" % md)

        # one record still draws
        one = os.path.join(tmp, "one")
        os.makedirs(one)
        shutil.copy(os.path.join(hist, "a.json"), one)
        p = run(one, os.path.join(tmp, "out-one"))
        if p.returncode != 0 or not os.path.isfile(os.path.join(tmp, "out-one", "history-gc.png")):
            problems.append("one record: exit %d, %s" % (p.returncode, p.stderr.strip()))

        # bad input
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        other = os.path.join(tmp, "other")
        os.makedirs(other)
        with open(os.path.join(other, "results.json"), "w") as f:
            json.dump({"context": {}, "benchmarks": []}, f)
        refusal(problems, "missing folder", run(os.path.join(tmp, "nothere"), out),
                "no such folder")
        refusal(problems, "empty folder", run(empty, out), "no history record")
        refusal(problems, "not a record", run(other, out),
                "%s: not a pymembench history record" % os.path.join(other, "results.json"))
        newer = os.path.join(tmp, "newer")
        os.makedirs(newer)
        with open(os.path.join(newer, "x.json"), "w") as f:
            json.dump(dict(record("aaaaaa9", "2026-11-22T08:00:00Z", "s", {}),
                           pymembench_history=2), f)
        refusal(problems, "a later record version", run(newer, out),
                '%s: "pymembench_history" is 2' % os.path.join(newer, "x.json"))
        refusal(problems, "no arguments", run(), "usage")
        # no gnuplot on PATH: only this Python
        bindir = os.path.join(tmp, "bin")
        os.makedirs(bindir)
        os.symlink(sys.executable, os.path.join(bindir, "python3"))
        refusal(problems, "gnuplot missing", run(hist, out, env=dict(os.environ, PATH=bindir)),
                "install gnuplot-nox (apt-get install gnuplot-nox)")
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: history-plots charts 3 records of 2 families (one split) with the known "
              "ratios, history.md, and refuses bad input")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: check_history_plots.py REPO_ROOT\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
