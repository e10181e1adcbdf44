#!/usr/bin/env python3
"""check_find_pythons.py SCRIPT - the discovery script's contract.

On this machine: python3 resolves to one interpreter with a tag; an entry
that resolves to nothing exits 2 with one line; 'all' finds python3's
interpreter, with distinct tags; an interpreter two entries name is listed
twice; python3.12 (a pyenv shim that fails unless 3.12 is pyenv's version)
gives pyenv's 3.12; /usr/bin/yes is refused with one line.

On made-up builds (no free-threaded Python is installed here): fake
interpreters run the real pyfacts.py under this Python with another build's
version, sys.abiflags and Py_GIL_DISABLED patched in, inside a fake pyenv
whose shims fail like pyenv's (exit 127) for what its version lacks. 3.13t
must pick the free-threaded builds and 3.13 must not, a td build gets its
own tag, failing shims resolve to the real files, and no shim is run.
"""
import glob
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

from pmbtest import expect, failed

# A made-up interpreter: pyfacts.py (argv[1]) run by this Python, patched.
FAKE = """#!{python}
import os, sys, sysconfig
sysconfig.get_config_vars()  # read now: the file it reads is named after sys.abiflags
sys.version_info = {version_info!r}
sys.abiflags = {abiflags!r}
sys.executable = os.path.abspath(__file__)
sys.base_prefix = sys.prefix = {prefix!r}
real_var = sysconfig.get_config_var
sysconfig.get_config_var = lambda name: {gil!r} if name == "Py_GIL_DISABLED" else real_var(name)
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"))
"""

# pyenv's shim, as `pyenv rehash` writes it.
SHIM = """#!/bin/sh
program="${{0##*/}}"
export PYENV_ROOT="{root}"
exec "{root}/libexec/pyenv" exec "$program" "$@"
"""

# A fake pyenv: its version is PYENV_VERSION (3.13.0 unless set); `which` and
# `exec` of a command that version lacks fail as pyenv's do, with 127. Every
# call is logged, so that the test sees whether a shim was run.
PYENV = """#!/bin/sh
echo "$1 $2" >> "$PYENV_ROOT/calls.log"
file="$PYENV_ROOT/versions/${{PYENV_VERSION:-3.13.0}}/bin/$2"
if [ ! -x "$file" ]; then echo "pyenv: $2: command not found" >&2; exit 127; fi
if [ "$1" = which ]; then echo "$file"; exit 0; fi
shift 2
exec "$file" "$@"
"""

FOREVER = """#!{python}
import sys
while True:
    sys.stdout.write("not python\\n" * 100)
"""

SLEEPER = """#!{python}
import time
time.sleep(600)
"""


def write(path, text, mode=0o755):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def fake(path, version, abiflags="", gil=None, prefix=None):
    parts = tuple(int(p) for p in version.split("."))
    write(path, FAKE.format(python=sys.executable, version_info=parts + ("final", 0),
                            abiflags=abiflags, gil=gil,
                            prefix=prefix or os.path.dirname(os.path.dirname(path))))


def make_world(tmp):
    """The fake pyenv root, a folder of other fakes, and the environment
    that puts them (and no real pyenv) on PATH."""
    root = os.path.join(tmp, "pyenv")
    bin_ = os.path.join(tmp, "bin")
    v = os.path.join(root, "versions")
    fake(v + "/3.12.1/bin/python3.12", "3.12.1")
    fake(v + "/3.13.0/bin/python3.13", "3.13.0", gil=0)
    os.symlink("python3.13", v + "/3.13.0/bin/python3")
    fake(v + "/3.13.0t/bin/python3.13t", "3.13.0", abiflags="t", gil=1)
    # a free-threaded build installs python3.13 too: python3.13 must not pick it
    os.symlink("python3.13t", v + "/3.13.0t/bin/python3.13")
    fake(v + "/3.13.0td/bin/python3.13td", "3.13.0", abiflags="td", gil=1)
    # a debug build (3.13.0d): run only when named
    fake(v + "/3.13.0d/bin/python3.13d", "3.13.0", abiflags="d", gil=0)
    # a later version known free-threaded from Py_GIL_DISABLED alone
    fake(bin_ + "/python3.15t", "3.15.0", abiflags="", gil=1,
         prefix=os.path.join(tmp, "opt", "python3.15t"))
    write(root + "/libexec/pyenv", PYENV)
    for name in ("python3", "python3.12", "python3.13", "python3.13t"):
        write(root + "/shims/" + name, SHIM.format(root=root))
    write(bin_ + "/forever", FOREVER.format(python=sys.executable))
    write(bin_ + "/sleeper", SLEEPER.format(python=sys.executable))
    env = {k: val for k, val in os.environ.items()
           if k not in ("PYENV_VERSION", "UV_PYTHON_INSTALL_DIR")}
    env.update(PATH=os.pathsep.join([root + "/shims", bin_]), PYENV_ROOT=root,
               HOME=os.path.join(tmp, "home"))
    return root, bin_, env


def run(script, *entries, env=None):
    return subprocess.run([sys.executable, script] + list(entries), capture_output=True,
                          text=True, env=env)


def rows(p):
    """The (tag, executable) lines a run printed."""
    return [tuple(line.split(" ", 1)) for line in p.stdout.splitlines()]


def check_fakes(script, tmp):
    root, bin_, env = make_world(tmp)
    v = os.path.realpath(os.path.join(root, "versions"))
    ft, ftd = v + "/3.13.0t/bin/python3.13t", v + "/3.13.0td/bin/python3.13td"
    gil = v + "/3.13.0/bin/python3.13"

    def picks(entry, extra_env=None):
        p = run(script, entry, env=dict(env, **(extra_env or {})))
        expect(p.returncode == 0, "%s (fakes): exit %d, %r" % (entry, p.returncode, p.stderr))
        return rows(p)

    # a shim that fails (3.12 is not the fake pyenv's version): the real 3.12
    got = picks("python3.12")
    expect(got == [("cpython-3.12.1", v + "/3.12.1/bin/python3.12")],
           "python3.12 behind a failing shim: %r" % got)
    # a shim that works: what it would run, not the first python3 elsewhere
    got = picks("python3")
    expect(got == [("cpython-3.13.0", gil)], "python3 behind a working shim: %r" % got)
    got = picks(root + "/shims/python3.12")
    expect(got == [("cpython-3.12.1", v + "/3.12.1/bin/python3.12")],
           "a shim given by path: %r" % got)
    # names carry the build: python3.13t is free-threaded, python3.13 is not
    got = picks("python3.13t")
    expect(got == [("cpython-3.13.0t", ft)], "python3.13t behind a failing shim: %r" % got)
    got = picks("python3.13", {"PYENV_VERSION": "none"})
    expect(got == [("cpython-3.13.0", gil)],
           "python3.13 behind a failing shim (a free-threaded python3.13 is there too): %r"
           % got)
    got = picks("python3.15t")
    expect(len(got) == 1 and got[0][0].startswith("cpython-3.15.0t-")
           and got[0][1] == os.path.realpath(bin_ + "/python3.15t"),
           "python3.15t on PATH (free-threaded by Py_GIL_DISABLED alone): %r" % got)
    got = picks("python3.13td")  # on no PATH: found where pyenv installed it
    expect(got == [("cpython-3.13.0td", ftd)], "python3.13td: %r" % got)

    # versions: t picks free-threaded builds only, its absence GIL builds only
    # (and a version without d release builds only: the debug 3.13.0td is 3.13td's)
    got = picks("3.13t")
    expect(ft in {e for _, e in got} and ftd not in {e for _, e in got}
           and all("t" in t.split("-")[1] for t, _ in got), "3.13t: %r" % got)
    got = picks("3.13.0t")
    expect(ft in {e for _, e in got} and not {gil, ftd} & {e for _, e in got},
           "3.13.0t: %r" % got)
    got = picks("3.13")
    expect(gil in {e for _, e in got} and not {ft, ftd} & {e for _, e in got}
           and all("t" not in t.split("-")[1] for t, _ in got), "3.13: %r" % got)
    got = picks("3.13td")
    expect(("cpython-3.13.0td", ftd) in got and ft not in {e for _, e in got},
           "3.13td: %r" % got)
    got = picks("3.15t")
    expect(got and got[0][1] == os.path.realpath(bin_ + "/python3.15t"), "3.15t: %r" % got)
    p = run(script, "3.15", env=env)
    expect(os.path.realpath(bin_ + "/python3.15t") not in p.stdout,
           "3.15 picked the free-threaded 3.15: %r" % p.stdout)
    # d picks debug builds only, its absence release builds only; all is
    # every release build
    dbg = v + "/3.13.0d/bin/python3.13d"
    got = picks("3.13d")
    expect(got == [("cpython-3.13.0d", dbg)], "3.13d: %r" % got)
    got = picks("python3.13d")
    expect(got == [("cpython-3.13.0d", dbg)], "python3.13d: %r" % got)
    expect(dbg not in {e for _, e in picks("3.13")}, "3.13 picked the debug build")
    every = picks("all")
    tags = [t for t, _ in every]
    expect({"cpython-3.13.0", "cpython-3.13.0t"} <= set(tags)
           and not {t for t in tags if t.split("-")[1].endswith("d")}
           and len(set(tags)) == len(tags), "all (fakes): tags %r" % tags)
    tags = [t for t, _ in picks("all+debug")]
    expect({"cpython-3.13.0d", "cpython-3.13.0td"} <= set(tags) and set(tags) >= set(
        t for t, _ in every), "all+debug (fakes): tags %r" % tags)

    # the shims were asked about (pyenv which) but never run
    with open(os.path.join(root, "calls.log")) as f:
        calls = f.read().split("\n")
    expect(any(c.startswith("which ") for c in calls), "pyenv which was never asked")
    expect(not any(c.startswith("exec ") for c in calls),
           "a shim was run as a candidate: %r" % [c for c in calls if c.startswith("exec")])

    # a non-Python that prints forever is cut off (timing is not asserted
    # beyond a bound no machine should reach)
    forever = [bin_ + "/forever"] + ([shutil.which("yes")] if shutil.which("yes") else [])
    for exe in forever:
        start = time.monotonic()
        p = run(script, exe, env=env)
        took = time.monotonic() - start
        lines = p.stderr.splitlines()
        expect(p.returncode == 2 and p.stdout == "" and len(lines) == 1
               and "not a usable Python interpreter" in lines[0] and took < 20,
               "%s: exit %d in %.1f s, stdout %r, stderr %r" % (
                   exe, p.returncode, took, p.stdout[:100], p.stderr[:300]))
    # one that never answers is given up on: the bound is the caller's here
    # (2 s), and the sleeper would sleep 600 s
    spec = importlib.util.spec_from_loader(
        "find_pythons", importlib.machinery.SourceFileLoader("find_pythons", script))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    f = module.facts(bin_ + "/sleeper", timeout=2)
    expect("no answer" in f.get("error", ""), "a silent candidate: %r" % f)
    if not failed():
        print("ok: fakes: python3.12 -> %s; 3.13t -> %s; 3.13 -> %s; yes refused in %.1f s"
              % (picks("python3.12")[0][1], " ".join(t for t, _ in picks("3.13t")),
                 " ".join(t for t, _ in picks("3.13")), took))


def check_machine(script):
    one = run(script, "python3")
    lines = one.stdout.split("\n")[:-1]
    expect(one.returncode == 0 and len(lines) == 1 and lines[0].startswith("cpython-3."),
           "python3: exit %d, output %r" % (one.returncode, one.stdout))
    bad = run(script, "python9.99")
    expect(bad.returncode == 2 and "matches no interpreter" in bad.stderr,
           "a bogus entry: exit %d, %r" % (bad.returncode, bad.stderr))
    every = run(script, "all")
    tags = [line.split()[0] for line in every.stdout.splitlines()]
    expect(every.returncode == 0 and tags and len(set(tags)) == len(tags),
           "all: exit %d, tags %r" % (every.returncode, tags))
    if lines:
        expect(lines[0].split()[0] in tags,
               "all does not include python3's interpreter %s" % lines[0])
        # named by two entries (command and path): listed twice, for an A/A run
        tag, exe = lines[0].split(" ", 1)
        twice = run(script, "python3", exe)
        expect(twice.returncode == 0 and twice.stdout == (lines[0] + "\n") * 2,
               "python3 and %s: exit %d, output %r (want it twice)" % (
                   exe, twice.returncode, twice.stdout))
        same = run(script, "python3 python3")
        expect(same.stdout.count(tag) == 2, "python3 python3: output %r (want it twice)"
               % same.stdout)
    if not failed():
        print("ok: python3 -> %s; all -> %s" % (lines[0].split()[0], " ".join(tags)))

    # pyenv's 3.12, reached through its shim whether or not 3.12 is its version
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    pyenv312 = sorted(glob.glob(os.path.join(root, "versions", "3.12*", "bin", "python3.12")))
    on_path = [os.path.join(d, "python3.12") for d in os.environ.get("PATH", "").split(":")]
    elsewhere = [p for p in on_path + ["/usr/bin/python3.12", "/usr/local/bin/python3.12"]
                 if os.path.isfile(p) and "/shims/" not in p]
    if not pyenv312 or elsewhere:
        print("skip: python3.12 on this machine (pyenv's 3.12: %s; other python3.12: %s)"
              % (pyenv312 or "none", elsewhere or "none"))
    else:
        p = run(script, "python3.12")
        want = [os.path.realpath(x) for x in pyenv312]
        ok = p.returncode == 0 and len(rows(p)) == 1 and rows(p)[0][1] in want
        expect(ok, "python3.12: exit %d, %r %r (want one of %s)" % (
            p.returncode, p.stdout, p.stderr, want))
        if ok:
            print("ok: python3.12 -> %s" % p.stdout.strip())

    # pyfacts.py stays runnable by Python 2, so old interpreters say why not
    py2 = sorted(glob.glob(os.path.join(root, "versions", "2.*", "bin", "python2")))
    py2 += [p for p in ("/usr/bin/python2",) if os.path.exists(p)]
    if py2:
        facts = os.path.join(os.path.dirname(os.path.abspath(script)), "pyfacts.py")
        p = subprocess.run([py2[0], facts], capture_output=True, text=True)
        ok = p.returncode == 0 and "usable=0" in p.stdout and "older than 3.8" in p.stdout
        expect(ok, "pyfacts.py under %s: exit %d, %r %r" % (py2[0], p.returncode, p.stdout,
                                                           p.stderr))
        if ok:
            print("ok: pyfacts.py under %s says it is too old" % py2[0])


def check_not_python(script, tmp):
    """A command name that is not a Python is never run; a path is run on
    a copy of pyfacts.py, so it can do nothing to ours."""
    log = os.path.join(tmp, "recorded")
    tool = os.path.join(tmp, "bin2", "mytool")
    write(tool, "#!/bin/sh\necho \"$@\" >> %s\n" % log)
    env = dict(os.environ, PATH=os.path.dirname(tool) + os.pathsep + os.environ["PATH"])
    p = run(script, "mytool", env=env)
    expect(p.returncode == 2 and not os.path.exists(log)
           and "not a path, a python command name" in p.stderr,
           "a command that is not a Python: exit %d, ran: %s, %r"
           % (p.returncode, os.path.exists(log), p.stderr))
    p = run(script, tool, env=env)
    ran = open(log).read().split() if os.path.exists(log) else []
    facts = os.path.join(os.path.dirname(os.path.abspath(script)), "pyfacts.py")
    expect(p.returncode == 2 and ran and os.path.realpath(ran[0]) != os.path.realpath(facts),
           "a path that is not a Python: exit %d, given %r" % (p.returncode, ran))
    print("ok: a command that is not a Python never runs; a path runs on a copy of pyfacts.py")


def main(script):
    script = os.path.abspath(script)
    check_machine(script)
    with tempfile.TemporaryDirectory() as tmp:
        check_fakes(script, tmp)
        check_not_python(script, tmp)
    return failed()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
