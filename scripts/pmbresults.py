"""pmbresults - shared by the scripts that read pymembench result files:
the command line `PROG RESULT.json [--filter REGEX]`, the rows, and the
median row of each case."""
import glob
import json
import os
import re
import sys

# scripts/compare's figures (for scripts/plots) beside summary.md: any
# <name>.md.json in a run's folder is not a result file.
SUMMARY = "summary.md.json"


def load(prog, argv):
    """(benchmark rows, compiled filter or None); exits 2 on bad usage or an
    unreadable file, with one line on stderr."""
    usage = "%s: usage: %s RESULT.json [--filter REGEX]\n" % (prog, prog)
    if len(argv) not in (1, 3) or argv[0].startswith("-") or (len(argv) == 3 and argv[1] != "--filter"):
        sys.stderr.write(usage)
        sys.exit(2)
    try:
        pattern = re.compile(argv[2]) if len(argv) == 3 else None
    except re.error as e:
        sys.stderr.write("%s: bad --filter regex %r: %s\n" % (prog, argv[2], e))
        sys.exit(2)
    try:
        with open(argv[0]) as f:
            return json.load(f)["benchmarks"], pattern
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("%s: cannot read %s: %s\n" % (prog, argv[0], e))
        sys.exit(2)


def medians(path):
    """(context, {case name: its median row}) of one result file: the
    median aggregate where there were repetitions, else the single row;
    error rows left out. Raises OSError, ValueError or KeyError."""
    with open(path) as f:
        return medians_of(json.load(f))


def medians_of(doc):
    """medians() of an already parsed result document."""
    out = {}
    for row in doc["benchmarks"]:
        if row.get("aggregate_name", "median") == "median" and not row.get("error_occurred"):
            out[row.get("run_name", row["name"])] = row
    return doc["context"], out


UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def real_ns(row):
    """A row's real time in nanoseconds; KeyError when it has none or its
    time_unit is unknown."""
    return row["real_time"] * UNIT_NS[row.get("time_unit", "ns")]


def result_files(folder):
    """The result files of a run's folder: its *.json but *.md.json."""
    return sorted(p for p in glob.glob(os.path.join(folder, "*.json"))
                  if not p.endswith(".md.json"))


def column_names(names, paths):
    """Column names (<python_tag>/<allocator>) told apart where the same
    interpreter appears twice: make bench's second listing of an interpreter
    (an A/A check) writes <tag>~2-<allocator>.json and becomes <tag>~2/...;
    other duplicates (the same file name in two runs) get their folder and
    file in brackets, and a number if that is not enough."""
    out = []
    for name, path in zip(names, paths):
        m = re.match(r".*(~\d+)-[^/]*$", os.path.basename(path))
        if m and "/" in name:
            tag, alloc = name.split("/", 1)
            name = "%s%s/%s" % (tag, m.group(1), alloc)
        out.append(name)
    where = [os.path.join(os.path.basename(os.path.dirname(os.path.abspath(p))),
                          os.path.basename(p)) for p in paths]
    out = [n if out.count(n) == 1 else "%s (%s)" % (n, w) for n, w in zip(out, where)]
    return [n if out.count(n) == 1 else "%s #%d" % (n, i + 1) for i, n in enumerate(out)]


def version_key(ctx):
    """A result context's Python version as a sortable tuple (unknown last)."""
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", ctx.get("python_version", ""))
    return tuple(int(x) for x in m.groups()) if m else (99, 99, 99)


def natural_key(text, sep):
    """text split at the regex sep, numbers compared as numbers, before words."""
    return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(sep, text)]


def case_key(name):
    """Case names part by part: .../16 before .../1024."""
    return natural_key(name, "/")


def tag_key(tag):
    """An interpreter tag (cpython-3.12.0t, cpython-3.11.2-system)."""
    return natural_key(tag, r"[.-]")
