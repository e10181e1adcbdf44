#!/usr/bin/env python3
"""check_embed.py BINARY LIBDIR - embedding works as the README promises:
every allocator this Python provides starts (and is recorded in the
context), one it cannot provide exits 2 with one clear line, bad usage exits
2, the binary finds its own libpython without LD_LIBRARY_PATH,
--memhook=off drops the hook's counters and --memhook=both gives each case
with and without them."""
import json
import os
import re
import subprocess
import sys
import tempfile

problems = []


def run(binary, *args):
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    return subprocess.run([binary] + list(args), capture_output=True, text=True, env=env)


def run_json(binary, tmp, *args):
    """Run briefly with `args`; the result document, or None (noted) on failure."""
    out = os.path.join(tmp, "run.json")
    p = run(binary, "--benchmark_min_time=0.001", "--benchmark_out=" + out, *args)
    expect(p.returncode == 0, "%s: exit %d %r" % (" ".join(args), p.returncode, p.stderr))
    if p.returncode != 0:
        return None
    with open(out) as f:
        return json.load(f)


def expect(cond, msg):
    if not cond:
        problems.append(msg)


def main(binary, libdir):
    version = run(binary, "--version").stdout
    m = re.search(r"Python (\d+)\.(\d+)", version)
    if not m:
        print("FAIL: --version printed %r" % version)
        return 1
    ver = (int(m.group(1)), int(m.group(2)))
    free_threaded = re.search(r"cpython-[\d.]+t\b", version) is not None
    supported = {"default", "malloc", "debug"}
    if not free_threaded:
        supported.add("pymalloc")
    if ver >= (3, 13):
        supported.add("mimalloc")

    with tempfile.TemporaryDirectory() as tmp:
        for alloc in ("default", "pymalloc", "malloc", "mimalloc", "debug"):
            out = os.path.join(tmp, alloc + ".json")
            p = run(binary, "--allocator=" + alloc, "--benchmark_filter=^refcount/c_increment$",
                    "--benchmark_min_time=0.001", "--benchmark_out=" + out)
            if alloc in supported:
                expect(p.returncode == 0, "%s: exit %d, stderr %r" % (alloc, p.returncode, p.stderr))
                if p.returncode == 0:
                    with open(out) as f:
                        ctx = json.load(f)["context"]
                    expect(ctx.get("allocator") == alloc, "%s: context says %r"
                           % (alloc, ctx.get("allocator")))
            else:
                lines = p.stderr.strip().splitlines()
                expect(p.returncode == 2, "%s should be refused with exit 2, got %d"
                       % (alloc, p.returncode))
                expect(len(lines) == 1 and "not available" in lines[0],
                       "%s: expected one 'not available' line, got %r" % (alloc, p.stderr))
                expect(not os.path.exists(out), "%s: a result file was left behind" % alloc)
            expect(not [f for f in os.listdir(tmp) if ".tmp." in f],
                   "%s: a temporary file was left behind" % alloc)

        doc = run_json(binary, tmp, "--memhook=off",
                       "--benchmark_filter=^refcount/incdec_same/mortal$")
        if doc:
            row = doc["benchmarks"][0]
            expect(doc["context"]["memhook"] == "off" and "allocs_per_iter" not in row
                   and "rss_bytes" in row, "--memhook=off: counters wrong: %r" % row)
        doc = run_json(binary, tmp, "--memhook=both", "--benchmark_filter=^refcount/list_build/1/")
        if doc:
            rows = {r["name"]: r for r in doc["benchmarks"]}
            on = rows.get("refcount/list_build/1/memhook:on", {})
            off = rows.get("refcount/list_build/1/memhook:off", {})
            # the collection after each case empties freelists: one refill per
            # run, counted in allocations (a loaded machine may give few iterations)
            extra = (on.get("allocs_per_iter", 0) - 1) * on.get("iterations", 0)
            expect(-0.5 < extra < 1.5 and off and "allocs_per_iter" not in off,
                   "--memhook=both: rows %r, %r allocations per iteration over %r iterations"
                   % (sorted(rows), on.get("allocs_per_iter"), on.get("iterations")))

    for args, what in ((["--allocator=bogus"], "unknown allocator"),
                       (["--frobnicate"], "unknown option"),
                       (["--benchmark_format=bogus"], "invalid value"),
                       (["--benchmark_filter=^no_such_case$"], "no case matches")):
        p = run(binary, *args)
        lines = p.stderr.strip().splitlines()
        expect(p.returncode == 2 and len(lines) >= 1 and what in lines[-1],
               "%s: expected exit 2 and %r, got %d %r" % (args, what, p.returncode, p.stderr))

    # --list applies Google Benchmark's filter rules: a match, a negation
    every = [line.split()[0] for line in run(binary, "--list").stdout.splitlines()]
    some = [line.split()[0] for line in
            run(binary, "--list", "--benchmark_filter=^gc/collect/").stdout.splitlines()]
    rest = [line.split()[0] for line in
            run(binary, "--list", "--benchmark_filter=-^gc/collect/").stdout.splitlines()]
    expect(some and all(n.startswith("gc/collect/") for n in some)
           and sorted(some + rest) == sorted(every) and not set(some) & set(rest),
           "--list with a filter: %d selected, %d left, of %d" % (len(some), len(rest), len(every)))
    p = run(binary, "--list", "--benchmark_filter=((")
    expect(p.returncode == 2 and not p.stdout and len(p.stderr.strip().splitlines()) == 1
           and "not a valid regular expression" in p.stderr,
           "--list with a bad filter: exit %d, %r" % (p.returncode, p.stderr))

    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    lib = re.search(r"libpython\S*\s+=>\s+(\S+)", ldd)
    expect(lib is not None and os.path.realpath(os.path.dirname(lib.group(1)))
           == os.path.realpath(libdir),
           "libpython resolves to %s, expected a file in %s" % (lib and lib.group(1), libdir))

    for p in problems:
        print("FAIL: " + p)
    if not problems:
        print("ok: allocators %s start, the others exit 2; usage errors exit 2; "
              "libpython from %s" % (" ".join(sorted(supported)), libdir))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
