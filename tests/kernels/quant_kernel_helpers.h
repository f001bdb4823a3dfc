// Helpers of the integer kernel tests (*_int8_test.cpp): random shapes and
// parameters, quantization parameters, and the requantization the kernels are
// specified to do, written from the formulas.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "graph/graph.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey::quant_test {

using quant::Arithmetic;

constexpr Arithmetic kAllArithmetic[] = {Arithmetic::kLiteRT, Arithmetic::kTfliteSingle,
                                         Arithmetic::kTfliteDouble};

// Sets the process-wide arithmetic for one scope.
class ArithmeticScope {
 public:
  explicit ArithmeticScope(Arithmetic a) : before_(quant::arithmetic()) { quant::set_arithmetic(a); }
  ~ArithmeticScope() { quant::set_arithmetic(before_); }

 private:
  Arithmetic before_;
};

inline int rnd(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}
inline float rndf(std::mt19937& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

template <typename T>
std::vector<T> random_q(std::mt19937& rng, int64_t n, int lo = std::numeric_limits<T>::min(),
                        int hi = std::numeric_limits<T>::max()) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(rnd(rng, lo, hi));
  return v;
}

inline Quantization per_tensor(float scale, int64_t zp) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zp};
  return q;
}

inline Quantization per_channel(const std::vector<float>& scales, int axis) {
  Quantization q;
  q.scale = scales;
  q.zero_point.assign(scales.size(), 0);
  q.axis = axis;
  return q;
}

struct Range {
  int32_t lo, hi;
};

inline Range act_range(Activation a, float scale, int32_t zp, DType t) {
  const int32_t qmin = t == DType::kInt8 ? -128 : 0, qmax = t == DType::kInt8 ? 127 : 255;
  auto q = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  switch (a) {
    case Activation::kRelu: return {std::max(qmin, q(0)), qmax};
    case Activation::kRelu6: return {std::max(qmin, q(0)), std::min(qmax, q(6))};
    case Activation::kReluN1To1: return {std::max(qmin, q(-1)), std::min(qmax, q(1))};
    default: return {qmin, qmax};
  }
}

// Requantizes a conv-family accumulator as the kernels are specified to.
inline int32_t conv_requant(int32_t acc, float in_s, float w_s, float out_s, int32_t zp, Range r,
                            Arithmetic a, DType t) {
  if (a == Arithmetic::kLiteRT) return quant::requantize_fp32(acc, in_s * w_s / out_s, zp, r.lo, r.hi);
  const double real =
      t == DType::kInt8 ? static_cast<double>(in_s) * w_s / out_s : static_cast<double>(in_s * w_s) / out_s;
  const int32_t v = quant::multiply_by_quantized_multiplier(acc, quant::quantize_multiplier(real), a) + zp;
  return std::clamp(v, r.lo, r.hi);
}

inline Activation random_activation(std::mt19937& rng) {
  constexpr Activation all[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                Activation::kReluN1To1};
  return all[rnd(rng, 0, 3)];
}

}  // namespace osprey::quant_test
