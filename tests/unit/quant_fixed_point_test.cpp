// The integer requantization arithmetic (kernels/ref/quantized/fixed_point.h):
// exact values against independent definitions in 128-bit / rational
// arithmetic, hand-worked cases, and saturation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "kernels/ref/quantized/fixed_point.h"

namespace osprey::quant {
namespace {

using i128 = __int128;

// floor(a / b) for b > 0.
i128 floor_div(i128 a, i128 b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// x * 2^-e rounded to nearest, ties away from zero (gemmlowp's RoundingDivideByPOT).
int64_t round_half_away_pot(i128 x, int e) {
  const i128 d = i128{1} << e;
  const i128 mag = x >= 0 ? x : -x;
  const i128 q = (2 * mag + d) / (2 * d);
  return static_cast<int64_t>(x >= 0 ? q : -q);
}

TEST(QuantFixedPoint, QuantizeMultiplierKnownValues) {
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  EXPECT_EQ(quantize_multiplier(0.75).multiplier, 3 << 29);
  EXPECT_EQ(quantize_multiplier(0.75).shift, 0);
  EXPECT_EQ(quantize_multiplier(0.001).shift, -9);  // 0.001 = 0.512 * 2^-9
  EXPECT_EQ(quantize_multiplier(0.001).multiplier, static_cast<int32_t>(std::round(0.512 * (1LL << 31))));
  // Rounding the significand up to 2^31 renormalises.
  const double almost_one = 1.0 - std::ldexp(1.0, -40);
  EXPECT_EQ(quantize_multiplier(almost_one).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(almost_one).shift, 1);
  // Below 2^-31 flushes to zero; above 2^30 saturates.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).shift, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).multiplier, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).shift, 30);
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
}

TEST(QuantFixedPoint, QuantizeMultiplierRepresentsTheValue) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> exponent(-30, 8);
  for (int i = 0; i < 10000; ++i) {
    const double m = std::pow(2.0, exponent(rng));
    const QuantizedMultiplier q = quantize_multiplier(m);
    ASSERT_GE(q.multiplier, 1 << 30);
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    ASSERT_LE(std::abs(back - m) / m, std::ldexp(1.0, -31)) << m;
  }
}

TEST(QuantFixedPoint, SaturatingRoundingDoublingHighMulIsRoundHalfUp) {
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(),
                                             std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = any(rng), b = i % 3 == 0 ? (1 << 30) : any(rng);
    if (a == b && a == std::numeric_limits<int32_t>::min()) continue;
    const i128 ab = i128{a} * b;
    const int64_t want = static_cast<int64_t>(floor_div(ab + (i128{1} << 30), i128{1} << 31));
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), want) << a << " * " << b;
  }
  // Hand cases: +0.5 rounds up, -0.5 rounds up (toward +inf), and the one overflow.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1), 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-(1 << 30), 1), 0);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3 << 28, -4), -1);  // -1.5 -> -1
  const int32_t min = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(saturating_rounding_doubling_high_mul(min, min), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(saturating_rounding_doubling_high_mul(int16_t{-32768}, int16_t{-32768}), int16_t{32767});
  EXPECT_EQ(saturating_rounding_doubling_high_mul(int16_t{16384}, int16_t{1}), int16_t{1});  // 0.5 -> 1
}

TEST(QuantFixedPoint, RoundingDivideByPotIsRoundHalfAwayFromZero) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> any(std::numeric_limits<int32_t>::min(),
                                             std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 200000; ++i) {
    const int32_t x = any(rng);
    const int e = i % 32;
    ASSERT_EQ(rounding_divide_by_pot(x, e), round_half_away_pot(x, e)) << x << " >> " << e;
  }
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);                      // 2.5 -> 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);                    // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);                    // -1.75 -> -2
  EXPECT_EQ(rounding_divide_by_pot(int16_t{-6}, 2), int16_t{-2});  // -1.5 -> -2
}

TEST(QuantFixedPoint, DoubleRoundingIsTheComposition) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_real_distribution<double> exponent(-20, 4);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = acc(rng);
    const QuantizedMultiplier m = quantize_multiplier(std::pow(2.0, exponent(rng)));
    const int left = std::max(m.shift, 0), right = std::max(-m.shift, 0);
    const int64_t shifted = int64_t{x} * (int64_t{1} << left);
    if (shifted > std::numeric_limits<int32_t>::max() || shifted < std::numeric_limits<int32_t>::min())
      continue;
    const i128 high = floor_div(i128{shifted} * m.multiplier + (i128{1} << 30), i128{1} << 31);
    ASSERT_EQ(multiply_double_rounding(x, m.multiplier, m.shift), round_half_away_pot(high, right));
  }
}

TEST(QuantFixedPoint, SingleRoundingIsOneRoundHalfUpOfTheExactProduct) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> acc(-(1 << 28), 1 << 28);
  std::uniform_real_distribution<double> exponent(-30, 6);
  for (int i = 0; i < 100000; ++i) {
    const int32_t x = acc(rng);
    const QuantizedMultiplier m = quantize_multiplier(std::pow(2.0, exponent(rng)));
    const i128 num = i128{x} * m.multiplier;  // value = num / 2^(31 - shift)
    const int total = 31 - m.shift;
    const i128 want = floor_div(num + (i128{1} << (total - 1)), i128{1} << total);
    if (want > std::numeric_limits<int32_t>::max() || want < std::numeric_limits<int32_t>::min()) continue;
    ASSERT_EQ(multiply_single_rounding(x, m.multiplier, m.shift), static_cast<int64_t>(want));
  }
}

TEST(QuantFixedPoint, DoubleAndSingleRoundingDifferJustBelowAHalf) {
  // 1 * 0.5^? : multiplier 0.75 * 2^-1 (shift -1 -> 0.375 ... ) built so that the
  // exact value is 16.4995: the high multiply keeps 9 fraction bits and rounds it
  // to 16.5, which the rounding shift then takes to 17; single rounding gives 16.
  const QuantizedMultiplier m = quantize_multiplier(16.4995 / 15480.0);
  const double exact = 15480.0 * std::ldexp(static_cast<double>(m.multiplier), m.shift - 31);
  ASSERT_NEAR(exact, 16.4995, 1e-6);
  EXPECT_EQ(multiply_single_rounding(15480, m.multiplier, m.shift), 16);
  EXPECT_EQ(multiply_double_rounding(15480, m.multiplier, m.shift), 17);
  EXPECT_EQ(multiply_by_quantized_multiplier(15480, m, Arithmetic::kTfliteSingle), 16);
  EXPECT_EQ(multiply_by_quantized_multiplier(15480, m, Arithmetic::kTfliteDouble), 17);
  // LiteRT's own TFLite kernels are the double-rounding build.
  EXPECT_EQ(multiply_by_quantized_multiplier(15480, m, Arithmetic::kLiteRT), 17);
}

TEST(QuantFixedPoint, MultiplierAboveOneShiftsLeftFirst) {
  const QuantizedMultiplier m = quantize_multiplier(3.0);  // 0.75 * 2^2
  EXPECT_EQ(m.shift, 2);
  for (int32_t x : {0, 1, -1, 7, -7, 1000, -1000}) {
    EXPECT_EQ(multiply_double_rounding(x, m.multiplier, m.shift), 3 * x);
    EXPECT_EQ(multiply_single_rounding(x, m.multiplier, m.shift), 3 * x);
  }
}

TEST(QuantFixedPoint, SmallerThanOneExp) {
  const QuantizedMultiplier m = quantize_multiplier(0.25);
  EXPECT_EQ(multiply_by_quantized_multiplier_smaller_than_one(10, m, Arithmetic::kTfliteDouble),
            3);  // 2.5 -> 3
  EXPECT_EQ(multiply_by_quantized_multiplier_smaller_than_one(-10, m, Arithmetic::kTfliteDouble), -3);
  EXPECT_EQ(multiply_by_quantized_multiplier_smaller_than_one(10, m, Arithmetic::kTfliteSingle), 3);
  EXPECT_EQ(multiply_by_quantized_multiplier_smaller_than_one(-10, m, Arithmetic::kTfliteSingle),
            -2);  // half up
}

TEST(QuantFixedPoint, Fp32RequantizationRoundsHalfToEvenAndSaturates) {
  EXPECT_EQ(requantize_fp32(5, 0.5f, 0, -128, 127), 2);  // 2.5 -> 2
  EXPECT_EQ(requantize_fp32(7, 0.5f, 0, -128, 127), 4);  // 3.5 -> 4
  EXPECT_EQ(requantize_fp32(-5, 0.5f, 0, -128, 127), -2);
  EXPECT_EQ(requantize_fp32(5, 0.5f, 10, -128, 127), 12);
  EXPECT_EQ(requantize_fp32(1 << 20, 1.0f, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(-(1 << 20), 1.0f, -10, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(1000, 1.0f, 0, 0, 6), 6);  // a fused activation's range
  EXPECT_EQ(requantize_fp32(std::numeric_limits<int32_t>::max(), 1.0f, 0, 0, 255), 255);
}

TEST(QuantFixedPoint, DownscaleToInt16) {
  EXPECT_EQ(downscale_multiplier_to_int16(1 << 30), 1 << 14);
  EXPECT_EQ(downscale_multiplier_to_int16((1 << 30) + (1 << 15)), (1 << 14) + 1);  // rounds half up
  EXPECT_EQ(downscale_multiplier_to_int16(std::numeric_limits<int32_t>::max()), 32767);
}

TEST(QuantFixedPoint, ArithmeticSetting) {
  const Arithmetic before = arithmetic();
  set_arithmetic(Arithmetic::kTfliteDouble);
  EXPECT_EQ(arithmetic(), Arithmetic::kTfliteDouble);
  EXPECT_STREQ(arithmetic_name(arithmetic()), "double");
  set_arithmetic(before);
  EXPECT_STREQ(arithmetic_name(Arithmetic::kLiteRT), "litert");
}

}  // namespace
}  // namespace osprey::quant
