#include "support/model_builder.h"

#include <fmt/format.h>

#include <algorithm>

namespace osprey::testing {

std::vector<uint8_t> build_model(const ModelSpec& spec) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers;
  for (const auto& b : spec.buffers) {
    fbb.ForceVectorAlignment(b.size(), sizeof(uint8_t), 16);
    auto data = b.empty() ? 0 : fbb.CreateVector(b);
    buffers.push_back(tfl::CreateBuffer(fbb, data));
  }
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
  for (const TensorSpec& t : spec.tensors) {
    flatbuffers::Offset<tfl::QuantizationParameters> quant = 0;
    if (!t.scale.empty()) {
      quant = tfl::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector(t.scale),
                                                fbb.CreateVector(t.zero_point),
                                                tfl::QuantizationDetails::NONE, 0, t.quantized_dimension);
    }
    tensors.push_back(tfl::CreateTensor(fbb, fbb.CreateVector(t.shape), static_cast<tfl::TensorType>(t.type),
                                        t.buffer, fbb.CreateString(t.name), quant));
  }
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
  for (size_t i = 0; i < spec.op_codes.size(); ++i) {
    const int32_t c = spec.op_codes[i];
    const auto deprecated = static_cast<int8_t>(c < 127 ? c : 127);
    const std::string custom = i < spec.custom_codes.size() ? spec.custom_codes[i] : "";
    codes.push_back(tfl::CreateOperatorCode(fbb, deprecated, custom.empty() ? 0 : fbb.CreateString(custom), 1,
                                            static_cast<tfl::BuiltinOperator>(c)));
  }
  std::vector<flatbuffers::Offset<tfl::Operator>> ops;
  for (const OpSpec& op : spec.ops) {
    auto options_type = tfl::BuiltinOptions::NONE;
    flatbuffers::Offset<void> options = 0;
    if (op.options) {
      std::tie(options_type, options) = op.options(fbb);
    } else if (op.conv_options) {
      options_type = tfl::BuiltinOptions::Conv2DOptions;
      options = tfl::CreateConv2DOptions(fbb, tfl::Padding::SAME, op.stride, op.stride).Union();
    }
    ops.push_back(tfl::CreateOperator(fbb, static_cast<uint32_t>(op.opcode_index),
                                      fbb.CreateVector(op.inputs), fbb.CreateVector(op.outputs), options_type,
                                      options,
                                      op.custom_options.empty() ? 0 : fbb.CreateVector(op.custom_options)));
  }
  auto subgraph =
      tfl::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(spec.inputs),
                          fbb.CreateVector(spec.outputs), fbb.CreateVector(ops), fbb.CreateString("main"));
  auto model = tfl::CreateModel(fbb, 3, fbb.CreateVector(codes), fbb.CreateVector(std::vector{subgraph}),
                                fbb.CreateString("osprey test model"), fbb.CreateVector(buffers));
  tfl::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

ModelSpec tiny_conv_model() {
  ModelSpec m;
  m.op_codes = {3 /* CONV_2D */, 19 /* RELU */};
  std::vector<float> weights(4 * 3 * 3 * 2);
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * 0.25f;
  m.buffers.push_back(as_bytes(weights));
  m.buffers.push_back(as_bytes(std::vector<float>{0.5f, -0.5f, 1.0f, 0.0f}));
  m.tensors = {
      {{1, 5, 5, 2}, 0, 0, "input", {}, {}, 0},
      {{4, 3, 3, 2}, 0, 1, "weights", {}, {}, 0},
      {{4}, 0, 2, "bias", {}, {}, 0},
      {{1, 5, 5, 4}, 0, 0, "conv", {}, {}, 0},
      {{1, 5, 5, 4}, 0, 0, "output", {}, {}, 0},
  };
  m.ops = {{0, {0, 1, 2}, {3}, true, 1, nullptr, {}}, {1, {3}, {4}, false, 1, nullptr, {}}};
  m.inputs = {0};
  m.outputs = {4};
  return m;
}

int ModelBuilder::add(std::vector<int32_t> shape, tfl::TensorType type, std::vector<uint8_t> data) {
  uint32_t buffer = 0;
  if (!data.empty()) {
    spec_.buffers.push_back(std::move(data));
    buffer = static_cast<uint32_t>(spec_.buffers.size() - 1);
  }
  const std::string name = fmt::format("t{}", spec_.tensors.size());
  spec_.tensors.push_back({std::move(shape), static_cast<int8_t>(type), buffer, name, {}, {}, 0});
  return static_cast<int>(spec_.tensors.size()) - 1;
}

int ModelBuilder::activation(std::vector<int32_t> shape, tfl::TensorType type) {
  return add(std::move(shape), type, {});
}

int ModelBuilder::constant(std::vector<int32_t> shape, const std::vector<float>& values) {
  return add(std::move(shape), tfl::TensorType::FLOAT32, as_bytes(values));
}

int ModelBuilder::int_constant(std::vector<int32_t> shape, const std::vector<int32_t>& values) {
  return add(std::move(shape), tfl::TensorType::INT32, as_bytes(values));
}

int ModelBuilder::random_constant(std::vector<int32_t> shape) {
  return sparse_constant(std::move(shape), 0.0);
}

int ModelBuilder::sparse_constant(std::vector<int32_t> shape, double zeros) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::bernoulli_distribution zero(zeros);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = zeros > 0 && zero(rng_) ? 0.0f : dist(rng_);
  return constant(std::move(shape), values);
}

void ModelBuilder::op(tfl::BuiltinOperator code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                      BuiltinOptionsWriter options) {
  spec_.op_codes.push_back(static_cast<int32_t>(code));
  spec_.custom_codes.emplace_back();
  OpSpec op;
  op.opcode_index = static_cast<int32_t>(spec_.op_codes.size()) - 1;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options = std::move(options);
  spec_.ops.push_back(std::move(op));
}

void ModelBuilder::custom_op(const std::string& name, std::vector<int32_t> inputs,
                             std::vector<int32_t> outputs, std::vector<uint8_t> custom_options) {
  op(tfl::BuiltinOperator::CUSTOM, std::move(inputs), std::move(outputs));
  spec_.custom_codes.back() = name;
  spec_.ops.back().custom_options = std::move(custom_options);
}

ModelSpec ModelBuilder::spec() const {
  ModelSpec m = spec_;
  std::vector<bool> written(m.tensors.size(), false);
  for (const OpSpec& op : m.ops) {
    for (int32_t t : op.outputs) written[static_cast<size_t>(t)] = true;
  }
  m.inputs.clear();
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    if (!written[t] && m.tensors[t].buffer == 0) m.inputs.push_back(static_cast<int32_t>(t));
  }
  return m;
}

}  // namespace osprey::testing
