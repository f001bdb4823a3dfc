// `osprey inspect MODEL [--json]`: what a model takes, gives and costs.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "core/error.h"
#include "io/json_text.h"
#include "model/loader.h"
#include "model/model_file.h"
#include "model_import.h"
#include "runtime/interpreter.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

namespace {

nlohmann::json tensor_json(const Tensor& t) {
  nlohmann::json j = {{"name", t.name}, {"shape", t.shape}, {"dtype", dtype_name(t.type)}};
  if (!t.quant.empty()) {
    j["quantization"] = {
        {"scale", t.quant.scale}, {"zero_point", t.quant.zero_point}, {"axis", t.quant.axis}};
  }
  return j;
}

std::string quant_str(const Tensor& t) {
  if (t.quant.empty()) return "";
  if (t.quant.per_channel())
    return fmt::format("per-channel ({} scales, axis {})", t.quant.scale.size(), t.quant.axis);
  return fmt::format("scale {:.6g} zero point {}", t.quant.scale[0], t.quant.zero_point[0]);
}

// What the file holds: inputs, outputs, ops by name.
std::map<std::string, int> op_histogram(const Graph& g) {
  std::map<std::string, int> histogram;
  for (const Op& op : g.ops) ++histogram[op.name()];
  return histogram;
}

nlohmann::json file_json(const Graph& g, const std::string& path) {
  nlohmann::json j;
  j["model"] = path;
  for (int t : g.inputs) j["inputs"].push_back(tensor_json(g.tensors[static_cast<size_t>(t)]));
  for (int t : g.outputs) j["outputs"].push_back(tensor_json(g.tensors[static_cast<size_t>(t)]));
  j["op_histogram"] = op_histogram(g);
  j["num_ops"] = g.ops.size();
  return j;
}

void print_file(const Graph& g, const std::string& path, const std::string& folded) {
  fmt::print("model: {}\n\ninputs:\n", path);
  for (int t : g.inputs) {
    const Tensor& x = g.tensors[static_cast<size_t>(t)];
    fmt::print("  {:<32} {:<20} {:<8} {}\n", printable(x.name), shape_str(x.shape), dtype_name(x.type),
               quant_str(x));
  }
  fmt::print("outputs:\n");
  for (int t : g.outputs) {
    const Tensor& x = g.tensors[static_cast<size_t>(t)];
    fmt::print("  {:<32} {:<20} {:<8} {}\n", printable(x.name), shape_str(x.shape), dtype_name(x.type),
               quant_str(x));
  }
  fmt::print("\nop histogram ({} ops in the file{}):\n", g.ops.size(), folded);
  for (const auto& [name, count] : op_histogram(g)) fmt::print("  {:<32} {}\n", printable(name), count);
}

// A .tflite that loads but that osprey cannot run (an op it lacks, shapes a
// kernel refuses) still shows what it holds, the reason instead of the plan;
// then `error` ends the command as any error does.
[[noreturn]] void inspect_unrunnable(const std::string& path, bool json, std::exception_ptr error) {
  std::string reason;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    reason = e.what();
  }
  std::optional<Graph> graph;
  try {
    if (!onnx::is_onnx_path(path)) graph = load_graph(*ModelFile::open(path));
  } catch (const Error&) {
    // The file itself is bad: the first error says so.
  }
  if (graph) {
    if (json) {
      nlohmann::json j = file_json(*graph, path);
      j["error"] = reason;
      fmt::print("{}\n", json_text(j, 2));
    } else {
      print_file(*graph, path, "");
      fmt::print("\nexecution plan: none, osprey cannot run the model (the error below)\n");
    }
    std::fflush(stdout);
  }
  std::rethrow_exception(error);
}

void inspect(const std::string& model, bool json, const ModelImport& import) {
  const std::string path = vision::resolve_model_path(model);
  std::unique_ptr<Interpreter> interp;
  try {
    interp = import.load(path);
  } catch (const Error&) {
    inspect_unrunnable(path, json, std::current_exception());
  }
  const Graph& g = interp->graph();
  const int64_t total_macs = interp->total_macs();

  if (json) {
    nlohmann::json j = file_json(g, path);
    j["ops"] = nlohmann::json::array();
    for (const OpInfo& info : interp->plan_info()) {
      j["ops"].push_back({{"index", info.index},
                          {"op", info.name},
                          {"output_shape", info.output_shape},
                          {"macs", info.macs}});
    }
    j["folded_ops"] = interp->folded_ops();
    j["total_macs"] = total_macs;
    j["weights_bytes"] = interp->weight_bytes();
    j["arena_bytes"] = interp->arena_bytes();
    fmt::print("{}\n", json_text(j, 2));
    return;
  }

  print_file(g, path, fmt::format(", {} folded into constants at load", interp->folded_ops()));
  fmt::print("\nexecution plan:\n  {:>5}  {:<28} {:<20} {:>14}\n", "index", "op", "output shape", "MACs");
  for (const OpInfo& info : interp->plan_info()) {
    fmt::print("  {:>5}  {:<28} {:<20} {:>14}\n", info.index, printable(info.name),
               shape_str(info.output_shape), info.macs);
  }
  fmt::print("\ntotal MACs:   {} ({:.1f} M)\n", total_macs, static_cast<double>(total_macs) / 1e6);
  fmt::print("weights:      {} bytes ({:.2f} MiB, float32 after load-time folding)\n", interp->weight_bytes(),
             static_cast<double>(interp->weight_bytes()) / (1 << 20));
  fmt::print("arena:        {} bytes ({:.2f} MiB)\n", interp->arena_bytes(),
             static_cast<double>(interp->arena_bytes()) / (1 << 20));
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a model's inputs, outputs, ops, MACs and memory");
  static std::string path;
  static bool json = false;
  static ModelImport import;
  cmd->add_option("MODEL", path, "A .tflite or .onnx model (path or zoo name)")->required();
  import.add_options(cmd);
  cmd->add_flag("--json", json, "Print one JSON object");
  cmd->callback([] { inspect(path, json, import); });
}

}  // namespace osprey::cli
