#!/usr/bin/env python3
"""check_instructions.py BINARY [counts|harness] - pymembench --instructions
(deterministic mode) on one interpreter: counts, part 1 (what the
interpreter's version can change: make test runs it on the first
interpreter of each minor version); harness, parts 2 to 5 (where the harness
starts and stops counting, its options, its processes: make test runs them
on the first interpreter); both without a part.

1. Two runs of a subset of every family, each calibrating on its own, give
   the same iteration counts and instructions per iteration within 0.01%.
2. Only the loop is counted: refcount/c_increment (one C add per iteration)
   counts a handful of instructions per iteration whatever the iteration
   count (the interpreter's start-up and the case's setup are hundreds of
   millions), and --iterations-from runs the rows it names that many.
3. A case whose work runs on other threads is skipped with its reason.
4. A case that crashes is named with its signal and gets an error row; the
   others are counted (each case runs in a process of its own); exit 1, no
   temporary files left. A case counts the same (within 0.1%) alone and
   after cases that churn malloc's heap.
5. Bad input: one line, exit 2, no result file.
"""
import json
import os
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

SUBSET = ("^(refcount/(incdec_same/mortal|tuple_build/8|py_call_args)|gc/collect/ring/1024|"
          "gc/auto/py/default|lifetime/with/(c_exit|contextmanager)|"
          "alloc/PyObject_Malloc/steady/lifo/32|alloc/object/dict|"
          "buffers/copy/PyBytes_FromStringAndSize/4096)$")


def run(binary, out, *args, **extra):
    env = dict(os.environ)
    env.update(extra)
    env.pop("BENCHMARK_FILTER", None)
    env.pop("BENCHMARK_OUT", None)
    cmd = [binary, "--instructions", "--suite=quick", *args]
    if out:
        cmd.append("--benchmark_out=" + out)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)


def rows(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["context"], {r["name"]: r for r in doc["benchmarks"]}


def repeat(binary, tmp):
    runs = []
    for k in (1, 2):
        out = os.path.join(tmp, "run%d.json" % k)
        p = run(binary, out, "--benchmark_filter=" + SUBSET)
        expect(p.returncode == 0, "run %d: exit %d\n%s" % (k, p.returncode, p.stderr[-3000:]))
        if p.returncode != 0:
            return
        runs.append(rows(out))
    (ctx, a), (_, b) = runs
    expect(ctx.get("hash_seed", "").startswith("0"), "context lacks the fixed hash seed")
    expect(len(a) >= 10 and set(a) == set(b), "the runs hold different rows: %s / %s"
           % (sorted(a), sorted(b)))
    worst = (0.0, "")
    for name in a:
        ra, rb = a[name], b[name]
        expect(not ra.get("error_occurred"), "%s: %s" % (name, ra.get("error_message")))
        if ra.get("error_occurred") or rb.get("error_occurred"):
            continue
        expect(ra["iterations"] == rb["iterations"], "%s: iterations %d then %d"
               % (name, ra["iterations"], rb["iterations"]))
        x, y = ra["instructions_per_iter"], rb["instructions_per_iter"]
        d = abs(x - y) / x if x else 0.0
        expect(d <= 1e-4, "%s: %.3f then %.3f instructions per iteration (%.4f%% apart)"
               % (name, x, y, d * 100))
        worst = max(worst, (d, name))
    print("two runs of %d cases: largest difference %.6f%% (%s)" % (len(a), worst[0] * 100,
                                                                   worst[1]))


def loop_only(binary, tmp):
    per_iter = {}
    for target in ("100000", "10000000"):
        out = os.path.join(tmp, "inc-%s.json" % target)
        p = run(binary, out, "--benchmark_filter=^refcount/c_increment$",
                "--instructions-target=" + target)
        expect(p.returncode == 0, "c_increment: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
        if p.returncode == 0:
            row = rows(out)[1]["refcount/c_increment"]
            per_iter[target] = (row["instructions_per_iter"], row["iterations"])
    if len(per_iter) == 2:
        (small, n_small), (large, n_large) = per_iter["100000"], per_iter["10000000"]
        expect(n_large > n_small, "the target did not change the iterations (%d, %d)"
               % (n_small, n_large))
        expect(1 <= small <= 20 and 1 <= large <= 20,
               "c_increment counts %.2f and %.2f instructions per iteration: more than its "
               "loop" % (small, large))
        expect(abs(small - large) <= 0.05 * large, "c_increment: %.3f at %d iterations, %.3f "
               "at %d" % (small, n_small, large, n_large))
        print("c_increment: %.3f instructions per iteration at %d iterations, %.3f at %d"
              % (small, n_small, large, n_large))
    pins = os.path.join(tmp, "pins")
    with open(pins, "w") as f:
        f.write("# name iterations\nrefcount/c_increment 3000\n")
    out = os.path.join(tmp, "pinned.json")
    p = run(binary, out, "--benchmark_filter=^refcount/c_increment$", "--iterations-from=" + pins)
    expect(p.returncode == 0, "pinned: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
    if p.returncode == 0:
        n = rows(out)[1]["refcount/c_increment"]["iterations"]
        expect(3000 <= n < 4000, "--iterations-from asked 3000 iterations, the row ran %d" % n)


def threads_skipped(binary, tmp):
    out = os.path.join(tmp, "threads.json")
    p = run(binary, out, "--benchmark_filter=^alloc/threads/PyMem_RawMalloc/1/")
    expect(p.returncode == 0, "threads: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
    if p.returncode == 0:
        (row,) = rows(out)[1].values()
        expect(row.get("error_occurred") and "other threads" in row.get("error_message", ""),
               "a multi-threaded case was not skipped with its reason: %s" % row)


def crash(binary, tmp):
    scratch = os.path.join(tmp, "scratch")
    os.mkdir(scratch)
    out = os.path.join(tmp, "crash.json")
    p = run(binary, out, "--benchmark_filter=^(selftest/crash/segv|refcount/c_increment)$",
            PYMB_SELFTEST="1", TMPDIR=scratch)
    expect(p.returncode == 1 and
           "pymembench: case selftest/crash/segv crashed: SIGSEGV" in p.stderr,
           "crash: exit %d\n%s" % (p.returncode, p.stderr[-1500:]))
    expect(os.listdir(scratch) == [], "crash: left %s in TMPDIR" % os.listdir(scratch))
    if os.path.exists(out):
        r = rows(out)[1]
        expect(r["selftest/crash/segv"].get("error_message") == "crashed: SIGSEGV",
               "crash: the crashed case's row: %s" % r["selftest/crash/segv"])
        expect(r["refcount/c_increment"].get("instructions_per_iter", 0) > 0,
               "crash: the other case was not counted")
    else:
        expect(False, "crash: no result file")


def filters(binary, tmp):
    """Each case in a process of its own, forked from a parent whose heap
    the filter does not touch: a realloc-heavy case counts the same (within
    0.1%) alone and after cases that churn malloc's heap (161 against 322
    instructions per iteration when they shared a process; 143 against 148
    when the parent compiled the filter)."""
    pins = os.path.join(tmp, "realloc-pins")
    with open(pins, "w") as f:
        f.write("alloc/malloc/realloc/65536 8190\n")
    got = []
    for flt in ("^alloc/malloc/realloc/65536$",
                "^(gc/live_heap/100000|alloc/fragment/random90/1000000|alloc/malloc/realloc/65536)$"):
        out = os.path.join(tmp, "realloc.json")
        p = run(binary, out, "--benchmark_filter=" + flt, "--iterations-from=" + pins)
        expect(p.returncode == 0, "realloc: exit %d\n%s" % (p.returncode, p.stderr[-1500:]))
        if p.returncode == 0:
            got.append(rows(out)[1]["alloc/malloc/realloc/65536"]["instructions_per_iter"])
    if len(got) == 2:
        expect(abs(got[0] - got[1]) <= 0.001 * got[0],
               "alloc/malloc/realloc/65536: %.2f alone, %.2f after heap churn" % tuple(got))
        print("alloc/malloc/realloc/65536: %.2f alone, %.2f after heap churn" % tuple(got))


def bad_input(binary, tmp):
    pins = os.path.join(tmp, "bad-pins")
    with open(pins, "w") as f:
        f.write("refcount/c_increment many\n")
    cases = [
        (["--instructions-target=5"], "instructions from 1000"),
        (["--iterations-from=" + os.path.join(tmp, "none")], "cannot read --iterations-from"),
        (["--iterations-from=" + pins], "is not 'NAME ITERATIONS'"),
        (["--stress"], "leave out --memhook and --stress"),
        (["--memhook=on"], "leave out --memhook and --stress"),
        (["--allocator=malloc+jemalloc"], "cannot be counted under callgrind"),
        (["--benchmark_filter=^no_such_case$"], "no case matches the filter"),
        (["--benchmark_filter=(("], "not a valid regular expression"),
        (["--benchmark_out_format=csv"], "writes JSON only"),
    ]
    for k, (args, words) in enumerate(cases):
        out = os.path.join(tmp, "bad%d.json" % k)
        p = run(binary, out, *args)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2 and len(lines) == 1 and words in lines[0],
               "%s: exit %d, stderr %r (expected one line with %r)"
               % (" ".join(args), p.returncode, p.stderr[-600:], words))
        expect(not os.path.exists(out), "%s: wrote %s" % (" ".join(args), out))
        leftovers = [f for f in os.listdir(tmp) if f.startswith("bad%d.json" % k)]
        expect(not leftovers, "%s: left %s" % (" ".join(args), leftovers))
    # timed runs read the same file the same way; stress runs have no loops
    out = os.path.join(tmp, "timed-bad.json")
    for args, words in (([pins, "--benchmark_out=" + out], "is not 'NAME ITERATIONS'"),
                        ([pins, "--stress"], "leave it out of --stress"),
                        ([pins, "--benchmark_list_tests=true"], "leave it out of --stress")):
        p = subprocess.run([binary, "--iterations-from=" + args[0]] + args[1:],
                           capture_output=True, text=True)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2 and len(lines) == 1 and words in lines[0],
               "--iterations-from %s: exit %d, stderr %r" % (args[1:], p.returncode, p.stderr))
    expect(not os.path.exists(out) and not [f for f in os.listdir(tmp) if "timed-bad" in f],
           "a timed run refused for its --iterations-from file left %s" % out)


PARTS = {"counts": (repeat,),
         "harness": (loop_only, threads_skipped, crash, filters, bad_input)}
SAID = {"counts": "instruction counts repeat within 0.01%",
        "harness": "the loop only counted, multi-threaded cases skipped, a crash named and "
                   "counted around, the heap a case forks from independent of the filter, bad "
                   "input refused"}


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] not in PARTS):
        print("usage: check_instructions.py BINARY [counts|harness]")
        return 2
    binary = sys.argv[1]
    parts = sys.argv[2:] or list(PARTS)
    with tempfile.TemporaryDirectory() as tmp:
        for part in parts:
            for check in PARTS[part]:
                check(binary, tmp)
    if not failed():
        print("ok: " + "; ".join(SAID[part] for part in parts))
    return failed()


if __name__ == "__main__":
    sys.exit(main())
