// Choosing quantization parameters (TFLite's quantization spec):
//   activations  int8 asymmetric per tensor: the range is widened to include 0,
//                scale = (max - min) / 255 and the zero point is nudged to the
//                nearest integer so that 0.0 is exactly representable
//   weights      int8 symmetric in [-127, 127], zero point 0, per tensor or per
//                output channel: scale = max|w| / 127
//   bias         int32, zero point 0, scale = input scale * weight scale
#pragma once

#include <cstdint>
#include <vector>

#include "graph/tensor.h"

namespace osprey::quant {

struct AffineParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// int8 (or uint8 with `unsigned_type`) parameters covering [lo, hi].
AffineParams choose_activation_params(float lo, float hi, bool unsigned_type = false);

// The largest |w| of each slice of float weights `w` of `shape` along `axis`
// (or of the whole tensor when axis < 0).
std::vector<float> channel_max_abs(const float* w, const Shape& shape, int axis);

// Symmetric int8 scales of float weights `w` of `shape`, one per slice along
// `axis` (or one for the whole tensor when axis < 0): max|w| / 127, 1 for a
// slice of zeros.
std::vector<float> symmetric_weight_scales(const float* w, const Shape& shape, int axis);

// q = clamp(round(w / scale[c]), -127, 127) per element.
std::vector<int8_t> quantize_weights(const float* w, const Shape& shape, int axis,
                                     const std::vector<float>& scales);

// Asymmetric int8 per-tensor quantization of a small constant (PRELU alpha,
// a constant operand of ADD/MUL): parameters from its own min/max.
AffineParams constant_params(const float* values, int64_t n);
std::vector<int8_t> quantize_values(const float* values, int64_t n, const AffineParams& p);

// int32 bias: round(b / (input_scale * weight_scale[c])), saturated. `clamped`
// counts values that did not fit.
std::vector<int32_t> quantize_bias(const float* bias, int64_t n, float input_scale,
                                   const std::vector<float>& w_scales, int* clamped = nullptr);

// real = scale * (q - zp) for every element of an int8/uint8/float tensor.
std::vector<float> dequantize_tensor(const Tensor& t);

}  // namespace osprey::quant
