// int8/uint8 PRELU as one line per branch. Each branch of the reference
// kernel (input below its zero point, and the rest) rescales the input by a
// constant, so its output byte is, up to rounding, a line through the input
// byte: out = saturate((x * k + b) >> shift). fit_prelu_lines finds such
// lines for the reference's own table of outputs and checks every input
// byte of every alpha against it, so the vector kernel is a multiply, an add
// and a shift per lane instead of a gather, and still bit-exact. Where no
// line reproduces a branch (the reference's double rounding can break the
// pattern), it returns nothing and the kernel keeps its table.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace osprey {

struct PreluLines {
  int shift = 0;
  int32_t zero_point = 0;  // of the input: x < zero_point takes the negative branch
  int32_t k_pos = 0, b_pos = 0;
  std::vector<int32_t> k_neg, b_neg;  // one per alpha element
};

// The output byte of the lines for raw input byte `byte` at alpha element
// `j`: what the vector kernels compute, one lane.
inline uint8_t prelu_line_byte(const PreluLines& l, bool is_signed, uint8_t byte, size_t j) {
  const int32_t x = is_signed ? static_cast<int8_t>(byte) : int32_t{byte};
  const bool neg = x < l.zero_point;
  const int64_t y = (int64_t{x} * (neg ? l.k_neg[j] : l.k_pos) + (neg ? l.b_neg[j] : l.b_pos)) >> l.shift;
  const int64_t lo = is_signed ? -128 : 0;
  return static_cast<uint8_t>(std::clamp(y, lo, lo + 255));
}

// `table`: alpha element j's output byte for input byte v at j * 256 + v, as
// the reference computes it; `slope_pos` and `slope_neg[j]` the real factors
// of each branch (output units per input unit). Every line's x * k + b stays
// in int32 for every input byte.
std::optional<PreluLines> fit_prelu_lines(std::span<const uint8_t> table, bool is_signed, int32_t zero_point,
                                          double slope_pos, std::span<const double> slope_neg);

}  // namespace osprey
