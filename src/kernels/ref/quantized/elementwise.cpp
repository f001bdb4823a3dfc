// Integer elementwise kernels after TFLite's reference kernels (int8 and uint8,
// per-tensor parameters, numpy broadcasting for the binary ops):
//   ADD/SUB  both inputs rescaled to 2*max(in scales) with 20 bits of headroom,
//            summed, rescaled to the output (QuantizeMultiplierSmallerThanOneExp)
//   MUL      (a - za)(b - zb) * (sa*sb/so) + zo
//   PRELU    x >= 0: x * (si/so); x < 0: x * (alpha - za) * (si*sa/so)
//   RELU, RELU6, RELU_N1_TO_1   requantize (si/so) then clamp (ReluX)
//   LEAKY_RELU  two multipliers, identity and alpha (LiteRT's: XNNPACK's, 8 fractional bits)
//   HARD_SWISH  TFLite's 16-bit fixed-point formulation
// With the LiteRT arithmetic (fixed_point.h), ADD/SUB/MUL compute what
// XNNPACK computes for them: ADD/SUB with 21-bit multipliers of the scale
// ratios and one arithmetic shift, MUL with float requantization.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "kernels/ref/quantized/common.h"
#include "kernels/ref/quantized/elementwise.h"

namespace osprey::ref::quantized {
namespace {

// The parameters of a two-input op's inputs and output.
struct BinaryParams {
  TensorParams a, b, out;
};

// Checks that the op has two inputs and one output, all of input 0's type
// (int8 or uint8, which `type` becomes), and reads their parameters.
BinaryParams binary_params(const KernelContext& ctx, std::string_view a_role, std::string_view b_role,
                           DType& type) {
  OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "expected 2 inputs and 1 output");
  type = ctx.input(0).type;
  return {activation_params(ctx.input(0), a_role, type), activation_params(ctx.input(1), b_role, type),
          activation_params(ctx.output(0), "output", type)};
}

}  // namespace

MulRequant mul_requant(const TensorParams& a, const TensorParams& b, const TensorParams& out,
                       quant::Arithmetic mode) {
  MulRequant m;
  m.multiplier = quant::quantize_multiplier(static_cast<double>(a.scale) * static_cast<double>(b.scale) /
                                            static_cast<double>(out.scale));
  // LiteRT's delegate hands XNNPACK the MULs with (sa*sb)/so in [2^-16, 2^8).
  const float product_output_scale = a.scale * b.scale / out.scale;
  m.fp32 = mode == quant::Arithmetic::kLiteRT && product_output_scale >= 0x1.0p-16f &&
           product_output_scale < 0x1.0p+8f;
  m.fp32_scale = product_output_scale;
  return m;
}

XnnpackAdd xnnpack_add(const TensorParams& a, const TensorParams& b, const TensorParams& out, bool subtract) {
  XnnpackAdd x;
  const float a_os = a.scale / out.scale;
  const float b_os = b.scale / out.scale;
  for (float r : {a_os, b_os}) {
    if (r < 0x1.0p-10f || r >= 0x1.0p+8f) return x;
  }
  // The largest multiplier gets 21 bits: shift = 20 - exponent of the larger ratio.
  int exponent = 0;
  std::frexp(std::max(a_os, b_os), &exponent);
  x.shift = 20 - (exponent - 1);
  const float b_signed = subtract ? -b_os : b_os;
  x.a_multiplier = static_cast<int32_t>(std::lrint(std::ldexp(a_os, x.shift)));
  x.b_multiplier = static_cast<int32_t>(std::lrint(std::ldexp(b_signed, x.shift)));
  x.bias = (int64_t{1} << (x.shift - 1)) - int64_t{x.a_multiplier} * a.zero_point -
           int64_t{x.b_multiplier} * b.zero_point;
  x.ok = true;
  return x;
}

namespace {

enum class BinaryKind { kAdd, kSub, kMul };

template <BinaryKind kKind>
class Binary final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    const auto [pa, pb, po] = binary_params(ctx, "input 0", "input 1", type_);
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& out = ctx.output(0);
    for (int32_t d : a.shape) OSPREY_CHECK(d >= 0, "input 0 has shape {}", shape_str(a.shape));
    for (int32_t d : b.shape) OSPREY_CHECK(d >= 0, "input 1 has shape {}", shape_str(b.shape));
    broadcast_.prepare(a.shape, b.shape, out.shape);
    const Activation act = std::holds_alternative<ElementwiseOptions>(ctx.op().options)
                               ? ctx.options<ElementwiseOptions>().activation
                               : Activation::kNone;
    range_ = activation_range(act, out);
    offset_a_ = -pa.zero_point;
    offset_b_ = -pb.zero_point;
    offset_out_ = po.zero_point;
    if constexpr (kKind == BinaryKind::kMul) {
      mul_ = mul_requant(pa, pb, po, mode_);
    } else {
      const double twice_max = 2 * std::max(pa.scale, pb.scale);
      const QuantizedMultiplier ma = quant::quantize_multiplier(pa.scale / twice_max);
      const QuantizedMultiplier mb = quant::quantize_multiplier(pb.scale / twice_max);
      const QuantizedMultiplier mo = quant::quantize_multiplier(
          twice_max / static_cast<double>(static_cast<float>(1 << kLeftShift) * po.scale));
      OSPREY_CHECK(ma.shift <= 0 && mb.shift <= 0 && mo.shift <= 0,
                   "output scale {} is too small for input scales {} and {}", po.scale, pa.scale, pb.scale);
      mult_a_ = ma;
      mult_b_ = mb;
      out_mult_ = mo;
    }
    if (kKind != BinaryKind::kMul && mode_ == quant::Arithmetic::kLiteRT) prepare_xnnpack(pa, pb, po);
  }

  void eval(KernelContext& ctx) override {
    with_element_type(type_, [&](auto zero) {
      using T = decltype(zero);
      run(ctx.input(0).data_as<T>(), ctx.input(1).data_as<T>(), ctx.output(0).data_as<T>());
    });
  }

 private:
  static constexpr int kLeftShift = 20;

  // XNNPACK's ADD/SUB parameters, used when LiteRT would hand the op to
  // XNNPACK (otherwise TFLite's kernel runs). MUL's are mul_requant's.
  void prepare_xnnpack(const TensorParams& pa, const TensorParams& pb, const TensorParams& po) {
    const XnnpackAdd x = xnnpack_add(pa, pb, po, kKind == BinaryKind::kSub);
    xnnpack_ = x.ok;
    xnn_shift_ = x.shift;
    xnn_a_ = x.a_multiplier;
    xnn_b_ = x.b_multiplier;
    xnn_bias_ = x.bias;
  }

  template <typename T>
  void run(const T* a, const T* b, T* out) const {
    if constexpr (kKind == BinaryKind::kMul) {
      broadcast_.for_each([&](int64_t o, int64_t ia, int64_t ib) {
        out[o] = static_cast<T>(
            mul_value((offset_a_ + a[ia]) * (offset_b_ + b[ib]), mul_, offset_out_, range_, mode_));
      });
      return;
    }
    if (xnnpack_) {
      broadcast_.for_each([&](int64_t o, int64_t ia, int64_t ib) {
        const int64_t acc = xnn_bias_ + int64_t{a[ia]} * xnn_a_ + int64_t{b[ib]} * xnn_b_;
        const int32_t v = static_cast<int32_t>(acc >> xnn_shift_);
        out[o] = static_cast<T>(std::min(std::max(v, range_.min - offset_out_), range_.max - offset_out_) +
                                offset_out_);
      });
      return;
    }
    broadcast_.for_each([&](int64_t o, int64_t ia, int64_t ib) {
      const int32_t va = offset_a_ + a[ia];
      const int32_t vb = offset_b_ + b[ib];
      const int32_t sa =
          quant::multiply_by_quantized_multiplier_smaller_than_one(va * (1 << kLeftShift), mult_a_, mode_);
      const int32_t sb =
          quant::multiply_by_quantized_multiplier_smaller_than_one(vb * (1 << kLeftShift), mult_b_, mode_);
      const int32_t raw = kKind == BinaryKind::kAdd ? sa + sb : sa - sb;
      const int32_t result =
          quant::multiply_by_quantized_multiplier_smaller_than_one(raw, out_mult_, mode_) + offset_out_;
      out[o] = static_cast<T>(range_.clamp(result));
    });
  }

  DType type_ = DType::kInt8;
  quant::Arithmetic mode_ = quant::arithmetic();
  Broadcast broadcast_;
  QuantizedRange range_;
  int32_t offset_a_ = 0, offset_b_ = 0, offset_out_ = 0;
  QuantizedMultiplier mult_a_, mult_b_, out_mult_;
  MulRequant mul_;
  bool xnnpack_ = false;
  int xnn_shift_ = 0;
  int32_t xnn_a_ = 0, xnn_b_ = 0;
  int64_t xnn_bias_ = 0;
};

// ---------------------------------------------------------------- PRELU

class Prelu final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    const auto [pi, pa, po] = binary_params(ctx, "input", "alpha", type_);
    broadcast_.prepare(ctx.input(0).shape, ctx.input(1).shape, ctx.output(0).shape);
    in_offset_ = -pi.zero_point;
    alpha_offset_ = -pa.zero_point;
    out_offset_ = po.zero_point;
    // TFLite computes both real multipliers in float.
    mult_pos_ = quant::quantize_multiplier(static_cast<double>(pi.scale / po.scale));
    mult_neg_ = quant::quantize_multiplier(static_cast<double>(pi.scale * pa.scale / po.scale));
  }

  void eval(KernelContext& ctx) override {
    with_element_type(type_, [&](auto zero) {
      using T = decltype(zero);
      run(ctx.input(0).data_as<T>(), ctx.input(1).data_as<T>(), ctx.output(0).data_as<T>());
    });
  }

 private:
  template <typename T>
  void run(const T* in, const T* alpha, T* out) const {
    broadcast_.for_each([&](int64_t o, int64_t ii, int64_t ia) {
      const int32_t x = in_offset_ + in[ii];
      int32_t v = 0;
      if (x >= 0) {
        v = quant::multiply_by_quantized_multiplier(x, mult_pos_, mode_);
      } else {
        v = quant::multiply_by_quantized_multiplier(x * (alpha_offset_ + alpha[ia]), mult_neg_, mode_);
      }
      out[o] = saturate_cast<T>(quant::add_zero_point(v, out_offset_));
    });
  }

  DType type_ = DType::kInt8;
  quant::Arithmetic mode_ = quant::arithmetic();
  Broadcast broadcast_;
  int32_t in_offset_ = 0, alpha_offset_ = 0, out_offset_ = 0;
  QuantizedMultiplier mult_pos_, mult_neg_;
};

// ---------------------------------------------------------------- RELU family

// The activation's bounds as template arguments; kNoMax means unbounded above.
template <int kMin, int kMax>
class ReluX final : public UnaryKernel<ReluX<kMin, kMax>> {
  friend class UnaryKernel<ReluX>;

 public:
  static constexpr int kNoMax = 1 << 30;

 private:
  void prepare_params(const KernelContext& ctx, const TensorParams& pi, const TensorParams& po) {
    in_zp_ = pi.zero_point;
    out_zp_ = po.zero_point;
    mult_ = quant::quantize_multiplier(static_cast<double>(pi.scale / po.scale));
    // The bounds in output steps, clamped to the type before the cast (a
    // hostile tiny scale puts 6 / scale far past int32).
    const auto bound = [&](int bound_value) {
      const float steps =
          std::round(static_cast<float>(bound_value) / po.scale) + static_cast<float>(po.zero_point);
      return static_cast<int32_t>(std::clamp(steps, static_cast<float>(type_min(this->type_)),
                                             static_cast<float>(type_max(this->type_))));
    };
    range_.min = bound(kMin);
    range_.max = kMax == kNoMax ? type_max(this->type_) : bound(kMax);
  }

  template <typename T>
  void run(const T* in, T* out, int64_t n) const {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = quant::add_zero_point(
          quant::multiply_by_quantized_multiplier(int32_t{in[i]} - in_zp_, mult_, mode_), out_zp_);
      out[i] = static_cast<T>(range_.clamp(v));
    }
  }

  quant::Arithmetic mode_ = quant::arithmetic();
  int32_t in_zp_ = 0, out_zp_ = 0;
  QuantizedMultiplier mult_;
  QuantizedRange range_;
};

class LeakyRelu final : public UnaryKernel<LeakyRelu> {
  friend class UnaryKernel<LeakyRelu>;

  void prepare_params(const KernelContext& ctx, const TensorParams& pi, const TensorParams& po) {
    const float alpha = std::holds_alternative<LeakyReluOptions>(ctx.op().options)
                            ? ctx.options<LeakyReluOptions>().alpha
                            : LeakyReluOptions{}.alpha;
    in_zp_ = pi.zero_point;
    out_zp_ = po.zero_point;
    mult_alpha_ = quant::quantize_multiplier(static_cast<double>(pi.scale * alpha / po.scale));
    mult_identity_ = quant::quantize_multiplier(static_cast<double>(pi.scale / po.scale));
    // LiteRT hands LEAKY_RELU to XNNPACK, whose multipliers have 8
    // fractional bits (tests/ops/leaky_relu_litert.mjs); scale ratios past
    // its range stay on TFLite's kernel.
    const float ratio = pi.scale / po.scale, alpha_ratio = ratio * alpha;
    constexpr float kMinRatio = 0x1.0p-8f, kMaxRatio = 0x1.0p+7f;
    q8_ = mode_ == quant::Arithmetic::kLiteRT && ratio >= kMinRatio && ratio <= kMaxRatio &&
          std::abs(alpha_ratio) >= kMinRatio && std::abs(alpha_ratio) <= kMaxRatio;
    q8_identity_ = static_cast<int32_t>(std::lrint(256.0f * ratio));
    q8_alpha_ = static_cast<int32_t>(std::lrint(256.0f * alpha_ratio));
  }

  template <typename T>
  void run(const T* in, T* out, int64_t n) const {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t x = int32_t{in[i]} - in_zp_;
      int64_t v = 0;
      if (q8_) {  // (x * multiplier + 2^7) >> 8, half up
        v = (int64_t{x} * (x >= 0 ? q8_identity_ : q8_alpha_) + (int64_t{out_zp_} << 8) + 128) >> 8;
      } else {
        v = quant::add_zero_point(
            quant::multiply_by_quantized_multiplier(x, x >= 0 ? mult_identity_ : mult_alpha_, mode_),
            out_zp_);
      }
      out[i] = saturate_cast<T>(static_cast<int32_t>(v));
    }
  }

  quant::Arithmetic mode_ = quant::arithmetic();
  int32_t in_zp_ = 0, out_zp_ = 0;
  QuantizedMultiplier mult_alpha_, mult_identity_;
  bool q8_ = false;  // XNNPACK's arithmetic
  int32_t q8_identity_ = 0, q8_alpha_ = 0;
};

// ---------------------------------------------------------------- HARD_SWISH

int16_t saturating_left_shift(int16_t value, int amount) {
  const int64_t r = static_cast<int64_t>(value) * (int64_t{1} << amount);
  return static_cast<int16_t>(std::min<int64_t>(std::max<int64_t>(r, -32768), 32767));
}

// SaturatingDoublingHighMul: like the rounding version but truncating toward zero.
int16_t saturating_doubling_high_mul(int16_t a, int16_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int16_t>::min();
  const int32_t ab = int32_t{a} * int32_t{b};
  return overflow ? std::numeric_limits<int16_t>::max() : static_cast<int16_t>(ab / (1 << 15));
}

class HardSwish final : public UnaryKernel<HardSwish> {
  friend class UnaryKernel<HardSwish>;

  void prepare_params(const KernelContext& ctx, const TensorParams& pi, const TensorParams& po) {
    in_zp_ = pi.zero_point;
    out_zp_ = po.zero_point;
    const float hires_input_scale = (1.0f / 128.0f) * pi.scale;
    const float reluish_scale = 3.0f / 32768.0f;
    const float output_multiplier = hires_input_scale / po.scale;
    const QuantizedMultiplier om = quant::quantize_multiplier(static_cast<double>(output_multiplier));
    out_mult_ = quant::downscale_multiplier_to_int16(om.multiplier);
    out_exp_ = om.shift;
    OSPREY_CHECK(out_exp_ <= 0, "input scale {} is too large for output scale {} (needs in/out < 128)",
                 pi.scale, po.scale);
    const float reluish_multiplier = hires_input_scale / reluish_scale;
    const QuantizedMultiplier rm = quant::quantize_multiplier(static_cast<double>(reluish_multiplier));
    reluish_mult_ = quant::downscale_multiplier_to_int16(rm.multiplier);
    reluish_exp_ = rm.shift;
  }

  template <typename T>
  void run(const T* in, T* out, int64_t n) const {
    for (int64_t i = 0; i < n; ++i) {
      const int16_t input_value = static_cast<int16_t>(int32_t{in[i]} - in_zp_);
      const int16_t hires = static_cast<int16_t>(input_value * (1 << 7));
      const int16_t preshift_output = quant::saturating_rounding_doubling_high_mul(hires, out_mult_);
      int16_t reluish = hires;
      if (reluish_exp_ > 0) reluish = saturating_left_shift(reluish, reluish_exp_ - 1);
      reluish = quant::saturating_rounding_doubling_high_mul(reluish, reluish_mult_);
      if (reluish_exp_ > 0) reluish = saturating_left_shift(reluish, 1);
      if (reluish_exp_ < 0) reluish = quant::rounding_divide_by_pot(reluish, -reluish_exp_);
      reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
      const int16_t preshift = saturating_doubling_high_mul(reluish, preshift_output);
      int16_t value = quant::rounding_divide_by_pot(preshift, -out_exp_);
      value = static_cast<int16_t>(value + out_zp_);
      out[i] = saturate_cast<T>(value);
    }
  }

  int32_t in_zp_ = 0, out_zp_ = 0;
  int16_t out_mult_ = 0, reluish_mult_ = 0;
  int out_exp_ = 0, reluish_exp_ = 0;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory add_kernel = make_kernel<Binary<BinaryKind::kAdd>>;
extern const KernelFactory sub_kernel = make_kernel<Binary<BinaryKind::kSub>>;
extern const KernelFactory mul_kernel = make_kernel<Binary<BinaryKind::kMul>>;
extern const KernelFactory prelu_kernel = make_kernel<Prelu>;
extern const KernelFactory relu_kernel = make_kernel<ReluX<0, ReluX<0, 0>::kNoMax>>;
extern const KernelFactory relu6_kernel = make_kernel<ReluX<0, 6>>;
extern const KernelFactory relu_n1_to_1_kernel = make_kernel<ReluX<-1, 1>>;
extern const KernelFactory leaky_relu_kernel = make_kernel<LeakyRelu>;
extern const KernelFactory hard_swish_kernel = make_kernel<HardSwish>;

}  // namespace osprey::ref::quantized
