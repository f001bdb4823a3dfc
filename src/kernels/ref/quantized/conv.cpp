// Integer reference kernels of the convolution family, after TFLite's
// reference_integer_ops (int8: ConvPerChannel, DepthwiseConvPerChannel,
// TransposeConv, FullyConnected) and reference_ops (uint8, per tensor):
//
//   acc = sum (w - w_zp) * (x - x_zp)   in int32, + int32 bias
//   out = clamp(MultiplyByQuantizedMultiplier(acc, M[c]) + out_zp)
//   M[c] = in_scale * w_scale[c] / out_scale
//
// int8 weights are symmetric (zero point 0) and may be per output channel;
// uint8 weights are per tensor with a zero point. For int8 the multiplier is
// computed in double from the float scales (PopulateConvolutionQuantizationParams);
// for uint8 the scale product is taken in float first (GetQuantizedConvolutionMultipler).
// With the LiteRT arithmetic (fixed_point.h) the accumulator is requantized as
// XNNPACK does: float(acc) * (in_scale * w_scale[c] / out_scale in float),
// rounded half to even.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/geometry.h"
#include "kernels/ref/conv_kernel.h"
#include "kernels/ref/quantized/common.h"
#include "kernels/ref/window_loops.h"

namespace osprey::ref::quantized {
namespace {

// Requantization parameters shared by the kernels of this file.
struct Requant {
  DType type = DType::kInt8;
  int32_t input_offset = 0;                      // -input zero point
  int32_t weight_offset = 0;                     // -weight zero point (uint8 only)
  int32_t output_offset = 0;                     // output zero point
  std::vector<QuantizedMultiplier> multipliers;  // one per output channel
  std::vector<float> fp32_scales;                // the same, as XNNPACK computes them
  QuantizedRange range;
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;

  // Checks input/weights/output types and computes the per-channel multipliers.
  void prepare(const Tensor& input, const Tensor& weights, const Tensor& output, int channels, int axis,
               Activation activation) {
    type = input.type;
    mode = quant::arithmetic();
    const TensorParams in = activation_params(input, "input", input.type);
    const TensorParams out = activation_params(output, "output", input.type);
    OSPREY_CHECK(weights.is_constant && weights.data != nullptr, "weights must be constant");
    OSPREY_CHECK(weights.sparsity == nullptr, "weights are sparse; they must be densified first");
    if (type == DType::kInt8) {
      OSPREY_CHECK(weights.type == DType::kInt8, "int8 input needs int8 weights, not {}",
                   dtype_name(weights.type));
    } else {
      OSPREY_CHECK(weights.type == DType::kUInt8, "uint8 input needs uint8 weights, not {}",
                   dtype_name(weights.type));
      OSPREY_CHECK(!weights.quant.per_channel(), "uint8 weights must be quantized per tensor");
    }
    const std::vector<float> scales = weight_scales(weights, channels, axis, "weights");
    input_offset = -in.zero_point;
    output_offset = out.zero_point;
    weight_offset = 0;
    if (type == DType::kUInt8) {
      const int64_t zp = weights.quant.zero_point.empty() ? 0 : weights.quant.zero_point[0];
      OSPREY_CHECK(zp >= 0 && zp <= 255, "uint8 weights have zero point {}", zp);
      weight_offset = -static_cast<int32_t>(zp);
    }
    multipliers.clear();
    fp32_scales.clear();
    for (int c = 0; c < channels; ++c) {
      fp32_scales.push_back(in.scale * scales[static_cast<size_t>(c)] / out.scale);
      double real = 0;
      if (type == DType::kInt8) {
        real = static_cast<double>(in.scale) * static_cast<double>(scales[static_cast<size_t>(c)]) /
               static_cast<double>(out.scale);
      } else {
        real =
            static_cast<double>(in.scale * scales[static_cast<size_t>(c)]) / static_cast<double>(out.scale);
      }
      multipliers.push_back(quant::quantize_multiplier(real));
    }
    range = activation_range(activation, output);
  }

  // `acc`: the sum modulo 2^32 (IntegerProducts). TFLite's accumulator is int32,
  // which a real model never overflows; a hostile one wraps here, defined.
  int32_t finish(uint32_t acc, int channel) const {
    const auto acc32 = static_cast<int32_t>(acc);
    if (mode == quant::Arithmetic::kLiteRT) {
      return quant::requantize_fp32(acc32, fp32_scales[static_cast<size_t>(channel)], output_offset,
                                    range.min, range.max);
    }
    return range.clamp(quant::add_zero_point(
        quant::multiply_by_quantized_multiplier(acc32, multipliers[static_cast<size_t>(channel)], mode),
        output_offset));
  }
};

// Integer accumulation for the shared loop nests (window_loops.h): the sum of
// (weight - weight zero point) * (input - input zero point), each product in int32,
// then the int32 bias and requantization. The sum is kept modulo 2^32, the bits an
// int32 accumulator keeps, without its overflow being undefined; 32-bit lanes also
// vectorize twice as wide as int64 ones.
template <typename T>
struct IntegerProducts {
  using Acc = uint32_t;
  const Requant* rq = nullptr;
  const int32_t* bias = nullptr;

  uint32_t product(T input, T weight) const {
    return static_cast<uint32_t>((int32_t{weight} + rq->weight_offset) * (int32_t{input} + rq->input_offset));
  }
  T finish(uint32_t acc, int channel) const {
    if (bias) acc += static_cast<uint32_t>(bias[channel]);
    return static_cast<T>(rq->finish(acc, channel));
  }
};

// What ConvKernel (conv_kernel.h) needs to know of int8 / uint8 data.
class IntegerArithmetic {
 public:
  static void check_operand(const Tensor& t, std::string_view role, int rank) { check_shape(t, role, rank); }

  void prepare(KernelContext& ctx, int bias_index, int channels, int channel_axis, Activation activation,
               const Shape& output_shape) {
    bias_ = bias_data(ctx, bias_index, channels);
    ctx.output(0).shape = output_shape;
    rq_.prepare(ctx.input(0), ctx.input(1), ctx.output(0), channels, channel_axis, activation);
  }

  template <typename F>
  void run(KernelContext& ctx, int /*bias_index*/, F&& f) const {
    with_storage_type(rq_.type, [&](auto tag) {
      using T = decltype(tag);
      f(ctx.input(0).data_as<T>(), ctx.input(1).data_as<T>(), ctx.output(0).data_as<T>(),
        IntegerProducts<T>{&rq_, bias_});
    });
  }

 private:
  const int32_t* bias_ = nullptr;
  Requant rq_;
};

// ---------------------------------------------------------------- CONV_2D, DEPTHWISE_CONV_2D

using Conv2D = ConvKernel<Conv2DOptions, IntegerArithmetic>;
using DepthwiseConv2D = ConvKernel<DepthwiseConv2DOptions, IntegerArithmetic>;

// ---------------------------------------------------------------- TRANSPOSE_CONV

// Inputs: output_shape (int32 [4], constant), weights [Cout,KH,KW,Cin], input, optional int32 bias.
class TransposeConv final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    g_ = transpose_conv_operands<IntegerArithmetic>(ctx);
    bias_ = bias_data(ctx, 3, g_.out.c);
    ctx.output(0).shape = g_.out.shape();
    rq_.prepare(ctx.input(2), ctx.input(1), ctx.output(0), g_.out.c, 0,
                ctx.options<TransposeConvOptions>().activation);
    const auto accumulators = static_cast<size_t>(g_.out.pixels() * g_.out.c);
    ctx.reserve_tables(accumulators * sizeof(scratch_[0]), "accumulators");
    scratch_.assign(accumulators, 0);
  }

  void eval(KernelContext& ctx) override {
    with_storage_type(rq_.type, [&](auto tag) { run<decltype(tag)>(ctx); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx) {
    const IntegerProducts<T> policy{&rq_, bias_};
    std::fill(scratch_.begin(), scratch_.end(), 0);
    transpose_conv_scatter(g_, ctx.input(2).data_as<T>(), ctx.input(1).data_as<T>(), scratch_.data(), policy);
    // Bias and requantization come after all contributions, as in TFLite.
    T* output = ctx.output(0).data_as<T>();
    const int64_t pixels = g_.out.pixels();
    for (int64_t p = 0; p < pixels; ++p) {
      for (int oc = 0; oc < g_.out.c; ++oc) {
        const size_t at = static_cast<size_t>(p * g_.out.c + oc);
        output[at] = policy.finish(scratch_[at], oc);
      }
    }
  }

  geometry::TransposeConvGeometry g_;
  const int32_t* bias_ = nullptr;
  Requant rq_;
  std::vector<uint32_t> scratch_;
};

// ---------------------------------------------------------------- FULLY_CONNECTED

class FullyConnected final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    fc_ = fully_connected_operands<IntegerArithmetic>(ctx);
    const auto& opt = ctx.options<FullyConnectedOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    bias_ = bias_data(ctx, 2, fc_.units);
    ctx.output(0).shape = fc_.output_shape(input, opt.keep_num_dims);
    // TFLite's FULLY_CONNECTED takes one multiplier (per-channel weights are a newer, optional path).
    rq_.prepare(input, weights, ctx.output(0), fc_.units, 0, opt.activation);
    if (input.type == DType::kInt8 && !weights.quant.per_channel()) {
      // GetQuantizedConvolutionMultipler: float product, double division.
      const double real = static_cast<double>(input.quant.scale[0] * weights.quant.scale[0]) /
                          static_cast<double>(ctx.output(0).quant.scale[0]);
      rq_.multipliers.assign(static_cast<size_t>(fc_.units), quant::quantize_multiplier(real));
    }
  }

  void eval(KernelContext& ctx) override {
    with_storage_type(rq_.type, [&](auto tag) { run<decltype(tag)>(ctx); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx) const {
    fully_connected_loops(fc_.rows, fc_.units, fc_.depth, ctx.input(0).data_as<T>(),
                          ctx.input(1).data_as<T>(), ctx.output(0).data_as<T>(),
                          IntegerProducts<T>{&rq_, bias_});
  }

  FullyConnectedShape fc_;
  const int32_t* bias_ = nullptr;
  Requant rq_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory conv2d_kernel = make_kernel<Conv2D>;
extern const KernelFactory depthwise_conv2d_kernel = make_kernel<DepthwiseConv2D>;
extern const KernelFactory transpose_conv_kernel = make_kernel<TransposeConv>;
extern const KernelFactory fully_connected_kernel = make_kernel<FullyConnected>;

}  // namespace osprey::ref::quantized
