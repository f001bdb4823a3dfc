// The conversion driver: initializers, graph inputs, then each node in order
// (folded when its inputs are constant, else converted), then the outputs
// back in ONNX layout; the result goes through the .tflite writer.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "model/writer.h"
#include "onnx/convert.h"
#include "onnx/fold.h"
#include "onnx/import.h"
#include "onnx/model_reader.h"

namespace osprey::onnx {

namespace {

// Every op the model uses that osprey cannot convert, with its first node: one line.
void check_supported(const ::onnx::GraphProto& g) {
  std::vector<std::string> unsupported;
  std::set<std::string> seen;
  for (const Node& node : g.node()) {
    const std::string& op = node.op_type();
    if (converters().count(op) || is_fold_only(op) || seen.count(op)) continue;
    seen.insert(op);
    unsupported.push_back(fmt::format("{} (node '{}')", op, node.name()));
  }
  if (!unsupported.empty()) fail("unsupported ONNX ops: {}", fmt::join(unsupported, ", "));
}

// Static shapes libonnx's shape inference found, to check osprey's own against.
std::map<std::string, Dims> inferred_shapes(const ::onnx::GraphProto& g) {
  std::map<std::string, Dims> shapes;
  auto add = [&](const ::onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
    Dims d;
    for (const auto& dim : v.type().tensor_type().shape().dim()) {
      if (!dim.has_dim_value()) return;
      d.push_back(dim.dim_value());
    }
    shapes[v.name()] = d;
  };
  for (const auto& v : g.value_info()) add(v);
  for (const auto& v : g.output()) add(v);
  return shapes;
}

void add_inputs(Builder& b, const ::onnx::GraphProto& g) {
  for (const auto& input : g.input()) {
    if (b.has(input.name())) continue;  // an initializer listed as an input (IR < 4)
    const auto& type = input.type().tensor_type();
    OSPREY_CHECK(type.elem_type() == ::onnx::TensorProto::FLOAT,
                 "input '{}' has element type {}, osprey takes float", input.name(), type.elem_type());
    Dims dims;
    for (const auto& d : type.shape().dim()) dims.push_back(d.dim_value());
    const int t = b.add_tensor(input.name(), dims);
    b.graph().inputs.push_back(t);
    b.set_tensor(input.name(), dims, t, false);
  }
  OSPREY_CHECK(!b.graph().inputs.empty(), "the model has no inputs");
}

void add_outputs(Builder& b, const ::onnx::GraphProto& g) {
  std::set<int> used;
  for (const auto& output : g.output()) {
    const Value& v = b.value(output.name());
    OSPREY_CHECK(!v.constant, "output '{}' is a constant; osprey models compute their outputs",
                 output.name());
    const int t = b.onnx_tensor(output.name());
    OSPREY_CHECK(used.insert(t).second, "output '{}' repeats another output", output.name());
    Tensor& tensor = b.graph().tensors[static_cast<size_t>(t)];
    if (tensor.name != output.name()) {
      // The NHWC tensor gives up the name to the model's output.
      for (Tensor& other : b.graph().tensors) {
        if (other.name == output.name()) other.name = fmt::format("{}/nhwc", output.name());
      }
      tensor.name = output.name();
    }
    b.graph().outputs.push_back(t);
  }
}

std::vector<uint8_t> convert_model(const ::onnx::ModelProto& model, const std::string& model_dir) {
  const auto& g = model.graph();
  check_supported(g);
  Builder b(default_opset(model), model_dir);
  for (const auto& init : g.initializer()) b.set_constant(init.name(), read_tensor(init, model_dir));
  add_inputs(b, g);
  b.count_consumers(g);
  const std::map<std::string, Dims> inferred = inferred_shapes(g);
  // Constant nodes first: fusions look ahead at parameters defined after the node they fuse into.
  for (const Node& node : g.node()) {
    if (node.op_type() != "Constant") continue;
    try {
      try_fold(b, node);
    } catch (const Error& e) {
      fail("node '{}' (Constant): {}", node.name(), e.what());
    }
    b.skip(&node);
  }
  const ConverterTable& table = converters();
  for (const Node& node : g.node()) {
    if (b.skipped(&node)) continue;
    try {
      if (!try_fold(b, node)) {
        auto it = table.find(node.op_type());
        OSPREY_CHECK(it != table.end(), "needs constant inputs (osprey has no runtime {} op)",
                     node.op_type());
        it->second(b, node);
      }
      for (const std::string& out : node.output()) {
        auto known = inferred.find(out);
        if (out.empty() || !b.has(out) || known == inferred.end()) continue;
        OSPREY_CHECK(b.dims(out) == known->second,
                     "output '{}' has shape [{}], ONNX shape inference says [{}]", out,
                     fmt::join(b.dims(out), ","), fmt::join(known->second, ","));
      }
    } catch (const Error& e) {
      fail("node '{}' ({}): {}", node.name(), node.op_type(), e.what());
    }
  }
  add_outputs(b, g);
  WriterOptions w;
  w.description = "osprey convert (from ONNX)";
  return write_tflite(b.graph(), w);
}

}  // namespace

const ConverterTable& converters() {
  static const ConverterTable table = [] {
    ConverterTable t;
    add_conv_converters(t);
    add_math_converters(t);
    add_layout_converters(t);
    return t;
  }();
  return table;
}

std::vector<std::string> supported_op_types() {
  std::set<std::string> ops = fold_only_ops();
  for (const auto& entry : converters()) ops.insert(entry.first);
  return {ops.begin(), ops.end()};
}

std::vector<uint8_t> convert_onnx_bytes(std::span<const uint8_t> bytes, const std::string& model_dir,
                                        const ImportOptions& options) {
  const ::onnx::ModelProto model = read_model(bytes, model_dir, options);
  return convert_model(model, model_dir);
}

std::vector<uint8_t> convert_onnx_file(const std::string& path, const ImportOptions& options) {
  errno = 0;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  // libstdc++ opens with open(2), whose errno says why.
  OSPREY_CHECK(in.good(), "{}: cannot open: {}", path, errno ? std::strerror(errno) : "unreadable");
  std::error_code ec;
  OSPREY_CHECK(!std::filesystem::is_directory(path, ec), "{}: is a directory, not an ONNX model", path);
  const auto size = static_cast<int64_t>(in.tellg());
  OSPREY_CHECK(size >= 0 && static_cast<size_t>(size) < kMaxOnnxBytes,
               "{}: file is too large for an ONNX model", path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  OSPREY_CHECK(in.good() || in.eof(), "{}: cannot read", path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  try {
    return convert_onnx_bytes(bytes, dir, options);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

}  // namespace osprey::onnx
