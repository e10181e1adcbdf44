#!/usr/bin/env python3
"""oom-statement.py STATEMENT [SETUP] [SECONDS] - does STATEMENT leak when
one of its allocations fails? A reproducer, outside pymembench, of a leak
`make stress` finds in one C call (scripts/repro/known.json names the
statement per entry), e.g.

    python3.11 scripts/repro/oom-statement.py "array.array('q', range(8))" "import array"

For N = 1, 2, ...: a fresh interpreter (this file, run as a child) runs
SETUP, runs STATEMENT twice to warm up and three times more to see what the
bookkeeping keeps per run, makes allocation N of the next run fail
(_testcapi.set_nomemory), runs it three times so (the first may fill a
cache), and prints how many memory blocks (sys.getallocatedblocks(), after a
collection, less the bookkeeping's) the second and third faulted runs each
left. A leak is a count above 0 in both. Stops when STATEMENT no longer fails (N is past its last
allocation). A child that dies of a signal, or whose interpreter raises
out of its own machinery afterwards (SystemError from _testcapi), crashed
or broke the interpreter. Exit 1 when some N leaked or crashed, naming the
first; 0 when none did; 2 without _testcapi, with bad arguments, or when
the statement fails with nothing failed.
"""
import subprocess
import sys
import time


def child(statement, setup, n):
    import gc
    import _testcapi

    env = {"__name__": "oom"}
    exec(setup, env)
    code = compile(statement, "<statement>", "exec")
    exec(code, env)
    exec(code, env)

    def faulted(fail=True):
        if fail:
            _testcapi.set_nomemory(n, n + 1)
        try:
            exec(code, env)
            outcome = "ok"
        except MemoryError:
            outcome = "MemoryError"
        except Exception as e:  # a failed allocation misreported
            outcome = type(e).__name__
        finally:
            _testcapi.remove_mem_hooks()
        gc.collect()
        return outcome, sys.getallocatedblocks()

    # what the bookkeeping itself keeps per run (the counts are ints held
    # here): the same runs with no allocation failed
    clean = [faulted(fail=False)[1] for _ in range(3)]
    control = min(clean[1] - clean[0], clean[2] - clean[1])
    outcome, first = faulted()
    _, second = faulted()
    _, third = faulted()
    leaked = min(second - first, third - second) - control
    print("%s %d %d" % (outcome, max(leaked, 0), control))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__.split("\n\n")[0] + "\n")
        return 2
    statement = sys.argv[1]
    setup = sys.argv[2] if len(sys.argv) > 2 else ""
    try:
        limit = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    except ValueError:
        sys.stderr.write("oom-statement: SECONDS=%r is not a number of seconds\n" % sys.argv[3])
        return 2
    try:
        import _testcapi  # noqa: F401
    except ImportError:
        sys.stderr.write("oom-statement: this Python has no _testcapi module\n")
        return 2
    # the statement and its setup must run when nothing fails
    p = subprocess.run([sys.executable, __file__, "--child", statement, setup, str(10 ** 9)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("oom-statement: the statement fails with no allocation failed:\n%s"
                         % p.stderr[-2000:])
        return 2
    start = time.time()
    leaks, crashes, outcomes, n = [], [], {}, 0
    while time.time() - start < limit:
        n += 1
        p = subprocess.run([sys.executable, __file__, "--child", statement, setup, str(n)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            # a signal (negative), or an error escaping the interpreter's
            # own machinery after the failure (e.g. SystemError): broken
            crashes.append((n, p.returncode))
            continue
        outcome, leaked, _ = p.stdout.split()
        if outcome == "ok":
            break  # past the statement's last allocation
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if int(leaked) > 0:
            leaks.append((n, outcome, int(leaked)))
    print("Python %s: %s: %d allocations failed one at a time: %s; %d leaked blocks on every "
          "repeat%s; %d crashed or broke the interpreter%s"
          % (sys.version.split()[0], statement, n - 1,
             ", ".join("%s %d" % kv for kv in sorted(outcomes.items())), len(leaks),
             " (allocation %d: %s, %d block(s) per repeat)" % leaks[0] if leaks else "",
             len(crashes), " (allocation %d: exit %d)" % crashes[0] if crashes else ""))
    return 1 if leaks or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
