/* ownmem.h - the harness's own large arrays and buffers, straight from
 * mmap. Through malloc they would move glibc's dynamic mmap and trim
 * thresholds (a freed 16 MiB block raises them) and so change the allocator
 * a case measures; from mmap they are invisible to every allocator.
 */
#ifndef PYMB_OWNMEM_H
#define PYMB_OWNMEM_H

#include <stddef.h>

/* `bytes` zeroed bytes (rounded up to whole pages), or NULL when the
 * kernel refuses. */
void *ownmem_alloc(size_t bytes);
/* Give back what ownmem_alloc returned; NULL is allowed. */
void ownmem_free(void *p);

#endif /* PYMB_OWNMEM_H */
