/* test_dno.c - does the shim's do-not-optimize / clobber-memory survive -O2?
 * Always compiled with -O2. Each function loops n times (n from argv, so
 * nothing is constant-folded); tests/check_dno.py counts the instructions
 * each executes under callgrind. The *_dropped twins do the same work
 * without the primitive: the compiler deletes it, proving the test can tell.
 */
#include "gbshim.h"

#include <stdio.h>
#include <stdlib.h>

long sink_store;

__attribute__((noinline)) void
kept(long n)
{
    for (long i = 0; i < n; i++) {
        long x = i * 3;
        gbs_do_not_optimize(x);
    }
}

__attribute__((noinline)) void
kept_dropped(long n)
{
    for (long i = 0; i < n; i++) {
        long x = i * 3;
        (void)x;
    }
}

__attribute__((noinline)) void
clobbered(long n)
{
    for (long i = 0; i < n; i++) {
        sink_store = i;
        gbs_clobber_memory();
    }
}

__attribute__((noinline)) void
clobbered_dropped(long n)
{
    for (long i = 0; i < n; i++) {
        sink_store = i;
    }
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    kept(n);
    kept_dropped(n);
    clobbered(n);
    clobbered_dropped(n);
    printf("%ld\n", sink_store);
    return 0;
}
