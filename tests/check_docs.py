#!/usr/bin/env python3
"""check_docs.py BINARY - documentation that cannot drift: docs/cases.md is
what scripts/doc-cases makes of BINARY's --list (and a copy with one doc line
changed is reported, exit 1); a build without a binding layer is judged by
the rows it lists (a fake binary, both ways); README.md fits 250 lines; every
relative link in README.md and docs/*.md names a file that exists."""
import glob
import os
import re
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pmbtest import expect, failed  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC_CASES = os.path.join(ROOT, "scripts", "doc-cases")
CASES = os.path.join(ROOT, "docs", "cases.md")
README_MAX = 250
# [text](target) not preceded by ! (images are links too: kept); the target
# up to a space or ')'.
LINK_RE = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def doc_cases(binary, *args):
    p = subprocess.run([sys.executable, DOC_CASES, binary] + list(args),
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check_match(binary):
    rc, out, err = doc_cases(binary, "--check", CASES)
    expect(rc == 0, "docs/cases.md differs from %s --list (regenerate with scripts/doc-cases"
           " BINARY > docs/cases.md): exit %d, %s" % (binary, rc, err.strip()))
    print(out.strip() or err.strip())


def check_changed_doc_is_reported(binary, tmp):
    """Negative control: one doc line changed in a copy is named, exit 1."""
    with open(CASES, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    rows = [i for i, line in enumerate(lines) if line.startswith("| `")]
    expect(len(rows) > 10, "docs/cases.md has %d case rows" % len(rows))
    if not rows:
        return
    i = rows[len(rows) // 2]
    name = lines[i].split("`")[1]
    lines[i] = lines[i].replace(" |\n", " (changed) |\n")
    copy = os.path.join(tmp, "cases.md")
    with open(copy, "w", encoding="utf-8") as f:
        f.writelines(lines)
    rc, out, err = doc_cases(binary, "--check", copy)
    first = name.split("{")[0]
    expect(rc == 1 and len(err.strip().splitlines()) == 1 and first in err
           and "(changed)" in err,
           "a changed doc line of %s: exit %d (want 1), stderr %r" % (name, rc, err))
    print("changed doc line of %s: exit %d: %s" % (name, rc, err.strip()))


FAKE = """#!/bin/sh
# a build of another interpreter without Boost.Python: its rows of the real
# list left out, one unavailable row instead (and, for the negative case, a
# row of the doc it does not list)
if [ "$1" = --version ]; then echo "pymembench 0 for cpython-9.9.9-fake (Python 9.9.9, /x)"; exit 0; fi
grep -v -E '^bindings/[a-z_/]+/boost(_shared_ptr)? ' '%(list)s' %(drop)s
echo "bindings/unavailable/boost                   libboost_python99 not found"
"""


def check_other_build(binary, tmp):
    """A build that lacks a layer passes; one that also lacks a case does not."""
    listing = os.path.join(tmp, "list.txt")
    with open(listing, "w") as f:
        f.write(subprocess.run([binary, "--list"], capture_output=True, text=True,
                               env={k: v for k, v in os.environ.items()
                                    if k != "PYMB_SELFTEST"}).stdout)
    for drop, want in (("", 0), ("| grep -v '^refcount/setref '", 1)):
        fake = os.path.join(tmp, "fake-pymembench")
        with open(fake, "w") as f:
            f.write(FAKE % {"list": listing, "drop": drop})
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        rc, out, err = doc_cases(fake, "--check", CASES)
        what = "without refcount/setref too" if drop else "without Boost.Python"
        expect(rc == want and (want == 0 or "refcount/setref" in err),
               "a build %s: exit %d (want %d), %s" % (what, rc, want, (out + err).strip()))
        print("a build %s: exit %d: %s" % (what, rc, (out + err).strip()))


def check_readme_length():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        n = len(f.read().splitlines())
    expect(n <= README_MAX, "README.md has %d lines, more than %d: move the detail to docs/"
           % (n, README_MAX))
    print("README.md: %d lines (at most %d)" % (n, README_MAX))


def links(path):
    """Relative link targets of a Markdown file, code blocks and spans left out."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    out = []
    for target in LINK_RE.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same file
        out.append(target.split("#")[0])
    return out


def check_links(tmp):
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs",
                                                                            "*.md")))
    total = 0
    for path in files:
        for target in links(path):
            total += 1
            full = os.path.normpath(os.path.join(os.path.dirname(path), target))
            expect(os.path.exists(full), "%s links to %s, which does not exist"
                   % (os.path.relpath(path, ROOT), target))
    print("%d relative links in %d files checked" % (total, len(files)))
    # negative control: a planted broken link is found
    bad = os.path.join(tmp, "bad.md")
    with open(bad, "w") as f:
        f.write("see [x](no-such-file.md) and `[y](in-code.md)`\n")
    expect(links(bad) == ["no-such-file.md"], "the link reader read %r" % links(bad))


def help_block(path):
    """The first fenced code block of docs/binary.md: the --help text."""
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^```\n(.*?)^```", f.read(), flags=re.S | re.M)
    return m.group(1) if m else None


def check_help(binary):
    """docs/binary.md shows what `pymembench --help` prints, exactly."""
    path = os.path.join(ROOT, "docs", "binary.md")
    shown = help_block(path)
    real = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    expect(shown == real, "docs/binary.md's options block differs from pymembench --help; "
           "paste the new --help output there")
    # negative control: one changed line is seen
    expect(shown is None or shown.replace("--list", "--lists", 1) != real,
           "the --help comparison cannot see a change")


def main():
    if len(sys.argv) != 2:
        print("usage: check_docs.py PYMEMBENCH", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        check_match(binary)
        check_changed_doc_is_reported(binary, tmp)
        check_other_build(binary, tmp)
        check_readme_length()
        check_help(binary)
        check_links(tmp)
    print("FAILED" if failed() else "ok")
    return failed()


if __name__ == "__main__":
    sys.exit(main())
