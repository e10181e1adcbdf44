#!/usr/bin/env python3
"""check_interrupt.py BINARY - an interrupted run leaves no result file,
truncated or not, and no temporary file behind."""
import os
import signal
import subprocess
import sys
import tempfile
import time


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        p = subprocess.Popen([binary, "--benchmark_min_time=0.5", "--benchmark_out=" + out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        if p.poll() is not None:
            print("FAIL: the run ended before it could be interrupted")
            return 1
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        left = os.listdir(tmp)
        if rc != -signal.SIGTERM or left:
            print("FAIL: exit %d, files left: %s" % (rc, left))
            return 1
    print("ok: SIGTERM mid-run left no file behind")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
