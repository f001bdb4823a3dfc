// Reference RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR. Expected values are
// worked out by hand from TFLite's formulas (see resize.cpp):
//   scale  = align_corners ? (in - 1) / (out - 1) : in / out
//   source = half_pixel_centers ? (i + 0.5) * scale - 0.5 : i * scale
// On the 2x2 image [[1, 2], [3, 4]] bilinear interpolation is the plane
// 1 + 2*y + x, evaluated at the source coordinates clamped to [0, 1].
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::expect_error;
using testing::OpTester;

const std::vector<float> kImage2x2 = {1, 2, 3, 4};  // [1, 2, 2, 1]

template <typename T>
OpTester resize(OpCode op, const Shape& shape, const std::vector<T>& values, int32_t height, int32_t width,
                ResizeOptions options, Quantization quant = {}) {
  OpTester t;
  t.add_input<T>(shape, values, false, quant);
  t.add_input<int32_t>({2}, {height, width}, true);
  t.add_output(dtype_of<T>(), {}, quant);
  t.set_op(op, options);
  t.run();
  return t;
}

void expect_floats(const OpTester& t, const Shape& shape, const std::vector<float>& expected) {
  ASSERT_EQ(t.output_shape(), shape);
  const std::vector<float> got = t.output_values<float>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5) << "element " << i;
}

// ---------------------------------------------------------------- RESIZE_BILINEAR

TEST(LayoutResizeBilinear, TwoByTwoToThreeByThree) {
  // scale 2/3: sources 0, 2/3, 4/3 -> rows (0, 0), (0, 1), (1, 1) with weights 0, 2/3, 1/3.
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 3, 3, {false, false}),
                {1, 3, 3, 1}, {1, 5.0f / 3, 2, 7.0f / 3, 3, 10.0f / 3, 3, 11.0f / 3, 4});
}

TEST(LayoutResizeBilinear, TwoByTwoToThreeByThreeAlignCorners) {
  // scale 1/2: sources 0, 0.5, 1.
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 3, 3, {true, false}),
                {1, 3, 3, 1}, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
}

TEST(LayoutResizeBilinear, TwoByTwoToThreeByThreeHalfPixel) {
  // scale 2/3: sources -1/6 (row 0, weight -1/6 on row 0 again), 0.5, 7/6 (row 1 twice).
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 3, 3, {false, true}),
                {1, 3, 3, 1}, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
}

TEST(LayoutResizeBilinear, TwoByTwoToFourByFourAllModes) {
  // Effective coordinates: plain 0, .5, 1, 1 (1.5 clamps); align_corners 0, 1/3, 2/3, 1;
  // half_pixel_centers 0 (-.25 clamps), .25, .75, 1 (1.25 clamps).
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 4, 4, {false, false}),
                {1, 4, 4, 1}, {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4});
  const float t = 1.0f / 3;
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 4, 4, {true, false}),
                {1, 4, 4, 1},
                {1, 1 + t, 1 + 2 * t, 2,          //
                 1 + 2 * t, 2, 2 + t, 2 + 2 * t,  //
                 2 + t, 2 + 2 * t, 3, 3 + t,      //
                 3, 3 + t, 3 + 2 * t, 4});
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 2, 2, 1}, kImage2x2, 4, 4, {false, true}),
                {1, 4, 4, 1},
                {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
}

TEST(LayoutResizeBilinear, NonPlanarImageBatchesAndChannels) {
  // Two batches of a 2x2 image with two channels: channel 0 is [[0, 0], [0, 8]]
  // (value 8*y*x at the source), channel 1 is constant 5. align_corners, 3x3.
  const std::vector<float> image = {0, 5, 0, 5, 0, 5, 8, 5,   // batch 0
                                    0, 5, 0, 5, 0, 5, 8, 5};  // batch 1
  const OpTester t = resize<float>(OpCode::kResizeBilinear, {2, 2, 2, 2}, image, 3, 3, {true, false});
  std::vector<float> batch = {0, 5, 0, 5, 0, 5, 0, 5, 2, 5, 4, 5, 0, 5, 4, 5, 8, 5};
  std::vector<float> expected = batch;
  expected.insert(expected.end(), batch.begin(), batch.end());
  expect_floats(t, {2, 3, 3, 2}, expected);
}

TEST(LayoutResizeBilinear, Downscale) {
  // 4 -> 2 columns, scale 2: sources 0 and 2 (exact pixels); half pixel: 0.5 and 2.5.
  const std::vector<float> row = {0, 10, 20, 30};
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 1, 4, 1}, row, 1, 2, {false, false}), {1, 1, 2, 1},
                {0, 20});
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 1, 4, 1}, row, 1, 2, {false, true}), {1, 1, 2, 1},
                {5, 25});
  expect_floats(resize<float>(OpCode::kResizeBilinear, {1, 1, 4, 1}, row, 1, 2, {true, false}), {1, 1, 2, 1},
                {0, 30});
}

TEST(LayoutResizeBilinear, Uint8RoundsHalfUp) {
  // [0, 10] to 3 columns: 0, 10 * 2/3 = 6.67 -> 7 (+0.5 then truncation), 10.
  const OpTester t = resize<uint8_t>(OpCode::kResizeBilinear, {1, 1, 2, 1}, {0, 10}, 1, 3, {false, false},
                                     Quantization{{0.5f}, {0}, 0});
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{0, 7, 10}));
}

TEST(LayoutResizeBilinear, Int8UsesFixedPoint) {
  // scale_10 = (2*1024 + 1) / 3 = 683. Column 1: weights 341 and 683 (in 1/1024):
  // (-10*341 + 10*683) * 1024 = 3502080 -> (3502080 + 2^19) / 2^20 = 3.
  // Column 2: source 1366 -> pixel 1 twice: 10.
  const OpTester t = resize<int8_t>(OpCode::kResizeBilinear, {1, 1, 2, 1}, {-10, 10}, 1, 3, {false, false},
                                    Quantization{{0.5f}, {0}, 0});
  EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{-10, 3, 10}));
  // A negative result rounds away from zero: -3.34 -> -3 ((sum - 2^19) / 2^20 truncates).
  const OpTester n = resize<int8_t>(OpCode::kResizeBilinear, {1, 1, 2, 1}, {10, -10}, 1, 3, {false, false},
                                    Quantization{{0.5f}, {0}, 0});
  EXPECT_EQ(n.output_values<int8_t>(), (std::vector<int8_t>{10, -3, -10}));
}

TEST(LayoutResizeBilinear, RejectsBothAlignAndHalfPixel) {
  OpTester t;
  t.add_input<float>({1, 2, 2, 1}, kImage2x2);
  t.add_input<int32_t>({2}, {3, 3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kResizeBilinear, ResizeOptions{true, true});
  expect_error(t, "cannot both be set");
}

TEST(LayoutResizeBilinear, RejectsNonConstantSize) {
  OpTester t;
  t.add_input<float>({1, 2, 2, 1}, kImage2x2);
  t.add_input<int32_t>({2}, {3, 3}, false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

TEST(LayoutResizeBilinear, RejectsBadSizeAndRank) {
  {
    OpTester t;
    t.add_input<float>({1, 2, 2, 1}, kImage2x2);
    t.add_input<int32_t>({2}, {0, 3}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
    expect_error(t, "not positive");
  }
  {
    OpTester t;
    t.add_input<float>({1, 2, 2, 1}, kImage2x2);
    t.add_input<int32_t>({3}, {1, 3, 3}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
    expect_error(t, "expected [2]");
  }
  {
    OpTester t;
    t.add_input<float>({2, 2, 1}, kImage2x2);
    t.add_input<int32_t>({2}, {3, 3}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{});
    expect_error(t, "rank 3");
  }
}

// ---------------------------------------------------------------- RESIZE_NEAREST_NEIGHBOR

TEST(LayoutResizeNearestNeighbor, TwoByTwoToThreeByThree) {
  // floor(i * 2/3) = 0, 0, 1
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 2, 2, 1}, kImage2x2, 3, 3, {false, false}),
                {1, 3, 3, 1}, {1, 1, 2, 1, 1, 2, 3, 3, 4});
}

TEST(LayoutResizeNearestNeighbor, TwoByTwoToThreeByThreeAlignCorners) {
  // round(i * 1/2) = 0, 1 (0.5 rounds away from zero), 1
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 2, 2, 1}, kImage2x2, 3, 3, {true, false}),
                {1, 3, 3, 1}, {1, 2, 2, 3, 4, 4, 3, 4, 4});
}

TEST(LayoutResizeNearestNeighbor, TwoByTwoToThreeByThreeHalfPixel) {
  // floor((i + 0.5) * 2/3) = 0, 1, 1
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 2, 2, 1}, kImage2x2, 3, 3, {false, true}),
                {1, 3, 3, 1}, {1, 2, 2, 3, 4, 4, 3, 4, 4});
}

TEST(LayoutResizeNearestNeighbor, FourToSixColumnsAllModes) {
  // plain floor(i * 2/3)       = 0 0 1 2 2 3
  // align round(i * 3/5)       = 0 1 1 2 2 3
  // half  floor((i + .5) * 2/3) = 0 1 1 2 3 3
  const std::vector<float> row = {10, 20, 30, 40};
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 1, 4, 1}, row, 1, 6, {false, false}),
                {1, 1, 6, 1}, {10, 10, 20, 30, 30, 40});
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 1, 4, 1}, row, 1, 6, {true, false}),
                {1, 1, 6, 1}, {10, 20, 20, 30, 30, 40});
  expect_floats(resize<float>(OpCode::kResizeNearestNeighbor, {1, 1, 4, 1}, row, 1, 6, {false, true}),
                {1, 1, 6, 1}, {10, 20, 20, 30, 40, 40});
}

TEST(LayoutResizeNearestNeighbor, DownscaleUint8WithChannels) {
  // 4x4 -> 2x2, scale 2: plain picks rows/columns 0 and 2, half pixel 1 and 3.
  std::vector<uint8_t> image;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      image.push_back(static_cast<uint8_t>(10 * y + x));
      image.push_back(static_cast<uint8_t>(100 + 10 * y + x));
    }
  }
  const OpTester plain =
      resize<uint8_t>(OpCode::kResizeNearestNeighbor, {1, 4, 4, 2}, image, 2, 2, {false, false});
  EXPECT_EQ(plain.output_shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(plain.output_values<uint8_t>(), (std::vector<uint8_t>{0, 100, 2, 102, 20, 120, 22, 122}));
  const OpTester half =
      resize<uint8_t>(OpCode::kResizeNearestNeighbor, {1, 4, 4, 2}, image, 2, 2, {false, true});
  EXPECT_EQ(half.output_values<uint8_t>(), (std::vector<uint8_t>{11, 111, 13, 113, 31, 131, 33, 133}));
  // align_corners: scale 3, round(0) = 0, round(3) = 3.
  const OpTester align =
      resize<uint8_t>(OpCode::kResizeNearestNeighbor, {1, 4, 4, 2}, image, 2, 2, {true, false});
  EXPECT_EQ(align.output_values<uint8_t>(), (std::vector<uint8_t>{0, 100, 3, 103, 30, 130, 33, 133}));
}

TEST(LayoutResizeNearestNeighbor, Int8AndOutputSizeOne) {
  // One output pixel: scale = in / 1 = 2 without align_corners; source 0 (plain) or floor(0.5 * 2) = 1
  // (half).
  const OpTester plain =
      resize<int8_t>(OpCode::kResizeNearestNeighbor, {1, 1, 2, 1}, {-5, 7}, 1, 1, {false, false});
  EXPECT_EQ(plain.output_values<int8_t>(), std::vector<int8_t>{-5});
  const OpTester half =
      resize<int8_t>(OpCode::kResizeNearestNeighbor, {1, 1, 2, 1}, {-5, 7}, 1, 1, {false, true});
  EXPECT_EQ(half.output_values<int8_t>(), std::vector<int8_t>{7});
}

// An empty output (zero channels) is legal and costs nothing, however wide:
// no tap or index tables (2^30 entries would take gigabytes and minutes).
TEST(LayoutResize, EmptyOutputsBuildNoTables) {
  for (const OpCode op : {OpCode::kResizeBilinear, OpCode::kResizeNearestNeighbor}) {
    const OpTester t = resize<float>(op, {1, 2, 2, 0}, {}, 1, 1 << 30, {false, false});
    EXPECT_EQ(t.output_shape(), (Shape{1, 1, 1 << 30, 0}));
  }
}

TEST(LayoutResizeNearestNeighbor, RejectsNonConstantSize) {
  OpTester t;
  t.add_input<float>({1, 2, 2, 1}, kImage2x2);
  t.add_input<int32_t>({2}, {3, 3}, false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kResizeNearestNeighbor, ResizeOptions{});
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

}  // namespace
}  // namespace osprey
