// Small models for the emulated DLPU devices' tests, built by hand in the
// shape `osprey quantize` gives its output: uint8 model input and output
// around an int8 CONV_2D (per-tensor or per-channel weights) and a PAD, which
// ARTPEC-8's op list lacks. Variants with float edges and a float op in the
// middle, and the float tiny model, cover what the DLPUs refuse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/model_builder.h"

namespace osprey::service::testing {

enum class DlpuModel {
  kFloat,       // the float tiny model: refused at op #0 CONV_2D
  kPerTensor,   // uint8 -> QUANTIZE -> CONV_2D (per-tensor) -> PAD -> QUANTIZE -> uint8
  kPerChannel,  // the same with per-channel weights
  kFloatIo,     // float -> QUANTIZE -> CONV_2D -> PAD -> DEQUANTIZE -> float (edges on the CPU)
  kHybrid,      // uint8 -> QUANTIZE -> CONV_2D -> DEQUANTIZE -> float LOGISTIC -> QUANTIZE -> uint8
};

inline const std::vector<DlpuModel>& all_dlpu_models() {
  static const std::vector<DlpuModel> all = {DlpuModel::kFloat, DlpuModel::kPerTensor, DlpuModel::kPerChannel,
                                             DlpuModel::kFloatIo, DlpuModel::kHybrid};
  return all;
}

inline const char* dlpu_model_name(DlpuModel m) {
  switch (m) {
    case DlpuModel::kFloat: return "float";
    case DlpuModel::kPerTensor: return "per-tensor";
    case DlpuModel::kPerChannel: return "per-channel";
    case DlpuModel::kFloatIo: return "float-io";
    case DlpuModel::kHybrid: return "hybrid";
  }
  return "?";
}

inline std::vector<uint8_t> dlpu_model_bytes(DlpuModel kind) {
  using osprey::testing::as_bytes;
  using osprey::testing::ModelSpec;
  using osprey::testing::OpSpec;
  if (kind == DlpuModel::kFloat) return osprey::testing::build_model(osprey::testing::tiny_conv_model());
  constexpr int8_t kF32 = 0, kI32 = 2, kU8 = 3, kI8 = 9;  // TFLite TensorType
  constexpr int kChannels = 8;
  const float in_scale = 0.02f;
  const bool per_channel = kind == DlpuModel::kPerChannel;
  const bool float_io = kind == DlpuModel::kFloatIo;

  ModelSpec m;
  std::vector<int8_t> weights(kChannels * 3 * 3 * 3);
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  std::vector<float> w_scale = {0.01f};
  if (per_channel) {
    w_scale.clear();
    for (int c = 0; c < kChannels; ++c) w_scale.push_back(0.004f + 0.002f * static_cast<float>(c));
  }
  std::vector<float> b_scale;
  for (float s : w_scale) b_scale.push_back(in_scale * s);
  std::vector<int32_t> bias(kChannels);
  for (int c = 0; c < kChannels; ++c) bias[static_cast<size_t>(c)] = c * 150 - 500;
  m.buffers.push_back(as_bytes(weights));                                       // 1
  m.buffers.push_back(as_bytes(bias));                                          // 2
  m.buffers.push_back(as_bytes(std::vector<int32_t>{0, 0, 1, 1, 1, 1, 0, 0}));  // 3: paddings
  const std::vector<int64_t> zeros(w_scale.size(), 0);
  m.tensors = {
      {{1, 8, 8, 3},
       float_io ? kF32 : kU8,
       0,
       "input",
       float_io ? std::vector<float>{} : std::vector{in_scale},
       float_io ? std::vector<int64_t>{} : std::vector<int64_t>{128},
       0},
      {{1, 8, 8, 3}, kI8, 0, "input_int8", {in_scale}, {0}, 0},
      {{kChannels, 3, 3, 3}, kI8, 1, "weights", w_scale, zeros, 0},
      {{kChannels}, kI32, 2, "bias", b_scale, zeros, 0},
      {{1, 8, 8, kChannels}, kI8, 0, "conv", {0.05f}, {-10}, 0},
  };
  auto add_op = [&](int32_t code, std::vector<int32_t> in, std::vector<int32_t> out, bool conv = false) {
    m.op_codes.push_back(code);
    OpSpec op;
    op.opcode_index = static_cast<int32_t>(m.op_codes.size()) - 1;
    op.inputs = std::move(in);
    op.outputs = std::move(out);
    op.conv_options = conv;
    m.ops.push_back(std::move(op));
  };
  constexpr int32_t kConv2D = 3, kDequantize = 6, kLogistic = 14, kPad = 34, kQuantize = 114;
  add_op(kQuantize, {0}, {1});
  add_op(kConv2D, {1, 2, 3}, {4}, true);
  if (kind == DlpuModel::kHybrid) {
    m.tensors.push_back({{1, 8, 8, kChannels}, kF32, 0, "conv_float", {}, {}, 0});        // 5
    m.tensors.push_back({{1, 8, 8, kChannels}, kF32, 0, "sigmoid", {}, {}, 0});           // 6
    m.tensors.push_back({{1, 8, 8, kChannels}, kU8, 0, "output", {1.0f / 256}, {0}, 0});  // 7
    add_op(kDequantize, {4}, {5});
    add_op(kLogistic, {5}, {6});
    add_op(kQuantize, {6}, {7});
  } else {
    m.tensors.push_back({{4, 2}, kI32, 3, "paddings", {}, {}, 0});                       // 5
    m.tensors.push_back({{1, 10, 10, kChannels}, kI8, 0, "padded", {0.05f}, {-10}, 0});  // 6
    m.tensors.push_back(
        float_io
            ? osprey::testing::TensorSpec{{1, 10, 10, kChannels}, kF32, 0, "output", {}, {}, 0}
            : osprey::testing::TensorSpec{{1, 10, 10, kChannels}, kU8, 0, "output", {0.05f}, {118}, 0});  // 7
    add_op(kPad, {4, 5}, {6});
    add_op(float_io ? kDequantize : kQuantize, {6}, {7});
  }
  m.inputs = {0};
  m.outputs = {7};
  return osprey::testing::build_model(m);
}

}  // namespace osprey::service::testing
