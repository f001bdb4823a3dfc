// What the float (conv.cpp) and integer (quantized/conv.cpp) convolution-family
// kernels share: the checks of their inputs and the geometry they derive.
//
// The CONV_2D / DEPTHWISE_CONV_2D kernel is written once for every element type: the
// geometry and loop nest are shared (geometry.h, window_loops.h); an Arithmetic
// supplies what differs between float and integer data:
//
//   static void check_operand(const Tensor&, std::string_view role, int rank);
//   void prepare(KernelContext&, int bias_index, int channels, int channel_axis,
//                Activation, const Shape& output_shape);   bias, activation, output
//   template <typename F> void run(KernelContext&, int bias_index, F&& f) const;
//       calls f(input, weights, output, policy) with typed pointers and a product policy
#pragma once

#include <type_traits>

#include "core/limits.h"
#include "kernels/geometry.h"
#include "kernels/kernel.h"
#include "kernels/ref/window_loops.h"

namespace osprey::ref {

// One output and min_inputs to max_inputs inputs.
inline void check_io_count(const KernelContext& ctx, int min_inputs, int max_inputs) {
  OSPREY_CHECK(ctx.num_inputs() >= min_inputs && ctx.num_inputs() <= max_inputs,
               "has {} inputs, expected {} to {}", ctx.num_inputs(), min_inputs, max_inputs);
  OSPREY_CHECK(ctx.num_outputs() == 1, "has {} outputs, expected 1", ctx.num_outputs());
}

// Options: Conv2DOptions or DepthwiseConv2DOptions. Inputs: input [N,H,W,Cin],
// filter (see geometry::conv_geometry), optional bias [Cout].
template <typename Options, typename Arithmetic>
class ConvKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 3);
    const auto& opt = ctx.options<Options>();
    const Tensor& input = ctx.input(0);
    const Tensor& filter = ctx.input(1);
    Arithmetic::check_operand(input, "input", 4);
    Arithmetic::check_operand(filter, "filter", 4);
    g_ = geometry::conv_geometry(input.shape, filter.shape, opt);
    // Per-channel weight scales run along the filter's output-channel axis.
    constexpr int kChannelAxis = std::is_same_v<Options, DepthwiseConv2DOptions> ? 3 : 0;
    arithmetic_.prepare(ctx, kBiasIndex, g_.out.c, kChannelAxis, opt.activation, g_.out.shape());
  }

  void eval(KernelContext& ctx) override {
    arithmetic_.run(ctx, kBiasIndex,
                    [&](const auto* input, const auto* filter, auto* output, const auto& policy) {
                      conv_loops(g_, input, filter, output, policy);
                    });
  }

 private:
  static constexpr int kBiasIndex = 2;
  geometry::ConvGeometry g_;
  Arithmetic arithmetic_;
};

// TRANSPOSE_CONV's inputs output_shape (int32 [4], constant), weights [Cout,KH,KW,Cin],
// input [N,H,W,Cin] and optional bias [Cout]: checks all but the bias (the operands
// through Arithmetic::check_operand) and gives the geometry.
template <typename Arithmetic>
geometry::TransposeConvGeometry transpose_conv_operands(const KernelContext& ctx) {
  check_io_count(ctx, 3, 4);
  const auto& opt = ctx.options<TransposeConvOptions>();
  const Tensor& output_shape = ctx.input(0);
  const Tensor& weights = ctx.input(1);
  const Tensor& input = ctx.input(2);
  OSPREY_CHECK(output_shape.type == DType::kInt32, "output_shape type {} is not int32",
               dtype_name(output_shape.type));
  OSPREY_CHECK(output_shape.rank() == 1 && output_shape.dim(0) == 4,
               "output_shape has shape {}, expected [4]", shape_str(output_shape.shape));
  OSPREY_CHECK(output_shape.is_constant && output_shape.data != nullptr,
               "dynamic output shape is not supported");
  Arithmetic::check_operand(weights, "weights", 4);
  Arithmetic::check_operand(input, "input", 4);
  const auto in = geometry::Dims4::of(input.shape);
  const auto w = geometry::Dims4::of(weights.shape);
  const int32_t* s = output_shape.data_as<int32_t>();
  const Shape out_shape(s, s + 4);
  // Positive, and within the element limit (the kernels hold one value per output element).
  limits::checked_elements(out_shape, "output_shape", /*positive_dims=*/true);
  const auto out = geometry::Dims4::of(out_shape);
  OSPREY_CHECK(out.n == in.n, "output_shape batch {} differs from the input's {}", out.n, in.n);
  OSPREY_CHECK(out.c == w.n, "output_shape has {} channels, the weights {}", out.c, w.n);
  return geometry::transpose_conv_geometry(in, w, out, opt.stride_h, opt.stride_w, opt.padding);
}

// FULLY_CONNECTED: input [..., K] seen as [rows, K], weights [units, K].
struct FullyConnectedShape {
  int64_t rows = 0;
  int units = 0, depth = 0;

  Shape output_shape(const Tensor& input, bool keep_num_dims) const {
    if (keep_num_dims) {
      OSPREY_CHECK(input.shape.back() == depth, "input's last dim {} differs from the weights' {}",
                   input.shape.back(), depth);
      Shape shape = input.shape;
      shape.back() = units;
      return shape;
    }
    OSPREY_CHECK(rows <= limits::kMaxDimension, "input has too many rows ({})", rows);
    return {static_cast<int32_t>(rows), units};
  }
};

// FULLY_CONNECTED's inputs input, weights and optional bias [units]: checks all but
// the bias (the operands through Arithmetic::check_operand).
template <typename Arithmetic>
FullyConnectedShape fully_connected_operands(const KernelContext& ctx) {
  check_io_count(ctx, 2, 3);
  const Tensor& input = ctx.input(0);
  const Tensor& weights = ctx.input(1);
  Arithmetic::check_operand(input, "input", -1);
  Arithmetic::check_operand(weights, "weights", 2);
  OSPREY_CHECK(input.rank() >= 1, "input is a scalar, expected at least 1 dim");
  FullyConnectedShape s;
  s.units = weights.dim(0);
  s.depth = weights.dim(1);
  OSPREY_CHECK(input.num_elements() % s.depth == 0,
               "input has {} elements, not a multiple of the weights' {}", input.num_elements(), s.depth);
  s.rows = input.num_elements() / s.depth;
  return s;
}

}  // namespace osprey::ref
