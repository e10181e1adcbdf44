/* child.c - one piece of work in a forked child, its fixed-size report
 * back through a pipe (see child.h). Shared by stress runs and instruction
 * counts.
 */
#include <Python.h> /* first, as CPython asks: PyOS_BeforeFork... */

#include "child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *scratch; /* child_set_scratch */

void
child_set_scratch(FILE *f)
{
    scratch = f;
}

/* In the child: run body, write its report, leave without finalizing. */
static void
be_the_child(int fd, void (*body)(void *arg, void *report), void *arg,
             void *report, size_t size, unsigned timeout)
{
    PyOS_AfterFork_Child();
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

int
child_run(void (*body)(void *arg, void *report), void *arg, void *report,
          size_t size, unsigned timeout, child_end *end)
{
    int fds[2];
    memset(end, 0, sizeof(*end));
    if (pipe(fds) < 0) {
        return -1;
    }
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
        close(fds[0]);
        be_the_child(fds[1], body, arg, report, size, timeout);
    }
    PyOS_AfterFork_Parent();
    end->pid = (int)pid;
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    size_t got = read_report(fds[0], report, size);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    end->ok = got == size && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    end->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    end->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (!end->ok && scratch != NULL) {
        keep_tail(end);
    }
    return 0;
}
