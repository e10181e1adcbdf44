/* pins.c - --iterations-from files; see pins.h. */
#include "pins.h"

#include "cases.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line "NAME N" into name (400 bytes) and *it. 0, or -1 when it is
 * not one. */
static int
pin_parse(const char *line, char *name, int64_t *it)
{
    int at = 0;
    char *end = NULL;
    long long v = 0;
    if (sscanf(line, "%399s %n", name, &at) == 1 && at > 0) {
        v = strtoll(line + at, &end, 10);
    }
    *it = v;
    if (end == NULL || end == line + at ||
        end[strspn(end, " \t\r\n")] != '\0' || v < 1 || v > PINS_MAX) {
        return -1;
    }
    return 0;
}

int
pins_read(const char *path, int64_t *iterations)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pymembench: cannot read --iterations-from=%s: %s\n",
                path, strerror(errno));
        return -1;
    }
    char line[512], name[400];
    int64_t it;
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') {
            continue;
        }
        if (pin_parse(line, name, &it) < 0) {
            fprintf(stderr,
                    "pymembench: %s line %d is not 'NAME ITERATIONS' (1 to "
                    "%lld)\n",
                    path, lineno, (long long)PINS_MAX);
            rc = -1;
        }
        for (size_t i = 0; rc == 0 && i < pmb_nrows(); i++) {
            if (iterations[i] == 0 &&
                (strcmp(pmb_row_name(i), name) == 0 ||
                 strcmp(pmb_row_full_name(i), name) == 0)) {
                iterations[i] = it;
            }
        }
    }
    fclose(f);
    return rc;
}
