"""pmbtest - what the ctest drivers written in Python share: expect()
prints a failure and remembers it; failed() says whether any happened (the
driver's exit status); run_cases() runs a pymembench binary on a filter and
reads its result file."""
import json
import os
import subprocess

_failed = 0


def expect(cond, what):
    """Print FAIL: what, and remember it, unless cond holds."""
    global _failed
    if not cond:
        _failed = 1
        print("FAIL: " + what)


def failed():
    """1 once any expect() failed, else 0."""
    return _failed


def run_cases(binary, tmp, flt, *args, env=None):
    """Run BINARY on the cases FLT matches, as briefly as Google Benchmark
    allows, its results in TMP/run.json: (exit code, stderr, result document
    or None when it wrote none)."""
    out = os.path.join(tmp, "run.json")
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([binary, "--benchmark_filter=" + flt, "--benchmark_min_time=0.001",
                        "--benchmark_out=" + out] + list(args),
                       capture_output=True, text=True, env=env)
    doc = None
    if os.path.exists(out):
        with open(out) as f:
            doc = json.load(f)
    return p.returncode, p.stderr, doc
