// `osprey compare FLOAT.tflite QUANT.tflite --images DIR|FILES [--per-layer]`:
// how far a quantized model's outputs are from its float original (SNR,
// cosine similarity, max abs error after dequantization; detections found
// again or mask IoU for zoo models), optionally for every tensor by name.
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "backend_options.h"
#include "commands.h"
#include "io/json_text.h"
#include "model_import.h"
#include "quant/calibration.h"
#include "quant/metrics.h"
#include "quant_cli.h"
#include "runtime/interpreter.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

namespace {

struct CompareArgs {
  std::string reference;
  std::string test;
  std::vector<std::string> images;
  int samples = 10;
  bool per_layer = false;
  std::string spec;
  std::string input_range;
  std::string resize;
  bool json = false;
  BackendChoice backend;
  ModelImport import;
};

void compare(const CompareArgs& a) {
  const std::string ref_path = vision::resolve_model_path(a.reference);
  const std::string test_path = vision::resolve_model_path(a.test);
  auto ref = a.import.load(ref_path);
  auto test = a.import.load(test_path);
  OSPREY_CHECK(ref->num_inputs() == 1 && test->num_inputs() == 1, "compare supports single-input models");
  OSPREY_CHECK(ref->input(0).type == DType::kFloat32,
               "{}: the first model must be the float one (its input is {})", ref_path,
               dtype_name(ref->input(0).type));
  OSPREY_CHECK(ref->input(0).shape == test->input(0).shape, "the models' inputs differ: {} and {}",
               shape_str(ref->input(0).shape), shape_str(test->input(0).shape));
  const std::optional<vision::ModelSpec> spec = find_model_spec(ref_path, a.spec);
  const std::optional<quant::InputRecipe> recipe = input_recipe(ref->input(0), spec, a.input_range, a.resize);
  const std::vector<std::string> files = quant::collect_sample_files(a.images);
  const quant::SampleSource source(files, a.samples, false, recipe);

  quant::CompareOptions options;
  options.per_layer = a.per_layer;
  options.backend = a.backend.backend;
  options.threads = a.backend.threads;
  options.spec = spec;
  quant::ProgressBar bar("comparing");
  const quant::ComparisonReport r = quant::compare_graphs(ref->graph(), test->graph(), source, options,
                                                          [&](int d, int t) { bar.update(d, t); });

  if (!a.json) {
    fmt::print("float:     {}\nquantized: {}\n", ref_path, test_path);
    fmt::print("{}", quant::format_report(r));
    return;
  }
  nlohmann::json j = accuracy_json(r);
  j["float"] = ref_path;
  j["quantized"] = test_path;
  fmt::print("{}\n", json_text(j, 2));
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare", "Accuracy of a quantized model against its float original");
  static CompareArgs args;
  cmd->add_option("FLOAT", args.reference, "The float .tflite or .onnx model (path or zoo name)")->required();
  args.import.add_options(cmd);
  cmd->add_option("QUANTIZED", args.test, "The quantized .tflite model")->required();
  cmd->add_option("--images", args.images, "Images (.jpg/.png) or .npy inputs: files or directories")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--samples", args.samples, "At most this many inputs (default 10)")->check(whole_number(1));
  cmd->add_flag("--per-layer", args.per_layer, "Also compare every tensor the models share by name");
  args.backend.add_options(cmd);
  cmd->add_option("--spec", args.spec,
                  "zoo/models.json entry for input preparation and metrics (default: float model name)");
  cmd->add_option("--input-range", args.input_range,
                  "Image pixel range LO,HI for models without a zoo task head");
  cmd->add_option("--resize", args.resize,
                  "Image fitting: stretch or letterbox (default from zoo/models.json)");
  cmd->add_flag("--json", args.json, "Print the report as JSON");
  cmd->callback([] { compare(args); });
}

}  // namespace osprey::cli
