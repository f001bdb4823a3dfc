// Reference QUANTIZE and DEQUANTIZE, following TFLite's reference_ops:
//   dequantize  real = scale * (q - zero_point)                (int8, uint8, int16; or float16)
//   quantize    q = clamp(round(x / scale) + zero_point)        (float32 to int8, uint8, int16)
//   requantize  q = clamp(multiply((p - zp_in), scale_in / scale_out) + zp_out)
// where round is std::round (half away from zero), multiply is TFLite's fixed-point
// MultiplyByQuantizedMultiplier, and clamp saturates to the output type; with
// LiteRT's arithmetic (quant::arithmetic()), per-tensor quantize to int8 or uint8 is XNNPACK's
// (quantize_as_litert).
// Per-channel parameters (one scale and zero point per slice along quant.axis) are supported for
// quantize and dequantize.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey::ref {

namespace {

bool is_quantized_int(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16;
}
bool is_dequantizable(DType t) {
  return t == DType::kFloat16 || is_quantized_int(t);
}
bool is_quantizable(DType t) {
  return t == DType::kFloat32 || is_quantized_int(t);
}
bool is_float32(DType t) {
  return t == DType::kFloat32;
}

// Checks a one-input, one-output type conversion (types named for the error
// message) and gives the output the input's shape.
void prepare_conversion(KernelContext& ctx, bool (*input_ok)(DType), const char* input_types,
                        bool (*output_ok)(DType), const char* output_types) {
  OSPREY_CHECK(ctx.num_inputs() == 1, "expected 1 input, got {}", ctx.num_inputs());
  OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
  OSPREY_CHECK(ctx.has_input(0), "input 0 is missing");
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(input_ok(in.type), "input 0 has type {}, expected {}", dtype_name(in.type), input_types);
  OSPREY_CHECK(output_ok(out.type), "output 0 has type {}, expected {}", dtype_name(out.type), output_types);
  for (int32_t d : in.shape) OSPREY_CHECK(d >= 0, "input 0 has shape {}", shape_str(in.shape));
  out.shape = in.shape;
}

template <typename Q>
constexpr int64_t qmin() {
  return std::numeric_limits<Q>::min();
}
template <typename Q>
constexpr int64_t qmax() {
  return std::numeric_limits<Q>::max();
}

int64_t type_min(DType t) {
  return t == DType::kInt8 ? qmin<int8_t>() : t == DType::kUInt8 ? qmin<uint8_t>() : qmin<int16_t>();
}
int64_t type_max(DType t) {
  return t == DType::kInt8 ? qmax<int8_t>() : t == DType::kUInt8 ? qmax<uint8_t>() : qmax<int16_t>();
}

// A tensor's affine parameters laid out for a loop over (outer, channel, inner): element
// (o, c, i) is at (o * channels + c) * inner + i and uses scale[c], zero_point[c]. Per-tensor
// parameters are the case channels == 1.
struct Affine {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 0;
};

Affine affine_params(const Tensor& t, const char* role) {
  const Quantization& q = t.quant;
  OSPREY_CHECK(!q.empty(), "{} of type {} has no quantization parameters", role, dtype_name(t.type));
  OSPREY_CHECK(q.zero_point.size() == q.scale.size(), "{} has {} scales but {} zero points", role,
               q.scale.size(), q.zero_point.size());
  Affine a;
  a.scale = q.scale;
  // Zero points must be representable in the stored type (every TFLite converter keeps them so);
  // that also keeps q - zero_point exact in int32 arithmetic.
  for (int64_t zp : q.zero_point) {
    OSPREY_CHECK(zp >= type_min(t.type) && zp <= type_max(t.type),
                 "{} has zero point {}, outside the {} range", role, zp, dtype_name(t.type));
    a.zero_point.push_back(static_cast<int32_t>(zp));
  }
  for (int32_t d : t.shape) OSPREY_CHECK(d >= 0, "{} has shape {}", role, shape_str(t.shape));
  if (q.scale.size() == 1) {
    a.inner = t.num_elements();
    return a;
  }
  OSPREY_CHECK(q.axis >= 0 && q.axis < t.rank(), "{} is quantized per channel along axis {} but has rank {}",
               role, q.axis, t.rank());
  OSPREY_CHECK(static_cast<int64_t>(q.scale.size()) == t.dim(q.axis),
               "{} has {} per-channel scales but dimension {} has size {}", role, q.scale.size(), q.axis,
               t.dim(q.axis));
  a.channels = t.dim(q.axis);
  a.inner = 1;
  for (int d = 0; d < t.rank(); ++d) {
    if (d < q.axis) a.outer *= t.dim(d);
    if (d > q.axis) a.inner *= t.dim(d);
  }
  return a;
}

// Saturates a rounded real value to Q; NaN (which TFLite leaves undefined) becomes the zero point.
template <typename Q>
Q saturate(double v, int32_t zero_point) {
  if (std::isnan(v)) return static_cast<Q>(zero_point);
  return static_cast<Q>(std::clamp(v, static_cast<double>(qmin<Q>()), static_cast<double>(qmax<Q>())));
}

// IEEE half to float, exactly: every half value (subnormals included) is a float value.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, or NaN keeping its payload
  } else if (exponent != 0) {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);  // normal: rebias the exponent
  } else {
    // Zero or subnormal: mantissa * 2^-24, which float holds as a normal number.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(bits);
}

// Calls f(begin, end, scale, zero_point) for each run of elements sharing one channel's parameters.
template <typename F>
void for_each_channel(const Affine& p, F&& f) {
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t c = 0; c < p.channels; ++c) {
      const int64_t begin = (o * p.channels + c) * p.inner;
      f(begin, begin + p.inner, p.scale[c], p.zero_point[c]);
    }
  }
}

template <typename Q>
void dequantize(const Q* in, float* out, const Affine& p) {
  for_each_channel(p, [&](int64_t begin, int64_t end, float scale, int32_t zero_point) {
    // TFLite multiplies in double per tensor and in float per channel; both round the exact
    // product (at most 24 + 17 significant bits) once to float, so they agree.
    const double real_scale = scale;
    for (int64_t i = begin; i < end; ++i) {
      out[i] = static_cast<float>(real_scale * (static_cast<int32_t>(in[i]) - zero_point));
    }
  });
}

template <typename Q>
void quantize(const float* in, Q* out, const Affine& p) {
  for_each_channel(p, [&](int64_t begin, int64_t end, float scale, int32_t zero_point) {
    for (int64_t i = begin; i < end; ++i) {
      // As TFLite: divide and round in float, add the zero point and clamp in double.
      const double v = static_cast<double>(std::round(in[i] / scale)) + zero_point;
      out[i] = saturate<Q>(v, zero_point);
    }
  });
}

// LiteRT's QUANTIZE from float to int8 or uint8 with one scale, which it
// hands to XNNPACK: multiply by the inverse scale in float, round half to
// even (TFLite's own kernel divides and rounds half away from zero: they
// differ on halfway values, 0.5 / 255 among them; tests/ops/quantize_litert.mjs).
template <typename Q>
void quantize_as_litert(const float* in, Q* out, int64_t n, float scale, int32_t zero_point) {
  const float inverse = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) {
    const float product = in[i] * inverse;
    out[i] = saturate<Q>(static_cast<double>(std::nearbyint(product)) + zero_point, zero_point);
  }
}

// TFLite's Requantize: the input less its zero point times the scale ratio
// as a fixed-point multiplier (MultiplyByQuantizedMultiplier of the build the
// arithmetic names; LiteRT's is the double-rounding one), plus the output
// zero point, saturated.
template <typename P, typename Q>
void requantize(const P* in, Q* out, int64_t n, int32_t in_zero_point, const quant::QuantizedMultiplier& m,
                int32_t out_zero_point, quant::Arithmetic arithmetic) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = int64_t{quant::multiply_by_quantized_multiplier(
                          static_cast<int32_t>(in[i]) - in_zero_point, m, arithmetic)} +
                      out_zero_point;
    out[i] = static_cast<Q>(std::clamp<int64_t>(v, qmin<Q>(), qmax<Q>()));
  }
}

// Calls f(Q{}) with Q the integer type `t` names (int8, uint8 or int16); prepare rejected others.
template <typename F>
void with_quantized_type(DType t, F&& f) {
  switch (t) {
    case DType::kInt8: f(int8_t{}); break;
    case DType::kUInt8: f(uint8_t{}); break;
    case DType::kInt16: f(int16_t{}); break;
    default: break;
  }
}

class DequantizeKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    prepare_conversion(ctx, is_dequantizable, "int8, uint8, int16 or float16", is_float32, "float32");
    const Tensor& in = ctx.input(0);
    if (in.type != DType::kFloat16) params_ = affine_params(in, "input 0");
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    float* out = ctx.output(0).data_as<float>();
    if (in.type == DType::kFloat16) {
      const int64_t n = in.num_elements();
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in.data + i * 2, sizeof h);
        out[i] = half_to_float(h);
      }
      return;
    }
    with_quantized_type(in.type, [&](auto zero) {
      using Q = decltype(zero);
      dequantize(in.data_as<Q>(), out, params_);
    });
  }

 private:
  Affine params_;
};

class QuantizeKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    prepare_conversion(ctx, is_quantizable, "float32, int8, uint8 or int16", is_quantized_int,
                       "int8, uint8 or int16");
    const Tensor& in = ctx.input(0);
    const Tensor& out = ctx.output(0);
    out_params_ = affine_params(out, "output 0");
    if (in.type != DType::kFloat32) {
      // Requantization (TFLite's int8 <-> uint8, int16 -> int8 and so on) is per tensor only.
      const Affine in_params = affine_params(in, "input 0");
      OSPREY_CHECK(in_params.channels == 1 && out_params_.channels == 1,
                   "requantization with per-channel parameters is not supported");
      in_zero_point_ = in_params.zero_point[0];
      multiplier_ = quant::quantize_multiplier(static_cast<double>(in_params.scale[0]) /
                                               static_cast<double>(out_params_.scale[0]));
    }
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    if (in.type == DType::kFloat32) {
      quantize_from_float(in.data_as<float>(), out);
      return;
    }
    with_quantized_type(in.type, [&](auto zero) {
      using P = decltype(zero);
      requantize_from(in.data_as<P>(), in.num_elements(), out);
    });
  }

 private:
  void quantize_from_float(const float* in, Tensor& out) const {
    with_quantized_type(out.type, [&](auto zero) {
      using Q = decltype(zero);
      if (quant::arithmetic() == quant::Arithmetic::kLiteRT && out_params_.channels == 1 && sizeof(Q) == 1) {
        quantize_as_litert(in, out.data_as<Q>(), out.num_elements(), out_params_.scale[0],
                           out_params_.zero_point[0]);
      } else {
        quantize(in, out.data_as<Q>(), out_params_);
      }
    });
  }

  template <typename P>
  void requantize_from(const P* in, int64_t n, Tensor& out) const {
    const int32_t zp = out_params_.zero_point[0];
    with_quantized_type(out.type, [&](auto zero) {
      using Q = decltype(zero);
      requantize(in, out.data_as<Q>(), n, in_zero_point_, multiplier_, zp, quant::arithmetic());
    });
  }

  Affine out_params_;
  int32_t in_zero_point_ = 0;
  quant::QuantizedMultiplier multiplier_;  // scale_in / scale_out
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory quantize_kernel = make_kernel<QuantizeKernel>;
extern const KernelFactory dequantize_kernel = make_kernel<DequantizeKernel>;

}  // namespace osprey::ref
