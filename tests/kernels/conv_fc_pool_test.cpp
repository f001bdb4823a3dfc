// Reference FULLY_CONNECTED, AVERAGE_POOL_2D and MAX_POOL_2D: hand-computed cases,
// comparisons with naive loops written here independently, and rejected models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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
using testing::uniform_floats;

// `tolerance[i]` bounds the float rounding of element i.
void expect_near(const OpTester& t, const Shape& shape, const std::vector<double>& values,
                 const std::vector<double>& tolerance) {
  ASSERT_EQ(t.output_shape(), shape);
  const std::vector<float> got = t.output_values<float>();
  ASSERT_EQ(got.size(), values.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], values[i], tolerance[i]) << "element " << i;
}

// ---------------------------------------------------------------------------
// FULLY_CONNECTED

FullyConnectedOptions fc_options(Activation act = Activation::kNone, bool keep_num_dims = false) {
  FullyConnectedOptions o;
  o.activation = act;
  o.keep_num_dims = keep_num_dims;
  return o;
}

// rows [1 2 3], [4 5 6] times weights [1 0 -1], [2 2 2] plus bias [0.5, -1].
TEST(FullyConnected, HandComputed) {
  OpTester t;
  t.add_input<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  t.add_input<float>({2, 3}, {1, 0, -1, 2, 2, 2}, true);
  t.add_input<float>({2}, {0.5f, -1}, true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kFullyConnected, fc_options());
  t.run();
  expect_values(t, {2, 2}, {-1.5f, 11, -1.5f, 29});
}

TEST(FullyConnected, ReluAndMissingBias) {
  OpTester t;
  t.add_input<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  t.add_input<float>({2, 3}, {1, 0, -1, 2, 2, 2}, true);
  t.add_missing_input();
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kFullyConnected, fc_options(Activation::kRelu));
  t.run();
  expect_values(t, {2, 2}, {0, 12, 0, 30});
}

TEST(FullyConnected, AllActivations) {
  const struct {
    Activation act;
    std::vector<float> want;
  } cases[] = {
      {Activation::kNone, {-7, -0.5f, 0.5f, 7}},
      {Activation::kRelu, {0, 0, 0.5f, 7}},
      {Activation::kReluN1To1, {-1, -0.5f, 0.5f, 1}},
      {Activation::kRelu6, {0, 0, 0.5f, 6}},
  };
  for (const auto& c : cases) {
    OpTester t;
    t.add_input<float>({4, 1}, {-7, -0.5f, 0.5f, 7});
    t.add_input<float>({1, 1}, {1}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kFullyConnected, fc_options(c.act));
    t.run();
    expect_values(t, {4, 1}, c.want);
  }
}

// Without keep_num_dims the input is flattened to rows of K, whatever its shape;
// with it the leading dims survive.
TEST(FullyConnected, OutputShapes) {
  const struct {
    Shape input;
    bool keep;
    Shape want;
  } cases[] = {
      {{1, 2, 3}, false, {2, 2}}, {{1, 2, 3}, true, {1, 2, 2}},
      {{3, 2}, false, {2, 2}},    {{6}, false, {2, 2}},
      {{3}, true, {2}},           {{2, 1, 1, 3}, true, {2, 1, 1, 2}},
  };
  for (const auto& c : cases) {
    OpTester t;
    t.add_input<float>(c.input, {1, 2, 3, 4, 5, 6});
    t.add_input<float>({2, 3}, {1, 0, -1, 2, 2, 2}, true);
    t.add_input<float>({2}, {0.5f, -1}, true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kFullyConnected, fc_options(Activation::kNone, c.keep));
    t.run();
    EXPECT_EQ(t.output_shape(), c.want);
    const std::vector<float> got = t.output_values<float>();
    const std::vector<float> want = {-1.5f, 11, -1.5f, 29};
    for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]);
  }
}

TEST(FullyConnected, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(5);
  for (int i = 0; i < 60; ++i) {
    const int rows = random_int(rng, 1, 5), k = random_int(rng, 1, 40), units = random_int(rng, 1, 9);
    const bool keep = random_int(rng, 0, 1) != 0, has_bias = random_int(rng, 0, 1) != 0;
    const Activation act = kAllActivations[random_int(rng, 0, 3)];
    // Split the rows over two leading dims now and then.
    const Shape input = rows % 2 == 0 && i % 2 ? Shape{2, rows / 2, k} : Shape{rows, k};
    const std::vector<float> in = uniform_floats(int64_t{rows} * k, rng);
    const std::vector<float> w = uniform_floats(int64_t{units} * k, rng);
    const std::vector<float> bias = uniform_floats(units, rng, 3.0f);
    OpTester t;
    t.add_input<float>(input, in);
    t.add_input<float>({units, k}, w, true);
    if (has_bias) {
      t.add_input<float>({units}, bias, true);
    } else {
      t.add_missing_input();
    }
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kFullyConnected, fc_options(act, keep));
    t.run();
    std::vector<double> want, tol;
    for (int r = 0; r < rows; ++r) {
      for (int u = 0; u < units; ++u) {
        double sum = has_bias ? bias[static_cast<size_t>(u)] : 0.0, mag = std::abs(sum);
        for (int d = 0; d < k; ++d) {
          const double term = double{in[static_cast<size_t>(r * k + d)]} * w[static_cast<size_t>(u * k + d)];
          sum += term;
          mag += std::abs(term);
        }
        want.push_back(activate(act, sum));
        tol.push_back(1e-5 * mag + 1e-6);
      }
    }
    Shape want_shape = input;
    want_shape.back() = units;
    if (!keep) want_shape = {rows, units};
    SCOPED_TRACE(::testing::Message() << "case " << i);
    expect_near(t, want_shape, want, tol);
  }
}

TEST(FullyConnected, RejectsBadModels) {
  const auto run = [](const Shape& input, const Shape& weights, const Shape& bias, const std::string& needle,
                      bool keep = false, DType weights_type = DType::kFloat32) {
    OpTester t;
    t.add_input<float>(input, std::vector<float>(64, 1.0f));
    t.add_raw_input(weights_type, weights, std::vector<uint8_t>(256, 0), true);
    t.add_input<float>(bias, std::vector<float>(16, 0.0f), true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kFullyConnected, fc_options(Activation::kNone, keep));
    expect_error(t, needle);
  };
  run({2, 3}, {2, 3, 1}, {2}, "weights tensor has 3 dims, expected 2");
  run({2, 4}, {2, 3}, {2}, "input has 8 elements, not a multiple of the weights' 3");
  run({3, 2}, {2, 3}, {2}, "input's last dim 2 differs from the weights' 3", /*keep=*/true);
  run({2, 3}, {2, 3}, {3}, "bias has 3 elements, expected 2");
  run({2, 3}, {2, 3}, {2}, "weights type int8 is not supported", false, DType::kInt8);
  run({}, {2, 1}, {2}, "input is a scalar");
  {
    OpTester t;  // (int8/uint8 inputs are routed to the quantized kernels instead)
    t.add_raw_input(DType::kFloat16, {2, 3}, std::vector<uint8_t>(12, 0), false);
    t.add_input<float>({2, 3}, std::vector<float>(6, 0.0f), true);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kFullyConnected, fc_options());
    expect_error(t, "input type float16 is not supported by the float reference kernel");
  }
  {
    OpTester t;
    t.add_input<float>({2, 3}, std::vector<float>(6, 0.0f));
    t.add_input<float>({2, 3}, std::vector<float>(6, 0.0f), true);
    t.add_output(DType::kInt32);
    t.set_op(OpCode::kFullyConnected, fc_options());
    expect_error(t, "output type int32 is not supported");
  }
}

// ---------------------------------------------------------------------------
// AVERAGE_POOL_2D and MAX_POOL_2D

Pool2DOptions pool_options(Padding padding, int filter_h, int filter_w, int stride_h, int stride_w,
                           Activation act = Activation::kNone) {
  Pool2DOptions o;
  o.padding = padding;
  o.filter_h = filter_h;
  o.filter_w = filter_w;
  o.stride_h = stride_h;
  o.stride_w = stride_w;
  o.activation = act;
  return o;
}

void run_pool(OpTester& t, OpCode code, const Shape& shape, const std::vector<float>& in,
              const Pool2DOptions& o) {
  t.add_input<float>(shape, in);
  t.add_output(DType::kFloat32);
  t.set_op(code, o);
  t.run();
}

// SAME 3x3 over 3x3: the average divides by the elements inside the input (4, 6 or 9).
TEST(PoolAverage, SameDividesByInBoundsCount) {
  OpTester t;
  run_pool(t, OpCode::kAveragePool2D, {1, 3, 3, 1}, ramp(9), pool_options(Padding::kSame, 3, 3, 1, 1));
  expect_values(t, {1, 3, 3, 1}, {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7});
}

TEST(PoolAverage, Valid2x2Stride2TwoChannels) {
  // Channel 1 is channel 0 times -1.
  std::vector<float> in;
  for (float v : ramp(16)) {
    in.push_back(v);
    in.push_back(-v);
  }
  OpTester t;
  run_pool(t, OpCode::kAveragePool2D, {1, 4, 4, 2}, in, pool_options(Padding::kValid, 2, 2, 2, 2));
  expect_values(t, {1, 2, 2, 2}, {3.5f, -3.5f, 5.5f, -5.5f, 11.5f, -11.5f, 13.5f, -13.5f});
}

TEST(PoolAverage, Relu6Clamps) {
  OpTester t;
  run_pool(t, OpCode::kAveragePool2D, {1, 1, 4, 1}, {-4, -2, 10, 20},
           pool_options(Padding::kValid, 1, 2, 1, 2, Activation::kRelu6));
  expect_values(t, {1, 1, 2, 1}, {0, 6});
}

TEST(PoolMax, Valid2x2Stride2) {
  OpTester t;
  run_pool(t, OpCode::kMaxPool2D, {1, 4, 4, 1}, ramp(16), pool_options(Padding::kValid, 2, 2, 2, 2));
  expect_values(t, {1, 2, 2, 1}, {6, 8, 14, 16});
}

// Even input, stride 2: the padding goes after the data, so windows are rows/cols 0-2 and 2-3.
TEST(PoolMax, SameEvenSizeStride2) {
  OpTester t;
  run_pool(t, OpCode::kMaxPool2D, {1, 4, 4, 1}, ramp(16), pool_options(Padding::kSame, 3, 3, 2, 2));
  expect_values(t, {1, 2, 2, 1}, {11, 12, 15, 16});
}

// All-negative input: padding must not contribute zeros to the max.
TEST(PoolMax, SameIgnoresPadding) {
  OpTester t;
  run_pool(t, OpCode::kMaxPool2D, {1, 3, 3, 1}, ramp(9, -1.0f, -1.0f),
           pool_options(Padding::kSame, 3, 3, 1, 1));
  expect_values(t, {1, 3, 3, 1}, {-1, -1, -2, -1, -1, -2, -4, -4, -5});
}

TEST(PoolMax, ReluN1To1Clamps) {
  OpTester t;
  run_pool(t, OpCode::kMaxPool2D, {1, 1, 4, 1}, {-4, -2, 0.25f, 20},
           pool_options(Padding::kValid, 1, 2, 1, 2, Activation::kReluN1To1));
  expect_values(t, {1, 1, 2, 1}, {-1, 1});
}

// A window far beyond the input (SAME padding) covers all of it from every
// output. XNNPACK would keep a pointer per window tap (gigabytes, found by
// fuzzing): it must leave such a pooling to the reference kernel.
TEST(PoolMax, AWindowFarBeyondTheInputIsClipped) {
  OpTester t;
  run_pool(t, OpCode::kMaxPool2D, {1, 6, 12, 1}, ramp(72), pool_options(Padding::kSame, 40000, 40000, 1, 1));
  expect_values(t, {1, 6, 12, 1}, std::vector<float>(72, 72));
}

// Naive pooling over the full window, skipping positions outside the input.
void expect_pool_matches_naive(const OpTester& t, bool average, const Shape& d, const std::vector<float>& in,
                               const Pool2DOptions& o) {
  const auto axis = [&](int size, int k, int s, int* pad) {
    const int out = o.padding == Padding::kSame ? (size + s - 1) / s : (size - k + s) / s;
    *pad = std::max((out - 1) * s + k - size, 0) / 2;
    return out;
  };
  int pad_h = 0, pad_w = 0;
  const int oh = axis(d[1], o.filter_h, o.stride_h, &pad_h), ow = axis(d[2], o.filter_w, o.stride_w, &pad_w);
  std::vector<double> want, tol;
  for (int b = 0; b < d[0]; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int c = 0; c < d[3]; ++c) {
          double sum = 0, best = -std::numeric_limits<double>::infinity();
          int count = 0;
          for (int ky = 0; ky < o.filter_h; ++ky)
            for (int kx = 0; kx < o.filter_w; ++kx) {
              const int y = oy * o.stride_h - pad_h + ky, x = ox * o.stride_w - pad_w + kx;
              if (y < 0 || y >= d[1] || x < 0 || x >= d[2]) continue;
              const double v = in[static_cast<size_t>(((b * d[1] + y) * d[2] + x) * d[3] + c)];
              sum += v;
              best = std::max(best, v);
              ++count;
            }
          want.push_back(activate(o.activation, average ? sum / count : best));
          tol.push_back(average ? 1e-6 * count : 0.0);
        }
  expect_near(t, {d[0], oh, ow, d[3]}, want, tol);
}

TEST(Pool2D, MatchesNaiveLoopOnRandomShapes) {
  std::mt19937 rng(11);
  for (int i = 0; i < 80; ++i) {
    const bool average = i % 2 == 0;
    const Pool2DOptions o = pool_options(random_int(rng, 0, 1) ? Padding::kSame : Padding::kValid,
                                         random_int(rng, 1, 4), random_int(rng, 1, 4), random_int(rng, 1, 3),
                                         random_int(rng, 1, 3), kAllActivations[random_int(rng, 0, 3)]);
    const Shape d = {random_int(rng, 1, 2), o.filter_h - 1 + random_int(rng, 1, 7),
                     o.filter_w - 1 + random_int(rng, 1, 7), random_int(rng, 1, 3)};
    SCOPED_TRACE(::testing::Message() << "case " << i << (average ? " average" : " max"));
    const std::vector<float> in = uniform_floats(num_elements(d), rng, 3.0f);
    OpTester t;
    run_pool(t, average ? OpCode::kAveragePool2D : OpCode::kMaxPool2D, d, in, o);
    expect_pool_matches_naive(t, average, d, in, o);
  }
}

TEST(Pool2D, RejectsBadModels) {
  const auto run = [](OpCode code, const Shape& shape, const Pool2DOptions& o, const std::string& needle,
                      DType type = DType::kFloat32) {
    OpTester t;
    t.add_raw_input(type, shape, std::vector<uint8_t>(1024, 0), false);
    t.add_output(DType::kFloat32);
    t.set_op(code, o);
    expect_error(t, needle);
  };
  for (OpCode code : {OpCode::kAveragePool2D, OpCode::kMaxPool2D}) {
    run(code, {4, 4, 1}, pool_options(Padding::kSame, 2, 2, 1, 1), "input tensor has 3 dims, expected 4");
    run(code, {1, 4, 4, 1}, pool_options(Padding::kSame, 2, 2, 1, 1), "input type int32 is not supported",
        DType::kInt32);
    run(code, {1, 4, 4, 1}, pool_options(Padding::kSame, 0, 2, 1, 1), "filter 0x2 must be positive");
    run(code, {1, 4, 4, 1}, pool_options(Padding::kSame, 2, 2, 1, 0), "width stride 0 must be positive");
    run(code, {1, 4, 4, 1}, pool_options(Padding::kValid, 5, 2, 1, 1), "larger than input");
    run(code, {1, 4, 4, 1}, pool_options(Padding::kSame, 2, 2, 1, 1, Activation::kSignBit),
        "unsupported fused activation");
  }
  {
    OpTester t;  // two inputs
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4, 0.0f));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kMaxPool2D, pool_options(Padding::kSame, 2, 2, 1, 1));
    expect_error(t, "has 2 inputs, expected 1 to 1");
  }
}

}  // namespace
}  // namespace osprey
