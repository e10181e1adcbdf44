// gbshim.cc - implements gbshim.h over Google Benchmark 1.7.1.
//
// The project's only C++ file. A gbs_state* is a benchmark::State* or the
// one manual state (told apart by address); a gbs_bench* is a
// benchmark::internal::Benchmark*. Nothing here owns the Google Benchmark
// objects.

#include "gbshim.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <string>

#include <unistd.h>

namespace {

// The manual state (gbs_manual_begin): a fixed iteration budget, no clock.
struct Manual {
    int64_t max = 0;
    int64_t done = 0;
    bool error = false;
    std::string message;
    void (*watch)(int) = nullptr;   // gbs_manual_watch
    bool measuring = false;         // between watch(1) and watch(0)
    bool in_loop = false;           // between the loop's first and last keep
    bool keep_counters = false;     // gbs_manual_keep_counters
    int64_t counted_iterations = 0; // the iterations `counters` cover
    std::map<std::string, std::pair<double, int>> counters; // value, flags
};
Manual manual;

void
manual_measure(bool on)
{
    if (manual.watch != nullptr && on != manual.measuring) {
        manual.measuring = on;
        manual.watch(on ? 1 : 0);
    }
}

bool
is_manual(const gbs_state *st)
{
    return reinterpret_cast<const void *>(st) ==
           static_cast<const void *>(&manual);
}

bool
manual_keep(int64_t n)
{
    if (manual.error || manual.done >= manual.max) {
        manual.in_loop = false;
        manual_measure(false);
        return false;
    }
    if (!manual.in_loop && manual.done == 0) {
        manual.in_loop = true;
        manual_measure(true);
    }
    manual.done += n;
    return true;
}

// Google Benchmark writes a figure it cannot compute (the cv of a counter
// that is always 0) as a bare NaN, which strict JSON parsers refuse (and
// its console table as -nan%). The reporters below leave such a counter out
// of its row instead: result files are strict JSON, and Google Benchmark's
// own tools read a row without it.
//
// A row given its iteration count (gbs_bench_iterations) is named
// NAME/iterations:N by Google Benchmark; it is reported as NAME, like every
// other row (its `iterations` field says N).
std::vector<benchmark::BenchmarkReporter::Run>
as_reported(const std::vector<benchmark::BenchmarkReporter::Run> &reports)
{
    std::vector<benchmark::BenchmarkReporter::Run> clean(reports);
    for (auto &run : clean) {
        run.run_name.iterations.clear();
        for (auto it = run.counters.begin(); it != run.counters.end();) {
            if (std::isfinite(static_cast<double>(it->second))) {
                ++it;
            }
            else {
                it = run.counters.erase(it);
            }
        }
    }
    return clean;
}

// gbs_end_context's entry: a key and where its value comes from.
const char *end_key;
int (*end_value)(uint64_t *value);

// Google Benchmark's JSON, streamed to the file as it writes it. With
// `end_context`, the context opens with a blank line wide enough for
// gbs_end_context's entry (whitespace, which JSON allows between tokens),
// and Finalize writes the entry over it once every row has run: the file
// is valid JSON with the blank line or the entry. Nothing is held in
// memory (a document held until the end would add to the RSS that later
// cases measure).
class StrictJSONReporter : public benchmark::JSONReporter {
  public:
    explicit StrictJSONReporter(bool end_context = false)
        : end_context_(end_context && end_key != nullptr)
    {}
    bool ReportContext(const Context &context) override
    {
        if (!end_context_) {
            return benchmark::JSONReporter::ReportContext(context);
        }
        std::ostream &file = GetOutputStream();
        std::ostringstream head;
        SetOutputStream(&head);
        const bool ok = benchmark::JSONReporter::ReportContext(context);
        SetOutputStream(&file);
        std::string text = head.str();
        if (text.compare(0, kHead.size(), kHead) == 0) {
            const std::streampos start = file.tellp();
            if (start != std::streampos(-1)) {
                blank_at_ = start + std::streamoff(kHead.size());
            }
            text.insert(kHead.size(), blank_width() + 1, ' ');
            text[kHead.size() + blank_width()] = '\n';
        }
        file << text;
        return ok;
    }
    void ReportRuns(const std::vector<Run> &reports) override
    {
        benchmark::JSONReporter::ReportRuns(as_reported(reports));
    }
    void Finalize() override
    {
        benchmark::JSONReporter::Finalize();
        if (end_context_) {
            write_end_context();
        }
    }

  private:
    // "{", then "context" opening: how Google Benchmark starts its JSON
    const std::string kHead = "{\n  \"context\": {\n";

    // `    "KEY": N,` for N of up to 20 digits
    size_t blank_width() const
    {
        return std::strlen(end_key) + 29;
    }

    // The entry over the blank line, padded with spaces; said on stderr
    // when there is no blank line to write it over (a stream that cannot
    // seek, or a document that did not open as above).
    void write_end_context()
    {
        uint64_t value = 0;
        if (end_value(&value) != 0) {
            return; // no value: the blank line stays
        }
        std::ostream &file = GetOutputStream();
        std::string entry = std::string("    \"") + end_key +
                            "\": " + std::to_string(value) + ",";
        if (blank_at_ == std::streampos(-1) || entry.size() > blank_width()) {
            std::fprintf(stderr,
                         "pymembench: warning: %s is not in the results: "
                         "no room for it in the file's context\n",
                         end_key);
            return;
        }
        entry.resize(blank_width(), ' ');
        file.flush();
        const std::streampos end = file.tellp();
        file.seekp(blank_at_);
        file << entry;
        file.seekp(end);
        file.flush();
    }

    bool end_context_;
    std::streampos blank_at_ = std::streampos(-1);
};

// gbs_progress: the console table as Google Benchmark prints it (without
// the -nan% of a counter's undefined cv, as in the JSON), and a line on
// stderr once per case (its first report: a case's repetitions and
// aggregates may come in several).
class ProgressReporter : public benchmark::ConsoleReporter {
  public:
    ProgressReporter(OutputOptions opts, size_t total)
        : ConsoleReporter(opts), total_(total),
          since_(std::chrono::steady_clock::now())
    {}
    void ReportRuns(const std::vector<Run> &reports) override
    {
        const std::vector<Run> clean = as_reported(reports);
        ConsoleReporter::ReportRuns(clean);
        if (clean.empty() || clean[0].run_name.str() == last_) {
            return;
        }
        last_ = clean[0].run_name.str();
        auto now = std::chrono::steady_clock::now();
        std::chrono::duration<double> took = now - since_;
        since_ = now;
        std::fflush(stdout);
        std::fprintf(stderr, "pymembench: progress %zu/%zu %.3f %s\n", ++done_,
                     total_, took.count(), last_.c_str());
    }

  private:
    size_t total_;
    size_t done_ = 0;
    std::string last_;
    std::chrono::steady_clock::time_point since_;
};
size_t progress_total;
bool progress_on;

benchmark::State *
S(gbs_state *st)
{
    return reinterpret_cast<benchmark::State *>(st);
}
const benchmark::State *
S(const gbs_state *st)
{
    return reinterpret_cast<const benchmark::State *>(st);
}
benchmark::internal::Benchmark *
B(gbs_bench *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

} // namespace

extern "C" {

int
gbs_initialize(int *argc, char **argv, void (*on_bad_flag)(void))
{
    benchmark::Initialize(argc, argv,
                          on_bad_flag != nullptr
                              ? on_bad_flag
                              : benchmark::PrintDefaultHelp);
    return benchmark::ReportUnrecognizedArguments(*argc, argv) ? -1 : 0;
}

size_t
gbs_run_specified(int json_out, const char *spec)
{
    std::unique_ptr<ProgressReporter> shown;
    if (progress_on) {
        shown.reset(
            new (std::nothrow)
                ProgressReporter(isatty(STDOUT_FILENO)
                                     ? benchmark::ConsoleReporter::OO_Color
                                     : benchmark::ConsoleReporter::OO_None,
                                 progress_total));
    }
    StrictJSONReporter file(true);
    benchmark::BenchmarkReporter *to_file = json_out ? &file : nullptr;
    if (spec == nullptr) { // --benchmark_filter's
        return benchmark::RunSpecifiedBenchmarks(shown.get(), to_file);
    }
    return benchmark::RunSpecifiedBenchmarks(shown.get(), to_file, spec);
}

void
gbs_progress(size_t total)
{
    progress_on = true;
    progress_total = total;
}

void
gbs_shutdown(void)
{
    benchmark::Shutdown();
}

gbs_bench *
gbs_register(const char *name, gbs_fn fn, void *ctx)
{
    try {
        auto run = [fn, ctx](benchmark::State &st) {
            fn(reinterpret_cast<gbs_state *>(&st), ctx);
        };
        auto *b = benchmark::RegisterBenchmark(name, run);
        return reinterpret_cast<gbs_bench *>(b);
    } catch (...) {
        return nullptr;
    }
}

void
gbs_bench_use_real_time(gbs_bench *b)
{
    B(b)->UseRealTime();
}

void
gbs_bench_iterations(gbs_bench *b, int64_t n)
{
    B(b)->Iterations(static_cast<benchmark::IterationCount>(n));
}

int
gbs_keep_running_batch(gbs_state *st, int64_t n)
{
    return is_manual(st) ? manual_keep(n) : S(st)->KeepRunningBatch(n);
}

int
gbs_keep_running(gbs_state *st)
{
    return is_manual(st) ? manual_keep(1) : S(st)->KeepRunning();
}

void
gbs_pause(gbs_state *st)
{
    if (!is_manual(st)) {
        S(st)->PauseTiming();
    }
    else {
        manual_measure(false);
    }
}

void
gbs_resume(gbs_state *st)
{
    if (!is_manual(st)) {
        S(st)->ResumeTiming();
    }
    else if (manual.in_loop) {
        manual_measure(true);
    }
}

int64_t
gbs_iterations(const gbs_state *st)
{
    return is_manual(st) ? manual.done : S(st)->iterations();
}

void
gbs_set_items_processed(gbs_state *st, int64_t items)
{
    if (!is_manual(st)) {
        S(st)->SetItemsProcessed(items);
    }
}

void
gbs_set_bytes_processed(gbs_state *st, int64_t bytes)
{
    if (!is_manual(st)) {
        S(st)->SetBytesProcessed(bytes);
    }
}

void
gbs_set_label(gbs_state *st, const char *label)
{
    if (!is_manual(st)) {
        S(st)->SetLabel(label);
    }
}

void
gbs_counter(gbs_state *st, const char *name, double value, int flags)
{
    if (is_manual(st)) {
        if (manual.keep_counters) {
            manual.counters[name] = {value, flags};
        }
        return;
    }
    int gb = flags & ~GBS_COUNTER_INVERT;
    if (flags & GBS_COUNTER_INVERT) {
        gb |= benchmark::Counter::kInvert;
    }
    S(st)->counters[name] =
        benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(gb));
}

void
gbs_skip_with_error(gbs_state *st, const char *msg)
{
    if (!is_manual(st)) {
        S(st)->SkipWithError(msg);
    }
    else if (!manual.error) {
        manual.error = true;
        manual.message = msg;
    }
}

int
gbs_error_occurred(const gbs_state *st)
{
    return is_manual(st) ? manual.error : S(st)->error_occurred();
}

gbs_state *
gbs_manual_begin(int64_t iterations)
{
    manual.max = iterations;
    manual.done = 0;
    manual.error = false;
    manual.in_loop = false;
    manual.message.clear();
    if (manual.keep_counters) {
        manual.counters.clear();
    }
    return reinterpret_cast<gbs_state *>(&manual);
}

const char *
gbs_manual_error(const gbs_state *st)
{
    return is_manual(st) && manual.error ? manual.message.c_str() : nullptr;
}

void
gbs_manual_end(gbs_state *st)
{
    if (is_manual(st)) {
        manual.in_loop = false;
        manual_measure(false);
        manual.max = 0;
        if (manual.keep_counters) {
            manual.counted_iterations = manual.done;
        }
    }
}

void
gbs_manual_keep_counters(int on)
{
    manual.keep_counters = on != 0;
}

void
gbs_manual_counters_to(gbs_state *st)
{
    if (is_manual(st)) {
        return;
    }
    for (const auto &kv : manual.counters) {
        double value = kv.second.first;
        int flags = kv.second.second;
        if (S(st)->counters.count(kv.first) != 0 ||
            (flags & GBS_COUNTER_RATE) != 0) {
            continue;
        }
        if ((flags & GBS_COUNTER_AVG_ITERATIONS) != 0) {
            if (manual.counted_iterations <= 0) {
                continue;
            }
            value /= static_cast<double>(manual.counted_iterations);
            flags &= ~GBS_COUNTER_AVG_ITERATIONS;
        }
        gbs_counter(st, kv.first.c_str(), value, flags);
    }
}

void
gbs_manual_watch(void (*on)(int running))
{
    manual_measure(false);
    manual.watch = on;
}

void
gbs_add_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

void
gbs_end_context(const char *key, int (*value)(uint64_t *value))
{
    end_key = key;
    end_value = value;
}

// The report (gbs_report_begin .. end): Google Benchmark's own reporters,
// fed rows we measured.
namespace {
struct Report {
    benchmark::ConsoleReporter console{benchmark::ConsoleReporter::OO_Tabular};
    std::unique_ptr<StrictJSONReporter> json;
    std::ofstream file;
    int64_t rows = 0;
    bool quiet = false; // gbs_report_begin_quiet: no console table
};
Report *report;
} // namespace

static int
report_begin(const char *json_path, bool quiet)
{
    try {
        report = new Report;
        report->quiet = quiet;
        if (json_path != nullptr) {
            report->file.open(json_path, std::ios::out | std::ios::trunc);
            if (!report->file) {
                delete report;
                report = nullptr;
                return -1;
            }
            report->json.reset(new StrictJSONReporter);
            report->json->SetOutputStream(&report->file);
            report->json->SetErrorStream(&std::cerr);
        }
        benchmark::BenchmarkReporter::Context context;
        // The constructor leaves it unset; Google Benchmark sets it from
        // the names it runs. Ours: most are under 56 characters.
        context.name_field_width = 56;
        if (!quiet) {
            report->console.ReportContext(context);
        }
        if (report->json) {
            report->json->ReportContext(context);
        }
        return 0;
    } catch (...) {
        delete report;
        report = nullptr;
        return -1;
    }
}

int
gbs_report_begin(const char *json_path)
{
    return report_begin(json_path, false);
}

int
gbs_report_begin_quiet(const char *json_path)
{
    return report_begin(json_path, true);
}

void
gbs_report_row(const gbs_row *row)
{
    if (report == nullptr) {
        return;
    }
    try {
        benchmark::BenchmarkReporter::Run run;
        run.run_name.function_name = row->name;
        run.family_index = report->rows;
        run.per_family_instance_index = 0;
        report->rows++;
        run.run_type = benchmark::BenchmarkReporter::Run::RT_Iteration;
        run.error_occurred = row->error != nullptr;
        if (row->error != nullptr) {
            run.error_message = row->error;
        }
        run.iterations = row->iterations;
        run.threads = 1;
        run.repetition_index = 0;
        run.repetitions = 1;
        run.time_unit = benchmark::kNanosecond;
        if (row->label != nullptr) {
            run.report_label = row->label;
        }
        run.real_accumulated_time = row->real_seconds;
        run.cpu_accumulated_time = row->cpu_seconds;
        for (size_t i = 0; i < row->ncounters; i++) {
            run.counters[row->counter_names[i]] =
                benchmark::Counter(row->counter_values[i]);
        }
        std::vector<benchmark::BenchmarkReporter::Run> runs{run};
        if (!report->quiet) {
            report->console.ReportRuns(runs);
        }
        if (report->json) {
            report->json->ReportRuns(runs);
            report->file.flush();
        }
    } catch (...) {
        std::fprintf(stderr, "pymembench: out of memory reporting %s\n",
                     row->name);
    }
}

int
gbs_report_end(void)
{
    if (report == nullptr) {
        return -1;
    }
    int rc = 0;
    if (report->json) {
        report->json->Finalize();
        report->file.close();
        rc = report->file.fail() ? -1 : 0;
    }
    if (!report->quiet) {
        report->console.Finalize();
    }
    delete report;
    report = nullptr;
    return rc;
}

} // extern "C"
