/* procmem.c - process memory readings; see procmem.h. */
#include "procmem.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int
procmem_read(uint64_t *rss, uint64_t *peak)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    int found = 0;
    unsigned long long kib;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1) {
            *rss = (uint64_t)kib * 1024;
            found |= 1;
        }
        else if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
            *peak = (uint64_t)kib * 1024;
            found |= 2;
        }
    }
    fclose(f);
    return found == 3 ? 0 : -1;
}

/* The highest peak seen before any reset: resets are per case, the
 * process's own peak is wanted once at the end. */
static uint64_t peak_before_resets;

int
procmem_process_peak(uint64_t *peak)
{
    uint64_t rss, now;
    if (procmem_read(&rss, &now) < 0) {
        return -1;
    }
    *peak = now > peak_before_resets ? now : peak_before_resets;
    return 0;
}

int
procmem_reset_peak(void)
{
    uint64_t before;
    if (procmem_process_peak(&before) == 0) {
        peak_before_resets = before;
    }
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL) {
        return -1;
    }
    int ok = fputs("5", f) >= 0;
    /* the write happens at fclose; a refusing kernel fails it there */
    if (fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

int64_t
procmem_minor_faults(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_minflt : 0;
}
