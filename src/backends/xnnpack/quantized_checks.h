// What the lowering (lowering_rules.h) checks of int8/uint8 tensors:
// per-tensor parameters XNNPACK accepts, and clamp bounds and pad values as
// the floats XNNPACK quantizes back exactly.
#pragma once

#include <xnnpack.h>

#include <cmath>
#include <string>

#include "backends/op_checks.h"
#include "graph/graph.h"
#include "kernels/ref/quantized/common.h"

namespace osprey::xnnpack::quantized {

using backend_checks::Range;
using Reason = std::string;

inline bool is_int8_or_uint8(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8;
}

inline int32_t type_min(DType t) {
  return t == DType::kInt8 ? -128 : 0;
}
inline int32_t type_max(DType t) {
  return t == DType::kInt8 ? 127 : 255;
}

struct Affine {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

inline int64_t zero_point_of(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}

// A dense int8/uint8 tensor of `type` with known positive dims (rank `rank`
// when given) and per-tensor parameters XNNPACK accepts: a normal positive
// scale, a zero point in the type's range.
inline bool is_quantized(const Tensor& t, DType type, int rank = -1) {
  if (t.type != type || !is_int8_or_uint8(type) || t.sparsity || !backend_checks::dims_positive(t.shape))
    return false;
  if ((rank >= 0 && t.rank() != rank) || t.rank() > XNN_MAX_TENSOR_DIMS) return false;
  if (t.quant.scale.size() != 1 || t.quant.zero_point.size() > 1) return false;
  const float scale = t.quant.scale[0];
  const int64_t zp = zero_point_of(t);
  return std::isnormal(scale) && scale > 0 && zp >= type_min(type) && zp <= type_max(type);
}
inline bool is_activation(const Tensor& t, DType type, int rank = -1) {
  return is_quantized(t, type, rank) && !t.is_constant && t.rank() >= 1;
}
inline bool is_static(const Tensor& t, DType type) {
  return is_quantized(t, type) && t.is_constant && t.data != nullptr;
}

inline Affine affine(const Tensor& t) {
  return {t.quant.scale[0], static_cast<int32_t>(zero_point_of(t))};
}
inline bool same_params(const Tensor& a, const Tensor& b) {
  return a.type == b.type && a.quant.scale[0] == b.quant.scale[0] && zero_point_of(a) == zero_point_of(b);
}

// XNNPACK takes clamp bounds and pad values as floats it quantizes with
// lrintf(value / scale + zero_point), clamped to the type: whether `value`
// comes back as exactly `q` on `output`.
inline bool quantizes_back(float value, int32_t q, const Tensor& output) {
  const Affine p = affine(output);
  const float back = std::fmin(std::fmax(value / p.scale + static_cast<float>(p.zero_point),
                                         static_cast<float>(type_min(output.type))),
                               static_cast<float>(type_max(output.type)));
  return std::lrintf(back) == q;
}

// The float bound of quantized value q: (q - zero_point) * scale, checked
// to round-trip exactly (the type's ends are no bound at all).
inline bool bound_of(int32_t q, const Tensor& output, float& bound) {
  const Affine p = affine(output);
  const DType type = output.type;
  if (q <= type_min(type)) {
    bound = -backend_checks::kInf;
    return true;
  }
  if (q >= type_max(type)) {
    bound = backend_checks::kInf;
    return true;
  }
  bound = static_cast<float>(q - p.zero_point) * p.scale;
  return quantizes_back(bound, q, output);
}

// The float range XNNPACK needs to clamp to exactly `q` on `output`.
inline Reason bounds_of(const ref::quantized::QuantizedRange& q, const Tensor& output, Range& r) {
  if (q.min >= q.max) return "empty output range";
  if (!bound_of(q.min, output, r.min) || !bound_of(q.max, output, r.max))
    return "output bounds XNNPACK cannot express";
  return "";
}

// The fused activation's clamp, as the reference kernels compute it.
inline Reason activation_bounds(Activation a, const Tensor& output, Range& r) {
  Range unused;
  if (!backend_checks::activation_range(a, unused)) return "unsupported fused activation";
  return bounds_of(ref::quantized::activation_range(a, output), output, r);
}

}  // namespace osprey::xnnpack::quantized
