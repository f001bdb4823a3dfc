#include "quant/params.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace osprey::quant {

AffineParams choose_activation_params(float lo, float hi, bool unsigned_type) {
  const double qmin = unsigned_type ? 0 : -128;
  const double qmax = unsigned_type ? 255 : 127;
  double rmin = std::min<double>(lo, 0.0);
  double rmax = std::max<double>(hi, 0.0);
  if (!std::isfinite(rmin) || !std::isfinite(rmax)) fail("range [{}, {}] is not finite", lo, hi);
  if (rmax - rmin < 1e-9) {
    // A tensor that is always zero: any scale represents it; keep a sane one.
    rmax = rmin + 1.0;
  }
  AffineParams p;
  p.scale = static_cast<float>((rmax - rmin) / (qmax - qmin));
  const double zero_point_from_min = qmin - rmin / static_cast<double>(p.scale);
  p.zero_point = static_cast<int32_t>(std::round(std::clamp(zero_point_from_min, qmin, qmax)));
  return p;
}

namespace {

// Element (o, c, i) of a tensor split at `axis`: outer, channels, inner sizes.
struct Split {
  int64_t outer = 1, channels = 1, inner = 1;
};

Split split_at(const Shape& shape, int axis) {
  Split s;
  if (axis < 0) {
    s.inner = num_elements(shape);
    return s;
  }
  OSPREY_CHECK(axis < static_cast<int>(shape.size()), "axis {} out of range for shape {}", axis,
               shape_str(shape));
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (d < axis) s.outer *= shape[static_cast<size_t>(d)];
    if (d == axis) s.channels = shape[static_cast<size_t>(d)];
    if (d > axis) s.inner *= shape[static_cast<size_t>(d)];
  }
  return s;
}

}  // namespace

std::vector<float> channel_max_abs(const float* w, const Shape& shape, int axis) {
  const Split s = split_at(shape, axis);
  std::vector<float> max_abs(static_cast<size_t>(s.channels), 0.0f);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const float* p = w + (o * s.channels + c) * s.inner;
      float& m = max_abs[static_cast<size_t>(c)];
      for (int64_t i = 0; i < s.inner; ++i) m = std::max(m, std::abs(p[i]));
    }
  }
  return max_abs;
}

std::vector<float> symmetric_weight_scales(const float* w, const Shape& shape, int axis) {
  std::vector<float> scales;
  for (float m : channel_max_abs(w, shape, axis))
    scales.push_back(m > 0 && std::isfinite(m) ? m / 127.0f : 1.0f);
  return scales;
}

std::vector<int8_t> quantize_weights(const float* w, const Shape& shape, int axis,
                                     const std::vector<float>& scales) {
  const Split s = split_at(shape, axis);
  std::vector<int8_t> q(static_cast<size_t>(s.outer * s.channels * s.inner));
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const float scale = scales[scales.size() == 1 ? 0 : static_cast<size_t>(c)];
      const int64_t base = (o * s.channels + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        const float v = std::round(w[base + i] / scale);
        q[static_cast<size_t>(base + i)] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
      }
    }
  }
  return q;
}

AffineParams constant_params(const float* values, int64_t n) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  return choose_activation_params(lo, hi);
}

std::vector<int8_t> quantize_values(const float* values, int64_t n, const AffineParams& p) {
  std::vector<int8_t> q(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::round(values[i] / p.scale) + static_cast<float>(p.zero_point);
    q[static_cast<size_t>(i)] = static_cast<int8_t>(std::clamp(v, -128.0f, 127.0f));
  }
  return q;
}

std::vector<int32_t> quantize_bias(const float* bias, int64_t n, float input_scale,
                                   const std::vector<float>& w_scales, int* clamped) {
  std::vector<int32_t> q(static_cast<size_t>(n));
  int over = 0;
  for (int64_t c = 0; c < n; ++c) {
    const double scale = static_cast<double>(input_scale) *
                         static_cast<double>(w_scales[w_scales.size() == 1 ? 0 : static_cast<size_t>(c)]);
    double v = std::round(static_cast<double>(bias[c]) / scale);
    constexpr double kMax = std::numeric_limits<int32_t>::max();
    if (v > kMax || v < -kMax) {
      ++over;
      v = std::clamp(v, -kMax, kMax);
    }
    q[static_cast<size_t>(c)] = static_cast<int32_t>(v);
  }
  if (clamped) *clamped = over;
  return q;
}

std::vector<float> dequantize_tensor(const Tensor& t) {
  const int64_t n = t.num_elements();
  std::vector<float> out(static_cast<size_t>(n));
  OSPREY_CHECK(t.data != nullptr, "tensor '{}' has no data", t.name);
  if (t.type == DType::kFloat32) {
    std::copy(t.data_as<float>(), t.data_as<float>() + n, out.begin());
    return out;
  }
  OSPREY_CHECK(t.type == DType::kInt8 || t.type == DType::kUInt8,
               "tensor '{}' is {}, not float32, int8 or uint8", t.name, dtype_name(t.type));
  OSPREY_CHECK(!t.quant.empty(), "tensor '{}' has no quantization parameters", t.name);
  // Per-channel activations do not occur; take channel parameters when present.
  const Quantization& q = t.quant;
  int64_t inner = 1, channels = 1;
  if (q.per_channel()) {
    channels = t.dim(q.axis);
    for (int d = q.axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
  } else {
    inner = n;
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = static_cast<size_t>((i / inner) % channels);
    const int32_t v =
        t.type == DType::kInt8 ? int32_t{t.data_as<int8_t>()[i]} : int32_t{t.data_as<uint8_t>()[i]};
    out[static_cast<size_t>(i)] = static_cast<float>(q.scale[c] * static_cast<double>(v - q.zero_point[c]));
  }
  return out;
}

}  // namespace osprey::quant
