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

// Whether the LiteRT arithmetic's sums, times their scales, stay far inside
// int32 (below 2^30): the tiles may then round before they clamp, and clamp
// the packed bytes (int8_microkernels.inc, PackedRequant). True when every
// channel's scale is at most 1/2 (any int32 sum qualifies), or its sums
// cannot reach 2^30 over the scale: a sum is the bias plus products of
// |w| <= weight_magnitudes[c] in total (the sum of |sum_term| of
// Int8ByteWeight over the channel's taps) by inputs |x - x_zp| <= 255.
// Per-channel layers often have a channel of scale above 1/2 with sums far
// too small to matter (hand_landmark_full: 13 of 31 layers).
bool int8_requant_packs(const Int8Requant& rq, const std::vector<int64_t>& weight_magnitudes);

// How the int8 kernels fold the zero points into their vpdpbusd sums
// (int8_microkernels.h): the signed byte a weight byte is multiplied as, and
// its share of the weight sum (w for int8, w - w_zp for uint8)...
struct Int8ByteWeight {
  int8_t packed;
  int64_t sum_term;
};
inline Int8ByteWeight int8_byte_weight(const Int8Requant& rq, uint8_t byte) {
  const int32_t value = rq.is_signed ? static_cast<int8_t>(byte) : byte;
  return {static_cast<int8_t>(rq.is_signed ? value : value - 128),
          rq.is_signed ? value : value - rq.weight_zero_point};
}
// ... the start of channel `channel`'s sum from its bias and that weight sum,
// wrapping modulo 2^32 like every other step of the int32 sum ...
inline int32_t int8_folded_init(const Int8Requant& rq, int channel, int64_t weight_sum) {
  const int64_t x_term = rq.is_signed ? int64_t{rq.input_zero_point + 128} * weight_sum
                                      : int64_t{rq.input_zero_point} * weight_sum;
  return static_cast<int32_t>(
      static_cast<uint32_t>(static_cast<uint64_t>(rq.bias[static_cast<size_t>(channel)] - x_term)));
}
// ... and the factor of the per-pixel input sum (uint8 only; 0 when not needed).
inline int32_t int8_input_sum_factor(const Int8Requant& rq) {
  return rq.is_signed ? 0 : 128 - rq.weight_zero_point;
}

}  // namespace osprey
