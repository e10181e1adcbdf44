#!/usr/bin/env python3
"""pyperformance-gc.py PYTHON BENCHMARKS_DIR - instructions per timed
collection inside pyperformance's own gc benchmarks, to set beside
pymembench's gc/pyperformance/* rows (docs/families.md).

BENCHMARKS_DIR is pyperformance's pyperformance/data-files/benchmarks folder
(a checkout of its public source: github.com/python/pyperformance; nothing
of it belongs in this repository). For bm_gc_collect and bm_gc_traversal,
PYTHON runs the benchmark's own benchamark_collection() under valgrind's
callgrind with collection off, and a stand-in `pyperf` module whose
perf_counter() toggles collection (a 3-line C helper, built here with cc):
so exactly the region the benchmark times (t0 = perf_counter() ...
perf_counter()) is counted, in the benchmark's own code. What the toggling
itself costs is counted by the same calls with nothing between them and
taken off. Each benchmark runs twice, LOOPS_A and LOOPS_B loops, and the
difference divided by the extra loops is the figure: first-loop effects
cancel.

Prints one line per benchmark: name, instructions per timed collection.
Exit 2 on bad usage or a missing tool, 1 if a run fails.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LOOPS_A, LOOPS_B = 2, 6
FLAGS = []  # PYTHON's options
BENCHMARKS = {  # name: (folder, the arguments of its benchamark_collection after loops)
    "bm_gc_collect": ("bm_gc_collect", "CYCLES, LINKS"),
    # the same benchmark with no cycle: the full collection of the heap alone
    "bm_gc_collect_empty": ("bm_gc_collect", "0, LINKS"),
    "bm_gc_traversal": ("bm_gc_traversal", "N_LEVELS"),
}
TOGGLE_C = """#include <valgrind/callgrind.h>
void pmb_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""
PYPERF_STUB = """import ctypes, os, time
_toggle = ctypes.CDLL(os.environ["PMB_TOGGLE_SO"]).pmb_toggle
def perf_counter():
    _toggle()
    return time.perf_counter()
"""
# Runs one benchmark's benchamark_collection(loops, ...) as written, or
# (calibrate) the same number of perf_counter() pairs with nothing between.
DRIVER = """import importlib.util, sys
path, loops, calibrate = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
spec = importlib.util.spec_from_file_location("bench", path)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
if calibrate:
    import pyperf
    for _ in range(loops):
        t0 = pyperf.perf_counter()
        t1 = pyperf.perf_counter()
else:
    bench.benchamark_collection(loops, %s)
"""


def fail(msg, code=2):
    print("pyperformance-gc: " + msg, file=sys.stderr)
    sys.exit(code)


def counted(python, tmp, script, path, loops, calibrate):
    out = os.path.join(tmp, "cg.out")
    env = dict(os.environ, PMB_TOGGLE_SO=os.path.join(tmp, "toggle.so"),
               PYTHONPATH=tmp, PYTHONHASHSEED="0")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                        "--callgrind-out-file=" + out, python] + FLAGS + [script, path, str(loops),
                        "1" if calibrate else "0"],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        fail("%s failed under callgrind: %s" % (path, p.stderr[-600:]), 1)
    m = re.search(r"^summary:\s+(\d+)", open(out).read(), re.M)
    if not m:
        fail("no summary line in callgrind's output", 1)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("python")
    ap.add_argument("benchmarks_dir")
    ap.add_argument("--no-site", action="store_true",
                    help="run PYTHON with -S (no site module, no site-packages or .pth "
                         "files), as pymembench embeds it; PYTHONPATH still finds the stub")
    a = ap.parse_args()
    if a.no_site:
        FLAGS.append("-S")
    for tool in ("valgrind", "cc"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            fail("%s not found" % tool)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "toggle.c"), "w") as f:
            f.write(TOGGLE_C)
        if subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", os.path.join(tmp, "toggle.so"),
                           os.path.join(tmp, "toggle.c")]).returncode:
            fail("cannot build the toggle helper (valgrind/callgrind.h: apt-get install valgrind)")
        with open(os.path.join(tmp, "pyperf.py"), "w") as f:
            f.write(PYPERF_STUB)
        for name, (folder, args) in BENCHMARKS.items():
            path = os.path.join(a.benchmarks_dir, folder, "run_benchmark.py")
            if not os.path.exists(path):
                fail("%s not found: give pyperformance's data-files/benchmarks folder" % path)
            script = os.path.join(tmp, "driver_%s.py" % name)
            with open(script, "w") as f:
                f.write(DRIVER % ", ".join(x if x.strip().isdigit() else "bench." + x.strip()
                                           for x in args.split(",")))
            per = []
            for calibrate in (False, True):
                n_a = counted(a.python, tmp, script, path, LOOPS_A, calibrate)
                n_b = counted(a.python, tmp, script, path, LOOPS_B, calibrate)
                per.append((n_b - n_a) / (LOOPS_B - LOOPS_A))
            print("%s %.0f" % (name, per[0] - per[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
