#!/usr/bin/env python3
"""check_instructions_jobs.py BINARY [PYTHON] - pymembench --instructions
counting several cases at once (--jobs; make regress's JOBS).

1. The same rows counted one at a time (--jobs=1), three at a time
   (--jobs=3) and at the default (one per core) have the same iterations
   and the same instructions, to the instruction, in the same order: each
   row's child forks from the same parent heap whatever the number of jobs.
2. A case that crashes while others run beside it is named and gets its
   error row; the others are counted; exit 1; nothing left in TMPDIR.
3. Ctrl-C (SIGINT to the process group) and SIGTERM to pymembench alone,
   while two cases are counted: exit 130 and 143, no result file and no
   temporary file left, and no process of the run left.
4. Bad --jobs values: one line, exit 2, no result file.
5. With PYTHON: make regress refuses a bad JOBS in one line (exit 2,
   nothing written) and passes JOBS on to the binary (--jobs).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from pmbtest import expect, failed, make_env  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# malloc-bound, gc, refcount, lifetime and buffer rows, and one skipped
# (multi-threaded) row
SUBSET = ("^(refcount/(c_increment|tuple_build/8|py_call_args)|gc/collect/ring/1024|"
          "lifetime/with/c_exit|alloc/malloc/realloc/65536|alloc/PyObject_Malloc/steady/lifo/32|"
          "alloc/object/dict|buffers/copy/PyBytes_FromStringAndSize/4096|"
          "alloc/threads/PyMem_RawMalloc/1/real_time)$")


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
        return json.load(f)["benchmarks"]


def same_counts(binary, tmp):
    got = {}
    for label, args in (("--jobs=1", ["--jobs=1"]), ("--jobs=3", ["--jobs=3"]),
                        ("the default", [])):
        out = os.path.join(tmp, "jobs%d.json" % len(got))
        p = run(binary, out, "--benchmark_filter=" + SUBSET, *args)
        expect(p.returncode == 0, "%s: exit %d\n%s" % (label, p.returncode, p.stderr[-2000:]))
        if p.returncode != 0:
            return
        got[label] = [(r["name"], r.get("iterations"), r.get("instructions"),
                       r.get("error_message")) for r in rows(out)]
    one = got["--jobs=1"]
    counted = [r for r in one if r[2]]
    expect(len(one) == 10 and len(counted) == 9,
           "--jobs=1 gave %d rows, %d counted (expected 10, 9): %s" % (len(one), len(counted), one))
    expect(any(r[3] and "other threads" in r[3] for r in one), "no row skipped with its reason")
    for label in ("--jobs=3", "the default"):
        other = got[label]
        expect([r[0] for r in other] == [r[0] for r in one],
               "%s: rows in another order or set: %s" % (label, [r[0] for r in other]))
        moved = [(a, b) for a, b in zip(one, other) if a != b]
        expect(not moved, "%s: counted differently from --jobs=1: %s" % (label, moved))
    print("%d rows: --jobs=1, --jobs=3 and the default count the same instructions and "
          "iterations, in the same order" % len(one))


def crash(binary, tmp):
    scratch = os.path.join(tmp, "scratch")
    os.mkdir(scratch)
    out = os.path.join(tmp, "crash.json")
    p = run(binary, out, "--jobs=2",
            "--benchmark_filter=^(selftest/crash/segv|refcount/(c_increment|tuple_build/8))$",
            PYMB_SELFTEST="1", TMPDIR=scratch)
    expect(p.returncode == 1 and
           "pymembench: case selftest/crash/segv crashed: SIGSEGV" in p.stderr,
           "crash: exit %d\n%s" % (p.returncode, p.stderr[-1500:]))
    expect(os.listdir(scratch) == [], "crash: left %s in TMPDIR" % os.listdir(scratch))
    if not os.path.exists(out):
        expect(False, "crash: no result file")
        return
    r = {row["name"]: row for row in rows(out)}
    expect(r["selftest/crash/segv"].get("error_message") == "crashed: SIGSEGV",
           "crash: the crashed case's row: %s" % r["selftest/crash/segv"])
    for name in ("refcount/c_increment", "refcount/tuple_build/8"):
        expect(r[name].get("instructions_per_iter", 0) > 0,
               "crash: %s, counted beside it, has no count: %s" % (name, r[name]))
    print("a crash beside two counted cases: named, its row says so, the others counted")


def interrupt(binary, tmp, sig, whole_group):
    """Send sig once two cases are being counted; (exit, what is left)."""
    folder = tempfile.mkdtemp(dir=tmp)
    scratch = os.path.join(folder, "scratch")
    os.mkdir(scratch)
    out = os.path.join(folder, "r.json")
    env = dict(os.environ, TMPDIR=scratch)
    env.pop("BENCHMARK_FILTER", None)
    p = subprocess.Popen([binary, "--instructions", "--suite=quick", "--jobs=2",
                          "--benchmark_filter=^refcount/", "--benchmark_out=" + out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env=env)
    sent = False
    for line in p.stderr:
        if "[2/" in line:
            if whole_group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
            sent = True
            break
    p.stderr.read()
    rc = p.wait(timeout=300)
    deadline = time.time() + 60
    alive = True
    while alive and time.time() < deadline:
        try:
            os.killpg(p.pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            alive = False
    if alive:
        os.killpg(p.pid, signal.SIGKILL)
    left = [f for f in os.listdir(folder) if f != "scratch"] + os.listdir(scratch)
    return sent, rc, left, alive


def interrupts(binary, tmp):
    for what, sig, group, want in (("Ctrl-C", signal.SIGINT, True, 130),
                                   ("SIGTERM to pymembench", signal.SIGTERM, False, 143)):
        sent, rc, left, alive = interrupt(binary, tmp, sig, group)
        expect(sent, "%s: never saw the second case start" % what)
        expect(rc == want, "%s: exit %d, expected %d" % (what, rc, want))
        expect(not left, "%s: left %s" % (what, left))
        expect(not alive, "%s: processes of the run still alive 60 s after it" % what)
        print("%s while two cases are counted: exit %d, nothing left, no process left"
              % (what, rc))


def bad_jobs(binary, tmp):
    for value in ("0", "65", "two", "", "2.5", "-1", " 2", "+2"):
        out = os.path.join(tmp, "bad.json")
        p = run(binary, out, "--jobs=" + value)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2 and len(lines) == 1 and
               "is not a whole number of processes from 1 to 64" in lines[0],
               "--jobs=%r: exit %d, stderr %r" % (value, p.returncode, p.stderr[-600:]))
        left = [f for f in os.listdir(tmp) if f.startswith("bad.json")]
        expect(not left, "--jobs=%r: left %s" % (value, left))
    p = subprocess.run([binary, "--jobs=2"], capture_output=True, text=True)
    expect(p.returncode == 2 and "need --instructions" in p.stderr,
           "--jobs without --instructions: exit %d %r" % (p.returncode, p.stderr))
    print("bad --jobs values: one line and exit 2 each, nothing written")


def regress(binary, python, tmp):
    build = os.path.dirname(os.path.dirname(binary))
    base = dict(PYMB_PREBUILT="1", BUILD=build, PYTHONS=python, PYMB_BASE_BIN=binary,
                HISTORY=os.path.join(tmp, "history"), TIME="0")
    for value in ("0", "65", "two", "1 2"):
        out = os.path.join(tmp, "regress-bad")
        p = subprocess.run(["make", "--no-print-directory", "regress"], cwd=REPO,
                           capture_output=True, text=True, timeout=600,
                           env=make_env(RESULTS=out, JOBS=value, **base))
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2 and len(lines) == 1 and
               ("JOBS='%s' is not a whole number from 1 to 64" % value) in lines[0],
               "make regress JOBS=%r: exit %d, stderr %r" % (value, p.returncode,
                                                             p.stderr[-600:]))
        expect(not os.path.exists(out), "make regress JOBS=%r: created %s" % (value, out))
    out = os.path.join(tmp, "regress")
    p = subprocess.run(["make", "--no-print-directory", "regress"], cwd=REPO,
                       capture_output=True, text=True, timeout=900,
                       env=make_env(RESULTS=out, JOBS="3", FILTER="^refcount/c_increment$",
                                    **base))
    said = p.stderr.count("under callgrind, 3 case(s) at a time")
    expect(p.returncode == 0 and said == 2,
           "make regress JOBS=3: exit %d, said 3 at a time %d times (expected 2)\n%s"
           % (p.returncode, said, p.stderr[-1500:]))
    print("make regress: bad JOBS refused in one line; JOBS=3 reaches both counts")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: check_instructions_jobs.py BINARY [PYTHON]")
        return 2
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        same_counts(binary, tmp)
        crash(binary, tmp)
        interrupts(binary, tmp)
        bad_jobs(binary, tmp)
        if len(sys.argv) == 3:
            regress(binary, sys.argv[2], tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
