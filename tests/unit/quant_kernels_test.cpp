// The integer reference kernels (kernels/ref/quantized/) on random shapes and
// parameters, against plain loops written here from the formulas (using the
// requantization arithmetic tested in quant_fixed_point_test.cpp), in all
// three arithmetic settings; plus the ops whose float kernels move int8 bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/op_tester.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey {
namespace {

using quant::Arithmetic;
using testing::OpTester;

constexpr Arithmetic kAllArithmetic[] = {Arithmetic::kLiteRT, Arithmetic::kTfliteSingle,
                                         Arithmetic::kTfliteDouble};

// Sets the process-wide arithmetic for one scope.
class ArithmeticScope {
 public:
  explicit ArithmeticScope(Arithmetic a) : before_(quant::arithmetic()) { quant::set_arithmetic(a); }
  ~ArithmeticScope() { quant::set_arithmetic(before_); }

 private:
  Arithmetic before_;
};

int rnd(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}
float rndf(std::mt19937& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

template <typename T>
std::vector<T> random_q(std::mt19937& rng, int64_t n, int lo = std::numeric_limits<T>::min(),
                        int hi = std::numeric_limits<T>::max()) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(rnd(rng, lo, hi));
  return v;
}

Quantization per_tensor(float scale, int64_t zp) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zp};
  return q;
}

Quantization per_channel(const std::vector<float>& scales, int axis) {
  Quantization q;
  q.scale = scales;
  q.zero_point.assign(scales.size(), 0);
  q.axis = axis;
  return q;
}

struct Range {
  int32_t lo, hi;
};

Range act_range(Activation a, float scale, int32_t zp, DType t) {
  const int32_t qmin = t == DType::kInt8 ? -128 : 0, qmax = t == DType::kInt8 ? 127 : 255;
  auto q = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  switch (a) {
    case Activation::kRelu: return {std::max(qmin, q(0)), qmax};
    case Activation::kRelu6: return {std::max(qmin, q(0)), std::min(qmax, q(6))};
    case Activation::kReluN1To1: return {std::max(qmin, q(-1)), std::min(qmax, q(1))};
    default: return {qmin, qmax};
  }
}

// Requantizes a conv-family accumulator as the kernels are specified to.
int32_t conv_requant(int32_t acc, float in_s, float w_s, float out_s, int32_t zp, Range r, Arithmetic a,
                     DType t) {
  if (a == Arithmetic::kLiteRT) return quant::requantize_fp32(acc, in_s * w_s / out_s, zp, r.lo, r.hi);
  const double real =
      t == DType::kInt8 ? static_cast<double>(in_s) * w_s / out_s : static_cast<double>(in_s * w_s) / out_s;
  const int32_t v = quant::multiply_by_quantized_multiplier(acc, quant::quantize_multiplier(real), a) + zp;
  return std::clamp(v, r.lo, r.hi);
}

Activation random_activation(std::mt19937& rng) {
  constexpr Activation all[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                Activation::kReluN1To1};
  return all[rnd(rng, 0, 3)];
}

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

TEST(QuantKernels, LeakyRelu) {
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
    const int32_t o = -2 + quant::multiply_by_quantized_multiplier(v, v >= 0 ? mi : ma, quant::arithmetic());
    ASSERT_EQ(got[j], std::clamp(o, -128, 127));
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

TEST(QuantKernels, LogisticTanhTables) {
  std::vector<int8_t> x(256);
  for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
  for (OpCode code : {OpCode::kLogistic, OpCode::kTanh}) {
    const bool logistic = code == OpCode::kLogistic;
    OpTester t;
    t.add_input<int8_t>({256}, x, false, per_tensor(0.06f, -7));
    t.add_output(DType::kInt8, {}, logistic ? per_tensor(1.0f / 256, -128) : per_tensor(1.0f / 128, 0));
    t.set_op(code);
    t.run();
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (size_t j = 0; j < x.size(); ++j) {
      const float v = 0.06f * static_cast<float>(x[j] + 7);
      const float y = logistic ? 1.0f / (1.0f + std::exp(-v)) : std::tanh(v);
      const float q = std::round(y * (logistic ? 256.0f : 128.0f)) + (logistic ? -128.0f : 0.0f);
      ASSERT_EQ(got[j], static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f)));
    }
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

// ---------------------------------------------------------------- RESIZE_BILINEAR

TEST(QuantKernels, ResizeBilinearMatchesXnnpackFormula) {
  std::mt19937 rng(22);
  for (int i = 0; i < 60; ++i) {
    const int ih = rnd(rng, 1, 6), iw = rnd(rng, 1, 6), oh = rnd(rng, 1, 12), ow = rnd(rng, 1, 12),
              c = rnd(rng, 1, 3);
    const int mode = rnd(rng, 0, 2);  // 0 legacy, 1 align_corners, 2 half_pixel_centers
    const std::vector<int8_t> x = random_q<int8_t>(rng, int64_t{ih} * iw * c);
    OpTester t;
    t.add_input<int8_t>({1, ih, iw, c}, x, false, per_tensor(0.1f, 0));
    t.add_input<int32_t>({2}, {oh, ow}, true);
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{mode == 1, mode == 2});
    {
      ArithmeticScope scope(Arithmetic::kLiteRT);
      t.run();
    }
    const auto tap = [&](int o, int in, int out) {
      const bool align = mode == 1;
      const float scale =
          static_cast<float>(in - (align ? 1 : 0)) / static_cast<float>(out - (align ? 1 : 0));
      float pos = static_cast<float>(o) * scale;
      if (mode == 2) pos = std::clamp(pos + 0.5f * scale - 0.5f, 0.0f, static_cast<float>(in - 1));
      if (align && out == 1) pos = 0;
      const int lo = std::min(static_cast<int>(pos), in - 1);
      return std::tuple<int, int, int32_t>{
          lo, std::min(lo + 1, in - 1),
          static_cast<int32_t>(std::lrint((pos - static_cast<float>(lo)) * 2048))};
    };
    const std::vector<int8_t> got = t.output_values<int8_t>();
    for (int y = 0; y < oh; ++y)
      for (int xx = 0; xx < ow; ++xx)
        for (int ch = 0; ch < c; ++ch) {
          const auto [y0, y1, wy] = tap(y, ih, oh);
          const auto [x0, x1, wx] = tap(xx, iw, ow);
          auto at = [&](int yy, int xc) { return int32_t{x[static_cast<size_t>((yy * iw + xc) * c + ch)]}; };
          const int32_t top = at(y0, x0) * 2048 + (at(y0, x1) - at(y0, x0)) * wx;
          const int32_t bottom = at(y1, x0) * 2048 + (at(y1, x1) - at(y1, x0)) * wx;
          const int32_t want = (top * 2048 + (bottom - top) * wy + (1 << 21)) >> 22;
          ASSERT_EQ(got[static_cast<size_t>((y * ow + xx) * c + ch)], want);
        }
  }
}

TEST(QuantKernels, ResizeBilinearTfliteArithmeticUsesTheReferenceKernel) {
  // TFLite's ResizeBilinearInteger on a 2x upscale of a ramp: within one of the XNNPACK result.
  std::vector<int8_t> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i * 7 - 50);
  std::vector<int8_t> results[2];
  for (int k = 0; k < 2; ++k) {
    OpTester t;
    t.add_input<int8_t>({1, 4, 4, 1}, x, false, per_tensor(0.1f, 0));
    t.add_input<int32_t>({2}, {8, 8}, true);
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kResizeBilinear, ResizeOptions{false, true});
    ArithmeticScope scope(k == 0 ? Arithmetic::kLiteRT : Arithmetic::kTfliteDouble);
    t.run();
    results[k] = t.output_values<int8_t>();
  }
  for (size_t i = 0; i < results[0].size(); ++i) EXPECT_LE(std::abs(results[0][i] - results[1][i]), 1);
}

// ---------------------------------------------------------------- byte-moving ops on int8

TEST(QuantKernels, FloatKernelsMoveInt8Bytes) {
  std::mt19937 rng(23);
  const std::vector<int8_t> x = random_q<int8_t>(rng, 2 * 3 * 4);
  const Quantization q = per_tensor(0.1f, -3);
  {  // RESHAPE
    OpTester t;
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_input<int32_t>({2}, {6, 4}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kReshape);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), x);
  }
  {  // CONCATENATION of two inputs sharing parameters
    OpTester t;
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_input<int8_t>({2, 3, 4}, x, false, q);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kConcatenation, ConcatenationOptions{2, Activation::kNone});
    t.run();
    const std::vector<int8_t> got = t.output_values<int8_t>();
    ASSERT_EQ(t.output_shape(), (Shape{2, 3, 8}));
    for (int r = 0; r < 6; ++r)
      for (int k = 0; k < 8; ++k)
        EXPECT_EQ(got[static_cast<size_t>(r * 8 + k)], x[static_cast<size_t>(r * 4 + k % 4)]);
  }
  {  // PAD fills with the zero point
    OpTester t;
    t.add_input<int8_t>({1, 1, 2, 2}, {1, 2, 3, 4}, false, q);
    t.add_input<int32_t>({4, 2}, {0, 0, 0, 0, 0, 0, 1, 1}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kPad);
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{-3, 1, 2, -3, -3, 3, 4, -3}));
  }
  {  // DEPTH_TO_SPACE
    OpTester t;
    t.add_input<int8_t>({1, 1, 1, 4}, {1, 2, 3, 4}, false, q);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kDepthToSpace, DepthToSpaceOptions{2});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{1, 2, 3, 4}));
    EXPECT_EQ(t.output_shape(), (Shape{1, 2, 2, 1}));
  }
  {  // STRIDED_SLICE
    OpTester t;
    t.add_input<int8_t>({1, 4}, {1, 2, 3, 4}, false, q);
    t.add_input<int32_t>({2}, {0, 1}, true);
    t.add_input<int32_t>({2}, {1, 4}, true);
    t.add_input<int32_t>({2}, {1, 2}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kStridedSlice, StridedSliceOptions{});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{2, 4}));
  }
  {  // RESIZE_NEAREST_NEIGHBOR
    OpTester t;
    t.add_input<int8_t>({1, 1, 2, 1}, {5, -5}, false, q);
    t.add_input<int32_t>({2}, {1, 4}, true);
    t.add_output(DType::kInt8, {}, q);
    t.set_op(OpCode::kResizeNearestNeighbor, ResizeOptions{});
    t.run();
    EXPECT_EQ(t.output_values<int8_t>(), (std::vector<int8_t>{5, 5, -5, -5}));
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
