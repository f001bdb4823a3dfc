// `osprey quantize MODEL -o OUT.tflite --calibration DIR|FILES...`: post-training
// full-integer quantization (int8 weights and activations, int32 bias, uint8 /
// int8 / float model I/O), calibrated on images or .npy inputs, followed by an
// accuracy report against the float model.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "backend_options.h"
#include "commands.h"
#include "io/json_text.h"
#include "io/npy.h"
#include "model/writer.h"
#include "model_import.h"
#include "quant/calibration.h"
#include "quant/metrics.h"
#include "quant/pipeline.h"
#include "quant/quantizer.h"
#include "quant/targets.h"
#include "quant_cli.h"
#include "runtime/interpreter.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"

#ifndef OSPREY_QUANT_LIBRARY
#include "quant/sources.inc"  // until the build compiles src/quant/*.cpp as a library
#endif

namespace osprey::cli {

namespace {

struct QuantizeArgs {
  std::string model;
  ModelImport import;
  std::string output;
  std::vector<std::string> calibration;
  int samples = 100;
  std::string granularity;
  std::string io = "uint8";
  std::string method = "minmax";
  double percentile = 99.99;
  std::string target;
  std::string spec;
  std::string input_range;
  std::string resize;
  bool no_augment = false;
  bool allow_float_ops = false;
  bool equalize = false;
  bool drop_outliers = false;
  int eval_samples = -1;
  std::vector<std::string> eval_images;
  bool per_layer = false;
  std::string report_json;
  std::string save_inputs;
  BackendChoice backend;  // calibration and accuracy passes
};

// "minmax", "percentile (99.99)", "entropy".
std::string method_text(quant::CalibrationMethod m, double percentile) {
  if (m == quant::CalibrationMethod::kPercentile)
    return fmt::format("{} ({})", quant::calibration_method_name(m), percentile);
  return quant::calibration_method_name(m);
}

// "percentile (99.99), equalized".
std::string trial_text(const quant::MethodTrial& t, double percentile) {
  return method_text(t.method, percentile) + (t.equalized ? ", equalized" : "");
}

nlohmann::json outlier_json(const quant::RangeOutlier& o, const quant::SampleSource& source) {
  return {{"file", source.file(o.file)},
          {"tensors_widened", o.tensors},
          {"tensors_compared", o.compared},
          {"most_widened",
           {{"tensor", o.tensor},
            {"factor", o.factor},
            {"range", {o.range.first, o.range.second}},
            {"other_files", {o.others.first, o.others.second}}}}};
}

nlohmann::json quant_json(const Tensor& t) {
  nlohmann::json j = {{"name", t.name}, {"dtype", dtype_name(t.type)}, {"shape", t.shape}};
  if (!t.quant.empty()) {
    j["scale"] = t.quant.scale[0];
    j["zero_point"] = t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
  }
  return j;
}

}  // namespace

namespace {

void quantize(const QuantizeArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  const std::string model_path = vision::resolve_model_path(a.model);
  auto interp = a.import.load(model_path);
  const Graph& folded = interp->graph();
  OSPREY_CHECK(interp->num_inputs() == 1, "{}: quantize supports single-input models; this one has {}",
               model_path, interp->num_inputs());
  OSPREY_CHECK(interp->input(0).type == DType::kFloat32,
               "{}: the input is {}, not float32: the model is already "
               "quantized",
               model_path, dtype_name(interp->input(0).type));

  std::optional<quant::Target> target;
  if (!a.target.empty()) target = quant::parse_target(a.target);
  quant::QuantizeOptions options;
  options.granularity = quant::Granularity::kPerChannel;
  if (target == quant::Target::kArtpec8) options.granularity = quant::Granularity::kPerTensor;
  if (target == quant::Target::kCv25) {
    fmt::print(stderr,
               "osprey: note: CV25 models are quantized by Ambarella's toolchain from the float model; this "
               "int8 model is for checking and CPU use\n");
  }
  if (!a.granularity.empty()) {
    options.granularity = quant::parse_granularity(a.granularity);
    if (target == quant::Target::kArtpec8 && options.granularity == quant::Granularity::kPerChannel) {
      fmt::print(stderr,
                 "osprey: warning: ARTPEC-8 runs per-channel models much slower and less accurately\n");
    }
  }
  options.io = quant::parse_io_type(a.io);
  const bool auto_method = a.method == "auto";
  if (!auto_method) {
    try {
      options.method = quant::parse_calibration_method(a.method);
    } catch (const Error&) {
      fail("unknown --method '{}' (use minmax, percentile, entropy or auto)", a.method);
    }
  }
  OSPREY_CHECK(a.percentile > 50 && a.percentile <= 100, "--percentile {} must be in (50, 100]",
               a.percentile);
  options.percentile = a.percentile;
  options.allow_float_ops = a.allow_float_ops;
  options.equalize = a.equalize;
  options.backend = a.backend.backend;
  options.threads = a.backend.threads;

  const std::optional<vision::ModelSpec> spec = find_model_spec(model_path, a.spec);
  const std::optional<quant::InputRecipe> recipe =
      input_recipe(interp->input(0), spec, a.input_range, a.resize);
  if (recipe) options.image_input = recipe->normalization;
  if (spec) options.output_bounds = spec->head->output_bounds();
  std::vector<std::string> files = quant::collect_sample_files(a.calibration);
  quant::SampleSource source(files, a.samples, !a.no_augment, recipe);
  // The accuracy report (and --method auto's choice) runs on the calibration
  // files themselves, without augmentation, unless --eval-images names others.
  const int eval_count = a.eval_samples >= 0 ? a.eval_samples : -1;
  OSPREY_CHECK(!auto_method || eval_count != 0,
               "--method auto chooses by the accuracy report: --eval-samples must not be 0");
  std::optional<quant::SampleSource> eval_source;
  const auto choose_eval_source = [&] {
    const std::vector<std::string> eval_files =
        a.eval_images.empty() ? files : quant::collect_sample_files(a.eval_images);
    const int eval = eval_count >= 0         ? eval_count
                     : a.eval_images.empty() ? std::min<int>(static_cast<int>(files.size()), 10)
                                             : static_cast<int>(eval_files.size());
    eval_source.reset();
    if (eval > 0) eval_source.emplace(eval_files, eval, false, recipe);
  };
  choose_eval_source();
  if (eval_source && !a.eval_images.empty()) {
    // Read them now: a bad one is an error before anything is written.
    for (int i = 0; i < eval_source->size(); ++i) eval_source->fill(i, interp->input(0));
  }
  quant::CompareOptions co;
  co.backend = a.backend.backend;
  co.threads = a.backend.threads;
  co.spec = spec;

  // auto with per-tensor weights also tries them equalized (a second calibration).
  std::vector<bool> equalize = {options.equalize};
  if (auto_method && !options.equalize && options.granularity == quant::Granularity::kPerTensor)
    equalize.push_back(true);

  fmt::print("model: {}\n", model_path);
  fmt::print("quantization: {} weights, {} model input/output, {}\n",
             quant::granularity_name(options.granularity), quant::io_type_name(options.io),
             !auto_method           ? method_text(options.method, a.percentile) + " calibration"
             : equalize.size() == 1 ? "calibration method chosen by accuracy (auto)"
                                    : "calibration method and equalization chosen by accuracy (auto)");
  if (recipe) {
    fmt::print("input: images {} to {}x{}, pixels to [{}, {}]{}\n",
               recipe->resize == vision::ResizeMode::kLetterbox ? "letterboxed" : "stretched", recipe->width,
               recipe->height, recipe->normalization.lo, recipe->normalization.hi,
               spec ? fmt::format(" (models.json '{}')", spec->name) : "");
  }
  fmt::print("calibration: {}\n", source.describe());

  const bool histograms = auto_method || options.method != quant::CalibrationMethod::kMinMax;
  std::vector<quant::CalibratedModel> calibrated;
  const auto calibrate = [&] {
    calibrated.clear();
    for (const bool e : equalize) {
      quant::QuantizeOptions o = options;
      o.equalize = e;
      quant::ProgressBar bar("calibrating");
      calibrated.push_back(quant::calibrate_model(folded, source, o, histograms,
                                                  [&](int done, int total) { bar.update(done, total); }));
    }
  };
  calibrate();
  // --drop-outliers: the files range_outliers.h names are left out and the
  // rest calibrated again (once: the remaining files are judged in the report).
  nlohmann::json dropped = nlohmann::json::array();
  if (a.drop_outliers) {
    const std::vector<quant::RangeOutlier> outliers = quant::calibration_outliers(calibrated[0], options);
    if (!outliers.empty()) {
      std::vector<bool> drop(files.size(), false);
      for (const quant::RangeOutlier& o : outliers) {
        drop[static_cast<size_t>(o.file)] = true;
        dropped.push_back(outlier_json(o, source));
        fmt::print("dropped calibration file {}\n", quant::summarize_outlier(o, source));
      }
      std::vector<std::string> kept;
      for (size_t i = 0; i < files.size(); ++i) {
        if (!drop[i]) kept.push_back(files[i]);
      }
      files = std::move(kept);
      source = quant::SampleSource(files, a.samples, !a.no_augment, recipe);
      if (a.eval_images.empty()) choose_eval_source();
      fmt::print("calibration: {}\n", source.describe());
      calibrate();
    }
  }
  quant::QuantizationRun run;
  std::optional<quant::ComparisonReport> accuracy;
  if (auto_method) {
    quant::ProgressBar bar("choosing");
    std::vector<const quant::CalibratedModel*> models;
    for (const quant::CalibratedModel& m : calibrated) {
      // Nothing to equalize (SSD MobileNet's RELU6 pairs): the same trials again.
      if (m.equalized && m.prepared.equalized_pairs == 0 && !options.equalize) continue;
      models.push_back(&m);
    }
    quant::MethodChoice choice =
        quant::quantize_best_method(folded, models, source, *eval_source, options, co);
    fmt::print("method auto, the accuracy of each on {} sample{}:\n", eval_source->size(),
               eval_source->size() == 1 ? "" : "s");
    for (const quant::MethodTrial& t : choice.trials)
      fmt::print("  {:<30} {}\n", trial_text(t, a.percentile), quant::summarize_accuracy(t.accuracy));
    fmt::print("chose {}\n", trial_text(choice.chosen, a.percentile));
    options.method = choice.chosen.method;
    options.equalize = choice.chosen.equalized;
    run = std::move(choice.run);
    if (!a.per_layer) accuracy = std::move(choice.chosen.accuracy);
  }

  WriterOptions wo;
  wo.description = fmt::format("osprey quantize: {} from {}", quant::granularity_name(options.granularity),
                               std::filesystem::path(model_path).filename().string());
  nlohmann::json meta = {{"source_model", std::filesystem::path(model_path).filename().string()},
                         {"granularity", quant::granularity_name(options.granularity)},
                         {"io", quant::io_type_name(options.io)},
                         {"method", quant::calibration_method_name(options.method)},
                         {"samples", source.size()},
                         {"calibration", source.describe()}};
  if (spec) meta["heads"] = spec->name;
  if (auto_method) meta["method_auto"] = true;
  if (options.equalize) meta["equalized"] = true;
  if (!dropped.empty()) meta["dropped_files"] = dropped.size();
  wo.metadata.push_back({"osprey_quantization", json_text(meta)});
  if (auto_method) {
    run.model = write_tflite(run.quantized.graph, wo);  // with the chosen method in its metadata
  } else {
    run = quant::quantize_calibrated(calibrated[0], source, options, wo);
  }
  for (const std::string& n : run.notes) fmt::print("note: {}\n", n);
  std::fflush(stdout);  // the warnings after the notes, also when stdout is a pipe
  for (const std::string& w : run.warnings) fmt::print(stderr, "osprey: warning: {}\n", w);
  if (!run.outliers.empty() && !a.drop_outliers)
    fmt::print(stderr, "osprey: note: --drop-outliers calibrates again without {}\n",
               run.outliers.size() == 1 ? "it" : "them");
  const quant::QuantizedGraph& q = run.quantized;
  std::vector<uint8_t>& bytes = run.model;
  vision::write_file_bytes(a.output, bytes);
  // Loading it back runs every integer kernel's checks.
  auto qinterp = Interpreter::from_buffer(bytes, a.output);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("wrote {} ({} bytes, {} ops, {:.1f} s){}\n", a.output, bytes.size(), q.graph.ops.size(), seconds,
             q.float_ops.empty() ? "" : " -- hybrid: not full-integer");

  nlohmann::json report = meta;
  report["model"] = model_path;
  report["output"] = a.output;
  report["notes"] = run.notes;
  report["warnings"] = run.warnings;
  report["range_outliers"] = nlohmann::json::array();
  for (const quant::RangeOutlier& o : run.outliers)
    report["range_outliers"].push_back(outlier_json(o, source));
  report["dropped_outliers"] = std::move(dropped);
  report["full_integer"] = q.float_ops.empty();
  for (int i = 0; i < qinterp->num_inputs(); ++i) report["inputs"].push_back(quant_json(qinterp->input(i)));
  for (int i = 0; i < qinterp->num_outputs(); ++i) {
    // The int8 tensor behind each output (for float I/O the DEQUANTIZE input).
    const Graph& g = qinterp->graph();
    const int t = g.outputs[static_cast<size_t>(i)];
    nlohmann::json o = quant_json(qinterp->output(i));
    for (const Op& op : g.ops) {
      if (op.outputs[0] == t && (op.code == static_cast<int32_t>(OpCode::kDequantize) ||
                                 op.code == static_cast<int32_t>(OpCode::kQuantize))) {
        o["internal"] = quant_json(g.tensors[static_cast<size_t>(op.inputs[0])]);
      }
    }
    report["outputs"].push_back(o);
  }

  if (target) {
    const quant::TargetReport tr = quant::check_target(qinterp->graph(), *target);
    if (tr.all_accelerated()) {
      fmt::print("target {}: all {} ops run on the accelerator\n", quant::target_title(*target),
                 tr.ops.size());
    } else {
      fmt::print("target {}: {} of {} ops accelerated; `osprey check {} --target {}` lists the rest\n",
                 quant::target_title(*target), tr.accelerated, tr.ops.size(), a.output,
                 quant::target_name(*target));
    }
    report["target"] = {{"name", quant::target_name(*target)},
                        {"all_accelerated", tr.all_accelerated()},
                        {"accelerated_ops", tr.accelerated},
                        {"num_ops", tr.ops.size()}};
  }

  if (!a.save_inputs.empty()) {
    // The evaluation inputs as the quantized model takes them, for other runtimes.
    std::filesystem::create_directories(a.save_inputs);
    const quant::SampleSource inputs(files, std::min<int>(static_cast<int>(files.size()), 10), false, recipe);
    Tensor& in = qinterp->input(0);
    for (int i = 0; i < inputs.size(); ++i) {
      inputs.fill(i, in);
      write_npy(fmt::format("{}/input{}.npy", a.save_inputs, i), in.type, in.shape, in.data);
    }
  }
  if (eval_source && !accuracy) {
    co.per_layer = a.per_layer;
    quant::ProgressBar bar("evaluating");
    accuracy = quant::compare_graphs(folded, qinterp->graph(), *eval_source, co,
                                     [&](int d, int t) { bar.update(d, t); });
  }
  if (accuracy) {
    fmt::print("{}", quant::format_report(*accuracy));
    report["accuracy"] = accuracy_json(*accuracy);
  }
  if (!a.report_json.empty()) {
    std::ofstream out(a.report_json);
    OSPREY_CHECK(out.good(), "{}: cannot write the report", a.report_json);
    out << json_text(report, 2) << "\n";
  }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("quantize", "Post-training full-integer (int8) quantization for DLPUs");
  static QuantizeArgs args;
  cmd->add_option("MODEL", args.model, "Float .tflite or .onnx model (path or zoo name)")->required();
  args.import.add_options(cmd);
  cmd->add_option("-o,--output", args.output, "Where to write the quantized .tflite")->required();
  cmd->add_option("--calibration", args.calibration,
                  "Calibration images (.jpg/.png) or .npy inputs: files or directories")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--samples", args.samples,
                  "Calibration samples (images are augmented to reach it; default 100)")
      ->check(whole_number(1));
  cmd->add_option(
      "--granularity", args.granularity,
      "Weight quantization: per-tensor or per-channel (default per-channel; per-tensor for artpec8)");
  cmd->add_option("--io", args.io, "Model input/output type: uint8 (default), int8 or float");
  cmd->add_option(
      "--method", args.method,
      "Activation ranges: minmax (default), percentile, entropy, or auto (each of them, keeping the "
      "most accurate on the accuracy report's images)");
  cmd->add_option("--percentile", args.percentile, "Percentile kept by --method percentile (default 99.99)");
  cmd->add_option("--target", args.target, "Deployment target: cpu, artpec7, artpec8, artpec9 or cv25");
  cmd->add_option("--spec", args.spec,
                  "zoo/models.json entry for input preparation and metrics (default: model name)");
  cmd->add_option("--input-range", args.input_range,
                  "Image pixel range LO,HI for models without a zoo task head");
  cmd->add_option("--resize", args.resize,
                  "Image fitting: stretch or letterbox (default from zoo/models.json)");
  cmd->add_flag("--no-augment", args.no_augment,
                "Use each calibration image once, without augmented variants");
  cmd->add_flag("--equalize", args.equalize,
                "Equalize the weights of each depthwise convolution and the convolution after it first "
                "(cross-layer equalization: helps per-tensor weights)");
  cmd->add_flag("--drop-outliers", args.drop_outliers,
                "Leave out the calibration files whose ranges are unlike the others' (the ones the "
                "warning names) and calibrate again");
  cmd->add_flag("--allow-float-ops", args.allow_float_ops,
                "Keep ops without integer kernels in float (hybrid model, not full-integer)");
  cmd->add_option("--eval-samples", args.eval_samples,
                  "Images for the accuracy report (default: the --eval-images, or the calibration files, at "
                  "most 10; 0: no report)");
  cmd->add_option(
         "--eval-images", args.eval_images,
         "Images (or .npy inputs) for the accuracy report and --method auto instead of the calibration "
         "files: files or directories")
      ->expected(1, -1);
  cmd->add_flag("--per-layer", args.per_layer,
                "Accuracy of every tensor (matched by name), not only the outputs");
  cmd->add_option("--report-json", args.report_json, "Also write the decisions and accuracy as JSON");
  cmd->add_option("--save-inputs", args.save_inputs,
                  "Write the calibration files (at most 10, not augmented) as the quantized model takes "
                  "them, to DIR/inputN.npy");
  args.backend.add_options(cmd);
  cmd->callback([] { quantize(args); });
}

}  // namespace osprey::cli
