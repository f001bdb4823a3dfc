// Reference QUANTIZE and DEQUANTIZE: float16 bit patterns, per-tensor and per-channel affine
// parameters, rounding of halves in each arithmetic, saturation, requantization and malformed
// parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using quant::Arithmetic;
using quant_test::ArithmeticScope;
using quant_test::kAllArithmetic;
using quant_test::per_tensor;
using testing::OpTester;

constexpr float kInf = std::numeric_limits<float>::infinity();

Quantization channel_quantization(std::vector<float> scales, std::vector<int64_t> zero_points, int32_t axis) {
  Quantization q;
  q.scale = std::move(scales);
  q.zero_point = std::move(zero_points);
  q.axis = axis;
  return q;
}

std::vector<float> dequantize_f16(const std::vector<uint16_t>& bits) {
  std::vector<uint8_t> bytes(bits.size() * 2);
  std::memcpy(bytes.data(), bits.data(), bytes.size());
  OpTester t;
  t.add_raw_input(DType::kFloat16, {static_cast<int32_t>(bits.size())}, bytes, /*constant=*/true);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDequantize);
  t.run();
  return t.output_values<float>();
}

template <typename Q>
std::vector<float> dequantize(const Shape& shape, const std::vector<Q>& q, const Quantization& quant) {
  OpTester t;
  t.add_input<Q>(shape, q, false, quant);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kDequantize);
  t.run();
  EXPECT_EQ(t.output_shape(), shape);
  return t.output_values<float>();
}

template <typename Q>
std::vector<Q> quantize(const Shape& shape, const std::vector<float>& x, const Quantization& quant) {
  OpTester t;
  t.add_input<float>(shape, x);
  t.add_output(dtype_of<Q>(), {}, quant);
  t.set_op(OpCode::kQuantize);
  t.run();
  EXPECT_EQ(t.output_shape(), shape);
  return t.output_values<Q>();
}

template <typename P, typename Q>
std::vector<Q> requantize(const std::vector<P>& p, const Quantization& in_quant,
                          const Quantization& out_quant) {
  OpTester t;
  t.add_input<P>({static_cast<int32_t>(p.size())}, p, false, in_quant);
  t.add_output(dtype_of<Q>(), {}, out_quant);
  t.set_op(OpCode::kQuantize);
  t.run();
  return t.output_values<Q>();
}

TEST(ElementwiseDequantize, Float16KnownBitPatterns) {
  const std::vector<float> y = dequantize_f16(
      {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x0000, 0x8000, 0x3555});
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[2], 65504.0f);
  EXPECT_EQ(y[3], 5.9604644775390625e-8f);     // 2^-24, the smallest subnormal
  EXPECT_EQ(y[4], 6.0975551605224609375e-5f);  // 1023 * 2^-24, the largest subnormal
  EXPECT_EQ(y[5], 6.103515625e-5f);            // 2^-14, the smallest normal
  EXPECT_EQ(y[6], kInf);
  EXPECT_EQ(y[7], -kInf);
  EXPECT_EQ(y[8], 0.0f);
  EXPECT_FALSE(std::signbit(y[8]));
  EXPECT_EQ(y[9], 0.0f);
  EXPECT_TRUE(std::signbit(y[9]));
  EXPECT_EQ(y[10], 0.333251953125f);
}

TEST(ElementwiseDequantize, Float16NaNs) {
  const std::vector<float> y = dequantize_f16({0x7E00, 0xFE01, 0x7C01});
  for (float v : y) EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(std::signbit(y[1]));
}

TEST(ElementwiseDequantize, Float16AllBitPatterns) {
  std::vector<uint16_t> bits(65536);
  for (size_t i = 0; i < bits.size(); ++i) bits[i] = static_cast<uint16_t>(i);
  const std::vector<float> y = dequantize_f16(bits);
  for (size_t i = 0; i < bits.size(); ++i) {
    // sign * 2^(e - 15) * (1 + m / 1024), or sign * 2^-14 * (m / 1024) for e == 0.
    const int e = static_cast<int>((i >> 10) & 0x1f);
    const int m = static_cast<int>(i & 0x3ff);
    const double sign = (i & 0x8000) ? -1.0 : 1.0;
    if (e == 31) {
      if (m == 0)
        EXPECT_EQ(y[i], sign * kInf) << i;
      else
        EXPECT_TRUE(std::isnan(y[i])) << i;
    } else {
      const double expected = e == 0 ? sign * std::pow(2.0, -14) * (m / 1024.0)
                                     : sign * std::pow(2.0, e - 15) * (1.0 + m / 1024.0);
      EXPECT_EQ(static_cast<double>(y[i]), expected) << i;
    }
  }
}

TEST(ElementwiseDequantize, PerTensorTypes) {
  EXPECT_EQ(dequantize<int8_t>({4}, {-128, -3, 0, 127}, per_tensor(0.5f, -3)),
            (std::vector<float>{-62.5f, 0, 1.5f, 65}));
  EXPECT_EQ(dequantize<uint8_t>({3}, {0, 128, 255}, per_tensor(0.25f, 128)),
            (std::vector<float>{-32, 0, 31.75f}));
  const std::vector<float> y = dequantize<int16_t>({3}, {-32768, 1, 32767}, per_tensor(0.001f, 0));
  EXPECT_EQ(y[0], static_cast<float>(static_cast<double>(0.001f) * -32768));
  EXPECT_EQ(y[1], 0.001f);
  EXPECT_EQ(y[2], static_cast<float>(static_cast<double>(0.001f) * 32767));
}

TEST(ElementwiseDequantize, PerChannelHandComputed) {
  // Last axis of [2, 1, 1, 3].
  EXPECT_EQ(dequantize<int8_t>({2, 1, 1, 3}, {4, 4, 4, -4, -4, -4},
                               channel_quantization({1, 0.5f, 0.25f}, {0, 1, -2}, 3)),
            (std::vector<float>{4, 1.5f, 1.5f, -4, -2.5f, -0.5f}));
  // First axis of [2, 3].
  EXPECT_EQ(dequantize<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6}, channel_quantization({2, 0.5f}, {0, 0}, 0)),
            (std::vector<float>{2, 4, 6, 2, 2.5f, 3}));
}

TEST(ElementwiseDequantize, PerChannelMiddleAxisMatchesNaive) {
  const Shape shape = {2, 3, 4};
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> q(24);
  for (int8_t& v : q) v = static_cast<int8_t>(dist(rng));
  const std::vector<float> scales = {0.1f, 0.02f, 3.0f};
  const std::vector<int64_t> zps = {0, -7, 12};
  const std::vector<float> y = dequantize<int8_t>(shape, q, channel_quantization(scales, zps, 1));
  for (int a = 0; a < 2; ++a) {
    for (int c = 0; c < 3; ++c) {
      for (int b = 0; b < 4; ++b) {
        const size_t i = static_cast<size_t>((a * 3 + c) * 4 + b);
        EXPECT_EQ(y[i], static_cast<float>(static_cast<double>(scales[c]) * (q[i] - zps[c]))) << i;
      }
    }
  }
}

TEST(ElementwiseDequantize, ErrorsThrow) {
  auto expect_error = [](DType in_type, const Shape& shape, const Quantization& quant, DType out_type) {
    OpTester t;
    t.add_raw_input(in_type, shape, std::vector<uint8_t>(64), false, quant);
    t.add_output(out_type);
    t.set_op(OpCode::kDequantize);
    EXPECT_THROW(t.run(), Error);
  };
  expect_error(DType::kInt8, {4}, {}, DType::kFloat32);                      // no parameters
  expect_error(DType::kInt8, {4}, per_tensor(0.5f, 0), DType::kInt8);        // output type
  expect_error(DType::kFloat32, {4}, per_tensor(0.5f, 0), DType::kFloat32);  // input type
  expect_error(DType::kInt32, {4}, per_tensor(0.5f, 0), DType::kFloat32);    // input type
  expect_error(DType::kInt8, {4}, per_tensor(0.5f, 200), DType::kFloat32);   // zero point range
  expect_error(DType::kUInt8, {4}, per_tensor(0.5f, -1), DType::kFloat32);   // zero point range
  Quantization mismatch = channel_quantization({1, 2}, {0}, 0);
  expect_error(DType::kInt8, {2, 2}, mismatch, DType::kFloat32);  // scales vs zero points
  expect_error(DType::kInt8, {2, 3}, channel_quantization({1, 2}, {0, 0}, 1),
               DType::kFloat32);  // 2 scales, 3 channels
  expect_error(DType::kInt8, {2, 3}, channel_quantization({1, 2}, {0, 0}, 2),
               DType::kFloat32);  // axis past rank
  expect_error(DType::kInt8, {2, 3}, channel_quantization({1, 2}, {0, 0}, -1),
               DType::kFloat32);  // negative axis
  try {
    OpTester t;
    t.add_input<int8_t>({2, 3}, std::vector<int8_t>(6), false, channel_quantization({1, 2}, {0, 0}, 1));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kDequantize);
    t.run();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "input 0 has 2 per-channel scales but dimension 1 has size 3");
  }
}

TEST(ElementwiseQuantize, TfliteArithmeticsRoundHalvesAwayFromZero) {
  for (Arithmetic a : {Arithmetic::kTfliteSingle, Arithmetic::kTfliteDouble}) {
    ArithmeticScope scope(a);
    EXPECT_EQ(quantize<int8_t>({8}, {0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49999997f, 126.5f, -128.5f},
                               per_tensor(1, 0)),
              (std::vector<int8_t>{1, -1, 2, 3, -3, 0, 127, -128}));
    // x / 0.5 is exact, so the halves really are halves: round then add the zero point.
    EXPECT_EQ(quantize<uint8_t>({5}, {0.25f, -0.25f, 0.75f, -0.75f, 0}, per_tensor(0.5f, 10)),
              (std::vector<uint8_t>{11, 9, 12, 8, 10}));
    // Divided: -1.55 / 0.1 is -15.499999 in float.
    EXPECT_EQ(quantize<int8_t>({1}, {-1.5499999523162842f}, per_tensor(0.1f, 0)), (std::vector<int8_t>{-15}));
  }
}

// LiteRT's (XNNPACK's) QUANTIZE to int8 or uint8 with one scale: times the
// inverse scale in float, halves to even; int16 and per-channel stay TFLite's.
TEST(ElementwiseQuantize, LiteRTArithmeticRoundsHalvesToEven) {
  ArithmeticScope scope(Arithmetic::kLiteRT);
  EXPECT_EQ(
      quantize<int8_t>({8}, {0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49999997f, 126.5f, -128.5f}, per_tensor(1, 0)),
      (std::vector<int8_t>{0, 0, 2, 2, -2, 0, 126, -128}));
  EXPECT_EQ(quantize<uint8_t>({5}, {0.25f, -0.25f, 0.75f, -0.75f, 0}, per_tensor(0.5f, 10)),
            (std::vector<uint8_t>{10, 10, 12, 8, 10}));
  // Multiplied: -1.55 * (1 / 0.1) is -15.5 in float.
  EXPECT_EQ(quantize<int8_t>({1}, {-1.5499999523162842f}, per_tensor(0.1f, 0)), (std::vector<int8_t>{-16}));
  // 0.9745098 * 255 = 248.5 (pose_landmark_lite's input as LiteRT quantizes it).
  EXPECT_EQ(quantize<uint8_t>({1}, {0.9745098352432251f}, per_tensor(1.0f / 255, 0)),
            (std::vector<uint8_t>{248}));
  EXPECT_EQ(quantize<int16_t>({4}, {0.25f, -0.75f, 1000, -1000}, per_tensor(0.5f, 0)),
            (std::vector<int16_t>{1, -2, 2000, -2000}));
  EXPECT_EQ(
      quantize<int8_t>({2, 2}, {0.25f, -0.25f, 0.25f, -0.25f}, channel_quantization({0.5f, 0.5f}, {0, 0}, 1)),
      (std::vector<int8_t>{1, -1, 1, -1}));
}

TEST(ElementwiseQuantize, Saturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(quantize<int8_t>({5}, {1000, -1000, kInf, -kInf, nan}, per_tensor(0.1f, 5)),
            (std::vector<int8_t>{127, -128, 127, -128, 5}));
  EXPECT_EQ(quantize<uint8_t>({4}, {300, -1, 1e30f, -1e30f}, per_tensor(1, 0)),
            (std::vector<uint8_t>{255, 0, 255, 0}));
  EXPECT_EQ(quantize<int16_t>({4}, {40000, -40000, 32767.4f, -32768.4f}, per_tensor(1, 0)),
            (std::vector<int16_t>{32767, -32768, 32767, -32768}));
}

TEST(ElementwiseQuantize, PerChannel) {
  EXPECT_EQ(quantize<int8_t>({2, 2}, {1, 1, -3, 5}, channel_quantization({0.5f, 2}, {0, -1}, 1)),
            (std::vector<int8_t>{2, 0, -6, 2}));
  EXPECT_EQ(quantize<int8_t>({2, 2}, {1, 1, -3, 500}, channel_quantization({0.5f, 2}, {0, -1}, 0)),
            (std::vector<int8_t>{2, 2, -3, 127}));
}

TEST(ElementwiseQuantize, RandomRoundTripWithinHalfAStep) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(1000);
  for (float& v : x) v = dist(rng);
  const float scale = 1.0f / 127;
  const Quantization quant = per_tensor(scale, 0);
  const std::vector<int8_t> q = quantize<int8_t>({1000}, x, quant);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(q[i], static_cast<int8_t>(std::nearbyint(x[i] * (1.0f / scale)))) << x[i];
  }
  const std::vector<float> y = dequantize<int8_t>({1000}, q, quant);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], scale / 2 + 1e-7f);
}

TEST(ElementwiseQuantize, Int8ToUInt8WithSameScaleShiftsBy128) {
  std::vector<int8_t> all(256);
  std::vector<uint8_t> shifted(256);
  for (int i = 0; i < 256; ++i) {
    all[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
    shifted[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  }
  EXPECT_EQ((requantize<int8_t, uint8_t>(all, per_tensor(0.1f, -5), per_tensor(0.1f, 123))), shifted);
  EXPECT_EQ((requantize<uint8_t, int8_t>(shifted, per_tensor(0.1f, 123), per_tensor(0.1f, -5))), all);
}

TEST(ElementwiseQuantize, RequantizeRoundsAndSaturates) {
  // Scale 0.5 to 1: values halve, halves round up (TFLite's fixed-point
  // multiply, either build; LiteRT agrees, tests/ops/quantize_litert.mjs).
  for (Arithmetic a : kAllArithmetic) {
    ArithmeticScope scope(a);
    EXPECT_EQ((requantize<int8_t, int8_t>({3, -3, 1, -1, 127, -128}, per_tensor(0.5f, 0), per_tensor(1, 0))),
              (std::vector<int8_t>{2, -1, 1, 0, 64, -64}));
  }
  // Scale 1 to 0.25: values grow 4x and saturate.
  EXPECT_EQ((requantize<int8_t, int8_t>({10, 100, -100}, per_tensor(1, 0), per_tensor(0.25f, 0))),
            (std::vector<int8_t>{40, 127, -128}));
  // int16 (scale 1/256) to int8 (scale 1/16, zero point 3).
  EXPECT_EQ(
      (requantize<int16_t, int8_t>({24, -24, 4096, 0}, per_tensor(1.0f / 256, 0), per_tensor(1.0f / 16, 3))),
      (std::vector<int8_t>{5, 1, 127, 3}));
}

TEST(ElementwiseQuantize, ErrorsThrow) {
  {  // float output
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_output(DType::kFloat32, {}, per_tensor(1, 0));
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
  {  // output without parameters
    OpTester t;
    t.add_input<float>({2}, {1, 2});
    t.add_output(DType::kInt8);
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
  {  // per-channel scales that do not match the axis
    OpTester t;
    t.add_input<float>({2, 3}, std::vector<float>(6));
    t.add_output(DType::kInt8, {}, channel_quantization({1, 2}, {0, 0}, 1));
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
  {  // per-channel requantization
    OpTester t;
    t.add_input<int8_t>({2, 2}, std::vector<int8_t>(4), false, channel_quantization({1, 2}, {0, 0}, 1));
    t.add_output(DType::kUInt8, {}, per_tensor(1, 128));
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
  {  // requantizing input without parameters
    OpTester t;
    t.add_input<int8_t>({2}, {1, 2});
    t.add_output(DType::kUInt8, {}, per_tensor(1, 128));
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
  {  // int32 input
    OpTester t;
    t.add_input<int32_t>({2}, {1, 2}, false, per_tensor(1, 0));
    t.add_output(DType::kInt8, {}, per_tensor(1, 0));
    t.set_op(OpCode::kQuantize);
    EXPECT_THROW(t.run(), Error);
  }
}

}  // namespace
}  // namespace osprey
