# pyfacts.py - run BY an interpreter, prints its build facts as KEY=VALUE
# lines: version, tag, headers, shared libpython, and whether pymembench can
# embed it (usable=1) or why not (reason=...). Facts come from sysconfig,
# never from guessed paths. Kept valid for Python 2.7 so that old
# interpreters can say why they are skipped.
import hashlib
import os
import sys
import sysconfig


def var(name):
    return sysconfig.get_config_var(name) or ""


def origin_suffix(prefix):
    """Distinct tags for distinct installs of the same version."""
    if "/.pyenv/versions/" in prefix or "/pyenv/versions/" in prefix:
        return ""
    if "/uv/python/" in prefix:
        return "-uv"
    if prefix == "/usr":
        return "-system"
    if prefix == "/usr/local":
        return "-local"
    return "-" + hashlib.sha1(prefix.encode("utf-8")).hexdigest()[:6]


def find_library():
    libdir = var("LIBDIR")
    multiarch = var("MULTIARCH")
    dirs = [libdir]
    if multiarch:
        dirs.append(os.path.join(libdir, multiarch))
    for name in (var("LDLIBRARY"), var("INSTSONAME")):
        if not name or not (name.endswith(".so") or ".so." in name):
            continue
        for d in dirs:
            path = os.path.join(d, name)
            if os.path.exists(path):
                return path
    return ""


def main():
    version = "%d.%d.%d" % sys.version_info[:3]
    abiflags = getattr(sys, "abiflags", "")
    # A free-threaded build says so twice (3.13+): abiflags "t" and
    # Py_GIL_DISABLED; either is enough, so that a later version dropping one
    # of them is still told apart from the GIL build of the same number.
    free_threaded = "t" in abiflags or bool(var("Py_GIL_DISABLED"))
    flags = ("t" if free_threaded else "") + ("d" if "d" in abiflags else "")
    prefix = os.path.realpath(getattr(sys, "base_prefix", sys.prefix))
    include = sysconfig.get_paths().get("include", "")
    library = find_library()
    exe = os.path.realpath(sys.executable)
    tag = "cpython-" + version + flags + origin_suffix(prefix)
    reason = ""
    if sys.version_info < (3, 8):
        reason = "Python %s is older than 3.8 (no PyPreConfig/PyConfig)" % version
    elif getattr(sys, "implementation", None) and sys.implementation.name != "cpython":
        reason = "not CPython (%s)" % sys.implementation.name
    elif not var("Py_ENABLE_SHARED"):
        reason = "built without --enable-shared (no shared libpython)"
    elif not library:
        reason = "shared libpython %s not found in %s" % (var("LDLIBRARY"), var("LIBDIR"))
    elif not os.path.exists(os.path.join(include, "Python.h")):
        reason = "no headers in %s (install python%d.%d-dev)" % (
            include, sys.version_info[0], sys.version_info[1])
    print("version=" + version)
    print("tag=" + tag)
    print("executable=" + exe)
    print("prefix=" + prefix)
    print("include=" + include)
    print("library=" + library)
    print("libdir=" + os.path.dirname(library))
    # Debian's python3.X-dbg headers are symlinks to the release ones, so
    # their pyconfig.h does not define Py_DEBUG: the build must.
    print("debug=" + ("1" if "d" in abiflags else "0"))
    print("free_threaded=" + ("1" if free_threaded else "0"))
    print("usable=" + ("0" if reason else "1"))
    print("reason=" + reason)


main()
