/* context.c - the "context" object of a result file: what shapes every
 * number in it (the interpreter and its build, the allocator, the hook, the
 * commit, the host, the compiler), through the shim's gbs_add_context.
 */
#include "program.h"

#include "build_info.h"
#include "cases.h"
#include "gbshim.h"
#include "malloclib.h"
#include "procmem.h"
#include "pyx.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The interpreter: version (on one line), executable, tag, and with
 * `facts` its build facts (which imports sysconfig: stress runs leave them
 * out, so that the children they fork start as small as before). 0, or -1
 * with the reason on stderr. */
static int
python_context(int facts)
{
    char buf[1024];
    /* Py_GetVersion() may hold a newline before the compiler part */
    snprintf(buf, sizeof(buf), "%s", Py_GetVersion());
    for (char *p = buf; *p; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }
    gbs_add_context("python_version", buf);
    gbs_add_context("python_executable", PYMB_PYTHON_EXECUTABLE);
    gbs_add_context("python_tag", PYMB_TAG);
    if (!facts) {
        return 0;
    }
    PyObject *build = pyx_build_facts();
    const char *text = build != NULL ? PyUnicode_AsUTF8(build) : NULL;
    if (text == NULL) {
        pyx_error_text(buf, sizeof(buf));
        fprintf(stderr,
                "pymembench: cannot read the build facts (sysconfig): %s\n",
                buf);
        Py_XDECREF(build);
        return -1;
    }
    gbs_add_context("python_build", text);
    Py_DECREF(build);
    return 0;
}

static void
allocator_context(const options *o)
{
    char buf[1024];
    gbs_add_context("allocator", o->allocator);
    gbs_add_context("suite", o->suite);
    if (mlib_find(o->allocator) != NULL) {
        snprintf(buf, sizeof(buf), "%s, %s via LD_PRELOAD",
                 pyx_allocator_effective(), mlib_find(o->allocator)->soname);
        gbs_add_context("allocator_effective", buf);
    }
    else {
        gbs_add_context("allocator_effective", pyx_allocator_effective());
    }
    gbs_add_context("malloc_library", mlib_malloc_path());
    gbs_add_context("malloc_thresholds", mlib_thresholds());
    gbs_add_context("memhook", o->hook == PMB_HOOK_BOTH ? "both"
                               : o->hook == PMB_HOOK_ON ? "on"
                                                        : "off");
}

static void
host_context(void)
{
    char host[256] = "unknown";
    char buf[1024];
    struct utsname u;
    gbs_add_context("pymembench_commit", PYMB_COMMIT);
    gethostname(host, sizeof(host) - 1);
    if (uname(&u) == 0) {
        snprintf(buf, sizeof(buf), "%s (%s %s %s)", host, u.sysname, u.release,
                 u.machine);
    }
    else {
        snprintf(buf, sizeof(buf), "%s", host);
    }
    gbs_add_context("host", buf);
    gbs_add_context("compiler", PYMB_COMPILER);
}

/* Whether rows' peak_bytes are their own: the probe resets the peak, so
 * never in a process that forks children who measure theirs (stress). */
static void
peak_scope_context(void)
{
    uint64_t rss, peak;
    int resettable =
        procmem_reset_peak() == 0 && procmem_read(&rss, &peak) == 0;
    gbs_add_context("peak_bytes_scope",
                    resettable ? "each run (reset via /proc/self/clear_refs)"
                               : "whole process (peak reset refused)");
}

int
bench_add_context(const options *o)
{
    if (python_context(1) < 0) {
        return -1;
    }
    allocator_context(o);
    host_context();
    peak_scope_context();
    return 0;
}

void
bench_add_stress_context(const options *o)
{
    (void)python_context(0); /* cannot fail without the build facts */
    allocator_context(o);
    host_context();
}

int
bench_instr_context(const void *arg)
{
    const options *o = arg;
    if (bench_add_context(o) < 0) {
        return -1;
    }
    gbs_add_context("measure",
                    "instructions per iteration under callgrind (client "
                    "requests "
                    "around each case's loop); times are under callgrind");
    gbs_add_context("hash_seed", "0 (fixed)");
    /* malloc_thresholds: bench_add_context's, as in every mode */
    gbs_add_context("benchmark_filter", o->filter != NULL ? o->filter : "");
    return 0;
}
