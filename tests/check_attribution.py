#!/usr/bin/env python3
"""check_attribution.py - scripts/stress-verdict says whose each stress
finding is, on made-up reports (stacks as pymembench writes them in a
row's label; no interpreter, no timing):

- a leaked block our code allocated, or one a CPython call made a frame
  below our call (the object it returned to us): ours, exit 1;
- an object our type's constructor made when the interpreter called it (a
  snippet's Resource()): the interpreter's, known when an entry matches the
  failed request; the same constructor called from our code, or memory it
  took for itself: ours;
- a crash in our code, or a failed request our code made: ours;
- a leak deep inside compile(): known (the entry's id) on a version the
  entry covers, new on one it does not (3.14), and new with no entry;
- a crash in a library's object (libboost_python): the library's, new;
- a broken round invariant: ours whatever the stacks;
- only known findings: exit 0, PASS, the operations per family;
- bad input (a label that is not JSON, an operations target that is not a
  number, a known list without entries, a report that is not a result
  file): one line, exit 2.
"""
import json
import os
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VERDICT = os.path.join(ROOT, "scripts", "stress-verdict")

PY = "libpython3.11.so.1.0"
HANDED = ("%s:PyObject_Malloc+0x20 < %s:PyBytes_FromStringAndSize+0x40 < "
          "pymembench:run_pairs+0x31 < pymembench:pmb_case_run+0xe3" % (PY, PY))
DIRECT = "pymembench:setup_thing+0x12 < pymembench:pmb_case_run+0xe3"
COMPILE = ("%s:_PyObject_GC_New+0x52 < %s:PyDict_New+0x8c < %s+0x29fb96 < %s+0x2a00cd < "
           "%s:_PyAST_Compile+0x168 < %s:Py_CompileStringObject+0x69 < "
           "pymembench:pyx_compile_function_ns+0x7f" % ((PY,) * 6))
FAULT_IN_COMPILE = ("%s+0x25756c < %s:_PyAST_Compile+0x2d4 < %s:Py_CompileStringObject+0x69 < "
                    "pymembench:pyloop_init+0x4d" % ((PY,) * 3))
# our constructor called by the eval loop, by our code, and memory it took
CONSTRUCTED = ("%s:PyType_GenericAlloc+0x4c < pymembench:resource_new+0x2f < %s+0x1c1415 < "
               "%s:_PyObject_MakeTpCall+0x7d < %s:_PyEval_EvalFrameDefault+0x2e53 < %s+0x250a40 < "
               "pymembench:pyloop_run+0x2e" % ((PY,) * 5))
CONSTRUCTED_FOR_US = ("%s:PyType_GenericAlloc+0x4c < pymembench:resource_new+0x2f < %s+0x1c1415 < "
                      "%s:PyObject_CallObject+0x20 < pymembench:make_resources+0x40 < "
                      "pymembench:pmb_case_run+0xe3" % ((PY,) * 3))
CONSTRUCTOR_OWN = ("%s:PyMem_Malloc+0x10 < pymembench:resource_new+0x40 < %s+0x1c1415 < "
                   "%s:_PyObject_MakeTpCall+0x7d < %s:_PyEval_EvalFrameDefault+0x2e53" % ((PY,) * 4))
FAULT_IN_EVAL = ("%s:_PyObject_GC_New+0x52 < %s:PyMethod_New+0x21 < %s+0x1c1415 < "
                 "%s:_PyEval_EvalFrameDefault+0x2e53 < pymembench:pyloop_run+0x2e" % ((PY,) * 4))
# a crash's stack as pymembench keeps it: from the crashing frame (the
# handler's own frames left out)
CRASH_OURS = ("pymembench:check_view+0x10 < "
              "%s:PyObject_Call+0x20" % PY)
CRASH_CPYTHON = ("%s+0x1af854 < "
                 "%s:PyEval_EvalCode+0x20 < pymembench:pmb_case_run+0xe3" % (PY, PY))

KNOWN = {"entries": [{
    "id": "made-up-compile-leak", "owner": "cpython", "kinds": ["leak"],
    "python": {"from": "3.8", "to": "3.13"},
    "frames": ["^(Py_CompileStringObject|_PyAST_Compile)$"],
    "summary": "made up for the test", "reproducer": "scripts/repro/oom-compile.py"}, {
    "id": "made-up-eval-frame", "owner": "cpython", "kinds": ["leak"],
    "python": {"from": "3.11", "to": "3.12"},
    "frames": ["^PyMethod_New$", "^_PyEval_EvalFrameDefault$"],
    "summary": "made up for the test", "reproducer": "scripts/repro/oom-make-cell.py"}]}


def leak(point, *stacks, fault=FAULT_IN_COMPILE):
    return {"point": point, "sequence": 1000, "kind": "leak", "outcome": "MemoryError",
            "why": "cannot prepare (MemoryError: )", "blocks": 1, "bytes": 64,
            "what": "request %d" % point, "fault": fault,
            "leaks": ["1 blocks (64 bytes): %s" % s for s in stacks]}


def crash(point, stack, fault=FAULT_IN_COMPILE):
    return {"point": point, "sequence": 1000, "kind": "crash", "signal": "SIGSEGV",
            "fault": fault, "crash": stack}


def row(name, findings, error=None):
    r = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
         "repetition_index": 0, "threads": 1, "iterations": 4096, "real_time": 1.0,
         "cpu_time": 1.0, "time_unit": "ns", "family_index": 0,
         "per_family_instance_index": 0}
    if findings or error:
        r["error_occurred"] = True
        r["error_message"] = error or "fault injection: request 1 of 1000: leaked"
    if findings:
        r["label"] = json.dumps(findings)
    return r


def report(tmp, name, rows, version="3.11.7 (main, May  9 2026)"):
    doc = {"context": {"date": "2026-12-02T00:00:00+00:00", "host_name": "test",
                       "executable": "/nonexistent/pymembench", "num_cpus": 2,
                       "mhz_per_cpu": 1, "cpu_scaling_enabled": False, "caches": [],
                       "library_build_type": "release", "python_version": version,
                       "python_tag": "cpython-test", "allocator": "default"},
           "benchmarks": rows}
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def verdict(tmp, path, known=KNOWN):
    kpath = os.path.join(tmp, "known.json")
    with open(kpath, "w") as f:
        json.dump(known, f)
    out = path + ".verdict.json"
    p = subprocess.run([sys.executable, VERDICT, path, "--known", kpath, "--out", out],
                       capture_output=True, text=True, timeout=120)
    doc = None
    if p.returncode in (0, 1):
        with open(out) as f:
            doc = json.load(f, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    return p, doc


def by_case(doc):
    return {(f["case"], f["point"]): f for f in doc["findings"]}


def mixed(tmp):
    rows = [row("stress/x/handed", [leak(10, HANDED)]),
            row("stress/x/direct", [leak(11, DIRECT)]),
            row("stress/x/compile", [leak(12, COMPILE)]),
            row("stress/x/crash_ours", [crash(13, CRASH_OURS)]),
            row("stress/x/crash_cpython", [crash(14, CRASH_CPYTHON)]),
            row("stress/x/our_request", [leak(15, COMPILE, fault=DIRECT)]),
            row("stress/x/both", [leak(16, COMPILE, HANDED)]),
            row("stress/x/constructed", [leak(17, CONSTRUCTED, fault=FAULT_IN_EVAL)]),
            row("stress/x/constructed_for_us", [leak(18, CONSTRUCTED_FOR_US, fault=FAULT_IN_EVAL)]),
            row("stress/x/constructor_own", [leak(19, CONSTRUCTOR_OWN, fault=FAULT_IN_EVAL)]),
            row("stress/x/rounds", [], error="allocations balanced: 12 blocks more live"),
            row("stress/x/clean", [])]
    p, doc = verdict(tmp, report(tmp, "mixed.json", rows))
    expect(p.returncode == 1, "mixed findings: exit %d, expected 1\n%s" % (p.returncode, p.stderr))
    f = by_case(doc) if doc else {}
    want = {("stress/x/handed", 10): ("ours", "run_pairs"),
            ("stress/x/direct", 11): ("ours", "setup_thing"),
            ("stress/x/compile", 12): ("known", "made-up-compile-leak"),
            ("stress/x/crash_ours", 13): ("ours", "check_view"),
            ("stress/x/crash_cpython", 14): ("new", "cpython"),
            ("stress/x/our_request", 15): ("ours", "setup_thing"),
            ("stress/x/both", 16): ("ours", "run_pairs"),
            ("stress/x/constructed", 17): ("known", "made-up-eval-frame"),
            ("stress/x/constructed_for_us", 18): ("ours", "make_resources"),
            ("stress/x/constructor_own", 19): ("ours", "resource_new"),
            ("stress/x/rounds", 0): ("ours", "allocations balanced")}
    for key, (v, word) in want.items():
        got = f.get(key, {})
        expect(got.get("verdict") == v and word in got.get("why", ""),
               "%s: %s (%r), expected %s naming %s" % (key, got.get("verdict"), got.get("why"),
                                                      v, word))
    expect(len(f) == len(want), "%d findings, expected %d: %s" % (len(f), len(want), sorted(f)))
    expect(doc is not None and doc["ours"] == 7 and doc["new"] == 1 and doc["known"] == 2
           and doc["invariants_broken"] == 1,
           "counts: %s" % ({k: doc[k] for k in ("ours", "new", "known", "invariants_broken")}
                           if doc else None))
    print("mixed: exit %d; %s" % (p.returncode, "; ".join(
        "%s %s" % (k[0].split("/")[-1], f[k]["verdict"]) for k in sorted(f))))


def known_only(tmp):
    rows = [row("stress/x/compile", [leak(12, COMPILE)]), row("stress/y/clean", [])]
    path = report(tmp, "known.json.report", rows)
    p, doc = verdict(tmp, path)
    expect(p.returncode == 0 and "PASS" in p.stdout and "1 known (made-up-compile-leak)" in p.stdout,
           "only a known finding: exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    expect("operations per family: x 4.1e+03, y 4.1e+03" in p.stdout,
           "operations per family not said: %s" % p.stdout)
    print("known only: exit %d: %s" % (p.returncode, p.stdout.splitlines()[-2][len("stress-verdict: "):]))
    # the same finding where no entry covers the interpreter, or with no entry
    p, doc = verdict(tmp, report(tmp, "v314.json", rows, version="3.14.0 (main)"))
    got = doc["findings"][0]["verdict"] if doc and doc["findings"] else None
    expect(p.returncode == 1 and got == "new", "3.14: exit %d, %s" % (p.returncode, got))
    p, doc = verdict(tmp, path, known={"entries": []})
    got = doc["findings"][0]["verdict"] if doc and doc["findings"] else None
    expect(p.returncode == 1 and got == "new", "no entry: exit %d, %s" % (p.returncode, got))
    print("the same leak on 3.14, or with no entry: new, exit 1")


def library_owner(tmp):
    """A crash in a library's own object (libboost_python) is the library's,
    and new without an entry. (Header code inlined into the executable,
    pybind11's, is told apart by addr2line: the per-interpreter stress test
    tries that on a real crash.)"""
    stack = ("libboost_python311.so.1.74.0+0x1234 < "
             "pymembench:make_instance+0x10")
    p, doc = verdict(tmp, report(tmp, "boost.json", [row("stress/b/x", [crash(3, stack)])]))
    got = doc["findings"][0] if doc and doc["findings"] else {}
    expect(p.returncode == 1 and got.get("owner") == "boost" and got.get("verdict") == "new",
           "boost crash: exit %d, %s" % (p.returncode, got))
    print("a crash in libboost_python: owner boost, new")


def bad_input(tmp):
    bad_label = row("stress/x/bad", [])
    bad_label.update(error_occurred=True, error_message="fault injection: x", label="{not json")
    bad_target = report(tmp, "badtarget.json", [row("stress/x/ok", [])])
    with open(bad_target) as f:
        doc = json.load(f)
    doc["context"]["stress_ops_per_family"] = "nan"
    with open(bad_target, "w") as f:
        json.dump(doc, f)
    cases = [(report(tmp, "badlabel.json", [bad_label]), KNOWN, "label"),
             (bad_target, KNOWN, "stress_ops_per_family"),
             (report(tmp, "ok.json", [row("stress/x/ok", [])]), {"nothing": 1}, "entries"),
             (os.path.join(tmp, "missing.json"), KNOWN, "missing.json")]
    for path, known, word in cases:
        p, _ = verdict(tmp, path, known)
        lines = p.stderr.strip().splitlines()
        expect(p.returncode == 2 and len(lines) == 1 and word in lines[0],
               "bad input %s: exit %d, %r" % (word, p.returncode, p.stderr))
        print("bad input (%s): exit %d: %s" % (word, p.returncode, lines[0] if lines else ""))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        mixed(tmp)
        known_only(tmp)
        library_owner(tmp)
        bad_input(tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
