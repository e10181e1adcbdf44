// gbshim.cc - implements gbshim.h over Google Benchmark 1.7.1.
//
// The project's only C++ file. A gbs_state* is a benchmark::State* or the
// one manual state (told apart by address); a gbs_bench* is a
// benchmark::internal::Benchmark*. Nothing here owns the Google Benchmark
// objects.

#include "gbshim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace {

// The manual state (gbs_manual_begin): a fixed iteration budget, no clock.
struct Manual {
    int64_t max = 0;
    int64_t done = 0;
    bool error = false;
    std::string message;
};
Manual manual;

bool is_manual(const gbs_state *st)
{
    return reinterpret_cast<const void *>(st) == static_cast<const void *>(&manual);
}

bool manual_keep(int64_t n)
{
    if (manual.error || manual.done >= manual.max) {
        return false;
    }
    manual.done += n;
    return true;
}

benchmark::State *S(gbs_state *st) { return reinterpret_cast<benchmark::State *>(st); }
const benchmark::State *S(const gbs_state *st)
{
    return reinterpret_cast<const benchmark::State *>(st);
}
benchmark::internal::Benchmark *B(gbs_bench *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

}  // namespace

extern "C" {

int gbs_initialize(int *argc, char **argv, void (*on_bad_flag)(void))
{
    benchmark::Initialize(argc, argv,
                          on_bad_flag != nullptr ? on_bad_flag : benchmark::PrintDefaultHelp);
    return benchmark::ReportUnrecognizedArguments(*argc, argv) ? -1 : 0;
}

size_t gbs_run_specified(void) { return benchmark::RunSpecifiedBenchmarks(); }

void gbs_shutdown(void) { benchmark::Shutdown(); }

gbs_bench *gbs_register(const char *name, gbs_fn fn, void *ctx)
{
    try {
        auto *b = benchmark::RegisterBenchmark(
            name, [fn, ctx](benchmark::State &st) {
                fn(reinterpret_cast<gbs_state *>(&st), ctx);
            });
        return reinterpret_cast<gbs_bench *>(b);
    } catch (...) {
        return nullptr;
    }
}

void gbs_bench_arg(gbs_bench *b, int64_t value) { B(b)->Arg(value); }

void gbs_bench_range(gbs_bench *b, int64_t lo, int64_t hi, int mult)
{
    B(b)->RangeMultiplier(mult)->Range(lo, hi);
}

void gbs_bench_iterations(gbs_bench *b, int64_t n) { B(b)->Iterations(n); }

void gbs_bench_use_real_time(gbs_bench *b) { B(b)->UseRealTime(); }

int gbs_keep_running_batch(gbs_state *st, int64_t n)
{
    return is_manual(st) ? manual_keep(n) : S(st)->KeepRunningBatch(n);
}

int gbs_keep_running(gbs_state *st) { return is_manual(st) ? manual_keep(1) : S(st)->KeepRunning(); }

void gbs_pause(gbs_state *st)
{
    if (!is_manual(st)) {
        S(st)->PauseTiming();
    }
}

void gbs_resume(gbs_state *st)
{
    if (!is_manual(st)) {
        S(st)->ResumeTiming();
    }
}

int64_t gbs_arg(const gbs_state *st, int index)
{
    return is_manual(st) ? 0 : S(st)->range(index);
}

int64_t gbs_iterations(const gbs_state *st)
{
    return is_manual(st) ? manual.done : S(st)->iterations();
}

void gbs_set_items_processed(gbs_state *st, int64_t items)
{
    if (!is_manual(st)) {
        S(st)->SetItemsProcessed(items);
    }
}

void gbs_set_bytes_processed(gbs_state *st, int64_t bytes)
{
    if (!is_manual(st)) {
        S(st)->SetBytesProcessed(bytes);
    }
}

void gbs_set_label(gbs_state *st, const char *label)
{
    if (!is_manual(st)) {
        S(st)->SetLabel(label);
    }
}

void gbs_counter(gbs_state *st, const char *name, double value, int flags)
{
    if (is_manual(st)) {
        return;
    }
    int gb = flags & ~GBS_COUNTER_INVERT;
    if (flags & GBS_COUNTER_INVERT) {
        gb |= benchmark::Counter::kInvert;
    }
    S(st)->counters[name] =
        benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(gb));
}

void gbs_skip_with_error(gbs_state *st, const char *msg)
{
    if (!is_manual(st)) {
        S(st)->SkipWithError(msg);
    }
    else if (!manual.error) {
        manual.error = true;
        manual.message = msg;
    }
}

int gbs_error_occurred(const gbs_state *st)
{
    return is_manual(st) ? manual.error : S(st)->error_occurred();
}

gbs_state *gbs_manual_begin(int64_t iterations)
{
    manual.max = iterations;
    manual.done = 0;
    manual.error = false;
    manual.message.clear();
    return reinterpret_cast<gbs_state *>(&manual);
}

const char *gbs_manual_error(const gbs_state *st)
{
    return is_manual(st) && manual.error ? manual.message.c_str() : nullptr;
}

void gbs_manual_end(gbs_state *st)
{
    if (is_manual(st)) {
        manual.max = 0;
    }
}

void gbs_add_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

}  // extern "C"
