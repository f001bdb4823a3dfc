// `osprey bench MODEL [--runs N] [--warmup N] [--warmup-secs S] [--threads N] [--backend B] [--profile]
// [--json]`: latency of a model on seeded random inputs, in the spirit of TFLite's
// benchmark_model and larod-client -R/-w: init (load + prepare) time, first
// inference, warm-up (extended while the thread pool learns, and to at least
// S seconds), then min /
// median / mean / p95 / max / std of N runs
// and the peak RSS; with --profile, where the time goes, op by op.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend_options.h"
#include "backends/backend.h"
#include "backends/thread_pool.h"
#include "commands.h"
#include "io/json_text.h"
#include "io/random_fill.h"
#include "model_import.h"
#include "runtime/interpreter.h"

namespace osprey::cli {

namespace {

struct BenchArgs {
  std::string model;
  int runs = 50;
  int warmup = 5;
  // TFLite's benchmark_model warms up for at least 0.5 s too (warmup_min_secs).
  double warmup_secs = 0.5;
  BackendChoice backend;  // --backend, --threads
  ModelImport import;
  uint32_t seed = 0;
  bool profile = false;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Stats {
  double min = 0, median = 0, mean = 0, p95 = 0, max = 0, std = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.min = v.front();
  s.max = v.back();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  // Nearest-rank percentile.
  s.p95 = v[static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1];
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(n);
  double sq = 0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(n));
  return s;
}

// Peak resident set size of this process in bytes (VmHWM).
size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;
}

double mib(double bytes) {
  return bytes / (1024.0 * 1024.0);
}
double round3(double v) {
  return std::round(v * 1000) / 1000;
}

// A progress bar on stderr, drawn only on a terminal and only for long runs.
class Progress {
 public:
  Progress(int total, double expected_ms)
      : total_(total), enabled_(total > 1 && expected_ms > 2000 && isatty(STDERR_FILENO)) {}
  ~Progress() { clear(); }

  void update(int done, const char* phase) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    const int filled = done * kWidth / total_;
    std::fprintf(stderr, "\r%-8s [%s%s] %d/%d", phase, std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), done, total_);
    std::fflush(stderr);
    drawn_ = true;
  }

  void clear() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  int total_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point last_{};
};

// Delegated steps are named "XNNPACK(CONV_2D #12)", "XNNPACK(PAD #11 + CONV_2D #12)"
// (one XNNPACK runtime per op) or "XNNPACK(40 ops)" (one per run of ops).
bool is_run_of_ops(const std::string& name) {
  return name.find(" ops)") != std::string::npos;
}

// The model op indices a step stands for (those a delegated step names).
std::vector<int> op_indices(const OpInfo& info) {
  if (info.index >= 0) return {info.index};
  std::vector<int> indices;
  for (size_t at = info.name.find('#'); at != std::string::npos; at = info.name.find('#', at + 1)) {
    indices.push_back(std::atoi(info.name.c_str() + at + 1));
  }
  return indices;
}

// "12", "11+12", or "-" for a run of ops.
std::string indices_str(const OpInfo& info) {
  const std::vector<int> indices = op_indices(info);
  return indices.empty() ? "-" : fmt::format("{}", fmt::join(indices, "+"));
}

// Model ops a step stands for.
int ops_in_step(const OpInfo& info) {
  if (info.index >= 0) return 1;
  int n = 0;
  if (is_run_of_ops(info.name) && std::sscanf(info.name.c_str(), "XNNPACK(%d", &n) == 1) return n;
  return static_cast<int>(std::count(info.name.begin(), info.name.end(), '#'));
}

// The step's op type for the summary: "XNNPACK(CONV_2D)"; runs of ops are "XNNPACK".
std::string op_type(const OpInfo& info) {
  if (info.index >= 0) return info.name;
  if (is_run_of_ops(info.name)) return "XNNPACK";
  std::string type;
  for (size_t i = 0; i < info.name.size(); ++i) {
    if (info.name[i] == ' ' && i + 1 < info.name.size() && info.name[i + 1] == '#') {
      i += 2;
      while (i < info.name.size() && std::isdigit(static_cast<unsigned char>(info.name[i]))) ++i;
      --i;
      continue;
    }
    type += info.name[i];
  }
  return type;
}

struct OpRow {
  const OpInfo* info;
  double ms;
};

struct TypeRow {
  std::string type;
  int count = 0;
  double ms = 0;
  int64_t macs = 0;
};

double gmacs(int64_t macs, double ms) {
  return ms > 0 ? static_cast<double>(macs) / (ms * 1e6) : 0.0;
}

void bench(const BenchArgs& args) {
  OSPREY_CHECK(args.runs >= 1, "--runs {} must be at least 1", args.runs);
  OSPREY_CHECK(args.warmup >= 0, "--warmup {} must not be negative", args.warmup);

  const auto init_start = Clock::now();
  BackendStack backends = args.backend.make();
  std::unique_ptr<Interpreter> interp = args.import.load(args.model, backends.options());
  const double init_ms = ms_since(init_start);
  const int threads = backends.backends().empty() ? 1 : resolve_threads(args.backend.threads);
  backends = BackendStack();  // the interpreter's kernels keep what they need

  // The arena may reuse an input's bytes once the input has been read, so
  // every run starts from a copy of the same random inputs (restored
  // outside the timed region).
  std::mt19937 rng(args.seed);
  std::vector<std::vector<uint8_t>> inputs;
  for (int i = 0; i < interp->num_inputs(); ++i) {
    Tensor& t = interp->input(i);
    fill_random(t, rng);
    inputs.emplace_back(t.data, t.data + t.num_bytes());
  }
  auto restore_inputs = [&] {
    for (int i = 0; i < interp->num_inputs(); ++i) {
      std::copy(inputs[static_cast<size_t>(i)].begin(), inputs[static_cast<size_t>(i)].end(),
                interp->input(i).data);
    }
  };

  const auto& plan = interp->plan_info();
  std::vector<double> step_seconds, total_seconds(plan.size(), 0.0);
  auto run_once = [&] {
    restore_inputs();
    const auto start = Clock::now();
    if (args.profile) {
      interp->invoke_profiled(step_seconds);
    } else {
      interp->invoke();
    }
    return ms_since(start);
  };

  // With threads, the pool spends a model's first inferences learning
  // whether splitting pays, and checks that first choice again soon after
  // (ThreadPool::kSettlingInferences; more while a busy machine disturbs
  // them). The timed runs measure what it settled on, as a long-running
  // application sees it, so warm-up lasts at least that long, then goes on
  // while the last run was a learning one (capped, should the pool never settle).
  constexpr int kMaxLearningRuns = 64;
  bool last_run_learned = false;
  const auto untimed_run = [&] {
    const uint64_t learned_before = thread_pool_stats().learning_inferences;
    const double ms = run_once();
    last_run_learned = thread_pool_stats().learning_inferences != learned_before;
    return ms;
  };
  const auto first_start = Clock::now();
  const double first_ms = untimed_run();
  // The first run is the first the pool counts.
  const int settling = last_run_learned ? static_cast<int>(ThreadPool::kSettlingInferences) - 1 : 0;
  const int warmup = std::max(args.warmup, settling);
  Progress progress(warmup + args.runs, first_ms * (warmup + args.runs));
  for (int i = 0; i < warmup; ++i) {
    untimed_run();
    progress.update(i + 1, "warm-up");
  }
  int learning_runs = warmup - args.warmup;
  for (int extra = 0; extra < kMaxLearningRuns && last_run_learned; ++extra, ++learning_runs) untimed_run();
  // A new process can run slower for its first tenths of a second (on the
  // Zen 5 host, a 1 ms model by 1.3-1.4x): warm-up lasts --warmup-secs at
  // least, from the first run on.
  int time_runs = 0;
  while (ms_since(first_start) < args.warmup_secs * 1000.0) {
    untimed_run();
    ++time_runs;
  }
  const double warmup_seconds = ms_since(first_start) / 1000.0;
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(args.runs));
  const ThreadPoolStats pool_before = thread_pool_stats();
  for (int i = 0; i < args.runs; ++i) {
    latencies.push_back(run_once());
    if (args.profile) {
      for (size_t s = 0; s < plan.size(); ++s) total_seconds[s] += step_seconds[s];
    }
    progress.update(warmup + i + 1, "runs");
  }
  progress.clear();
  const ThreadPoolStats pool_after = thread_pool_stats();
  const Stats st = stats_of(latencies);
  const size_t peak_rss = peak_rss_bytes();

  const int64_t total_macs = interp->total_macs();
  // Steps by who runs them: XNNPACK runtimes, osprey's own AVX-512 kernels
  // ("OSPREY..."), the reference kernels.
  int delegated_steps = 0, delegated_ops = 0, xnn_steps = 0, xnn_ops = 0, own_steps = 0, own_ops = 0;
  for (const OpInfo& info : plan) {
    if (info.index >= 0) continue;
    const int n = ops_in_step(info);
    ++delegated_steps;
    delegated_ops += n;
    if (info.name.rfind("OSPREY", 0) == 0) {
      ++own_steps;
      own_ops += n;
    } else {
      ++xnn_steps;
      xnn_ops += n;
    }
  }
  const int ref_steps = static_cast<int>(plan.size()) - delegated_steps;

  // Per-op averages over the timed runs.
  std::vector<OpRow> rows;
  std::vector<TypeRow> types;
  double profiled_ms = 0;
  if (args.profile) {
    std::map<std::string, size_t> type_at;
    for (size_t s = 0; s < plan.size(); ++s) {
      const double ms = total_seconds[s] * 1000.0 / args.runs;
      profiled_ms += ms;
      rows.push_back({&plan[s], ms});
      const std::string type = op_type(plan[s]);
      auto [it, fresh] = type_at.emplace(type, types.size());
      if (fresh) types.push_back({type});
      TypeRow& t = types[it->second];
      ++t.count;
      t.ms += ms;
      t.macs += plan[s].macs;
    }
    std::stable_sort(types.begin(), types.end(),
                     [](const TypeRow& a, const TypeRow& b) { return a.ms > b.ms; });
  }
  const auto pct = [&](double ms) { return profiled_ms > 0 ? 100.0 * ms / profiled_ms : 0.0; };

  if (args.json) {
    nlohmann::json j;
    j["model"] = args.model;
    j["backend"] = args.backend.backend;
    j["threads"] = threads;
    j["runs"] = args.runs;
    j["warmup"] = args.warmup;
    j["warmup_learning"] = learning_runs;
    j["warmup_timed_extra"] = time_runs;
    j["warmup_s"] = round3(warmup_seconds);
    j["init_ms"] = round3(init_ms);
    j["first_ms"] = round3(first_ms);
    j["latency_ms"] = {{"min", round3(st.min)}, {"median", round3(st.median)}, {"mean", round3(st.mean)},
                       {"p95", round3(st.p95)}, {"max", round3(st.max)},       {"std", round3(st.std)}};
    j["peak_rss_mb"] = round3(mib(static_cast<double>(peak_rss)));
    j["arena_mb"] = round3(mib(static_cast<double>(interp->arena_bytes())));
    j["macs"] = total_macs;
    j["gmacs_per_s"] = round3(gmacs(total_macs, st.median));
    j["plan_steps"] = plan.size();
    j["delegated_steps"] = delegated_steps;
    j["delegated_ops"] = delegated_ops;
    // How the thread pool ran the timed runs' parallel operations.
    j["pool"] = {{"split_ops", pool_after.parallel_ops - pool_before.parallel_ops},
                 {"busy_machine_ops", pool_after.serial_ops - pool_before.serial_ops},
                 {"unsplit_ops", pool_after.unsplit_ops - pool_before.unsplit_ops},
                 {"stalls", pool_after.stalls - pool_before.stalls}};
    if (args.profile) {
      j["ops"] = nlohmann::json::array();
      for (const OpRow& r : rows) {
        j["ops"].push_back({{"indices", op_indices(*r.info)},
                            {"op", r.info->name},
                            {"ms", round3(r.ms)},
                            {"percent", round3(pct(r.ms))},
                            {"macs", r.info->macs}});
      }
      j["op_types"] = nlohmann::json::array();
      for (const TypeRow& t : types) {
        j["op_types"].push_back({{"op", t.type},
                                 {"count", t.count},
                                 {"ms", round3(t.ms)},
                                 {"percent", round3(pct(t.ms))},
                                 {"macs", t.macs}});
      }
    }
    fmt::print("{}\n", json_text(j));
    return;
  }

  fmt::print("model:       {}\n", args.model);
  fmt::print("backend:     {}, {} thread{}\n", args.backend.backend, threads, threads == 1 ? "" : "s");
  if (delegated_steps > 0) {
    const auto plural = [](int k, const char* what) {
      return fmt::format("{} {}{}", k, what, k == 1 ? "" : "s");
    };
    fmt::print(
        "plan:        {}: {} in {}, {} in {} of osprey's AVX-512 kernels, {} on the reference kernels\n",
        plural(static_cast<int>(plan.size()), "step"), plural(xnn_ops, "op"),
        plural(xnn_steps, "XNNPACK runtime"), plural(own_ops, "op"), plural(own_steps, "step"),
        plural(ref_steps, "op"));
  } else {
    fmt::print("plan:        {} ops on the reference kernels\n", plan.size());
  }
  fmt::print("MACs:        {:.1f} M per inference\n", static_cast<double>(total_macs) / 1e6);
  fmt::print("init:        {:.3f} ms (load + prepare)\n", init_ms);
  fmt::print("first run:   {:.3f} ms\n", first_ms);
  fmt::print("warm-up:     {} run{}", args.warmup, args.warmup == 1 ? "" : "s");
  if (learning_runs > 0)
    fmt::print(", and {} more while the thread pool learned to split or not and checked its choice",
               learning_runs);
  if (time_runs > 0) fmt::print(", and {} more to reach --warmup-secs {:g}", time_runs, args.warmup_secs);
  fmt::print(" ({:.2f} s with the first run)\n", warmup_seconds);
  fmt::print(
      "latency:     min {:.3f}  median {:.3f}  mean {:.3f}  p95 {:.3f}  max {:.3f}  std {:.3f} ms ({} "
      "runs)\n",
      st.min, st.median, st.mean, st.p95, st.max, st.std, args.runs);
  fmt::print("throughput:  {:.2f} GMAC/s ({:.2f} GFLOP/s) at the median\n", gmacs(total_macs, st.median),
             2 * gmacs(total_macs, st.median));
  fmt::print("peak RSS:    {:.1f} MiB (arena {:.1f} MiB)\n", mib(static_cast<double>(peak_rss)),
             mib(static_cast<double>(interp->arena_bytes())));
  if (!args.profile) return;

  fmt::print("\nper op (mean over {} runs, execution order):\n", args.runs);
  size_t name_width = 24;
  for (const OpInfo& info : plan) name_width = std::max(name_width, info.name.size());
  fmt::print("  {:<{}} {:>7} {:>10} {:>7} {:>7} {:>14} {:>8}  {}\n", "op", name_width, "index", "ms", "%",
             "cum %", "MACs", "GMAC/s", "output shape");
  double cumulative = 0;
  for (const OpRow& r : rows) {
    cumulative += r.ms;
    fmt::print("  {:<{}} {:>7} {:>10.4f} {:>7.2f} {:>7.2f} {:>14} {:>8.2f}  {}\n", r.info->name, name_width,
               indices_str(*r.info), r.ms, pct(r.ms), pct(cumulative), r.info->macs,
               gmacs(r.info->macs, r.ms), shape_str(r.info->output_shape));
  }
  fmt::print("\nby op type:\n");
  size_t type_width = 24;
  for (const TypeRow& t : types) type_width = std::max(type_width, t.type.size());
  fmt::print("  {:<{}} {:>6} {:>10} {:>7} {:>14} {:>8}\n", "op", type_width, "count", "ms", "%", "MACs",
             "GMAC/s");
  for (const TypeRow& t : types) {
    fmt::print("  {:<{}} {:>6} {:>10.4f} {:>7.2f} {:>14} {:>8.2f}\n", t.type, type_width, t.count, t.ms,
               pct(t.ms), t.macs, gmacs(t.macs, t.ms));
  }
  fmt::print("  {:<{}} {:>6} {:>10.4f} {:>7.2f} {:>14} {:>8.2f}\n", "total", type_width, plan.size(),
             profiled_ms, 100.0, total_macs, gmacs(total_macs, profiled_ms));
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("bench", "Measure a model's latency (and where the time goes with --profile)");
  static BenchArgs args;
  cmd->add_option("MODEL", args.model, "A .tflite or .onnx model (path or zoo name)")->required();
  args.import.add_options(cmd);
  cmd->add_option("--runs,-r", args.runs, "Timed runs (default 50)")->check(whole_number(1));
  cmd->add_option("--warmup-secs", args.warmup_secs,
                  "Warm up for at least this long, the first run included (default 0.5, as TFLite's "
                  "benchmark_model): a new process can run slower for its first tenths of a second")
      ->check(CLI::Range(0.0, 600.0));
  cmd->add_option("--warmup,-w", args.warmup,
                  "Untimed runs after the first one (default 5; with threads, at least until the pool "
                  "settles whether to split)")
      ->check(whole_number(0));
  args.backend.add_options(cmd);
  cmd->add_option("--seed", args.seed, "Seed of the random inputs (default 0)");
  cmd->add_flag("--profile,-p", args.profile, "Time every step and summarise by op type");
  cmd->add_flag("--json", args.json, "Print one JSON object");
  cmd->callback([] { bench(args); });
}

}  // namespace osprey::cli
