// Reference binary elementwise ops, PRELU, activations and SOFTMAX: hand-computed cases, and
// random cases checked against naive loops written independently of the kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/float_cases.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::broadcast_index;
using testing::OpTester;

constexpr float kInfinity = std::numeric_limits<float>::infinity();

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// out[coord] = f(a[coord], b[coord]) by converting every output index to coordinates.
std::vector<float> naive_binary(const Shape& out_shape, const Shape& a_shape, const std::vector<float>& a,
                                const Shape& b_shape, const std::vector<float>& b,
                                const std::function<float(float, float)>& f) {
  std::vector<float> out(static_cast<size_t>(num_elements(out_shape)));
  std::vector<int64_t> coord(out_shape.size());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i);
    for (size_t d = out_shape.size(); d-- > 0;) {
      coord[d] = rest % out_shape[d];
      rest /= out_shape[d];
    }
    out[i] = f(a[static_cast<size_t>(broadcast_index(a_shape, coord))],
               b[static_cast<size_t>(broadcast_index(b_shape, coord))]);
  }
  return out;
}

struct BinaryRun {
  Shape shape;
  std::vector<float> values;
};

BinaryRun run_binary(OpCode code, const Shape& a_shape, const std::vector<float>& a, const Shape& b_shape,
                     const std::vector<float>& b, OpOptions options = ElementwiseOptions{}) {
  OpTester t;
  t.add_input<float>(a_shape, a);
  t.add_input<float>(b_shape, b);
  t.add_output(DType::kFloat32);
  t.set_op(code, std::move(options));
  t.run();
  return {t.output_shape(), t.output_values<float>()};
}

void expect_same_floats(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << "at " << i;
    } else {
      EXPECT_EQ(actual[i], expected[i]) << "at " << i;
    }
  }
}

TEST(ElementwiseBinary, SameShapeHandComputed) {
  const Shape s = {2, 2};
  const std::vector<float> a = {1, -2, 3.5f, 8};
  const std::vector<float> b = {4, 5, -0.5f, 2};
  EXPECT_EQ(run_binary(OpCode::kAdd, s, a, s, b).values, (std::vector<float>{5, 3, 3, 10}));
  EXPECT_EQ(run_binary(OpCode::kSub, s, a, s, b).values, (std::vector<float>{-3, -7, 4, 6}));
  EXPECT_EQ(run_binary(OpCode::kMul, s, a, s, b).values, (std::vector<float>{4, -10, -1.75f, 16}));
  EXPECT_EQ(run_binary(OpCode::kDiv, s, a, s, b).values, (std::vector<float>{0.25f, -0.4f, -7, 4}));
  EXPECT_EQ(run_binary(OpCode::kMaximum, s, a, s, b, {}).values, (std::vector<float>{4, 5, 3.5f, 8}));
  EXPECT_EQ(run_binary(OpCode::kMinimum, s, a, s, b, {}).values, (std::vector<float>{1, -2, -0.5f, 2}));
  EXPECT_EQ(run_binary(OpCode::kAdd, s, a, s, b).shape, s);
}

TEST(ElementwiseBinary, BroadcastHandComputed) {
  // [2, 3] + [3]: the row repeats.
  BinaryRun r = run_binary(OpCode::kAdd, {2, 3}, {1, 2, 3, 4, 5, 6}, {3}, {10, 20, 30});
  EXPECT_EQ(r.shape, (Shape{2, 3}));
  EXPECT_EQ(r.values, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  // [2, 1] - [1, 3]: both sides repeat.
  r = run_binary(OpCode::kSub, {2, 1}, {1, 2}, {1, 3}, {10, 20, 30});
  EXPECT_EQ(r.shape, (Shape{2, 3}));
  EXPECT_EQ(r.values, (std::vector<float>{-9, -19, -29, -8, -18, -28}));
  // Scalar divided by a vector: operand order is kept.
  r = run_binary(OpCode::kDiv, {}, {6}, {3}, {1, 2, 3});
  EXPECT_EQ(r.shape, (Shape{3}));
  EXPECT_EQ(r.values, (std::vector<float>{6, 3, 2}));
}

TEST(ElementwiseBinary, BroadcastMatchesNaiveLoop) {
  const Shape big = {1, 4, 4, 3};
  const std::vector<Shape> others = {{3},          {1, 1, 1, 3}, {4, 1, 1},      {},
                                     {1, 4, 4, 3}, {4, 1, 3},    {2, 1, 4, 1, 1}};
  const std::vector<std::pair<OpCode, std::function<float(float, float)>>> ops = {
      {OpCode::kAdd, [](float x, float y) { return x + y; }},
      {OpCode::kSub, [](float x, float y) { return x - y; }},
      {OpCode::kMul, [](float x, float y) { return x * y; }},
      {OpCode::kDiv, [](float x, float y) { return x / y; }},
      {OpCode::kMaximum, [](float x, float y) { return x > y ? x : y; }},
      {OpCode::kMinimum, [](float x, float y) { return x < y ? x : y; }},
  };
  uint32_t seed = 1;
  for (const Shape& other : others) {
    // The broadcast shape, written out: [1,4,4,3] absorbs all but the rank-5 one.
    const Shape expected_shape = other.size() == 5 ? Shape{2, 1, 4, 4, 3} : big;
    const std::vector<float> a = random_floats(static_cast<size_t>(num_elements(big)), -5, 5, seed++);
    // Divisors stay away from zero so that the comparison is meaningful.
    std::vector<float> b = random_floats(static_cast<size_t>(num_elements(other)), 0.5f, 4, seed++);
    for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
    for (const auto& [code, f] : ops) {
      SCOPED_TRACE(::testing::PrintToString(other) + " op " + std::to_string(static_cast<int>(code)));
      const OpOptions options = (code == OpCode::kMaximum || code == OpCode::kMinimum)
                                    ? OpOptions{}
                                    : OpOptions{ElementwiseOptions{}};
      BinaryRun r = run_binary(code, big, a, other, b, options);
      EXPECT_EQ(r.shape, expected_shape);
      expect_same_floats(r.values, naive_binary(expected_shape, big, a, other, b, f));
      // Swapped operands broadcast the same way.
      r = run_binary(code, other, b, big, a, options);
      EXPECT_EQ(r.shape, expected_shape);
      expect_same_floats(r.values, naive_binary(expected_shape, other, b, big, a, f));
    }
  }
}

TEST(ElementwiseBinary, BroadcastRankSix) {
  const Shape a_shape = {2, 1, 3, 1, 2, 1};
  const Shape b_shape = {1, 2, 1, 2, 1, 3};
  const Shape out_shape = {2, 2, 3, 2, 2, 3};
  const std::vector<float> a = random_floats(12, -3, 3, 7);
  const std::vector<float> b = random_floats(12, -3, 3, 8);
  BinaryRun r = run_binary(OpCode::kMul, a_shape, a, b_shape, b);
  EXPECT_EQ(r.shape, out_shape);
  expect_same_floats(r.values, naive_binary(out_shape, a_shape, a, b_shape, b, std::multiplies<float>()));
}

TEST(ElementwiseBinary, FusedActivations) {
  const Shape s = {6};
  const std::vector<float> a = {-3, -1, -0.5f, 0.25f, 2, 9};
  const std::vector<float> zero(6, 0.0f);
  EXPECT_EQ(run_binary(OpCode::kAdd, s, a, s, zero, ElementwiseOptions{Activation::kRelu}).values,
            (std::vector<float>{0, 0, 0, 0.25f, 2, 9}));
  EXPECT_EQ(run_binary(OpCode::kSub, s, a, s, zero, ElementwiseOptions{Activation::kRelu6}).values,
            (std::vector<float>{0, 0, 0, 0.25f, 2, 6}));
  EXPECT_EQ(run_binary(OpCode::kAdd, s, a, s, zero, ElementwiseOptions{Activation::kReluN1To1}).values,
            (std::vector<float>{-1, -1, -0.5f, 0.25f, 1, 1}));
  // MUL: 2 * x then clamp to [0, 6].
  const std::vector<float> two = {2};
  EXPECT_EQ(run_binary(OpCode::kMul, s, a, {1}, two, ElementwiseOptions{Activation::kRelu6}).values,
            (std::vector<float>{0, 0, 0, 0.5f, 4, 6}));
  // DIV by zero gives infinities, which the activation then clamps.
  EXPECT_EQ(run_binary(OpCode::kDiv, {2}, {1, -1}, {1}, {0}, ElementwiseOptions{Activation::kRelu6}).values,
            (std::vector<float>{6, 0}));
  EXPECT_EQ(run_binary(OpCode::kDiv, {2}, {1, -1}, {1}, {0}).values,
            (std::vector<float>{kInfinity, -kInfinity}));
}

TEST(ElementwiseBinary, RandomFusedActivationMatchesNaiveClamp) {
  const Shape a_shape = {2, 3, 4};
  const Shape b_shape = {3, 1};
  const std::vector<float> a = random_floats(24, -8, 8, 21);
  const std::vector<float> b = random_floats(3, -8, 8, 22);
  const BinaryRun r =
      run_binary(OpCode::kAdd, a_shape, a, b_shape, b, ElementwiseOptions{Activation::kRelu6});
  expect_same_floats(r.values, naive_binary(a_shape, a_shape, a, b_shape, b, [](float x, float y) {
                       return std::min(std::max(x + y, 0.0f), 6.0f);
                     }));
}

TEST(ElementwiseBinary, MissingOptionsMeanNoActivation) {
  EXPECT_EQ(run_binary(OpCode::kAdd, {2}, {-3, 4}, {2}, {1, 1}, {}).values, (std::vector<float>{-2, 5}));
}

TEST(ElementwiseBinary, MaximumMinimumNaNFollowTflite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // TFLite: max(a, b) = a > b ? a : b, so a NaN in the first input loses and in the second wins.
  const BinaryRun max = run_binary(OpCode::kMaximum, {2}, {nan, 1}, {2}, {1, nan}, {});
  EXPECT_EQ(max.values[0], 1.0f);
  EXPECT_TRUE(std::isnan(max.values[1]));
  const BinaryRun min = run_binary(OpCode::kMinimum, {2}, {nan, 1}, {2}, {1, nan}, {});
  EXPECT_EQ(min.values[0], 1.0f);
  EXPECT_TRUE(std::isnan(min.values[1]));
}

TEST(ElementwiseBinary, Int32ArithmeticWithClamp) {
  auto run = [](OpCode code, Activation act) {
    OpTester t;
    t.add_input<int32_t>({2, 3}, {-7, 0, 3, 100, -100, 5});
    t.add_input<int32_t>({3}, {2, -3, 4});
    t.add_output(DType::kInt32);
    t.set_op(code, ElementwiseOptions{act});
    t.run();
    EXPECT_EQ(t.output_shape(), (Shape{2, 3}));
    return t.output_values<int32_t>();
  };
  EXPECT_EQ(run(OpCode::kAdd, Activation::kNone), (std::vector<int32_t>{-5, -3, 7, 102, -103, 9}));
  EXPECT_EQ(run(OpCode::kSub, Activation::kNone), (std::vector<int32_t>{-9, 3, -1, 98, -97, 1}));
  EXPECT_EQ(run(OpCode::kMul, Activation::kNone), (std::vector<int32_t>{-14, 0, 12, 200, 300, 20}));
  EXPECT_EQ(run(OpCode::kAdd, Activation::kRelu), (std::vector<int32_t>{0, 0, 7, 102, 0, 9}));
  EXPECT_EQ(run(OpCode::kMul, Activation::kRelu6), (std::vector<int32_t>{0, 0, 6, 6, 6, 6}));
  EXPECT_EQ(run(OpCode::kSub, Activation::kReluN1To1), (std::vector<int32_t>{-1, 1, -1, 1, -1, 1}));
  EXPECT_EQ(run(OpCode::kMaximum, Activation::kNone), (std::vector<int32_t>{2, 0, 4, 100, -3, 5}));
}

TEST(ElementwiseBinary, Int8MaximumComparesStoredValues) {
  Quantization q;
  q.scale = {0.5f};
  q.zero_point = {-3};
  OpTester t;
  t.add_input<int8_t>({4}, {-128, 5, 127, 0}, false, q);
  t.add_input<int8_t>({1}, {1}, false, q);
  t.add_output(DType::kInt8, {}, q);
  t.set_op(OpCode::kMaximum);
  t.run();
  EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{1, 5, 127, 1}));

  Quantization other = q;
  other.scale = {0.25f};
  OpTester bad;
  bad.add_input<int8_t>({4}, {-128, 5, 127, 0}, false, q);
  bad.add_input<int8_t>({1}, {1}, false, other);
  bad.add_output(DType::kInt8, {}, q);
  bad.set_op(OpCode::kMinimum);
  EXPECT_THROW(bad.run(), Error);
}

TEST(ElementwiseBinary, NonBroadcastableShapesThrow) {
  EXPECT_THROW(run_binary(OpCode::kAdd, {1, 4, 4, 3}, std::vector<float>(48), {4}, std::vector<float>(4)),
               Error);
  EXPECT_THROW(run_binary(OpCode::kMul, {2, 3}, std::vector<float>(6), {3, 2}, std::vector<float>(6)), Error);
  EXPECT_THROW(run_binary(OpCode::kMaximum, {5}, std::vector<float>(5), {2, 4}, std::vector<float>(8), {}),
               Error);
  try {
    run_binary(OpCode::kSub, {2, 3}, std::vector<float>(6), {2}, std::vector<float>(2));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3] and [2]"), std::string::npos) << e.what();
  }
}

TEST(ElementwiseBinary, BroadcastAboveRankSixThrows) {
  const Shape seven = {1, 1, 1, 1, 1, 1, 2};
  EXPECT_THROW(run_binary(OpCode::kAdd, seven, {1, 2}, {1}, {1}), Error);
  // Equal shapes need no broadcasting and work at any rank.
  EXPECT_EQ(run_binary(OpCode::kAdd, seven, {1, 2}, seven, {10, 20}).values, (std::vector<float>{11, 22}));
}

TEST(ElementwiseBinary, WrongTypesThrow) {
  {  // float + int32
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_input<int32_t>({2}, {1, 2});
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kAdd, ElementwiseOptions{});
    try {
      t.run();
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "input 1 has type int32, expected float32");
    }
  }
  {  // float inputs, int8 output
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_input<float>({2}, {1, 2});
    t.add_output(DType::kInt8);
    t.set_op(OpCode::kMul, ElementwiseOptions{});
    EXPECT_THROW(t.run(), Error);
  }
  {  // int32 DIV is not supported
    OpTester t;
    t.add_input<int32_t>({2}, {1, 2});
    t.add_input<int32_t>({2}, {1, 2});
    t.add_output(DType::kInt32);
    t.set_op(OpCode::kDiv, ElementwiseOptions{});
    EXPECT_THROW(t.run(), Error);
  }
  {  // one input only
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kAdd, ElementwiseOptions{});
    EXPECT_THROW(t.run(), Error);
  }
  {  // TANH is never a fused activation of ADD
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_input<float>({2}, {1, 2});
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kAdd, ElementwiseOptions{Activation::kTanh});
    EXPECT_THROW(t.run(), Error);
  }
}

BinaryRun run_prelu(const Shape& x_shape, const std::vector<float>& x, const Shape& alpha_shape,
                    const std::vector<float>& alpha) {
  OpTester t;
  t.add_input<float>(x_shape, x);
  t.add_input<float>(alpha_shape, alpha, /*constant=*/true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPrelu);
  t.run();
  return {t.output_shape(), t.output_values<float>()};
}

TEST(ElementwisePrelu, ChannelAlphaHandComputed) {
  // [1, 2, 2, 3] with alpha [1, 1, 3]: channel c of negative values is scaled by alpha[c].
  const std::vector<float> x = {-1, 2, -3, 4, -5, -6, 0, -8, 9, -10, 11, -12};
  const std::vector<float> alpha = {0.5f, 0.25f, -1};
  const std::vector<float> expected = {-0.5f, 2, 3, 4, -1.25f, 6, 0, -2, 9, -5, 11, 12};
  BinaryRun r = run_prelu({1, 2, 2, 3}, x, {1, 1, 3}, alpha);
  EXPECT_EQ(r.shape, (Shape{1, 2, 2, 3}));
  EXPECT_EQ(r.values, expected);
  EXPECT_EQ(run_prelu({1, 2, 2, 3}, x, {3}, alpha).values, expected);
}

TEST(ElementwisePrelu, RandomMatchesNaiveLoop) {
  const Shape x_shape = {2, 5, 4, 8};
  const std::vector<float> x = random_floats(320, -4, 4, 31);
  for (const Shape& alpha_shape : {Shape{8}, Shape{1, 1, 8}, Shape{5, 1, 8}, Shape{1}, Shape{2, 5, 4, 8}}) {
    const std::vector<float> alpha = random_floats(static_cast<size_t>(num_elements(alpha_shape)), -1, 1, 32);
    BinaryRun r = run_prelu(x_shape, x, alpha_shape, alpha);
    EXPECT_EQ(r.shape, x_shape);
    expect_same_floats(r.values, naive_binary(x_shape, x_shape, x, alpha_shape, alpha,
                                              [](float v, float a) { return v >= 0 ? v : v * a; }));
  }
}

TEST(ElementwisePrelu, ErrorsThrow) {
  EXPECT_THROW(run_prelu({1, 2, 2, 3}, std::vector<float>(12), {2}, {1, 1}), Error);
  OpTester t;
  t.add_input<float>({2}, {1, 2});
  t.add_input<int8_t>({2}, {1, 2});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kPrelu);
  EXPECT_THROW(t.run(), Error);
}

// `reference_only`: for inputs the backends are known to treat differently
// (see the *OnEveryBackend cases below).
std::vector<float> run_unary(OpCode code, const Shape& shape, const std::vector<float>& x,
                             OpOptions options = {}, bool reference_only = false) {
  OpTester t = reference_only ? OpTester(std::vector<std::string>{}) : OpTester();
  t.add_input<float>(shape, x);
  t.add_output(DType::kFloat32);
  t.set_op(code, std::move(options));
  t.run();
  EXPECT_EQ(t.output_shape(), shape);
  return t.output_values<float>();
}

TEST(ElementwiseActivation, ReluFamilyHandComputed) {
  const std::vector<float> x = {-7, -1.5f, -1, -0.25f, 0, 0.5f, 1, 3, 6, 6.5f};
  EXPECT_EQ(run_unary(OpCode::kRelu, {2, 5}, x), (std::vector<float>{0, 0, 0, 0, 0, 0.5f, 1, 3, 6, 6.5f}));
  EXPECT_EQ(run_unary(OpCode::kRelu6, {2, 5}, x), (std::vector<float>{0, 0, 0, 0, 0, 0.5f, 1, 3, 6, 6}));
  EXPECT_EQ(run_unary(OpCode::kReluN1To1, {2, 5}, x),
            (std::vector<float>{-1, -1, -1, -0.25f, 0, 0.5f, 1, 1, 1, 1}));
  EXPECT_EQ(run_unary(OpCode::kLeakyRelu, {2, 5}, x, LeakyReluOptions{0.5f}),
            (std::vector<float>{-3.5f, -0.75f, -0.5f, -0.125f, 0, 0.5f, 1, 3, 6, 6.5f}));
  // alpha above 1 is allowed and is not max(x, alpha * x).
  EXPECT_EQ(run_unary(OpCode::kLeakyRelu, {2}, {-1, 2}, LeakyReluOptions{2}), (std::vector<float>{-2, 2}));
}

// The reference kernels keep a NaN, as TFLite's reference kernels do; the
// XNNPACK backend gives the lower bound, as TFLite's XNNPACK delegate (and so
// LiteRT) does. docs/architecture.md, "NaN in clamps", says why both stay.
TEST(ElementwiseActivation, ReluFamilyKeepsNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (OpCode code : {OpCode::kRelu, OpCode::kRelu6, OpCode::kReluN1To1}) {
    EXPECT_TRUE(std::isnan(run_unary(code, {1}, {nan}, {}, /*reference_only=*/true)[0]));
  }
}

// XNNPACK's own sigmoid gives NaN above about 1e27; the lowering clamps first.
TEST(ElementwiseActivation, LogisticOfHugeInputsOnEveryBackend) {
  EXPECT_EQ(run_unary(OpCode::kLogistic, {4}, {1e30f, -1e30f, 3e38f, -3e38f}),
            (std::vector<float>{1.0f, 0.0f, 1.0f, 0.0f}));
}

TEST(ElementwiseActivation, HardSwish) {
  // x * relu6(x + 3) / 6
  EXPECT_EQ(run_unary(OpCode::kHardSwish, {6}, {-4, -3, -1.5f, 0, 1.5f, 3}),
            (std::vector<float>{-0.0f, -0.0f, -0.375f, 0, 1.125f, 3}));
  const std::vector<float> x = random_floats(200, -8, 8, 41);
  const std::vector<float> y = run_unary(OpCode::kHardSwish, {200}, x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    EXPECT_NEAR(y[i], v * std::clamp(v + 3, 0.0, 6.0) / 6, 1e-6 * (1 + std::abs(v))) << x[i];
  }
}

TEST(ElementwiseActivation, LogisticIsAccurateAndSafeForLargeInputs) {
  const std::vector<float> y = run_unary(OpCode::kLogistic, {7}, {0, 1, -1, 100, -100, 1e30f, -1e30f}, {},
                                         /*reference_only=*/true);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_NEAR(y[1], 0.7310585786f, 1e-7);
  EXPECT_NEAR(y[2], 0.2689414214f, 1e-7);
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_GE(y[4], 0.0f);
  EXPECT_LT(y[4], 1e-40f);
  EXPECT_EQ(y[5], 1.0f);
  EXPECT_EQ(y[6], 0.0f);
  const std::vector<float> x = random_floats(500, -30, 30, 42);
  const std::vector<float> z = run_unary(OpCode::kLogistic, {500}, x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double expected = 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])));
    // Below -9 TFLite returns exp(x), within 2e-8 of the exact value.
    EXPECT_NEAR(z[i], expected, 2e-7 * expected + 2e-8) << x[i];
  }
}

TEST(ElementwiseActivation, Tanh) {
  const std::vector<float> x = random_floats(100, -10, 10, 43);
  const std::vector<float> y = run_unary(OpCode::kTanh, {4, 25}, x);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], std::tanh(static_cast<double>(x[i])), 1e-7) << x[i];
  EXPECT_EQ(run_unary(OpCode::kTanh, {3}, {0, 100, -100}), (std::vector<float>{0, 1, -1}));
}

TEST(ElementwiseActivation, WrongTypesThrow) {
  for (OpCode code : {OpCode::kRelu, OpCode::kRelu6, OpCode::kReluN1To1, OpCode::kHardSwish,
                      OpCode::kLogistic, OpCode::kTanh, OpCode::kSoftmax, OpCode::kLeakyRelu}) {
    OpTester t;
    t.add_input<int8_t>({2}, {1, 2});
    t.add_output(DType::kFloat32);
    t.set_op(code, code == OpCode::kSoftmax     ? OpOptions{SoftmaxOptions{}}
                   : code == OpCode::kLeakyRelu ? OpOptions{LeakyReluOptions{}}
                                                : OpOptions{});
    EXPECT_THROW(t.run(), Error) << static_cast<int>(code);
  }
  OpTester t;
  t.add_input<float>({2}, {1, 2});
  t.add_output(DType::kInt32);
  t.set_op(OpCode::kRelu);
  EXPECT_THROW(t.run(), Error);
}

// Softmax in double, independently of the kernel's order of operations.
std::vector<float> naive_softmax(const std::vector<float>& x, size_t depth, double beta) {
  std::vector<float> y(x.size());
  for (size_t r = 0; r < x.size() / depth; ++r) {
    double max = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < depth; ++c) max = std::max(max, static_cast<double>(x[r * depth + c]));
    double sum = 0;
    for (size_t c = 0; c < depth; ++c) sum += std::exp((x[r * depth + c] - max) * beta);
    for (size_t c = 0; c < depth; ++c)
      y[r * depth + c] = static_cast<float>(std::exp((x[r * depth + c] - max) * beta) / sum);
  }
  return y;
}

TEST(ElementwiseSoftmax, HandComputed) {
  std::vector<float> y = run_unary(OpCode::kSoftmax, {1, 3}, {1, 2, 3}, SoftmaxOptions{1.0f});
  EXPECT_NEAR(y[0], 0.09003057f, 1e-7);
  EXPECT_NEAR(y[1], 0.24472847f, 1e-7);
  EXPECT_NEAR(y[2], 0.66524096f, 1e-7);
  // beta scales the logits: beta = ln(3) on [0, 1] gives weights 1 : 3.
  y = run_unary(OpCode::kSoftmax, {2}, {0, 1}, SoftmaxOptions{std::log(3.0f)});
  EXPECT_NEAR(y[0], 0.25f, 1e-6);
  EXPECT_NEAR(y[1], 0.75f, 1e-6);
  // beta = 0 gives the uniform distribution.
  EXPECT_EQ(run_unary(OpCode::kSoftmax, {4}, {1, -5, 30, 2}, SoftmaxOptions{0.0f}),
            (std::vector<float>(4, 0.25f)));
}

TEST(ElementwiseSoftmax, LargeLogitsAreStable) {
  const std::vector<float> y =
      run_unary(OpCode::kSoftmax, {2, 2}, {1000, 1001, -1000, -1001}, SoftmaxOptions{1.0f});
  EXPECT_NEAR(y[0], 0.26894142f, 1e-7);
  EXPECT_NEAR(y[1], 0.73105858f, 1e-7);
  EXPECT_NEAR(y[2], 0.73105858f, 1e-7);
  EXPECT_NEAR(y[3], 0.26894142f, 1e-7);
}

TEST(ElementwiseSoftmax, RandomRowsMatchNaive) {
  for (float beta : {1.0f, 0.5f, 2.5f}) {
    const Shape shape = {3, 4, 10};
    const std::vector<float> x = random_floats(120, -10, 10, 51);
    const std::vector<float> y = run_unary(OpCode::kSoftmax, shape, x, SoftmaxOptions{beta});
    const std::vector<float> expected = naive_softmax(x, 10, beta);
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected[i], 1e-6 * expected[i] + 1e-12) << i;
    for (size_t r = 0; r < 12; ++r) {
      double sum = 0;
      for (size_t c = 0; c < 10; ++c) sum += y[r * 10 + c];
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

TEST(ElementwiseSoftmax, ScalarThrows) {
  OpTester t;
  t.add_input<float>({}, {1});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSoftmax, SoftmaxOptions{});
  EXPECT_THROW(t.run(), Error);
}

}  // namespace
}  // namespace osprey
