/* pymstats.c - parse pymalloc's statistics report; see pymstats.h.
 *
 * The report's lines we read (3.8-3.13):
 *   class   size   num pools   blocks in use  avail blocks   (header, then rows)
 *   # arenas allocated current         =                   18
 *   18 arenas * 262144 bytes/arena     =            4,718,592
 *   # bytes in allocated blocks        =            4,492,080
 *   18 unused pools * 4096 bytes       =               73,728
 */
#include "pymstats.h"

#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPython's, declared in an internal header from 3.11 on. */
extern int _PyObject_DebugMallocStats(FILE *out);

/* The number after the last '=' of a line, commas skipped; -1 if none. */
static long value_after_equals(const char *line)
{
    const char *p = strrchr(line, '=');
    if (p == NULL) {
        return -1;
    }
    long v = 0;
    int digits = 0;
    for (p++; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            digits++;
        }
        else if (*p != ',' && *p != ' ') {
            break;
        }
    }
    return digits ? v : -1;
}

static void parse_line(const char *line, pymstats *s, int *in_table)
{
    unsigned cls, size;
    long npools, n, bytes;
    if (strncmp(line, "-----", 5) == 0) {
        *in_table = 1;
        return;
    }
    if (*in_table) {
        if (sscanf(line, "%u %u %ld", &cls, &size, &npools) == 3) {
            s->pools_used += npools;
            return;
        }
        *in_table = 0;
    }
    if (strncmp(line, "# arenas allocated current", 26) == 0) {
        s->arenas = value_after_equals(line);
    }
    else if (strncmp(line, "# bytes in allocated blocks", 27) == 0) {
        s->allocated_bytes = value_after_equals(line);
    }
    else if (sscanf(line, "%ld arenas * %ld bytes/arena", &n, &bytes) == 2) {
        s->arena_bytes = bytes;
    }
    else if (sscanf(line, "%ld unused pools * %ld bytes", &n, &bytes) == 2) {
        s->pools_unused = n;
        s->pool_bytes = bytes;
    }
}

int pymstats_read(pymstats *s)
{
    char *text = NULL;
    size_t len = 0;
    int rc = -1;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        return -1;
    }
    int served = _PyObject_DebugMallocStats(f);
    if (fclose(f) != 0 || text == NULL) {
        goto done;
    }
    if (!served) {
        rc = 0;
        goto done;
    }
    memset(s, 0, sizeof(*s));
    s->arenas = s->arena_bytes = s->pools_unused = s->pool_bytes = s->allocated_bytes = -1;
    int in_table = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        parse_line(line, s, &in_table);
    }
    if (s->arenas >= 0 && s->allocated_bytes >= 0 &&
        (s->arenas == 0 || (s->arena_bytes > 0 && s->pool_bytes > 0))) {
        rc = 1;
    }
done:
    free(text);
    return rc;
}
