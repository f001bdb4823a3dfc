// Generated sweeps of the int8/uint8 ops the XNNPACK backend lowers to its
// quantized operators (backends/xnnpack/*_lowering.cpp, TypeRule): int8 and
// uint8, per-tensor and per-channel weights, zero points at the extremes,
// kernel sizes on and off XNNPACK's depthwise tiles, strides, dilations,
// both paddings and every fused activation. Each case runs on the integer
// reference kernel and on every backend, which must agree byte for byte
// (one arithmetic: XNNPACK's "fp32" requantization); and the cases the
// lowering must leave to the reference kernels are checked to stay there.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::kXnnpack;
using testing::OpTester;
using testing::Tolerance;

constexpr Activation kActivations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                       Activation::kReluN1To1};

// Zero points to cycle through: both ends of the type, its middle, and near zero.
template <typename T>
int32_t zero_point(int k) {
  static constexpr int32_t int8_points[] = {-128, 127, 0, -1, 5};
  static constexpr int32_t uint8_points[] = {0, 255, 128, 127, 3};
  return std::is_same_v<T, int8_t> ? int8_points[k % 5] : uint8_points[k % 5];
}

// Whether the fused activation leaves a non-empty range (the lowering
// refuses a clamp to one value, which XNNPACK cannot express).
bool range_nonempty(Activation a, float scale, int32_t zp, DType t) {
  const Range r = act_range(a, scale, zp, t);
  return r.lo < r.hi;
}

// Runs the case and, when `claimable`, demands that XNNPACK took it.
void run_exact(OpTester& t, bool claimable) {
  t.set_tolerance(Tolerance::kExact);
  if (claimable) t.expect_claim(kXnnpack);
  t.run();
}

template <typename T>
std::vector<T> weights(std::mt19937& rng, int64_t n) {
  // int8 weights are symmetric: -128 is not a weight value TFLite makes.
  return std::is_same_v<T, int8_t> ? random_q<T>(rng, n, -127, 127) : random_q<T>(rng, n);
}

std::vector<int32_t> bias(std::mt19937& rng, int n) {
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (int32_t& v : b) v = rnd(rng, -20000, 20000);
  return b;
}

// ---------------------------------------------------------------- CONV_2D

template <typename T>
void conv_sweep(bool per_channel_weights) {
  const DType type = dtype_of<T>();
  std::mt19937 rng(per_channel_weights ? 11 : 7);
  int k = 0;
  for (int kernel : {1, 3, 5}) {
    for (int stride : {1, 2}) {
      for (int dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          ++k;
          const int h = rnd(rng, 1, 12), w = rnd(rng, 1, 12);
          if (padding == Padding::kValid &&
              (h < (kernel - 1) * dilation + 1 || w < (kernel - 1) * dilation + 1))
            padding = Padding::kSame;
          const int groups = k % 5 == 0 ? 2 : 1;
          const int cin = groups * rnd(rng, 1, 19);
          const int cout = groups * (k % 3 == 0 ? 16 : rnd(rng, 1, 20));
          const Activation act = kActivations[k % 4];
          const float in_s = rndf(rng, 0.01f, 0.1f), out_s = rndf(rng, 0.02f, 0.5f);
          const int32_t in_zp = zero_point<T>(k), out_zp = zero_point<T>(k + 2);
          const int32_t w_zp = type == DType::kInt8 ? 0 : zero_point<T>(k + 1);
          std::vector<float> w_scales(static_cast<size_t>(per_channel_weights ? cout : 1));
          for (float& s : w_scales) s = rndf(rng, 0.001f, 0.02f);
          SCOPED_TRACE(fmt::format("conv {} {}x{}x{} -> {} k{} s{} d{} groups {} act {} zp {}/{}/{}",
                                   dtype_name(type), h, w, cin, cout, kernel, stride, dilation, groups,
                                   static_cast<int>(act), in_zp, w_zp, out_zp));
          OpTester t;
          t.add_input<T>({1, h, w, cin}, random_q<T>(rng, int64_t{h} * w * cin), false,
                         per_tensor(in_s, in_zp));
          t.add_input<T>({cout, kernel, kernel, cin / groups},
                         weights<T>(rng, int64_t{cout} * kernel * kernel * (cin / groups)), true,
                         per_channel_weights ? per_channel(w_scales, 0) : per_tensor(w_scales[0], w_zp));
          if (k % 4 != 1) t.add_input<int32_t>({cout}, bias(rng, cout), true);
          t.add_output(type, {}, per_tensor(out_s, out_zp));
          t.set_op(OpCode::kConv2D, Conv2DOptions{padding, stride, stride, dilation, dilation, act});
          run_exact(t, range_nonempty(act, out_s, out_zp, type));
        }
      }
    }
  }
}

TEST(XnnpackInt8Sweep, ConvInt8PerTensor) {
  conv_sweep<int8_t>(false);
}
TEST(XnnpackInt8Sweep, ConvInt8PerChannel) {
  conv_sweep<int8_t>(true);
}
TEST(XnnpackInt8Sweep, ConvUint8) {
  conv_sweep<uint8_t>(false);
}

// ---------------------------------------------------------------- DEPTHWISE_CONV_2D

template <typename T>
void depthwise_sweep(bool per_channel_weights) {
  const DType type = dtype_of<T>();
  std::mt19937 rng(per_channel_weights ? 23 : 19);
  int k = 0;
  // 3x3 and 5x5 are XNNPACK's depthwise tiles (9 and 25 taps); 7x7 goes through its GEMM path.
  for (int kernel : {3, 5, 7}) {
    for (int stride : {1, 2}) {
      for (int dilation : {1, 2}) {
        for (int multiplier : {1, 2}) {
          ++k;
          static constexpr int kChannels[] = {1, 3, 8, 16, 17, 24, 31, 32, 33, 48};
          const int channels = kChannels[k % 10], cout = channels * multiplier;
          const int h = rnd(rng, 1, 11), w = rnd(rng, 1, 11);
          Padding padding = k % 2 ? Padding::kSame : Padding::kValid;
          if (h < (kernel - 1) * dilation + 1 || w < (kernel - 1) * dilation + 1) padding = Padding::kSame;
          const Activation act = kActivations[k % 4];
          const float in_s = rndf(rng, 0.01f, 0.1f), out_s = rndf(rng, 0.02f, 0.5f);
          const int32_t in_zp = zero_point<T>(k), out_zp = zero_point<T>(k + 3);
          const int32_t w_zp = type == DType::kInt8 ? 0 : zero_point<T>(k + 1);
          std::vector<float> w_scales(static_cast<size_t>(per_channel_weights ? cout : 1));
          for (float& s : w_scales) s = rndf(rng, 0.001f, 0.05f);
          SCOPED_TRACE(fmt::format("depthwise {} {}x{}x{} m{} k{} s{} d{} act {} zp {}/{}/{}",
                                   dtype_name(type), h, w, channels, multiplier, kernel, stride, dilation,
                                   static_cast<int>(act), in_zp, w_zp, out_zp));
          OpTester t;
          t.add_input<T>({1, h, w, channels}, random_q<T>(rng, int64_t{h} * w * channels), false,
                         per_tensor(in_s, in_zp));
          t.add_input<T>({1, kernel, kernel, cout}, weights<T>(rng, int64_t{kernel} * kernel * cout), true,
                         per_channel_weights ? per_channel(w_scales, 3) : per_tensor(w_scales[0], w_zp));
          if (k % 3 != 0) t.add_input<int32_t>({cout}, bias(rng, cout), true);
          t.add_output(type, {}, per_tensor(out_s, out_zp));
          DepthwiseConv2DOptions o;
          o.padding = padding;
          o.stride_h = o.stride_w = stride;
          o.dilation_h = o.dilation_w = dilation;
          o.depth_multiplier = multiplier;
          o.activation = act;
          t.set_op(OpCode::kDepthwiseConv2D, o);
          run_exact(t, range_nonempty(act, out_s, out_zp, type));
        }
      }
    }
  }
}

TEST(XnnpackInt8Sweep, DepthwiseInt8PerTensor) {
  depthwise_sweep<int8_t>(false);
}
TEST(XnnpackInt8Sweep, DepthwiseInt8PerChannel) {
  depthwise_sweep<int8_t>(true);
}
TEST(XnnpackInt8Sweep, DepthwiseUint8) {
  depthwise_sweep<uint8_t>(false);
}

// ---------------------------------------------------------------- FULLY_CONNECTED

template <typename T>
void fully_connected_sweep() {
  const DType type = dtype_of<T>();
  std::mt19937 rng(31);
  int k = 0;
  for (int depth : {1, 7, 16, 64}) {
    for (bool keep_num_dims : {false, true}) {
      ++k;
      const int rows = rnd(rng, 1, 5), units = k % 2 ? 16 : rnd(rng, 1, 40);
      const Activation act = kActivations[k % 4];
      const float in_s = rndf(rng, 0.01f, 0.1f), w_s = rndf(rng, 0.001f, 0.02f),
                  out_s = rndf(rng, 0.05f, 0.5f);
      const int32_t in_zp = zero_point<T>(k), out_zp = zero_point<T>(k + 2);
      const int32_t w_zp = type == DType::kInt8 ? 0 : zero_point<T>(k + 1);
      SCOPED_TRACE(fmt::format("fully connected {} {}x{} -> {} keep {} act {}", dtype_name(type), rows, depth,
                               units, keep_num_dims, static_cast<int>(act)));
      OpTester t;
      t.add_input<T>({rows, depth}, random_q<T>(rng, int64_t{rows} * depth), false, per_tensor(in_s, in_zp));
      t.add_input<T>({units, depth}, weights<T>(rng, int64_t{units} * depth), true, per_tensor(w_s, w_zp));
      if (k % 3 != 0) t.add_input<int32_t>({units}, bias(rng, units), true);
      t.add_output(type, {}, per_tensor(out_s, out_zp));
      t.set_op(OpCode::kFullyConnected, FullyConnectedOptions{act, keep_num_dims});
      run_exact(t, range_nonempty(act, out_s, out_zp, type));
    }
  }
}

TEST(XnnpackInt8Sweep, FullyConnected) {
  fully_connected_sweep<int8_t>();
  fully_connected_sweep<uint8_t>();
}

// ---------------------------------------------------------------- TRANSPOSE_CONV

template <typename T>
void transpose_conv_sweep() {
  const DType type = dtype_of<T>();
  std::mt19937 rng(37);
  int k = 0;
  for (int kernel : {1, 2, 3, 4}) {
    for (int stride : {1, 2, 3}) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        ++k;
        const int h = rnd(rng, 1, 7), w = rnd(rng, 1, 7), cin = rnd(rng, 1, 20),
                  cout = k % 2 ? 16 : rnd(rng, 1, 20);
        const int oh = padding == Padding::kSame ? h * stride : (h - 1) * stride + kernel;
        const int ow = padding == Padding::kSame ? w * stride : (w - 1) * stride + kernel;
        const Activation act = kActivations[k % 4];
        const float in_s = rndf(rng, 0.01f, 0.1f), w_s = rndf(rng, 0.001f, 0.02f),
                    out_s = rndf(rng, 0.05f, 0.3f);
        const int32_t in_zp = zero_point<T>(k), out_zp = zero_point<T>(k + 2);
        const int32_t w_zp = type == DType::kInt8 ? 0 : zero_point<T>(k + 1);
        SCOPED_TRACE(fmt::format("transpose conv {} {}x{}x{} -> {}x{}x{} k{} s{} act {}", dtype_name(type), h,
                                 w, cin, oh, ow, cout, kernel, stride, static_cast<int>(act)));
        OpTester t;
        t.add_input<int32_t>({4}, {1, oh, ow, cout}, true);
        t.add_input<T>({cout, kernel, kernel, cin}, weights<T>(rng, int64_t{cout} * kernel * kernel * cin),
                       true, per_tensor(w_s, w_zp));
        t.add_input<T>({1, h, w, cin}, random_q<T>(rng, int64_t{h} * w * cin), false,
                       per_tensor(in_s, in_zp));
        if (k % 3 != 0) t.add_input<int32_t>({cout}, bias(rng, cout), true);
        t.add_output(type, {}, per_tensor(out_s, out_zp));
        t.set_op(OpCode::kTransposeConv, TransposeConvOptions{padding, stride, stride, act});
        // XNNPACK refuses outputs narrower than one stride.
        run_exact(t, range_nonempty(act, out_s, out_zp, type) && oh >= stride && ow >= stride);
      }
    }
  }
}

TEST(XnnpackInt8Sweep, TransposeConv) {
  transpose_conv_sweep<int8_t>();
  transpose_conv_sweep<uint8_t>();
}

// ---------------------------------------------------------------- ADD, SUB, MUL

template <typename T>
void binary_sweep(OpCode code) {
  const DType type = dtype_of<T>();
  std::mt19937 rng(static_cast<uint32_t>(code) + 41);
  const std::vector<std::pair<Shape, Shape>> shapes{
      {{1, 5, 7, 16}, {1, 5, 7, 16}}, {{1, 5, 7, 19}, {1, 1, 1, 19}}, {{2, 3, 33}, {33}}, {{1, 4, 4, 8}, {1}},
      {{3, 1, 5}, {1, 4, 1}},         {{1, 1, 1, 24}, {1, 6, 6, 24}}};
  int k = 0;
  for (const auto& [sa, sb] : shapes) {
    for (bool constant_b : {false, true}) {
      ++k;
      const Activation act = kActivations[k % 4];
      // Scale ratios inside XNNPACK's ranges ([2^-10, 2^8) per input for
      // ADD/SUB, [2^-16, 2^8) for the product of MUL).
      const float sa_s = rndf(rng, 0.01f, 0.1f), sb_s = rndf(rng, 0.01f, 0.1f);
      const float out_s = code == OpCode::kMul ? rndf(rng, 0.0005f, 0.01f) : rndf(rng, 0.02f, 0.2f);
      const int32_t za = zero_point<T>(k), zb = zero_point<T>(k + 1), zo = zero_point<T>(k + 2);
      SCOPED_TRACE(fmt::format("{} {} {} {} {} act {} zp {}/{}/{}", static_cast<int>(code), dtype_name(type),
                               shape_str(sa), shape_str(sb), constant_b ? "constant" : "",
                               static_cast<int>(act), za, zb, zo));
      int64_t na = 1, nb = 1;
      for (int32_t d : sa) na *= d;
      for (int32_t d : sb) nb *= d;
      OpTester t;
      t.add_input<T>(sa, random_q<T>(rng, na), false, per_tensor(sa_s, za));
      t.add_input<T>(sb, random_q<T>(rng, nb), constant_b, per_tensor(sb_s, zb));
      t.add_output(type, {}, per_tensor(out_s, zo));
      t.set_op(code, ElementwiseOptions{act});
      run_exact(t, range_nonempty(act, out_s, zo, type));
    }
  }
}

TEST(XnnpackInt8Sweep, AddSubMul) {
  for (OpCode code : {OpCode::kAdd, OpCode::kSub, OpCode::kMul}) {
    binary_sweep<int8_t>(code);
    binary_sweep<uint8_t>(code);
  }
}

// ---------------------------------------------------------------- pooling, layout, clamps

template <typename T>
void max_pool_sweep() {
  const DType type = dtype_of<T>();
  std::mt19937 rng(53);
  int k = 0;
  for (int filter : {1, 2, 3}) {
    for (int stride : {1, 2}) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        ++k;
        if (filter == 1 && stride == 2)
          continue;  // a strided 1x1 window is a subsampling XNNPACK does not pool
        const int h = rnd(rng, 3, 12), w = rnd(rng, 3, 12), c = k % 2 ? 16 : rnd(rng, 1, 40);
        const Activation act = kActivations[k % 4];
        const float s = rndf(rng, 0.01f, 0.1f);
        const int32_t zp = zero_point<T>(k);
        SCOPED_TRACE(fmt::format("max pool {} {}x{}x{} f{} s{} act {} zp {}", dtype_name(type), h, w, c,
                                 filter, stride, static_cast<int>(act), zp));
        OpTester t;
        t.add_input<T>({1, h, w, c}, random_q<T>(rng, int64_t{h} * w * c), false, per_tensor(s, zp));
        t.add_output(type, {}, per_tensor(s, zp));
        t.set_op(OpCode::kMaxPool2D, Pool2DOptions{padding, stride, stride, filter, filter, act});
        run_exact(t, range_nonempty(act, s, zp, type));
      }
    }
  }
}

TEST(XnnpackInt8Sweep, MaxPool) {
  max_pool_sweep<int8_t>();
  max_pool_sweep<uint8_t>();
}

template <typename T>
void pad_and_clamps() {
  const DType type = dtype_of<T>();
  std::mt19937 rng(61);
  for (int k = 0; k < 5; ++k) {
    const float s = rndf(rng, 0.01f, 0.1f);
    const int32_t zp = zero_point<T>(k);
    const Quantization q = per_tensor(s, zp);
    const std::vector<T> x = random_q<T>(rng, 2 * 5 * 3 * 7);
    {
      SCOPED_TRACE(fmt::format("PAD {} zp {}", dtype_name(type), zp));
      OpTester t;
      t.add_input<T>({2, 5, 3, 7}, x, false, q);
      t.add_input<int32_t>({4, 2}, {0, 1, 2, 0, 1, 3, 0, 4}, true);
      t.add_output(type, {}, q);
      t.set_op(OpCode::kPad);
      run_exact(t, true);
    }
    {
      // PADV2 with a value of the output's quantization: any raw value.
      SCOPED_TRACE(fmt::format("PADV2 {} zp {}", dtype_name(type), zp));
      OpTester t;
      t.add_input<T>({2, 5, 3, 7}, x, false, q);
      t.add_input<int32_t>({4, 2}, {1, 0, 0, 2, 3, 1, 0, 0}, true);
      t.add_input<T>({1}, random_q<T>(rng, 1), true, q);
      t.add_output(type, {}, q);
      t.set_op(OpCode::kPadV2);
      run_exact(t, true);
    }
    for (OpCode code : {OpCode::kRelu, OpCode::kRelu6, OpCode::kReluN1To1}) {
      SCOPED_TRACE(fmt::format("clamp {} {} zp {}", static_cast<int>(code), dtype_name(type), zp));
      const Activation act = code == OpCode::kRelu    ? Activation::kRelu
                             : code == OpCode::kRelu6 ? Activation::kRelu6
                                                      : Activation::kReluN1To1;
      OpTester t;
      t.add_input<T>({2, 5, 3, 7}, x, false, q);
      t.add_output(type, {}, q);
      t.set_op(code);
      run_exact(t, range_nonempty(act, s, zp, type));
    }
    {
      SCOPED_TRACE(fmt::format("RESHAPE {} zp {}", dtype_name(type), zp));
      OpTester t;
      t.add_input<T>({2, 5, 3, 7}, x, false, q);
      t.add_input<int32_t>({2}, {10, 21}, true);
      t.add_output(type, {}, q);
      t.set_op(OpCode::kReshape, ReshapeOptions{true, {10, 21}});
      // A reshape alone is left to the reference kernels (a copy either way): only its result is checked.
      run_exact(t, false);
    }
  }
}

TEST(XnnpackInt8Sweep, PadClampsReshape) {
  pad_and_clamps<int8_t>();
  pad_and_clamps<uint8_t>();
}

template <typename T>
void resize_sweep() {
  const DType type = dtype_of<T>();
  std::mt19937 rng(71);
  int k = 0;
  for (auto [ih, iw, oh, ow] : {std::array{4, 5, 8, 10}, {7, 3, 13, 11}, {9, 9, 4, 5}, {1, 6, 3, 6}}) {
    for (int mode = 0; mode < 3; ++mode) {
      ++k;
      const int c = k % 2 ? 16 : 5;
      const Quantization q = per_tensor(rndf(rng, 0.01f, 0.1f), zero_point<T>(k));
      SCOPED_TRACE(fmt::format("resize {} {}x{} -> {}x{} mode {}", dtype_name(type), ih, iw, oh, ow, mode));
      OpTester t;
      t.add_input<T>({1, ih, iw, c}, random_q<T>(rng, int64_t{ih} * iw * c), false, q);
      t.add_input<int32_t>({2}, {oh, ow}, true);
      t.add_output(type, {}, q);
      t.set_op(OpCode::kResizeBilinear, ResizeOptions{mode == 1, mode == 2});
      run_exact(t, true);
    }
  }
}

TEST(XnnpackInt8Sweep, ResizeBilinear) {
  resize_sweep<int8_t>();
  resize_sweep<uint8_t>();
}

// ---------------------------------------------------------------- left to the reference kernels

TEST(XnnpackInt8Sweep, LeavesOtherArithmeticToTheReference) {
  std::mt19937 rng(83);
  const std::vector<int8_t> x = random_q<int8_t>(rng, 4 * 4 * 8);
  {
    // LOGISTIC: XNNPACK's table rounds differently from TFLite's.
    OpTester t;
    t.add_input<int8_t>({1, 4, 4, 8}, x, false, per_tensor(0.05f, 3));
    t.add_output(DType::kInt8, {}, per_tensor(1.0f / 256, -128));
    t.set_op(OpCode::kLogistic);
    run_exact(t, false);
    EXPECT_FALSE(t.claimed_by(kXnnpack));
  }
  {
    // ADD whose input/output scale ratio is outside XNNPACK's range: TFLite's arithmetic.
    OpTester t;
    t.add_input<int8_t>({1, 4, 4, 8}, x, false, per_tensor(0.5f, 0));
    t.add_input<int8_t>({1, 4, 4, 8}, x, false, per_tensor(0.0001f, 0));
    t.add_output(DType::kInt8, {}, per_tensor(0.001f, 0));
    t.set_op(OpCode::kAdd, ElementwiseOptions{});
    run_exact(t, false);
    EXPECT_FALSE(t.claimed_by(kXnnpack));
  }
  {
    // Per-channel FULLY_CONNECTED: no qcint8 fully connected in this XNNPACK.
    OpTester t;
    t.add_input<int8_t>({2, 16}, random_q<int8_t>(rng, 32), false, per_tensor(0.05f, 1));
    t.add_input<int8_t>({3, 16}, random_q<int8_t>(rng, 48, -127, 127), true,
                        per_channel({0.01f, 0.02f, 0.03f}, 0));
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kFullyConnected, FullyConnectedOptions{});
    run_exact(t, false);
    EXPECT_FALSE(t.claimed_by(kXnnpack));
  }
  {
    // With TFLite's fixed-point arithmetic selected, no quantized op goes to XNNPACK.
    ArithmeticScope scope(Arithmetic::kTfliteDouble);
    OpTester t;
    t.add_input<int8_t>({1, 4, 4, 8}, x, false, per_tensor(0.05f, 3));
    t.add_input<int8_t>({4, 1, 1, 8}, random_q<int8_t>(rng, 32, -127, 127), true, per_tensor(0.01f, 0));
    t.add_output(DType::kInt8, {}, per_tensor(0.1f, -2));
    t.set_op(OpCode::kConv2D, Conv2DOptions{});
    t.run();
    EXPECT_FALSE(t.claimed_by(kXnnpack));
  }
}

}  // namespace
}  // namespace osprey
