#include "model/writer.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "model/tflite_schema_generated.h"
#include "ops/registry.h"

namespace osprey {

namespace {

namespace fb = flatbuffers;

// Builtins osprey has no kernel for whose TFLite options table is empty: a
// graph that carries them (e.g. kept in float by the quantizer) can still be written.
bool options_free_unknown(int32_t code) {
  static const std::set<std::string> names = {"SLICE", "FLOOR",  "EXP", "ABS", "NEG", "SQRT",
                                              "RSQRT", "SQUARE", "SIN", "COS", "LOG"};
  return names.count(op_code_name(code)) > 0;
}

class Writer {
 public:
  Writer(const Graph& graph, const WriterOptions& options)
      : g_(graph), options_(options), b_(initial_capacity(graph, options)) {}

  std::vector<uint8_t> write() {
    collect_tensors();
    buffers_.push_back(tfl::CreateBuffer(b_));  // buffer 0: the empty sentinel
    std::vector<fb::Offset<tfl::Tensor>> tensors;
    for (int t : used_) tensors.push_back(write_tensor(t));
    std::vector<fb::Offset<tfl::Operator>> ops;
    for (const Op& op : g_.ops) ops.push_back(write_op(op));
    std::vector<int32_t> inputs, outputs;
    for (int t : g_.inputs) inputs.push_back(remap(t));
    for (int t : g_.outputs) outputs.push_back(remap(t));
    auto subgraph =
        tfl::CreateSubGraph(b_, b_.CreateVector(tensors), b_.CreateVector(inputs), b_.CreateVector(outputs),
                            b_.CreateVector(ops), b_.CreateString("main"));
    std::vector<fb::Offset<tfl::SubGraph>> subgraphs{subgraph};

    std::vector<fb::Offset<tfl::Metadata>> metadata;
    for (const auto& [name, bytes] : options_.metadata) {
      const uint32_t index = static_cast<uint32_t>(buffers_.size());
      b_.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
      auto data = b_.CreateVector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      buffers_.push_back(tfl::CreateBuffer(b_, data));
      metadata.push_back(tfl::CreateMetadata(b_, b_.CreateString(name), index));
    }
    std::vector<fb::Offset<tfl::OperatorCode>> codes;
    for (const auto& [key, index] : code_order_) {
      (void)index;
      const auto& [code, custom, version] = key;
      const int8_t deprecated = static_cast<int8_t>(std::min<int32_t>(code, 127));
      codes.push_back(tfl::CreateOperatorCode(b_, deprecated, custom.empty() ? 0 : b_.CreateString(custom),
                                              version, static_cast<tfl::BuiltinOperator>(code)));
    }
    // operator_codes must follow the indices ops refer to.
    std::vector<fb::Offset<tfl::OperatorCode>> ordered(codes.size());
    size_t k = 0;
    for (const auto& [key, index] : code_order_) ordered[index] = codes[k++];

    auto model = tfl::CreateModel(b_, 3, b_.CreateVector(ordered), b_.CreateVector(subgraphs),
                                  b_.CreateString(options_.description), b_.CreateVector(buffers_), 0,
                                  metadata.empty() ? 0 : b_.CreateVector(metadata));
    tfl::FinishModelBuffer(b_, model);
    return std::vector<uint8_t>(b_.GetBufferPointer(), b_.GetBufferPointer() + b_.GetSize());
  }

 private:
  // The constants' bytes and 1 MiB for the rest: the builder then never
  // doubles and copies a model's weights as it grows. (A flatbuffer stays
  // under 2 GiB; past 1 GiB the builder grows as it must.)
  static size_t initial_capacity(const Graph& graph, const WriterOptions& options) {
    size_t bytes = size_t{1} << 20;
    for (const Tensor& t : graph.tensors) {
      if (t.is_constant && !t.sparsity) bytes += t.num_bytes() + 16;
    }
    for (const auto& [name, data] : options.metadata) bytes += data.size() + 16;
    return std::min(bytes, size_t{1} << 30);
  }

  void collect_tensors() {
    std::vector<char> used(g_.tensors.size(), 0);
    auto mark = [&](int t) {
      OSPREY_CHECK(t >= -1 && t < static_cast<int>(g_.tensors.size()), "tensor index {} out of range", t);
      if (t >= 0) used[static_cast<size_t>(t)] = 1;
    };
    for (const Op& op : g_.ops) {
      for (int t : op.inputs) mark(t);
      for (int t : op.outputs) mark(t);
    }
    for (int t : g_.inputs) mark(t);
    for (int t : g_.outputs) mark(t);
    remap_.assign(g_.tensors.size(), -1);
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      if (!used[t]) continue;
      remap_[t] = static_cast<int>(used_.size());
      used_.push_back(static_cast<int>(t));
    }
  }

  int32_t remap(int t) const { return t < 0 ? -1 : remap_[static_cast<size_t>(t)]; }

  fb::Offset<tfl::Tensor> write_tensor(int index) {
    const Tensor& t = g_.tensors[static_cast<size_t>(index)];
    const std::string who = fmt::format("tensor {} '{}'", index, t.name);
    OSPREY_CHECK(t.sparsity == nullptr, "{}: sparse tensors cannot be written (densify first)", who);
    uint32_t buffer = 0;
    if (t.is_constant) {
      OSPREY_CHECK(t.data != nullptr || t.num_bytes() == 0, "{}: constant without data", who);
      buffer = static_cast<uint32_t>(buffers_.size());
      b_.ForceVectorAlignment(t.num_bytes(), sizeof(uint8_t), 16);
      auto data = b_.CreateVector(t.data, t.num_bytes());
      buffers_.push_back(tfl::CreateBuffer(b_, data));
    }
    fb::Offset<tfl::QuantizationParameters> quant = 0;
    if (!t.quant.empty()) {
      std::vector<int64_t> zp = t.quant.zero_point;
      if (zp.empty()) zp.assign(t.quant.scale.size(), 0);
      quant = tfl::CreateQuantizationParameters(b_, 0, 0, b_.CreateVector(t.quant.scale), b_.CreateVector(zp),
                                                tfl::QuantizationDetails::NONE, 0,
                                                t.quant.per_channel() ? t.quant.axis : 0);
    }
    std::vector<int32_t> shape(t.shape.begin(), t.shape.end());
    return tfl::CreateTensor(b_, b_.CreateVector(shape), static_cast<tfl::TensorType>(t.type), buffer,
                             b_.CreateString(t.name), quant);
  }

  uint32_t code_index(const Op& op) {
    const auto key =
        std::make_tuple(op.code, op.code == static_cast<int32_t>(OpCode::kCustom) ? op.custom_code : "",
                        tflite_op_version(g_, op));
    auto it = code_order_.find(key);
    if (it != code_order_.end()) return it->second;
    const uint32_t index = static_cast<uint32_t>(code_order_.size());
    code_order_.emplace(key, index);
    return index;
  }

  fb::Offset<tfl::Operator> write_op(const Op& op) {
    const std::string who = fmt::format("op #{} {}", op.index, op.name());
    std::vector<int32_t> inputs, outputs;
    for (int t : op.inputs) inputs.push_back(remap(t));
    for (int t : op.outputs) outputs.push_back(remap(t));
    auto [type, options] = write_options(op, who);
    fb::Offset<fb::Vector<uint8_t>> custom = 0;
    const ops::OpDef* def = ops::find_op(op);
    if (op.code == static_cast<int32_t>(OpCode::kCustom) && def && def->write_custom) {
      custom = b_.CreateVector(def->write_custom(op));
    } else if (op.code == static_cast<int32_t>(OpCode::kCustom) && !op.custom_options.empty()) {
      custom = b_.CreateVector(op.custom_options);
    }
    return tfl::CreateOperator(b_, code_index(op), b_.CreateVector(inputs), b_.CreateVector(outputs), type,
                               options, custom);
  }

  // The op registry writes known ops' options; custom ops keep their custom bytes instead.
  ops::WrittenOptions write_options(const Op& op, const std::string& who) {
    if (const ops::OpDef* def = ops::find_op(op)) {
      if (!def->write) return {tfl::BuiltinOptions::NONE, 0};
      try {
        return def->write(b_, op);
      } catch (const Error& e) {
        fail("{}: {}", who, e.what());
      }
    }
    if (op.code == static_cast<int32_t>(OpCode::kCustom)) return {tfl::BuiltinOptions::NONE, 0};
    if (const auto* o = std::get_if<ReducerOptions>(&op.options)) {
      return {tfl::BuiltinOptions::ReducerOptions, tfl::CreateReducerOptions(b_, o->keep_dims).Union()};
    }
    OSPREY_CHECK(std::holds_alternative<std::monostate>(op.options) && options_free_unknown(op.code),
                 "{}: osprey does not keep this op's options, so it cannot write it", who);
    return {tfl::BuiltinOptions::NONE, 0};
  }

  const Graph& g_;
  const WriterOptions& options_;
  fb::FlatBufferBuilder b_;
  std::vector<fb::Offset<tfl::Buffer>> buffers_;
  std::vector<int> used_;   // written tensors, by original index
  std::vector<int> remap_;  // original index -> written index
  std::map<std::tuple<int32_t, std::string, int>, uint32_t> code_order_;
};

}  // namespace

int tflite_op_version(const Graph& g, const Op& op) {
  const ops::OpDef* def = ops::find_op(op);
  if (def && def->single_version) return 1;
  int v = def && def->version ? def->version(g, op) : 1;
  if (ops::detail::has_type(g, op.inputs, DType::kInt16) ||
      ops::detail::has_type(g, op.outputs, DType::kInt16)) {
    v = std::max(v, 3);
  }
  return std::max(v, op.version);
}

std::vector<uint8_t> write_tflite(const Graph& graph, const WriterOptions& options) {
  return Writer(graph, options).write();
}

}  // namespace osprey
