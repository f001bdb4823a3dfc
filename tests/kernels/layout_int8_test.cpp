// The integer RESIZE_BILINEAR kernel, and the ops whose float kernels move
// int8 bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::OpTester;

// ---------------------------------------------------------------- RESIZE_BILINEAR

TEST(QuantKernels, ResizeBilinearMatchesXnnpackFormula) {
  std::mt19937 rng(22);
  for (int i = 0; i < 60; ++i) {
    const int ih = rnd(rng, 1, 6), iw = rnd(rng, 1, 6), oh = rnd(rng, 1, 12), ow = rnd(rng, 1, 12),
              c = rnd(rng, 1, 3);
    const int mode = rnd(rng, 0, 2);  // 0 legacy, 1 align_corners, 2 half_pixel_centers
    const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{ih} * iw * c);
    OpTester t;
    t.add_input<int8_t>({1, ih, iw, c}, x, false, per_tensor(0.1f, 0));
    t.add_input<int32_t>({2}, {oh, ow}, true);
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{mode == 1, mode == 2});
    {
      ArithmeticScope scope(Arithmetic::kLiteRT);
      t.run();
    }
    const auto tap = [&](int o, int in, int out) {
      const bool align = mode == 1;
      const float scale =
          static_cast<float>(in - (align ? 1 : 0)) / static_cast<float>(out - (align ? 1 : 0));
      float pos = static_cast<float>(o) * scale;
      if (mode == 2) pos = std::clamp(pos + 0.5f * scale - 0.5f, 0.0f, static_cast<float>(in - 1));
      if (align && out == 1) pos = 0;
      const int lo = std::min(static_cast<int>(pos), in - 1);
      return std::tuple<int, int, int32_t>{
          lo, std::min(lo + 1, in - 1),
          static_cast<int32_t>(std::lrint((pos - static_cast<float>(lo)) * 2048))};
    };
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (int y = 0; y < oh; ++y)
      for (int xx = 0; xx < ow; ++xx)
        for (int ch = 0; ch < c; ++ch) {
          const auto [y0, y1, wy] = tap(y, ih, oh);
          const auto [x0, x1, wx] = tap(xx, iw, ow);
          auto at = [&](int yy, int xc) { return int32_t{x[static_cast<size_t>((yy * iw + xc) * c + ch)]}; };
          const int32_t top = at(y0, x0) * 2048 + (at(y0, x1) - at(y0, x0)) * wx;
          const int32_t bottom = at(y1, x0) * 2048 + (at(y1, x1) - at(y1, x0)) * wx;
          const int32_t want = (top * 2048 + (bottom - top) * wy + (1 << 21)) >> 22;
          ASSERT_EQ(got[static_cast<size_t>((y * ow + xx) * c + ch)], want);
        }
  }
}

// A hostile size is refused before the tap tables, which grow with the
// output (found by fuzzing: 14 GB asked for a 587202564-wide output).
TEST(QuantKernels, ResizeBilinearRefusesAHugeSizeBeforeItsTables) {
  OpTester t;
  t.add_input<int8_t>({1, 2, 2, 15}, std::vector<int8_t>(60, 1), false, per_tensor(0.1f, 0));
  t.add_input<int32_t>({2}, {536, 587202564}, true);
  t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
  t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
  expect_error(t, "output shape [1, 536, 587202564, 15] is too large");
}

// A legal empty output (zero channels) is a no-op, however wide: the
// reference kernel builds no taps (2^30 of them would take 12 GB and minutes;
// fuzzing found a 16777216-wide one that took 2.5 s per run). LiteRT's integer
// kernel refuses an empty input outright. Float: LayoutResize.EmptyOutputsBuildNoTables.
TEST(QuantKernels, ResizeBilinearOfAnEmptyOutputBuildsNoTables) {
  OpTester t;
  t.add_input<int8_t>({1, 2, 2, 0}, {}, false, per_tensor(0.1f, 0));
  t.add_input<int32_t>({2}, {1, 1 << 30}, true);
  t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
  t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
  {
    ArithmeticScope scope(Arithmetic::kTfliteDouble);
    t.run();
    EXPECT_EQ(t.output_shape(), (Shape{1, 1, 1 << 30, 0}));
  }
  ArithmeticScope scope(Arithmetic::kLiteRT);
  expect_error(t, "input shape [1, 2, 2, 0] has a dimension that is not positive");
}

TEST(QuantKernels, ResizeBilinearTfliteArithmeticUsesTheReferenceKernel) {
  // TFLite's ResizeBilinearInteger on a 2x upscale of a ramp: within one of the XNNPACK result.
  std::vector<int8_t> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i * 7 - 50);
  std::vector<int8_t> results[2];
  for (int k = 0; k < 2; ++k) {
    OpTester t;
    t.add_input<int8_t>({1, 4, 4, 1}, x, false, per_tensor(0.1f, 0));
    t.add_input<int32_t>({2}, {8, 8}, true);
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{false, true});
    ArithmeticScope scope(k == 0 ? Arithmetic::kLiteRT : Arithmetic::kTfliteDouble);
    t.run();
    results[k] = t.output_values<int8_t>();
  }
  for (size_t i = 0; i < results[0].size(); ++i) EXPECT_LE(std::abs(results[0][i] - results[1][i]), 1);
}

// ---------------------------------------------------------------- byte-moving ops on int8

TEST(QuantKernels, FloatKernelsMoveInt8Bytes) {
  std::mt19937 rng(23);
  const std::vector<int8_t> x = random_q<int8_t>(rng, 2 * 3 * 4);
  const Quantization q = per_tensor(0.1f, -3);
  {  // RESHAPE
    OpTester t;
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_input<int32_t>({2}, {6, 4}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kReshape);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), x);
  }
  {  // CONCATENATION of two inputs sharing parameters
    OpTester t;
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kConcatenation, ConcatenationOptions{2, Activation::kNone});
    t.run();
    const std::vector<int8_t> got = t.output_values<int8_t>();
    ASSERT_EQ(t.output_shape(), (Shape{2, 3, 8}));
    for (int r = 0; r < 6; ++r)
      for (int k = 0; k < 8; ++k)
        EXPECT_EQ(got[static_cast<size_t>(r * 8 + k)], x[static_cast<size_t>(r * 4 + k % 4)]);
  }
  {  // PAD fills with the zero point
    OpTester t;
    t.add_input<int8_t>({1, 1, 2, 2}, {1, 2, 3, 4}, false, q);
    t.add_input<int32_t>({4, 2}, {0, 0, 0, 0, 0, 0, 1, 1}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kPad);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{-3, 1, 2, -3, -3, 3, 4, -3}));
  }
  {  // DEPTH_TO_SPACE
    OpTester t;
    t.add_input<int8_t>({1, 1, 1, 4}, {1, 2, 3, 4}, false, q);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{2});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{1, 2, 3, 4}));
    EXPECT_EQ(t.output_shape(), (Shape{1, 2, 2, 1}));
  }
  {  // STRIDED_SLICE
    OpTester t;
    t.add_input<int8_t>({1, 4}, {1, 2, 3, 4}, false, q);
    t.add_input<int32_t>({2}, {0, 1}, true);
    t.add_input<int32_t>({2}, {1, 4}, true);
    t.add_input<int32_t>({2}, {1, 2}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kStridedSlice, StridedSliceOptions{});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{2, 4}));
  }
  {  // RESIZE_NEAREST_NEIGHBOR
    OpTester t;
    t.add_input<int8_t>({1, 1, 2, 1}, {5, -5}, false, q);
    t.add_input<int32_t>({2}, {1, 4}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kResizeNearestNeighbor, ResizeOptions{});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{5, 5, -5, -5}));
  }
}

}  // namespace
}  // namespace osprey
