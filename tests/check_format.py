#!/usr/bin/env python3
"""check_format.py REPO - every C and C++ file of the repository (harness/,
bench/, workloads/, tests/, scripts/; found by extension, so a new one is
covered without a list) is laid out as the checked-in .clang-format (PEP 7
as closely as clang-format can) says. A planted file with a brace on the
wrong line and an over-long line must be flagged: the negative control
that shows the check ran with the repository's style."""
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

SKIP = {".git", "build", "results", "__pycache__", "docs"}
EXTENSIONS = (".c", ".h", ".cc", ".hh")


def sources(repo):
    found = []
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.startswith(("build-", "."))]
        found += [os.path.join(root, n) for n in files if n.endswith(EXTENSIONS)]
    return sorted(found)


def clang_format(args, cwd):
    return subprocess.run(["clang-format", "--dry-run", "--Werror"] + args, cwd=cwd,
                          capture_output=True, text=True)


def main(repo):
    if shutil.which("clang-format") is None:
        print("FAIL: clang-format is not installed (apt-get install clang-format; make test's "
              "check-deps installs it)")
        return 1
    style = os.path.join(repo, ".clang-format")
    expect(os.path.isfile(style), "no .clang-format in %s" % repo)
    files = sources(repo)
    expect(len(files) >= 30, "found only %d C/C++ files" % len(files))
    p = clang_format(files, repo)
    bad = sorted({line.split(":")[0] for line in p.stderr.splitlines() if ": error:" in line})
    expect(p.returncode == 0, "%d file(s) not laid out as .clang-format says (fix with "
           "clang-format -i FILE): %s\n%s" % (len(bad), ", ".join(
               os.path.relpath(b, repo) for b in bad), p.stderr[:3000]))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(style, tmp)
        planted = os.path.join(tmp, "planted.c")
        with open(planted, "w") as f:
            f.write("int f(int x) {\n  if (x) { return 1; } else return 0;\n}\n"
                    "int g(void) { return f(1111111111) + f(2222222222) + f(333333333) + "
                    "f(4444444444); }\n")
        q = clang_format([planted], tmp)
        expect(q.returncode != 0 and "planted.c" in q.stderr,
               "negative control: a badly laid out file was not flagged: %r" % q.stderr[:500])
    if not failed():
        print("ok: %d C/C++ files laid out as .clang-format (PEP 7) says; a planted one is "
              "flagged" % len(files))
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
