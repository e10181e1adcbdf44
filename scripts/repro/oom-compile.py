#!/usr/bin/env python3
"""oom-compile.py [SECONDS] - does compile()+exec() of a small module leak
or crash when one of its allocations fails? A reproducer, outside
pymembench, of the leaks and crashes `make stress` finds when a fault lands
in a snippet's compilation (scripts/repro/known.json:
cpython-compile-oom-leak, cpython-compile-oom-crash).

It is oom-statement.py on one statement: each allocation of compiling and
running SRC fails in turn, in a fresh interpreter each, and what the
repeats leave (memory blocks) or a crash is reported. Exit 1 when some
allocation leaked or crashed the interpreter; 2 without _testcapi.
"""
import os
import subprocess
import sys

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


def main():
    seconds = sys.argv[1] if len(sys.argv) > 1 else "120"
    statement = "exec(compile(SRC, '<snippet>', 'exec'), {'__name__': 'snippet'})"
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.call([sys.executable, os.path.join(here, "oom-statement.py"), statement,
                            "SRC = %r" % SRC, seconds])


if __name__ == "__main__":
    sys.exit(main())
