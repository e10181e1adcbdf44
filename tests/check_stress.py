#!/usr/bin/env python3
"""check_stress.py BINARY - stress runs and fault injection can fail, and do
not fail without cause.

1. The selftest family (PYMB_SELFTEST=1: planted faults) under --stress:
   each planted fault is reported by the invariant it targets, the crashing
   cases are named with their signal, the run goes on after them, the report
   is a whole result file (Google Benchmark's JSON, read by
   scripts/pmbresults.py's read_results), exit 1; scripts/stress-verdict
   attributes the error-path leak to our code (the function that forgot
   the reference) and fails the run.
2. Real cases of every family (and the threads stress case), with fault
   injection: exit 0, every case ran rounds, faults were injected and none
   crashed or leaked.
3. A negative filter ('-RE') selects the cases whose names RE finds in
   none of them (not the ones with any name it misses).
4. An operations target per family (--stress-ops): the first case is asked
   for its even share, the next for what the family still lacks, the family
   reaches the target; a case that cannot reach its share within
   --stress-max-seconds stops, marked short, and stress-verdict names it.
   Neither depends on the machine's speed: 1e8 operations of about a
   nanosecond each with 100,000 s allowed (short only below 500 a second),
   and 1e15 in 0.2 s.
5. Bad input: one line on stderr, exit 2, no report written.
"""
import os
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import pmbresults  # noqa: E402

VERDICT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                       "stress-verdict")


def stress(binary, args, env_extra=None):
    env = dict(os.environ)
    env.pop("STRESS_SECONDS", None)
    if "ASAN_OPTIONS" in env:
        # ASan's quarantine keeps freed memory resident, which the RSS
        # invariant would rightly call growth: off for stress runs.
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
    env.update(env_extra or {})
    return subprocess.run([binary, "--stress"] + args, capture_output=True, text=True, env=env,
                          timeout=900)


def read_report(path):
    """(context, {stress case name: row}) of a stress report, read as every
    result file is."""
    doc = pmbresults.read_results(path)
    return doc["context"], {row["name"]: row for row in doc["benchmarks"]}


def problem(row):
    """Why a stress case did not pass (a broken invariant, a crash, a fault
    point that crashed or leaked), or None: its error_message, unless it
    was a skip."""
    msg = row.get("error_message") if row.get("error_occurred") else None
    return None if msg is None or msg.startswith("skipped: ") else msg


def planted(binary, tmp):
    out = os.path.join(tmp, "selftest.json")
    p = stress(binary, ["--benchmark_filter=^stress/selftest/", "--stress-seconds=0.05",
                        "--fault-points=24", "--stress-out=" + out], {"PYMB_SELFTEST": "1"})
    expect(p.returncode == 1, "planted faults: exit %d, expected 1\n%s" % (p.returncode, p.stderr))
    context, cases = read_report(out)
    expect(context.get("finished") == "true", "the report is not marked finished")
    expect(len(cases) == 10, "%d selftest cases reported, expected 10: %s" % (len(cases), sorted(cases)))
    debug = any("refs_growth" in c for c in cases.values())

    def planted_problem(name):
        return problem(cases.get("stress/selftest/" + name) or {}) or ""

    # Under AddressSanitizer its own handlers take the fatal signals (and
    # report them): the crash is still isolated, but named by ASan.
    sanitized = os.environ.get("PYMB_SANITIZE") == "1"
    wants = {
        "crash/segv": "crashed: " if sanitized else "crashed: SIGSEGV",
        "crash/abort": "crashed: " if sanitized else "crashed: SIGABRT",
        "leak/object_per_round": "allocations balanced",
        "leak/raw_per_round": "allocations balanced",
        "rss/grow_per_round": "RSS bounded",
        "resource/double_release": "finalizers run exactly once",
        "resource/fd_per_round": "descriptors closed",
        # a round invariant holds; fault injection finds the error-path leak
        "fault/leak_on_error": "fault injection: request ",
    }
    if debug:
        wants["refcount/leak_per_round"] = "refcounts balanced"
    for name, want in wants.items():
        expect(want in planted_problem(name), "selftest/%s: problem %r, expected %r"
               % (name, planted_problem(name), want))
    expect(planted_problem("planted/slowdown") == "",
           "selftest/planted/slowdown (no fault planted) flagged: %r"
           % planted_problem("planted/slowdown"))
    if not debug:
        expect(planted_problem("refcount/leak_per_round") == "",
               "a release build flagged refcount/leak_per_round: %r"
               % planted_problem("refcount/leak_per_round"))
    crash_line = "stress/selftest/crash/segv" in p.stdout and ("SIGSEGV" in p.stdout or sanitized)
    expect(crash_line, "the SIGSEGV was not reported on stdout")
    fault = cases.get("stress/selftest/fault/leak_on_error", {})
    expect(fault.get("faults_leaked", 0) >= 1 and fault.get("faults_crashed", 1) == 0,
           "fault injection missed the leak on the error path: %r" % fault)
    print("planted: %d cases, each fault named by its invariant%s; fault injection found the "
          "error-path leak at %d of %d points"
          % (len(cases), " (debug interpreter: total refcount too)" if debug else "",
             fault.get("faults_leaked", 0), fault.get("fault_points", 0)))
    attributed(binary, tmp, out)


def attributed(binary, tmp, report):
    """scripts/stress-verdict on the planted report: the error-path leak is
    ours, named by the function that forgot the reference (the leaked
    block's stack, read back through addr2line), and the run fails."""
    out = os.path.join(tmp, "verdict.json")
    p = subprocess.run([sys.executable, VERDICT, report, "--exe", binary, "--out", out],
                       capture_output=True, text=True, timeout=300)
    expect(p.returncode == 1, "stress-verdict on planted faults: exit %d\n%s"
           % (p.returncode, p.stderr))
    found = pmbresults.read_json(out)["findings"] if p.returncode == 1 else []
    leak = [f for f in found if f["case"] == "stress/selftest/fault/leak_on_error"]
    expect(leak and all(f["verdict"] == "ours" and "run_pairs" in f["why"] for f in leak),
           "the planted error-path leak is not attributed to our run_pairs: %r" % leak)
    rounds = [f for f in found if f["kind"] == "invariant"]
    expect(len(rounds) >= 7 and all(f["verdict"] == "ours" for f in rounds),
           "%d broken invariants attributed, expected at least 7, all ours" % len(rounds))
    if leak:
        print("attributed: %s: %s" % (leak[0]["verdict"], leak[0]["why"]))


# Fault injection on cases whose code is C only, each making allocation
# requests in the one run the points are spread over (refcount/incdec_same
# makes none on some interpreters once its rounds ran: its one object can
# come from a freelist), so that every one gets points: a fault inside compile() or
# exec() of a snippet leaks or crashes in CPython itself on some versions
# (docs/stress.md; scripts/repro/oom-compile.py), which is not ours to test.
FAULTED = ("^stress/(refcount/list_build|lifetime/raw|alloc/object/(int|dict)"
           "|alloc/threads/PyMem_RawMalloc|buffers/copy/bytes/exporter"
           "|buffers/view/memoryview/bytes|threads/mixed)$")
# Rounds only, for families whose cases run Python snippets.
ROUNDS = "^stress/(gc/collect/self_list|lifetime/with/c_exit)$"


def real_run(binary, tmp, pattern, points):
    out = os.path.join(tmp, "real-%d.json" % points)
    p = stress(binary, ["--benchmark_filter=" + pattern, "--stress-seconds=0.05",
                        "--fault-points=%d" % points, "--stress-out=" + out])
    expect(p.returncode == 0, "real cases: exit %d\n%s\n%s" % (p.returncode, p.stdout[-3000:],
                                                               p.stderr[-2000:]))
    return list(read_report(out)[1].values())


def real(binary, tmp):
    faulted = real_run(binary, tmp, FAULTED, 6)
    rounds_only = real_run(binary, tmp, ROUNDS, 0)
    expect(len(faulted) == 8 and len(rounds_only) == 2,
           "%d + %d real stress cases ran, expected 8 + 2" % (len(faulted), len(rounds_only)))
    points = 0
    for c in faulted + rounds_only:
        expect(problem(c) is None, "%s: %s" % (c["name"], problem(c)))
        expect(c.get("rounds", 0) >= 3, "%s: %s rounds, expected at least 3"
               % (c["name"], c.get("rounds")))
    for c in faulted:
        # lifetime/raw allocates with libc only: no request to fail
        expect(c.get("fault_points", 0) > 0 or c["name"] == "stress/lifetime/raw",
               "%s: no fault injected" % c["name"])
        expect(c.get("faults_crashed", 0) == 0 and c.get("faults_leaked", 0) == 0,
               "%s: faults crashed %s, leaked %s" % (c["name"], c.get("faults_crashed"),
                                                     c.get("faults_leaked")))
        points += c.get("fault_points", 0)
    print("real: %d cases, %d rounds, %d fault points in %d of them, none broke, crashed or "
          "leaked" % (len(faulted) + len(rounds_only),
                      sum(c["rounds"] for c in faulted + rounds_only), points, len(faulted)))


def negative_filter(binary, tmp):
    """'-RE' keeps a case only when RE finds none of its names: here every
    case but one selftest case (a case's row names never start with
    stress/, so keeping a case for a name RE misses would keep them all)."""
    out = os.path.join(tmp, "negative.json")
    p = stress(binary, ["--benchmark_filter=-^stress/[^s]|/(crash|rss|leak|resource|refcount|planted)/",
                        "--stress-seconds=0.05", "--fault-points=0", "--stress-out=" + out],
               {"PYMB_SELFTEST": "1"})
    names = sorted(read_report(out)[1]) if os.path.exists(out) else []
    expect(p.returncode == 0 and names == ["stress/selftest/fault/leak_on_error"],
           "negative filter: exit %d, cases %s" % (p.returncode, names[:5]))
    print("negative filter: exit %d, %s" % (p.returncode, ", ".join(names)))


def ops_target(binary, tmp):
    out = os.path.join(tmp, "ops.json")
    # two cases of about a nanosecond an operation: the first stops near its
    # half (a round is a millisecond), the second is asked for the rest
    target = 100000000
    p = stress(binary, ["--benchmark_filter=^stress/refcount/(incdec_same|incs_then_decs)/mortal$",
                        "--stress-seconds=0.01", "--stress-ops=%d" % target,
                        "--stress-max-seconds=100000", "--fault-points=0", "--stress-out=" + out])
    expect(p.returncode == 0, "ops target: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
    context, cases = read_report(out)
    first = cases.get("stress/refcount/incdec_same/mortal", {})
    second = cases.get("stress/refcount/incs_then_decs/mortal", {})
    done = first.get("iterations", 0) + second.get("iterations", 0)
    expect(float(context.get("stress_ops_per_family", 0)) == target,
           "context.stress_ops_per_family is %r" % context.get("stress_ops_per_family"))
    expect(first.get("operations_share") == target / 2,
           "the first of 2 cases was asked for %r operations, expected %d"
           % (first.get("operations_share"), target / 2))
    lack = target - first.get("iterations", 0)
    expect(lack > 0 and second.get("operations_share", 0) == lack,
           "the second case was asked for %r, expected what the family lacked: %d"
           % (second.get("operations_share"), max(lack, 0)))
    expect(done >= target and not first.get("operations_short") and not second.get("operations_short"),
           "the family ran %d operations of %d (short: %r, %r)"
           % (done, target, first.get("operations_short"), second.get("operations_short")))
    print("ops target %d: asked %d then %d, ran %d and %d"
          % (target, first.get("operations_share", 0), second.get("operations_share", 0),
             first.get("iterations", 0), second.get("iterations", 0)))
    out = os.path.join(tmp, "short.json")
    p = stress(binary, ["--benchmark_filter=^stress/refcount/list_build$", "--stress-seconds=0.05",
                        "--stress-ops=1e15", "--stress-max-seconds=0.2", "--fault-points=0",
                        "--stress-out=" + out])
    row = read_report(out)[1].get("stress/refcount/list_build", {})
    expect(p.returncode == 0 and row.get("operations_short") == 1 and "(short: too slow" in p.stdout,
           "an unreachable share: exit %d, operations_short %r\n%s"
           % (p.returncode, row.get("operations_short"), p.stdout[-1000:]))
    v = subprocess.run([sys.executable, VERDICT, out], capture_output=True, text=True, timeout=300)
    line = [l for l in v.stdout.splitlines() if "target 1e+15 operations per family" in l]
    expect(v.returncode == 0 and line and "refcount short" in line[0] and "list_build" in line[0],
           "stress-verdict on a short family: exit %d\n%s" % (v.returncode, v.stdout))
    print("ops target 1e15 in 0.2 s: %s" % (line[0] if line else "(no line)"))


def bad_input(binary, tmp):
    out = os.path.join(tmp, "bad.json")
    cases = [
        (["--fault-domains=heap"], {}, "unknown domain"),
        (["--stress-seconds=-1"], {}, "positive number of seconds"),
        (["--fault-points=many"], {}, "number of points"),
        (["--stress-ops=many"], {}, "number of operations"),
        (["--stress-max-seconds=0"], {}, "positive number of seconds"),
        (["--benchmark_filter=^nothing_matches$"], {}, "no stress case matches the filter"),
        (["--benchmark_out=" + out], {}, "--stress-out"),
        ([], {"STRESS_SECONDS": "soon"}, "STRESS_SECONDS"),
        (["--stress-out=/nonexistent/dir/r.json", "--benchmark_filter=incdec_same/mortal"], {},
         "cannot write"),
    ]
    for args, env, want in cases:
        p = stress(binary, args + ["--stress-out=" + out] if "--stress-out" not in " ".join(args)
                   and "--benchmark_out" not in " ".join(args) else args, env)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2, "%s: exit %d, expected 2" % (args or env, p.returncode))
        expect(len(lines) == 1 and want in lines[0],
               "%s: stderr %r, expected one line with %r" % (args or env, p.stderr, want))
        expect(not os.path.exists(out), "%s: a report was written" % (args or env))
        print("bad input %s: %s" % (" ".join(args) or env, lines[0] if lines else "(nothing)"))


def benchmark_filter_matches_nothing(binary, tmp):
    """Outside --stress: the families are listed, exit 2, no result file."""
    out = os.path.join(tmp, "none.json")
    p = subprocess.run([binary, "--benchmark_filter=^no_such_case$", "--benchmark_out=" + out],
                       capture_output=True, text=True, timeout=300)
    ours = [l for l in p.stderr.splitlines() if l.startswith("pymembench:")]
    expect(p.returncode == 2, "benchmark filter matching nothing: exit %d" % p.returncode)
    expect(len(ours) == 1 and "the families are refcount (" in ours[0],
           "benchmark filter matching nothing: %r" % p.stderr)
    expect(not any(n.startswith("none.json") for n in os.listdir(tmp)),
           "benchmark filter matching nothing: a result file was written")
    print("bad input --benchmark_filter=^no_such_case$: %s" % (ours[0] if ours else "(nothing)"))


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        planted(binary, tmp)
        real(binary, tmp)
        negative_filter(binary, tmp)
        ops_target(binary, tmp)
        bad_input(binary, tmp)
        benchmark_filter_matches_nothing(binary, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
