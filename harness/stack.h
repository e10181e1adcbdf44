/* stack.h - C stacks as text for reports: which object (the executable,
 * libpython, an extension) and which exported function each frame is in.
 * Stress runs attribute leaks and crashes with it (ours or CPython's).
 */
#ifndef PYMB_STACK_H
#define PYMB_STACK_H

#include <stddef.h>

/* 1 when the return address pc lies in the executable (our code). */
int pmb_stack_ours(const void *pc);

/* Write frames[0..n) (return addresses, innermost first) into buf as
 * "object:function+0xOFF < object+0xOFF < ...": the object's file name
 * without its folder, the exported function when the dynamic symbol table
 * has one, else the offset from the object's load address (for addr2line
 * on the executable). Characters outside [A-Za-z0-9_.:+<> -] become '_',
 * so the text can sit in a JSON string as it is. Long stacks keep what
 * tells whose code it is: the innermost STACK_INNER frames, then " < ..."
 * and the frames around the first one in the executable (STACK_CALLEE
 * before it: the CPython calls our code made; STACK_CALLER from it) or,
 * with none there, the outermost STACK_CALLER. Truncated to len. */
#define STACK_INNER 10
#define STACK_CALLEE 4
#define STACK_CALLER 3
void pmb_stack_text(void *const *frames, int n, char *buf, size_t len);

#endif /* PYMB_STACK_H */
