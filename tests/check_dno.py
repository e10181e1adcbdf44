#!/usr/bin/env python3
"""check_dno.py BINARY - instruction counts of test_dno's functions under
callgrind: the kept loops must execute at least one instruction per
iteration, their *_dropped twins (no primitive) almost none."""
import os
import re
import subprocess
import sys
import tempfile

N = 100000


def instructions(binary, fn, tmp):
    out = os.path.join(tmp, "cg." + fn)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        "--toggle-collect=" + fn, binary, str(N)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL: valgrind exited %d: %s" % (p.returncode, p.stderr[-500:]))
        sys.exit(1)
    with open(out) as f:
        m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else 0


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        counts = {fn: instructions(binary, fn, tmp)
                  for fn in ("kept", "kept_dropped", "clobbered", "clobbered_dropped")}
    print("instructions for %d iterations: %s" % (N, counts))
    bad = []
    for fn in ("kept", "clobbered"):
        if counts[fn] < N:
            bad.append("%s ran %d instructions, fewer than one per iteration" % (fn, counts[fn]))
        if counts[fn + "_dropped"] > N // 10:
            bad.append("%s_dropped ran %d instructions: the compiler kept the work anyway,"
                       " so this test cannot tell" % (fn, counts[fn + "_dropped"]))
    if bad:
        print("FAIL: " + "; ".join(bad))
        sys.exit(1)
    print("ok: do-not-optimize and clobber-memory keep the work at -O2")


if __name__ == "__main__":
    main(sys.argv[1])
