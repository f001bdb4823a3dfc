// Generated sweeps around osprey's int8 AVX-512 kernels (backends/avx512/
// int8_kernels.h): channels below, at and above the vector (16; 8 output
// channels, where pixels pair up) and the dense tile (64 output channels,
// 3-6 pixels), widths around the
// tiles, windows, strides, dilations, both paddings, per-tensor and per-channel
// weights, int8 and uint8, zero points at the extremes, every fused
// activation and every arithmetic of the reference kernels, on each CPU level
// (int8_cpu.h) this machine has. Every output must equal the integer
// reference kernel's bit for bit; and the neighbours the kernels do not take
// must stay with the reference kernels.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::kOspreyAvx512;
using testing::OpTester;

struct Int8ConvCase {
  bool depthwise = false;
  int batch = 1, height = 5, width = 7, cin = 16, cout = 16;
  int kernel = 3, stride = 1, dilation = 1, groups = 1;
  int dilation_w = 0;  // 0: `dilation`
  int stride_h = 0;    // dense only; 0: `stride`
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool is_signed = true, per_channel = false, bias = true;
  int32_t input_zp = 3, output_zp = -5, weight_zp = 131;  // weight_zp: uint8 only
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  std::vector<int> threads{1};
  // in_scale * w_scale / out_scale of the first weight scale (the others 1-4x
  // it); 0: scales that spread the outputs over the whole range.
  float requant_scale = 0;
  // Biases drawn from [-bias_range, bias_range]; 0: a range the products' sums reach.
  int32_t bias_range = 0;
  // Of every 8 pairs of a 1x1 filter's input channels, how many hold only
  // the weight zero point (the sparse AVX2 kernel's cases); 0: random weights.
  int zero_pairs_in_8 = 0;
};

std::string describe(const Int8ConvCase& c) {
  return fmt::format(
      "{} {}x{}x{}x{} -> {} k{} s{} sh{} d{} g{} {} act {} {} {} zp in {} out {} w {} {}bias arith {}",
      c.depthwise ? "depthwise" : "conv", c.batch, c.height, c.width, c.cin, c.cout, c.kernel, c.stride,
      c.stride_h, c.dilation, c.groups, c.padding == Padding::kSame ? "SAME" : "VALID",
      static_cast<int>(c.activation), c.is_signed ? "int8" : "uint8",
      c.per_channel ? "per-channel" : "per-tensor", c.input_zp, c.output_zp, c.weight_zp, c.bias ? "" : "no ",
      quant::arithmetic_name(c.arithmetic));
}

// Whether the int8 kernels are meant to take the case.
bool taken(const Int8ConvCase& c) {
  if (c.depthwise) {
    return (c.kernel == 3 || c.kernel == 5) && c.dilation == 1 && c.cout == c.cin &&
           (c.stride == 1 || c.stride == 2);
  }
  return c.kernel <= 7 && c.groups == 1 && c.stride <= 4;
}

// What int8_zero_pair_fraction needs to know of a filter: its type and weight zero point.
Int8Requant rq_for_zero_pairs(bool is_signed, int32_t weight_zp) {
  Int8Requant rq;
  rq.is_signed = is_signed;
  rq.weight_zero_point = is_signed ? 0 : weight_zp;
  return rq;
}

// Runs `c` at `level` (kNone: checks nothing claims it); the outputs must equal the reference's.
template <typename T>
void run_at(const Int8ConvCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(c.cin * 7919 + c.cout * 131 + c.width * 17 + c.height + c.kernel));
  const DType type = dtype_of<T>();
  const int taps = c.kernel * c.kernel;
  const int depth = c.depthwise ? 1 : c.cin / c.groups;  // products per tap
  // Scales that spread the outputs over the whole range, clamping some.
  const float in_s = 0.02f, w_s = 0.004f;
  const float out_s = c.requant_scale > 0
                          ? in_s * w_s * 0.5f / c.requant_scale
                          : in_s * w_s * 74.0f * 74.0f * std::sqrt(static_cast<float>(taps * depth)) / 50.0f;
  std::vector<float> w_scales(static_cast<size_t>(c.per_channel ? c.cout : 1));
  for (size_t i = 0; i < w_scales.size(); ++i)
    w_scales[i] = w_s * (0.5f + 1.5f * static_cast<float>(i % 7) / 6.0f);

  const Shape in_shape{c.batch, c.height, c.width, c.cin};
  const Shape w_shape =
      c.depthwise ? Shape{1, c.kernel, c.kernel, c.cout} : Shape{c.cout, c.kernel, c.kernel, depth};
  const int64_t w_count = int64_t{c.cout} * taps * depth;
  OpTester t({kOspreyAvx512});
  t.add_input<T>(in_shape, random_q<T>(rng, int64_t{c.batch} * c.height * c.width * c.cin), false,
                 per_tensor(in_s, c.input_zp));
  std::vector<T> weights = c.is_signed ? random_q<T>(rng, w_count, -127, 127) : random_q<T>(rng, w_count);
  if (c.zero_pairs_in_8 > 0) {
    ASSERT_EQ(taps, 1) << "zero pairs are for 1x1 filters";
    const T zero = static_cast<T>(c.is_signed ? 0 : c.weight_zp);
    // Scattered pairs, a different pattern in each output channel.
    for (int oc = 0; oc < c.cout; ++oc) {
      for (int p = 0; 2 * p < depth; ++p) {
        if ((p * 5 + oc * 3) % 8 >= c.zero_pairs_in_8) continue;
        const size_t at = static_cast<size_t>(oc) * depth + 2 * static_cast<size_t>(p);
        weights[at] = zero;
        if (2 * p + 1 < depth) weights[at + 1] = zero;
      }
    }
    // The sparse kernel's rule (int8_avx2.h): a share of zero pairs, and 32
    // input channels or 16 into 64.
    const bool sparse = c.zero_pairs_in_8 >= 3 && (c.cin >= 32 || (c.cin >= 16 && c.cout >= 64));
    EXPECT_EQ(int8_sparse_conv_avx2_takes(reinterpret_cast<const uint8_t*>(weights.data()), c.cout, depth,
                                          rq_for_zero_pairs(c.is_signed, c.weight_zp)),
              sparse)
        << "the case should run on the " << (sparse ? "sparse" : "dense") << " kernel at avx2";
  }
  t.add_input<T>(w_shape, weights, true,
                 c.per_channel ? per_channel(w_scales, c.depthwise ? 3 : 0)
                               : per_tensor(w_scales[0], c.is_signed ? 0 : c.weight_zp));
  if (c.bias) {
    const int range = c.bias_range > 0 ? c.bias_range
                                       : static_cast<int>(3000 * std::sqrt(static_cast<float>(taps * depth)));
    std::vector<int32_t> bias(static_cast<size_t>(c.cout));
    for (int32_t& b : bias) b = rnd(rng, -range, range);
    t.add_input<int32_t>({c.cout}, bias, true);
  }
  t.add_output(type, {}, per_tensor(out_s, c.output_zp));
  if (c.depthwise) {
    DepthwiseConv2DOptions o;
    o.padding = c.padding;
    o.stride_h = o.stride_w = c.stride;
    o.dilation_h = o.dilation_w = c.dilation;
    o.depth_multiplier = c.cout / c.cin;
    o.activation = c.activation;
    t.set_op(OpCode::kDepthwiseConv2D, o);
  } else {
    t.set_op(OpCode::kConv2D,
             Conv2DOptions{c.padding, c.stride, c.stride_h ? c.stride_h : c.stride,
                           c.dilation_w ? c.dilation_w : c.dilation, c.dilation, c.activation});
  }
  t.set_threads(c.threads);
  ArithmeticScope arithmetic_scope(c.arithmetic);
  run_exact_at(t, level, level != Int8Level::kNone && taken(c));
}

// Runs `c` on every level.
void check(const Int8ConvCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_at<decltype(type)>(c, level); });
}

// int8 per-channel and per-tensor, uint8 with a weight zero point of 128 (no
// input sums) and another one (with them).
std::vector<Int8ConvCase> flavours(Int8ConvCase c) {
  std::vector<Int8ConvCase> all;
  c.is_signed = true;
  c.per_channel = true;
  all.push_back(c);
  c.per_channel = false;
  c.input_zp = -128;
  all.push_back(c);
  c.is_signed = false;
  c.input_zp = 255;
  c.output_zp = 130;
  c.weight_zp = 128;
  all.push_back(c);
  c.input_zp = 0;
  c.weight_zp = 77;
  all.push_back(c);
  return all;
}

constexpr int kConvChannels[] = {1, 3, 15, 16, 17, 33, 64, 65};

TEST(Int8Avx512Sweep, DenseChannelsAroundTheBlock) {
  for (int kernel : {1, 3}) {
    for (int channels : kConvChannels) {
      for (auto [cin, cout] : {std::pair{channels, channels}, {channels, 33}, {7, channels}}) {
        Int8ConvCase c;
        c.kernel = kernel;
        c.cin = cin;
        c.cout = cout;
        c.height = 3;
        c.width = 5;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
    }
  }
  for (int cout : {128, 130, 200}) {  // several channel blocks
    Int8ConvCase c;
    c.kernel = cout == 130 ? 3 : 1;
    c.cin = 20;
    c.cout = cout;
    c.height = 2;
    c.width = 7;
    for (const Int8ConvCase& f : flavours(c)) check(f);
  }
}

// 32 output channels: the dense tile packs and stores two pixels at once
// (int8_microkernels.inc); tiles of an odd and even number of pixels, the
// last one cut short or not, with and without input sums.
TEST(Int8Avx512Sweep, DenseThirtyTwoChannelsInPixelPairs) {
  for (int kernel : {1, 3}) {
    for (int cin : {8, 40}) {
      for (int width : {5, 6, 7}) {
        Int8ConvCase c;
        c.kernel = kernel;
        c.cin = cin;
        c.cout = 32;
        c.height = 2;
        c.width = width;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
    }
  }
}

// A 1x1 layer of cin -> cout channels over pixel counts around the pointwise
// kernels' steps (2, 4 and 8 pixels) and the 60 of a task, with a clamp
// inside the type's range (ReLU6) and without, on 1 and 2 threads.
void check_pointwise(int cin, int cout) {
  for (auto [height, width] : {std::pair{1, 1}, {1, 3}, {1, 5}, {1, 8}, {1, 9}, {2, 7}, {3, 61}, {11, 13}}) {
    Int8ConvCase c;
    c.kernel = 1;
    c.cin = cin;
    c.cout = cout;
    c.height = height;
    c.width = width;
    c.activation = width == 7 ? Activation::kRelu6 : Activation::kNone;
    if (height == 11) c.threads = {2};
    for (const Int8ConvCase& f : flavours(c)) check(f);
  }
}

// 1x1 layers of 8 or 16 input channels into 16 or 32-64 output channels,
// and of 24 into 16 or 32, keep their weights in registers over a task
// (int8_microkernels.inc, pointwise_resident; 16 and 32 channels store
// whole pixels together); the others stay on the dense tile.
TEST(Int8Avx512Sweep, DensePointwiseFewInputChannels) {
  for (int cin : {8, 16, 24})
    for (int cout : {16, 24, 32, 40, 64}) check_pointwise(cin, cout);
}

// 1x1 layers of 32 or 64 input channels into 8 output channels: two pixels
// a vector, each 32-byte run feeding 8 products through dword shuffles
// (int8_microkernels.inc, pointwise_pairs); of 8, 16 or 24, both pixels'
// dwords in one vector, a permutation a group (pointwise_permuted_pairs);
// 12, 20 and 96 input channels keep the other tiles.
TEST(Int8Avx512Sweep, DensePointwiseEightChannelPairs) {
  for (int cin : {8, 12, 16, 20, 24, 32, 64, 96}) check_pointwise(cin, 8);
}

// At most 8 output channels: two pixels share a vector (int8_microkernels.inc);
// pixel counts odd and even, around the 12-pixel tile.
TEST(Int8Avx512Sweep, DenseFewOutputChannels) {
  for (int cout : {1, 2, 5, 8, 9}) {
    for (int kernel : {1, 3}) {
      for (int width : {1, 5, 6, 13}) {
        Int8ConvCase c;
        c.kernel = kernel;
        c.cin = width % 2 ? 8 : 3;
        c.cout = cout;
        c.height = 3;
        c.width = width;
        c.stride = width == 13 ? 2 : 1;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
    }
  }
}

// 1, 2, 4 or 8k <= 64 output channels (8 or 16 a pass): 16 pixels of a row a vector, 1 to 4
// vectors a tile (int8_conv_pixel_lanes.inc), for steps of 1 and 2 dwords between windows;
// rows shorter and longer than a vector and a tile, the last tile of the
// last image at the input's end, 3 input channels (a first layer over RGB,
// read widened to 4 bytes a pixel), and the cases that keep the other tiles
// (a step of 3 dwords, taps of part of a dword, 3 or 72 output channels).
TEST(Int8Avx512Sweep, DensePixelLanes) {
  struct Window {
    int kernel, stride;
    Padding padding;
  };
  constexpr Window kWindows[] = {
      {1, 1, Padding::kSame}, {3, 1, Padding::kSame}, {3, 1, Padding::kValid}, {3, 2, Padding::kSame}};
  for (int cout : {1, 2, 3, 4, 8, 16, 24, 48, 64, 72}) {  // 16 channels a pass: 16, 48, 64
    for (int cin : {4, 8, 12, 2, 3}) {
      // Steps of 3 dwords and taps of part of a dword only once.
      if (cin > 8 && cout != 1) continue;
      if (cin == 4 && (cout == 2 || cout == 4)) continue;  // as 8 input channels
      for (const Window& window : kWindows) {
        for (int width : {5, 17, 70}) {
          // 3 channels and 8 at a time: a row of two vectors (64: a long
          // one); the steps other tiles keep: a long row.
          if ((cout == 3 || cout > 8) && width != (cout == 64 ? 70 : 17)) continue;
          if (cin > 8 && width != 70) continue;
          Int8ConvCase c;
          c.kernel = window.kernel;
          c.cin = cin;
          c.cout = cout;
          c.stride = window.stride;
          c.padding = window.padding;
          c.width = width;
          c.height = width == 70 ? 3 : 4;
          c.batch = width == 17 ? 2 : 1;
          // Every arithmetic and a clamping activation on some widths.
          c.arithmetic = width == 70   ? Arithmetic::kTfliteSingle
                         : width == 17 ? Arithmetic::kTfliteDouble
                                       : Arithmetic::kLiteRT;
          c.activation = width == 5 ? Activation::kRelu6 : Activation::kNone;
          for (const Int8ConvCase& f : flavours(c)) check(f);
        }
      }
    }
  }
  for (int dilation : {1, 2}) {  // taps along the row, not row taps
    Int8ConvCase c;
    c.kernel = 3;
    c.cin = 16;
    c.cout = dilation == 1 ? 1 : 8;
    c.dilation = dilation;
    c.padding = Padding::kValid;
    c.width = 40;
    c.height = 6;
    for (const Int8ConvCase& f : flavours(c)) check(f);
    c.cin = 8;
    for (const Int8ConvCase& f : flavours(c)) check(f);
  }
}

// 1, 2, 4 or 8 output channels of 1x1 windows over 16, 32 or 64 input
// channels at column stride 1: 16 pixels' dwords transposed in registers
// (int8_conv_pixel_transpose.inc); rows shorter than, at and past 16
// pixels, the last tile at the input's end, a row stride of 2, and what
// keeps the other tiles (3 or 16+ output channels, 24 or 48 input
// channels, column stride 2).
// 1x1 convolutions with mostly zero pairs of weights, which the AVX2 level
// runs on its sparse kernel (int8_sparse_conv_avx2.cpp: tiles of 32 pixels,
// 8 a vector, input pairs transposed 128 at a time) and the other levels on
// their dense ones: pixel counts around the vector and the tile, input
// channels around the kernel's rule (16 and 32), odd ones and more than one
// chunk of pairs, output channels around a vector and 64, batches, fused
// activations, every arithmetic, 1-4 threads (3 and 4 split the channels of
// a 2-row map), and below the kernel's share of zero pairs.
TEST(Int8Avx512Sweep, SparsePointwise) {
  struct Size {
    int batch, height, width;
  };
  const Size sizes[] = {{1, 1, 5}, {1, 2, 16}, {1, 3, 11}, {2, 5, 13}};
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                    Activation::kReluN1To1};
  int i = 0;
  for (int cin : {3, 16, 17, 31, 32, 33, 48, 300}) {
    for (int cout : {1, 8, 9, 33, 64}) {
      const Size& size = sizes[static_cast<size_t>(i % 4)];
      Int8ConvCase c;
      c.kernel = 1;
      c.batch = size.batch;
      c.height = size.height;
      c.width = size.width;
      c.cin = cin;
      c.cout = cout;
      c.padding = i % 2 ? Padding::kValid : Padding::kSame;
      c.zero_pairs_in_8 = 4 + i % 3;  // 50-75%
      c.activation = activations[static_cast<size_t>(i % 4)];
      c.bias = i % 5 != 0;
      c.arithmetic = kAllArithmetic[static_cast<size_t>(i % 3)];
      c.threads = {1, 2};
      for (const Int8ConvCase& f : flavours(c)) check(f);
      ++i;
    }
  }
  Int8ConvCase few_rows;
  few_rows.kernel = 1;
  few_rows.height = 2;
  few_rows.width = 40;
  few_rows.cin = 24;
  few_rows.cout = 70;
  few_rows.zero_pairs_in_8 = 5;
  few_rows.threads = {3, 4};
  for (const Int8ConvCase& f : flavours(few_rows)) check(f);
  Int8ConvCase dense = few_rows;
  dense.zero_pairs_in_8 = 2;
  dense.threads = {1};
  for (const Int8ConvCase& f : flavours(dense)) check(f);
}

TEST(Int8Avx512Sweep, DensePixelTranspose) {
  for (int cin : {16, 32, 64, 24}) {
    for (int cout : {1, 2, 3, 4, 8, 16, 24, 64, 72}) {
      if (cin == 24 && cout != 8) continue;
      for (int width : {5, 16, 21}) {
        // Few channel counts on every width, the rest on a row past a vector.
        if (cout != 8 && cout != 1 && width != 21) continue;
        Int8ConvCase c;
        c.kernel = 1;
        c.cin = cin;
        c.cout = cout;
        c.width = width;
        c.height = width == 16 ? 3 : 2;
        c.batch = width == 5 ? 2 : 1;
        c.arithmetic = width == 21   ? Arithmetic::kTfliteSingle
                       : width == 16 ? Arithmetic::kTfliteDouble
                                     : Arithmetic::kLiteRT;
        c.activation = width == 5 ? Activation::kRelu6 : Activation::kNone;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
    }
  }
  for (int stride : {1, 2}) {  // rows 2 apart, then columns too (other tiles)
    Int8ConvCase c;
    c.kernel = 1;
    c.cin = 32;
    c.cout = 8;
    c.stride = stride;
    c.stride_h = 2;
    c.width = 37;
    c.height = 5;
    for (const Int8ConvCase& f : flavours(c)) check(f);
  }
  Int8ConvCase c;  // 48 input channels: the pair tile
  c.kernel = 1;
  c.cin = 48;
  c.cout = 8;
  c.width = 19;
  c.height = 2;
  for (const Int8ConvCase& f : flavours(c)) check(f);
}

TEST(Int8Avx512Sweep, DenseWidthsStridesDilationsPadding) {
  for (int kernel : {1, 3}) {
    for (int stride : {1, 2}) {
      for (int dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          for (int width : {1, 2, 4, 5, 6, 7, 11, 13}) {
            Int8ConvCase c;
            c.kernel = kernel;
            c.stride = stride;
            c.dilation = dilation;
            c.padding = padding;
            c.width = width + (padding == Padding::kValid ? (kernel - 1) * dilation : 0);
            c.height = 3 + (padding == Padding::kValid ? (kernel - 1) * dilation : 0);
            c.cin = width % 2 ? 5 : 16;
            c.cout = width % 3 ? 17 : 48;
            c.batch = width == 5 ? 2 : 1;
            c.is_signed = width % 2 == 0;
            c.per_channel = c.is_signed && width % 4 == 0;
            c.input_zp = c.is_signed ? -7 : 200;
            c.output_zp = c.is_signed ? 11 : 60;
            check(c);
          }
        }
      }
    }
  }
}

// A first layer over RGB into a multiple of 32 channels (or 24, 3x3 windows
// only; with other windows 24 stays on the pixel-lane tiles): with VBMI each
// window is copied out as a pixel of its own (int8_conv_patches.h), 16 at
// once from one span of each window row where all lie inside the input and
// one by one where they overhang it; spans past 128 bytes (stride 4) one by
// one throughout.
TEST(Int8Avx512Sweep, DenseFirstLayerPatches) {
  struct Window {
    int kernel, stride, dilation;
    Padding padding;
  };
  constexpr Window kWindows[] = {{3, 2, 1, Padding::kSame}, {3, 1, 1, Padding::kValid},
                                 {5, 2, 1, Padding::kSame}, {7, 3, 1, Padding::kValid},
                                 {3, 2, 2, Padding::kSame}, {3, 4, 1, Padding::kSame}};
  for (const Window& window : kWindows) {
    for (int cout : {24, 32, 96}) {
      Int8ConvCase c;
      c.kernel = window.kernel;
      c.stride = window.stride;
      c.dilation = window.dilation;
      c.padding = window.padding;
      c.cin = 3;
      c.cout = cout;
      c.height = 8;
      c.width = 80;
      c.batch = cout == 96 ? 2 : 1;
      c.threads = {1, 2};
      for (const Int8ConvCase& f : flavours(c)) check(f);
    }
  }
}

// Other windows (a first layer's 5x5 over 3 channels) and strides.
TEST(Int8Avx512Sweep, DenseOtherWindowsAndStrides) {
  for (int kernel : {2, 4, 5, 7}) {
    for (int stride : {1, 2, 3, 4}) {
      Int8ConvCase c;
      c.kernel = kernel;
      c.stride = stride;
      c.height = 9;
      c.width = 10 + stride;
      c.cin = kernel == 5 ? 3 : 6;
      c.cout = kernel == 5 ? 24 : 17;
      c.padding = stride % 2 ? Padding::kSame : Padding::kValid;
      c.dilation = kernel == 2 && stride == 1 ? 3 : 1;
      c.is_signed = kernel != 4;
      c.per_channel = kernel == 7;
      c.input_zp = c.is_signed ? -128 : 255;
      c.output_zp = c.is_signed ? 127 : 0;
      check(c);
    }
  }
  // Dilated along one axis only, over few channels (whole window rows) and many.
  for (int cin : {3, 20}) {
    for (int dilation_w : {1, 2}) {
      Int8ConvCase c;
      c.height = 8;
      c.width = 9;
      c.cin = cin;
      c.dilation = 3 - dilation_w;
      c.dilation_w = dilation_w;
      check(c);
    }
  }
}

// Widths up to 19 hold tiles wholly inside the image (read without a test
// a column, int8_microkernels.inc) as well as tiles over the padding.
TEST(Int8Avx512Sweep, DepthwiseChannelsAndWidths) {
  for (int kernel : {3, 5}) {
    for (int stride : {1, 2}) {
      for (int channels : kConvChannels) {
        Int8ConvCase c;
        c.depthwise = true;
        c.kernel = kernel;
        c.stride = stride;
        c.cin = c.cout = channels;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
      for (int width = 1; width <= 19; width += width < 10 ? 1 : 3) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          Int8ConvCase c;
          c.depthwise = true;
          c.kernel = kernel;
          c.stride = stride;
          c.padding = padding;
          c.width = width + (padding == Padding::kValid ? kernel - 1 : 0);
          c.height = padding == Padding::kValid ? kernel + 1 : 4;
          c.cin = c.cout = width % 2 ? 17 : 16;
          c.batch = width == 3 ? 2 : 1;
          c.is_signed = width % 2 == 0;
          c.per_channel = width % 4 == 0;
          c.input_zp = c.is_signed ? 100 : 9;
          c.output_zp = c.is_signed ? -100 : 250;
          c.weight_zp = 255;
          check(c);
        }
      }
    }
  }
}

// 3x3 windows at stride 1 put two pixels of a block of 8 channels in a
// vector (int8_microkernels.inc): 8 channels (a pair's columns adjacent) and
// 16 k + 8; widths around the 16-pixel tile, tiles read without a test (from
// 33 columns under SAME padding), pairs cut short by an odd width, passes of
// 2 rows cut short, batches, both threads; requantization packed, and not
// (large scales and biases, and the fixed-point arithmetics).
TEST(Int8Avx512Sweep, DepthwisePixelPairs) {
  const int widths[] = {1, 2, 3, 5, 8, 15, 16, 17, 18, 19, 20, 31, 33, 34, 35, 36, 49, 52};
  int i = 0;
  for (int channels : {8, 24, 40}) {
    for (int width : widths) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        Int8ConvCase c;
        c.depthwise = true;
        c.cin = c.cout = channels;
        c.padding = padding;
        c.width = width + (padding == Padding::kValid ? 2 : 0);
        c.height = 1 + i % 5 + (padding == Padding::kValid ? 2 : 0);
        c.batch = i % 7 == 3 ? 2 : 1;
        c.threads = {i % 3 == 2 ? 2 : 1};
        c.input_zp = i % 2 ? 117 : -3;
        c.output_zp = i % 2 ? 40 : 11;
        if (i % 4 == 1) {
          c.requant_scale = 1.7f;  // some channels' sums reach 2^30 over the scale: not packed
          c.bias_range = 2000000000;
        }
        if (i % 6 == 5) c.arithmetic = kAllArithmetic[1 + i / 6 % 2];
        for (const Int8ConvCase& f : flavours(c)) check(f);
        ++i;
      }
    }
  }
}

// 5x5 windows gather their rows (int8_microkernels.h): maps smaller than a
// window and than a tile, tiles whole and cut short, bands of 8 rows (fewer
// than 4 images and blocks) and of 32, the last one short, every phase of a
// window in a group of rows, both strides and paddings, batches, one and two
// threads.
TEST(Int8Avx512Sweep, DepthwiseGatheredRows) {
  const int sides[][2] = {{1, 1},   {2, 3},  {6, 6},   {8, 8},   {7, 12},  {9, 31},
                          {14, 14}, {17, 5}, {32, 32}, {33, 20}, {12, 33}, {70, 9}};
  int i = 0;
  for (int stride : {1, 2}) {
    for (const auto& side : sides) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        Int8ConvCase c;
        c.depthwise = true;
        c.kernel = 5;
        c.stride = stride;
        c.padding = padding;
        // The output's sides: the input's, less the window's past the edge.
        c.height = (side[0] - 1) * stride + 1 + (padding == Padding::kValid ? 4 : 0);
        c.width = (side[1] - 1) * stride + 1 + (padding == Padding::kValid ? 4 : 0);
        c.cin = c.cout = side[0] == 70 ? 49 + i % 2 * 15 : i % 2 ? 24 : 16;  // 70 rows: 4 blocks, bands of 32
        c.batch = i % 3 == 1 ? 2 : 1;
        c.is_signed = i % 3 == 0;
        c.input_zp = c.is_signed ? -7 : 200;
        c.output_zp = c.is_signed ? 9 : 31;
        c.weight_zp = i % 2 ? 77 : 128;
        c.threads = {i % 2 ? 2 : 1};
        check(c);
        ++i;
      }
    }
  }
}

// Zero points at the ends of each type's range, every fused activation and
// every arithmetic the reference kernels offer.
TEST(Int8Avx512Sweep, ZeroPointsActivationsArithmetic) {
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                    Activation::kReluN1To1};
  int i = 0;
  for (Arithmetic a : kAllArithmetic) {
    for (bool depthwise : {false, true}) {
      for (bool is_signed : {true, false}) {
        const std::vector<int32_t> zps =
            is_signed ? std::vector<int32_t>{-128, 127, 0} : std::vector<int32_t>{0, 255, 128};
        for (int32_t input_zp : zps) {
          for (int32_t output_zp : zps) {
            Int8ConvCase c;
            c.depthwise = depthwise;
            c.kernel = depthwise ? 3 + 2 * (i % 2) : 1 + 2 * (i % 2);
            c.cin = c.cout = depthwise ? 19 : 24;
            if (!depthwise) c.cout = 18;
            c.is_signed = is_signed;
            c.per_channel = is_signed && i % 3 == 0;
            c.input_zp = input_zp;
            c.output_zp = output_zp;
            c.weight_zp = std::vector<int32_t>{0, 255, 128, 1}[static_cast<size_t>(i % 4)];
            c.activation = activations[i % 4];
            c.bias = i % 5 != 0;
            c.arithmetic = a;
            check(c);
            ++i;
          }
        }
      }
    }
  }
}

// Scales near and above 1/2. The dense and depthwise tiles, and the
// pointwise kernels that keep their weights in registers, round before they
// clamp and pack with saturation (PackedRequant, sums far outside 16 bits)
// when every sum times its scale stays below 2^30: at scales up to 1/2
// whatever the sums, above it when the bias and weights bound the sums
// (int8_requant_packs). Biases near the ends of int32 at scales of 0.6-2.4
// would overflow int32 once scaled (a wrong choice there clamps high sums
// low); the tiles must keep the float clamp for them.
TEST(Int8Avx512Sweep, LargeRequantScales) {
  for (auto [bias_range, scale] : {std::pair{0, 0.11f}, {0, 0.5f}, {0, 0.6f}, {2147000000, 0.6f}}) {
    for (int kernel : {1, 3, 5}) {
      for (int cout : {33, 64, 130}) {
        Int8ConvCase c;
        c.depthwise = kernel == 5 || (kernel == 3 && cout == 33);
        c.kernel = kernel;
        c.cin = c.depthwise ? cout : 20;
        c.cout = cout;
        c.height = c.depthwise ? 9 : 3;
        c.width = c.depthwise ? 11 : 7;
        c.requant_scale = scale;
        c.bias_range = bias_range;
        c.activation = cout == 64 ? Activation::kRelu6 : Activation::kNone;
        for (const Int8ConvCase& f : flavours(c)) check(f);
      }
    }
    // The register-resident pointwise kernels (8 or 16 channels into 32;
    // 8, 24 or 32 into 8), which need the packed rounding.
    for (auto [cin, cout] : {std::pair{8, 32}, {16, 32}, {32, 8}, {8, 8}, {24, 8}}) {
      Int8ConvCase c;
      c.kernel = 1;
      c.cin = cin;
      c.cout = cout;
      c.height = 3;
      c.width = 9;
      c.requant_scale = scale;
      c.bias_range = bias_range;
      for (const Int8ConvCase& f : flavours(c)) check(f);
    }
  }
}

TEST(Int8Avx512Sweep, TwoThreads) {
  for (bool depthwise : {false, true}) {
    for (int channels : {16, 70}) {
      Int8ConvCase c;
      c.is_signed = channels == 16;
      c.per_channel = c.is_signed && !depthwise;
      c.input_zp = c.is_signed ? -3 : 140;
      c.output_zp = c.is_signed ? 4 : 120;
      c.depthwise = depthwise;
      c.height = 9;
      c.width = 13;
      c.cin = c.cout = channels;
      c.kernel = depthwise ? 5 : 3;
      c.stride = channels == 16 ? 1 : 2;
      c.threads = {2};
      check(c);
    }
  }
}

// What the int8 kernels leave to the next backend: larger windows and strides,
// grouped convolutions, depthwise dilation and multipliers; and everything at
// level none.
TEST(Int8Avx512Sweep, NeighboursStayOnTheReference) {
  std::vector<Int8ConvCase> cases;
  Int8ConvCase wide;
  wide.kernel = 9;
  wide.height = wide.width = 10;
  cases.push_back(wide);
  Int8ConvCase strided;
  strided.stride = 5;
  cases.push_back(strided);
  Int8ConvCase grouped;
  grouped.groups = 2;
  grouped.cin = 8;
  grouped.cout = 6;
  cases.push_back(grouped);
  for (int kernel : {2, 7}) {
    Int8ConvCase c;
    c.depthwise = true;
    c.kernel = kernel;
    c.height = c.width = 8;
    cases.push_back(c);
  }
  Int8ConvCase dilated;
  dilated.depthwise = true;
  dilated.dilation = 2;
  cases.push_back(dilated);
  Int8ConvCase multiplier;
  multiplier.depthwise = true;
  multiplier.cin = 8;
  multiplier.cout = 16;
  cases.push_back(multiplier);
  for (const Int8ConvCase& c : cases) {
    ASSERT_FALSE(taken(c)) << describe(c);
    for (const Int8ConvCase& f : flavours(c)) check(f);
  }
  for (bool depthwise : {false, true}) {
    Int8ConvCase c;
    c.depthwise = depthwise;
    run_at<int8_t>(c, Int8Level::kNone);
    run_at<uint8_t>(flavours(c)[3], Int8Level::kNone);
  }
}

}  // namespace
}  // namespace osprey
