#!/usr/bin/env python3
"""oom-compile.py [SECONDS] - does compile()+exec() of a small module leak
when one of its allocations fails? A reproducer, outside pymembench, of the
leaks `make stress` finds when a fault lands in a snippet's compilation.

For N = 1, 2, ...: a fresh interpreter (this file, run as a child with N)
compiles and runs the snippet once to warm up, counts the objects the
collector tracks, makes allocation N fail (_testcapi.set_nomemory), compiles
and runs the snippet again, and counts again after a collection. Stops when
the snippet no longer fails (N is past its last allocation). Exit 1 when some
N left objects behind, naming them; exit 2 without _testcapi.
"""
import subprocess
import sys
import time

SRC = """
from itertools import repeat
def callee(a, b, c):
    return c
def bench(n, x):
    f = callee
    r = None
    for _ in repeat(None, n):
        r = f(x, x, x)
    return r
"""


def child(n):
    import gc
    import _testcapi

    def run():
        exec(compile(SRC, "<snippet>", "exec"), {"__name__": "snippet"})

    run()
    gc.collect()
    before = len(gc.get_objects())
    _testcapi.set_nomemory(n, n + 1)
    try:
        run()
        outcome = "ok"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as e:  # a failed allocation misreported
        outcome = type(e).__name__
    finally:
        _testcapi.remove_mem_hooks()
    gc.collect()
    new = len(gc.get_objects()) - before
    print("%s %d" % (outcome, new))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
        return 0
    try:
        import _testcapi  # noqa: F401
    except ImportError:
        sys.stderr.write("oom-compile: this Python has no _testcapi module\n")
        return 2
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0
    start = time.time()
    leaks, crashes, outcomes, n = [], [], {}, 0
    while time.time() - start < limit:
        n += 1
        p = subprocess.run([sys.executable, __file__, "--child", str(n)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            crashes.append((n, p.returncode))
            continue
        outcome, new = p.stdout.split()
        if outcome == "ok":
            break  # past the snippet's last allocation
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if int(new) > 0:
            leaks.append((n, outcome, int(new)))
    print("Python %s: %d allocations failed one at a time: %s; %d left objects behind%s; "
          "%d crashed the interpreter%s"
          % (sys.version.split()[0], n - 1,
             ", ".join("%s %d" % kv for kv in sorted(outcomes.items())), len(leaks),
             " (allocation %d: %s, %d objects)" % leaks[0] if leaks else "",
             len(crashes), " (allocation %d: exit %d)" % crashes[0] if crashes else ""))
    return 1 if leaks or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
