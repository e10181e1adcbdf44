/* expect.h - the one assertion the C test programs share: on failure, name
 * the place and the reason, remember it (the program exits 1), go on. */
#ifndef PYMB_EXPECT_H
#define PYMB_EXPECT_H

#include <stdio.h>

static int failed;

#define EXPECT(cond, ...)                               \
    do {                                                \
        if (!(cond)) {                                  \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
            failed = 1;                                 \
        }                                               \
    } while (0)

#endif /* PYMB_EXPECT_H */
