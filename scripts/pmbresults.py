"""pmbresults - shared by the scripts that read pymembench result files: the
one validating loader (read_results; read_json for our other JSON files),
the command line `PROG RESULT.json [--filter REGEX]`, Google Benchmark's
filter rule (case_filter), the rows, and the median row of each case.

Run as `python3 scripts/pmbresults.py FILE...`, it loads each file as a result file
and says nothing (exit 0), or names the first bad one in one line (exit 2):
a check for shell scripts before they read a file themselves."""
import argparse
import glob
import json
import math
import os
import re
import sys

# scripts/compare's figures (for scripts/plots) beside summary.md: any
# <name>.md.json in a run's folder is not a result file.
SUMMARY = "summary.md.json"
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# context fields the readers treat as text (sorting, names, regexes)
CONTEXT_TEXT = ("python_version", "python_tag", "python_executable", "allocator", "host",
                "pymembench_commit")


class BadFile(ValueError):
    """A file a reader refuses; str() is one line that names the file and
    what is wrong. Callers print it after their name and exit 2."""


class _NotFinite:
    """Stands for a NaN, Infinity or out-of-range number while parsing, so
    that the error can name where it was (json's parse_constant alone only
    knows which constant it met)."""

    def __init__(self, text):
        self.text = text


def _number(text):
    x = float(text)
    return x if math.isfinite(x) else _NotFinite(text)  # 1e999 parses as inf


def _integer(text):
    """An integer, or a _NotFinite when it is beyond what a double holds
    (the readers do arithmetic in floats)."""
    return int(text) if math.isfinite(float(text)) else _NotFinite(text)


def _find_not_finite(value, where):
    """The path (benchmarks[3] ("a/x").real_time) and text of the first
    _NotFinite in value, or None."""
    if isinstance(value, _NotFinite):
        return where, value.text
    if isinstance(value, dict):
        if isinstance(value.get("name"), str):
            where += " (%s)" % json.dumps(value["name"])
        items = (("%s.%s" % (where, k) if where else k, v) for k, v in value.items())
    elif isinstance(value, list):
        items = (("%s[%d]" % (where, i), v) for i, v in enumerate(value))
    else:
        return None
    for w, v in items:
        found = _find_not_finite(v, w)
        if found:
            return found
    return None


def _parse(path):
    """The document in path, a _NotFinite where it had NaN or Infinity."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise BadFile("%s: cannot read: %s" % (path, e.strerror or e))
    except UnicodeDecodeError:
        raise BadFile("%s: cannot read: not text, so not JSON" % path)
    if not text.strip():
        raise BadFile("%s: the file is empty (a run cut short? run it again)" % path)
    try:
        return json.loads(text, parse_constant=_NotFinite, parse_float=_number,
                          parse_int=_integer)
    except ValueError as e:
        raise BadFile("%s: cannot read: not JSON, or cut short (%s)" % (path, e))
    except RecursionError:
        raise BadFile("%s: cannot read: nested too deeply to be a result file" % path)


def _refuse_not_finite(path, doc):
    found = _find_not_finite(doc, "")
    if found:
        raise BadFile("%s: %s is %s; these files are strict JSON, without NaN or Infinity"
                      % (path, found[0] or "the document", found[1]))
    return doc


def read_json(path):
    """The document in path, which must be strict JSON (what every script
    here writes): BadFile when it cannot be read, is empty, is not JSON or
    is cut short, or holds NaN, Infinity or a number out of range."""
    return _refuse_not_finite(path, _parse(path))


def _drop_undefined_cv(doc):
    """Google Benchmark's own JSON reporter writes NaN for the cv of a
    counter that is 0 in every repetition (0 / 0), and so did pymembench's
    files (the binary before 08af825, merge-processes before it left such a
    figure out). That one figure is left out of its cv row here too, so
    that those files read as today's; any other NaN or Infinity stays, to
    be refused."""
    rows = doc.get("benchmarks") if isinstance(doc, dict) else None
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, dict) and row.get("run_type") == "aggregate" \
                and row.get("aggregate_name") == "cv":
            for key in [k for k, v in row.items() if isinstance(v, _NotFinite)
                        and k not in ("real_time", "cpu_time")]:
                del row[key]


def _kind(value):
    """value's JSON type, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    for t, name in ((dict, "an object"), (list, "a list"), (str, "a string"),
                    ((int, float), "a number")):
        if isinstance(value, t):
            return name
    return "null"


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_row(i, row):
    """None, or what is wrong with benchmarks[i], in a phrase."""
    if not isinstance(row, dict):
        return "benchmarks[%d] is %s, not an object (a row)" % (i, _kind(row))
    if not isinstance(row.get("name"), str) or not row["name"]:
        return 'benchmarks[%d]: "name" is %s, not a case name' % (i, _kind(row.get("name")))
    where = "benchmarks[%d] (%s)" % (i, json.dumps(row["name"]))
    for key in ("run_name", "run_type", "error_message"):
        if key in row and not isinstance(row[key], str):
            return "%s: %s is %s, not a string" % (where, key, _kind(row[key]))
    if "time_unit" in row and row["time_unit"] not in UNIT_NS:
        return "%s: time_unit %s is not one of %s" % (where, json.dumps(row["time_unit"]),
                                                      ", ".join(UNIT_NS))
    p = row.get("process_index", 0)
    if not isinstance(p, int) or isinstance(p, bool) or p < 0:
        return "%s: process_index is %s, not a count" % (where, json.dumps(p))
    if row.get("error_occurred"):
        return None  # a skipped or failed case: no figures expected
    n = row.get("iterations")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return "%s: iterations is %s, not a positive integer" % (
            where, json.dumps(n) if "iterations" in row else "missing")
    iteration = row.get("run_type", "iteration") == "iteration"
    for key in ("real_time", "cpu_time", "instructions_per_iter"):
        v = row.get(key)
        # instructions only in --instructions runs; complexity aggregates
        # (BigO, RMS) carry no times
        if key not in row and (key == "instructions_per_iter" or not iteration):
            continue
        if not _is_number(v) or (v <= 0 if iteration else v < 0):
            return "%s: %s is %s, not a number %s" % (
                where, key, json.dumps(v) if key in row else "missing",
                "> 0" if iteration else ">= 0")
    return None


def read_results(path):
    """The result document in path (Google Benchmark's JSON as pymembench
    writes it), checked so that readers can trust its shape: strict JSON
    (read_json), a "context" object and a "benchmarks" list of row objects,
    each with a name; a row that did not fail has positive integer
    iterations, and an iteration row positive real_time and cpu_time; a
    time_unit Google Benchmark knows; instructions_per_iter, where a row
    that did not fail has it, above 0. Rows that failed (error_occurred)
    need no figures. The one NaN allowed is Google Benchmark's cv of a
    counter always 0, which is left out (_drop_undefined_cv). BadFile
    naming the file and the first thing wrong."""
    doc = _parse(path)
    _drop_undefined_cv(doc)
    _refuse_not_finite(path, doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("context"), dict) \
            or "benchmarks" not in doc:
        raise BadFile('%s: not a Google Benchmark/pymembench result file (no "context" object '
                      'and "benchmarks" list; a hyperfine or pyperf export?)' % path)
    if not isinstance(doc["benchmarks"], list):
        raise BadFile('%s: "benchmarks" is %s, not a list of rows'
                      % (path, _kind(doc["benchmarks"])))
    for key in CONTEXT_TEXT:
        if key in doc["context"] and not isinstance(doc["context"][key], str):
            raise BadFile("%s: context.%s is %s, not a string"
                          % (path, key, _kind(doc["context"][key])))
    for i, row in enumerate(doc["benchmarks"]):
        wrong = _check_row(i, row)
        if wrong:
            raise BadFile("%s: %s" % (path, wrong))
    return doc


def case_filter(spec):
    """A test on case names that keeps what `--benchmark_filter=spec` runs,
    by Google Benchmark's rule (which every pymembench mode applies): the
    regular expression is searched for in the name; empty or "all" keeps
    every case; a leading '-' keeps the names it does not match. For rows
    already in result files; the cases a binary has that match a filter are
    the binary's to say (pymembench --list --benchmark_filter=spec).
    Raises re.error on a bad expression."""
    spec = spec or ""
    if spec in ("", "all"):
        return lambda name: True
    negate = spec.startswith("-")
    regex = re.compile(spec[1:] if negate else spec)
    return lambda name: bool(regex.search(name)) != negate


def load(prog, argv):
    """(benchmark rows, case_filter of --filter); exits 2 on bad usage or an
    unreadable file, with one line on stderr."""
    usage = "%s: usage: %s RESULT.json [--filter REGEX]\n" % (prog, prog)
    if len(argv) not in (1, 3) or argv[0].startswith("-") or (len(argv) == 3 and argv[1] != "--filter"):
        sys.stderr.write(usage)
        sys.exit(2)
    try:
        keep = case_filter(argv[2] if len(argv) == 3 else "")
    except re.error as e:
        sys.stderr.write("%s: bad --filter regex %r: %s\n" % (prog, argv[2], e))
        sys.exit(2)
    try:
        return read_results(argv[0])["benchmarks"], keep
    except BadFile as e:
        sys.stderr.write("%s: %s\n" % (prog, e))
        sys.exit(2)


def medians(path):
    """(context, {case name: its median row}) of one result file: the
    median aggregate where there were repetitions, else the single row;
    error rows left out. Raises BadFile."""
    return medians_of(read_results(path))


def medians_of(doc):
    """medians() of an already parsed result document."""
    out = {}
    for row in doc["benchmarks"]:
        if row.get("aggregate_name", "median") == "median" and not row.get("error_occurred"):
            out[row.get("run_name", row["name"])] = row
    return doc["context"], out


def process_groups(doc):
    """{case name: {process_index: [time_ns of each repetition]}} of a parsed
    result document's timed rows (iteration rows without an error), cases
    and processes in the order they first appear: the samples pmbstats
    takes, one list per process."""
    out = {}
    for row in doc["benchmarks"]:
        if row.get("run_type", "iteration") == "iteration" and not row.get("error_occurred"):
            out.setdefault(row.get("run_name", row["name"]), {}).setdefault(
                row.get("process_index", 0), []).append(time_ns(row))
    return out


def real_ns(row):
    """A row's real time in nanoseconds; KeyError when it has none or its
    time_unit is unknown."""
    return row["real_time"] * UNIT_NS[row.get("time_unit", "ns")]


def time_ns(row):
    """The time every verdict, interval and sampling decision judges, in
    nanoseconds: the measuring thread's CPU time (Google Benchmark's
    cpu_time), except for rows timed by the wall clock (names ending in
    /real_time: work on other threads). On a shared machine the wall clock
    also counts the time the thread waited for a core: two processes of
    refcount/c_increment took 0.8 and 2.7 ns of real time and 0.61 and 0.76
    ns of CPU time (docs/statistics.md). KeyError as real_ns."""
    name = row.get("run_name", row.get("name", ""))
    if name.endswith("/real_time") or "cpu_time" not in row:
        return real_ns(row)
    return row["cpu_time"] * UNIT_NS[row.get("time_unit", "ns")]


def pinned_iterations(row, min_time=None):
    """The loop a later process runs for a row of the sizing process: its
    iterations, or with min_time (seconds) those that last min_time at the
    row's pace, the larger of its real and CPU time (at
    least 1; more than it ran when the sizing process ran a shorter minimum
    time, as make bench's does). KeyError as real_ns."""
    n = row["iterations"]
    unit = UNIT_NS[row.get("time_unit", "ns")]
    per = max(row.get("real_time") or 0, row.get("cpu_time") or 0) * unit * 1e-9
    if min_time is None or per <= 0:
        return n
    # (pymembench takes 1 to 2^30 iterations)
    return max(1, min(1 << 30, math.ceil(min_time / per)))


def gnuplot_string(text):
    """A gnuplot string expression of text: single-quoted parts joined by
    "\\n" where text has a newline. gnuplot substitutes backquotes (runs
    them as commands) in double-quoted strings, never in single-quoted
    ones, where '' is a quote: text from a result file or a path stays
    text."""
    return '."\\n".'.join("'%s'" % s.replace("'", "''") for s in str(text).split("\n"))


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


def main(argv):
    ap = argparse.ArgumentParser(prog="pmbresults.py", description=__doc__.split("\n\n")[1])
    ap.add_argument("files", nargs="+", metavar="FILE")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        for path in args.files:
            read_results(path)
    except BadFile as e:
        sys.stderr.write("pmbresults.py: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
