#!/usr/bin/env python3
"""check_make.py BINARY PYTHON - the make targets at their edges, through
make itself (what users type), on binaries already built (PYMB_PREBUILT=1):

1. No value reaches a shell as code: every target, given on make's command
   line values holding quotes, backticks, $(...), $(shell ...), ';', spaces
   and newlines, runs nothing (a marker file stays absent) and exits 2 with
   the script's one line; a value that is a legal path (RESULTS) gives a
   correct run into that folder, and compare and plots read it.
2. make passes the scripts' exit codes on: a failed check is 1 from make
   bench (GNU make alone would say 2), bad input 2.
3. Strict JSON: every file a make bench and a make stress run writes parses
   with a parser that refuses NaN and Infinity.
"""
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

from pmbtest import expect, failed, make_env  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYLOADS = ('"; touch {m}; "', "`touch {m}`", "$(touch {m})", "$(shell touch {m})",
            "x;touch {m}", "'$(touch {m})'", "a b\ntouch {m}")
# Per target, variables a bad value of which the script refuses (exit 2).
REFUSED = {
    "bench": ("PYTHONS", "FILTER", "ALLOCATORS", "SUITE", "PROCESSES"),
    "stress": ("PYTHONS", "ALLOCATORS", "STRESS", "STRESS_SECONDS", "STRESS_OPS",
               "STRESS_MAX_SECONDS", "FAULT_POINTS", "FAULT_DOMAINS"),
    "regress": ("PYTHONS", "THRESHOLD", "GATE", "PROCESSES", "BASE_REF", "BASELINE"),
    "compare": ("RESULTS", "BASE", "MARGIN", "FDR"),
    "plots": ("RESULTS",),
    "test": ("PYTHONS", "SANITIZE"),
}


def make(target, binary, python, args=(), **env):
    e = make_env(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
                 PYTHONS=python, HYPERFINE="0", PLOTS="0")
    e.update(env)
    return subprocess.run(["make", "--no-print-directory", target] + list(args), cwd=REPO,
                          capture_output=True, text=True, timeout=900, env=e)


def refuse_constant(text):
    raise ValueError("%s is not JSON" % text)


def strict_float(text):
    x = float(text)
    if not math.isfinite(x):
        raise ValueError("%s is out of range" % text)
    return x


def strict_json(paths, what):
    """Each path parses as strict JSON; returns how many did."""
    ok = 0
    for path in paths:
        try:
            with open(path) as f:
                json.load(f, parse_constant=refuse_constant, parse_float=strict_float)
            ok += 1
        except ValueError as e:
            expect(False, "%s: %s is not strict JSON: %s" % (what, path, e))
    return ok


def injection(binary, python, tmp, results_dir):
    marker = os.path.join(tmp, "ran")
    runs = 0
    for target, names in REFUSED.items():
        for name in names:
            for payload in PAYLOADS:
                value = payload.format(m=marker)
                extra = {}
                if target in ("compare", "plots") and name != "RESULTS":
                    extra["RESULTS"] = results_dir
                if target == "regress" and name == "BASELINE":
                    value = os.path.join(tmp, "none", value)
                p = make(target, binary, python, ["%s=%s" % (name, value)], **extra)
                runs += 1
                lines = [l for l in p.stderr.splitlines() if l.strip()]
                expect(not os.path.exists(marker),
                       "make %s %s=%r ran the value as code" % (target, name, value))
                expect(p.returncode == 2, "make %s %s=%r: exit %d, expected 2\n%s"
                       % (target, name, value, p.returncode, p.stderr[-600:]))
                expect(lines and not any(l.startswith("make:") for l in lines)
                       and not any("Traceback" in l for l in lines),
                       "make %s %s=%r: not the script's own refusal: %r"
                       % (target, name, value, p.stderr[-600:]))
                if os.path.exists(marker):
                    os.remove(marker)
    print("injection: %d make runs with quotes, backticks, $(...), ;, spaces and newlines in "
          "values: nothing ran, exit 2 each" % runs)


def legal_path(binary, python, tmp):
    """RESULTS with every awkward character but '/' is a folder like any
    other: make bench writes there, compare and plots read it."""
    marker = os.path.join(tmp, "ran")
    weird = os.path.join(tmp, "r \"q\" `touch %s` $(touch %s); 'x'\nnl" % (marker, marker))
    p = make("bench", binary, python, ["RESULTS=" + weird, "FILTER=^refcount/c_increment$",
                                       "PROCESSES=1", "ALLOCATORS=default malloc"])
    files = sorted(glob.glob(os.path.join(glob.escape(weird), "*.json")))
    expect(p.returncode == 0 and len(files) >= 2,
           "make bench into %r: exit %d, files %s\n%s" % (weird, p.returncode, files,
                                                         p.stderr[-1500:]))
    p = make("compare", binary, python, ["RESULTS=" + weird])
    expect(p.returncode == 0 and os.path.exists(os.path.join(weird, "summary.md")),
           "make compare on %r: exit %d\n%s" % (weird, p.returncode, p.stderr[-1000:]))
    p = make("plots", binary, python, ["RESULTS=" + weird])
    expect(p.returncode == 0, "make plots on %r: exit %d\n%s"
           % (weird, p.returncode, p.stderr[-1000:]))
    expect(not os.path.exists(marker), "a RESULTS path ran as code")
    n = strict_json(glob.glob(os.path.join(glob.escape(weird), "**", "*.json"), recursive=True),
                    "make bench/compare")
    print("a legal path with quotes, backticks, $(...), ; and a newline: bench, compare and "
          "plots ran there; %d JSON files strict" % n)
    return weird


def exit_codes(binary, python, tmp):
    p = make("bench", binary, python, ["FILTER=^bindings/selftest/leak/raw$", "PROCESSES=1",
                                       "RESULTS=" + os.path.join(tmp, "failing")],
             PYMB_SELFTEST="1")
    expect(p.returncode == 1, "make bench with a failing check: exit %d, expected 1\n%s"
           % (p.returncode, p.stderr[-1500:]))
    expect("make: ***" not in p.stderr, "make added its own error line:\n" + p.stderr[-500:])
    p = make("bench", binary, python, ["SUITE=huge"])
    expect(p.returncode == 2, "make bench SUITE=huge: exit %d, expected 2" % p.returncode)
    print("exit codes through make: a failed check 1, bad input 2")


def stress_json(binary, python, tmp):
    out = os.path.join(tmp, "stress")
    p = make("stress", binary, python, ["FILTER=^stress/refcount/", "STRESS_SECONDS=0.02",
                                        "FAULT_POINTS=2", "RESULTS=" + out])
    files = glob.glob(os.path.join(out, "*.json"))
    expect(p.returncode in (0, 1) and files, "make stress: exit %d, files %s\n%s"
           % (p.returncode, files, p.stderr[-1500:]))
    n = strict_json(files, "make stress")
    print("make stress: %d report(s), strict JSON" % n)


def main():
    if len(sys.argv) != 3:
        print("usage: check_make.py BINARY PYTHON")
        return 2
    binary, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        weird = legal_path(binary, python, tmp)
        injection(binary, python, tmp, weird)
        exit_codes(binary, python, tmp)
        stress_json(binary, python, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
