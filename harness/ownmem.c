/* ownmem.c - the harness's own memory from mmap; see ownmem.h. */
#include "ownmem.h"

#include <sys/mman.h>

/* A header before the returned block records the mapping's length. */
#define OWNMEM_HEADER 64 /* keeps the block 64-byte aligned */

void *ownmem_alloc(size_t bytes)
{
    if (bytes > (size_t)-1 - OWNMEM_HEADER) {
        return NULL;
    }
    char *p = mmap(NULL, bytes + OWNMEM_HEADER, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    *(size_t *)p = bytes + OWNMEM_HEADER;
    return p + OWNMEM_HEADER;
}

void ownmem_free(void *p)
{
    if (p != NULL) {
        char *base = (char *)p - OWNMEM_HEADER;
        munmap(base, *(size_t *)base);
    }
}
