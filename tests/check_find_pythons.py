#!/usr/bin/env python3
"""check_find_pythons.py SCRIPT - the discovery script's contract: python3
resolves to one interpreter with a tag; an entry that resolves to nothing
exits 2 with one line; 'all' finds at least python3's interpreter, with
distinct tags; an interpreter two entries name is listed twice."""
import subprocess
import sys


def run(script, *entries):
    return subprocess.run([sys.executable, script] + list(entries), capture_output=True,
                          text=True)


def main(script):
    problems = []
    one = run(script, "python3")
    lines = one.stdout.split("\n")[:-1]
    if one.returncode != 0 or len(lines) != 1 or not lines[0].startswith("cpython-3."):
        problems.append("python3: exit %d, output %r" % (one.returncode, one.stdout))
    bad = run(script, "no-such-python-here")
    if bad.returncode != 2 or "matches no interpreter" not in bad.stderr:
        problems.append("a bogus entry: exit %d, %r" % (bad.returncode, bad.stderr))
    every = run(script, "all")
    tags = [line.split()[0] for line in every.stdout.splitlines()]
    if every.returncode != 0 or not tags or len(set(tags)) != len(tags):
        problems.append("all: exit %d, tags %r" % (every.returncode, tags))
    if lines and lines[0].split()[0] not in tags:
        problems.append("all does not include python3's interpreter %s" % lines[0])
    if lines:  # named by two entries (command and path): listed twice, for an A/A run
        tag, exe = lines[0].split(" ", 1)
        twice = run(script, "python3", exe)
        if twice.returncode != 0 or twice.stdout != (lines[0] + "\n") * 2:
            problems.append("python3 and %s: exit %d, output %r (want it twice)" % (
                exe, twice.returncode, twice.stdout))
        same = run(script, "python3 python3")
        if same.stdout.count(tag) != 2:
            problems.append("python3 python3: output %r (want it twice)" % same.stdout)
    for p in problems:
        print("FAIL: " + p)
    if not problems:
        print("ok: python3 -> %s; all -> %s" % (lines[0].split()[0], " ".join(tags)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
