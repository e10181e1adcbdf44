/* outfile.c - results reach their file whole or not at all: Google
 * Benchmark (or a driver) writes a temporary file beside the target, which
 * is renamed at the end and removed on Ctrl-C, SIGTERM, SIGHUP or a crash.
 * A crash also names the running case.
 */
#include "program.h"

#include "cases.h"

#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The temporary result file, removed if the run is interrupted. */
static const char *volatile pending_tmp;
static volatile pid_t
    pending_owner; /* a forked child (--instructions) leaves it */

static void
remove_pending(void)
{
    if (pending_tmp != NULL && getpid() == pending_owner) {
        unlink(pending_tmp); /* async-signal-safe */
    }
}

static void
on_interrupt(int sig)
{
    remove_pending();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* bench_keep_crash_stack: where a crash's C stack goes. */
static void **crash_frames;
static int crash_max;
static int *crash_n;

void
bench_keep_crash_stack(void **frames, int max, int *n)
{
    crash_frames = frames;
    crash_max = max;
    crash_n = n;
}

/* A case that crashes the process: say which and how, keep its C stack
 * where asked, remove the partial result file, then die of the same
 * signal (the exit status tells it). */
static void
on_crash(int sig)
{
    static const char head[] = "pymembench: case ";
    const char *name = pmb_running_name();
    const char *what = pmb_signal_name(sig);
    if (name != NULL) {
        ssize_t w = write(2, head, sizeof(head) - 1);
        w += write(2, name, strlen(name));
        w += write(2, " crashed: ", 10);
        w += write(2, what, strlen(what));
        w += write(2, "\n", 1);
        (void)w;
    }
    if (crash_frames != NULL) {
        /* warmed up by bench_catch_crashes: no lazy loading here */
        *crash_n = backtrace(crash_frames, crash_max);
    }
    remove_pending();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* On an alternate stack, so that a stack overflow is reported too. */
void
bench_catch_crashes(void)
{
    static char altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack,
                  .ss_size = sizeof(altstack),
                  .ss_flags = 0};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)(SA_ONSTACK | SA_RESETHAND | SA_NODEFER);
    sigemptyset(&sa.sa_mask);
    sigaltstack(&ss, NULL);
    void *warm[2];
    (void)backtrace(warm, 2); /* loads the unwinder now, not in a handler */
    const int sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}

int
bench_out_prepare(options *o)
{
    if (o->out == NULL) {
        return 0;
    }
    int n = snprintf(o->out_tmp, sizeof(o->out_tmp), "%s.tmp.%ld", o->out,
                     (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(o->out_tmp)) {
        return bench_usage("output path too long: %s", o->out);
    }
    return 0;
}

/* Creating it proves the folder is writable before anything runs. */
int
bench_out_open(const options *o)
{
    if (o->out == NULL) {
        return 0;
    }
    pending_tmp = o->out_tmp;
    pending_owner = getpid();
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    signal(SIGHUP, on_interrupt);
    FILE *f = fopen(o->out_tmp, "w");
    if (f == NULL) {
        pending_tmp = NULL;
        return bench_usage("cannot write %s: check the folder exists and is "
                           "writable",
                           o->out_tmp);
    }
    fclose(f);
    return 0;
}

int
bench_out_commit(const options *o)
{
    if (o->out != NULL && rename(o->out_tmp, o->out) != 0) {
        perror("pymembench: cannot move the results into place");
        return 2;
    }
    return 0;
}

void
bench_out_discard(const options *o)
{
    if (o->out != NULL) {
        pending_tmp = NULL;
        remove(o->out_tmp); /* no-op once renamed */
    }
}
