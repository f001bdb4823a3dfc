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

struct MeanFinish {
  // H and W of a 4-D tensor kept as 1s: reference_integer_ops::Mean, which
  // sums q - zp_in; otherwise reference_ops::QuantizedMeanOrSum, which sums q.
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
    if (spatial) {
      int32_t acc = quant::multiply_by_quantized_multiplier(sum, multiplier, mode);
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      v = acc + out.zero_point;
    } else {
      const float scale = in.scale / out.scale;
      const float bias = static_cast<float>(-in.zero_point) * scale;
      const float mean = static_cast<float>(sum) / static_cast<float>(count);
      const float r = std::round(mean * scale + bias) + static_cast<float>(out.zero_point);
      v = static_cast<int32_t>(std::min(std::max(r, static_cast<float>(lo)), static_cast<float>(hi)));
    }
    return std::min(std::max(v, lo), hi);
  }
};

}  // namespace osprey::ref::quantized
