#!/usr/bin/env python3
"""check_smoke.py BINARY VALIDATOR [EXCLUDE_REGEX] - run every registered
case (but those EXCLUDE_REGEX matches) once with minimal iterations and
validate the JSON (every case present, every check passed, counters and
context in place)."""
import os
import re
import subprocess
import sys
import tempfile


def main(binary, validator, exclude=None):
    with tempfile.TemporaryDirectory() as tmp:
        cases = os.path.join(tmp, "cases.txt")
        listed = subprocess.run([binary, "--list"], capture_output=True, text=True)
        if listed.returncode != 0 or not listed.stdout.strip():
            print("FAIL: --list exited %d: %s" % (listed.returncode, listed.stderr))
            return 1
        names = listed.stdout.splitlines()
        flags = []
        if exclude:
            names = [n for n in names if not re.search(exclude, n.split()[0])]
            flags = ["--benchmark_filter=-" + exclude]
        with open(cases, "w") as f:
            f.write("".join(n + "\n" for n in names))
        out = os.path.join(tmp, "smoke.json")
        p = subprocess.run([binary, "--benchmark_min_time=0.0001", "--benchmark_out=" + out,
                            "--benchmark_format=console"] + flags, capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: exit %d\n%s\n%s" % (p.returncode, p.stdout[-3000:], p.stderr[-2000:]))
            return 1
        v = subprocess.run([sys.executable, validator, out, "--cases", cases])
        if v.returncode == 0:
            print("ok: %d cases ran and passed their checks%s"
                  % (len(names), " (excluded: %s)" % exclude if exclude else ""))
        return v.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
