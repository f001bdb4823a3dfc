// Reference float32 kernels of the convolution family: CONV_2D, DEPTHWISE_CONV_2D,
// TRANSPOSE_CONV, MediaPipe's Convolution2DTransposeBias, FULLY_CONNECTED,
// AVERAGE_POOL_2D and MAX_POOL_2D.
//
// The loop nests (window_loops.h) and geometry (kernels/geometry.h) are shared
// with the integer kernels; this file adds float accumulation and the fused
// activation. Results agree with TFLite up to how the compiler contracts a * b + c.
// Everything read from the model is checked in prepare.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/limits.h"
#include "kernels/geometry.h"
#include "kernels/kernel.h"
#include "kernels/ref/activation.h"
#include "kernels/ref/conv_kernel.h"
#include "kernels/ref/window_loops.h"

namespace osprey::ref {
namespace {

using geometry::Dims4;

// ---------------------------------------------------------------------------
// Checks shared by the kernels

void check_dims(const Shape& shape, std::string_view role) {
  limits::checked_elements(shape, role, /*positive_dims=*/true);
}

// rank < 0 accepts any rank.
void check_float_tensor(const Tensor& t, std::string_view role, int rank) {
  OSPREY_CHECK(t.type == DType::kFloat32, "{} type {} is not supported by the float reference kernel", role,
               dtype_name(t.type));
  if (rank >= 0) OSPREY_CHECK(t.rank() == rank, "{} tensor has {} dims, expected {}", role, t.rank(), rank);
  OSPREY_CHECK(t.sparsity == nullptr, "{} tensor is sparse; it must be densified first", role);
  check_dims(t.shape, role);
}

// TFLite only requires the element count to match, so [1, C] biases pass too.
void check_bias(const Tensor& bias, int channels) {
  check_float_tensor(bias, "bias", -1);
  OSPREY_CHECK(bias.num_elements() == channels, "bias has {} elements, expected {}", bias.num_elements(),
               channels);
}

void set_output(KernelContext& ctx, const Shape& shape) {
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(out.type == DType::kFloat32, "output type {} is not supported by the float reference kernel",
               dtype_name(out.type));
  check_dims(shape, "output");
  out.shape = shape;
}

// Float accumulation for the product loop nests: the sum of input * weight, then
// the bias and the fused activation's clamp.
struct FloatProducts {
  using Acc = float;
  const float* bias = nullptr;
  FloatRange range;

  static float product(float input, float weight) { return input * weight; }
  float finish(float total, int channel) const {
    const float bias_value = bias ? bias[channel] : 0.0f;
    return range.clamp(total + bias_value);
  }
};

// What ConvKernel (conv_kernel.h) needs to know of float data.
class FloatArithmetic {
 public:
  static void check_operand(const Tensor& t, std::string_view role, int rank) {
    check_float_tensor(t, role, rank);
  }

  void prepare(KernelContext& ctx, int bias_index, int channels, int /*channel_axis*/, Activation activation,
               const Shape& output_shape) {
    has_bias_ = ctx.has_input(bias_index);
    if (has_bias_) check_bias(ctx.input(bias_index), channels);
    range_ = activation_range(activation);
    set_output(ctx, output_shape);
  }

  template <typename F>
  void run(KernelContext& ctx, int bias_index, F&& f) const {
    const FloatProducts policy{has_bias_ ? ctx.input(bias_index).data_as<float>() : nullptr, range_};
    f(ctx.input(0).data_as<float>(), ctx.input(1).data_as<float>(), ctx.output(0).data_as<float>(), policy);
  }

 private:
  bool has_bias_ = false;
  FloatRange range_;
};

// ---------------------------------------------------------------------------
// CONV_2D: input [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups] (OHWI), bias [Cout].
// DEPTHWISE_CONV_2D: filter [1,KH,KW,Cin*multiplier]; output channel ic * multiplier + m
// reads input channel ic only.

using Conv2D = ConvKernel<Conv2DOptions, FloatArithmetic>;
using DepthwiseConv2D = ConvKernel<DepthwiseConv2DOptions, FloatArithmetic>;

// ---------------------------------------------------------------------------
// Transposed convolution, shared by TRANSPOSE_CONV and Convolution2DTransposeBias.

// TRANSPOSE_CONV: inputs output_shape (int32 [4], constant), weights [Cout,KH,KW,Cin],
// input [N,H,W,Cin], optional bias [Cout].
class TransposeConv final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    g_ = transpose_conv_operands<FloatArithmetic>(ctx);
    has_bias_ = ctx.has_input(3);
    if (has_bias_) check_bias(ctx.input(3), g_.out.c);
    range_ = activation_range(ctx.options<TransposeConvOptions>().activation);
    set_output(ctx, g_.out.shape());
  }

  void eval(KernelContext& ctx) override {
    const float* weights = ctx.input(1).data_as<float>();
    const float* input = ctx.input(2).data_as<float>();
    const float* bias = has_bias_ ? ctx.input(3).data_as<float>() : nullptr;
    float* output = ctx.output(0).data_as<float>();
    const int64_t pixels = g_.out.pixels();
    std::fill(output, output + pixels * g_.out.c, 0.0f);
    transpose_conv_scatter(g_, input, weights, output, FloatProducts{});
    // Bias and activation come after all contributions, as in TFLite.
    for (int64_t p = 0; p < pixels; ++p) {
      for (int oc = 0; oc < g_.out.c; ++oc) {
        float& v = output[p * g_.out.c + oc];
        if (bias) v += bias[oc];
        v = range_.clamp(v);
      }
    }
  }

 private:
  geometry::TransposeConvGeometry g_;
  bool has_bias_ = false;
  FloatRange range_;
};

// MediaPipe's Convolution2DTransposeBias: inputs input [N,H,W,Cin], weights
// [Cout,KH,KW,Cin], bias [Cout]; custom_options is TfLiteTransposeConvParams as raw
// little-endian int32s {padding (1 SAME, 2 VALID), stride_width, stride_height}.
// No activation. The output size follows MediaPipe's kernel and XNNPACK's TF-SAME
// deconvolution: (in - 1) * stride + K - P, where P = max(0, K - 1 - (in - 1) % stride)
// for SAME and 0 for VALID. For SAME that is in * stride only when in % stride == 0
// and K >= stride; an odd input at stride 2 gives 2 * in - 1.
class TransposeConvBias final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 3, 3);
    // The op registry parsed MediaPipe's custom options bytes at load.
    const auto& o = ctx.options<TransposeConvOptions>();
    const Padding padding = o.padding;
    const int stride_w = o.stride_w, stride_h = o.stride_h;

    const Tensor& input = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    check_float_tensor(input, "input", 4);
    check_float_tensor(weights, "weights", 4);
    check_bias(ctx.input(2), weights.dim(0));
    const Dims4 in = Dims4::of(input.shape);
    const Dims4 w = Dims4::of(weights.shape);
    OSPREY_CHECK(stride_h > 0 && stride_w > 0, "strides {}x{} must be positive", stride_h, stride_w);
    const Dims4 out = {in.n, geometry::transpose_bias_output_size(in.h, w.h, stride_h, padding),
                       geometry::transpose_bias_output_size(in.w, w.w, stride_w, padding), w.n};
    g_ = geometry::transpose_conv_geometry(in, w, out, stride_h, stride_w, padding);
    set_output(ctx, g_.out.shape());
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    const float* weights = ctx.input(1).data_as<float>();
    const float* bias = ctx.input(2).data_as<float>();
    float* output = ctx.output(0).data_as<float>();
    // MediaPipe starts every output pixel at the bias and accumulates onto it.
    const int64_t pixels = g_.out.pixels();
    for (int64_t p = 0; p < pixels; ++p) std::copy(bias, bias + g_.out.c, output + p * g_.out.c);
    transpose_conv_scatter(g_, input, weights, output, FloatProducts{});
  }

 private:
  geometry::TransposeConvGeometry g_;
};

// ---------------------------------------------------------------------------
// FULLY_CONNECTED: input [..., K] seen as [rows, K], weights [Nout, K], bias [Nout].

class FullyConnected final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    fc_ = fully_connected_operands<FloatArithmetic>(ctx);
    const auto& opt = ctx.options<FullyConnectedOptions>();
    has_bias_ = ctx.has_input(2);
    if (has_bias_) check_bias(ctx.input(2), fc_.units);
    range_ = activation_range(opt.activation);
    set_output(ctx, fc_.output_shape(ctx.input(0), opt.keep_num_dims));
  }

  void eval(KernelContext& ctx) override {
    const FloatProducts policy{has_bias_ ? ctx.input(2).data_as<float>() : nullptr, range_};
    fully_connected_loops(fc_.rows, fc_.units, fc_.depth, ctx.input(0).data_as<float>(),
                          ctx.input(1).data_as<float>(), ctx.output(0).data_as<float>(), policy);
  }

 private:
  FullyConnectedShape fc_;
  bool has_bias_ = false;
  FloatRange range_;
};

// ---------------------------------------------------------------------------
// AVERAGE_POOL_2D and MAX_POOL_2D over the window clipped to the input, so the
// average divides by the number of elements actually inside it.

struct FloatAverage {
  using Acc = float;
  FloatRange range;
  static float start() { return 0.0f; }
  static void add(float& total, float value) { total += value; }
  float finish(float total, int64_t count) const { return range.clamp(total / static_cast<float>(count)); }
};

struct FloatMax {
  using Acc = float;
  FloatRange range;
  static float start() { return std::numeric_limits<float>::lowest(); }
  static void add(float& result, float value) { result = std::max(result, value); }
  float finish(float result, int64_t) const { return range.clamp(result); }
};

enum class PoolKind { kAverage, kMax };

template <PoolKind kKind>
class Pool2D final : public Kernel {
  using Policy = std::conditional_t<kKind == PoolKind::kAverage, FloatAverage, FloatMax>;

 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 1, 1);
    const auto& opt = ctx.options<Pool2DOptions>();
    const Tensor& input = ctx.input(0);
    check_float_tensor(input, "input", 4);
    g_ = geometry::pool_geometry(input.shape, opt);
    range_ = activation_range(opt.activation);
    set_output(ctx, g_.out.shape());
  }

  void eval(KernelContext& ctx) override {
    pool2d_loops(g_, ctx.input(0).data_as<float>(), ctx.output(0).data_as<float>(), Policy{range_});
  }

 private:
  geometry::PoolGeometry g_;
  FloatRange range_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory conv2d_kernel = make_kernel<Conv2D>;
extern const KernelFactory depthwise_conv2d_kernel = make_kernel<DepthwiseConv2D>;
extern const KernelFactory transpose_conv_kernel = make_kernel<TransposeConv>;
extern const KernelFactory transpose_conv_bias_kernel = make_kernel<TransposeConvBias>;
extern const KernelFactory fully_connected_kernel = make_kernel<FullyConnected>;
extern const KernelFactory average_pool_kernel = make_kernel<Pool2D<PoolKind::kAverage>>;
extern const KernelFactory max_pool_kernel = make_kernel<Pool2D<PoolKind::kMax>>;

}  // namespace osprey::ref
