"""pmbtest - what the ctest drivers written in Python share: expect()
prints a failure and remembers it; failed() says whether any happened (the
driver's exit status); run_cases() runs a pymembench binary on a filter and
reads its result file; make_env() is the environment for a test that runs
make; fake_build() a build folder whose pymembench is a given script."""
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


# Our make variables (the Makefile's PYMB_VARS and what the scripts read):
# a test sets the ones it means and inherits none.
MAKE_VARS = ("PYTHONS", "ALLOCATORS", "FILTER", "SUITE", "RESULTS", "PROCESSES", "BASE",
             "SANITIZE", "STRESS", "STRESS_SECONDS", "STRESS_OPS", "STRESS_MAX_SECONDS",
             "FAULT_POINTS", "FAULT_DOMAINS", "BASE_REF",
             "BASELINE", "UPDATE", "THRESHOLD", "TIME_THRESHOLD", "GATE", "TIME", "HISTORY",
             "HYPERFINE", "PLOTS", "BUILD", "BENCHMARK_FILTER", "PYMB_BASE_BIN",
             "PYMB_PREBUILT", "PYMB_COMMIT_LABEL", "PYMB_SELFTEST", "JOBS", "TARGET",
             "BUDGET", "MAX_PROCESSES", "CASE_BUDGET", "VERBOSE")


def make_env(**values):
    """os.environ less our variables and an outer make's (make test runs
    these tests: its MAKEFLAGS would hand its command-line variables to
    the inner make), plus values."""
    env = {k: v for k, v in os.environ.items()
           if k not in MAKE_VARS and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL",
                                               "MAKEOVERRIDES")}
    env.update(values)
    return env


def fake_build(binary, tmp, name, script):
    """A build folder TMP/NAME for make bench (BUILD=, PYMB_PREBUILT=1) whose
    pymembench, for BINARY's interpreter tag, is SCRIPT (its text, made
    executable): a process made to misbehave at a known point. (folder,
    the script's path)."""
    folder = os.path.join(tmp, name)
    tag = os.path.basename(os.path.dirname(binary))
    os.makedirs(os.path.join(folder, tag))
    path = os.path.join(folder, tag, "pymembench")
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, 0o755)
    return folder, path
