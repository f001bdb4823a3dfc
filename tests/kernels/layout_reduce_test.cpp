// Reference MEAN, SUM and REDUCE_MAX over constant axes: hand-computed cases and
// rejected models. (tests/ops/sum_litert.mjs checks integer SUM against LiteRT.)
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using testing::expect_error;
using testing::OpTester;

constexpr OpCode kSum = static_cast<OpCode>(74);
constexpr OpCode kReduceMax = static_cast<OpCode>(82);

// [1, 2, 2, 2] NHWC image with values 1..8: channel 0 is 1 3 5 7, channel 1 is 2 4 6 8.
const std::vector<float> kImage = {1, 2, 3, 4, 5, 6, 7, 8};

template <typename T>
OpTester reduce(OpCode op, const Shape& shape, const std::vector<T>& values, const std::vector<int32_t>& axes,
                bool keep_dims, Quantization quant = {}) {
  OpTester t;
  t.add_input<T>(shape, values, false, quant);
  t.add_input<int32_t>({static_cast<int32_t>(axes.size())}, axes, true);
  t.add_output(dtype_of<T>(), {}, quant);
  t.set_op(op, ReducerOptions{keep_dims});
  t.run();
  return t;
}

TEST(LayoutMean, SpatialAxesKeepDims) {
  const OpTester t = reduce<float>(OpCode::kMean, {1, 2, 2, 2}, kImage, {1, 2}, true);
  EXPECT_EQ(t.output_shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{4, 5}));
}

TEST(LayoutMean, SpatialAxesDropDims) {
  const OpTester t = reduce<float>(OpCode::kMean, {1, 2, 2, 2}, kImage, {1, 2}, false);
  EXPECT_EQ(t.output_shape(), (Shape{1, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{4, 5}));
}

TEST(LayoutMean, NegativeAndRepeatedAxes) {
  // -1 and 3 are the same axis, which is reduced once.
  const OpTester t = reduce<float>(OpCode::kMean, {1, 2, 2, 2}, kImage, {-1, 3}, false);
  EXPECT_EQ(t.output_shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1.5, 3.5, 5.5, 7.5}));
}

TEST(LayoutMean, OuterAxisOf3D) {
  // [2, 2, 3]: mean over axis 0 of values 0..11 is (v + v + 6) / 2 = v + 3.
  std::vector<float> values(12);
  std::iota(values.begin(), values.end(), 0.0f);
  const OpTester t = reduce<float>(OpCode::kMean, {2, 2, 3}, values, {0}, false);
  EXPECT_EQ(t.output_shape(), (Shape{2, 3}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{3, 4, 5, 6, 7, 8}));
}

TEST(LayoutMean, AllAxesGiveAScalar) {
  const OpTester t = reduce<float>(OpCode::kMean, {1, 2, 2, 2}, kImage, {0, 1, 2, 3}, false);
  EXPECT_EQ(t.output_shape(), Shape{});
  EXPECT_EQ(t.output_values<float>(), std::vector<float>{4.5f});
}

TEST(LayoutMean, NoAxesCopies) {
  OpTester t;
  t.add_input<float>({2}, {1, 2});
  t.add_input<int32_t>({0}, {0}, true);  // (a value only so the vector has data)
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kMean, ReducerOptions{false});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1, 2}));
}

TEST(LayoutMean, EmptyReductionIsZero) {
  OpTester t;
  t.add_input<float>({0, 2}, {0.0f});
  t.add_input<int32_t>({1}, {0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kMean, ReducerOptions{false});
  t.run();
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{0, 0}));
}

TEST(LayoutMean, Int64Axes) {
  OpTester t;
  t.add_input<float>({2, 2}, {1, 2, 3, 4});
  t.add_input<int64_t>({1}, {1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kMean, ReducerOptions{true});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{2, 1}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{1.5, 3.5}));
}

TEST(LayoutMean, RejectsBadAxesAndTypes) {
  {
    OpTester t;
    t.add_input<float>({2, 2}, {1, 2, 3, 4});
    t.add_input<int32_t>({1}, {2}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kMean, ReducerOptions{false});
    expect_error(t, "axis 2 is out of range for rank 2");
  }
  {
    OpTester t;
    t.add_input<float>({2, 2}, {1, 2, 3, 4});
    t.add_input<int32_t>({1}, {1}, false);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kMean, ReducerOptions{false});
    expect_error(t, "dynamic shapes are not supported: input 1 is not constant");
  }
  {
    // (Integer MEAN of int8/uint8 goes to the quantized kernels; int32 reaches this one.)
    OpTester t;
    t.add_input<int32_t>({2}, {1, 2});
    t.add_input<int32_t>({1}, {0}, true);
    t.add_output(DType::kInt32);
    t.set_op(OpCode::kMean, ReducerOptions{false});
    expect_error(t, "int32 input is not supported");
  }
}

TEST(LayoutSum, SpatialAxes) {
  const OpTester t = reduce<float>(kSum, {1, 2, 2, 2}, kImage, {1, 2}, true);
  EXPECT_EQ(t.output_shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{16, 20}));
}

TEST(LayoutSum, Int8RescalesTheSum) {
  // Real sums (q - zp) * 0.5 per channel: (16 + 4) * 0.5 = 10 and (20 + 4) * 0.5 = 12, then + 3.
  OpTester q;
  q.add_input<int8_t>({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, false, Quantization{{0.5f}, {-1}, 0});
  q.add_input<int32_t>({2}, {1, 2}, true);
  q.add_output(DType::kInt8, {}, Quantization{{1.0f}, {3}, 0});
  q.set_op(kSum, ReducerOptions{false});
  q.run();
  EXPECT_EQ(q.output_shape(), (Shape{1, 2}));
  EXPECT_EQ(q.output_values<int8_t>(), (std::vector<int8_t>{13, 15}));
}

// Sums of 0.5 and 1.5 output steps: LiteRT (XNNPACK) rounds half to even,
// TFLite's own kernel half away from zero.
TEST(LayoutSum, TiesByArithmetic) {
  const auto sum = [](quant_test::Arithmetic a) {
    quant_test::ArithmeticScope scope(a);
    OpTester t;
    t.add_input<uint8_t>({1, 2, 2, 2}, {1, 3, 0, 0, 0, 0, 0, 0}, false, Quantization{{0.5f}, {0}, 0});
    t.add_input<int32_t>({2}, {1, 2}, true);
    t.add_output(DType::kUInt8, {}, Quantization{{1.0f}, {0}, 0});
    t.set_op(kSum, ReducerOptions{true});
    t.run();
    return t.output_values<uint8_t>();
  };
  EXPECT_EQ(sum(quant_test::Arithmetic::kLiteRT), (std::vector<uint8_t>{0, 2}));
  EXPECT_EQ(sum(quant_test::Arithmetic::kTfliteDouble), (std::vector<uint8_t>{1, 2}));
}

TEST(LayoutSum, SaturatesTheStorageType) {
  const Quantization same{{1.0f}, {0}, 0};
  EXPECT_EQ(reduce<int8_t>(kSum, {2, 3}, {127, 100, -128, 127, 100, -128}, {0}, false, same)
                .output_values<int8_t>(),
            (std::vector<int8_t>{127, 127, -128}));
  EXPECT_EQ(reduce<uint8_t>(kSum, {4}, {200, 100, 0, 1}, {0}, false, same).output_values<uint8_t>(),
            std::vector<uint8_t>{255});
}

TEST(LayoutReduceMax, FloatAndInt8) {
  const OpTester f = reduce<float>(kReduceMax, {2, 3}, {1, -5, 3, -1, -2, -3}, {1}, false);
  EXPECT_EQ(f.output_values<float>(), (std::vector<float>{3, -1}));
  const OpTester q =
      reduce<int8_t>(kReduceMax, {2, 3}, {1, -5, 3, -1, -2, -3}, {0}, true, Quantization{{0.1f}, {-2}, 0});
  EXPECT_EQ(q.output_shape(), (Shape{1, 3}));
  EXPECT_EQ(q.output_values<int8_t>(), (std::vector<int8_t>{1, -2, 3}));
}

TEST(LayoutReduceMax, EmptyReductionIsLowest) {
  OpTester t;
  t.add_input<float>({0}, {0.0f});
  t.add_input<int32_t>({1}, {0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(kReduceMax, ReducerOptions{false});
  t.run();
  EXPECT_EQ(t.output_values<float>(), std::vector<float>{std::numeric_limits<float>::lowest()});
}

TEST(LayoutReduceMax, RejectsRequantization) {
  OpTester t;
  t.add_input<int8_t>({2}, {1, 2}, false, Quantization{{0.1f}, {0}, 0});
  t.add_input<int32_t>({1}, {0}, true);
  t.add_output(DType::kInt8, {}, Quantization{{0.2f}, {0}, 0});
  t.set_op(kReduceMax, ReducerOptions{false});
  expect_error(t, "quantized differently");
}

}  // namespace
}  // namespace osprey
