// `osprey inspect MODEL [--json]`: what a model takes, gives and costs.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model_import.h"
#include "runtime/interpreter.h"

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

void inspect(const std::string& path, bool json, const ModelImport& import) {
  auto interp = import.load(path);
  const Graph& g = interp->graph();
  std::map<std::string, int> histogram;
  for (const Op& op : g.ops) ++histogram[op.name()];
  int64_t total_macs = 0;
  for (const OpInfo& info : interp->plan_info()) total_macs += info.macs;

  if (json) {
    nlohmann::json j;
    j["model"] = path;
    for (int t : g.inputs) j["inputs"].push_back(tensor_json(g.tensors[static_cast<size_t>(t)]));
    for (int t : g.outputs) j["outputs"].push_back(tensor_json(g.tensors[static_cast<size_t>(t)]));
    j["op_histogram"] = histogram;
    j["ops"] = nlohmann::json::array();
    for (const OpInfo& info : interp->plan_info()) {
      j["ops"].push_back({{"index", info.index},
                          {"op", info.name},
                          {"output_shape", info.output_shape},
                          {"macs", info.macs}});
    }
    j["num_ops"] = g.ops.size();
    j["folded_ops"] = interp->folded_ops();
    j["total_macs"] = total_macs;
    j["weights_bytes"] = interp->weight_bytes();
    j["arena_bytes"] = interp->arena_bytes();
    fmt::print("{}\n", j.dump(2));
    return;
  }

  fmt::print("model: {}\n\ninputs:\n", path);
  for (int t : g.inputs) {
    const Tensor& x = g.tensors[static_cast<size_t>(t)];
    fmt::print("  {:<32} {:<20} {:<8} {}\n", x.name, shape_str(x.shape), dtype_name(x.type), quant_str(x));
  }
  fmt::print("outputs:\n");
  for (int t : g.outputs) {
    const Tensor& x = g.tensors[static_cast<size_t>(t)];
    fmt::print("  {:<32} {:<20} {:<8} {}\n", x.name, shape_str(x.shape), dtype_name(x.type), quant_str(x));
  }
  fmt::print("\nop histogram ({} ops in the file, {} folded into constants at load):\n", g.ops.size(),
             interp->folded_ops());
  for (const auto& [name, count] : histogram) fmt::print("  {:<32} {}\n", name, count);
  fmt::print("\nexecution plan:\n  {:>5}  {:<28} {:<20} {:>14}\n", "index", "op", "output shape", "MACs");
  for (const OpInfo& info : interp->plan_info()) {
    fmt::print("  {:>5}  {:<28} {:<20} {:>14}\n", info.index, info.name, shape_str(info.output_shape),
               info.macs);
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
