#!/usr/bin/env python3
"""check_instructions_aa.py BINARY - deterministic mode: what the process
sees besides its work moves no instruction count (an unchanged commit is
never an instruction regression).

Two runs of the same cases, the same loops (--iterations-from), that differ
in everything but the work: the result file's path and how it is given
(--benchmark_out, or BENCHMARK_OUT in the environment), the
--iterations-from path, the environment (a 3000-byte variable, TMPDIR), the
binary's own path (a copy in a folder with a long name) and the filter's
text (a longer regex selecting the same cases; it goes into the run's
context as the commit label does). Every instructions_per_iter agrees
within 0.01%. The cases are malloc-bound ones those strings moved when they
were in the heap the rows start from: make regress flagged
lifetime/finalizer/capsule and lifetime/try_finally at +40.0 instructions
per iteration when only the label ("-dirty"), the clock and the results
path had changed. A commit label of another length is covered by
tests/check_regress.py (a base built under PYMB_COMMIT_LABEL).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

PINS = {
    "lifetime/finalizer/capsule": 2000,
    "lifetime/try_finally": 2000,
    "lifetime/with/c_exit": 1000,
    "alloc/malloc/steady/lifo/128": 4096,
    "alloc/malloc/realloc/1024": 4158,
    "alloc/malloc/realloc/65536": 12285,
}
FILTER = "^(" + "|".join(sorted(PINS)) + ")$"
LONG_FILTER = "^(" + "|".join(sorted(PINS)) + "|no/such/case/" + "x" * 200 + ")$"
TOLERANCE = 1e-4


def differs(x, y):
    """Two instructions_per_iter further apart than the tolerance."""
    return abs(x - y) > TOLERANCE * max(abs(x), abs(y))


def run(binary, folder, flt, out_by_env, extra_env):
    """One run; its rows by name, or None (the failure already reported)."""
    os.makedirs(folder)
    pins = os.path.join(folder, "iterations")
    with open(pins, "w") as f:
        f.writelines("%s %d\n" % kv for kv in PINS.items())
    out = os.path.join(folder, "instructions.json")
    env = {k: v for k, v in os.environ.items() if k not in ("BENCHMARK_FILTER", "BENCHMARK_OUT")}
    env.update(extra_env)
    cmd = [binary, "--instructions", "--suite=quick", "--benchmark_filter=" + flt,
           "--iterations-from=" + pins]
    if out_by_env:
        env["BENCHMARK_OUT"] = out
    else:
        cmd.append("--benchmark_out=" + out)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    expect(p.returncode == 0 and os.path.exists(out),
           "%s: exit %d\n%s" % (folder, p.returncode, p.stderr[-3000:]))
    if p.returncode != 0 or not os.path.exists(out):
        return None
    with open(out) as f:
        return {r["name"]: r for r in json.load(f)["benchmarks"]}


def main():
    if len(sys.argv) != 2:
        print("usage: check_instructions_aa.py BINARY")
        return 2
    binary = os.path.abspath(sys.argv[1])
    # the comparison catches what make regress saw
    expect(differs(1294.1, 1334.1) and not differs(1294.1, 1294.1),
           "the comparison misses +40.0 on 1294.1 instructions per iteration")
    with tempfile.TemporaryDirectory() as tmp:
        long_name = "a-folder-name-much-longer-than-the-other-" + "y" * 60
        copy_dir = os.path.join(tmp, long_name)
        os.makedirs(copy_dir)
        copy = os.path.join(copy_dir, "pymembench-copy")
        shutil.copy2(binary, copy)
        tmpdir = os.path.join(tmp, "tmp-" + long_name)
        os.makedirs(tmpdir)
        a = run(binary, os.path.join(tmp, "a"), FILTER, False, {})
        b = run(copy, os.path.join(tmp, long_name, long_name, "b"), LONG_FILTER, True,
                {"PYMB_AA_PADDING": "z" * 3000, "TMPDIR": tmpdir})
        if a is None or b is None:
            return 1
        expect(set(a) == set(PINS) and set(b) == set(PINS),
               "the runs hold other rows: %s / %s" % (sorted(a), sorted(b)))
        moved = 0
        for name in sorted(set(a) & set(b)):
            ra, rb = a[name], b[name]
            if ra.get("error_occurred") or rb.get("error_occurred"):
                expect(False, "%s: %s / %s" % (name, ra.get("error_message"),
                                               rb.get("error_message")))
                continue
            x, y = ra["instructions_per_iter"], rb["instructions_per_iter"]
            expect(ra["iterations"] == rb["iterations"] == PINS[name],
                   "%s: iterations %d and %d, pinned %d" % (name, ra["iterations"],
                                                          rb["iterations"], PINS[name]))
            expect(not differs(x, y), "%s: %.3f then %.3f instructions per iteration "
                   "(%+.3f): the run's paths, environment or filter text moved it"
                   % (name, x, y, y - x))
            moved += differs(x, y)
            print("%-30s %12.3f %12.3f" % (name, x, y))
        print("%d of %d cases moved (paths, environment, binary path, filter text)"
              % (moved, len(set(a) & set(b))))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
