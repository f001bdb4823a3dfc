// TFLite's integer arithmetic for quantized kernels (the quantization spec and
// gemmlowp's fixed-point helpers), written out so that osprey's integer
// kernels round exactly as TFLite's reference kernels do:
//
//   real = scale * (q - zero_point)
//
// A real multiplier M (e.g. in_scale * w_scale / out_scale) is represented as
// a 31-bit fixed-point significand and a power-of-two exponent,
//   M = multiplier * 2^(shift - 31),   multiplier in [2^30, 2^31),
// and applied to an int32 accumulator. TFLite has two builds of that step:
//   double rounding (gemmlowp; TFLite's long-time default): a saturating,
//     rounding doubling high multiply, then a rounding right shift (half away
//     from zero) -- the result can be off by one where the first rounding
//     lands exactly on a half;
//   single rounding (TFLITE_SINGLE_ROUNDING): one rounding, half up, of the
//     exact product: (x * multiplier + 2^(30 - shift)) >> (31 - shift).
// LiteRT's CPU path runs int8 convolutions, ADD/SUB/MUL and RESIZE_BILINEAR
// through XNNPACK, which requantizes differently again ("fp32": float(acc) *
// float scale, rounded half to even; ADD/SUB with 21-bit multipliers), and the
// other int8 ops (PRELU, ...) through TFLite's double-rounding kernels. In a
// deep network one-off differences in early layers grow (squeeze-excitation
// blocks spread one pooled value over a whole channel), so osprey offers the
// three behaviours (Arithmetic below) and defaults to LiteRT's, which keeps its
// results within one step of the runtime that deploys the models. The choice
// is process-wide: OSPREY_QUANT_ARITHMETIC=litert|single|double, or
// set_arithmetic().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.h"

namespace osprey::quant {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q0.31 significand, 0 or in [2^30, 2^31)
  int shift = 0;           // power of two: > 0 shifts left, < 0 right
};

// TFLite's QuantizeMultiplier: frexp, round the significand to 31 bits
// (half away from zero), renormalise 2^31, flush multipliers below 2^-31 to
// zero and saturate exponents above 30.
inline QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  // A NaN or an infinity (scales whose ratio overflows, a NaN option) has
  // no significand: converting one to an integer is undefined.
  OSPREY_CHECK(std::isfinite(real_multiplier), "the requantization multiplier {} is not a finite number",
               real_multiplier);
  QuantizedMultiplier q;
  if (real_multiplier == 0.0) return q;
  int shift = 0;
  const double significand = std::frexp(real_multiplier, &shift);
  int64_t fixed = static_cast<int64_t>(std::round(significand * static_cast<double>(int64_t{1} << 31)));
  if (fixed == (int64_t{1} << 31)) {
    fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    fixed = 0;
  }
  if (shift > 30) {
    shift = 30;
    fixed = (int64_t{1} << 31) - 1;
  }
  q.multiplier = static_cast<int32_t>(fixed);
  q.shift = shift;
  return q;
}

// gemmlowp::SaturatingRoundingDoublingHighMul: round(a * b / 2^31), with the
// single overflow case (INT32_MIN * INT32_MIN) saturated.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : high;
}

// The 16-bit version (used by HARD_SWISH).
inline int16_t saturating_rounding_doubling_high_mul(int16_t a, int16_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int16_t>::min();
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  const int16_t high = static_cast<int16_t>((ab + nudge) / (1 << 15));
  return overflow ? std::numeric_limits<int16_t>::max() : high;
}

// gemmlowp::RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
// from zero. exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int16_t rounding_divide_by_pot(int16_t x, int exponent) {
  const int16_t mask = static_cast<int16_t>((1 << exponent) - 1);
  const int16_t remainder = static_cast<int16_t>(x & mask);
  const int16_t threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

enum class Arithmetic {
  kLiteRT,        // XNNPACK's arithmetic where LiteRT uses it, TFLite double rounding elsewhere
  kTfliteSingle,  // TFLite reference kernels, TFLITE_SINGLE_ROUNDING build
  kTfliteDouble,  // TFLite reference kernels, default (gemmlowp) build
};

Arithmetic arithmetic();
void set_arithmetic(Arithmetic a);
const char* arithmetic_name(Arithmetic a);

// MultiplyByQuantizedMultiplier of the double-rounding build: left shift
// first, then the high multiply, then the rounding right shift.
inline int32_t multiply_double_rounding(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  // x * 2^left_shift wraps like TFLite's int32 multiply would on its targets;
  // done in unsigned arithmetic to stay defined in C++.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) * (uint32_t{1} << left_shift));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

// MultiplyByQuantizedMultiplier of the single-rounding build: one rounding
// (half up) of the exact 64-bit product. shift in [-31, 30].
inline int32_t multiply_single_rounding(int32_t x, int32_t multiplier, int shift) {
  const int total_shift = 31 - shift;
  const int64_t round = int64_t{1} << (total_shift - 1);
  const int64_t result = (static_cast<int64_t>(x) * multiplier + round) >> total_shift;
  return static_cast<int32_t>(result);
}

// MultiplyByQuantizedMultiplier of the build `a` stands for (LiteRT's own
// TFLite kernels are the default, double-rounding build).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift, Arithmetic a) {
  return a == Arithmetic::kTfliteSingle ? multiply_single_rounding(x, multiplier, shift)
                                        : multiply_double_rounding(x, multiplier, shift);
}

inline int32_t multiply_by_quantized_multiplier(int32_t x, const QuantizedMultiplier& m, Arithmetic a) {
  return multiply_by_quantized_multiplier(x, m.multiplier, m.shift, a);
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp (ADD/SUB): shift <= 0. The
// single-rounding build maps it to MultiplyByQuantizedMultiplier.
inline int32_t multiply_by_quantized_multiplier_smaller_than_one(int32_t x, const QuantizedMultiplier& m,
                                                                 Arithmetic a) {
  if (a == Arithmetic::kTfliteSingle) return multiply_single_rounding(x, m.multiplier, m.shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, m.multiplier), -m.shift);
}

// A requantized value plus the output zero point. TFLite adds in int32, which
// only a hostile scale ratio (a product saturated at the int32 limits)
// overflows; here that sum saturates, and the caller's clamp to the output
// range follows as for any other value past it.
inline int32_t add_zero_point(int32_t v, int32_t zero_point) {
  return static_cast<int32_t>(std::clamp<int64_t>(
      int64_t{v} + zero_point, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// XNNPACK's "fp32" requantization: float(acc) * scale, clamped to the output
// range, rounded half to even, plus the zero point.
inline int32_t requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  float v = static_cast<float>(acc) * scale;
  v = std::max(v, static_cast<float>(qmin - zero_point));
  v = std::min(v, static_cast<float>(qmax - zero_point));
  return static_cast<int32_t>(std::lrint(v)) + zero_point;
}

// DownScaleInt32ToInt16Multiplier (HARD_SWISH): the Q0.15 version of a Q0.31 multiplier.
inline int16_t downscale_multiplier_to_int16(int32_t multiplier) {
  constexpr int32_t kRoundingOffset = 1 << 15;
  if (multiplier >= std::numeric_limits<int32_t>::max() - kRoundingOffset)
    return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((multiplier + kRoundingOffset) >> 16);
}

// The quantized clamp range of a fused activation on an output with these
// parameters (TFLite's CalculateActivationRangeQuantized); qmin/qmax are the
// storage type's limits.
struct QuantizedRange {
  int32_t min = 0;
  int32_t max = 0;
  int32_t clamp(int32_t v) const { return std::min(std::max(v, min), max); }
};

}  // namespace osprey::quant
