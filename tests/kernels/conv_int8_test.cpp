// The integer convolution kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
// TRANSPOSE_CONV in kernels/ref/quantized/) on random shapes and parameters,
// against plain loops written here from the formulas, in all three
// arithmetic settings.
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

// ---------------------------------------------------------------- CONV_2D

int64_t g_compared = 0;  // elements checked, so a silently empty loop cannot pass

template <typename T>
void conv_case(std::mt19937& rng, Arithmetic a, bool per_channel_weights) {
  const DType type = dtype_of<T>();
  const int n = rnd(rng, 1, 2), h = rnd(rng, 1, 9), w = rnd(rng, 1, 9), groups = rnd(rng, 1, 2);
  const int cin_g = rnd(rng, 1, 4), cin = cin_g * groups, cout = groups * rnd(rng, 1, 4);
  const int kh = rnd(rng, 1, 3), kw = rnd(rng, 1, 3), sh = rnd(rng, 1, 3), sw = rnd(rng, 1, 3);
  const int dh = rnd(rng, 1, 2), dw = rnd(rng, 1, 2);
  const Padding pad =
      (h >= (kh - 1) * dh + 1 && w >= (kw - 1) * dw + 1 && rnd(rng, 0, 1)) ? Padding::kValid : Padding::kSame;
  const Activation act = random_activation(rng);
  const float in_s = rndf(rng, 0.01f, 0.1f), out_s = rndf(rng, 0.02f, 0.5f);
  const int32_t in_zp = rnd(rng, type == DType::kInt8 ? -20 : 100, type == DType::kInt8 ? 20 : 150);
  const int32_t out_zp = rnd(rng, type == DType::kInt8 ? -20 : 100, type == DType::kInt8 ? 20 : 150);
  const int32_t w_zp = type == DType::kInt8 ? 0 : rnd(rng, 100, 150);
  std::vector<float> w_scales(static_cast<size_t>(per_channel_weights ? cout : 1));
  for (float& s : w_scales) s = rndf(rng, 0.001f, 0.02f);

  const std::vector<T> x = random_q<T>(rng, int64_t{n} * h * w * cin);
  const std::vector<T> k = type == DType::kInt8 ? random_q<T>(rng, int64_t{cout} * kh * kw * cin_g, -127, 127)
                                                : random_q<T>(rng, int64_t{cout} * kh * kw * cin_g);
  std::vector<int32_t> bias(static_cast<size_t>(cout));
  for (int32_t& b : bias) b = rnd(rng, -5000, 5000);
  const bool has_bias = rnd(rng, 0, 3) > 0;

  OpTester t;
  t.add_input<T>({n, h, w, cin}, x, false, per_tensor(in_s, in_zp));
  Quantization wq = per_channel_weights ? per_channel(w_scales, 0) : per_tensor(w_scales[0], w_zp);
  t.add_input<T>({cout, kh, kw, cin_g}, k, true, wq);
  if (has_bias) t.add_input<int32_t>({cout}, bias, true);
  t.add_output(type, {}, per_tensor(out_s, out_zp));
  t.set_op(OpCode::kConv2D, Conv2DOptions{pad, sw, sh, dw, dh, act});
  {
    ArithmeticScope scope(a);
    t.run();
  }
  const auto axis = [&](int in, int kk, int s, int d) {
    const int eff = (kk - 1) * d + 1;
    const int out = pad == Padding::kSame ? (in + s - 1) / s : (in - eff + s) / s;
    const int total = std::max((out - 1) * s + eff - in, 0);
    return std::pair<int, int>{out, pad == Padding::kSame ? total / 2 : 0};
  };
  const auto [oh, ph] = axis(h, kh, sh, dh);
  const auto [ow, pw] = axis(w, kw, sw, dw);
  ASSERT_EQ(t.output_shape(), (Shape{n, oh, ow, cout}));
  const std::vector<T> got = t.output_values<T>();
  const Range r = act_range(act, out_s, out_zp, type);
  for (int b = 0; b < n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int oc = 0; oc < cout; ++oc) {
          const int g = oc / (cout / groups);
          int64_t acc = 0;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
              if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
              for (int ic = 0; ic < cin_g; ++ic) {
                const int32_t xv =
                    x[static_cast<size_t>(((b * h + iy) * w + ix) * cin + g * cin_g + ic)] - in_zp;
                const int32_t wv = k[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cin_g + ic)] - w_zp;
                acc += int64_t{xv} * wv;
              }
            }
          if (has_bias) acc += bias[static_cast<size_t>(oc)];
          const float ws = w_scales[per_channel_weights ? static_cast<size_t>(oc) : 0];
          const int32_t want = conv_requant(static_cast<int32_t>(acc), in_s, ws, out_s, out_zp, r, a, type);
          ASSERT_EQ(got[static_cast<size_t>(((b * oh + oy) * ow + ox) * cout + oc)], want)
              << "at " << b << "," << oy << "," << ox << "," << oc;
          ++g_compared;
        }
}

TEST(QuantKernels, Conv2DRandom) {
  std::mt19937 rng(11);
  for (Arithmetic a : kAllArithmetic) {
    for (int i = 0; i < 60; ++i) {
      conv_case<int8_t>(rng, a, true);
      conv_case<int8_t>(rng, a, false);
      conv_case<uint8_t>(rng, a, false);
    }
  }
  EXPECT_GT(g_compared, 20000);
}

// ---------------------------------------------------------------- DEPTHWISE_CONV_2D

template <typename T>
void depthwise_case(std::mt19937& rng, Arithmetic a, bool per_channel_weights) {
  const DType type = dtype_of<T>();
  const int h = rnd(rng, 1, 9), w = rnd(rng, 1, 9), cin = rnd(rng, 1, 5), mult = rnd(rng, 1, 2);
  const int cout = cin * mult, kh = rnd(rng, 1, 3), kw = rnd(rng, 1, 3), sh = rnd(rng, 1, 2),
            sw = rnd(rng, 1, 2);
  const Activation act = random_activation(rng);
  const float in_s = rndf(rng, 0.01f, 0.1f), out_s = rndf(rng, 0.01f, 0.2f);
  const int32_t in_zp = type == DType::kInt8 ? rnd(rng, -10, 10) : rnd(rng, 120, 135);
  const int32_t out_zp = type == DType::kInt8 ? rnd(rng, -10, 10) : rnd(rng, 120, 135);
  const int32_t w_zp = type == DType::kInt8 ? 0 : 128;
  std::vector<float> w_scales(static_cast<size_t>(per_channel_weights ? cout : 1));
  for (float& s : w_scales) s = rndf(rng, 0.001f, 0.05f);
  const std::vector<T> x = random_q<T>(rng, int64_t{h} * w * cin);
  const std::vector<T> k = random_q<T>(rng, int64_t{kh} * kw * cout, type == DType::kInt8 ? -127 : 0,
                                       127 + (type == DType::kUInt8) * 128);
  std::vector<int32_t> bias(static_cast<size_t>(cout));
  for (int32_t& b : bias) b = rnd(rng, -3000, 3000);
  OpTester t;
  t.add_input<T>({1, h, w, cin}, x, false, per_tensor(in_s, in_zp));
  t.add_input<T>({1, kh, kw, cout}, k, true,
                 per_channel_weights ? per_channel(w_scales, 3) : per_tensor(w_scales[0], w_zp));
  t.add_input<int32_t>({cout}, bias, true);
  t.add_output(type, {}, per_tensor(out_s, out_zp));
  t.set_op(OpCode::kDepthwiseConv2D, DepthwiseConv2DOptions{Padding::kSame, sw, sh, 1, 1, mult, act});
  {
    ArithmeticScope scope(a);
    t.run();
  }
  const int oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
  const int ph = std::max((oh - 1) * sh + kh - h, 0) / 2, pw = std::max((ow - 1) * sw + kw - w, 0) / 2;
  ASSERT_EQ(t.output_shape(), (Shape{1, oh, ow, cout}));
  const std::vector<T> got = t.output_values<T>();
  const Range r = act_range(act, out_s, out_zp, type);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int oc = 0; oc < cout; ++oc) {
        const int ic = oc / mult;
        int64_t acc = bias[static_cast<size_t>(oc)];
        for (int ky = 0; ky < kh; ++ky)
          for (int kx = 0; kx < kw; ++kx) {
            const int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
            acc += int64_t{x[static_cast<size_t>((iy * w + ix) * cin + ic)] - in_zp} *
                   (k[static_cast<size_t>((ky * kw + kx) * cout + oc)] - w_zp);
          }
        const float ws = w_scales[per_channel_weights ? static_cast<size_t>(oc) : 0];
        ASSERT_EQ(got[static_cast<size_t>((oy * ow + ox) * cout + oc)],
                  conv_requant(static_cast<int32_t>(acc), in_s, ws, out_s, out_zp, r, a, type));
      }
}

TEST(QuantKernels, DepthwiseConv2DRandom) {
  std::mt19937 rng(12);
  for (Arithmetic a : kAllArithmetic) {
    for (int i = 0; i < 60; ++i) {
      depthwise_case<int8_t>(rng, a, true);
      depthwise_case<int8_t>(rng, a, false);
      depthwise_case<uint8_t>(rng, a, false);
    }
  }
}

// ---------------------------------------------------------------- FULLY_CONNECTED

TEST(QuantKernels, FullyConnectedRandom) {
  std::mt19937 rng(13);
  for (Arithmetic a : kAllArithmetic) {
    for (int i = 0; i < 80; ++i) {
      const int rows = rnd(rng, 1, 4), depth = rnd(rng, 1, 20), units = rnd(rng, 1, 10);
      const float in_s = rndf(rng, 0.01f, 0.1f), w_s = rndf(rng, 0.001f, 0.02f),
                  out_s = rndf(rng, 0.05f, 0.5f);
      const int32_t in_zp = rnd(rng, -10, 10), out_zp = rnd(rng, -10, 10);
      const Activation act = random_activation(rng);
      const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{rows} * depth);
      const std::vector<int8_t> k = random_q<int8_t>(rng, int64_t{units} * depth, -127, 127);
      std::vector<int32_t> bias(static_cast<size_t>(units));
      for (int32_t& b : bias) b = rnd(rng, -2000, 2000);
      OpTester t;
      t.add_input<int8_t>({rows, depth}, x, false, per_tensor(in_s, in_zp));
      t.add_input<int8_t>({units, depth}, k, true, per_tensor(w_s, 0));
      t.add_input<int32_t>({units}, bias, true);
      t.add_output(DType::kInt8, {}, per_tensor(out_s, out_zp));
      t.set_op(OpCode::kFullyConnected, FullyConnectedOptions{act, false});
      {
        ArithmeticScope scope(a);
        t.run();
      }
      ASSERT_EQ(t.output_shape(), (Shape{rows, units}));
      const std::vector<int8_t> got = t.output_values<int8_t>();
      const Range r = act_range(act, out_s, out_zp, DType::kInt8);
      for (int row = 0; row < rows; ++row)
        for (int u = 0; u < units; ++u) {
          int32_t acc = bias[static_cast<size_t>(u)];
          for (int d = 0; d < depth; ++d) {
            acc += (x[static_cast<size_t>(row * depth + d)] - in_zp) * k[static_cast<size_t>(u * depth + d)];
          }
          int32_t want;
          if (a == Arithmetic::kLiteRT) {
            want = quant::requantize_fp32(acc, in_s * w_s / out_s, out_zp, r.lo, r.hi);
          } else {
            // TFLite's FC takes the scale product in float.
            const auto m = quant::quantize_multiplier(static_cast<double>(in_s * w_s) / out_s);
            want = std::clamp(quant::multiply_by_quantized_multiplier(acc, m, a) + out_zp, r.lo, r.hi);
          }
          ASSERT_EQ(got[static_cast<size_t>(row * units + u)], want);
        }
    }
  }
}

// ---------------------------------------------------------------- TRANSPOSE_CONV

TEST(QuantKernels, TransposeConvRandom) {
  std::mt19937 rng(14);
  for (Arithmetic a : kAllArithmetic) {
    for (int i = 0; i < 40; ++i) {
      const int h = rnd(rng, 1, 6), w = rnd(rng, 1, 6), cin = rnd(rng, 1, 4), cout = rnd(rng, 1, 4);
      const int k = rnd(rng, 1, 4), s = rnd(rng, 1, 3);
      const Padding pad = rnd(rng, 0, 1) ? Padding::kSame : Padding::kValid;
      const int oh = pad == Padding::kSame ? h * s : (h - 1) * s + k;
      const int ow = pad == Padding::kSame ? w * s : (w - 1) * s + k;
      const float in_s = rndf(rng, 0.01f, 0.1f), out_s = rndf(rng, 0.05f, 0.3f);
      std::vector<float> w_scales(static_cast<size_t>(cout));
      for (float& v : w_scales) v = rndf(rng, 0.001f, 0.02f);
      const int32_t in_zp = rnd(rng, -10, 10), out_zp = rnd(rng, -10, 10);
      const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{h} * w * cin);
      const std::vector<int8_t> wt = random_q<int8_t>(rng, int64_t{cout} * k * k * cin, -127, 127);
      std::vector<int32_t> bias(static_cast<size_t>(cout));
      for (int32_t& b : bias) b = rnd(rng, -2000, 2000);
      OpTester t;
      t.add_input<int32_t>({4}, {1, oh, ow, cout}, true);
      t.add_input<int8_t>({cout, k, k, cin}, wt, true, per_channel(w_scales, 0));
      t.add_input<int8_t>({1, h, w, cin}, x, false, per_tensor(in_s, in_zp));
      t.add_input<int32_t>({cout}, bias, true);
      t.add_output(DType::kInt8, {}, per_tensor(out_s, out_zp));
      t.set_op(OpCode::kTransposeConv, TransposeConvOptions{pad, s, s, Activation::kNone});
      {
        ArithmeticScope scope(a);
        t.run();
      }
      ASSERT_EQ(t.output_shape(), (Shape{1, oh, ow, cout}));
      // Forward-conv padding for an input of the output's size.
      const auto pad_before = [&](int out) {
        const int fwd = pad == Padding::kSame ? (out + s - 1) / s : (out + s - k) / s;
        return std::max((fwd - 1) * s + k - out, 0) / 2;
      };
      const int py = pad_before(oh), px = pad_before(ow);
      std::vector<int64_t> acc(static_cast<size_t>(oh * ow * cout), 0);
      for (int iy = 0; iy < h; ++iy)
        for (int ix = 0; ix < w; ++ix)
          for (int ic = 0; ic < cin; ++ic)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int oy = iy * s - py + ky, ox = ix * s - px + kx;
                if (oy < 0 || ox < 0 || oy >= oh || ox >= ow) continue;
                for (int oc = 0; oc < cout; ++oc) {
                  acc[static_cast<size_t>((oy * ow + ox) * cout + oc)] +=
                      int64_t{x[static_cast<size_t>((iy * w + ix) * cin + ic)] - in_zp} *
                      wt[static_cast<size_t>(((oc * k + ky) * k + kx) * cin + ic)];
                }
              }
      const std::vector<int8_t> got = t.output_values<int8_t>();
      for (size_t j = 0; j < acc.size(); ++j) {
        const int oc = static_cast<int>(j % static_cast<size_t>(cout));
        const int32_t total = static_cast<int32_t>(acc[j] + bias[static_cast<size_t>(oc)]);
        ASSERT_EQ(got[j], conv_requant(total, in_s, w_scales[static_cast<size_t>(oc)], out_s, out_zp,
                                       {-128, 127}, a, DType::kInt8));
      }
    }
  }
}

TEST(QuantKernels, ConvRejectsBadParameters) {
  {  // int8 weights with a zero point
    OpTester t;
    t.add_input<int8_t>({1, 1, 1, 1}, {1}, false, per_tensor(0.1f, 0));
    t.add_input<int8_t>({1, 1, 1, 1}, {1}, true, per_tensor(0.1f, 3));
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kConv2D, Conv2DOptions{});
    EXPECT_THROW(t.run(), Error);
  }
  {  // float bias on an int8 conv
    OpTester t;
    t.add_input<int8_t>({1, 1, 1, 1}, {1}, false, per_tensor(0.1f, 0));
    t.add_input<int8_t>({1, 1, 1, 1}, {1}, true, per_tensor(0.1f, 0));
    t.add_input<float>({1}, {1.0f}, true);
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kConv2D, Conv2DOptions{});
    EXPECT_THROW(t.run(), Error);
  }
  {  // per-channel scales on the wrong axis
    OpTester t;
    t.add_input<int8_t>({1, 1, 1, 2}, {1, 2}, false, per_tensor(0.1f, 0));
    t.add_input<int8_t>({2, 1, 1, 2}, {1, 2, 3, 4}, true, per_channel({0.1f, 0.2f}, 3));
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kConv2D, Conv2DOptions{});
    EXPECT_THROW(t.run(), Error);
  }
}

TEST(QuantKernels, AccumulatorSaturatesToTheOutputRange) {
  // Large accumulators end at the type limits, never wrap.
  std::vector<int8_t> x(64, 127), w(64, 127);
  for (Arithmetic a : kAllArithmetic) {
    OpTester t;
    t.add_input<int8_t>({1, 64}, x, false, per_tensor(1.0f, -128));
    t.add_input<int8_t>({1, 64}, w, true, per_tensor(1.0f, 0));
    t.add_output(DType::kInt8, {}, per_tensor(1.0f, 0));
    t.set_op(OpCode::kFullyConnected, FullyConnectedOptions{});
    ArithmeticScope scope(a);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>()[0], 127);
  }
}

}  // namespace
}  // namespace osprey
