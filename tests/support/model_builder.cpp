#include "support/model_builder.h"

#include "model/tflite_schema_generated.h"

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
                                                fbb.CreateVector(t.zero_point));
    }
    tensors.push_back(tfl::CreateTensor(fbb, fbb.CreateVector(t.shape), static_cast<tfl::TensorType>(t.type),
                                        t.buffer, fbb.CreateString(t.name), quant));
  }
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
  for (int32_t c : spec.op_codes) {
    const auto deprecated = static_cast<int8_t>(c < 127 ? c : 127);
    codes.push_back(tfl::CreateOperatorCode(fbb, deprecated, 0, 1, static_cast<tfl::BuiltinOperator>(c)));
  }
  std::vector<flatbuffers::Offset<tfl::Operator>> ops;
  for (const OpSpec& op : spec.ops) {
    auto options_type = tfl::BuiltinOptions::NONE;
    flatbuffers::Offset<void> options = 0;
    if (op.conv_options) {
      options_type = tfl::BuiltinOptions::Conv2DOptions;
      options = tfl::CreateConv2DOptions(fbb, tfl::Padding::SAME, op.stride, op.stride).Union();
    }
    ops.push_back(tfl::CreateOperator(fbb, static_cast<uint32_t>(op.opcode_index),
                                      fbb.CreateVector(op.inputs), fbb.CreateVector(op.outputs), options_type,
                                      options));
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
      {{1, 5, 5, 2}, 0, 0, "input", {}, {}},
      {{4, 3, 3, 2}, 0, 1, "weights", {}, {}},
      {{4}, 0, 2, "bias", {}, {}},
      {{1, 5, 5, 4}, 0, 0, "conv", {}, {}},
      {{1, 5, 5, 4}, 0, 0, "output", {}, {}},
  };
  m.ops = {{0, {0, 1, 2}, {3}, true, 1}, {1, {3}, {4}, false, 1}};
  m.inputs = {0};
  m.outputs = {4};
  return m;
}

}  // namespace osprey::testing
