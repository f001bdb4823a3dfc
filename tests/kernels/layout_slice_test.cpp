// Reference STRIDED_SLICE: every mask, negative indices and strides, clamping,
// the offset option, and rejected models. Expected values are worked out by hand
// from TFLite's StridedSliceStartForAxis / EndForAxis rules.
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

using testing::iota;
using testing::OpTester;

struct Spec {
  std::vector<int32_t> begin, end, strides;
  StridedSliceOptions options{};
};

void set_up(OpTester& t, const Shape& shape, const std::vector<float>& values, const Spec& s) {
  const int32_t n = static_cast<int32_t>(s.begin.size());
  t.add_input<float>(shape, values);
  t.add_input<int32_t>({n}, s.begin, true);
  t.add_input<int32_t>({static_cast<int32_t>(s.end.size())}, s.end, true);
  t.add_input<int32_t>({static_cast<int32_t>(s.strides.size())}, s.strides, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kStridedSlice, s.options);
}

void expect_slice(const Shape& shape, const std::vector<float>& values, const Spec& s, const Shape& out_shape,
                  const std::vector<float>& expected) {
  OpTester t;
  set_up(t, shape, values, s);
  t.run();
  EXPECT_EQ(t.output_shape(), out_shape);
  // (OpTester::output_values of an empty output would memcpy to a null pointer.)
  if (expected.empty()) {
    EXPECT_EQ(t.output(0).num_elements(), 0);
  } else {
    EXPECT_EQ(t.output_values<float>(), expected);
  }
}

void expect_slice_error(const Shape& shape, const Spec& s, const std::string& needle) {
  OpTester t;
  set_up(t, shape, iota(static_cast<int>(num_elements(shape)), 1.0f), s);
  try {
    t.run();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const std::vector<float> k1D = {1, 2, 3, 4};
const std::vector<float> k2D = {1, 2, 3, 4, 5, 6};  // [[1, 2, 3], [4, 5, 6]]

TEST(LayoutStridedSlice, OneDimensionalRanges) {
  expect_slice({4}, k1D, {{1}, {3}, {1}}, {2}, {2, 3});
  expect_slice({4}, k1D, {{-3}, {3}, {1}}, {2}, {2, 3});     // negative begin
  expect_slice({4}, k1D, {{-5}, {3}, {1}}, {3}, {1, 2, 3});  // begin clamped to 0
  expect_slice({4}, k1D, {{1}, {-2}, {1}}, {1}, {2});        // negative end
  expect_slice({4}, k1D, {{1}, {9}, {1}}, {3}, {2, 3, 4});   // end clamped to the size
  expect_slice({4}, k1D, {{3}, {1}, {1}}, {0}, {});          // empty
  expect_slice({4}, k1D, {{0}, {4}, {2}}, {2}, {1, 3});
  expect_slice({4}, k1D, {{0}, {4}, {3}}, {2}, {1, 4});
}

TEST(LayoutStridedSlice, NegativeStrides) {
  expect_slice({4}, k1D, {{-1}, {-4}, {-1}}, {3}, {4, 3, 2});
  expect_slice({4}, k1D, {{3}, {0}, {-2}}, {2}, {4, 2});
  expect_slice({4}, k1D, {{2}, {-5}, {-1}}, {3}, {3, 2, 1});  // end clamped to -1: runs through 0
  expect_slice({4}, k1D, {{7}, {1}, {-1}}, {2}, {4, 3});      // begin clamped to size - 1
  expect_slice({4}, k1D, {{1}, {2}, {-1}}, {0}, {});
}

TEST(LayoutStridedSlice, BeginAndEndMasks) {
  expect_slice({4}, k1D, {{1}, {3}, {1}, {.begin_mask = 1}}, {3}, {1, 2, 3});
  expect_slice({4}, k1D, {{1}, {3}, {1}, {.end_mask = 1}}, {3}, {2, 3, 4});
  expect_slice({4}, k1D, {{2}, {2}, {1}, {.begin_mask = 1, .end_mask = 1}}, {4}, {1, 2, 3, 4});
  // With a negative stride the masks mean "from the last" and "through the first".
  expect_slice({4}, k1D, {{0}, {1}, {-1}, {.begin_mask = 1}}, {2}, {4, 3});
  expect_slice({4}, k1D, {{2}, {3}, {-1}, {.end_mask = 1}}, {3}, {3, 2, 1});
  // Masks apply per dimension.
  expect_slice({2, 3}, k2D, {{1, 1}, {2, 2}, {1, 1}, {.begin_mask = 2}}, {1, 2}, {4, 5});
  expect_slice({2, 3}, k2D, {{1, 1}, {2, 2}, {1, 1}, {.end_mask = 2}}, {1, 2}, {5, 6});
}

TEST(LayoutStridedSlice, TwoDimensional) {
  expect_slice({2, 3}, k2D, {{1, 0}, {2, 2}, {1, 1}}, {1, 2}, {4, 5});
  expect_slice({2, 3}, k2D, {{-1, -1}, {-3, -4}, {-1, -1}}, {2, 3}, {6, 5, 4, 3, 2, 1});
  expect_slice({2, 3}, k2D, {{0, 0}, {2, 3}, {1, 2}}, {2, 2}, {1, 3, 4, 6});
  // Dimensions past the spec are taken whole.
  expect_slice({2, 3}, k2D, {{1}, {2}, {1}}, {1, 3}, {4, 5, 6});
}

TEST(LayoutStridedSlice, ShrinkAxis) {
  expect_slice({2, 3}, k2D, {{1, 0}, {2, 3}, {1, 1}, {.shrink_axis_mask = 1}}, {3}, {4, 5, 6});
  // The end of a shrunk axis does not matter, even when it is "before" a negative begin.
  expect_slice({2, 3}, k2D, {{-1, 0}, {0, 3}, {1, 1}, {.shrink_axis_mask = 1}}, {3}, {4, 5, 6});
  expect_slice({2, 3}, k2D, {{0, -1}, {2, 0}, {1, 1}, {.shrink_axis_mask = 2}}, {2}, {3, 6});
  expect_slice({2, 3}, k2D, {{1, 2}, {2, 3}, {1, 1}, {.shrink_axis_mask = 3}}, {}, {6});
  expect_slice({4}, k1D, {{2}, {0}, {1}, {.shrink_axis_mask = 1}}, {}, {3});
}

TEST(LayoutStridedSlice, Ellipsis) {
  // x[..., 1:2] on [2, 3, 2]: the ellipsis stands for the first two dimensions.
  const std::vector<float> values = iota(12, 1.0f);
  expect_slice({2, 3, 2}, values, {{0, 1}, {0, 2}, {1, 1}, {.ellipsis_mask = 1}}, {2, 3, 1},
               {2, 4, 6, 8, 10, 12});
  // x[0:1, ..., 1:2]: here it stands for one dimension.
  expect_slice({2, 3, 2}, values, {{0, 0, 1}, {1, 0, 2}, {1, 1, 1}, {.ellipsis_mask = 2}}, {1, 3, 1},
               {2, 4, 6});
  // x[..., 1] shrinks the last dimension.
  expect_slice({2, 3, 2}, values, {{0, 1}, {0, 2}, {1, 1}, {.ellipsis_mask = 1, .shrink_axis_mask = 2}},
               {2, 3}, {2, 4, 6, 8, 10, 12});
}

TEST(LayoutStridedSlice, NewAxis) {
  // x[0:1, newaxis] on [2, 3]
  expect_slice({2, 3}, k2D, {{0, 0}, {1, 0}, {1, 1}, {.new_axis_mask = 2}}, {1, 1, 3}, {1, 2, 3});
  // x[newaxis, 0:2]
  expect_slice({2, 3}, k2D, {{0, 0}, {0, 2}, {1, 1}, {.new_axis_mask = 1}}, {1, 2, 3}, k2D);
  // x[1, newaxis]: shrink, then a new axis before the untouched last dimension.
  expect_slice({2, 3}, k2D, {{1, 0}, {2, 0}, {1, 1}, {.new_axis_mask = 2, .shrink_axis_mask = 1}}, {1, 3},
               {4, 5, 6});
  // A new-axis bit on the ellipsis entry is ignored.
  expect_slice({2, 3}, k2D, {{0, 1}, {0, 2}, {1, 1}, {.ellipsis_mask = 1, .new_axis_mask = 1}}, {2, 1},
               {2, 5});
}

TEST(LayoutStridedSlice, Offset) {
  // With `offset`, end is a length counted from the (clamped) begin.
  const std::vector<float> values = {1, 2, 3, 4, 5};
  expect_slice({5}, values, {{1}, {2}, {1}, {.offset = true}}, {2}, {2, 3});
  expect_slice({5}, values, {{-2}, {2}, {1}, {.offset = true}}, {2}, {4, 5});
  expect_slice({5}, values, {{3}, {5}, {1}, {.offset = true}}, {2}, {4, 5});
  expect_slice({5}, values, {{0}, {5}, {2}, {.offset = true}}, {3}, {1, 3, 5});
}

TEST(LayoutStridedSlice, FiveDimensions) {
  const std::vector<float> values = iota(32, 0.0f);  // [2, 2, 2, 2, 2]: value = binary index
  expect_slice({2, 2, 2, 2, 2}, values, {{1, 0, 1, 0, 1}, {2, 2, 2, 2, 2}, {1, 1, 1, 2, 1}}, {1, 2, 1, 1, 1},
               {21, 29});
}

TEST(LayoutStridedSlice, Int8Data) {
  OpTester t;
  t.add_input<int8_t>({4}, {-1, -2, -3, -4});
  t.add_input<int32_t>({1}, {-1}, true);
  t.add_input<int32_t>({1}, {0}, true);
  t.add_input<int32_t>({1}, {-2}, true);
  t.add_output(DType::kInt8);
  t.set_op(OpCode::kStridedSlice, StridedSliceOptions{});
  t.run();
  EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{-4, -2}));
}

TEST(LayoutStridedSlice, RejectsBadSpecs) {
  expect_slice_error({4}, {{0}, {4}, {0}}, "stride of dimension 0 is zero");
  expect_slice_error({4}, {{4}, {5}, {1}, {.shrink_axis_mask = 1}}, "index 4 is out of range");
  expect_slice_error({4}, {{1}, {0}, {-1}, {.shrink_axis_mask = 1}}, "negative stride");
  expect_slice_error({4}, {{0, 0}, {1, 1}, {1, 1}}, "begin has 2 entries for 1 dimensions");
  expect_slice_error({4}, {{0}, {1, 1}, {1}}, "begin, end and strides have 1, 2 and 1 entries");
  expect_slice_error({1, 1, 1, 1, 1}, {{0}, {1}, {1}, {.new_axis_mask = 1}}, "at most 5");
  expect_slice_error({1, 1, 1, 1, 1, 1}, {{0}, {1}, {1}}, "rank 6");
  expect_slice_error({2, 2}, {{0, 0}, {1, 1}, {1, 1}, {.ellipsis_mask = 3}}, "more than one bit");
}

TEST(LayoutStridedSlice, RejectsNonConstantIndices) {
  for (int dynamic = 1; dynamic <= 3; ++dynamic) {
    OpTester t;
    t.add_input<float>({4}, k1D);
    for (int i = 1; i <= 3; ++i) t.add_input<int32_t>({1}, {i == 3 ? 1 : i - 1}, i != dynamic);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kStridedSlice, StridedSliceOptions{});
    try {
      t.run();
      ADD_FAILURE() << "input " << dynamic << " is not constant";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "dynamic shapes are not supported: input " + std::to_string(dynamic) + " is not constant");
    }
  }
}

TEST(LayoutStridedSlice, RejectsInt64Indices) {
  OpTester t;
  t.add_input<float>({4}, k1D);
  t.add_input<int64_t>({1}, {0}, true);
  t.add_input<int64_t>({1}, {1}, true);
  t.add_input<int64_t>({1}, {1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kStridedSlice, StridedSliceOptions{});
  EXPECT_THROW(t.run(), Error);
}

}  // namespace
}  // namespace osprey
