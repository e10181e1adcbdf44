#!/usr/bin/env python3
"""check_smoke.py BINARY VALIDATOR - run every registered case once with
minimal iterations and validate the JSON (every case present, every check
passed, counters and context in place)."""
import os
import subprocess
import sys
import tempfile


def main(binary, validator):
    with tempfile.TemporaryDirectory() as tmp:
        cases = os.path.join(tmp, "cases.txt")
        listed = subprocess.run([binary, "--list"], capture_output=True, text=True)
        if listed.returncode != 0 or not listed.stdout.strip():
            print("FAIL: --list exited %d: %s" % (listed.returncode, listed.stderr))
            return 1
        with open(cases, "w") as f:
            f.write(listed.stdout)
        out = os.path.join(tmp, "smoke.json")
        p = subprocess.run([binary, "--benchmark_min_time=0.0001", "--benchmark_out=" + out,
                            "--benchmark_format=console"], capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: exit %d\n%s\n%s" % (p.returncode, p.stdout[-3000:], p.stderr[-2000:]))
            return 1
        v = subprocess.run([sys.executable, validator, out, "--cases", cases])
        if v.returncode == 0:
            print("ok: %d cases ran and passed their checks" % len(listed.stdout.splitlines()))
        return v.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
