// MEAN's and SUM's last step, from a sum over the reduced axes to one output
// value, as the integer reference kernel (pool.cpp) computes it. osprey's own
// MEAN kernels (backends/avx512/int8_mean_mul.cpp) call it too, so that both
// round alike in every arithmetic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"
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
  // SUM (over any axes) rather than MEAN: sums of q.
  bool is_sum = false;
  TensorParams in, out;
  int32_t count = 1;               // values per sum
  int32_t lo = 0, hi = 0;          // the storage type's range
  QuantizedMultiplier multiplier;  // in_scale / out_scale
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;

  MeanFinish() = default;
  MeanFinish(bool is_spatial, const TensorParams& input, const TensorParams& output, int32_t values,
             DType type, bool sum_op = false)
      : spatial(is_spatial && !sum_op),
        is_sum(sum_op),
        in(input),
        out(output),
        count(values),
        lo(type_min(type)),
        hi(type_max(type)),
        multiplier(
            quant::quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale))),
        mode(quant::arithmetic()) {
    // The float paths below multiply sums of up to 2^31 bytes by this ratio
    // and add zero-point terms as large: below 2^31 every term stays finite
    // in float, so no NaN (inf - inf) reaches a conversion to int (the
    // model-loader fuzzer found a MEAN with an infinite ratio).
    const float ratio = in.scale / out.scale;
    OSPREY_CHECK(ratio < 0x1p31f, "the input scale {} over the output scale {} is {}, beyond 2^31", in.scale,
                 out.scale, ratio);
  }

  // The zero point each summed value has had subtracted.
  int32_t subtracted() const { return spatial ? in.zero_point : 0; }

  int32_t value(int64_t total) const {
    if (is_sum) return sum_value(total);
    // MEAN's sums fit in int32 in any model TFLite runs (it sums in int32).
    const auto sum = static_cast<int32_t>(std::clamp<int64_t>(total, INT32_MIN, INT32_MAX));
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
      const int64_t acc = quant::multiply_by_quantized_multiplier(sum, multiplier, mode);
      const int64_t mean = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      v = quant::add_zero_point(static_cast<int32_t>(mean), out.zero_point);
    } else {
      const float scale = in.scale / out.scale;
      const float bias = static_cast<float>(-in.zero_point) * scale;
      const float mean = static_cast<float>(sum) / static_cast<float>(count);
      const float r = std::round(rounded_product(mean, scale) + bias) + static_cast<float>(out.zero_point);
      v = static_cast<int32_t>(std::min(std::max(r, static_cast<float>(lo)), static_cast<float>(hi)));
    }
    return std::min(std::max(v, lo), hi);
  }

 private:
  // SUM of raw values `total`. LiteRT hands every int8/uint8 SUM to XNNPACK:
  // MEAN's float rescale without the 1 / count, rounded half to even, then
  // clamped (tests/ops/sum_litert.mjs: ties, near-half sums, all axes, equal
  // parameters). TFLite's own kernel (reference_ops::QuantizedMeanOrSum)
  // rounds half away from zero and wraps out-of-range sums around the
  // storage type; osprey clamps them in every arithmetic.
  int32_t sum_value(int64_t total) const {
    const float scale = in.scale / out.scale;
    float r = 0;
    if (mode == quant::Arithmetic::kLiteRT) {
      const float bias = static_cast<float>(out.zero_point) -
                         rounded_product(static_cast<float>(int64_t{in.zero_point} * count), scale);
      r = std::nearbyint(rounded_product(static_cast<float>(total), scale) + bias);
    } else {
      const float bias =
          rounded_product(static_cast<float>(-in.zero_point) * scale, static_cast<float>(count));
      r = std::round(rounded_product(static_cast<float>(total), scale) + bias) +
          static_cast<float>(out.zero_point);
    }
    return static_cast<int32_t>(std::clamp(r, static_cast<float>(lo), static_cast<float>(hi)));
  }
};

}  // namespace osprey::ref::quantized
