// The integer pooling and MEAN kernels on random shapes and parameters,
// against plain loops written here from the formulas.
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

// ---------------------------------------------------------------- pooling and MEAN

TEST(QuantKernels, PoolingRandom) {
  std::mt19937 rng(15);
  for (int i = 0; i < 200; ++i) {
    const bool max = i % 2 == 0;
    const int h = rnd(rng, 1, 8), w = rnd(rng, 1, 8), c = rnd(rng, 1, 4), f = rnd(rng, 1, 3),
              s = rnd(rng, 1, 2);
    const float scale = 0.05f;
    const int32_t zp = rnd(rng, -5, 5);
    const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{h} * w * c);
    OpTester t;
    t.add_input<int8_t>({1, h, w, c}, x, false, per_tensor(scale, zp));
    t.add_output(DType::kInt8, {}, per_tensor(scale, zp));
    t.set_op(max ? OpCode::kMaxPool2D : OpCode::kAveragePool2D,
             Pool2DOptions{Padding::kSame, s, s, f, f, Activation::kNone});
    t.run();
    const int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
    const int ph = std::max((oh - 1) * s + f - h, 0) / 2, pw = std::max((ow - 1) * s + f - w, 0) / 2;
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int ch = 0; ch < c; ++ch) {
          int32_t m = -128, sum = 0, count = 0;
          for (int ky = 0; ky < f; ++ky)
            for (int kx = 0; kx < f; ++kx) {
              const int iy = oy * s - ph + ky, ix = ox * s - pw + kx;
              if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
              const int32_t v = x[static_cast<size_t>((iy * w + ix) * c + ch)];
              m = std::max(m, v);
              sum += v;
              ++count;
            }
          // Average: round half away from zero.
          const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          ASSERT_EQ(got[static_cast<size_t>((oy * ow + ox) * c + ch)], max ? m : avg);
        }
  }
}

TEST(QuantKernels, PoolingRejectsDifferentParameters) {
  OpTester t;
  t.add_input<int8_t>({1, 2, 2, 1}, {1, 2, 3, 4}, false, per_tensor(0.1f, 0));
  t.add_output(DType::kInt8, {}, per_tensor(0.2f, 0));
  t.set_op(OpCode::kMaxPool2D, Pool2DOptions{Padding::kValid, 1, 1, 2, 2, Activation::kNone});
  EXPECT_THROW(t.run(), Error);
}

TEST(QuantKernels, MeanSpatialAndGeneral) {
  std::mt19937 rng(16);
  for (Arithmetic a : {Arithmetic::kTfliteSingle, Arithmetic::kTfliteDouble}) {
    for (int i = 0; i < 60; ++i) {
      const int h = rnd(rng, 1, 6), w = rnd(rng, 1, 6), c = rnd(rng, 1, 5);
      const bool spatial = i % 2 == 0;
      const float in_s = rndf(rng, 0.02f, 0.1f), out_s = rndf(rng, 0.02f, 0.1f);
      const int32_t in_zp = rnd(rng, -10, 10), out_zp = rnd(rng, -10, 10);
      const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{h} * w * c);
      OpTester t;
      t.add_input<int8_t>({1, h, w, c}, x, false, per_tensor(in_s, in_zp));
      if (spatial) {
        t.add_input<int32_t>({2}, {1, 2}, true);
      } else {
        t.add_input<int32_t>({1}, {3}, true);
      }
      t.add_output(DType::kInt8, {}, per_tensor(out_s, out_zp));
      t.set_op(OpCode::kMean, ReducerOptions{true});
      {
        ArithmeticScope scope(a);
        t.run();
      }
      const std::vector<int8_t> got = t.output_values<int8_t>();
      if (spatial) {
        ASSERT_EQ(t.output_shape(), (Shape{1, 1, 1, c}));
        const int32_t count = h * w;
        const auto m = quant::quantize_multiplier(static_cast<double>(in_s) / out_s);
        for (int ch = 0; ch < c; ++ch) {
          int32_t acc = 0;
          for (int p = 0; p < h * w; ++p) acc += x[static_cast<size_t>(p * c + ch)] - in_zp;
          acc = quant::multiply_by_quantized_multiplier(acc, m, a);
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          ASSERT_EQ(got[static_cast<size_t>(ch)], std::clamp(acc + out_zp, -128, 127));
        }
      } else {
        ASSERT_EQ(t.output_shape(), (Shape{1, h, w, 1}));
        for (int p = 0; p < h * w; ++p) {
          int32_t sum = 0;
          for (int ch = 0; ch < c; ++ch) sum += x[static_cast<size_t>(p * c + ch)];
          const float scale = in_s / out_s;
          const float v = std::round(static_cast<float>(sum) / static_cast<float>(c) * scale +
                                     static_cast<float>(-in_zp) * scale) +
                          static_cast<float>(out_zp);
          ASSERT_EQ(got[static_cast<size_t>(p)], static_cast<int8_t>(std::clamp(v, -128.0f, 127.0f)));
        }
      }
    }
  }
}

}  // namespace
}  // namespace osprey
