/* malloclib.h - system allocators swapped in with LD_PRELOAD under
 * Python's malloc mode (allocator names malloc+jemalloc, malloc+tcmalloc,
 * malloc+mimalloc), and which library serves this process's malloc.
 *
 * A library cannot be swapped in after start: mlib_ensure re-executes the
 * program with the library in LD_PRELOAD, once, and then proves it took.
 */
#ifndef PYMB_MALLOCLIB_H
#define PYMB_MALLOCLIB_H

#include <stddef.h>

typedef struct mlib_info {
    const char *name;    /* "malloc+jemalloc" */
    const char *soname;  /* "libjemalloc.so.2" */
    const char *package; /* the Debian package that ships it */
} mlib_info;

/* The entry for an allocator name, or NULL when it names no library. */
const mlib_info *mlib_find(const char *allocator);
/* The names mlib_find knows, space-separated. */
const char *mlib_names(void);
/* Make `lib` this process's malloc. Returns 0 when it already is; else
 * re-executes /proc/self/exe with argv and never returns, unless it cannot:
 * then 2, with one line in err saying why (library not found in `dirs`,
 * which is ':'-separated, or the preload did not take). */
int mlib_ensure(const mlib_info *lib, const char *dirs, char **argv, char *err,
                size_t len);
/* The file that provides malloc to this process, e.g. .../libc.so.6. */
const char *mlib_malloc_path(void);

/* glibc's mmap and trim thresholds, fixed where glibc itself puts them
 * once a process has freed an mmapped block of 32 MiB (its largest dynamic
 * values: 32 MiB and 64 MiB), so that they no longer move. Left alone,
 * glibc raises both each time a larger mmapped block is freed, and a case's
 * time follows the cases before it in its process: in a process of its
 * own, alloc/PyObject_Malloc/burst/lifo/4096 ran at 6689 ns an iteration
 * (each burst's 8 MiB trimmed back to the kernel and faulted in again),
 * after the cases before it at 35-70 ns; fixed at glibc's defaults
 * (128 KiB) instead, it still ran at 6498 ns alone and 52 ns after them
 * (whether the freed top can be trimmed follows the heap's layout). A
 * count under --instructions moved 10-21% for 64 KiB reallocs. Called
 * before the interpreter starts, in every mode; GLIBC_TUNABLES naming
 * glibc.malloc.mmap_threshold or trim_threshold, or MALLOC_MMAP_THRESHOLD_
 * or MALLOC_TRIM_THRESHOLD_ in the environment, leaves them to the user.
 * No effect on a malloc swapped in with LD_PRELOAD. */
void mlib_fix_thresholds(void);
/* What mlib_fix_thresholds did, for the result file's context. */
const char *mlib_thresholds(void);

#endif /* PYMB_MALLOCLIB_H */
