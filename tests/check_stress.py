#!/usr/bin/env python3
"""check_stress.py BINARY - stress runs and fault injection can fail, and do
not fail without cause.

1. The selftest family (PYMB_SELFTEST=1: planted faults) under --stress:
   each planted fault is reported by the invariant it targets, the crashing
   cases are named with their signal, the run goes on after them, the report
   is whole JSON, exit 1.
2. Real cases of every family (and the threads stress case), with fault
   injection: exit 0, every case ran rounds, faults were injected and none
   crashed or leaked.
3. Bad input: one line on stderr, exit 2, no report written.
"""
import json
import os
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402



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


def planted(binary, tmp):
    out = os.path.join(tmp, "selftest.json")
    p = stress(binary, ["--benchmark_filter=^stress/selftest/", "--stress-seconds=0.05",
                        "--fault-points=24", "--stress-out=" + out], {"PYMB_SELFTEST": "1"})
    expect(p.returncode == 1, "planted faults: exit %d, expected 1\n%s" % (p.returncode, p.stderr))
    with open(out) as f:
        report = json.load(f)
    expect(report["context"]["finished"] is True, "the report is not marked finished")
    cases = {c["name"]: c for c in report["cases"]}
    expect(len(cases) == 8, "%d selftest cases reported, expected 8: %s" % (len(cases), sorted(cases)))
    debug = any(c["refs_growth"] is not None for c in cases.values())

    def problem(name):
        return (cases.get("stress/selftest/" + name) or {}).get("problem") or ""

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
    }
    if debug:
        wants["refcount/leak_per_round"] = "refcounts balanced"
    for name, want in wants.items():
        expect(want in problem(name), "selftest/%s: problem %r, expected %r" % (name, problem(name), want))
    if not debug:
        expect(problem("refcount/leak_per_round") == "",
               "a release build flagged refcount/leak_per_round: %r" % problem("refcount/leak_per_round"))
    crash_line = "stress/selftest/crash/segv" in p.stdout and ("SIGSEGV" in p.stdout or sanitized)
    expect(crash_line, "the SIGSEGV was not reported on stdout")
    fault = cases.get("stress/selftest/fault/leak_on_error", {})
    expect(fault.get("problem") is None, "fault/leak_on_error broke a round invariant: %r"
           % fault.get("problem"))
    faults = fault.get("faults") or {}
    expect(faults.get("leaked", 0) >= 1 and faults.get("crashed", 1) == 0,
           "fault injection missed the leak on the error path: %r" % faults)
    print("planted: %d cases, each fault named by its invariant%s; fault injection found the "
          "error-path leak at %d of %d points"
          % (len(cases), " (debug interpreter: total refcount too)" if debug else "",
             faults.get("leaked", 0), faults.get("points", 0)))


# Fault injection on cases whose code is C only: a fault inside compile() or
# exec() of a snippet leaks or crashes in CPython itself on some versions
# (README, "Stress runs"; scripts/oom-compile.py), which is not ours to test.
FAULTED = ("^stress/(refcount/incdec_same/mortal|lifetime/raw|alloc/object/(int|dict)"
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
    with open(out) as f:
        return json.load(f)["cases"]


def real(binary, tmp):
    faulted = real_run(binary, tmp, FAULTED, 6)
    rounds_only = real_run(binary, tmp, ROUNDS, 0)
    expect(len(faulted) == 8 and len(rounds_only) == 2,
           "%d + %d real stress cases ran, expected 8 + 2" % (len(faulted), len(rounds_only)))
    points = 0
    for c in faulted + rounds_only:
        expect(c["problem"] is None, "%s: %s" % (c["name"], c["problem"]))
        expect(c["rounds"] >= 3, "%s: %d rounds, expected at least 3" % (c["name"], c["rounds"]))
    for c in faulted:
        f = c.get("faults") or {}
        # lifetime/raw allocates with libc only: no request to fail
        expect(f.get("points", 0) > 0 or c["name"] == "stress/lifetime/raw",
               "%s: no fault injected" % c["name"])
        expect(f.get("crashed", 0) == 0 and f.get("leaked", 0) == 0,
               "%s: faults %r" % (c["name"], f))
        points += f.get("points", 0)
    print("real: %d cases, %d rounds, %d fault points in %d of them, none broke, crashed or "
          "leaked" % (len(faulted) + len(rounds_only),
                      sum(c["rounds"] for c in faulted + rounds_only), points, len(faulted)))


def bad_input(binary, tmp):
    out = os.path.join(tmp, "bad.json")
    cases = [
        (["--fault-domains=heap"], {}, "unknown domain"),
        (["--stress-seconds=-1"], {}, "positive number of seconds"),
        (["--fault-points=many"], {}, "number of points"),
        (["--benchmark_filter=^nothing_matches$"], {}, "matches no stress case"),
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
        bad_input(binary, tmp)
        benchmark_filter_matches_nothing(binary, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
