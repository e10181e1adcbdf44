#!/usr/bin/env python3
"""check_memcheck.py BINARY [EXCLUDE_REGEX] - a smoke run under valgrind's
memcheck finds no memory error in our code: the smallest param of every case
(but those EXCLUDE_REGEX matches), each run briefly, in Python's malloc mode
(--allocator=malloc, so memcheck sees every Python block and pymalloc's
arena reads do not get in the way).

Every error's stack bottoms out in our main, so "a frame of ours in the
stack" cannot be the rule. An error is ours when, frames of valgrind's
malloc/memcpy replacements and of the C and C++ runtimes left aside,
- the innermost frame of its stack is in BINARY (harness/, bench/,
  workloads/, the shim), or
- the innermost frame of the stack that made the memory (allocated, freed,
  or created the uninitialised value; for a definite leak, its only stack)
  is, frames that only pass the allocation on left aside too: our counting
  hook (memhook.c, which every Python allocation goes through) and Python's
  allocator functions (PyMem_Malloc, ...), so a PyMem_Malloc of ours counts.
Errors CPython makes inside libpython with its own memory (3.11's
int.from_bytes reads an unset digit on every .pyc import) are listed as
notes and do not fail the test."""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

RUNTIME = ("vgpreload_", "libc.so", "libc-", "ld-linux", "libstdc++", "libgcc_s", "libm.so")
# Python's allocator entry points (PyMem_Malloc, _PyMem_RawMalloc, ...)
PY_ALLOCATOR = re.compile(r"^_?Py(Mem|Object)_\w*(Alloc|Malloc|Calloc|Realloc|Free)\w*$")


def smallest_params(names):
    """One name per case: the smallest number in each numbered part."""
    best = {}
    for name in names:
        key = re.sub(r"/\d+(?=/|$)", "/N", name)
        nums = [int(n) for n in re.findall(r"/(\d+)(?=/|$)", name)]
        if key not in best or nums < best[key][0]:
            best[key] = (nums, name)
    return [name for _, name in best.values()]


def frames(stack):
    return [{k: (f.findtext(k) or "") for k in ("obj", "fn", "file", "line")}
            for f in stack.findall("frame")]


def allocator(f):
    """A frame that only passes an allocation on: our hook, Python's API."""
    return f["file"] == "memhook.c" or ("libpython" in f["obj"] and PY_ALLOCATOR.match(f["fn"]))


def unnamed_or_allocator(f):
    """Passed over when naming where an error is: allocation plumbing and
    frames without a name (LTO's inlined ones, in Debian's libpython)."""
    return allocator(f) or f["fn"] in ("", "???", "UnknownInlinedFun")


def innermost(stack, skip=None):
    """The first frame outside the runtimes (and those `skip` names), or None."""
    for f in frames(stack) if stack is not None else []:
        if os.path.basename(f["obj"]).startswith(RUNTIME) or (skip and skip(f)):
            continue
        return f
    return None


def is_ours(error, binary):
    stacks = error.findall("stack")
    # a leak's only stack is where the block was allocated
    leak = error.findtext("kind", "").startswith("Leak_")
    where = [innermost(s, allocator if i > 0 or leak else None) for i, s in enumerate(stacks)]
    return any(f is not None and os.path.realpath(f["obj"]) == binary for f in where)


def describe(error, limit=12):
    """memcheck's report of one error, in its own text layout."""
    lines = [error.findtext("what") or error.findtext("xwhat/text") or ""]
    aux = [a.text for a in error.findall("auxwhat")]
    for i, stack in enumerate(error.findall("stack")):
        if i > 0:
            lines.append(" " + (aux[i - 1] if i - 1 < len(aux) else ""))
        for j, f in enumerate(frames(stack)[:limit]):
            lines.append("   %s %s (%s)" % ("at" if j == 0 else "by", f["fn"] or "???",
                         "%s:%s" % (f["file"], f["line"]) if f["file"] else f["obj"]))
    return "\n".join(lines)


def main(binary, exclude=None):
    binary = os.path.realpath(binary)
    listed = subprocess.run([binary, "--list"], capture_output=True, text=True)
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    if listed.returncode != 0 or not names:
        print("FAIL: --list exited %d: %s" % (listed.returncode, listed.stderr))
        return 1
    cases = [n for n in smallest_params(names) if not (exclude and re.search(exclude, n))]
    if not all(re.fullmatch(r"[\w/]+", n) for n in cases):
        print("FAIL: case names this filter cannot quote: %s" % cases)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "memcheck.json")
        # one report per process: a forked child writes its own
        xml = os.path.join(tmp, "memcheck.%p.xml")
        p = subprocess.run(["valgrind", "--tool=memcheck", "--xml=yes", "--xml-file=" + xml,
                            "--track-origins=yes", "--num-callers=40", "--leak-check=full",
                            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                            binary, "--allocator=malloc",
                            "--benchmark_filter=^(%s)$" % "|".join(cases),
                            "--benchmark_min_time=0.0001", "--benchmark_out=" + out],
                           capture_output=True, text=True)
        reports = sorted(f for f in os.listdir(tmp) if f.endswith(".xml"))
        ours, theirs = [], []
        for name in reports:
            try:
                root = ET.parse(os.path.join(tmp, name)).getroot()
            except ET.ParseError as e:
                print("FAIL: memcheck report %s unreadable (%s); exit %d\n%s"
                      % (name, e, p.returncode, p.stderr[-2000:]))
                return 1
            seen = {pair.findtext("unique"): pair.findtext("count") for pair in root.iter("pair")}
            for e in root.findall("error"):
                if is_ours(e, binary):
                    ours.append(e)
                    continue
                theirs.append(e)
                f = innermost(e.find("stack"), unnamed_or_allocator)
                print("note: not ours: %s (x%s) in %s (%s)" % (
                    e.findtext("kind"), seen.get(e.findtext("unique"), "1"),
                    f["fn"] if f else "???", os.path.basename(f["obj"]) if f else "?"))
        if not reports:
            print("FAIL: no memcheck report; exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
            return 1
        if ours:
            print("FAIL: memcheck found %d error(s) in our code:" % len(ours))
            for e in ours:
                print(describe(e))
            return 1
        if p.returncode != 0:
            print("FAIL: exit %d under valgrind\n%s" % (p.returncode, p.stderr[-3000:]))
            return 1
        with open(out) as f:
            rows = {r["name"]: r for r in json.load(f)["benchmarks"]}
    failed = ["%s: %s" % (n, r.get("error_message")) for n, r in rows.items()
              if r.get("error_occurred") and not r.get("error_message", "").startswith("skipped")]
    missing = [n for n in cases if n not in rows]
    if failed or missing:
        print("FAIL: under memcheck, failed: %s; missing: %s" % (failed, missing))
        return 1
    print("ok: %d of %d cases (the smallest param of each%s) ran under memcheck; no error in"
          " our code, %d elsewhere (noted above)" % (len(cases), len(names),
          "; excluded: " + exclude if exclude else "", len(theirs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
