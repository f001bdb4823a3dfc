#include "backends/avx512/int8_prelu_lines.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace osprey {

namespace {

// Shifts tried, most precise first: wider ones overflow int32 sooner.
constexpr int kMaxShift = 22, kMinShift = 0;
// Slopes tried around the nearest one to the branch's real factor.
constexpr int64_t kSlopeSearch = 2;

struct Line {
  int32_t k = 0, b = 0;
};

// The line of slope k (or one within kSlopeSearch of it) through every point
// (x, out) of `row` for x in [first, last): floor((x * k + b) / 2^shift) is
// out, or beyond it where out is the type's bound, where the kernel saturates.
std::optional<Line> fit_branch(const uint8_t* row, bool is_signed, int32_t zero_point, int first, int last,
                               double slope, int shift) {
  const int lo = is_signed ? -128 : 0, hi = lo + 255;
  const int64_t one = int64_t{1} << shift;
  const int64_t nearest = std::llround(slope * static_cast<double>(one));
  auto value = [&](int v) { return is_signed ? static_cast<int>(static_cast<int8_t>(v)) : v; };
  auto byte_of = [](int x) { return static_cast<uint8_t>(x); };  // the raw byte, int8 or uint8
  for (int64_t step = 0; step <= 2 * kSlopeSearch; ++step) {
    // nearest, nearest + 1, nearest - 1, ...
    const int64_t k = nearest + (step % 2 ? (step + 1) / 2 : -step / 2);
    int64_t b_min = std::numeric_limits<int64_t>::min(), b_max = std::numeric_limits<int64_t>::max();
    for (int x = first; x < last; ++x) {
      const int out = value(row[byte_of(x)]);
      if (out > lo) b_min = std::max(b_min, out * one - x * k);
      if (out < hi) b_max = std::min(b_max, out * one + one - 1 - x * k);
    }
    if (b_min > b_max) continue;
    // Where it can, the line through (zero point, 1/2): round half up from the branch's zero.
    const int64_t ideal = -int64_t{zero_point} * k + one / 2;
    const int64_t b = std::clamp(ideal, b_min, b_max);
    bool fits = std::abs(k) <= std::numeric_limits<int32_t>::max() &&
                std::abs(b) <= std::numeric_limits<int32_t>::max();
    for (int x = lo; fits && x <= hi; x += 255) {
      const int64_t y = x * k + b;  // extremes of a line over [lo, hi] are at its ends
      fits = y >= std::numeric_limits<int32_t>::min() && y <= std::numeric_limits<int32_t>::max();
    }
    if (fits) return Line{static_cast<int32_t>(k), static_cast<int32_t>(b)};
  }
  return std::nullopt;
}

}  // namespace

std::optional<PreluLines> fit_prelu_lines(std::span<const uint8_t> table, bool is_signed, int32_t zero_point,
                                          double slope_pos, std::span<const double> slope_neg) {
  const int lo = is_signed ? -128 : 0, hi = lo + 255;
  if (table.size() < slope_neg.size() * 256 || zero_point < lo || zero_point > hi) return std::nullopt;
  for (int shift = kMaxShift; shift >= kMinShift; --shift) {
    PreluLines lines;
    lines.shift = shift;
    lines.zero_point = zero_point;
    bool all = true;
    // The positive branch ignores alpha, but is checked against every row.
    std::optional<Line> pos =
        fit_branch(table.data(), is_signed, zero_point, zero_point, hi + 1, slope_pos, shift);
    for (size_t j = 0; all && pos && j < slope_neg.size(); ++j) {
      const uint8_t* row = table.data() + j * 256;
      std::optional<Line> neg = fit_branch(row, is_signed, zero_point, lo, zero_point, slope_neg[j], shift);
      for (int x = zero_point; all && x <= hi; ++x)
        all = row[static_cast<uint8_t>(x)] == table[static_cast<uint8_t>(x)];
      all = all && neg;
      if (all) {
        lines.k_neg.push_back(neg->k);
        lines.b_neg.push_back(neg->b);
      }
    }
    if (pos && all) {
      lines.k_pos = pos->k;
      lines.b_pos = pos->b;
      return lines;
    }
  }
  return std::nullopt;
}

}  // namespace osprey
