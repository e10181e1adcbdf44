#!/usr/bin/env python3
"""check_cases.py BINARY - run test_cases and check what reached its JSON:
exact counters from a counted pass while the timed loop ran without the hook
(and, with TEST_HOOK_BOTH=1, a /memhook:on row that times with it), error
rows for failed checks, leaks, skips and unreleased exports."""
import json
import os
import subprocess
import sys
import tempfile


def run(binary, tmp, both, *flags, hook_in_main=1, pins=None):
    out = os.path.join(tmp, "cases%d%d%d.json" % (both, hook_in_main, pins is not None))
    env = dict(os.environ, TEST_HOOK_BOTH=str(both), TEST_HOOK_IN_MAIN=str(hook_in_main))
    if pins is not None:
        env["TEST_ITERATIONS_FROM"] = pins
    p = subprocess.run([binary, "--benchmark_min_time=0.01", "--benchmark_out=" + out] +
                       list(flags), capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print("FAIL: exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
        return p, None
    with open(out) as f:
        rows = json.load(f)["benchmarks"]
    # by name; the repetitions of a row (same name) in order under "*"
    by_name = {r["name"]: r for r in rows}
    by_name["*"] = [r for r in rows if r.get("run_type") == "iteration"]
    return p, by_name


def check_both(rows, problems):
    """--memhook=both: the :on row times with the hook in (the counter that
    says the timed loop ran without it can fail), the :off row without, and
    only the :on row has the hook's counters."""
    on = rows.get("t/two_allocs/3/memhook:on", {})
    off = rows.get("t/two_allocs/3/memhook:off", {})
    if on.get("hook_in_timed_loop") != 1 or on.get("allocs_per_iter") != 2:
        problems.append("memhook:on row: %r" % on)
    if off.get("hook_in_timed_loop") != 0 or "allocs_per_iter" in off:
        problems.append("memhook:off row: %r" % off)


def check_counted_once(p, rows, problems):
    """A count() case: exact counters in every repetition's row, from one
    count() call in the process (Google Benchmark ran the case at least
    three times: once per repetition, and more while it sized the loop)."""
    reps = rows["*"]
    if len(reps) != 3 or any(r.get("allocs_per_iter") != 2 or r.get("bytes_per_iter") != 200
                             or r.get("error_occurred") for r in reps):
        problems.append("counted_once: rows %r" % reps)
    if "count_calls=1\n" not in p.stdout:
        problems.append("counted_once: count() was not called once: %r" % p.stdout)


def check_setups(name, p, rows, problems, hooked, figure):
    """A count() case's rows and its setups, as main printed them: exact
    counters in each of 3 repetitions (and the setup's figure, if any), one
    count() call, 3 setups or more of which `hooked` ran under the hook."""
    reps = rows["*"]
    if len(reps) != 3 or any(r.get("allocs_per_iter") != 2 or r.get("bytes_per_iter") != 200
                             or r.get("setup_figure") != figure or r.get("error_occurred")
                             for r in reps):
        problems.append("%s: rows %r" % (name, reps))
    line = [x for x in p.stdout.splitlines() if x.startswith("setups=")]
    fields = dict(f.split("=") for f in line[0].split()) if line else {}
    if fields.get("hooked_setups") != str(hooked) or int(fields.get("setups", "0")) < 3 \
            or "count_calls=1\n" not in p.stdout:
        problems.append("%s: %d setup(s) under the hook and one count() expected in 3 runs or "
                        "more: %r" % (name, hooked, p.stdout))


def check_setup_measured(p, rows, problems):
    """The hook in only where the engine puts it (as in make bench): the
    row's first run counts it, setup included (its figure: one 100-byte
    block); its later runs set up without the hook, reuse the counts and
    keep the figure, so every repetition's row has both."""
    check_setups("measured_in_setup", p, rows, problems, 1, 100)


def check_setup_unhooked(p, rows, problems):
    """A count() case without counts_setup: no setup of it ran under the
    hook (the hook is in for count() alone), and its counters are exact."""
    check_setups("setup_unhooked", p, rows, problems, 0, None)


def check_setup_not_measured(rows, problems):
    """--memhook=both: the :off row's setup has no hook and no figure of
    the :on row's."""
    off = rows.get("t/measured_in_setup/memhook:off", {})
    on = rows.get("t/measured_in_setup/memhook:on", {})
    if "setup_figure" in off or on.get("setup_figure") != 100:
        problems.append("measured_in_setup in memhook:on/off rows: %r %r" % (on, off))


def check_pinned(rows, problems):
    """--iterations-from: the row ran exactly the iterations the file gave
    in every repetition, kept its own name (Google Benchmark would name it
    t/two_allocs/3/iterations:1230), and the anchored filter still chose
    it and nothing else."""
    reps = rows["*"]
    if len(reps) != 3 or any(r.get("iterations") != 1230 or r.get("name") != "t/two_allocs/3"
                             or r.get("run_name") != "t/two_allocs/3" for r in reps):
        problems.append("pinned: rows %r" % reps)


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        p, rows = run(binary, tmp, 0)
        if rows is None:
            return 1
        _, both = run(binary, tmp, 1)
        if both is None:
            return 1
        once, counted = run(binary, tmp, 0, "--benchmark_filter=^t/counted_once$",
                            "--benchmark_repetitions=3")
        if counted is None:
            return 1
        measured, setup_rows = run(binary, tmp, 0, "--benchmark_filter=^t/measured_in_setup$",
                                   "--benchmark_repetitions=3", hook_in_main=0)
        if setup_rows is None:
            return 1
        unhooked, unhooked_rows = run(binary, tmp, 0, "--benchmark_filter=^t/setup_unhooked$",
                                      "--benchmark_repetitions=3", hook_in_main=0)
        if unhooked_rows is None:
            return 1
        pins = os.path.join(tmp, "pins")
        with open(pins, "w") as f:
            f.write("# name iterations\nt/two_allocs/3 1230\nt/no_such_row 5\n")
        _, pinned = run(binary, tmp, 0, "--benchmark_filter=^t/two_allocs/3$",
                        "--benchmark_repetitions=3", pins=pins)
        if pinned is None:
            return 1
    problems = []
    check_counted_once(once, counted, problems)
    check_setup_measured(measured, setup_rows, problems)
    check_setup_unhooked(unhooked, unhooked_rows, problems)
    check_setup_not_measured(both, problems)
    check_pinned(pinned, problems)
    ok = rows.get("t/two_allocs/3", {})
    if ok.get("allocs_per_iter") != 2 or ok.get("frees_per_iter") != 2 \
            or ok.get("bytes_per_iter") != 200 or ok.get("error_occurred"):
        problems.append("two_allocs: counters %r" % ok)
    if ok.get("hook_in_timed_loop") != 0:
        problems.append("two_allocs: the timed loop ran with the counting hook in: %r" % ok)
    check_both(both, problems)
    for name, text in (("t/leaks", "check failed: "), ("t/fails", "check failed: deliberately"),
                       ("t/skips", "skipped: not on this interpreter"),
                       ("t/keeps_export", "left 1 buffer export(s) unreleased")):
        msg = rows.get(name, {}).get("error_message", "")
        if not rows.get(name, {}).get("error_occurred") or not msg.startswith(text):
            problems.append("%s: error_message %r, expected %r" % (name, msg, text))
    after = rows.get("t/after_export", {})
    if not after or after.get("error_occurred"):
        problems.append("after_export was blamed for an earlier case's export: %r" % after)
    if "failures=3" not in p.stdout:
        problems.append("expected 3 failures (leak, check, export), got %r" % p.stdout)
    for prob in problems:
        print("FAIL: " + prob)
    if not problems:
        print("ok: exact per-iteration counters from the counted pass, the timed loop "
              "without the hook (with it in memhook:on rows); failed checks, leaks, skips and "
              "unreleased exports reported; count() once per row and process, its setup under the "
              "hook only then, the figure it measured kept; --iterations-from's loops run under the "
              "row's own name")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
