// What the float kernel tests share: the fused activations and their naive
// form, random integers, ramps, broadcast indexing for naive loops, and an
// exact comparison of an OpTester's float output.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/op_tester.h"

namespace osprey::testing {

inline constexpr Activation kAllActivations[] = {Activation::kNone, Activation::kRelu, Activation::kReluN1To1,
                                                 Activation::kRelu6};

inline int random_int(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// A fused activation applied to a naive loop's (double) result.
inline double activate(Activation a, double v) {
  switch (a) {
    case Activation::kRelu: return std::max(v, 0.0);
    case Activation::kReluN1To1: return std::clamp(v, -1.0, 1.0);
    case Activation::kRelu6: return std::clamp(v, 0.0, 6.0);
    default: return v;
  }
}

// first, first + step, ... (n values).
inline std::vector<float> ramp(int n, float first = 1.0f, float step = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = first + step * static_cast<float>(i);
  return v;
}

// first, first + 1, ... (n values).
inline std::vector<float> iota(int n, float first = 0.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

// Row-major flat index into `shape` of the output coordinate `coord` (of rank >= shape's rank),
// with NumPy broadcasting: leading dimensions are dropped and size-1 dimensions repeat.
inline int64_t broadcast_index(const Shape& shape, const std::vector<int64_t>& coord) {
  const size_t skip = coord.size() - shape.size();
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t c = shape[d] == 1 ? 0 : coord[skip + d];
    index = index * shape[d] + c;
  }
  return index;
}

inline void expect_values(const OpTester& t, const Shape& shape, const std::vector<float>& values) {
  ASSERT_EQ(t.output_shape(), shape);
  const std::vector<float> got = t.output_values<float>();
  ASSERT_EQ(got.size(), values.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], values[i]) << "element " << i;
}

}  // namespace osprey::testing
