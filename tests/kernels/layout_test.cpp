// Reference RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, SPLIT, PAD(V2),
// TRANSPOSE, DEPTH_TO_SPACE and GATHER: hand-computed cases and rejected models.
// STRIDED_SLICE, the resizes and the reductions have their own layout_*_test files.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/float_cases.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::expect_error;
using testing::iota;
using testing::OpTester;

constexpr OpCode kPadV2 = static_cast<OpCode>(60);

// Runs `t`, expecting an osprey::Error whose message contains `needle`.
// ---------------------------------------------------------------- RESHAPE

TEST(LayoutReshape, ShapeInputWithInferredDimension) {
  OpTester t;
  t.add_input<float>({2, 3, 4}, iota(24));
  t.add_input<int32_t>({2}, {4, -1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {99}});  // the input wins over the options
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{4, 6}));
  EXPECT_EQ(t.output_values<float>(), iota(24));
}

TEST(LayoutReshape, ShapeFromOptionsWithoutShapeInput) {
  OpTester t;
  t.add_input<int8_t>({2, 3}, {1, -2, 3, -4, 5, -6});
  t.add_output(DType::kInt8);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {3, 1, 2}});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{1, -2, 3, -4, 5, -6}));
}

TEST(LayoutReshape, OmittedShapeInputUsesOptions) {
  OpTester t;
  t.add_input<float>({6}, iota(6));
  t.add_missing_input();
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {-1, 2}});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 2}));
}

TEST(LayoutReshape, ScalarShapeInputFallsBackToOptions) {
  // TFLite uses input 1 only when it is an int32 vector.
  OpTester t;
  t.add_input<float>({2, 2}, iota(4));
  t.add_input<int32_t>({}, {7}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {4}});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{4}));
}

TEST(LayoutReshape, LegacyZeroOptionMeansScalar) {
  OpTester t;
  t.add_input<float>({1, 1}, {5.0f});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {0}});
  t.run();
  EXPECT_EQ(t.output_shape(), Shape{});
  EXPECT_EQ(t.output_values<float>(), std::vector<float>{5.0f});
}

TEST(LayoutReshape, EmptyShapeVectorMeansScalar) {
  OpTester t;
  t.add_input<float>({1}, {5.0f});
  t.add_input<int32_t>({0}, {0}, true);  // (a value only so the vector has data)
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape, ReshapeOptions{});
  t.run();
  EXPECT_EQ(t.output_shape(), Shape{});
}

TEST(LayoutReshape, ZeroSizedInputInfersZero) {
  OpTester t;
  t.add_input<float>({0, 4}, {0.0f});
  t.add_input<int32_t>({2}, {-1, 2}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{0, 2}));
}

TEST(LayoutReshape, RejectsNonConstantShape) {
  OpTester t;
  t.add_input<float>({2, 2}, iota(4));
  t.add_input<int32_t>({1}, {4}, /*constant=*/false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

TEST(LayoutReshape, RejectsCountMismatch) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({2}, {4, 2}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  EXPECT_THROW(t.run(), Error);
}

TEST(LayoutReshape, RejectsInferenceThatDoesNotDivide) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({2}, {-1, 4}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  expect_error(t, "elements");
}

TEST(LayoutReshape, RejectsTwoInferredDimensions) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({2}, {-1, -1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  expect_error(t, "more than one -1");
}

TEST(LayoutReshape, RejectsNegativeDimension) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({2}, {-2, -3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kReshape);
  EXPECT_THROW(t.run(), Error);
}

TEST(LayoutReshape, RejectsOutputTypeMismatch) {
  OpTester t;
  t.add_input<float>({2}, iota(2));
  t.add_output(DType::kInt32);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {2}});
  expect_error(t, "output type int32 differs from input type float32");
}

// ---------------------------------------------------------------- SQUEEZE

TEST(LayoutSqueeze, AllSizeOneDimensions) {
  OpTester t;
  t.add_input<float>({1, 3, 1, 2, 1}, iota(6));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSqueeze, SqueezeOptions{});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 2}));
  EXPECT_EQ(t.output_values<float>(), iota(6));
}

TEST(LayoutSqueeze, ListedDimensionsIncludingNegative) {
  OpTester t;
  t.add_input<float>({1, 3, 1, 2, 1}, iota(6));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSqueeze, SqueezeOptions{{0, -1, 0}});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 1, 2}));
}

TEST(LayoutSqueeze, NoOptionsSqueezesAll) {
  OpTester t;
  t.add_input<int32_t>({1, 1}, {42});
  t.add_output(DType::kInt32);
  t.set_op(OpCode::kSqueeze);
  t.run();
  EXPECT_EQ(t.output_shape(), Shape{});
  EXPECT_EQ(t.output_values<int32_t>(), std::vector<int32_t>{42});
}

TEST(LayoutSqueeze, RejectsDimensionThatIsNotOne) {
  OpTester t;
  t.add_input<float>({1, 3}, iota(3));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSqueeze, SqueezeOptions{{1}});
  expect_error(t, "cannot squeeze dimension 1 of size 3");
}

TEST(LayoutSqueeze, RejectsOutOfRangeDimension) {
  OpTester t;
  t.add_input<float>({1, 3}, iota(3));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSqueeze, SqueezeOptions{{-3}});
  EXPECT_THROW(t.run(), Error);
}

// ---------------------------------------------------------------- EXPAND_DIMS

TEST(LayoutExpandDims, LeadingTrailingAndNegativeAxis) {
  const std::vector<std::pair<int32_t, Shape>> cases = {
      {0, {1, 2, 3}}, {1, {2, 1, 3}}, {2, {2, 3, 1}}, {-1, {2, 3, 1}}, {-3, {1, 2, 3}}};
  for (const auto& [axis, shape] : cases) {
    OpTester t;
    t.add_input<float>({2, 3}, iota(6));
    t.add_input<int32_t>({1}, {axis}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kExpandDims);
    t.run();
    EXPECT_EQ(t.output_shape(), shape) << "axis " << axis;
    EXPECT_EQ(t.output_values<float>(), iota(6));
  }
}

TEST(LayoutExpandDims, Int64ScalarAxis) {
  OpTester t;
  t.add_input<uint8_t>({2}, {7, 9});
  t.add_input<int64_t>({}, {1}, true);
  t.add_output(DType::kUInt8);
  t.set_op(OpCode::kExpandDims);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 1}));
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{7, 9}));
}

TEST(LayoutExpandDims, RejectsOutOfRangeAxis) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({1}, {3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kExpandDims);
  expect_error(t, "axis 3 is out of range");
}

TEST(LayoutExpandDims, RejectsNonConstantAxis) {
  OpTester t;
  t.add_input<float>({2, 3}, iota(6));
  t.add_input<int32_t>({1}, {0}, false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kExpandDims);
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

// ---------------------------------------------------------------- CONCATENATION

TEST(LayoutConcatenation, ThreeInputsNegativeAxis) {
  OpTester t;
  t.add_input<float>({2, 1}, {1, 2});
  t.add_input<float>({2, 2}, {3, 4, 5, 6});
  t.add_input<float>({2, 3}, {7, 8, 9, 10, 11, 12});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{-1, Activation::kNone});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 6}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12}));
}

TEST(LayoutConcatenation, OuterAxis) {
  OpTester t;
  t.add_input<int32_t>({1, 2}, {1, 2});
  t.add_input<int32_t>({2, 2}, {3, 4, 5, 6});
  t.add_output(DType::kInt32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kNone});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 2}));
  EXPECT_EQ(t.output_values<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(LayoutConcatenation, MiddleAxisOf3D) {
  OpTester t;
  t.add_input<float>({2, 1, 2}, {1, 2, 3, 4});
  t.add_input<float>({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{1, Activation::kNone});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}));
}

TEST(LayoutConcatenation, FusedRelu6OnFloat) {
  OpTester t;
  t.add_input<float>({2}, {-1.0f, 3.0f});
  t.add_input<float>({2}, {7.0f, 6.0f});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kRelu6});
  t.run();
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{0.0f, 3.0f, 6.0f, 6.0f}));
}

TEST(LayoutConcatenation, Scalars) {
  OpTester t;
  t.add_input<float>({}, {1.0f});
  t.add_input<float>({}, {2.0f});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kNone});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1.0f, 2.0f}));
}

TEST(LayoutConcatenation, Uint8InputsAreRequantized) {
  // Input 0 shares the output's scale 0.5 / zero point 10 and is copied;
  // input 1 (scale 1, zero point 0) becomes round(q / 0.5) + 10, clamped.
  OpTester t;
  t.add_input<uint8_t>({2}, {0, 200}, false, Quantization{{0.5f}, {10}, 0});
  t.add_input<uint8_t>({3}, {0, 3, 200}, false, Quantization{{1.0f}, {0}, 0});
  t.add_output(DType::kUInt8, {}, Quantization{{0.5f}, {10}, 0});
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kNone});
  t.run();
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{0, 200, 10, 16, 255}));
}

TEST(LayoutConcatenation, RejectsInt8WithDifferentQuantization) {
  OpTester t;
  t.add_input<int8_t>({1}, {1}, false, Quantization{{0.5f}, {0}, 0});
  t.add_input<int8_t>({1}, {1}, false, Quantization{{0.25f}, {0}, 0});
  t.add_output(DType::kInt8, {}, Quantization{{0.5f}, {0}, 0});
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kNone});
  expect_error(t, "quantized differently");
}

TEST(LayoutConcatenation, RejectsMismatchedDimensions) {
  OpTester t;
  t.add_input<float>({2, 2}, iota(4));
  t.add_input<float>({3, 2}, iota(6));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConcatenation, ConcatenationOptions{1, Activation::kNone});
  expect_error(t, "input 1 has shape [3, 2], input 0 has shape [2, 2]");
}

TEST(LayoutConcatenation, RejectsMismatchedTypesAndBadAxis) {
  {
    OpTester t;
    t.add_input<float>({2}, iota(2));
    t.add_input<int32_t>({2}, {1, 2});
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConcatenation, ConcatenationOptions{0, Activation::kNone});
    EXPECT_THROW(t.run(), Error);
  }
  {
    OpTester t;
    t.add_input<float>({2}, iota(2));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConcatenation, ConcatenationOptions{1, Activation::kNone});
    expect_error(t, "axis 1 is out of range for rank 1");
  }
}

// ---------------------------------------------------------------- SPLIT

TEST(LayoutSplit, ThreeWaysAlongInnerAxis) {
  OpTester t;
  t.add_input<int32_t>({}, {-1}, true);  // axis
  t.add_input<float>({2, 6}, iota(12));
  for (int i = 0; i < 3; ++i) t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSplit, SplitOptions{3});
  t.run();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.output_shape(i), (Shape{2, 2}));
  EXPECT_EQ(t.output_values<float>(0), (std::vector<float>{0, 1, 6, 7}));
  EXPECT_EQ(t.output_values<float>(1), (std::vector<float>{2, 3, 8, 9}));
  EXPECT_EQ(t.output_values<float>(2), (std::vector<float>{4, 5, 10, 11}));
}

TEST(LayoutSplit, TwoWaysAlongOuterAxis) {
  OpTester t;
  t.add_input<int32_t>({1}, {0}, true);
  t.add_input<int8_t>({4, 1}, {1, 2, 3, 4});
  t.add_output(DType::kInt8);
  t.add_output(DType::kInt8);
  t.set_op(OpCode::kSplit, SplitOptions{2});
  t.run();
  EXPECT_EQ(t.output_shape(1), (Shape{2, 1}));
  EXPECT_EQ(t.output_values<int8_t>(0), (std::vector<int8_t>{1, 2}));
  EXPECT_EQ(t.output_values<int8_t>(1), (std::vector<int8_t>{3, 4}));
}

TEST(LayoutSplit, RejectsUnevenSplit) {
  OpTester t;
  t.add_input<int32_t>({}, {1}, true);
  t.add_input<float>({2, 5}, iota(10));
  t.add_output(DType::kFloat32);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSplit, SplitOptions{2});
  expect_error(t, "does not split evenly");
}

TEST(LayoutSplit, RejectsOutputCountMismatch) {
  OpTester t;
  t.add_input<int32_t>({}, {1}, true);
  t.add_input<float>({2, 4}, iota(8));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSplit, SplitOptions{2});
  expect_error(t, "num_splits is 2 but the op has 1 outputs");
}

TEST(LayoutSplit, RejectsNonConstantAxis) {
  OpTester t;
  t.add_input<int32_t>({}, {1}, false);
  t.add_input<float>({2, 4}, iota(8));
  t.add_output(DType::kFloat32);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSplit, SplitOptions{2});
  expect_error(t, "dynamic shapes are not supported: input 0 is not constant");
}

// ---------------------------------------------------------------- PAD, PADV2

TEST(LayoutPad, AsymmetricFloat) {
  OpTester t;
  t.add_input<float>({2, 2}, {1, 2, 3, 4});
  t.add_input<int32_t>({2, 2}, {1, 0, 0, 2}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPad);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 4}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}));
}

TEST(LayoutPad, FourDimensionalSpatialWithInt64Paddings) {
  OpTester t;
  t.add_input<float>({1, 1, 2, 1}, {5, 6});
  t.add_input<int64_t>({4, 2}, {0, 0, 1, 1, 1, 0, 0, 0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPad);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 3, 3, 1}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{0, 0, 0, 0, 5, 6, 0, 0, 0}));
}

TEST(LayoutPad, QuantizedPadsWithOutputZeroPoint) {
  OpTester t;
  t.add_input<uint8_t>({2}, {1, 2}, false, Quantization{{0.1f}, {128}, 0});
  t.add_input<int32_t>({1, 2}, {2, 1}, true);
  t.add_output(DType::kUInt8, {}, Quantization{{0.1f}, {128}, 0});
  t.set_op(OpCode::kPad);
  t.run();
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{128, 128, 1, 2, 128}));
}

TEST(LayoutPad, Int8ZeroPoint) {
  OpTester t;
  t.add_input<int8_t>({1}, {5}, false, Quantization{{0.1f}, {-3}, 0});
  t.add_input<int32_t>({1, 2}, {1, 1}, true);
  t.add_output(DType::kInt8, {}, Quantization{{0.1f}, {-3}, 0});
  t.set_op(OpCode::kPad);
  t.run();
  EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{-3, 5, -3}));
}

TEST(LayoutPadV2, ConstantValueInput) {
  OpTester t;
  t.add_input<float>({1, 2}, {1, 2});
  t.add_input<int32_t>({2, 2}, {0, 1, 1, 0}, true);
  t.add_input<float>({}, {-9.0f});
  t.add_output(DType::kFloat32);
  t.set_op(kPadV2);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 3}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{-9, 1, 2, -9, -9, -9}));
}

TEST(LayoutPadV2, OmittedValueIsZero) {
  OpTester t;
  t.add_input<int32_t>({2}, {1, 2});
  t.add_input<int32_t>({1, 2}, {1, 0}, true);
  t.add_missing_input();
  t.add_output(DType::kInt32);
  t.set_op(kPadV2);
  t.run();
  EXPECT_EQ(t.output_values<int32_t>(), (std::vector<int32_t>{0, 1, 2}));
}

TEST(LayoutPad, RejectsNegativePadding) {
  OpTester t;
  t.add_input<float>({2}, {1, 2});
  t.add_input<int32_t>({1, 2}, {-1, 0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPad);
  expect_error(t, "negative");
}

TEST(LayoutPad, RejectsPaddingsOfWrongShape) {
  OpTester t;
  t.add_input<float>({2, 2}, iota(4));
  t.add_input<int32_t>({1, 2}, {1, 1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPad);
  expect_error(t, "paddings has shape [1, 2], expected [2, 2]");
}

TEST(LayoutPad, RejectsNonConstantPaddings) {
  OpTester t;
  t.add_input<float>({2}, iota(2));
  t.add_input<int32_t>({1, 2}, {1, 1}, false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPad);
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

// ---------------------------------------------------------------- TRANSPOSE

TEST(LayoutTranspose, NhwcToNchw) {
  // in[0][h][w][c] = h*6 + w*2 + c for a [1, 2, 3, 2] input.
  OpTester t;
  t.add_input<float>({1, 2, 3, 2}, iota(12));
  t.add_input<int32_t>({4}, {0, 3, 1, 2}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTranspose);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 2, 2, 3}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}));
}

TEST(LayoutTranspose, ReversedAxesOf3DInt16) {
  OpTester t;
  t.add_input<int16_t>({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  t.add_input<int32_t>({3}, {2, 1, 0}, true);
  t.add_output(DType::kInt16);
  t.set_op(OpCode::kTranspose);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(t.output_values<int16_t>(), (std::vector<int16_t>{1, 4, 2, 5, 3, 6}));
}

TEST(LayoutTranspose, RejectsBadPerm) {
  struct Case {
    std::vector<int32_t> perm;
    std::string message;
  };
  const std::vector<Case> cases = {{{0, 2, 1}, "perm has 3 entries, expected 4"},
                                   {{0, 1, 2, 4}, "perm entry 4 is out of range"},
                                   {{0, 1, 2, -1}, "perm entry -1 is out of range"},
                                   {{0, 1, 1, 2}, "perm repeats 1"}};
  for (const Case& c : cases) {
    OpTester t;
    t.add_input<float>({1, 2, 3, 2}, iota(12));
    t.add_input<int32_t>({static_cast<int32_t>(c.perm.size())}, c.perm, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kTranspose);
    expect_error(t, c.message);
  }
}

TEST(LayoutTranspose, RejectsNonConstantPerm) {
  OpTester t;
  t.add_input<float>({2, 2}, iota(4));
  t.add_input<int32_t>({2}, {1, 0}, false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTranspose);
  expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
}

// ---------------------------------------------------------------- DEPTH_TO_SPACE

TEST(LayoutDepthToSpace, BlockSizeTwo) {
  // in[0][h][w][d] = (h*2 + w)*4 + d; out[y][x] = in[y/2][x/2][(y%2)*2 + x%2].
  OpTester t;
  t.add_input<float>({1, 2, 2, 4}, iota(16));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{2});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 4, 4, 1}));
  EXPECT_EQ(t.output_values<float>(),
            (std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}));
}

TEST(LayoutDepthToSpace, KeepsChannelRuns) {
  // Two output channels: out[y][x][c] = in[0][0][(y*2 + x)*2 + c].
  OpTester t;
  t.add_input<uint8_t>({1, 1, 1, 8}, {1, 2, 3, 4, 5, 6, 7, 8});
  t.add_output(DType::kUInt8);
  t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{2});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(LayoutDepthToSpace, BatchesRowsAndBlockThree) {
  // [2, 2, 3, 18] -> [2, 6, 9, 2], against the definition element by element.
  const int n = 2, h = 2, w = 3, bs = 3, depth = 2, c = bs * bs * depth;
  OpTester t;
  t.add_input<int16_t>({n, h, w, c}, [&] {
    std::vector<int16_t> v(static_cast<size_t>(n * h * w * c));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int16_t>(i * 7 - 500);
    return v;
  }());
  t.add_output(DType::kInt16);
  t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{bs});
  t.run();
  ASSERT_EQ(t.output_shape(), (Shape{n, h * bs, w * bs, depth}));
  const std::vector<int16_t> out = t.output_values<int16_t>();
  size_t i = 0;
  for (int b = 0; b < n; ++b) {
    for (int y = 0; y < h * bs; ++y) {
      for (int x = 0; x < w * bs; ++x) {
        for (int d = 0; d < depth; ++d, ++i) {
          const int from = ((b * h + y / bs) * w + x / bs) * c + ((y % bs) * bs + x % bs) * depth + d;
          ASSERT_EQ(out[i], static_cast<int16_t>(from * 7 - 500))
              << "at " << b << "," << y << "," << x << "," << d;
        }
      }
    }
  }
}

TEST(LayoutDepthToSpace, RejectsDepthNotDivisible) {
  OpTester t;
  t.add_input<float>({1, 1, 1, 6}, iota(6));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{2});
  expect_error(t, "depth 6 is not a multiple of block_size^2 = 4");
}

TEST(LayoutDepthToSpace, RejectsBadBlockSize) {
  OpTester t;
  t.add_input<float>({1, 1, 1, 4}, iota(4));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{0});
  expect_error(t, "block_size 0");
}

// ---------------------------------------------------------------- GATHER

TEST(LayoutGather, RowsAlongAxisZero) {
  OpTester t;
  t.add_input<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  t.add_input<int32_t>({2}, {2, 0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kGather, GatherOptions{0, 0});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{5, 6, 1, 2}));
}

TEST(LayoutGather, NegativeAxisAndMatrixIndices) {
  OpTester t;
  t.add_input<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  t.add_input<int64_t>({2, 2}, {2, 0, 1, 1}, true);
  t.add_output(DType::kInt32);
  t.set_op(OpCode::kGather, GatherOptions{-1, 0});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(t.output_values<int32_t>(), (std::vector<int32_t>{3, 1, 2, 2, 6, 4, 5, 5}));
}

TEST(LayoutGather, BatchDims) {
  // out[b][k] = in[b][indices[b][k]]
  OpTester t;
  t.add_input<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  t.add_input<int32_t>({2, 2}, {2, 0, 1, 1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kGather, GatherOptions{1, 1});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{3, 1, 5, 5}));
}

TEST(LayoutGather, ComputedIndicesOutOfRangeGiveZeros) {
  OpTester t;
  t.add_input<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  t.add_input<int32_t>({3}, {1, 3, -1}, /*constant=*/false);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kGather, GatherOptions{0, 0});
  t.run();
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{3, 4, 0, 0, 0, 0}));
}

TEST(LayoutGather, RejectsConstantIndexOutOfRange) {
  OpTester t;
  t.add_input<float>({3, 2}, iota(6));
  t.add_input<int32_t>({1}, {3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kGather, GatherOptions{0, 0});
  expect_error(t, "index 3 is out of range for dimension 0 of size 3");
}

TEST(LayoutGather, RejectsFloatIndicesAndBadAxis) {
  {
    OpTester t;
    t.add_input<float>({3}, iota(3));
    t.add_input<float>({1}, {0}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kGather, GatherOptions{0, 0});
    EXPECT_THROW(t.run(), Error);
  }
  {
    OpTester t;
    t.add_input<float>({3}, iota(3));
    t.add_input<int32_t>({1}, {0}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kGather, GatherOptions{1, 0});
    EXPECT_THROW(t.run(), Error);
  }
}

// Copy kernels move bytes, so bool tensors work too.
TEST(LayoutTranspose, BoolData) {
  OpTester t;
  t.add_raw_input(DType::kBool, {2, 2}, {1, 1, 0, 0}, false);
  t.add_input<int32_t>({2}, {1, 0}, true);
  t.add_output(DType::kBool);
  t.set_op(OpCode::kTranspose);
  t.run();
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 0}));
}

TEST(LayoutReshape, BoolData) {
  OpTester t;
  t.add_raw_input(DType::kBool, {2, 2}, {1, 0, 1, 1}, false);
  t.add_output(DType::kBool);
  t.set_op(OpCode::kReshape, ReshapeOptions{true, {4}});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{4}));
  EXPECT_EQ(t.output_values<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 1}));
}

}  // namespace
}  // namespace osprey
