/* child.h - run a piece of work in a forked child: a crash ends the child,
 * not the run, and the child starts from the parent's state every time
 * (the parent runs no case between forks). The child writes one fixed-size
 * report into a pipe and leaves with _exit (no finalization: the parent
 * owns the interpreter).
 */
#ifndef PYMB_CHILD_H
#define PYMB_CHILD_H

#include <stddef.h>
#include <stdio.h>

/* What the parent learnt from one child. */
typedef struct child_end {
    int ok;         /* the report arrived */
    int signal;     /* the child died of this signal, or 0 */
    int status;     /* its exit status otherwise */
    char tail[400]; /* the end of its stderr when it did not report */
    int pid;        /* the child's process id */
} child_end;

/* Children's stderr goes to `f` (rewound for each child), whose tail the
 * parent keeps when a child does not report; NULL: children keep stderr. */
void child_set_scratch(FILE *f);

/* Fork; the child runs `body` (which fills `report`), writes it to the
 * pipe and exits; the parent waits and fills `end`. `timeout` seconds
 * bound the child (SIGALRM). 0, or -1 when fork or pipe failed. */
int child_run(void (*body)(void *arg, void *report), void *arg, void *report,
              size_t size, unsigned timeout, child_end *end);

/* child_run in two halves, for several children at once (at most
 * CHILD_MAX_RUNNING). child_start forks as child_run does and returns
 * without waiting: 0, or -1 when fork or pipe failed (errno says why).
 * Each child closes the other children's pipes and holds its own at the
 * descriptor it would have had alone, so that children started alongside
 * others see the same process as one started alone. The parent knows a
 * child has ended when its fd reads (poll); child_finish then reads its
 * report into `report` and fills `end` as child_run does. */
#define CHILD_MAX_RUNNING 64

typedef struct child_proc {
    int pid;
    int fd; /* the read end of its report's pipe */
} child_proc;

int child_start(void (*body)(void *arg, void *report), void *arg, void *report,
                size_t size, unsigned timeout, child_proc *c);
void child_finish(child_proc *c, void *report, size_t size, child_end *end);

#endif /* PYMB_CHILD_H */
