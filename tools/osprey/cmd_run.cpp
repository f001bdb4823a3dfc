// `osprey run MODEL [--input X.npy]... [--random-seed N] [--output-dir DIR]`:
// one inference on given (or seeded random) inputs, outputs written as .npy.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "backend_options.h"
#include "commands.h"
#include "io/json_text.h"
#include "io/npy.h"
#include "io/random_fill.h"
#include "model_import.h"
#include "runtime/interpreter.h"

namespace osprey::cli {

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  int64_t seed = -1;
  std::string output_dir = ".";
  BackendChoice backend;
  ModelImport import;
};

nlohmann::json describe(const Tensor& t, const std::string& file) {
  return {{"name", t.name}, {"shape", t.shape}, {"dtype", dtype_name(t.type)}, {"file", file}};
}

void run(const RunArgs& args) {
  const BackendStack backends = args.backend.make();
  const InterpreterOptions options = backends.options();
  auto interp = args.import.load(args.model, options);
  const int n_in = interp->num_inputs();
  if (args.inputs.empty() && args.seed < 0) {
    fail("{}: give --input FILE.npy for each of the model's {} input(s), or --random-seed N", args.model,
         n_in);
  }
  if (!args.inputs.empty() && static_cast<int>(args.inputs.size()) != n_in) {
    fail("{}: model has {} input(s), {} --input file(s) given", args.model, n_in, args.inputs.size());
  }
  std::filesystem::create_directories(args.output_dir);

  nlohmann::json summary;
  summary["model"] = args.model;
  std::mt19937 rng(static_cast<uint32_t>(args.seed < 0 ? 0 : args.seed));
  for (int i = 0; i < n_in; ++i) {
    Tensor& t = interp->input(i);
    std::string file;
    if (!args.inputs.empty()) {
      file = args.inputs[static_cast<size_t>(i)];
      NpyArray a = read_npy(file);
      if (a.type != t.type || a.shape != t.shape) {
        fail("{}: has shape {} {}, model input {} '{}' expects {} {}", file, shape_str(a.shape),
             dtype_name(a.type), i, t.name, shape_str(t.shape), dtype_name(t.type));
      }
      std::memcpy(t.data, a.data.data(), t.num_bytes());
    } else {
      fill_random(t, rng);
      // Keep the generated inputs so the run can be repeated elsewhere.
      file = fmt::format("{}/input{}.npy", args.output_dir, i);
      write_npy(file, t.type, t.shape, t.data);
    }
    summary["inputs"].push_back(describe(t, file));
  }

  const auto start = std::chrono::steady_clock::now();
  interp->invoke();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  for (int i = 0; i < interp->num_outputs(); ++i) {
    const Tensor& t = interp->output(i);
    const std::string file = fmt::format("{}/output{}.npy", args.output_dir, i);
    write_npy(file, t.type, t.shape, t.data);
    summary["outputs"].push_back(describe(t, file));
  }
  summary["backend"] = args.backend.backend;
  summary["time_ms"] = std::round(ms * 1000) / 1000;
  fmt::print("{}\n", json_text(summary));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model once on .npy inputs (or seeded random ones)");
  static RunArgs args;
  cmd->add_option("MODEL", args.model, "A .tflite or .onnx model (path or zoo name)")->required();
  args.import.add_options(cmd);
  cmd->add_option("--input,-i", args.inputs, "Input .npy file, one per model input, in order");
  cmd->add_option("--random-seed", args.seed, "Make random inputs with this seed (written as inputN.npy)")
      ->check(whole_number(0, std::numeric_limits<uint32_t>::max()));
  cmd->add_option("--output-dir,-o", args.output_dir, "Where outputN.npy go (default: current directory)");
  args.backend.add_options(cmd);
  cmd->callback([] { run(args); });
}

}  // namespace osprey::cli
