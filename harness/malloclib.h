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

#endif /* PYMB_MALLOCLIB_H */
