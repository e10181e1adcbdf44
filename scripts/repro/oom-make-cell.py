#!/usr/bin/env python3
"""oom-make-cell.py [SECONDS] - does the eval loop release a frame's
objects when an allocation it makes itself fails? A reproducer, outside
pymembench, of what `make stress` finds in lifetime/exit_stack on 3.11
(scripts/repro/known.json: cpython-eval-oom-frame).

It is oom-statement.py on two statements:
- `f(R())`, where f's argument is captured by an inner function, so the
  first thing f does (MAKE_CELL) allocates a cell. When that allocation
  fails, 3.11 and 3.12 raise MemoryError but never release f's argument
  (2 blocks per repeat: the R instance stays alive, as the Resource and its
  file descriptor do in lifetime/exit_stack); a debug build aborts
  (ceval.c: Assertion `STACK_LEVEL() == 0' failed). When the inner
  function's allocation (MAKE_FUNCTION) fails instead, 3.12.1 crashes
  (SIGSEGV in about half the runs: a child is reported crashed when one of
  its three faulted repeats does).
- `with contextlib.ExitStack() as s: s.enter_context(R())`, the shape of
  lifetime/exit_stack: 3.11.7 leaks 9 blocks per repeat at one failed
  allocation, the debug build aborts at it.
Exit 1 when some allocation leaked or crashed the interpreter; 2 without
_testcapi.
"""
import os
import subprocess
import sys

CLOSURE = """
class R:
    pass
def f(r):
    def g():
        return r
    return g()
"""
EXIT_STACK = """
import contextlib
class R:
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return None
"""
STATEMENTS = (("f(R())", CLOSURE),
              ("with contextlib.ExitStack() as s:\n    s.enter_context(R())", EXIT_STACK))


def main():
    seconds = sys.argv[1] if len(sys.argv) > 1 else "120"
    here = os.path.dirname(os.path.abspath(__file__))
    found = 0
    for statement, setup in STATEMENTS:
        rc = subprocess.call([sys.executable, os.path.join(here, "oom-statement.py"), statement,
                              setup, seconds])
        if rc == 2:
            return 2
        found |= rc
    return found


if __name__ == "__main__":
    sys.exit(main())
