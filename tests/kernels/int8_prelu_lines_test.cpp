// fit_prelu_lines (backends/avx512/int8_prelu_lines.h): on tables made by the
// reference PRELU arithmetic over random scales, zero points and alphas, in
// every arithmetic, it finds lines nearly always, and the lines it finds
// give every byte of the table; on a table no line gives, it finds none.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/avx512/int8_prelu_lines.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey {
namespace {

struct Prelu {
  bool is_signed = true;
  int32_t in_zp = 0, alpha_zp = 0, out_zp = 0;
  double in_scale = 1, alpha_scale = 1, out_scale = 1;
  std::vector<uint8_t> alpha;
  quant::Arithmetic arithmetic = quant::Arithmetic::kLiteRT;
};

// The reference kernel's PRELU of one input byte against one alpha byte.
uint8_t reference(const Prelu& p, uint8_t byte, uint8_t alpha_byte) {
  auto value = [&](uint8_t b) {
    return p.is_signed ? static_cast<int32_t>(static_cast<int8_t>(b)) : int32_t{b};
  };
  const auto pos = quant::quantize_multiplier(p.in_scale / p.out_scale);
  const auto neg = quant::quantize_multiplier(p.in_scale * p.alpha_scale / p.out_scale);
  const int32_t x = value(byte) - p.in_zp;
  const int32_t v = x >= 0 ? quant::multiply_by_quantized_multiplier(x, pos, p.arithmetic)
                           : quant::multiply_by_quantized_multiplier(x * (value(alpha_byte) - p.alpha_zp),
                                                                     neg, p.arithmetic);
  const int32_t lo = p.is_signed ? -128 : 0;
  return static_cast<uint8_t>(std::clamp(v + p.out_zp, lo, lo + 255));
}

std::optional<PreluLines> fit(const Prelu& p, std::vector<uint8_t>& table) {
  table.resize(p.alpha.size() * 256);
  std::vector<double> slope_neg;
  auto factor = [](const quant::QuantizedMultiplier& m) {
    return std::ldexp(double(m.multiplier), m.shift - 31);
  };
  for (size_t j = 0; j < p.alpha.size(); ++j) {
    for (int b = 0; b < 256; ++b) table[j * 256 + b] = reference(p, static_cast<uint8_t>(b), p.alpha[j]);
    const int32_t a = p.is_signed ? static_cast<int8_t>(p.alpha[j]) : int32_t{p.alpha[j]};
    slope_neg.push_back((a - p.alpha_zp) *
                        factor(quant::quantize_multiplier(p.in_scale * p.alpha_scale / p.out_scale)));
  }
  return fit_prelu_lines(table, p.is_signed, p.in_zp,
                         factor(quant::quantize_multiplier(p.in_scale / p.out_scale)), slope_neg);
}

TEST(Int8PreluLines, ReferenceTablesFitAndReproduceEveryByte) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> log_scale(-9, 1);
  int tried = 0, fitted = 0;
  for (quant::Arithmetic a :
       {quant::Arithmetic::kLiteRT, quant::Arithmetic::kTfliteSingle, quant::Arithmetic::kTfliteDouble}) {
    for (int i = 0; i < 300; ++i) {
      Prelu p;
      p.arithmetic = a;
      p.is_signed = i % 2 == 0;
      const int32_t lo = p.is_signed ? -128 : 0;
      std::uniform_int_distribution<int32_t> zp(lo, lo + 255);
      // Zero points at the ends of the range in some cases.
      p.in_zp = i % 7 == 0 ? lo : i % 7 == 1 ? lo + 255 : zp(rng);
      p.alpha_zp = zp(rng);
      p.out_zp = i % 5 == 0 ? lo + 255 : zp(rng);
      p.in_scale = std::exp2(log_scale(rng));
      p.alpha_scale = std::exp2(log_scale(rng));
      p.out_scale = std::exp2(log_scale(rng));
      std::uniform_int_distribution<int> byte(0, 255);
      p.alpha.resize(static_cast<size_t>(1 + i % 40));
      for (uint8_t& v : p.alpha) v = static_cast<uint8_t>(byte(rng));
      std::vector<uint8_t> table;
      const std::optional<PreluLines> lines = fit(p, table);
      ++tried;
      if (!lines) continue;
      ++fitted;
      for (size_t j = 0; j < p.alpha.size(); ++j) {
        for (int b = 0; b < 256; ++b) {
          ASSERT_EQ(prelu_line_byte(*lines, p.is_signed, static_cast<uint8_t>(b), j), table[j * 256 + b])
              << fmt::format("case {} arithmetic {} alpha {} byte {}", i, quant::arithmetic_name(a), j, b);
        }
      }
    }
  }
  // Lines are the kernel's fast form: losing them costs speed, not results.
  EXPECT_GE(fitted * 100, tried * 99) << fitted << " of " << tried;
}

TEST(Int8PreluLines, NoLineForATableNoLineGives) {
  // A positive branch that goes down, then up.
  std::vector<uint8_t> table(256);
  for (int b = 0; b < 256; ++b) table[static_cast<size_t>(b)] = static_cast<uint8_t>(std::abs(b - 128));
  const double slope_neg[] = {1.0};
  EXPECT_FALSE(fit_prelu_lines(table, false, 0, 1.0, slope_neg));
  // A table shorter than its alphas.
  EXPECT_FALSE(fit_prelu_lines(std::span<const uint8_t>(table.data(), 100), false, 0, 1.0, slope_neg));
}

}  // namespace
}  // namespace osprey
