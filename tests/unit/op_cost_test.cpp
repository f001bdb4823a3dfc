// What `inspect`, the profiler and the fuzzer's work bound count as an op's
// multiply-accumulates (runtime/op_cost.h): pools read their window, clipped
// to the input, once per output element.
#include <gtest/gtest.h>

#include "runtime/op_cost.h"

namespace osprey {
namespace {

// MACs of one MAX_POOL_2D over `input` into `output` with a square window and stride.
int64_t pool_macs(Shape input, Shape output, int filter, int stride) {
  Graph g;
  g.tensors.resize(2);
  g.tensors[0].shape = std::move(input);
  g.tensors[1].shape = std::move(output);
  Op op;
  op.code = static_cast<int32_t>(OpCode::kMaxPool2D);
  op.inputs = {0};
  op.outputs = {1};
  Pool2DOptions o;
  o.filter_h = o.filter_w = filter;
  o.stride_h = o.stride_w = stride;
  op.options = o;
  return op_macs(g, op);
}

TEST(OpCost, PoolsCountTheirWindowOncePerOutput) {
  // 2x2 at stride 2: every input element once.
  EXPECT_EQ(pool_macs({1, 8, 8, 16}, {1, 4, 4, 16}, 2, 2), 8 * 8 * 16);
  // Overlapping 3x3 windows at stride 1: 9 reads an output.
  EXPECT_EQ(pool_macs({1, 6, 7, 2}, {1, 6, 7, 2}, 3, 1), 6 * 7 * 2 * 9);
  // A window larger than the input reads the whole input for each output.
  EXPECT_EQ(pool_macs({1, 5, 4, 3}, {1, 5, 4, 3}, 40000, 1), int64_t{5} * 4 * 3 * 5 * 4);
  // Hostile sizes saturate instead of overflowing.
  EXPECT_EQ(pool_macs({1, 1 << 30, 1 << 30, 1}, {1, 1 << 30, 1 << 30, 1}, 1 << 30, 1), int64_t{1} << 62);
}

}  // namespace
}  // namespace osprey
