/* malloclib.c - LD_PRELOAD allocators; see malloclib.h. */
#define _GNU_SOURCE /* dladdr */
#include "malloclib.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const mlib_info libs[] = {
    {"malloc+jemalloc", "libjemalloc.so.2", "libjemalloc2"},
    {"malloc+tcmalloc", "libtcmalloc.so.4", "libgoogle-perftools4"},
    {"malloc+mimalloc", "libmimalloc.so.2", "libmimalloc2.0"},
    {NULL, NULL, NULL},
};

/* Set in the re-executed process: the preload was already tried. */
#define GUARD "PYMB_PRELOADED"

const mlib_info *
mlib_find(const char *allocator)
{
    for (const mlib_info *l = libs; l->name != NULL; l++) {
        if (strcmp(l->name, allocator) == 0) {
            return l;
        }
    }
    return NULL;
}

const char *
mlib_names(void)
{
    static char names[128];
    if (names[0] == '\0') {
        for (const mlib_info *l = libs; l->name != NULL; l++) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof(names) - used, "%s%s",
                     used ? " " : "", l->name);
        }
    }
    return names;
}

const char *
mlib_malloc_path(void)
{
    Dl_info info;
    void *(*volatile fn)(size_t) = malloc; /* the address the program calls */
    if (dladdr((void *)fn, &info) == 0 || info.dli_fname == NULL) {
        return "unknown";
    }
    return info.dli_fname;
}

/* The name, without its folder, of the file that provides malloc. */
static const char *
malloc_file(void)
{
    const char *path = mlib_malloc_path();
    const char *base = strrchr(path, '/');
    return base != NULL ? base + 1 : path;
}

#define MMAP_THRESHOLD ((int)32 << 20)
#define TRIM_THRESHOLD ((int)64 << 20)

static const char *thresholds = "glibc's, adapting (not fixed yet)";

void
mlib_fix_thresholds(void)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    const char *base = malloc_file();
    /* a malloc swapped in (ours re-executes with PYMB_PRELOADED set; a
     * user's LD_PRELOAD shows in where malloc resolves, in a PIE program) */
    if (getenv(GUARD) != NULL ||
        (strncmp(base, "lib", 3) == 0 && strncmp(base, "libc.so", 7) != 0)) {
        thresholds = "none set: malloc is not glibc's";
        return;
    }
    if (getenv("MALLOC_MMAP_THRESHOLD_") != NULL ||
        getenv("MALLOC_TRIM_THRESHOLD_") != NULL ||
        (tunables != NULL && (strstr(tunables, "malloc.mmap_threshold") ||
                              strstr(tunables, "malloc.trim_threshold")))) {
        thresholds = "glibc's, as the environment set them";
        return;
    }
    /* given explicitly, they no longer adapt */
    const int mmap_fixed = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1;
    const int trim_fixed = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
    if (mmap_fixed && trim_fixed) {
        thresholds = "glibc's mmap threshold fixed at 32 MiB and trim "
                     "threshold at 64 MiB (where a process that freed a "
                     "32 MiB block has them)";
    }
    else if (mmap_fixed || trim_fixed) {
        thresholds = mmap_fixed ? "glibc's mmap threshold fixed at 32 MiB; "
                                  "mallopt refused the trim threshold"
                                : "glibc's trim threshold fixed at 64 MiB; "
                                  "mallopt refused the mmap threshold";
    }
    else {
        thresholds = "glibc's, adapting (mallopt refused to fix them)";
    }
}

const char *
mlib_thresholds(void)
{
    return thresholds;
}

/* Does the file serving malloc have the library's soname as its name? */
static int
in_effect(const mlib_info *lib)
{
    const char *base = malloc_file();
    /* "libjemalloc.so.2" matches libjemalloc.so.2 and libjemalloc.so.2.x */
    return strncmp(base, lib->soname, strlen(lib->soname)) == 0;
}

/* The first readable dir/soname in the ':'-separated dirs, into out. */
static int
locate(const mlib_info *lib, const char *dirs, char *out, size_t len)
{
    const char *p = dirs;
    while (*p != '\0') {
        size_t n = strcspn(p, ":");
        if (n > 0 &&
            (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, lib->soname) <
                len &&
            access(out, R_OK) == 0) {
            return 0;
        }
        p += n;
        if (*p == ':') {
            p++;
        }
    }
    return -1;
}

int
mlib_ensure(const mlib_info *lib, const char *dirs, char **argv, char *err,
            size_t len)
{
    char path[4096];
    char preload[8192];
    if (in_effect(lib)) {
        return 0;
    }
    if (getenv(GUARD) != NULL) {
        snprintf(err, len,
                 "%s: LD_PRELOAD=%s did not take effect (malloc still comes "
                 "from "
                 "%s); check that the file is a malloc replacement",
                 lib->name, getenv(GUARD), mlib_malloc_path());
        return 2;
    }
    if (locate(lib, dirs, path, sizeof(path)) < 0) {
        snprintf(err, len,
                 "%s: %s not found in %s; install it with: sudo apt-get "
                 "install %s "
                 "(or name its folder in PYMB_LIBDIRS)",
                 lib->name, lib->soname, dirs, lib->package);
        return 2;
    }
    const char *old = getenv("LD_PRELOAD");
    if ((size_t)snprintf(preload, sizeof(preload), "%s%s%s", path,
                         old && *old ? ":" : "",
                         old && *old ? old : "") >= sizeof(preload)) {
        snprintf(err, len, "%s: LD_PRELOAD too long", lib->name);
        return 2;
    }
    if (setenv("LD_PRELOAD", preload, 1) != 0 || setenv(GUARD, path, 1) != 0) {
        snprintf(err, len, "%s: cannot set LD_PRELOAD", lib->name);
        return 2;
    }
    fflush(NULL);
    execv("/proc/self/exe", argv);
    snprintf(err, len,
             "%s: cannot re-execute /proc/self/exe with LD_PRELOAD=%s",
             lib->name, path);
    return 2;
}
