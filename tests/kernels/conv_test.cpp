// Reference CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and Convolution2DTransposeBias:
// hand-computed cases, comparisons with naive loops written here independently
// (padded-buffer gathers, accumulated in double), and rejected models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/float_cases.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::activate;
using testing::expect_error;
using testing::expect_values;
using testing::kAllActivations;
using testing::OpTester;
using testing::ramp;
using testing::random_int;
using testing::test_backends;
using testing::uniform_floats;

// A naive result: exact-ish values plus, per element, the sum of |terms| that bounds
// the float rounding of any summation order.
struct Expected {
  Shape shape;
  std::vector<double> value;
  std::vector<double> magnitude;
};

void expect_matches(const OpTester& t, const Expected& want) {
  ASSERT_EQ(t.output_shape(), want.shape);
  const std::vector<float> got = t.output_values<float>();
  ASSERT_EQ(got.size(), want.value.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want.value[i], 1e-5 * want.magnitude[i] + 1e-6) << "element " << i;
  }
}

// Index into a row-major NHWC-like buffer of dims {d0, d1, d2, d3}.
size_t at(const Shape& d, int i0, int i1, int i2, int i3) {
  return ((static_cast<size_t>(i0) * d[1] + i1) * d[2] + i2) * d[3] + i3;
}

// TensorFlow's documented output size and leading padding of a forward window.
struct Axis {
  int out = 0, pad = 0;
};
Axis forward_axis(int in, int k, int stride, int dilation, Padding padding) {
  const int effective = (k - 1) * dilation + 1;
  Axis a;
  a.out = padding == Padding::kSame ? (in + stride - 1) / stride : (in - effective + stride) / stride;
  a.pad = std::max((a.out - 1) * stride + effective - in, 0) / 2;
  return a;
}

// Zero-pads an NHWC tensor by `top`/`left` before and enough after to hold `h` x `w`.
std::vector<float> zero_pad(const std::vector<float>& in, const Shape& d, int top, int left, int h, int w) {
  std::vector<float> out(static_cast<size_t>(d[0]) * h * w * d[3], 0.0f);
  const Shape od = {d[0], h, w, d[3]};
  for (int b = 0; b < d[0]; ++b)
    for (int y = 0; y < d[1]; ++y)
      for (int x = 0; x < d[2]; ++x)
        for (int c = 0; c < d[3]; ++c)
          if (y + top < h && x + left < w) out[at(od, b, y + top, x + left, c)] = in[at(d, b, y, x, c)];
  return out;
}

// ---------------------------------------------------------------------------
// CONV_2D

struct RefConvCase {
  int n = 1, h = 5, w = 5, cin = 1, cout = 1, kh = 3, kw = 3, groups = 1;
  Conv2DOptions opt;
  bool bias = true;
};

Expected naive_conv(const RefConvCase& c, const std::vector<float>& in, const std::vector<float>& filter,
                    const std::vector<float>& bias) {
  const Axis ay = forward_axis(c.h, c.kh, c.opt.stride_h, c.opt.dilation_h, c.opt.padding);
  const Axis ax = forward_axis(c.w, c.kw, c.opt.stride_w, c.opt.dilation_w, c.opt.padding);
  const int ph = (ay.out - 1) * c.opt.stride_h + (c.kh - 1) * c.opt.dilation_h + 1;
  const int pw = (ax.out - 1) * c.opt.stride_w + (c.kw - 1) * c.opt.dilation_w + 1;
  const Shape id = {c.n, c.h, c.w, c.cin};
  const Shape pd = {c.n, ph, pw, c.cin};
  const std::vector<float> padded = zero_pad(in, id, ay.pad, ax.pad, ph, pw);
  const int gin = c.cin / c.groups, gout = c.cout / c.groups;
  const Shape fd = {c.cout, c.kh, c.kw, gin};
  Expected e;
  e.shape = {c.n, ay.out, ax.out, c.cout};
  for (int b = 0; b < c.n; ++b)
    for (int oy = 0; oy < ay.out; ++oy)
      for (int ox = 0; ox < ax.out; ++ox)
        for (int oc = 0; oc < c.cout; ++oc) {
          const int g = oc / gout;
          double sum = c.bias ? bias[static_cast<size_t>(oc)] : 0.0;
          double mag = std::abs(sum);
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx)
              for (int ic = 0; ic < gin; ++ic) {
                const double term =
                    double{padded[at(pd, b, oy * c.opt.stride_h + ky * c.opt.dilation_h,
                                     ox * c.opt.stride_w + kx * c.opt.dilation_w, g * gin + ic)]} *
                    filter[at(fd, oc, ky, kx, ic)];
                sum += term;
                mag += std::abs(term);
              }
          e.value.push_back(activate(c.opt.activation, sum));
          e.magnitude.push_back(mag);
        }
  return e;
}

void run_conv_case(const RefConvCase& c, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message() << "conv n" << c.n << " " << c.h << "x" << c.w << "x" << c.cin << " -> "
                                    << c.cout << " k" << c.kh << "x" << c.kw << " groups " << c.groups
                                    << " stride " << c.opt.stride_h << "x" << c.opt.stride_w << " dilation "
                                    << c.opt.dilation_h << "x" << c.opt.dilation_w << " "
                                    << (c.opt.padding == Padding::kSame ? "SAME" : "VALID") << " act "
                                    << static_cast<int>(c.opt.activation) << " bias " << c.bias);
  const std::vector<float> in = uniform_floats(int64_t{c.n} * c.h * c.w * c.cin, rng);
  const std::vector<float> filter = uniform_floats(int64_t{c.cout} * c.kh * c.kw * (c.cin / c.groups), rng);
  // Spread the bias so activations clamp at both ends.
  std::vector<float> bias = uniform_floats(c.cout, rng);
  for (float& b : bias) b *= 4.0f;
  OpTester t;
  t.add_input<float>({c.n, c.h, c.w, c.cin}, in);
  t.add_input<float>({c.cout, c.kh, c.kw, c.cin / c.groups}, filter, true);
  if (c.bias) {
    t.add_input<float>({c.cout}, bias, true);
  } else {
    t.add_missing_input();
  }
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, c.opt);
  t.run();
  expect_matches(t, naive_conv(c, in, filter, bias));
}

Conv2DOptions conv_options(Padding padding, int stride_h, int stride_w, int dilation_h = 1,
                           int dilation_w = 1, Activation act = Activation::kNone) {
  Conv2DOptions o;
  o.padding = padding;
  o.stride_h = stride_h;
  o.stride_w = stride_w;
  o.dilation_h = dilation_h;
  o.dilation_w = dilation_w;
  o.activation = act;
  return o;
}

// TFLite's conv_test SimpleTestFloat32: two batches, three filters, stride 2 VALID.
TEST(Conv2D, TfliteSimpleCase) {
  OpTester t;
  t.add_input<float>({2, 2, 4, 1}, {1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 3, 4, 1, 2, 3, 4});
  t.add_input<float>({3, 2, 2, 1}, {1, 2, 3, 4, -1, 1, -1, 1, -1, -1, 1, 1}, true);
  t.add_input<float>({3}, {1, 2, 3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kValid, 2, 2));
  t.run();
  expect_values(t, {2, 1, 2, 3}, {18, 2, 5, 18, 2, 5, 17, 4, 3, 37, 4, 3});
}

TEST(Conv2D, SameOddSizeSumsNeighbourhoodWithoutBias) {
  OpTester t;
  t.add_input<float>({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  t.add_input<float>({1, 3, 3, 1}, std::vector<float>(9, 1.0f), true);
  t.add_missing_input();
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1));
  t.run();
  expect_values(t, {1, 3, 3, 1}, {12, 21, 16, 27, 45, 33, 24, 39, 28});
}

TEST(Conv2D, OnlyTwoInputsMeansNoBias) {
  OpTester t;
  t.add_input<float>({1, 1, 2, 1}, {1, 2});
  t.add_input<float>({1, 1, 1, 1}, {3}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kValid, 1, 1));
  t.run();
  expect_values(t, {1, 1, 2, 1}, {3, 6});
}

// SAME with an even input and stride 2: the odd padding row/column goes after the data.
TEST(Conv2D, SameEvenSizeStride2PadsAfter) {
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  OpTester t;
  t.add_input<float>({1, 4, 4, 1}, in);
  t.add_input<float>({1, 3, 3, 1}, std::vector<float>(9, 1.0f), true);
  t.add_input<float>({1}, {0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 2, 2));
  t.run();
  expect_values(t, {1, 2, 2, 1}, {54, 45, 72, 54});
}

// Filter [1 2; 3 4] dilated by 2 over in(y, x) = 5y + x gives 10 (5y + x) + 82.
TEST(Conv2D, Dilation2Valid) {
  std::vector<float> in(25);
  for (int i = 0; i < 25; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i);
  OpTester t;
  t.add_input<float>({1, 5, 5, 1}, in);
  t.add_input<float>({1, 2, 2, 1}, {1, 2, 3, 4}, true);
  t.add_input<float>({1}, {0}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kValid, 1, 1, 2, 2));
  t.run();
  expect_values(t, {1, 3, 3, 1}, {82, 92, 102, 132, 142, 152, 182, 192, 202});
}

TEST(Conv2D, GroupedTwoGroups) {
  OpTester t;
  t.add_input<float>({1, 1, 1, 4}, {1, 2, 3, 4});
  t.add_input<float>({2, 1, 1, 2}, {1, 10, 100, 1000}, true);
  t.add_input<float>({2}, {0.5f, -0.5f}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kConv2D, conv_options(Padding::kValid, 1, 1));
  t.run();
  expect_values(t, {1, 1, 1, 2}, {21.5f, 4299.5f});
}

TEST(Conv2D, FusedActivations) {
  const std::vector<float> in = {-3, -0.5f, 0.5f, 3, 7};
  const struct {
    Activation act;
    std::vector<float> want;
  } cases[] = {
      {Activation::kNone, {-3, -0.5f, 0.5f, 3, 7}},
      {Activation::kRelu, {0, 0, 0.5f, 3, 7}},
      {Activation::kReluN1To1, {-1, -0.5f, 0.5f, 1, 1}},
      {Activation::kRelu6, {0, 0, 0.5f, 3, 6}},
  };
  for (const auto& c : cases) {
    OpTester t;
    t.add_input<float>({1, 1, 5, 1}, in);
    t.add_input<float>({1, 1, 1, 1}, {1}, true);
    t.add_input<float>({1}, {0}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1, 1, 1, c.act));
    t.run();
    expect_values(t, {1, 1, 5, 1}, c.want);
  }
}

// Every padding x stride x dilation x odd/even size, random channels and filter sizes.
TEST(Conv2D, MatchesNaiveLoopOnSweep) {
  std::mt19937 rng(1234);
  for (Padding padding : {Padding::kSame, Padding::kValid})
    for (int stride = 1; stride <= 3; ++stride)
      for (int dilation = 1; dilation <= 2; ++dilation)
        for (int h : {6, 7})
          for (int w : {5, 8}) {
            RefConvCase c;
            c.n = random_int(rng, 1, 2);
            c.h = h;
            c.w = w;
            c.groups = random_int(rng, 1, 3);
            c.cin = c.groups * random_int(rng, 1, 3);
            c.cout = c.groups * random_int(rng, 1, 3);
            c.kh = random_int(rng, 1, 3);
            c.kw = random_int(rng, 1, 3);
            // Asymmetric strides and dilations now and then.
            c.opt = conv_options(padding, stride, random_int(rng, 1, 3), dilation, random_int(rng, 1, 2),
                                 kAllActivations[random_int(rng, 0, 3)]);
            c.bias = random_int(rng, 0, 3) != 0;
            run_conv_case(c, rng);
          }
}

TEST(Conv2D, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 60; ++i) {
    RefConvCase c;
    c.n = random_int(rng, 1, 3);
    c.kh = random_int(rng, 1, 5);
    c.kw = random_int(rng, 1, 5);
    const int dh = random_int(rng, 1, 2), dw = random_int(rng, 1, 2);
    // Large enough for VALID.
    c.h = (c.kh - 1) * dh + random_int(rng, 1, 6);
    c.w = (c.kw - 1) * dw + random_int(rng, 1, 6);
    c.groups = random_int(rng, 1, 2);
    c.cin = c.groups * random_int(rng, 1, 4);
    c.cout = c.groups * random_int(rng, 1, 4);
    c.opt = conv_options(random_int(rng, 0, 1) ? Padding::kSame : Padding::kValid, random_int(rng, 1, 3),
                         random_int(rng, 1, 3), dh, dw, kAllActivations[random_int(rng, 0, 3)]);
    c.bias = random_int(rng, 0, 1) != 0;
    run_conv_case(c, rng);
  }
}

// A valid conv whose pieces each test replaces with something wrong.
struct ConvModel {
  DType input_type = DType::kFloat32;
  Shape input = {1, 4, 4, 2};
  Shape filter = {3, 2, 2, 2};
  Shape bias = {3};
  DType output_type = DType::kFloat32;
  OpOptions options = conv_options(Padding::kSame, 1, 1);

  void build(OpTester& t) const {
    const std::vector<uint8_t> zeros(4096, 0);
    t.add_raw_input(input_type, input, zeros, false);
    t.add_input<float>(filter, std::vector<float>(1024, 0.5f), true);
    t.add_input<float>(bias, std::vector<float>(64, 0.0f), true);
    t.add_output(output_type);
    t.set_op(OpCode::kConv2D, options);
  }
};

void expect_conv_error(const ConvModel& m, const std::string& needle) {
  OpTester t;
  m.build(t);
  expect_error(t, needle);
}

TEST(Conv2D, BaselineModelForErrorTestsRuns) {
  OpTester t;
  ConvModel{}.build(t);
  EXPECT_NO_THROW(t.run());
  EXPECT_EQ(t.output_shape(), (Shape{1, 4, 4, 3}));
}

TEST(Conv2D, RejectsBadModels) {
  ConvModel m;
  m.filter = {3, 2, 2};
  expect_conv_error(m, "filter tensor has 3 dims, expected 4");
  m = {};
  m.input = {4, 4, 2};
  expect_conv_error(m, "input tensor has 3 dims, expected 4");
  m = {};
  // (ops with int8/uint8 outputs are routed to the quantized kernels instead.)
  m.input_type = DType::kInt32;
  expect_conv_error(m, "input type int32 is not supported by the float reference kernel");
  m = {};
  m.output_type = DType::kInt32;
  expect_conv_error(m, "output type int32 is not supported");
  m = {};
  m.filter = {3, 2, 2, 3};  // 2 input channels are not a multiple of 3
  expect_conv_error(m, "not a multiple");
  m = {};
  m.input = {1, 4, 4, 4};  // two groups of 2 channels, but 3 filters
  expect_conv_error(m, "do not divide into 2 groups");
  m = {};
  m.bias = {4};
  expect_conv_error(m, "bias has 4 elements, expected 3");
  m = {};
  m.input = {1, 0, 4, 2};
  expect_conv_error(m, "not positive");
  m = {};
  m.options = conv_options(Padding::kSame, 0, 1);
  expect_conv_error(m, "stride 0 must be positive");
  m = {};
  m.options = conv_options(Padding::kSame, 1, 1, 1, -1);
  expect_conv_error(m, "dilation -1 must be positive");
  m = {};
  m.options = conv_options(Padding::kValid, 1, 1, 5, 1);  // dilated filter 6 > input 4
  expect_conv_error(m, "larger than input");
  m = {};
  m.options = conv_options(Padding::kSame, 1, 1, 0x7fffffff, 1);
  expect_conv_error(m, "too large");
  m = {};
  m.options = conv_options(Padding::kSame, 1, 1, 1, 1, Activation::kTanh);
  expect_conv_error(m, "unsupported fused activation");
  m = {};
  m.options = FullyConnectedOptions{};
  expect_conv_error(m, "options of the wrong kind");
}

TEST(Conv2D, RejectsWrongInputCountAndTypes) {
  {
    OpTester t;  // one input only
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1));
    expect_error(t, "has 1 inputs, expected 2 to 3");
  }
  {
    OpTester t;  // missing filter
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_missing_input();
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1));
    expect_error(t, "input 1 is missing");
  }
  {
    OpTester t;  // float16 weights must be dequantized first
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_raw_input(DType::kFloat16, {1, 1, 1, 1}, {0, 0}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1));
    expect_error(t, "filter type float16 is not supported");
  }
  {
    OpTester t;  // int32 bias
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_input<float>({1, 1, 1, 1}, {1}, true);
    t.add_input<int32_t>({1}, {0}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kConv2D, conv_options(Padding::kSame, 1, 1));
    expect_error(t, "bias type int32 is not supported");
  }
}

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D

DepthwiseConv2DOptions depthwise_options(Padding padding, int stride_h, int stride_w, int dilation_h,
                                         int dilation_w, int multiplier, Activation act = Activation::kNone) {
  DepthwiseConv2DOptions o;
  o.padding = padding;
  o.stride_h = stride_h;
  o.stride_w = stride_w;
  o.dilation_h = dilation_h;
  o.dilation_w = dilation_w;
  o.depth_multiplier = multiplier;
  o.activation = act;
  return o;
}

// TFLite's depthwise_conv_test SimpleTest: depth multiplier 2, VALID. The options'
// depth_multiplier is ignored in favour of the shapes (old models got it wrong).
TEST(DepthwiseConv2D, TfliteSimpleCaseWithAnyMultiplierOption) {
  for (int option_multiplier : {2, 1, 7}) {
    OpTester t;
    t.add_input<float>({1, 3, 2, 2}, {1, 2, 7, 8, 3, 4, 9, 10, 5, 6, 11, 12});
    t.add_input<float>({1, 2, 2, 4}, {1, 2, 3, 4, -9, 10, -11, 12, 5, 6, 7, 8, 13, -14, 15, -16}, true);
    t.add_input<float>({4}, {1, 2, 3, 4}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kDepthwiseConv2D, depthwise_options(Padding::kValid, 1, 1, 1, 1, option_multiplier));
    t.run();
    expect_values(t, {1, 2, 1, 4}, {71, -34, 99, -20, 91, -26, 127, -4});
  }
}

TEST(DepthwiseConv2D, SameMultiplier1WithoutBiasAndRelu) {
  // Channel 0 sums the 3x3 neighbourhood, channel 1 negates it; ReLU keeps channel 0.
  std::vector<float> in;
  for (int i = 1; i <= 9; ++i) {
    in.push_back(static_cast<float>(i));
    in.push_back(static_cast<float>(i));
  }
  std::vector<float> filter;
  for (int i = 0; i < 9; ++i) {
    filter.push_back(1.0f);
    filter.push_back(-1.0f);
  }
  OpTester t;
  t.add_input<float>({1, 3, 3, 2}, in);
  t.add_input<float>({1, 3, 3, 2}, filter, true);
  t.add_missing_input();
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDepthwiseConv2D, depthwise_options(Padding::kSame, 1, 1, 1, 1, 1, Activation::kRelu));
  t.run();
  expect_values(t, {1, 3, 3, 2}, {12, 0, 21, 0, 16, 0, 27, 0, 45, 0, 33, 0, 24, 0, 39, 0, 28, 0});
}

Expected naive_depthwise(const Shape& id, int kh, int kw, int mult, const DepthwiseConv2DOptions& o,
                         bool has_bias, const std::vector<float>& in, const std::vector<float>& filter,
                         const std::vector<float>& bias) {
  const Axis ay = forward_axis(id[1], kh, o.stride_h, o.dilation_h, o.padding);
  const Axis ax = forward_axis(id[2], kw, o.stride_w, o.dilation_w, o.padding);
  const int ph = (ay.out - 1) * o.stride_h + (kh - 1) * o.dilation_h + 1;
  const int pw = (ax.out - 1) * o.stride_w + (kw - 1) * o.dilation_w + 1;
  const Shape pd = {id[0], ph, pw, id[3]};
  const std::vector<float> padded = zero_pad(in, id, ay.pad, ax.pad, ph, pw);
  const int cout = id[3] * mult;
  const Shape fd = {1, kh, kw, cout};
  Expected e;
  e.shape = {id[0], ay.out, ax.out, cout};
  for (int b = 0; b < id[0]; ++b)
    for (int oy = 0; oy < ay.out; ++oy)
      for (int ox = 0; ox < ax.out; ++ox)
        for (int oc = 0; oc < cout; ++oc) {
          const int ic = oc / mult;
          double sum = has_bias ? bias[static_cast<size_t>(oc)] : 0.0;
          double mag = std::abs(sum);
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const double term = double{padded[at(pd, b, oy * o.stride_h + ky * o.dilation_h,
                                                   ox * o.stride_w + kx * o.dilation_w, ic)]} *
                                  filter[at(fd, 0, ky, kx, oc)];
              sum += term;
              mag += std::abs(term);
            }
          e.value.push_back(activate(o.activation, sum));
          e.magnitude.push_back(mag);
        }
  return e;
}

TEST(DepthwiseConv2D, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(4321);
  for (int i = 0; i < 80; ++i) {
    const int kh = random_int(rng, 1, 4), kw = random_int(rng, 1, 4);
    const int mult = random_int(rng, 1, 3);
    const DepthwiseConv2DOptions o =
        depthwise_options(random_int(rng, 0, 1) ? Padding::kSame : Padding::kValid, random_int(rng, 1, 3),
                          random_int(rng, 1, 3), random_int(rng, 1, 2), random_int(rng, 1, 2),
                          /*multiplier=*/1, kAllActivations[random_int(rng, 0, 3)]);
    const Shape id = {random_int(rng, 1, 2), (kh - 1) * o.dilation_h + random_int(rng, 1, 6),
                      (kw - 1) * o.dilation_w + random_int(rng, 1, 6), random_int(rng, 1, 4)};
    const bool has_bias = random_int(rng, 0, 1) != 0;
    SCOPED_TRACE(::testing::Message() << "case " << i << " mult " << mult << " k" << kh << "x" << kw);
    const std::vector<float> in = uniform_floats(num_elements(id), rng);
    const std::vector<float> filter = uniform_floats(int64_t{kh} * kw * id[3] * mult, rng);
    std::vector<float> bias = uniform_floats(id[3] * mult, rng);
    for (float& b : bias) b *= 4.0f;
    OpTester t;
    t.add_input<float>(id, in);
    t.add_input<float>({1, kh, kw, id[3] * mult}, filter, true);
    if (has_bias) {
      t.add_input<float>({id[3] * mult}, bias, true);
    } else {
      t.add_missing_input();
    }
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kDepthwiseConv2D, o);
    t.run();
    expect_matches(t, naive_depthwise(id, kh, kw, mult, o, has_bias, in, filter, bias));
  }
}

TEST(DepthwiseConv2D, RejectsBadModels) {
  const auto build = [](OpTester& t, const Shape& input, const Shape& filter, const Shape& bias,
                        DType input_type = DType::kFloat32) {
    t.add_raw_input(input_type, input, std::vector<uint8_t>(4096, 0), false);
    t.add_input<float>(filter, std::vector<float>(1024, 0.0f), true);
    t.add_input<float>(bias, std::vector<float>(64, 0.0f), true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kDepthwiseConv2D, depthwise_options(Padding::kSame, 1, 1, 1, 1, 2));
  };
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {1, 3, 3, 4}, {4});
    EXPECT_NO_THROW(t.run());
    EXPECT_EQ(t.output_shape(), (Shape{1, 4, 4, 4}));
  }
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {2, 3, 3, 4}, {4});
    expect_error(t, "depthwise filter has 2 in dim 0, expected 1");
  }
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {1, 3, 3, 3}, {3});
    expect_error(t, "filter has 3 channels, not a multiple of the input's 2");
  }
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {1, 3, 3, 4}, {2});
    expect_error(t, "bias has 2 elements, expected 4");
  }
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {3, 3, 4}, {4});
    expect_error(t, "filter tensor has 3 dims, expected 4");
  }
  {
    OpTester t;
    build(t, {1, 4, 4, 2}, {1, 3, 3, 4}, {4}, DType::kFloat16);
    expect_error(t, "input type float16 is not supported");
  }
  {
    OpTester t;  // conv options on a depthwise op: a loader bug
    build(t, {1, 4, 4, 2}, {1, 3, 3, 4}, {4});
    t.set_op(OpCode::kDepthwiseConv2D, conv_options(Padding::kSame, 1, 1));
    expect_error(t, "options of the wrong kind");
  }
}

// ---------------------------------------------------------------------------
// TRANSPOSE_CONV and Convolution2DTransposeBias

TransposeConvOptions transpose_options(Padding padding, int stride_h, int stride_w,
                                       Activation act = Activation::kNone) {
  TransposeConvOptions o;
  o.padding = padding;
  o.stride_h = stride_h;
  o.stride_w = stride_w;
  o.activation = act;
  return o;
}

// TFLite's transpose_conv_test SimpleTest: stride 1 SAME, 3x3 filter.
TEST(TransposeConv, TfliteSimpleCase) {
  OpTester t;
  t.add_input<int32_t>({4}, {1, 4, 4, 1}, true);
  t.add_input<float>({1, 3, 3, 1}, ramp(9), true);
  t.add_input<float>({1, 4, 4, 1}, ramp(16));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTransposeConv, transpose_options(Padding::kSame, 1, 1));
  t.run();
  expect_values(t, {1, 4, 4, 1}, {29, 62, 83, 75, 99, 192, 237, 198, 207, 372, 417, 330, 263, 446, 485, 365});
}

// A 2x2 input [1 2; 3 4] through a 3x3 all-ones filter at stride 2: each input pixel
// covers a 3x3 block of the output starting at (2y, 2x).
TEST(TransposeConv, Stride2Same) {
  OpTester t;
  t.add_input<int32_t>({4}, {1, 4, 4, 1}, true);
  t.add_input<float>({1, 3, 3, 1}, std::vector<float>(9, 1.0f), true);
  t.add_input<float>({1, 2, 2, 1}, {1, 2, 3, 4});
  t.add_input<float>({1}, {0.5f}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTransposeConv, transpose_options(Padding::kSame, 2, 2));
  t.run();
  std::vector<float> want = {1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4};
  for (float& v : want) v += 0.5f;
  expect_values(t, {1, 4, 4, 1}, want);
}

TEST(TransposeConv, Stride2Valid) {
  OpTester t;
  t.add_input<int32_t>({4}, {1, 5, 5, 1}, true);
  t.add_input<float>({1, 3, 3, 1}, std::vector<float>(9, 1.0f), true);
  t.add_input<float>({1, 2, 2, 1}, {1, 2, 3, 4});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTransposeConv, transpose_options(Padding::kValid, 2, 2));
  t.run();
  expect_values(t, {1, 5, 5, 1},
                {1, 1, 3, 2, 2, 1, 1, 3, 2, 2, 4, 4, 10, 6, 6, 3, 3, 7, 4, 4, 3, 3, 7, 4, 4});
}

TEST(TransposeConv, BiasThenActivation) {
  OpTester t;
  t.add_input<int32_t>({4}, {1, 1, 4, 1}, true);
  t.add_input<float>({1, 1, 1, 1}, {1}, true);
  t.add_input<float>({1, 1, 4, 1}, {-2, 0.25f, 4, 9});
  t.add_input<float>({1}, {1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kTransposeConv, transpose_options(Padding::kValid, 1, 1, Activation::kRelu6));
  t.run();
  expect_values(t, {1, 1, 4, 1}, {0, 1.25f, 5, 6});
}

// The transposed conv written as a gather: output pixel o takes input pixel i through
// tap k when o + pad = i * stride + k, with TensorFlow's backprop padding.
Expected naive_transpose(const Shape& id, const Shape& wd, int oh, int ow, int sh, int sw, Padding padding,
                         Activation act, const std::vector<float>& in, const std::vector<float>& weights,
                         const float* bias) {
  const auto pad = [&](int in_size, int k, int s, int out_size) {
    return padding == Padding::kSame ? std::max((in_size - 1) * s + k - out_size, 0) / 2 : 0;
  };
  const int pad_h = pad(id[1], wd[1], sh, oh), pad_w = pad(id[2], wd[2], sw, ow);
  Expected e;
  e.shape = {id[0], oh, ow, wd[0]};
  for (int b = 0; b < id[0]; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int oc = 0; oc < wd[0]; ++oc) {
          double sum = bias ? bias[oc] : 0.0;
          double mag = std::abs(sum);
          for (int ky = 0; ky < wd[1]; ++ky)
            for (int kx = 0; kx < wd[2]; ++kx) {
              const int ty = oy + pad_h - ky, tx = ox + pad_w - kx;
              if (ty < 0 || tx < 0 || ty % sh != 0 || tx % sw != 0) continue;
              const int iy = ty / sh, ix = tx / sw;
              if (iy >= id[1] || ix >= id[2]) continue;
              for (int ic = 0; ic < id[3]; ++ic) {
                const double term = double{in[at(id, b, iy, ix, ic)]} * weights[at(wd, oc, ky, kx, ic)];
                sum += term;
                mag += std::abs(term);
              }
            }
          e.value.push_back(activate(act, sum));
          e.magnitude.push_back(mag);
        }
  return e;
}

TEST(TransposeConv, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(777);
  for (int i = 0; i < 80; ++i) {
    const Padding padding = i % 2 ? Padding::kSame : Padding::kValid;
    const int sh = random_int(rng, 1, 3), sw = random_int(rng, 1, 3);
    const Shape id = {random_int(rng, 1, 2), random_int(rng, 1, 5), random_int(rng, 1, 5),
                      random_int(rng, 1, 3)};
    const Shape wd = {random_int(rng, 1, 3), random_int(rng, 1, 4), random_int(rng, 1, 4), id[3]};
    // Any output size consistent with the input: for SAME ceil(out / s) == in, for VALID
    // (out - k) / s + 1 == in; the spare rows and columns get no contributions from the end.
    const auto out_size = [&](int in, int k, int s) {
      return padding == Padding::kSame ? (in - 1) * s + random_int(rng, 1, s)
                                       : (in - 1) * s + k + random_int(rng, 0, s - 1);
    };
    const int oh = out_size(id[1], wd[1], sh), ow = out_size(id[2], wd[2], sw);
    const Activation act = kAllActivations[random_int(rng, 0, 3)];
    const bool has_bias = random_int(rng, 0, 1) != 0;
    SCOPED_TRACE(::testing::Message()
                 << "case " << i << " in " << id[1] << "x" << id[2] << " out " << oh << "x" << ow << " k "
                 << wd[1] << "x" << wd[2] << " s " << sh << "x" << sw);
    const std::vector<float> in = uniform_floats(num_elements(id), rng);
    const std::vector<float> weights = uniform_floats(num_elements(wd), rng);
    const std::vector<float> bias = uniform_floats(wd[0], rng);
    OpTester t;
    t.add_input<int32_t>({4}, {id[0], oh, ow, wd[0]}, true);
    t.add_input<float>(wd, weights, true);
    t.add_input<float>(id, in);
    if (has_bias) t.add_input<float>({wd[0]}, bias, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kTransposeConv, transpose_options(padding, sh, sw, act));
    t.run();
    expect_matches(t, naive_transpose(id, wd, oh, ow, sh, sw, padding, act, in, weights,
                                      has_bias ? bias.data() : nullptr));
  }
}

TEST(TransposeConv, RejectsBadModels) {
  struct Model {
    DType shape_type = DType::kInt32;
    bool shape_constant = true;
    std::vector<int32_t> output_shape = {1, 4, 4, 2};
    Shape weights = {2, 3, 3, 1};
    Shape input = {1, 2, 2, 1};
    Shape bias = {2};
    OpOptions options = transpose_options(Padding::kSame, 2, 2);
  };
  const auto run = [](const Model& m, const std::string& needle) {
    OpTester t;
    std::vector<uint8_t> shape_bytes(m.output_shape.size() * 4);
    std::memcpy(shape_bytes.data(), m.output_shape.data(), shape_bytes.size());
    t.add_raw_input(m.shape_type, {static_cast<int32_t>(m.output_shape.size())}, shape_bytes,
                    m.shape_constant);
    t.add_input<float>(m.weights, std::vector<float>(256, 1.0f), true);
    t.add_input<float>(m.input, std::vector<float>(256, 1.0f));
    t.add_input<float>(m.bias, std::vector<float>(16, 0.0f), true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kTransposeConv, m.options);
    if (needle.empty()) {
      EXPECT_NO_THROW(t.run());
    } else {
      expect_error(t, needle);
    }
  };
  run(Model{}, "");
  Model m;
  m.shape_constant = false;
  run(m, "dynamic output shape is not supported");
  m = {};
  m.shape_type = DType::kInt64;
  m.output_shape = {1, 4, 4, 2, 0, 0, 0, 0};
  run(m, "output_shape type int64 is not int32");
  m = {};
  m.output_shape = {1, 4, 4};
  run(m, "output_shape has shape [3], expected [4]");
  m = {};
  m.output_shape = {1, 4, 4, 3};
  run(m, "output_shape has 3 channels, the weights 2");
  m = {};
  m.output_shape = {2, 4, 4, 2};
  run(m, "output_shape batch 2 differs from the input's 1");
  m = {};
  m.output_shape = {1, -4, 4, 2};
  run(m, "not positive");
  m = {};
  m.weights = {2, 3, 3, 2};
  run(m, "weights have 2 input channels, the input has 1");
  m = {};
  m.weights = {2, 3, 3};
  run(m, "weights tensor has 3 dims, expected 4");
  m = {};
  m.bias = {3};
  run(m, "bias has 3 elements, expected 2");
  m = {};
  m.options = transpose_options(Padding::kSame, 0, 2);
  run(m, "must be positive");
  m = {};
  m.options = transpose_options(Padding::kSame, 0x7fffffff, 2);
  run(m, "too large");
}

std::vector<uint8_t> transpose_bias_options(int32_t padding, int32_t stride_w, int32_t stride_h) {
  std::vector<uint8_t> bytes;
  for (int32_t v : {padding, stride_w, stride_h})
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * i)));
  return bytes;
}

constexpr int32_t kTfLiteSame = 1, kTfLiteValid = 2;

TEST(TransposeConvBias, Stride2SameAndValid) {
  const struct {
    int32_t padding;
    Shape shape;
    std::vector<float> want;
  } cases[] = {
      {kTfLiteSame, {1, 4, 4, 1}, {1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4}},
      {kTfLiteValid, {1, 5, 5, 1}, {1, 1, 3, 2, 2, 1, 1, 3, 2, 2, 4, 4, 10,
                                    6, 6, 3, 3, 7, 4, 4, 3, 3, 7, 4, 4}},
  };
  for (const auto& c : cases) {
    OpTester t;
    t.add_input<float>({1, 2, 2, 1}, {1, 2, 3, 4});
    t.add_input<float>({1, 3, 3, 1}, std::vector<float>(9, 1.0f), true);
    t.add_input<float>({1}, {-10}, true);
    t.add_output(DType::kFloat32);
    t.set_custom_op("Convolution2DTransposeBias", transpose_bias_options(c.padding, 2, 2));
    t.run();
    std::vector<float> want = c.want;
    for (float& v : want) v -= 10.0f;  // bias, and no activation clamps the negatives
    expect_values(t, c.shape, want);
  }
}

// SAME with an odd input at stride 2: the output is 2 * 3 - 1 = 5 rows (not 6) and the
// first row of the 3-tap window is cut off: out[o] = sum in[i] * w[o + 1 - 2i].
TEST(TransposeConvBias, SameOddInputStride2) {
  OpTester t;
  t.add_input<float>({1, 3, 1, 1}, {1, 2, 3});
  t.add_input<float>({1, 3, 1, 1}, {1, 10, 100}, true);
  t.add_input<float>({1}, {0.5f}, true);
  t.add_output(DType::kFloat32);
  t.set_custom_op("Convolution2DTransposeBias",
                  transpose_bias_options(kTfLiteSame, /*stride_w=*/1, /*stride_h=*/2));
  t.run();
  expect_values(t, {1, 5, 1, 1}, {10.5f, 102.5f, 20.5f, 203.5f, 30.5f});
}

// A 1-tap filter at stride 3 (K < stride): SAME trims nothing, output (2 - 1) * 3 + 1.
TEST(TransposeConvBias, SameFilterSmallerThanStride) {
  OpTester t;
  t.add_input<float>({1, 1, 2, 1}, {1, 2});
  t.add_input<float>({1, 1, 1, 1}, {2}, true);
  t.add_input<float>({1}, {0}, true);
  t.add_output(DType::kFloat32);
  t.set_custom_op("Convolution2DTransposeBias",
                  transpose_bias_options(kTfLiteSame, /*stride_w=*/3, /*stride_h=*/1));
  t.run();
  expect_values(t, {1, 1, 4, 1}, {2, 0, 0, 4});
}

// libXNNPACK's deconvolution setup crashes on a SAME transpose convolution
// whose output is narrower than one stride (one input column, stride 3, a
// filter 3-5 wide): the lowering leaves it to the reference kernels.
TEST(TransposeConvBias, OutputNarrowerThanStrideRunsOnEveryBackend) {
  OpTester t;
  t.add_input<float>({1, 1, 1, 1}, {1.0f});
  t.add_input<float>({1, 1, 3, 1}, {1.0f, 2.0f, 3.0f}, true);
  t.add_input<float>({1}, {0.0f}, true);
  t.add_output(DType::kFloat32);
  t.set_custom_op("Convolution2DTransposeBias",
                  transpose_bias_options(kTfLiteSame, /*stride_w=*/3, /*stride_h=*/1));
  t.run();
  expect_values(t, {1, 1, 1, 1}, {2.0f});
}

TEST(TransposeConvBias, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(2024);
  for (int i = 0; i < 60; ++i) {
    const bool same = i % 2 == 0;
    const int sh = random_int(rng, 1, 3), sw = random_int(rng, 1, 3);
    const Shape id = {random_int(rng, 1, 2), random_int(rng, 1, 6), random_int(rng, 1, 6),
                      random_int(rng, 1, 3)};
    const Shape wd = {random_int(rng, 1, 3), random_int(rng, 1, 4), random_int(rng, 1, 4), id[3]};
    // MediaPipe's (and XNNPACK's) output size; SAME trims max(0, K - 1 - (in - 1) % s).
    const auto out_size = [&](int in, int k, int s) {
      return (in - 1) * s + k - (same ? std::max(0, k - 1 - (in - 1) % s) : 0);
    };
    const int oh = out_size(id[1], wd[1], sh), ow = out_size(id[2], wd[2], sw);
    SCOPED_TRACE(::testing::Message() << "case " << i << " in " << id[1] << "x" << id[2] << " k " << wd[1]
                                      << "x" << wd[2] << " s " << sh << "x" << sw);
    const std::vector<float> in = uniform_floats(num_elements(id), rng);
    const std::vector<float> weights = uniform_floats(num_elements(wd), rng);
    const std::vector<float> bias = uniform_floats(wd[0], rng);
    OpTester t;
    t.add_input<float>(id, in);
    t.add_input<float>(wd, weights, true);
    t.add_input<float>({wd[0]}, bias, true);
    t.add_output(DType::kFloat32);
    // Trailing bytes (a newer params struct's activation field) are ignored.
    std::vector<uint8_t> options = transpose_bias_options(same ? kTfLiteSame : kTfLiteValid, sw, sh);
    if (i % 3 == 0) options.insert(options.end(), {0, 0, 0, 0});
    t.set_custom_op("Convolution2DTransposeBias", options);
    t.run();
    expect_matches(t, naive_transpose(id, wd, oh, ow, sh, sw, same ? Padding::kSame : Padding::kValid,
                                      Activation::kNone, in, weights, bias.data()));
  }
}

TEST(TransposeConvBias, RejectsBadModels) {
  const auto run = [](const std::vector<uint8_t>& options, const std::string& needle, bool with_bias = true,
                      const Shape& weights = {1, 3, 3, 1}) {
    OpTester t;
    t.add_input<float>({1, 2, 2, 1}, {1, 2, 3, 4});
    t.add_input<float>(weights, std::vector<float>(64, 1.0f), true);
    if (with_bias) t.add_input<float>({1}, {0}, true);
    t.add_output(DType::kFloat32);
    t.set_custom_op("Convolution2DTransposeBias", options);
    expect_error(t, needle);
  };
  run({}, "custom options have 0 bytes, expected at least 12");
  run({1, 0, 0, 0, 2, 0, 0, 0}, "custom options have 8 bytes");
  run(transpose_bias_options(0, 2, 2), "custom option padding 0 is neither SAME (1) nor VALID (2)");
  run(transpose_bias_options(3, 2, 2), "custom option padding 3");
  run(transpose_bias_options(kTfLiteSame, 0, 2), "strides 2x0 must be positive");
  run(transpose_bias_options(kTfLiteSame, 2, -1), "strides -1x2 must be positive");
  run(transpose_bias_options(kTfLiteSame, 2, 0x7fffffff), "too large");
  run(transpose_bias_options(kTfLiteSame, 2, 2), "has 2 inputs, expected 3 to 3", /*with_bias=*/false);
  run(transpose_bias_options(kTfLiteSame, 2, 2), "bias has 1 elements, expected 2", true, {2, 3, 3, 1});
  run(transpose_bias_options(kTfLiteSame, 2, 2), "weights tensor has 2 dims, expected 4", true, {3, 3});
}

}  // namespace
}  // namespace osprey
