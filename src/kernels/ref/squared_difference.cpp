// SQUARED_DIFFERENCE: out = (a - b)^2 with numpy broadcasting, float32 and int8.
//
// The int8 kernel follows TFLite's arithmetic: both inputs, offset by their
// zero points and shifted left by 7 bits, are rescaled to 2 * max(input
// scales); their difference is squared in int32 (at most (2^15)^2 / 4, as each
// rescale factor is at most 1/2) and rescaled to the output by
// (2 * max scale)^2 / (2^14 * output scale), a multiplier that must be below 1.
#include <algorithm>
#include <cstdint>

#include "kernels/kernel.h"
#include "kernels/ref/quantized/common.h"

namespace osprey::ref {
namespace {

using quantized::Broadcast;

void check_io(const KernelContext& ctx) {
  OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1,
               "has {} inputs and {} outputs, expected 2 and 1", ctx.num_inputs(), ctx.num_outputs());
  OSPREY_CHECK(ctx.input(0).type == ctx.input(1).type, "inputs are {} and {}, expected one type",
               dtype_name(ctx.input(0).type), dtype_name(ctx.input(1).type));
  OSPREY_CHECK(ctx.output(0).type == ctx.input(0).type, "output is {}, inputs are {}",
               dtype_name(ctx.output(0).type), dtype_name(ctx.input(0).type));
  for (int i = 0; i < 2; ++i) {
    OSPREY_CHECK(ctx.input(i).sparsity == nullptr, "input {} is sparse", i);
    for (int32_t d : ctx.input(i).shape)
      OSPREY_CHECK(d >= 0, "input {} has shape {}", i, shape_str(ctx.input(i).shape));
  }
}

class SquaredDifferenceFloat final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io(ctx);
    OSPREY_CHECK(ctx.input(0).type == DType::kFloat32, "{} inputs are not supported (float32 or int8)",
                 dtype_name(ctx.input(0).type));
    broadcast_.prepare(ctx.input(0).shape, ctx.input(1).shape, ctx.output(0).shape);
  }

  void eval(KernelContext& ctx) override {
    const float* a = ctx.input(0).data_as<float>();
    const float* b = ctx.input(1).data_as<float>();
    float* out = ctx.output(0).data_as<float>();
    broadcast_.for_each([&](int64_t o, int64_t ia, int64_t ib) {
      const float d = a[ia] - b[ib];
      out[o] = d * d;
    });
  }

 private:
  Broadcast broadcast_;
};

class SquaredDifferenceInt8 final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io(ctx);
    OSPREY_CHECK(ctx.input(0).type == DType::kInt8, "{} inputs are not supported (TFLite has int8 only)",
                 dtype_name(ctx.input(0).type));
    const quantized::TensorParams pa = quantized::activation_params(ctx.input(0), "input 0", DType::kInt8);
    const quantized::TensorParams pb = quantized::activation_params(ctx.input(1), "input 1", DType::kInt8);
    const quantized::TensorParams po = quantized::activation_params(ctx.output(0), "output", DType::kInt8);
    broadcast_.prepare(ctx.input(0).shape, ctx.input(1).shape, ctx.output(0).shape);
    offset_a_ = -pa.zero_point;
    offset_b_ = -pb.zero_point;
    offset_out_ = po.zero_point;
    // The scales are floats; TFLite forms 2 * max and 2^14 * output scale in float too.
    const double twice_max = 2 * std::max(pa.scale, pb.scale);
    mult_a_ = quant::quantize_multiplier(pa.scale / twice_max);
    mult_b_ = quant::quantize_multiplier(pb.scale / twice_max);
    mult_out_ = quant::quantize_multiplier(
        twice_max * twice_max / static_cast<double>(static_cast<float>(1 << (2 * kLeftShift)) * po.scale));
    OSPREY_CHECK(mult_out_.shift <= 0, "output scale {} is too small for input scales {} and {}", po.scale,
                 pa.scale, pb.scale);
  }

  void eval(KernelContext& ctx) override {
    const int8_t* a = ctx.input(0).data_as<int8_t>();
    const int8_t* b = ctx.input(1).data_as<int8_t>();
    int8_t* out = ctx.output(0).data_as<int8_t>();
    broadcast_.for_each([&](int64_t o, int64_t ia, int64_t ib) {
      const int32_t sa = quant::multiply_by_quantized_multiplier_smaller_than_one(
          (offset_a_ + a[ia]) * (1 << kLeftShift), mult_a_, mode_);
      const int32_t sb = quant::multiply_by_quantized_multiplier_smaller_than_one(
          (offset_b_ + b[ib]) * (1 << kLeftShift), mult_b_, mode_);
      const int32_t diff = sa - sb;
      const int32_t v =
          quant::multiply_by_quantized_multiplier_smaller_than_one(diff * diff, mult_out_, mode_) +
          offset_out_;
      out[o] = static_cast<int8_t>(std::clamp(v, -128, 127));
    });
  }

 private:
  static constexpr int kLeftShift = 7;
  quant::Arithmetic mode_ = quant::arithmetic();
  Broadcast broadcast_;
  int32_t offset_a_ = 0, offset_b_ = 0, offset_out_ = 0;
  quant::QuantizedMultiplier mult_a_, mult_b_, mult_out_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory squared_difference_kernel = make_kernel<SquaredDifferenceFloat>;
extern const KernelFactory squared_difference_int8_kernel = make_kernel<SquaredDifferenceInt8>;

}  // namespace osprey::ref
