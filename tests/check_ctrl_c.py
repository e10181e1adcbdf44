#!/usr/bin/env python3
"""check_ctrl_c.py BINARY PYTHON - Ctrl-C (SIGINT to the whole process
group, as a terminal sends it) at each moment of make bench, make stress
and make regress, on binaries already built (PYMB_PREBUILT=1). Each moment
is found by what the run prints, never by waiting a set time:

  bench, during the sizing process, and before the first result file
      (round 1 has started): exit 130, no run folder left, results/latest
      where it was
  bench, between rounds (round 1 done, its file written): exit 130, that
      file whole, results/latest where it was
  bench, in a later round (its first process done, merged only at the
      round's end): exit 130, the file whole and holding that process
  bench, during hyperfine (every round done): exit 130, the result file
      whole, no half-written hyperfine export, results/latest where it was
  stress, during the first case; regress, while counting: exit 130, every
      file left parses, no temporary file left.

Through make, make itself dies of the SIGINT (a shell shows 130); the
scripts' own status is 130. The time printed is from SIGINT until no
process of the run is left.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from pmbtest import expect, failed, fake_build, make_env  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATEST = os.path.join(REPO, "results", "latest")


def latest():
    return os.readlink(LATEST) if os.path.islink(LATEST) else None


def interrupt(target, pattern, env, mark=None):
    """Run make TARGET; SIGINT its process group once a stderr line holds
    pattern (and, given a mark, once that file exists: a held process is
    waiting). (exit status, seconds from SIGINT to exit, stderr)."""
    p = subprocess.Popen(["make", "--no-print-directory", target], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    seen, sent = [], None
    for line in p.stderr:
        seen.append(line)
        if pattern in line:
            # the held process marks within seconds (its output is small:
            # nothing fills the unread pipe meanwhile)
            deadline = time.time() + 120
            while mark and not os.path.exists(mark) and p.poll() is None \
                    and time.time() < deadline:
                time.sleep(0.01)
            if mark and not os.path.exists(mark):
                expect(False, "make %s: the held process never started (no %s)"
                       % (target, mark))
                break
            sent = time.time()
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                sent = None  # the run ended first: said below as never sent
            break
    rest = p.stderr.read()
    rc = p.wait(timeout=300)
    # make exits once its children have; anything else of the run (a
    # pymembench, callgrind, hyperfine) must be gone too: the group empty.
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        expect(False, "make %s: processes of the run still alive 60 s after Ctrl-C" % target)
        os.killpg(p.pid, signal.SIGKILL)
    took = time.time() - sent if sent else None
    return rc, took, "".join(seen) + rest, sent is not None


def interrupted(rc):
    # make dies of the signal (-SIGINT from Python; 130 in a shell)
    return rc in (130, -signal.SIGINT)


def whole(paths, what):
    for path in paths:
        try:
            with open(path) as f:
                json.load(f)
        except ValueError as e:
            expect(False, "%s: %s is not whole JSON: %s" % (what, path, e))


def leftovers(folder):
    return [p for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
            if ".tmp" in os.path.basename(p) or os.path.basename(p).startswith(".processes")
            or os.path.basename(p).startswith(".regress")]


def held_build(binary, tmp, name, hold):
    """A build folder for make bench whose pymembench, when one of its
    arguments starts with HOLD, first makes SIGINT end it (the default,
    whatever it inherited), creates FOLDER.mark and waits 60 s, then runs
    BINARY: the moment a Ctrl-C is meant for lasts until the signal comes,
    however late a loaded machine lets this test act (with the line it
    waited for as the only cue, a process of two cases had ended and
    written its file by then). (folder, mark)."""
    folder = os.path.join(tmp, name)
    fake_build(binary, tmp, name,
               "#!%s\nimport os, signal, sys, time\n"
               "if any(a.startswith(%r) for a in sys.argv[1:]):\n"
               "    signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
               "    open(%r, 'w').close()\n"
               "    time.sleep(60)\n"
               "os.execv(%r, [%r] + sys.argv[1:])\n"
               % (sys.executable, hold, folder + ".mark", binary, binary))
    return folder, folder + ".mark"


def bench(binary, python, tmp):
    base = make_env(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
                    PYTHONS=python, FILTER="^refcount/(c_increment|incdec_same/mortal)$",
                    PLOTS="0", HYPERFINE_RUNS="50")
    before = set(os.listdir(os.path.join(REPO, "results"))) \
        if os.path.isdir(os.path.join(REPO, "results")) else set()
    # the sizing process sizes with --benchmark_min_time; kept ones repeat
    # its loops (--iterations-from)
    sizing, sizing_mark = held_build(binary, tmp, "held-sizing", "--benchmark_min_time=")
    first, first_mark = held_build(binary, tmp, "held-first", "--iterations-from=")
    for moment, pattern, extra in (
            ("during the sizing process", "[sizing]",
             {"PROCESSES": "2", "HYPERFINE": "0", "BUILD": sizing}),
            ("before the first result file", "[process 1/2",
             {"PROCESSES": "2", "HYPERFINE": "0", "BUILD": first}),
            ("between rounds", "process round 1/2 done", {"PROCESSES": "2", "HYPERFINE": "0"}),
            # a target no case meets: round 3 gives the case 2 more processes
            ("in a later round", "[round 3, process 2/",
             {"PROCESSES": "2", "MAX_PROCESSES": "4", "TARGET": "0.0001", "BUDGET": "none",
              "CASE_BUDGET": "1000", "HYPERFINE": "0",
              "FILTER": "^refcount/c_increment$"}),
            ("during hyperfine", "hyperfine-runs: [1/", {"PROCESSES": "1"})):
        was = latest()
        env = dict(base, **extra)
        mark = {sizing: sizing_mark, first: first_mark}.get(env["BUILD"])
        rc, took, err, sent = interrupt("bench", pattern, env, mark)
        expect(sent, "bench %s: never saw %r:\n%s" % (moment, pattern, err[-1500:]))
        expect(interrupted(rc), "bench %s: exit %s, expected 130\n%s" % (moment, rc, err[-1500:]))
        expect("interrupted" in err, "bench %s: no line saying so" % moment)
        expect(latest() == was, "bench %s: results/latest moved from %s to %s"
               % (moment, was, latest()))
        # the run's folder, as the run named it (only that one is removed:
        # anything else in results/ is not this test's)
        m = re.search(r"are in (results/\d{8}-\d{6})/", err)
        made = [m.group(1)] if m else []
        files = [f for d in made for f in glob.glob(os.path.join(REPO, d, "*.json"))]
        if moment in ("during the sizing process", "before the first result file"):
            now = set(os.listdir(os.path.join(REPO, "results")))
            new = sorted(d for d in now - before if re.match(r"\d{8}-\d{6}$", d))
            expect(not made and not new, "bench %s: left %s in results/" % (moment, new))
        else:
            expect(len(files) == 1, "bench %s: %d result files kept\n%s"
                   % (moment, len(files), err[-1500:]))
        whole(files, "bench " + moment)
        if moment == "in a later round" and len(files) == 1:
            # the first pass's 2 processes and round 3's first, which had
            # ended when its second started; that one too if it ended
            # before the signal came (a loaded machine), but never fewer
            with open(files[0]) as f:
                doc = json.load(f)
            kept = doc.get("context", {}).get("processes")
            rows = {r.get("process_index") for r in doc.get("benchmarks", [])
                    if r.get("run_type") == "iteration"}
            expect(kept in (3, 4) and rows == set(range(kept)),
                   "bench %s: the file holds %s processes (rows of %s), not 3 or 4 (the "
                   "round's finished process was lost)" % (moment, kept, sorted(rows, key=str)))
        for d in made:
            left = leftovers(os.path.join(REPO, d))
            expect(not left, "bench %s: left behind %s" % (moment, left))
            shutil.rmtree(os.path.join(REPO, d), ignore_errors=True)
        print("bench, Ctrl-C %s: exit %s in %.2f s, %d whole file(s) kept, results/latest "
              "unchanged" % (moment, rc, took or -1, len(files)))


def stress(binary, python, tmp):
    out = os.path.join(tmp, "stress")
    env = make_env(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
                   PYTHONS=python, FILTER="^stress/refcount/", STRESS_SECONDS="5",
                   RESULTS=out)
    rc, took, err, sent = interrupt("stress", "allocator default", env)
    expect(sent and interrupted(rc), "stress: exit %s, expected 130\n%s" % (rc, err[-1500:]))
    whole(glob.glob(os.path.join(out, "*.json")), "stress")
    expect(not leftovers(out), "stress: left behind %s" % leftovers(out))
    print("stress, Ctrl-C during the first case: exit %s in %.2f s" % (rc, took or -1))


def regress(binary, python, tmp):
    out = os.path.join(tmp, "regress")
    env = make_env(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
                   PYTHONS=python, FILTER="^refcount/", RESULTS=out, PYMB_BASE_BIN=binary,
                   HISTORY=os.path.join(tmp, "history"))
    rc, took, err, sent = interrupt("regress", "counting instructions", env)
    expect(sent and interrupted(rc), "regress: exit %s, expected 130\n%s" % (rc, err[-1500:]))
    whole(glob.glob(os.path.join(out, "**", "*.json"), recursive=True), "regress")
    expect(not leftovers(out), "regress: left behind %s" % leftovers(out))
    expect(not os.path.exists(os.path.join(tmp, "history")), "regress: a history record "
           "was written by an interrupted run")
    print("regress, Ctrl-C while counting: exit %s in %.2f s" % (rc, took or -1))


def main():
    if len(sys.argv) != 3:
        print("usage: check_ctrl_c.py BINARY PYTHON")
        return 2
    binary, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        bench(binary, python, tmp)
        stress(binary, python, tmp)
        regress(binary, python, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
