// Requantization of osprey's int8 kernels, bit-exact to the integer reference
// kernels (kernels/ref/quantized/conv.cpp): the same parameters, derived from
// the same tensors in the same float/double order, for each of the three
// arithmetics of kernels/ref/quantized/fixed_point.h. The vector form of the
// arithmetic is in int8_microkernels.inc.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey {

// Output channels are padded to a multiple of this in every per-channel array.
inline constexpr int kInt8ChannelPad = 64;

struct Int8Requant {
  bool is_signed = true;  // int8 (true) or uint8 data
  int channels = 0;
  int32_t input_zero_point = 0;
  int32_t weight_zero_point = 0;  // uint8 weights only
  int32_t output_zero_point = 0;
  int32_t qmin = 0, qmax = 0;  // the fused activation's clamp
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;
  // Per output channel, padded with zeros to a multiple of kInt8ChannelPad:
  std::vector<float> scale;          // LiteRT: in_scale * w_scale / out_scale, in float
  std::vector<int32_t> multiplier;   // TFLite: Q0.31 significand
  std::vector<int32_t> left_shift;   // double rounding: max(shift, 0)
  std::vector<int32_t> right_shift;  // double rounding: max(-shift, 0); single rounding: 31 - shift
  std::vector<int32_t> bias;         // the int32 bias (0 when absent)
};

// The parameters of a CONV_2D (channel axis 0) or DEPTHWISE_CONV_2D (axis 3)
// with int8 or uint8 data, as the reference kernel computes them; false when
// the reference kernel would refuse the op (it then reports why).
bool int8_requant_params(const Graph& graph, const Op& op, int channels, int axis, Activation activation,
                         Int8Requant& rq);

}  // namespace osprey
