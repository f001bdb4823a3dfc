// Generated sweeps around osprey's AVX-512 depthwise kernel
// (backends/avx512/depthwise_conv.h: 16 channels per vector, 8 output pixels per
// tile, 3x3/5x5, stride 1/2, multiplier 1): channels and widths below, at and
// above the vector and the tile, odd sizes, both paddings, every fused
// activation, on 1 and 2 threads; and the neighbouring cases it does not
// take (dilation, depth multiplier, other windows), which XNNPACK must run.
// Each case runs on every backend and is compared with the reference kernel.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/avx512/depthwise_conv.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::kOspreyAvx512;
using testing::kXnnpack;
using testing::OpTester;

struct DwSweepCase {
  int height = 5, width = 9, channels = 16;
  int kernel = 3, stride = 1, dilation = 1, multiplier = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool bias = true;
  int batch = 1;
  std::vector<int> threads{1};
};

std::string describe(const DwSweepCase& c) {
  return fmt::format("{}x{}x{}x{} k{} s{} d{} m{} {} act {} {}bias", c.batch, c.height, c.width, c.channels,
                     c.kernel, c.stride, c.dilation, c.multiplier,
                     c.padding == Padding::kSame ? "SAME" : "VALID", static_cast<int>(c.activation),
                     c.bias ? "" : "no ");
}

bool own_kernel_takes(const DwSweepCase& c) {
  return c.multiplier == 1 && c.dilation == 1 && depthwise_conv_supported(c.kernel, c.stride);
}

void check(const DwSweepCase& c) {
  SCOPED_TRACE(describe(c));
  std::mt19937 rng(static_cast<uint32_t>(c.height * 131 + c.width * 17 + c.channels));
  const int cout = c.channels * c.multiplier;
  OpTester t;
  t.add_input<float>({c.batch, c.height, c.width, c.channels},
                     testing::uniform_floats(int64_t{c.batch} * c.height * c.width * c.channels, rng));
  t.add_input<float>({1, c.kernel, c.kernel, cout},
                     testing::uniform_floats(int64_t{c.kernel} * c.kernel * cout, rng), true);
  if (c.bias) t.add_input<float>({cout}, testing::uniform_floats(cout, rng), true);
  t.add_output(DType::kFloat32);
  DepthwiseConv2DOptions o;
  o.padding = c.padding;
  o.stride_h = o.stride_w = c.stride;
  o.dilation_h = o.dilation_w = c.dilation;
  o.depth_multiplier = c.multiplier;
  o.activation = c.activation;
  t.set_op(OpCode::kDepthwiseConv2D, o);
  t.set_threads(c.threads);
  t.expect_claim(own_kernel_takes(c) ? kOspreyAvx512 : kXnnpack);
  t.run();
}

TEST(DepthwiseSweep, ChannelsAroundTheVector) {
  for (int kernel : {3, 5}) {
    for (int stride : {1, 2}) {
      for (int channels :
           {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 31, 32, 33, 47, 48, 49, 64}) {
        DwSweepCase c;
        c.kernel = kernel;
        c.stride = stride;
        c.channels = channels;
        check(c);
      }
    }
  }
}

TEST(DepthwiseSweep, WidthsAroundTheTile) {
  for (int kernel : {3, 5}) {
    for (int stride : {1, 2}) {
      // Up to 26, edge tiles; 40 and 57 also give stride 2 interior tiles
      // (whole windows inside the row, no per-column checks).
      for (int width :
           {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 24, 25, 26, 40, 57}) {
        DwSweepCase c;
        c.kernel = kernel;
        c.stride = stride;
        c.width = width;
        c.channels = width % 2 ? 17 : 16;
        check(c);
      }
    }
  }
}

TEST(DepthwiseSweep, HeightsAndBatches) {
  for (int kernel : {3, 5}) {
    for (int height : {1, 2, 3, 4, 6, 7, 11}) {
      DwSweepCase c;
      c.kernel = kernel;
      c.height = height;
      c.stride = height % 2 + 1;
      c.channels = 24;
      check(c);
    }
  }
  DwSweepCase c;
  c.batch = 3;
  c.channels = 33;
  check(c);
}

TEST(DepthwiseSweep, PaddingStrideAndEveryActivation) {
  for (int kernel : {3, 5}) {
    for (int stride : {1, 2}) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        for (Activation a :
             {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1}) {
          DwSweepCase c;
          c.height = 7;
          c.width = 11;
          c.channels = 20;
          c.kernel = kernel;
          c.stride = stride;
          c.padding = padding;
          c.activation = a;
          c.bias = a != Activation::kRelu;
          check(c);
        }
      }
    }
  }
}

TEST(DepthwiseSweep, TwoThreads) {
  for (int channels : {8, 16, 17, 40}) {
    for (int stride : {1, 2}) {
      DwSweepCase c;
      c.height = 9;
      c.width = 13;
      c.channels = channels;
      c.stride = stride;
      c.kernel = channels % 2 ? 5 : 3;
      c.threads = {2};
      check(c);
    }
  }
}

// Cases the AVX-512 kernel leaves to XNNPACK: dilation, depth multiplier,
// windows other than 3x3 and 5x5, stride 3.
TEST(DepthwiseSweep, NeighboursXnnpackRuns) {
  for (int channels : {1, 7, 16, 17, 33}) {
    for (int dilation : {2}) {
      DwSweepCase c;
      c.height = 9;
      c.width = 10;
      c.channels = channels;
      c.dilation = dilation;
      check(c);
    }
    for (int multiplier : {2, 3}) {
      DwSweepCase c;
      c.channels = channels;
      c.multiplier = multiplier;
      c.stride = multiplier - 1;
      check(c);
    }
    for (int kernel : {1, 2, 4, 7}) {
      DwSweepCase c;
      c.height = 8;
      c.width = 9;
      c.channels = channels;
      c.kernel = kernel;
      check(c);
    }
    DwSweepCase c;
    c.height = 10;
    c.width = 10;
    c.channels = channels;
    c.stride = 3;
    check(c);
  }
}

}  // namespace
}  // namespace osprey
