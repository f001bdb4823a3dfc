// Reference float activations (RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH), SQRT
// and SOFTMAX, each written as TFLite's reference_ops computes it, operation for operation.
// All of them read each input element before writing the output element at the same index, so
// they are safe to run in place.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "kernels/kernel.h"

namespace osprey::ref {

namespace {

// Checks one float32 input and one float32 output and gives the output the input's shape.
void prepare_float_unary(KernelContext& ctx) {
  OSPREY_CHECK(ctx.num_inputs() == 1, "expected 1 input, got {}", ctx.num_inputs());
  OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
  OSPREY_CHECK(ctx.has_input(0), "input 0 is missing");
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(in.type == DType::kFloat32, "input 0 has type {}, expected float32", dtype_name(in.type));
  OSPREY_CHECK(out.type == DType::kFloat32, "output 0 has type {}, expected float32", dtype_name(out.type));
  for (int32_t d : in.shape) OSPREY_CHECK(d >= 0, "input 0 has shape {}", shape_str(in.shape));
  out.shape = in.shape;
}

// The comparisons are written as TFLite's so that NaN passes through unchanged.
float relu(float x) {
  return x < 0.0f ? 0.0f : x;
}
float relu6(float x) {
  return x > 6.0f ? 6.0f : x < 0.0f ? 0.0f : x;
}
float relu_n1_to_1(float x) {
  return x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
}
float hard_swish(float x) {
  return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f;
}
float sqrt_float(float x) {
  return std::sqrt(x);
}
float tanh_float(float x) {
  return std::tanh(x);
}

// 1 / (1 + exp(-x)), with TFLite's cutoffs: above 16.62 the float result is 1 anyway, and below
// -9 exp(x) is within float rounding of it while exp(-x) could overflow for large |x|.
float logistic(float x) {
  constexpr float kUpper = 16.619047164916992188f;
  constexpr float kLower = -9.0f;
  if (x > kUpper) return 1.0f;
  if (x < kLower) return std::exp(x);
  return 1.0f / (1.0f + std::exp(-x));
}

template <float (*F)(float)>
class UnaryKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override { prepare_float_unary(ctx); }
  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const float* x = in.data_as<float>();
    float* y = ctx.output(0).data_as<float>();
    const int64_t n = in.num_elements();
    for (int64_t i = 0; i < n; ++i) y[i] = F(x[i]);
  }
};

// LEAKY_RELU: x > 0 ? x : alpha * x (alpha may be negative or above 1, so not max(x, alpha*x)).
class LeakyReluKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    prepare_float_unary(ctx);
    alpha_ = ctx.options<LeakyReluOptions>().alpha;
  }
  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const float* x = in.data_as<float>();
    float* y = ctx.output(0).data_as<float>();
    const int64_t n = in.num_elements();
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : x[i] * alpha_;
  }

 private:
  float alpha_ = 0.0f;
};

// SOFTMAX over the last axis: exp((x - max) * beta) / sum. Subtracting the row's maximum keeps
// exp from overflowing without changing the result.
class SoftmaxKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    prepare_float_unary(ctx);
    const Tensor& in = ctx.input(0);
    OSPREY_CHECK(in.rank() >= 1, "input 0 is a scalar, softmax needs at least one dimension");
    beta_ = ctx.options<SoftmaxOptions>().beta;
    depth_ = in.dim(in.rank() - 1);
    rows_ = depth_ == 0 ? 0 : in.num_elements() / depth_;
  }

  void eval(KernelContext& ctx) override {
    const float* x = ctx.input(0).data_as<float>();
    float* y = ctx.output(0).data_as<float>();
    for (int64_t r = 0; r < rows_; ++r) {
      const float* in = x + r * depth_;
      float* out = y + r * depth_;
      float max = std::numeric_limits<float>::lowest();
      for (int64_t c = 0; c < depth_; ++c) max = std::max(max, in[c]);
      float sum = 0.0f;
      for (int64_t c = 0; c < depth_; ++c) {
        out[c] = std::exp((in[c] - max) * beta_);
        sum += out[c];
      }
      for (int64_t c = 0; c < depth_; ++c) out[c] = out[c] / sum;
    }
  }

 private:
  float beta_ = 1.0f;
  int64_t depth_ = 0;
  int64_t rows_ = 0;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory relu_kernel = make_kernel<UnaryKernel<relu>>;
extern const KernelFactory relu6_kernel = make_kernel<UnaryKernel<relu6>>;
extern const KernelFactory relu_n1_to_1_kernel = make_kernel<UnaryKernel<relu_n1_to_1>>;
extern const KernelFactory hard_swish_kernel = make_kernel<UnaryKernel<hard_swish>>;
extern const KernelFactory logistic_kernel = make_kernel<UnaryKernel<logistic>>;
extern const KernelFactory tanh_kernel = make_kernel<UnaryKernel<tanh_float>>;
extern const KernelFactory sqrt_kernel = make_kernel<UnaryKernel<sqrt_float>>;
extern const KernelFactory leaky_relu_kernel = make_kernel<LeakyReluKernel>;
extern const KernelFactory softmax_kernel = make_kernel<SoftmaxKernel>;

}  // namespace osprey::ref
