// What the integer elementwise kernels (elementwise.cpp, lut.cpp) share: the
// typed dispatch their evals end with and the shape of a one-input activation
// (RELU family, LEAKY_RELU, HARD_SWISH; LOGISTIC, TANH, SOFTMAX read their input
// the same way).
#pragma once

#include <cstdint>

#include "kernels/ref/quantized/common.h"

namespace osprey::ref::quantized {

// How MUL requantizes the product (a - za)(b - zb): with the LiteRT
// arithmetic where LiteRT hands the op to XNNPACK, XNNPACK's fp32 step with
// (sa*sb)/so in float; otherwise TFLite's MultiplyByQuantizedMultiplier.
// osprey's own MUL kernels derive their parameters here too.
struct MulRequant {
  bool fp32 = false;
  float fp32_scale = 0;
  QuantizedMultiplier multiplier;
};
MulRequant mul_requant(const TensorParams& a, const TensorParams& b, const TensorParams& out,
                       quant::Arithmetic mode);

// MUL's output value from the product of the offset inputs, clamped to `range`.
inline int32_t mul_value(int32_t product, const MulRequant& m, int32_t out_zero_point,
                         const QuantizedRange& range, quant::Arithmetic mode) {
  if (m.fp32) return quant::requantize_fp32(product, m.fp32_scale, out_zero_point, range.min, range.max);
  return range.clamp(quant::add_zero_point(
      quant::multiply_by_quantized_multiplier(product, m.multiplier, mode), out_zero_point));
}

// ADD/SUB with XNNPACK's arithmetic, which the LiteRT arithmetic uses where
// LiteRT hands the op to XNNPACK (both input/output scale ratios in
// [2^-10, 2^8); `ok` is false outside): the largest multiplier gets 21
// bits, and
//   out = clamp(zo + ((bias + a * a_multiplier + b * b_multiplier) >> shift)).
// osprey's own ADD kernel derives its parameters here too.
struct XnnpackAdd {
  bool ok = false;
  int shift = 0;
  int32_t a_multiplier = 0, b_multiplier = 0;
  int64_t bias = 0;
};
XnnpackAdd xnnpack_add(const TensorParams& a, const TensorParams& b, const TensorParams& out, bool subtract);

// Calls f(T{}) with T the element type (int8_t or uint8_t) a kernel prepared for.
template <typename F>
void with_element_type(DType type, F&& f) {
  if (type == DType::kInt8) {
    f(int8_t{});
  } else {
    f(uint8_t{});
  }
}

// Checks that the op has one input and one output and reads the input's
// parameters; `type` becomes the input's type.
inline TensorParams unary_input_params(const KernelContext& ctx, DType& type) {
  OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1, "expected 1 input and 1 output");
  type = ctx.input(0).type;
  return activation_params(ctx.input(0), "input", type);
}

// A kernel mapping each int8/uint8 input element to one output element of the
// same type and shape. Derived supplies
//   void prepare_params(const KernelContext&, const TensorParams& in, const TensorParams& out)
//   template <typename T> void run(const T* in, T* out, int64_t n) const
// and befriends this base.
template <typename Derived>
class UnaryKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) final {
    OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1, "expected 1 input and 1 output");
    for (int32_t d : ctx.input(0).shape)
      OSPREY_CHECK(d >= 0, "input has shape {}", shape_str(ctx.input(0).shape));
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    type_ = in.type;
    const TensorParams pi = activation_params(in, "input", type_);
    const TensorParams po = activation_params(out, "output", type_);
    out.shape = in.shape;
    static_cast<Derived&>(*this).prepare_params(ctx, pi, po);
  }

  void eval(KernelContext& ctx) final {
    const Derived& self = static_cast<const Derived&>(*this);
    with_element_type(type_, [&](auto zero) {
      using T = decltype(zero);
      self.run(ctx.input(0).data_as<T>(), ctx.output(0).data_as<T>(), ctx.input(0).num_elements());
    });
  }

 protected:
  DType type_ = DType::kInt8;
};

}  // namespace osprey::ref::quantized
