/* pymstats.h - pymalloc's own arena and pool counts, read from
 * _PyObject_DebugMallocStats (what sys._debugmallocstats() prints) into
 * numbers. Exported by every CPython 3.8-3.13, public header or not.
 */
#ifndef PYMB_PYMSTATS_H
#define PYMB_PYMSTATS_H

typedef struct pymstats {
    long arenas;          /* arenas allocated now */
    long arena_bytes;     /* the size of one arena: 256 KiB to 3.9, 1 MiB from 3.10 */
    long pools_used;      /* pools holding at least one block (all size classes) */
    long pools_unused;    /* empty pools inside allocated arenas */
    long pool_bytes;      /* the size of one pool */
    long allocated_bytes; /* bytes in allocated blocks */
} pymstats;

/* 1 with *s filled; 0 when pymalloc does not serve objects in this
 * process (another allocator was chosen); -1 when the report could not be
 * read (out of memory, or a format this parser does not know). Call with
 * the GIL held. */
int pymstats_read(pymstats *s);

#endif /* PYMB_PYMSTATS_H */
