// The CONV_2D / DEPTHWISE_CONV_2D kernel, written once for every element type: the
// geometry and loop nest are shared (geometry.h, window_loops.h); an Arithmetic
// supplies what differs between float and integer data:
//
//   static void check_io(const KernelContext&, int min_inputs, int max_inputs);
//   static void check_operand(const Tensor&, std::string_view role, int rank);
//   void prepare(KernelContext&, int bias_index, int channels, int channel_axis,
//                Activation, const Shape& output_shape);   bias, activation, output
//   template <typename F> void run(KernelContext&, int bias_index, F&& f) const;
//       calls f(input, weights, output, policy) with typed pointers and a product policy
#pragma once

#include <type_traits>

#include "kernels/geometry.h"
#include "kernels/kernel.h"
#include "kernels/ref/window_loops.h"

namespace osprey::ref {

// Options: Conv2DOptions or DepthwiseConv2DOptions. Inputs: input [N,H,W,Cin],
// filter (see geometry::conv_geometry), optional bias [Cout].
template <typename Options, typename Arithmetic>
class ConvKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    Arithmetic::check_io(ctx, 2, 3);
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

}  // namespace osprey::ref
