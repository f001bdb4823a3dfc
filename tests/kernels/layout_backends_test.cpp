// Single ops on every backend against the reference kernels, through the
// Interpreter on small .tflite models (check_model): PAD, PADV2, RESHAPE
// between ops, RESIZE_BILINEAR and DEPTH_TO_SPACE.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/op_tester.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;
using namespace osprey::testing;

// ---------------------------------------------------------------------------
// Layout.

TEST(XnnpackOps, PadAndPadV2) {
  ModelBuilder m;
  const int in = m.activation({1, 5, 6, 3});
  const int pads = m.int_constant({4, 2}, {0, 0, 1, 2, 3, 0, 0, 1});
  const int out = m.activation({1, 8, 9, 4});
  m.op(tfl::BuiltinOperator::PAD, {in, pads}, {out});
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise);

  ModelBuilder v2;
  const int in2 = v2.activation({2, 3, 4});
  const int pads2 = v2.int_constant({3, 2}, {1, 0, 0, 2, 2, 1});
  const int value = v2.constant({}, {-0.75f});
  const int out2 = v2.activation({3, 5, 7});
  v2.op(tfl::BuiltinOperator::PADV2, {in2, pads2, value}, {out2});
  v2.output(out2);
  check_model(v2.finish(), Tolerance::kElementwise);
}

TEST(XnnpackOps, ReshapeBetweenOps) {
  // conv -> reshape -> fully connected, one XNNPACK run.
  ModelBuilder m;
  const int in = m.activation({1, 4, 4, 3});
  const int conv = m.activation({1, 4, 4, 5});
  m.op(tfl::BuiltinOperator::CONV_2D, {in, m.random_constant({5, 3, 3, 3}), m.random_constant({5})}, {conv},
       [](fb& b) {
         return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                               tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
       });
  const int flat = m.activation({1, 80});
  m.op(tfl::BuiltinOperator::RESHAPE, {conv, m.int_constant({2}, {1, 80})}, {flat});
  const int fc = m.activation({1, 6});
  m.op(tfl::BuiltinOperator::FULLY_CONNECTED, {flat, m.random_constant({6, 80})}, {fc});
  const int squeezed = m.activation({6});
  m.op(tfl::BuiltinOperator::SQUEEZE, {fc}, {squeezed});
  m.output(squeezed);
  check_model(m.finish(), Tolerance::kAccumulated);
}

TEST(XnnpackOps, ResizeBilinear) {
  struct Case {
    std::vector<int32_t> input;
    int32_t h, w;
    bool align_corners, half_pixel;
  };
  for (const Case& c : std::vector<Case>{{{1, 4, 5, 3}, 8, 10, false, false},
                                         {{1, 4, 5, 3}, 8, 10, false, true},
                                         {{1, 4, 5, 3}, 8, 10, true, false},
                                         {{1, 5, 7, 2}, 7, 3, false, true},
                                         {{2, 5, 7, 2}, 9, 11, true, false},
                                         {{1, 6, 6, 2}, 4, 5, false, false}}) {
    ModelBuilder m;
    const int in = m.activation(c.input);
    const int size = m.int_constant({2}, {c.h, c.w});
    const int out = m.activation({c.input[0], c.h, c.w, c.input[3]});
    m.op(tfl::BuiltinOperator::RESIZE_BILINEAR, {in, size}, {out}, [c](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::ResizeBilinearOptions,
                            tfl::CreateResizeBilinearOptions(b, c.align_corners, c.half_pixel).Union());
    });
    m.output(out);
    SCOPED_TRACE(fmt::format("{} -> {}x{} align_corners {} half_pixel {}", fmt::join(c.input, "x"), c.h, c.w,
                             c.align_corners, c.half_pixel));
    check_model(m.finish(), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, DepthToSpace) {
  ModelBuilder m;
  const int in = m.activation({1, 3, 4, 12});
  const int out = m.activation({1, 6, 8, 3});
  m.op(tfl::BuiltinOperator::DEPTH_TO_SPACE, {in}, {out}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::DepthToSpaceOptions,
                          tfl::CreateDepthToSpaceOptions(b, 2).Union());
  });
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise);
}

}  // namespace
}  // namespace osprey
