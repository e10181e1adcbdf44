#!/usr/bin/env python3
"""check_shellcheck.py REPO - every shell script of the repository (found
by its #! line, so a new one is covered without a list) is clean under
shellcheck, at its default severity. A planted script with an unquoted
variable must be flagged: the negative control that shows the linter ran."""
import os
import shutil
import subprocess
import sys
import tempfile

from pmbtest import expect, failed  # noqa: E402

SKIP = {".git", "build", "results", "__pycache__"}


def shell_scripts(repo):
    found = []
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.startswith("build-")]
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    first = f.readline(200)
            except OSError:
                continue
            if first.startswith(b"#!") and first.split(b"/")[-1].split()[-1] in (b"bash", b"sh"):
                found.append(path)
    return sorted(found)


def main(repo):
    if shutil.which("shellcheck") is None:
        print("FAIL: shellcheck is not installed (apt-get install shellcheck; make test's "
              "check-deps installs it)")
        return 1
    scripts = shell_scripts(repo)
    expect(len(scripts) >= 5, "found only %d shell scripts: %s" % (len(scripts), scripts))
    p = subprocess.run(["shellcheck", "-f", "gcc"] + scripts, capture_output=True, text=True)
    expect(p.returncode == 0, "shellcheck:\n" + p.stdout + p.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "planted")
        with open(bad, "w") as f:
            f.write("#!/usr/bin/env bash\ncd $1\nrm -rf $HOME/x\n")
        q = subprocess.run(["shellcheck", "-f", "gcc", bad], capture_output=True, text=True)
        expect(q.returncode != 0 and "SC2164" in q.stdout,
               "negative control: shellcheck did not flag a planted unchecked cd: %r" % q.stdout)
    if not failed():
        print("ok: %d shell scripts clean under shellcheck (%s); a planted one is flagged"
              % (len(scripts), ", ".join(os.path.relpath(s, repo) for s in scripts)))
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
