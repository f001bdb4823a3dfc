#include "kernels/ref/quantized/common.h"

#include "core/enum_names.h"

#include "core/limits.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace osprey::ref::quantized {

TensorParams activation_params(const Tensor& t, std::string_view role, DType type) {
  OSPREY_CHECK(is_int8_or_uint8(t.type), "{} has type {}, expected int8 or uint8", role, dtype_name(t.type));
  OSPREY_CHECK(t.type == type, "{} has type {}, expected {}", role, dtype_name(t.type), dtype_name(type));
  OSPREY_CHECK(!t.quant.empty(), "{} ({}) has no quantization parameters", role, dtype_name(t.type));
  OSPREY_CHECK(!t.quant.per_channel(), "{} is quantized per channel; only weights may be", role);
  const float scale = t.quant.scale[0];
  OSPREY_CHECK(std::isfinite(scale) && scale > 0, "{} has scale {}", role, scale);
  const int64_t zp = t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
  OSPREY_CHECK(zp >= type_min(t.type) && zp <= type_max(t.type), "{} has zero point {}, outside the {} range",
               role, zp, dtype_name(t.type));
  return {scale, static_cast<int32_t>(zp)};
}

void check_shared_params(const Tensor& input, const Tensor& output, DType type) {
  const TensorParams in = activation_params(input, "input", type);
  const TensorParams out = activation_params(output, "output", type);
  OSPREY_CHECK(in.scale == out.scale && in.zero_point == out.zero_point,
               "input (scale {}, zero point {}) and output (scale {}, zero point {}) must share parameters",
               in.scale, in.zero_point, out.scale, out.zero_point);
}

void check_shape(const Tensor& t, std::string_view role, int rank) {
  OSPREY_CHECK(t.sparsity == nullptr, "{} is sparse; it must be densified first", role);
  if (rank >= 0) OSPREY_CHECK(t.rank() == rank, "{} has {} dims, expected {}", role, t.rank(), rank);
  limits::checked_elements(t.shape, role, /*positive_dims=*/true);
}

QuantizedRange activation_range(Activation a, const Tensor& output) {
  const int32_t qmin = type_min(output.type);
  const int32_t qmax = type_max(output.type);
  const float scale = output.quant.scale[0];
  const int32_t zp = static_cast<int32_t>(output.quant.zero_point.empty() ? 0 : output.quant.zero_point[0]);
  // Divided and rounded in float, as TFLite; clamped before the conversion,
  // since a tiny scale puts 6.0 beyond int32 (or beyond float, at infinity).
  auto quantize = [&](float f) {
    const double q = static_cast<double>(std::round(f / scale)) + zp;
    return static_cast<int32_t>(std::clamp(q, -2147483648.0, 2147483647.0));
  };
  switch (a) {
    case Activation::kNone: return {qmin, qmax};
    case Activation::kRelu: return {std::max(qmin, quantize(0.0f)), qmax};
    case Activation::kRelu6: return {std::max(qmin, quantize(0.0f)), std::min(qmax, quantize(6.0f))};
    case Activation::kReluN1To1: return {std::max(qmin, quantize(-1.0f)), std::min(qmax, quantize(1.0f))};
    default: fail("fused activation {} is not supported on quantized data", static_cast<int>(a));
  }
}

std::vector<float> weight_scales(const Tensor& w, int channels, int axis, std::string_view role) {
  OSPREY_CHECK(!w.quant.empty(), "{} ({}) has no quantization parameters", role, dtype_name(w.type));
  const size_t n = w.quant.scale.size();
  OSPREY_CHECK(n == 1 || n == static_cast<size_t>(channels), "{} has {} scales for {} channels", role, n,
               channels);
  if (n > 1) {
    OSPREY_CHECK(w.quant.axis == axis, "{} is quantized along axis {}, expected {}", role, w.quant.axis,
                 axis);
  }
  if (w.type == DType::kInt8) {
    for (int64_t zp : w.quant.zero_point)
      OSPREY_CHECK(zp == 0, "int8 {} has zero point {}, expected 0", role, zp);
  }
  for (float s : w.quant.scale) OSPREY_CHECK(std::isfinite(s) && s > 0, "{} has scale {}", role, s);
  std::vector<float> scales(static_cast<size_t>(channels));
  for (int c = 0; c < channels; ++c)
    scales[static_cast<size_t>(c)] = w.quant.scale[n == 1 ? 0 : static_cast<size_t>(c)];
  return scales;
}

const int32_t* bias_data(const KernelContext& ctx, int index, int channels) {
  if (!ctx.has_input(index)) return nullptr;
  const Tensor& b = ctx.input(index);
  OSPREY_CHECK(b.type == DType::kInt32, "bias has type {}, expected int32", dtype_name(b.type));
  OSPREY_CHECK(b.num_elements() == channels, "bias has {} elements, expected {}", b.num_elements(), channels);
  OSPREY_CHECK(b.is_constant && b.data != nullptr, "bias must be a constant");
  return b.data_as<int32_t>();
}

void Broadcast::prepare(const Shape& a, const Shape& b, Shape& out_shape) {
  OSPREY_CHECK(a.size() <= kMaxRank && b.size() <= kMaxRank, "broadcasting supports rank up to {}", kMaxRank);
  same_ = a == b;
  const size_t rank = std::max(a.size(), b.size());
  out_shape.assign(rank, 1);
  dims_.fill(1);
  sa_.fill(0);
  sb_.fill(0);
  std::array<int64_t, kMaxRank> da{}, db{};
  da.fill(1);
  db.fill(1);
  for (size_t i = 0; i < a.size(); ++i) da[kMaxRank - a.size() + i] = a[i];
  for (size_t i = 0; i < b.size(); ++i) db[kMaxRank - b.size() + i] = b[i];
  for (size_t d = 0; d < kMaxRank; ++d) {
    OSPREY_CHECK(da[d] == db[d] || da[d] == 1 || db[d] == 1, "shapes {} and {} cannot be broadcast",
                 shape_str(a), shape_str(b));
    dims_[d] = std::max(da[d], db[d]);
    if (da[d] == 0 || db[d] == 0) dims_[d] = 0;
  }
  int64_t stride_a = 1, stride_b = 1;
  for (int d = kMaxRank - 1; d >= 0; --d) {
    const size_t u = static_cast<size_t>(d);
    sa_[u] = da[u] == 1 ? 0 : stride_a;
    sb_[u] = db[u] == 1 ? 0 : stride_b;
    stride_a *= da[u];
    stride_b *= db[u];
  }
  size_ = 1;
  for (size_t d = 0; d < kMaxRank; ++d) size_ *= dims_[d];
  for (size_t i = 0; i < rank; ++i) out_shape[i] = static_cast<int32_t>(dims_[kMaxRank - rank + i]);
}

}  // namespace osprey::ref::quantized

namespace osprey::quant {

namespace {

constexpr EnumName<Arithmetic> kArithmeticNames[] = {{Arithmetic::kLiteRT, "litert"},
                                                     {Arithmetic::kTfliteSingle, "single"},
                                                     {Arithmetic::kTfliteDouble, "double"}};

Arithmetic initial_arithmetic() {
  const char* v = std::getenv("OSPREY_QUANT_ARITHMETIC");
  return value_named(kArithmeticNames, v ? v : "").value_or(Arithmetic::kLiteRT);
}

std::atomic<Arithmetic>& arithmetic_setting() {
  static std::atomic<Arithmetic> a{initial_arithmetic()};
  return a;
}

}  // namespace

Arithmetic arithmetic() {
  return arithmetic_setting().load();
}
void set_arithmetic(Arithmetic a) {
  arithmetic_setting().store(a);
}
const char* arithmetic_name(Arithmetic a) {
  return name_of(kArithmeticNames, a);
}

}  // namespace osprey::quant
