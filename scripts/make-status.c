/* make-status.c - a GNU make plugin (loaded by the Makefile): the function
 * $(pymb-status FILE) reads the exit status a recipe wrote in FILE, removes
 * FILE and, when the status is not 0, ends make with that same status.
 * GNU make itself exits 2 whenever a recipe fails, which would turn a
 * measured failure (1: a regression, a failed check) into what looks like a
 * usage or environment error (2). A missing FILE is no status (make -n
 * expands the recipe without running the one that writes it); an
 * unreadable one is 2. */
#include <gnumake.h>

#include <stdio.h>
#include <stdlib.h>

int plugin_is_GPL_compatible;

int pymb_status_gmk_setup(const gmk_floc *floc);

static char *
pymb_status(const char *name, unsigned int argc, char **argv)
{
    FILE *f = fopen(argv[0], "r");
    int status = 2;

    (void)name;
    (void)argc;
    if (f == NULL) {
        return NULL;
    }
    if (fscanf(f, "%d", &status) != 1 || status < 0 || status > 255) {
        status = 2;
    }
    fclose(f);
    remove(argv[0]);
    if (status != 0) {
        fflush(stdout);
        fflush(stderr);
        exit(status);
    }
    return NULL;
}

int
pymb_status_gmk_setup(const gmk_floc *floc)
{
    (void)floc;
    gmk_add_function("pymb-status", pymb_status, 1, 1, GMK_FUNC_DEFAULT);
    return 1;
}
