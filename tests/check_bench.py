#!/usr/bin/env python3
"""check_bench.py BINARY PYTHON - make bench's crash isolation, Ctrl-C and
bad input, on binaries already built (PYMB_PREBUILT=1, so the test never
rebuilds the tree it runs from).

1. A case that crashes (selftest/crash/*, PYMB_SELFTEST=1) is named with its
   signal, the process runs again without it, the other cases are measured
   in every process, the crashed ones have an error row; exit 1. Both
   processes run the sizing process's loops (the same iterations in every
   row).
2. SIGINT to the whole process group (what Ctrl-C sends) in the middle of a
   run: exit 130, the finished processes kept as whole JSON, no temporary
   files or part folders left.
3. Bad input: one line on stderr, exit 2, nothing written.
4. Two configurations of two processes each: every process runs the loops
   of the run's sizing process (one iteration count per case), which ran
   once, for the first configuration, and is not kept.
5. A run whose given BUDGET is spent before its first pass ends (BUDGET=0)
   stops that pass after 3 of its 4 processes, and says so; with PROCESSES
   given, the pass runs in full.
6. SIGTERM to the script alone (kill, a CI timeout) while a process runs:
   that process finishes and is kept (exit 130, the file holds it).
7. A later round's processes are merged at the round's end, all at once;
   when one of them left a broken result file, the others are still merged,
   the broken one is named, the configuration gets no more processes, and
   the run exits 1.
"""
import glob
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from pmbtest import expect, failed, fake_build  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "scripts", "bench")


def env_for(binary, python, results, **extra):
    env = dict(os.environ)
    for k in ("FILTER", "ALLOCATORS", "SUITE", "PROCESSES", "BASE", "BENCHMARK_FILTER"):
        env.pop(k, None)
    env.update(PYMB_PREBUILT="1", BUILD=os.path.dirname(os.path.dirname(binary)),
               PYTHONS=python, RESULTS=results, HYPERFINE="0")
    env.update(extra)
    return env


def crashes(binary, python, tmp):
    results = os.path.join(tmp, "crash")
    p = subprocess.run([BENCH], capture_output=True, text=True, timeout=600,
                       env=env_for(binary, python, results, PYMB_SELFTEST="1", PROCESSES="2",
                                   FILTER="^selftest/(crash/abort|crash/segv|leak/object_per_round)$"))
    expect(p.returncode == 1, "crash: exit %d, expected 1\n%s" % (p.returncode, p.stderr[-3000:]))
    for sig, case in (("SIGABRT", "crash/abort"), ("SIGSEGV", "crash/segv")):
        expect("case selftest/%s crashed (%s)" % (case, sig) in p.stderr,
               "crash: no line naming selftest/%s and %s" % (case, sig))
    files = [f for f in glob.glob(os.path.join(results, "*.json")) if not f.endswith(".md.json")]
    expect(len(files) == 1, "crash: %d result files" % len(files))
    if not files:
        return
    with open(files[0]) as f:
        rows = json.load(f)["benchmarks"]
    by_name = {}
    for r in rows:
        if r.get("run_type") == "iteration":
            by_name.setdefault(r["run_name"], []).append(r)
    ok = by_name.get("selftest/leak/object_per_round", [])
    expect(len(ok) >= 2 and not any(r.get("error_occurred") for r in ok),
           "crash: the surviving case has %d rows (errors: %s)"
           % (len(ok), [r.get("error_message") for r in ok]))
    expect(sorted({r.get("process_index") for r in ok}) == [0, 1],
           "crash: the surviving case was not measured in both processes")
    # both processes ran the sizing process's loops (--iterations-from)
    expect(len({r.get("iterations") for r in ok}) == 1,
           "crash: the processes ran different loops: %s" % [r.get("iterations") for r in ok])
    for case in ("selftest/crash/abort", "selftest/crash/segv"):
        got = by_name.get(case, [])
        expect(got and all(r.get("error_occurred") and "crashed an earlier process"
                           in r.get("error_message", "") for r in got),
               "crash: %s rows: %s" % (case, [r.get("error_message") for r in got]))
    print("crash isolation: both crashes named with their signal; the other case measured in "
          "2 processes; the crashed ones have error rows")


def interrupt(binary, python, tmp):
    results = os.path.join(tmp, "interrupt")
    proc = subprocess.Popen([BENCH], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env=env_for(binary, python, results, PROCESSES="200",
                                        FILTER="^refcount/(c_increment|incdec_same/mortal)$"))
    deadline = time.time() + 300
    while time.time() < deadline and not glob.glob(os.path.join(results, "cpython-*.json")):
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # into a later process
    if proc.poll() is not None:
        out, err = proc.communicate()
        expect(False, "interrupt: the run ended (exit %s) before Ctrl-C was sent\n%s"
               % (proc.returncode, err[-2000:]))
        return
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole group
    out, err = proc.communicate(timeout=120)
    expect(proc.returncode == 130, "interrupt: exit %s, expected 130\n%s" % (proc.returncode, err[-2000:]))
    expect("interrupted" in err, "interrupt: no message saying so:\n" + err[-1000:])
    files = glob.glob(os.path.join(results, "cpython-*.json"))
    expect(len(files) == 1, "interrupt: %d result files kept" % len(files))
    procs = set()
    for f in files:
        with open(f) as fh:
            doc = json.load(fh)  # whole JSON, or this raises
        procs = {r.get("process_index") for r in doc["benchmarks"]
                 if r.get("run_type") == "iteration"}
    expect(len(procs) >= 1 and None not in procs,
           "interrupt: the kept file holds no whole process (process_index %s)" % sorted(procs, key=str))
    leftovers = glob.glob(os.path.join(results, ".processes.*")) + \
        glob.glob(os.path.join(results, "*.tmp*"))
    expect(not leftovers, "interrupt: left behind: %s" % leftovers)
    print("Ctrl-C: exit 130, %d whole process(es) kept, nothing left half-written" % len(procs))


def bad_input(binary, python, tmp):
    blocked = os.path.join(tmp, "a-file")
    with open(blocked, "w") as f:
        f.write("not a folder\n")
    cases = [
        ({"SUITE": "huge"}, "unknown SUITE"),
        ({"PROCESSES": "three"}, "PROCESSES"),
        ({"PYTHONS": "/nonexistent/python3"}, "matches no interpreter"),
        ({"FILTER": "^no_such_case$"}, "matches no case; the families are"),
        ({"ALLOCATORS": "default bogus"}, "unknown allocator 'bogus'"),
        ({"RESULTS": os.path.join(blocked, "run")}, "cannot write in"),
    ]
    for extra, want in cases:
        results = extra.get("RESULTS", os.path.join(tmp, "bad"))
        env = env_for(binary, python, results)
        env.update(extra)
        p = subprocess.run([BENCH], capture_output=True, text=True, timeout=300, env=env)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        expect(p.returncode == 2, "%s: exit %d, expected 2" % (extra, p.returncode))
        expect(len(lines) == 1 and want in lines[0],
               "%s: stderr %r, expected one line with %r" % (extra, p.stderr[-1500:], want))
        expect(not os.path.exists(os.path.join(tmp, "bad")), "%s: something was written" % extra)
        print("bad input %s: %s" % (" ".join("%s=%s" % kv for kv in extra.items()),
                                    lines[0] if lines else "(nothing)"))


def refused_cells(binary, python, tmp):
    """Every cell refused (a preload library hidden): exit 2, a line
    saying why, no results folder left behind."""
    results = os.path.join(tmp, "refused")
    env = env_for(binary, python, results, ALLOCATORS="malloc+jemalloc",
                  PYMB_LIBDIRS="/nonexistent", FILTER="^refcount/c_increment$")
    p = subprocess.run([BENCH], capture_output=True, text=True, timeout=300, env=env)
    expect(p.returncode == 2, "every cell refused: exit %d, expected 2\n%s"
           % (p.returncode, p.stderr[-1500:]))
    expect("bench: skipped" in p.stderr and "malloc+jemalloc" in p.stderr,
           "every cell refused: no line saying why:\n" + p.stderr[-1500:])
    expect(not os.path.exists(results), "every cell refused: %s was left behind" % results)
    print("every cell refused: exit 2, the reason said, no folder left")


def shared_loops(binary, python, tmp):
    """Two configurations (allocators default and malloc), 2 processes
    each: every process of both runs the loops of the run's sizing
    process, so that neither configuration is timed at loops of its own (a
    case's time per iteration can depend on how many it runs). The sizing
    process ran once, for the first configuration (its log), and none of
    its rows is kept (4 processes a case)."""
    results = os.path.join(tmp, "loops")
    p = subprocess.run([BENCH], capture_output=True, text=True, timeout=600,
                       env=env_for(binary, python, results, PROCESSES="2",
                                   ALLOCATORS="default malloc", PLOTS="0",
                                   FILTER="^refcount/(c_increment|clear|incdec_same/mortal)$"))
    expect(p.returncode == 0, "loops: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
    its, procs, counted = {}, {}, set()
    files = [f for f in glob.glob(os.path.join(results, "*.json")) if not f.endswith(".md.json")]
    for f in files:
        with open(f) as fh:
            doc = json.load(fh)
        # each configuration counted in its first process only
        expect(doc["context"].get("memhook_by_process") == ["on", "off"],
               "loops: %s: memhook_by_process %r" % (f, doc["context"].get("memhook_by_process")))
        for r in doc["benchmarks"]:
            if r.get("run_type") == "iteration" and not r.get("error_occurred"):
                its.setdefault(r["run_name"], set()).add(r["iterations"])
                procs.setdefault(r["run_name"], set()).add((f, r.get("process_index")))
                if "allocs_per_iter" in r:
                    counted.add(r.get("process_index"))
    expect(len(files) == 2 and counted == {0}, "loops: hook counters in processes %s of %d files"
           % (sorted(counted), len(files)))
    expect(len(its) == 3 and all(len(v) == 1 for v in its.values())
           and all(len(v) == 4 for v in procs.values()),
           "loops: iterations per case %s in processes %s" % (its, procs))
    sized = sorted(os.path.basename(f)
                   for f in glob.glob(os.path.join(results, "logs", "*.0.log")))
    expect(len(sized) == 1 and sized[0].endswith("-default.0.log")
           and "[sizing]" in p.stderr, "loops: sizing logs %s" % sized)
    r = subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts", "validate-results")] + files,
                       capture_output=True, text=True)
    expect(r.returncode == 0, "loops: validate-results: exit %d %s%s"
           % (r.returncode, r.stdout[-1000:], r.stderr))
    print("shared loops: 3 cases x 2 allocators x 2 processes, one iteration count per case, "
          "one sizing process, not kept; each configuration counted in its first process, "
          "validate-results passes")


def first_pass_cut(binary, python, tmp):
    """A given BUDGET stops the first pass after 3 processes when another
    round of it would end after the run's budget (here BUDGET=0: at once);
    PROCESSES given runs every one. No timing decides either: a budget of
    0 s is spent whatever the machine's pace."""
    flt = "^refcount/c_increment$"
    for extra, want in (({}, 3), ({"PROCESSES": "4", "MAX_PROCESSES": "4"}, 4)):
        results = os.path.join(tmp, "cut%d" % want)
        p = subprocess.run([BENCH], capture_output=True, text=True, timeout=600,
                           env=env_for(binary, python, results, BUDGET="0", PLOTS="0",
                                       FILTER=flt, **extra))
        expect(p.returncode == 0, "first pass cut %s: exit %d\n%s"
               % (extra, p.returncode, p.stderr[-2000:]))
        files = [f for f in glob.glob(os.path.join(results, "*.json"))
                 if not f.endswith(".md.json")]
        got = None
        if len(files) == 1:
            with open(files[0]) as fh:
                got = json.load(fh)["context"].get("processes")
        said = "first pass stopped after 3 of 4 processes" in p.stderr
        expect(got == want and said == (want == 3),
               "first pass cut %s: %s processes (want %d), said so: %s\n%s"
               % (extra, got, want, said, p.stderr[-1500:]))
    print("first pass cut: BUDGET=0 stops it after 3 of 4 processes and says so; "
          "PROCESSES=4 runs all 4")


def wrapped(binary, tmp, name, nth):
    """A build folder for make bench whose pymembench runs BINARY, then, on
    its NTH run that wrote a result file, runs NTH's shell lines (with $out,
    that file): a process made to misbehave at a known point. The path of
    the wrapper; the runs are counted in a file beside it."""
    fake = os.path.join(tmp, name)
    return fake_build(binary, tmp, name,
                      '#!/usr/bin/env bash\n%s "$@"\nrc=$?\n'
                      'for a in "$@"; do case $a in --benchmark_out=*) out=${a#*=} ;; esac; done\n'
                      'if [ -n "${out:-}" ] && [ -f "$out" ]; then\n'
                      '  echo x >>%s\n'
                      '  if [ "$(wc -l <%s)" = %d ]; then\n%s\n  fi\nfi\nexit $rc\n'
                      % (shlex.quote(binary), shlex.quote(fake + ".count"),
                         shlex.quote(fake + ".count"), nth[0], nth[1]))[1]


def term_alone(binary, python, tmp):
    """SIGTERM to bench alone during its second process (which a wrapper
    keeps running 3 s after its results are written, and says when): the
    process, not signalled, finishes, and the trap must find it and merge
    it. Nothing waits a set time: the signal follows the wrapper's mark."""
    mark = os.path.join(tmp, "term.mark")
    # (its third run: the first is the sizing process)
    wrapper = wrapped(binary, tmp, "termbuild", (3, "touch %s; sleep 3" % shlex.quote(mark)))
    results = os.path.join(tmp, "term")
    proc = subprocess.Popen([BENCH], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env=env_for(wrapper, python, results, PROCESSES="3", PLOTS="0",
                                        FILTER="^refcount/(c_increment|clear|new_ref)$"))
    sent = False
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(mark):
            os.kill(proc.pid, signal.SIGTERM)
            sent = True
            break
        time.sleep(0.02)
    err = proc.communicate(timeout=300)[1]
    kept = None
    for f in glob.glob(os.path.join(results, "cpython-*.json")):
        with open(f) as fh:
            kept = json.load(fh)["context"].get("processes")
    expect(sent and proc.returncode == 130 and kept == 2,
           "TERM to bench alone: sent %s, exit %s, the file holds %s processes (want 2)\n%s"
           % (sent, proc.returncode, kept, err[-1500:]))
    print("TERM to bench alone during process 2: exit 130, the file holds both processes")


def broken_part(binary, python, tmp):
    """The binary behind a wrapper that cuts its fifth result file short:
    the sizing process, the first pass's 2 processes, then round 3's two,
    of which the second is broken."""
    wrapper = wrapped(binary, tmp, "brokenbuild",
                      (5, 'head -c 100 "$out" >"$out.cut" && mv "$out.cut" "$out"'))
    results = os.path.join(tmp, "broken")
    p = subprocess.run([BENCH], capture_output=True, text=True, timeout=600,
                       env=env_for(wrapper, python, results, PLOTS="0", PROCESSES="2",
                                   MAX_PROCESSES="6", TARGET="0.0001", BUDGET="none",
                                   CASE_BUDGET="1000", FILTER="^refcount/c_increment$"))
    files = [f for f in glob.glob(os.path.join(results, "*.json")) if not f.endswith(".md.json")]
    procs = None
    if len(files) == 1:
        with open(files[0]) as fh:
            doc = json.load(fh)
        procs = sorted({r["process_index"] for r in doc["benchmarks"]
                        if r.get("run_type") == "iteration"})
    named = ".4.json: cannot read" in p.stderr and "could not merge every process" in p.stderr
    expect(p.returncode == 1 and procs == [0, 1, 2] and named and "[round 4" not in p.stderr,
           "broken part: exit %d, processes %s, named %s\n%s"
           % (p.returncode, procs, named, p.stderr[-1500:]))
    print("broken part: round 3's sound process merged without it (processes 0-2 kept), the "
          "broken one named, no round 4, exit 1")


def main(binary, python):
    with tempfile.TemporaryDirectory() as tmp:
        if os.environ.get("PYMB_SANITIZE") == "1":
            # AddressSanitizer takes the fatal signals and reports them its
            # own way: pymembench's crash line is not printed there.
            print("crash isolation: skipped under sanitizers (ASan owns SIGSEGV)")
        else:
            crashes(binary, python, tmp)
        shared_loops(binary, python, tmp)
        first_pass_cut(binary, python, tmp)
        broken_part(binary, python, tmp)
        term_alone(binary, python, tmp)
        interrupt(binary, python, tmp)
        bad_input(binary, python, tmp)
        refused_cells(binary, python, tmp)
    if not failed():
        print("ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
