/* stack.c - C stacks as text; see stack.h. */
#define _GNU_SOURCE
#include "stack.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Append s to buf[*used..len), replacing what a JSON string or the frame
 * separators would need escaped. */
static void
put(char *buf, size_t len, size_t *used, const char *s)
{
    for (; *s != '\0' && *used + 1 < len; s++) {
        const char c = *s;
        const int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || strchr("_.:+-< ", c);
        buf[(*used)++] = plain ? c : '_';
    }
    buf[*used] = '\0';
}

int
pmb_stack_ours(const void *pc)
{
    Dl_info mine, info;
    return dladdr((const void *)pmb_stack_ours, &mine) != 0 &&
           dladdr(pc, &info) != 0 && info.dli_fbase == mine.dli_fbase;
}

/* Whether frame i of n is printed (see stack.h); b is the first frame in
 * the executable, or -1. */
static int
shown(int i, int n, int b)
{
    if (i < STACK_INNER) {
        return 1;
    }
    return b >= 0 ? i >= b - STACK_CALLEE && i < b + STACK_CALLER
                  : i >= n - STACK_CALLER;
}

void
pmb_stack_text(void *const *frames, int n, char *buf, size_t len)
{
    size_t used = 0;
    char off[40];
    int b = -1;
    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    for (int i = 0; i < n && b < 0; i++) {
        b = pmb_stack_ours(frames[i]) ? i : -1;
    }
    for (int i = 0; i < n; i++) {
        Dl_info info;
        const uintptr_t pc = (uintptr_t)frames[i];
        if (!shown(i, n, b)) {
            continue;
        }
        if (i > 0) {
            put(buf, len, &used, shown(i - 1, n, b) ? " < " : " < ... < ");
        }
        if (dladdr(frames[i], &info) == 0 || info.dli_fname == NULL ||
            info.dli_fname[0] == '\0') {
            snprintf(off, sizeof(off), "?+0x%llx", (unsigned long long)pc);
            put(buf, len, &used, off);
            continue;
        }
        const char *slash = strrchr(info.dli_fname, '/');
        put(buf, len, &used, slash != NULL ? slash + 1 : info.dli_fname);
        if (info.dli_sname != NULL && info.dli_saddr != NULL) {
            put(buf, len, &used, ":");
            put(buf, len, &used, info.dli_sname);
            snprintf(off, sizeof(off), "+0x%llx",
                     (unsigned long long)(pc - (uintptr_t)info.dli_saddr));
        }
        else {
            snprintf(off, sizeof(off), "+0x%llx",
                     (unsigned long long)(pc - (uintptr_t)info.dli_fbase));
        }
        put(buf, len, &used, off);
    }
}
