// MEAN's last step, from a sum over the reduced axes to one output value, as
// the integer reference kernel (pool.cpp) computes it. osprey's own MEAN
// kernels (backends/avx512/int8_mean_mul.cpp) call it too, so that both
// round alike in every arithmetic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/ref/quantized/common.h"

namespace osprey::ref::quantized {

// a * b rounded to float before anything is added to it: this header is
// also compiled for CPU levels with FMA (int8_mean_mul.cpp), where the
// compiler could fuse a * b + c into one rounding, which the kernels it
// mirrors do not.
inline float rounded_product(float a, float b) {
  volatile float product = a * b;
  return product;
}

struct MeanFinish {
  // H and W of a 4-D tensor kept as 1s: XNNPACK's mean in LiteRT's
  // arithmetic, else reference_integer_ops::Mean, both over sums of
  // q - zp_in; otherwise reference_ops::QuantizedMeanOrSum, which sums q.
  bool spatial = false;
  TensorParams in, out;
  int32_t count = 1;               // values per sum
  int32_t lo = 0, hi = 0;          // the storage type's range
  QuantizedMultiplier multiplier;  // in_scale / out_scale
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;

  MeanFinish() = default;
  MeanFinish(bool is_spatial, const TensorParams& input, const TensorParams& output, int32_t values,
             DType type)
      : spatial(is_spatial),
        in(input),
        out(output),
        count(values),
        lo(type_min(type)),
        hi(type_max(type)),
        multiplier(
            quant::quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale))),
        mode(quant::arithmetic()) {}

  // The zero point each summed value has had subtracted.
  int32_t subtracted() const { return spatial ? in.zero_point : 0; }

  int32_t value(int32_t sum) const {
    int32_t v = 0;
    if (spatial && mode == quant::Arithmetic::kLiteRT) {
      // LiteRT hands this MEAN to XNNPACK: the sum of the raw values times
      // (in_scale / out_scale) * (1 / count) in float, plus the zero points'
      // float bias, rounded half to even (tests/ops/mean_litert.mjs, near-half
      // means included; TFLite's kernel below differed by one step on about
      // 1 value in 100, and on a third of the near-half ones).
      const float scale = (in.scale / out.scale) * (1.0f / static_cast<float>(count));
      const float bias = static_cast<float>(out.zero_point) -
                         rounded_product(static_cast<float>(int64_t{in.zero_point} * count), scale);
      const int64_t raw = int64_t{sum} + int64_t{in.zero_point} * count;
      const float r = std::nearbyint(rounded_product(static_cast<float>(raw), scale) + bias);
      v = static_cast<int32_t>(std::clamp(r, static_cast<float>(lo), static_cast<float>(hi)));
    } else if (spatial) {
      int32_t acc = quant::multiply_by_quantized_multiplier(sum, multiplier, mode);
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      v = acc + out.zero_point;
    } else {
      const float scale = in.scale / out.scale;
      const float bias = static_cast<float>(-in.zero_point) * scale;
      const float mean = static_cast<float>(sum) / static_cast<float>(count);
      const float r = std::round(rounded_product(mean, scale) + bias) + static_cast<float>(out.zero_point);
      v = static_cast<int32_t>(std::min(std::max(r, static_cast<float>(lo)), static_cast<float>(hi)));
    }
    return std::min(std::max(v, lo), hi);
  }
};

}  // namespace osprey::ref::quantized
