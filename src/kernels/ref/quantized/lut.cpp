// Integer LOGISTIC, TANH and SOFTMAX the way TFLite's default (optimized)
// kernels and XNNPACK compute them: a 256-entry table built in float at
// prepare time.
//   LOGISTIC, TANH  table[q] = clamp(round(f(s_in * (q - z_in)) / s_out) + z_out);
//                   the output parameters are fixed by the spec: LOGISTIC 1/256
//                   with zero point -128 (int8) or 0 (uint8), TANH 1/128 with
//                   zero point 0 (int8) or 128 (uint8). With the litert
//                   arithmetic, XNNPACK's table (LiteRT hands it these ops): f
//                   from double (the sigmoid as e^x / (1 + e^x)) rounded once to
//                   float, and round(f / s_out + z_out) half to even. Otherwise
//                   TFLite's LUTPopulate: f in float, rounded half away from zero.
//                   They differ only where a value lies on or next to a tie.
//   SOFTMAX         exp table of the distance to the row maximum, float sum,
//                   round(p / s_out) + z_out (optimized_ops::Softmax); output
//                   parameters fixed at 1/256 and -128 (int8) or 0 (uint8)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "kernels/ref/quantized/common.h"
#include "kernels/ref/quantized/elementwise.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey::ref::quantized {
namespace {

void check_fixed_output(const Tensor& out, float scale, int32_t zero_point, const char* op) {
  const TensorParams p = activation_params(out, "output", out.type);
  OSPREY_CHECK(std::abs(p.scale - scale) <= scale * 1e-6f && p.zero_point == zero_point,
               "{} output must have scale {} and zero point {} (has {} and {})", op, scale, zero_point,
               p.scale, p.zero_point);
}

enum class LutKind { kLogistic, kTanh };

template <LutKind kKind>
class LutKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    const TensorParams pi = unary_input_params(ctx, type_);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    for (int32_t d : in.shape) OSPREY_CHECK(d >= 0, "input has shape {}", shape_str(in.shape));
    OSPREY_CHECK(out.type == type_, "output type {} differs from input type {}", dtype_name(out.type),
                 dtype_name(type_));
    const bool int8 = type_ == DType::kInt8;
    if constexpr (kKind == LutKind::kLogistic) {
      check_fixed_output(out, 1.0f / 256, int8 ? -128 : 0, "LOGISTIC");
    } else {
      check_fixed_output(out, 1.0f / 128, int8 ? 0 : 128, "TANH");
    }
    const TensorParams po = activation_params(out, "output", type_);
    out.shape = in.shape;
    const float inverse_scale = 1 / po.scale;
    const int32_t lo = type_min(type_), hi = type_max(type_);
    const bool litert = quant::arithmetic() == quant::Arithmetic::kLiteRT;
    for (int32_t q = lo; q <= hi; ++q) {
      const float x = pi.scale * static_cast<float>(q - pi.zero_point);
      const float y = litert ? function_as_xnnpack(x) : function_as_tflite(x);
      const float rescaled = litert ? std::nearbyint(y * inverse_scale + static_cast<float>(po.zero_point))
                                    : std::round(y * inverse_scale) + static_cast<float>(po.zero_point);
      const int32_t v =
          static_cast<int32_t>(std::clamp(rescaled, static_cast<float>(lo), static_cast<float>(hi)));
      table_[static_cast<uint8_t>(q)] = static_cast<uint8_t>(v);
    }
  }

  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(0).data;
    uint8_t* out = ctx.output(0).data;
    const int64_t n = ctx.input(0).num_elements();
    for (int64_t i = 0; i < n; ++i) out[i] = table_[in[i]];
  }

 private:
  static float function_as_tflite(float x) {
    if constexpr (kKind == LutKind::kLogistic) {
      return 1.0f / (1.0f + std::exp(-x));
    } else {
      return std::tanh(x);
    }
  }

  static float function_as_xnnpack(float x) {
    if constexpr (kKind == LutKind::kLogistic) {
      if (x > 100) return 1;
      if (x < -100) return 0;
      const double e = std::exp(static_cast<double>(x));
      return static_cast<float>(e / (1 + e));
    } else {
      return static_cast<float>(std::tanh(static_cast<double>(x)));
    }
  }

  DType type_ = DType::kInt8;
  std::array<uint8_t, 256> table_{};  // indexed by the raw byte, holding the raw output byte
};

class Softmax final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    const TensorParams pi = unary_input_params(ctx, type_);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_shape(in, "input");
    OSPREY_CHECK(in.rank() >= 1, "input is a scalar");
    check_fixed_output(out, 1.0f / 256, type_ == DType::kInt8 ? -128 : 0, "SOFTMAX");
    out_ = activation_params(out, "output", type_);
    out.shape = in.shape;
    const float beta =
        std::holds_alternative<SoftmaxOptions>(ctx.op().options) ? ctx.options<SoftmaxOptions>().beta : 1.0f;
    const float scale = -pi.scale * beta;
    for (int d = 0; d < 256; ++d) table_[static_cast<size_t>(d)] = std::exp(scale * static_cast<float>(d));
    depth_ = in.shape.back();
    rows_ = in.num_elements() / depth_;
  }

  void eval(KernelContext& ctx) override {
    with_element_type(type_, [&](auto zero) {
      using T = decltype(zero);
      run(ctx.input(0).data_as<T>(), ctx.output(0).data_as<T>());
    });
  }

 private:
  template <typename T>
  void run(const T* in, T* out) const {
    const int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
    for (int64_t r = 0; r < rows_; ++r) {
      const T* x = in + r * depth_;
      T* y = out + r * depth_;
      int32_t max_val = lo;
      for (int j = 0; j < depth_; ++j) max_val = std::max<int32_t>(max_val, x[j]);
      float sum = 0.0f;
      for (int j = 0; j < depth_; ++j) sum += table_[static_cast<size_t>(max_val - x[j])];
      const float inv_sum = 1.0f / (sum * out_.scale);
      for (int j = 0; j < depth_; ++j) {
        const float p = table_[static_cast<size_t>(max_val - x[j])] * inv_sum;
        const int32_t q = static_cast<int32_t>(std::round(p)) + out_.zero_point;
        y[j] = static_cast<T>(std::min(std::max(q, lo), hi));
      }
    }
  }

  DType type_ = DType::kInt8;
  TensorParams out_;
  std::array<float, 256> table_{};
  int depth_ = 1;
  int64_t rows_ = 0;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory logistic_kernel = make_kernel<LutKernel<LutKind::kLogistic>>;
extern const KernelFactory tanh_kernel = make_kernel<LutKernel<LutKind::kTanh>>;
extern const KernelFactory softmax_kernel = make_kernel<Softmax>;

}  // namespace osprey::ref::quantized
