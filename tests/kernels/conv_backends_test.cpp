// Single ops on every backend against the reference kernels, through the
// Interpreter on small .tflite models (check_model): convolutions with odd
// sizes, SAME/VALID padding, strides, dilations, groups, depth multipliers,
// fused activations; osprey's own AVX-512 depthwise and sparse 1x1 kernels on
// the cases that reach them; and the cases a backend cannot express exactly,
// which must stay on the reference kernels and still give their answer.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "backends/avx512/depthwise_conv.h"
#include "backends/avx512/sparse_conv.h"
#include "kernels/op_tester.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;
using namespace osprey::testing;

// ---------------------------------------------------------------------------
// Convolutions.

struct ConvCase {
  std::vector<int32_t> input;  // NHWC
  int cout, kh, kw;
  tfl::Padding padding;
  int stride_h, stride_w, dilation_h = 1, dilation_w = 1;
  tfl::ActivationFunctionType activation = tfl::ActivationFunctionType::NONE;
  bool bias = true;
  int groups = 1;
};

std::vector<uint8_t> conv_model(const ConvCase& c) {
  ModelBuilder m;
  const int in = m.activation(c.input);
  const int w = m.random_constant({c.cout, c.kh, c.kw, c.input[3] / c.groups});
  std::vector<int32_t> inputs{in, w};
  if (c.bias) inputs.push_back(m.random_constant({c.cout}));
  const int out = m.activation({1, 1, 1, c.cout});  // shape comes from prepare
  m.op(tfl::BuiltinOperator::CONV_2D, inputs, {out}, [c](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, c.padding, c.stride_w, c.stride_h, c.activation,
                                                   c.dilation_w, c.dilation_h)
                              .Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, ConvSameAndValidOddSizes) {
  using P = tfl::Padding;
  for (const ConvCase& c : std::vector<ConvCase>{
           {{1, 7, 9, 3}, 5, 3, 3, P::SAME, 1, 1},
           {{1, 7, 9, 3}, 5, 3, 3, P::VALID, 1, 1},
           {{1, 7, 9, 3}, 4, 3, 3, P::SAME, 2, 2},
           {{1, 8, 8, 3}, 4, 3, 3, P::SAME, 2, 2},
           {{1, 7, 9, 3}, 4, 3, 3, P::VALID, 2, 2},
           {{1, 11, 6, 2}, 3, 5, 2, P::SAME, 2, 1},
           {{1, 11, 6, 2}, 3, 2, 5, P::VALID, 1, 3},
           {{2, 5, 5, 4}, 6, 1, 1, P::VALID, 1, 1},
           {{1, 13, 13, 17}, 19, 3, 3, P::SAME, 1, 1},
           {{1, 12, 10, 3}, 4, 3, 3, P::SAME, 1, 1, 2, 2},
           {{1, 12, 10, 3}, 4, 3, 2, P::VALID, 1, 1, 2, 3},
       }) {
    SCOPED_TRACE(fmt::format("input {} filter {}x{}x{} stride {}x{} dilation {}x{} {}",
                             fmt::join(c.input, "x"), c.cout, c.kh, c.kw, c.stride_h, c.stride_w,
                             c.dilation_h, c.dilation_w, c.padding == P::SAME ? "SAME" : "VALID"));
    check_model(conv_model(c), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, ConvActivationsBiasAndGroups) {
  using A = tfl::ActivationFunctionType;
  for (A a : {A::RELU, A::RELU6, A::RELU_N1_TO_1}) {
    check_model(conv_model({{1, 6, 6, 4}, 8, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, a}),
                Tolerance::kAccumulated);
  }
  check_model(conv_model({{1, 6, 6, 4}, 8, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, A::NONE, false}),
              Tolerance::kAccumulated);
  // Grouped: 8 input channels in 2 groups of 4, 6 filters.
  check_model(conv_model({{1, 6, 7, 8}, 6, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, A::NONE, true, 2}),
              Tolerance::kAccumulated);
}

TEST(XnnpackOps, SparseOneByOneConv) {
  // 1x1 convolutions with mostly-zero weights run on osprey's sparse kernel
  // (where the CPU has AVX-512): channel counts around the 16-lane blocks,
  // pixel counts around the 32-pixel tiles.
  struct Case {
    std::vector<int32_t> input;
    int cout;
    double zeros;
    bool bias;
    tfl::ActivationFunctionType activation;
  };
  using A = tfl::ActivationFunctionType;
  for (const Case& c : std::vector<Case>{{{1, 7, 7, 40}, 24, 0.75, true, A::NONE},
                                         {{1, 1, 5, 17}, 33, 0.6, false, A::RELU6},
                                         {{2, 3, 5, 64}, 16, 0.75, true, A::RELU},
                                         {{1, 8, 4, 3}, 5, 0.7, true, A::NONE},
                                         {{1, 9, 9, 130}, 70, 0.9, true, A::RELU_N1_TO_1},
                                         {{1, 4, 4, 32}, 32, 1.0, true, A::NONE}}) {
    ModelBuilder m;
    const int in = m.activation(c.input);
    std::vector<int32_t> inputs{in, m.sparse_constant({c.cout, 1, 1, c.input[3]}, c.zeros)};
    if (c.bias) inputs.push_back(m.random_constant({c.cout}));
    const int out = m.activation({1, 1, 1, c.cout});
    m.op(tfl::BuiltinOperator::CONV_2D, inputs, {out}, [c](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                            tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1, c.activation).Union());
    });
    m.output(out);
    const std::vector<uint8_t> bytes = m.finish();
    SCOPED_TRACE(fmt::format("input {} cout {} zeros {}", fmt::join(c.input, "x"), c.cout, c.zeros));
    if (sparse_conv_supported()) {
      TestBackend backend = make_test_backend(kOspreyAvx512, 1);
      auto xnn = Interpreter::from_buffer(bytes, "sparse", backend.options);
      ASSERT_EQ(xnn->plan_info().size(), 1u);
      EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY-SPARSE(CONV_2D #0)");
    }
    check_model(bytes, Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, ConvWithComputedFilterStaysOnReference) {
  // XNNPACK packs filters when the model loads: one computed at run time cannot go.
  ModelBuilder m;
  const int in = m.activation({1, 5, 5, 2});
  const int filter = m.activation({3, 3, 3, 2});
  const int out = m.activation({1, 5, 5, 3});
  m.op(tfl::BuiltinOperator::CONV_2D, {in, filter}, {out}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
  });
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise, Expect::kReference);
}

struct DepthwiseCase {
  std::vector<int32_t> input;
  int multiplier, kh, kw;
  tfl::Padding padding;
  int stride_h, stride_w, dilation = 1;
  bool bias = true;
};

std::vector<uint8_t> depthwise_model(const DepthwiseCase& c) {
  ModelBuilder m;
  const int in = m.activation(c.input);
  const int cout = c.input[3] * c.multiplier;
  const int w = m.random_constant({1, c.kh, c.kw, cout});
  std::vector<int32_t> inputs{in, w};
  if (c.bias) inputs.push_back(m.random_constant({cout}));
  const int out = m.activation({1, 1, 1, cout});
  m.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, inputs, {out}, [c](fb& b) {
    return std::make_pair(
        tfl::BuiltinOptions::DepthwiseConv2DOptions,
        tfl::CreateDepthwiseConv2DOptions(b, c.padding, c.stride_w, c.stride_h, c.multiplier,
                                          tfl::ActivationFunctionType::RELU6, c.dilation, c.dilation)
            .Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, DepthwiseMultipliersStridesPadding) {
  using P = tfl::Padding;
  for (const DepthwiseCase& c : std::vector<DepthwiseCase>{
           {{1, 7, 9, 5}, 1, 3, 3, P::SAME, 1, 1},
           {{1, 7, 9, 5}, 2, 3, 3, P::SAME, 2, 2},
           {{1, 8, 8, 3}, 3, 5, 5, P::SAME, 2, 2},
           {{1, 9, 7, 4}, 1, 3, 3, P::VALID, 2, 1},
           {{1, 9, 7, 1}, 4, 2, 3, P::VALID, 1, 1},
           {{1, 12, 12, 6}, 1, 3, 3, P::SAME, 1, 1, 2},
           {{1, 6, 6, 24}, 1, 3, 3, P::SAME, 1, 1, 1, false},
       }) {
    SCOPED_TRACE(fmt::format("input {} x{} {}x{} stride {}x{} dilation {}", fmt::join(c.input, "x"),
                             c.multiplier, c.kh, c.kw, c.stride_h, c.stride_w, c.dilation));
    check_model(depthwise_model(c), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, OwnDepthwiseKernel) {
  // 3x3/5x5, stride 1/2, multiplier 1: osprey's AVX-512 kernel (where the CPU
  // has it). Rows wider than the 8-pixel tiles, channels beyond 16-lane blocks.
  using P = tfl::Padding;
  for (const DepthwiseCase& c : std::vector<DepthwiseCase>{
           {{1, 9, 21, 40}, 1, 5, 5, P::SAME, 1, 1},
           {{1, 9, 21, 40}, 1, 5, 5, P::SAME, 2, 2},
           {{2, 14, 14, 16}, 1, 3, 3, P::SAME, 2, 2},
           {{1, 13, 11, 33}, 1, 3, 3, P::VALID, 1, 1},
           {{1, 13, 11, 7}, 1, 5, 5, P::VALID, 2, 2},
           {{1, 3, 2, 20}, 1, 5, 5, P::SAME, 1, 1},
       }) {
    SCOPED_TRACE(fmt::format("input {} {}x{} stride {}", fmt::join(c.input, "x"), c.kh, c.kw, c.stride_h));
    const std::vector<uint8_t> bytes = depthwise_model(c);
    if (depthwise_conv_supported(c.kh, c.stride_h)) {
      TestBackend backend = make_test_backend(kOspreyAvx512, 1);
      auto xnn = Interpreter::from_buffer(bytes, "dw", backend.options);
      ASSERT_EQ(xnn->plan_info().size(), 1u);
      EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(DEPTHWISE_CONV_2D #0)");
    }
    check_model(bytes, Tolerance::kAccumulated);
  }
  // A PAD of height and width before it becomes its padding (asymmetric here).
  ModelBuilder m;
  const int in = m.activation({1, 10, 9, 24});
  const int padded = m.activation({1, 13, 11, 24});
  m.op(tfl::BuiltinOperator::PAD, {in, m.int_constant({4, 2}, {0, 0, 2, 1, 0, 2, 0, 0})}, {padded});
  const int out = m.activation({1, 6, 5, 24});
  m.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D,
       {padded, m.random_constant({1, 3, 3, 24}), m.random_constant({24})}, {out}, [](fb& b) {
         return std::make_pair(tfl::BuiltinOptions::DepthwiseConv2DOptions,
                               tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding::VALID, 2, 2, 1).Union());
       });
  m.output(out);
  const std::vector<uint8_t> bytes = m.finish();
  if (depthwise_conv_supported(3, 2)) {
    TestBackend backend = make_test_backend(kOspreyAvx512, 1);
    auto xnn = Interpreter::from_buffer(bytes, "pad+dw", backend.options);
    ASSERT_EQ(xnn->plan_info().size(), 1u);
    EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(PAD #0 + DEPTHWISE_CONV_2D #1)");
  }
  check_model(bytes, Tolerance::kAccumulated);

  // A RELU6 after it becomes part of its clamp.
  ModelBuilder r;
  const int rin = r.activation({1, 12, 11, 20});
  const int conv = r.activation({1, 12, 11, 20});
  r.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {rin, r.random_constant({1, 5, 5, 20})}, {conv}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::DepthwiseConv2DOptions,
                          tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding::SAME, 1, 1, 1,
                                                            tfl::ActivationFunctionType::RELU_N1_TO_1)
                              .Union());
  });
  const int relu = r.activation({1, 12, 11, 20});
  r.op(tfl::BuiltinOperator::RELU6, {conv}, {relu});
  r.output(relu);
  const std::vector<uint8_t> clamped = r.finish();
  if (depthwise_conv_supported(5, 1)) {
    TestBackend backend = make_test_backend(kOspreyAvx512, 1);
    auto xnn = Interpreter::from_buffer(clamped, "dw+relu6", backend.options);
    ASSERT_EQ(xnn->plan_info().size(), 1u);
    EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(DEPTHWISE_CONV_2D #0 + RELU6 #1)");
  }
  check_model(clamped, Tolerance::kAccumulated);
}

std::vector<uint8_t> transpose_conv_model(std::vector<int32_t> input, int cout, int k, int stride,
                                          tfl::Padding padding, std::vector<int32_t> output_shape,
                                          bool bias) {
  ModelBuilder m;
  const int shape = m.int_constant({4}, output_shape);
  const int w = m.random_constant({cout, k, k, input[3]});
  const int in = m.activation(input);
  std::vector<int32_t> inputs{shape, w, in};
  if (bias) inputs.push_back(m.random_constant({cout}));
  const int out = m.activation(output_shape);
  m.op(tfl::BuiltinOperator::TRANSPOSE_CONV, inputs, {out}, [=](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::TransposeConvOptions,
                          tfl::CreateTransposeConvOptions(b, padding, stride, stride).Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, TransposeConv) {
  using P = tfl::Padding;
  check_model(transpose_conv_model({1, 4, 5, 3}, 6, 3, 2, P::SAME, {1, 8, 10, 6}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 5, 3}, 6, 3, 2, P::SAME, {1, 7, 9, 6}, false),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 5, 3}, 2, 3, 2, P::VALID, {1, 9, 11, 2}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 4, 3}, 2, 4, 2, P::SAME, {1, 8, 8, 2}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 3, 3, 2}, 2, 2, 3, P::VALID, {1, 9, 9, 2}, true),
              Tolerance::kAccumulated);
}

TEST(XnnpackOps, MediaPipeTransposeConvBias) {
  for (int padding : {1, 2}) {
    ModelBuilder m;
    const int in = m.activation({1, 5, 6, 4});
    const int w = m.random_constant({3, 4, 4, 4});
    const int bias = m.random_constant({3});
    const int out = m.activation({1, 1, 1, 3});
    std::vector<uint8_t> options(12, 0);
    const int32_t values[3] = {padding, 2, 2};
    std::memcpy(options.data(), values, sizeof(values));
    m.custom_op("Convolution2DTransposeBias", {in, w, bias}, {out}, options);
    m.output(out);
    SCOPED_TRACE(padding == 1 ? "SAME" : "VALID");
    check_model(m.finish(), Tolerance::kAccumulated);
  }
}

}  // namespace
}  // namespace osprey
