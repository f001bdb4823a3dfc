// Where an integer RESIZE_BILINEAR (resize.cpp, XNNPACK's ibilinear
// arithmetic) reads each output row or column from: the two source indices
// and the 11-bit weight of the second, found in float as XNNPACK finds them.
// Shared by the reference kernel and osprey-avx512's, so the two cannot drift.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace osprey::quant {

struct BilinearTap {
  int64_t lo = 0, hi = 0;
  int32_t weight = 0;  // Q11: the share of `hi`
};

// Taps of `out` outputs over `in` inputs (both > 0), for the three
// coordinate conventions (align_corners, half_pixel_centers, or neither).
inline std::vector<BilinearTap> bilinear_taps(int in, int out, bool align, bool half) {
  const float scale = static_cast<float>(in - (align ? 1 : 0)) / static_cast<float>(out - (align ? 1 : 0));
  const int64_t max_index = in - 1;
  std::vector<BilinearTap> t(static_cast<size_t>(out));
  for (int i = 0; i < out; ++i) {
    float pos = static_cast<float>(i) * scale;
    if (!align && half) {
      pos += 0.5f * scale - 0.5f;
      pos = std::min(std::max(pos, 0.0f), static_cast<float>(max_index));
    }
    if (align && out == 1) pos = 0;
    BilinearTap& tap = t[static_cast<size_t>(i)];
    tap.lo = std::min<int64_t>(static_cast<int64_t>(pos), max_index);
    tap.hi = std::min<int64_t>(tap.lo + 1, max_index);
    tap.weight = static_cast<int32_t>(std::lrint((pos - static_cast<float>(tap.lo)) * 2048.0f));
  }
  return t;
}

}  // namespace osprey::quant
