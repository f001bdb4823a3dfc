// The integer elementwise kernels (ADD, SUB, MUL, the activations, SOFTMAX)
// on random shapes and parameters, against plain loops written here from the
// formulas, in all three arithmetic settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::OpTester;

// ---------------------------------------------------------------- ADD, SUB, MUL

template <typename T>
void binary_case(std::mt19937& rng, OpCode code, Arithmetic a) {
  const DType type = dtype_of<T>();
  // Broadcasting: b is a, or [C], or [1,1,1,C].
  const int h = rnd(rng, 1, 5), w = rnd(rng, 1, 5), c = rnd(rng, 1, 6);
  const int shape_kind = rnd(rng, 0, 2);
  const Shape sa{1, h, w, c};
  const Shape sb = shape_kind == 0 ? sa : shape_kind == 1 ? Shape{c} : Shape{1, 1, 1, c};
  const float s1 = rndf(rng, 0.01f, 0.2f), s2 = rndf(rng, 0.01f, 0.2f);
  const float so = code == OpCode::kMul ? rndf(rng, 0.01f, 0.2f) * s1 * s2 * 50 : rndf(rng, 0.02f, 0.4f);
  const int32_t base = type == DType::kInt8 ? 0 : 128;
  const int32_t z1 = base + rnd(rng, -20, 20), z2 = base + rnd(rng, -20, 20), zo = base + rnd(rng, -20, 20);
  const Activation act = random_activation(rng);
  const std::vector<T> x = random_q<T>(rng, num_elements(sa));
  const std::vector<T> y = random_q<T>(rng, num_elements(sb));
  OpTester t;
  t.add_input<T>(sa, x, false, per_tensor(s1, z1));
  t.add_input<T>(sb, y, false, per_tensor(s2, z2));
  t.add_output(type, {}, per_tensor(so, zo));
  t.set_op(code, ElementwiseOptions{act});
  {
    ArithmeticScope scope(a);
    t.run();
  }
  ASSERT_EQ(t.output_shape(), sa);
  const std::vector<T> got = t.output_values<T>();
  const Range r = act_range(act, so, zo, type);
  for (int64_t i = 0; i < num_elements(sa); ++i) {
    const int32_t va = x[static_cast<size_t>(i)];
    const int32_t vb = y[static_cast<size_t>(shape_kind == 0 ? i : i % c)];
    int32_t want = 0;
    bool xnnpack = a == Arithmetic::kLiteRT;
    if (code == OpCode::kMul) {
      const float pos = s1 * s2 / so;
      xnnpack = xnnpack && pos >= 0x1.0p-16f && pos < 0x1.0p+8f;
      if (xnnpack) {
        want = quant::requantize_fp32((va - z1) * (vb - z2), pos, zo, r.lo, r.hi);
      } else {
        const auto m = quant::quantize_multiplier(static_cast<double>(s1) * s2 / so);
        want =
            std::clamp(zo + quant::multiply_by_quantized_multiplier((va - z1) * (vb - z2), m, a), r.lo, r.hi);
      }
    } else {
      const float ra = s1 / so, rb = s2 / so;
      xnnpack = xnnpack && ra >= 0x1.0p-10f && ra < 0x1.0p+8f && rb >= 0x1.0p-10f && rb < 0x1.0p+8f;
      if (xnnpack) {
        // XNNPACK: 21-bit multipliers, one shift, round half up.
        int e = 0;
        std::frexp(std::max(ra, rb), &e);
        const int shift = 20 - (e - 1);
        const int64_t ma = std::lrint(std::ldexp(ra, shift));
        const int64_t mb = std::lrint(std::ldexp(code == OpCode::kSub ? -rb : rb, shift));
        const int64_t acc = (int64_t{1} << (shift - 1)) + (va - z1) * ma + (vb - z2) * mb;
        want = std::clamp(static_cast<int32_t>(acc >> shift) + zo, r.lo, r.hi);
      } else {
        const double twice_max = 2 * std::max(s1, s2);
        const auto m1 = quant::quantize_multiplier(s1 / twice_max);
        const auto m2 = quant::quantize_multiplier(s2 / twice_max);
        const auto mo =
            quant::quantize_multiplier(twice_max / static_cast<double>(static_cast<float>(1 << 20) * so));
        const int32_t a1 =
            quant::multiply_by_quantized_multiplier_smaller_than_one((va - z1) * (1 << 20), m1, a);
        const int32_t b1 =
            quant::multiply_by_quantized_multiplier_smaller_than_one((vb - z2) * (1 << 20), m2, a);
        const int32_t raw = code == OpCode::kAdd ? a1 + b1 : a1 - b1;
        want =
            std::clamp(quant::multiply_by_quantized_multiplier_smaller_than_one(raw, mo, a) + zo, r.lo, r.hi);
      }
    }
    ASSERT_EQ(got[static_cast<size_t>(i)], want) << "element " << i;
  }
}

TEST(QuantKernels, AddSubMulRandom) {
  std::mt19937 rng(17);
  for (Arithmetic a : kAllArithmetic) {
    for (OpCode code : {OpCode::kAdd, OpCode::kSub, OpCode::kMul}) {
      for (int i = 0; i < 40; ++i) {
        binary_case<int8_t>(rng, code, a);
        binary_case<uint8_t>(rng, code, a);
      }
    }
  }
}

// ---------------------------------------------------------------- activations

TEST(QuantKernels, PreluRandom) {
  std::mt19937 rng(18);
  for (Arithmetic a : kAllArithmetic) {
    for (int i = 0; i < 40; ++i) {
      const int h = rnd(rng, 1, 5), w = rnd(rng, 1, 5), c = rnd(rng, 1, 6);
      const float si = rndf(rng, 0.02f, 0.1f), sa = rndf(rng, 0.005f, 0.02f), so = rndf(rng, 0.02f, 0.1f);
      const int32_t zi = rnd(rng, -20, 20), za = rnd(rng, -60, 60), zo = rnd(rng, -20, 20);
      const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{h} * w * c);
      const std::vector<int8_t> alpha = random_q<int8_t>(rng, c);
      OpTester t;
      t.add_input<int8_t>({1, h, w, c}, x, false, per_tensor(si, zi));
      t.add_input<int8_t>({1, 1, c}, alpha, true, per_tensor(sa, za));
      t.add_output(DType::kInt8, {}, per_tensor(so, zo));
      t.set_op(OpCode::kPrelu);
      {
        ArithmeticScope scope(a);
        t.run();
      }
      const auto m1 = quant::quantize_multiplier(static_cast<double>(si / so));
      const auto m2 = quant::quantize_multiplier(static_cast<double>(si * sa / so));
      const std::vector<int8_t> got = t.output_values<int8_t>();
      for (size_t j = 0; j < x.size(); ++j) {
        const int32_t v = x[j] - zi;
        const int32_t o = v >= 0 ? quant::multiply_by_quantized_multiplier(v, m1, a)
                                 : quant::multiply_by_quantized_multiplier(
                                       v * (alpha[j % static_cast<size_t>(c)] - za), m2, a);
        ASSERT_EQ(got[j], std::clamp(o + zo, -128, 127));
      }
    }
  }
}

TEST(QuantKernels, ReluFamilyRequantizesThenClamps) {
  std::mt19937 rng(19);
  for (Arithmetic a : kAllArithmetic) {
    for (OpCode code : {OpCode::kRelu, OpCode::kRelu6, OpCode::kReluN1To1}) {
      for (int i = 0; i < 20; ++i) {
        const float si = rndf(rng, 0.01f, 0.1f), so = rndf(rng, 0.01f, 0.1f);
        const int32_t zi = rnd(rng, -30, 30), zo = rnd(rng, -128, -100);
        const std::vector<int8_t> x = random_q<int8_t>(rng, 64);
        OpTester t;
        t.add_input<int8_t>({64}, x, false, per_tensor(si, zi));
        t.add_output(DType::kInt8, {}, per_tensor(so, zo));
        t.set_op(code);
        {
          ArithmeticScope scope(a);
          t.run();
        }
        const auto m = quant::quantize_multiplier(static_cast<double>(si / so));
        const float lo = code == OpCode::kReluN1To1 ? -1.0f : 0.0f;
        const int32_t qlo = std::max(-128, zo + static_cast<int32_t>(std::round(lo / so)));
        const int32_t qhi = code == OpCode::kRelu
                                ? 127
                                : std::min(127, zo + static_cast<int32_t>(std::round(
                                                         (code == OpCode::kRelu6 ? 6.0f : 1.0f) / so)));
        const std::vector<int8_t> got = t.output_values<int8_t>();
        for (size_t j = 0; j < x.size(); ++j) {
          const int32_t v = zo + quant::multiply_by_quantized_multiplier(x[j] - zi, m, a);
          ASSERT_EQ(got[j], std::clamp(v, qlo, qhi));
        }
      }
    }
  }
}

// A hostile scale ratio (here 2^40, saturated to TFLite's largest multiplier,
// 2^30 x (1 - 2^-31)) takes a value of -2 to -(2^31 - 1); plus a negative zero
// point, TFLite's int32 sum would overflow. It saturates instead: -128, as the
// true value, and +1 gives 127. Found by the model-loader fuzzer (PRELU,
// UBSan); the same sum in MUL, LEAKY_RELU and RELU6, whose bounds 6 / scale
// were cast to int32 from far past it.
TEST(QuantKernels, HostileScaleRatiosSaturate) {
  // x = {-2, 1} of scale 1 (and a constant 1 of scale 1 for a binary op) ->
  // an output of scale 2^-40 and zero point -91.
  const auto hostile = [](const char* what, OpCode code, bool binary, OpOptions options = {}) {
    OpTester t;
    t.add_input<int8_t>({2}, {-2, 1}, false, per_tensor(1.0f, 0));
    if (binary) t.add_input<int8_t>({1}, {1}, true, per_tensor(1.0f, 0));
    t.add_output(DType::kInt8, {}, per_tensor(0x1.0p-40f, -91));
    t.set_op(code, std::move(options));
    for (quant::Arithmetic a : kAllArithmetic) {
      quant_test::ArithmeticScope scope(a);
      t.run();
      // RELU6's lower bound is its zero point.
      const int8_t low = code == OpCode::kRelu6 ? -91 : -128;
      EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{low, 127}))
          << what << ", arithmetic " << static_cast<int>(a);
    }
  };
  hostile("PRELU", OpCode::kPrelu, true);
  hostile("MUL", OpCode::kMul, true);
  hostile("LEAKY_RELU", OpCode::kLeakyRelu, false, LeakyReluOptions{1.0f});
  hostile("RELU6", OpCode::kRelu6, false);
}

// TFLite's kernel: two fixed-point multipliers (the TFLite arithmetics).
TEST(QuantKernels, LeakyRelu) {
  for (quant::Arithmetic a : {quant::Arithmetic::kTfliteSingle, quant::Arithmetic::kTfliteDouble}) {
    quant_test::ArithmeticScope scope(a);
    std::mt19937 rng(20);
    const std::vector<int8_t> x = random_q<int8_t>(rng, 256);
    OpTester t;
    t.add_input<int8_t>({256}, x, false, per_tensor(0.05f, 3));
    t.add_output(DType::kInt8, {}, per_tensor(0.04f, -2));
    t.set_op(OpCode::kLeakyRelu, LeakyReluOptions{0.1f});
    t.run();
    const auto mi = quant::quantize_multiplier(static_cast<double>(0.05f / 0.04f));
    const auto ma = quant::quantize_multiplier(static_cast<double>(0.05f * 0.1f / 0.04f));
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (size_t j = 0; j < x.size(); ++j) {
      const int32_t v = x[j] - 3;
      const int32_t o = -2 + quant::multiply_by_quantized_multiplier(v, v >= 0 ? mi : ma, a);
      ASSERT_EQ(got[j], std::clamp(o, -128, 127));
    }
  }
}

// LiteRT's (XNNPACK's): multipliers with 8 fractional bits, rounded half up
// (tests/ops/leaky_relu_litert.mjs checks it against LiteRT).
TEST(QuantKernels, LeakyReluAsLiteRT) {
  quant_test::ArithmeticScope scope(quant::Arithmetic::kLiteRT);
  std::vector<int8_t> x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
  OpTester t;
  t.add_input<int8_t>({256}, x, false, per_tensor(0.05f, 3));
  t.add_output(DType::kInt8, {}, per_tensor(0.04f, -2));
  t.set_op(OpCode::kLeakyRelu, LeakyReluOptions{0.1f});
  t.run();
  const int32_t identity = 320, alpha = 32;  // 256 * 1.25, 256 * 0.125
  const std::vector<int8_t> got = t.output_values<int8_t>();
  for (size_t j = 0; j < x.size(); ++j) {
    const int32_t v = x[j] - 3;
    const int32_t o = (v * (v >= 0 ? identity : alpha) + (-2 * 256) + 128) >> 8;
    ASSERT_EQ(got[j], std::clamp(o, -128, 127)) << "input " << int{x[j]};
  }
}

TEST(QuantKernels, HardSwishTracksTheFloatFunction) {
  // TFLite's 16-bit fixed-point formulation is checked against the real function:
  // within one output step everywhere (its documented accuracy), exact at the ends.
  for (float si : {0.02f, 0.05f, 0.1f}) {
    std::vector<int8_t> x(256);
    for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
    const float so = 0.04f;
    const int32_t zi = 5, zo = -100;
    OpTester t;
    t.add_input<int8_t>({256}, x, false, per_tensor(si, zi));
    t.add_output(DType::kInt8, {}, per_tensor(so, zo));
    t.set_op(OpCode::kHardSwish);
    t.run();
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (size_t j = 0; j < x.size(); ++j) {
      const float v = si * static_cast<float>(x[j] - zi);
      const float hs = v * std::min(6.0f, std::max(0.0f, v + 3.0f)) / 6.0f;
      const float want = std::clamp(std::round(hs / so) + static_cast<float>(zo), -128.0f, 127.0f);
      ASSERT_LE(std::abs(static_cast<float>(got[j]) - want), 1.0f)
          << "input " << int{x[j]} << " scale " << si;
    }
  }
}

// The table of LOGISTIC or TANH as `arithmetic` defines it (lut.cpp): XNNPACK's
// (the function from double rounded once to float, then half to even) or
// TFLite's LUTPopulate (in float, half away from zero).
int8_t expected_table_value(bool logistic, quant::Arithmetic arithmetic, float v) {
  const float steps = logistic ? 256.0f : 128.0f, zero_point = logistic ? -128.0f : 0.0f;
  float q = 0;
  if (arithmetic == quant::Arithmetic::kLiteRT) {
    const double e = std::exp(static_cast<double>(v));
    const float y = static_cast<float>(logistic ? e / (1 + e) : std::tanh(static_cast<double>(v)));
    q = std::nearbyint(y * steps + zero_point);
  } else {
    const float y = logistic ? 1.0f / (1.0f + std::exp(-v)) : std::tanh(v);
    q = std::round(y * steps) + zero_point;
  }
  return static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
}

TEST(QuantKernels, LogisticTanhTables) {
  std::vector<int8_t> x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
  // Input parameters: plain ones, and ones that put a value on a tie (the
  // selfie_segmentation_landscape LOGISTIC whose input 50 LiteRT rounds down to
  // 222.5 -> 222 (uint8), and a TANH that lies on -64.5).
  struct Case {
    OpCode code;
    float scale;
    int zero_point;
  };
  for (const Case& c :
       {Case{OpCode::kLogistic, 0.06f, -7}, Case{OpCode::kTanh, 0.06f, -7},
        Case{OpCode::kLogistic, 0.0461800359f, 9}, Case{OpCode::kTanh, 0.00956082996f, -51}}) {
    for (quant::Arithmetic a : {quant::Arithmetic::kLiteRT, quant::Arithmetic::kTfliteDouble}) {
      ArithmeticScope scope(a);
      const bool logistic = c.code == OpCode::kLogistic;
      OpTester t;
      t.add_input<int8_t>({256}, x, false, per_tensor(c.scale, c.zero_point));
      t.add_output(DType::kInt8, {}, logistic ? per_tensor(1.0f / 256, -128) : per_tensor(1.0f / 128, 0));
      t.set_op(c.code);
      t.run();
      const std::vector<int8_t> got = t.output_values<int8_t>();
      for (size_t j = 0; j < x.size(); ++j) {
        const float v = c.scale * static_cast<float>(x[j] - c.zero_point);
        ASSERT_EQ(got[j], expected_table_value(logistic, a, v))
            << (logistic ? "LOGISTIC" : "TANH") << " input " << int{x[j]} << " scale " << c.scale << ", "
            << quant::arithmetic_name(a);
      }
    }
  }
  // The tie itself: LiteRT's 222 - 128 = 94, TFLite's own kernel 95.
  for (quant::Arithmetic a : {quant::Arithmetic::kLiteRT, quant::Arithmetic::kTfliteDouble}) {
    ArithmeticScope scope(a);
    OpTester t;
    t.add_input<int8_t>({1}, {50}, false, per_tensor(0.0461800359f, 9));
    t.add_output(DType::kInt8, {}, per_tensor(1.0f / 256, -128));
    t.set_op(OpCode::kLogistic);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>()[0], a == quant::Arithmetic::kLiteRT ? 94 : 95);
  }
  // The fixed output parameters are enforced.
  OpTester bad;
  bad.add_input<int8_t>({4}, {1, 2, 3, 4}, false, per_tensor(0.1f, 0));
  bad.add_output(DType::kInt8, {}, per_tensor(0.01f, 0));
  bad.set_op(OpCode::kLogistic);
  EXPECT_THROW(bad.run(), Error);
}

TEST(QuantKernels, SoftmaxRows) {
  std::mt19937 rng(21);
  const std::vector<int8_t> x = random_q<int8_t>(rng, 3 * 10);
  OpTester t;
  t.add_input<int8_t>({3, 10}, x, false, per_tensor(0.1f, 2));
  t.add_output(DType::kInt8, {}, per_tensor(1.0f / 256, -128));
  t.set_op(OpCode::kSoftmax, SoftmaxOptions{1.0f});
  t.run();
  const std::vector<int8_t> got = t.output_values<int8_t>();
  for (int r = 0; r < 3; ++r) {
    double sum = 0, mx = -1e9;
    for (int j = 0; j < 10; ++j) mx = std::max<double>(mx, 0.1 * x[static_cast<size_t>(r * 10 + j)]);
    for (int j = 0; j < 10; ++j) sum += std::exp(0.1 * x[static_cast<size_t>(r * 10 + j)] - mx);
    for (int j = 0; j < 10; ++j) {
      const double p = std::exp(0.1 * x[static_cast<size_t>(r * 10 + j)] - mx) / sum;
      ASSERT_LE(std::abs((got[static_cast<size_t>(r * 10 + j)] + 128) / 256.0 - p), 1.0 / 256 + 1e-6);
    }
  }
}

}  // namespace
}  // namespace osprey
