/* split-refcount - the cost behind refcount/incdec_same/mortal on 3.12+:
 * Py_INCREF there adds to and stores only the low 32 bits of the reference
 * count (immortal objects), and the Py_DECREF after it loads the whole 64-bit
 * word, which the CPU cannot forward from the narrower store. This loop does
 * only that, beside the same pair with 64-bit accesses on both sides.
 *
 *   cc -O2 scripts/repro/split-refcount.c -o split-refcount &&
 * ./split-refcount
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

typedef union refcnt {
    int64_t full;
    uint32_t half[2]; /* [0]: the low half on little-endian machines */
} refcnt;

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int
main(void)
{
    volatile refcnt r = {.full = 5};
    const long n = 200000000;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        uint32_t c = r.half[0] + 1u; /* 3.12+ Py_INCREF: 32-bit store */
        if (c == 0) {
            continue;
        }
        r.half[0] = c;
        if ((int32_t)r.full < 0) { /* Py_DECREF: 64-bit load */
            continue;
        }
        r.full = r.full - 1;
    }
    double t1 = now();
    for (long i = 0; i < n; i++) { /* 3.11: 64-bit both sides */
        r.full = r.full + 1;
        r.full = r.full - 1;
    }
    double t2 = now();
    printf("32-bit store then 64-bit load: %.2f ns per pair; 64-bit both: "
           "%.2f ns per pair "
           "(final count %lld, started at 5)\n",
           (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9,
           (long long)r.full);
    return r.full == 5 ? 0 : 1;
}
