/* child.c - one piece of work in a forked child, its fixed-size report
 * back through a pipe (see child.h). Shared by stress runs and instruction
 * counts.
 */
#include <Python.h> /* first, as CPython asks: PyOS_BeforeFork... */

#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *scratch; /* child_set_scratch */

/* The read ends of the children's pipes not yet finished: a child closes
 * them all (its own included), holding no other child's pipe open. */
static int open_reads[CHILD_MAX_RUNNING];
static int nopen_reads;

void
child_set_scratch(FILE *f)
{
    scratch = f;
}

/* In the child: the pipe's write end `fd` moved to the descriptor it has
 * when no other child runs, the second lowest free one (pipe takes the
 * two lowest), so that every child's descriptors are the same whatever
 * ran beside it. Returns the descriptor to write to. */
static int
settle_fd(int fd)
{
    int high = fcntl(fd, F_DUPFD, 512);
    if (high < 0) {
        return fd;
    }
    close(fd);
    int low = dup(high), w = low < 0 ? -1 : dup(high);
    if (w < 0) {
        if (low >= 0) {
            close(low);
        }
        return high;
    }
    close(low);
    close(high);
    return w;
}

/* In the child: run body, write its report, leave without finalizing. */
static void
be_the_child(int fd, void (*body)(void *arg, void *report), void *arg,
             void *report, size_t size, unsigned timeout)
{
    PyOS_AfterFork_Child();
    for (int k = 0; k < nopen_reads; k++) {
        close(open_reads[k]);
    }
    nopen_reads = 0;
    fd = settle_fd(fd);
    if (scratch != NULL) {
        dup2(fileno(scratch), 2);
    }
    alarm(timeout);
    memset(report, 0, size);
    body(arg, report);
    ssize_t w = write(fd, report, size);
    fflush(stdout);
    fflush(stderr);
    _exit(w == (ssize_t)size ? 0 : 3);
}

/* Read up to `size` bytes of report from fd (until EOF); how many came. */
static size_t
read_report(int fd, void *report, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, (char *)report + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    return got;
}

/* The last line or two a child that did not report wrote to stderr, on
 * one line, without quotes or backslashes. */
static void
keep_tail(child_end *end)
{
    fflush(scratch);
    long size_now = fseek(scratch, 0, SEEK_END) == 0 ? ftell(scratch) : 0;
    long from = size_now > (long)sizeof(end->tail) - 1
                    ? size_now - (long)sizeof(end->tail) + 1
                    : 0;
    if (fseek(scratch, from, SEEK_SET) == 0) {
        size_t n = fread(end->tail, 1, sizeof(end->tail) - 1, scratch);
        end->tail[n] = '\0';
        for (char *p = end->tail; *p; p++) {
            if (*p == '\n' || *p == '"' || *p == '\\') {
                *p = p[1] ? ' ' : '\0';
            }
        }
    }
}

/* Forget the read end fd (its child is finished, or never started). */
static void
forget_read(int fd)
{
    for (int k = 0; k < nopen_reads; k++) {
        if (open_reads[k] == fd) {
            open_reads[k] = open_reads[--nopen_reads];
            return;
        }
    }
}

int
child_start(void (*body)(void *arg, void *report), void *arg, void *report,
            size_t size, unsigned timeout, child_proc *c)
{
    int fds[2];
    c->pid = -1;
    c->fd = -1;
    if (nopen_reads == CHILD_MAX_RUNNING) {
        errno = EAGAIN;
        return -1;
    }
    if (pipe(fds) < 0) {
        return -1;
    }
    open_reads[nopen_reads++] = fds[0];
    fflush(stdout);
    fflush(stderr);
    if (scratch != NULL) {
        rewind(scratch);
        if (ftruncate(fileno(scratch), 0) < 0) {
            /* a stale tail is only shown, never parsed */
        }
    }
    PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid == 0) {
        be_the_child(fds[1], body, arg, report, size, timeout);
    }
    int saved = errno;
    PyOS_AfterFork_Parent();
    close(fds[1]);
    if (pid < 0) {
        forget_read(fds[0]);
        close(fds[0]);
        errno = saved;
        return -1;
    }
    c->pid = (int)pid;
    c->fd = fds[0];
    return 0;
}

void
child_finish(child_proc *c, void *report, size_t size, child_end *end)
{
    memset(end, 0, sizeof(*end));
    end->pid = c->pid;
    size_t got = read_report(c->fd, report, size);
    forget_read(c->fd);
    close(c->fd);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    end->ok = got == size && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    end->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    end->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (!end->ok && scratch != NULL) {
        keep_tail(end);
    }
    c->pid = -1;
    c->fd = -1;
}

int
child_run(void (*body)(void *arg, void *report), void *arg, void *report,
          size_t size, unsigned timeout, child_end *end)
{
    child_proc c;
    memset(end, 0, sizeof(*end));
    if (child_start(body, arg, report, size, timeout, &c) < 0) {
        return -1;
    }
    child_finish(&c, report, size, end);
    return 0;
}
