// Generated sweeps around osprey's int8 AVX-512 TRANSPOSE_CONV
// (backends/avx512/int8_transpose_conv.cpp): input channels below, at and
// above 16 and 64, 1 to 24 output channels, 1x1 to 4x4 windows at strides 1,
// 2 and equal to the window (no overlap), both paddings and output sizes
// other than the padding's own, per-tensor and per-channel weights, int8 and
// uint8, zero points at the extremes, with and without bias, every fused
// activation and every arithmetic of the reference kernel, on each CPU level
// this machine has. Every output must equal the integer reference kernel's
// bit for bit.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::kOspreyAvx512;
using testing::OpTester;

struct TransposeConvCase {
  int batch = 1, height = 4, width = 5, cin = 16, cout = 1;
  int kernel = 2, stride = 2;
  Padding padding = Padding::kSame;
  int extra = 0;  // added to the padding's own output height and width
  Activation activation = Activation::kNone;
  bool is_signed = true, per_channel = false, bias = true;
  int32_t input_zp = 3, output_zp = -5, weight_zp = 131;  // weight_zp: uint8 only
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  std::vector<int> threads{1};
};

std::string describe(const TransposeConvCase& c) {
  return fmt::format(
      "TRANSPOSE_CONV {}x{}x{}x{} -> {} k{} s{} {}{:+} act {} {} {} zp in {} out {} w {} {}bias "
      "arith {} threads {}",
      c.batch, c.height, c.width, c.cin, c.cout, c.kernel, c.stride,
      c.padding == Padding::kSame ? "SAME" : "VALID", c.extra, static_cast<int>(c.activation),
      c.is_signed ? "int8" : "uint8", c.per_channel ? "per-channel" : "per-tensor", c.input_zp, c.output_zp,
      c.weight_zp, c.bias ? "" : "no ", quant::arithmetic_name(c.arithmetic), c.threads[0]);
}

int output_size(const TransposeConvCase& c, int in) {
  return (c.padding == Padding::kSame ? in * c.stride : (in - 1) * c.stride + c.kernel) + c.extra;
}

template <typename T>
void run_at(const TransposeConvCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(
      static_cast<uint32_t>(c.cin * 7919 + c.cout * 131 + c.width * 17 + c.kernel * 3 + c.stride));
  const DType type = dtype_of<T>();
  const int reach = (c.kernel + c.stride - 1) / c.stride;  // input pixels an output pixel sees, per axis
  // Scales that spread the outputs over the whole range, clamping some.
  const float in_s = 0.02f, w_s = 0.004f;
  const float out_s =
      in_s * w_s * 74.0f * 74.0f * std::sqrt(static_cast<float>(reach * reach * c.cin)) / 50.0f;
  std::vector<float> w_scales(static_cast<size_t>(c.per_channel ? c.cout : 1));
  for (size_t i = 0; i < w_scales.size(); ++i)
    w_scales[i] = w_s * (0.5f + 1.5f * static_cast<float>(i % 7) / 6.0f);

  const int oh = output_size(c, c.height), ow = output_size(c, c.width);
  const int64_t w_count = int64_t{c.cout} * c.kernel * c.kernel * c.cin;
  OpTester t({kOspreyAvx512});
  t.add_input<int32_t>({4}, {c.batch, oh, ow, c.cout}, true);
  t.add_input<T>(
      {c.cout, c.kernel, c.kernel, c.cin}, random_q<T>(rng, w_count), true,
      c.per_channel ? per_channel(w_scales, 0) : per_tensor(w_scales[0], c.is_signed ? 0 : c.weight_zp));
  t.add_input<T>({c.batch, c.height, c.width, c.cin},
                 random_q<T>(rng, int64_t{c.batch} * c.height * c.width * c.cin), false,
                 per_tensor(in_s, c.input_zp));
  if (c.bias) {
    const int range = static_cast<int>(3000 * std::sqrt(static_cast<float>(reach * reach * c.cin)));
    std::vector<int32_t> bias(static_cast<size_t>(c.cout));
    for (int32_t& b : bias) b = rnd(rng, -range, range);
    t.add_input<int32_t>({c.cout}, bias, true);
  }
  t.add_output(type, {}, per_tensor(out_s, c.output_zp));
  t.set_op(OpCode::kTransposeConv, TransposeConvOptions{c.padding, c.stride, c.stride, c.activation});
  t.set_threads(c.threads);
  ArithmeticScope arithmetic_scope(c.arithmetic);
  run_exact_at(t, level, level != Int8Level::kNone);
  ASSERT_EQ(t.output_shape(), (Shape{c.batch, oh, ow, c.cout}));
}

void check(const TransposeConvCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_at<decltype(type)>(c, level); });
}

// int8 per-channel and per-tensor (input zero point at the low end), uint8
// with weight and input zero points at both ends.
std::vector<TransposeConvCase> flavours(TransposeConvCase c) {
  std::vector<TransposeConvCase> all;
  c.is_signed = true;
  c.per_channel = true;
  all.push_back(c);
  c.per_channel = false;
  c.input_zp = -128;
  c.output_zp = 127;
  all.push_back(c);
  c.is_signed = false;
  c.input_zp = 255;
  c.output_zp = 0;
  c.weight_zp = 0;
  all.push_back(c);
  c.input_zp = 0;
  c.output_zp = 255;
  c.weight_zp = 255;
  all.push_back(c);
  return all;
}

constexpr std::pair<int, int> kWindows[] = {{1, 1}, {2, 1}, {2, 2}, {3, 1}, {3, 2},
                                            {3, 3}, {4, 1}, {4, 2}, {4, 4}, {2, 3}};

TEST(Int8Avx512TransposeConv, WindowsStridesPaddingOutputs) {
  int i = 0;
  for (auto [kernel, stride] : kWindows) {
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      for (int cout : {1, 2, 3, 16, 24}) {
        TransposeConvCase c;
        c.kernel = kernel;
        c.stride = stride;
        c.padding = padding;
        c.cout = cout;
        c.cin = i % 3 == 0 ? 3 : i % 3 == 1 ? 16 : 17;
        c.bias = i % 4 != 3;
        // Output sizes one less or one more than the padding's own (the
        // reference pads by what a forward convolution would need).
        c.extra = i % 5 == 2 ? -1 : i % 5 == 4 ? 1 : 0;
        if (output_size(c, c.height) < 1) c.extra = 0;
        for (const TransposeConvCase& f : flavours(c)) check(f);
        ++i;
      }
    }
  }
}

TEST(Int8Avx512TransposeConv, Channels) {
  for (int cin : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65}) {
    for (int cout : {1, 2, 3, 16, 24}) {
      for (auto [kernel, stride] : {std::pair{2, 2}, {3, 2}}) {
        TransposeConvCase c;
        c.cin = cin;
        c.cout = cout;
        c.kernel = kernel;
        c.stride = stride;
        c.height = 3;
        c.width = cin % 2 ? 19 : 6;  // past one 16-pixel planar block
        c.per_channel = true;
        check(c);
        c.is_signed = false;
        c.per_channel = false;
        c.input_zp = 131;
        c.output_zp = 120;
        check(c);
      }
    }
  }
}

TEST(Int8Avx512TransposeConv, ActivationsArithmetic) {
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                    Activation::kReluN1To1};
  int i = 0;
  for (Arithmetic a : kAllArithmetic) {
    for (Activation act : activations) {
      TransposeConvCase c;
      c.arithmetic = a;
      c.activation = act;
      c.cin = 16 + i % 3;
      c.cout = 1 + 7 * (i % 3);
      c.kernel = 2 + i % 3;
      c.stride = 1 + i % 2;
      c.bias = i % 2 == 0;
      for (const TransposeConvCase& f : flavours(c)) check(f);
      ++i;
    }
  }
}

// The selfie segmentation heads' shape (2x2 at stride 2 into one channel),
// a batch of two, and two threads over more rows than bands.
TEST(Int8Avx512TransposeConv, BatchesAndThreads) {
  for (auto [kernel, stride] : {std::pair{2, 2}, {3, 1}, {4, 2}}) {
    TransposeConvCase c;
    c.batch = 2;
    c.height = 17;
    c.width = 21;
    c.cin = 16;
    c.cout = kernel == 2 ? 1 : 5;
    c.kernel = kernel;
    c.stride = stride;
    c.threads = {2};
    for (const TransposeConvCase& f : flavours(c)) check(f);
  }
}

}  // namespace
}  // namespace osprey
