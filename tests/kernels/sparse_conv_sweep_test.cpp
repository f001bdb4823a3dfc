// Generated sweeps around osprey's sparse 1x1 convolution
// (backends/avx512/sparse_conv.h: tiles of 32 pixels in two AVX-512 vectors or
// four AVX2 ones, input channels transposed 128 at a time): pixel counts and
// channel counts below, at and above each size, with and without bias, every
// fused activation, on 1 and 2 threads (and 3 and 4 where rows are shared out). Weights are 75% exact zeros,
// so the kernel takes the op (it needs at least half); denser weights, strides and larger windows go to
// XNNPACK. Each case runs on every backend, in every form of the kernel this
// CPU runs (OSPREY_SPARSE_CONV), and is compared with the reference kernel.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/avx512/sparse_conv.h"
#include "kernels/env_scope.h"
#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::kOspreyAvx512;
using testing::kXnnpack;
using testing::OpTester;

// Sets OSPREY_SPARSE_CONV for one scope.
class SparseLevelScope {
 public:
  explicit SparseLevelScope(SparseConvLevel level)
      : env_("OSPREY_SPARSE_CONV", level == SparseConvLevel::kAvx512 ? "avx512" : "avx2") {}

 private:
  testing::EnvScope env_;
};

// The kernel's forms this CPU runs: AVX-512 and AVX2, AVX2 alone, or none.
std::vector<SparseConvLevel> levels() {
  std::vector<SparseConvLevel> all;
  for (SparseConvLevel l : {SparseConvLevel::kAvx512, SparseConvLevel::kAvx2}) {
    SparseLevelScope scope(l);
    if (sparse_conv_level() == l) all.push_back(l);
  }
  return all;
}

struct SparseConvCase {
  int height = 1, width = 32, cin = 16, cout = 16;
  bool bias = true;
  Activation activation = Activation::kNone;
  std::vector<int> threads{1, 2};
  int every_nth_nonzero = 4;  // 1 in 4 weights nonzero: 75% zeros
  int stride = 1, kernel = 1;
};

void check_at(const SparseConvCase& c, SparseConvLevel level) {
  SparseLevelScope scope(level);
  SCOPED_TRACE(fmt::format("{}x{} pixels, {} -> {} channels, k{} s{}, 1/{} nonzero, act {} {}bias", c.height,
                           c.width, c.cin, c.cout, c.kernel, c.stride, c.every_nth_nonzero,
                           static_cast<int>(c.activation), c.bias ? "" : "no "));
  std::mt19937 rng(static_cast<uint32_t>(c.width * 977 + c.cin * 31 + c.cout));
  std::vector<float> weights = testing::uniform_floats(int64_t{c.cout} * c.kernel * c.kernel * c.cin, rng);
  // Scattered zeros at a fixed rate, so small filters are as sparse as large ones.
  for (size_t i = 0; i < weights.size(); ++i) {
    if ((i * 7 + 3) % static_cast<size_t>(c.every_nth_nonzero) != 0) weights[i] = 0.0f;
  }
  OpTester t;
  t.add_input<float>({1, c.height, c.width, c.cin},
                     testing::uniform_floats(int64_t{c.height} * c.width * c.cin, rng));
  t.add_input<float>({c.cout, c.kernel, c.kernel, c.cin}, weights, true);
  if (c.bias) t.add_input<float>({c.cout}, testing::uniform_floats(c.cout, rng), true);
  t.add_output(DType::kFloat32);
  Conv2DOptions o;
  o.stride_h = o.stride_w = c.stride;
  o.activation = c.activation;
  t.set_op(OpCode::kConv2D, o);
  t.set_threads(c.threads);
  const bool sparse_kernel =
      sparse_conv_supported() && c.kernel == 1 && c.stride == 1 && c.every_nth_nonzero >= 2;
  t.expect_claim(sparse_kernel ? kOspreyAvx512 : kXnnpack);
  t.run();
}

void check(const SparseConvCase& c) {
  const std::vector<SparseConvLevel> all = levels();
  for (SparseConvLevel level : all) {
    SCOPED_TRACE(level == SparseConvLevel::kAvx512 ? "AVX-512" : "AVX2");
    check_at(c, level);
  }
  if (all.empty()) check_at(c, SparseConvLevel::kAvx2);  // no form here: XNNPACK must run it
}

TEST(SparseConvSweep, PixelsAroundTheTile) {
  for (int pixels : {1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 96, 97, 130}) {
    SparseConvCase c;
    c.width = pixels;
    check(c);
  }
  // Pixels spread over rows: tiles cross row ends.
  for (int height : {2, 3, 5}) {
    SparseConvCase c;
    c.height = height;
    c.width = 13;
    c.cin = 24;
    c.cout = 20;
    check(c);
  }
}

// Each thread takes the tiles of its own rows (core/split.h): shares of
// unequal rows, of a part of a tile, empty shares (fewer rows than threads,
// where the output channels are split too), 7x7 and 14x14 maps.
TEST(SparseConvSweep, RowsSharedOverThreads) {
  for (int height : {1, 2, 3, 4, 5, 7, 9, 14}) {
    for (int width : {1, 7, 14, 33}) {
      SparseConvCase c;
      c.height = height;
      c.width = width;
      c.cin = 40;
      c.cout = 72;
      c.threads = {2, 3, 4};
      check(c);
    }
  }
}

TEST(SparseConvSweep, InputChannelsAroundVectorAndChunk) {
  for (int cin : {1, 2, 3, 8, 15, 16, 17, 31, 32, 33, 64, 127, 128, 129, 200, 256, 257}) {
    SparseConvCase c;
    c.cin = cin;
    c.width = 33;
    check(c);
  }
}

TEST(SparseConvSweep, OutputChannelsAroundTheVector) {
  for (int cout : {1, 2, 5, 15, 16, 17, 31, 32, 33, 48, 70}) {
    SparseConvCase c;
    c.cout = cout;
    c.width = 40;
    c.cin = 19;
    check(c);
  }
}

TEST(SparseConvSweep, BiasAndEveryActivation) {
  for (Activation a : {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1}) {
    for (bool bias : {true, false}) {
      SparseConvCase c;
      c.activation = a;
      c.bias = bias;
      c.width = 35;
      c.cin = 18;
      c.cout = 17;
      check(c);
    }
  }
}

TEST(SparseConvSweep, SparsityLevels) {
  // Half zeros is the threshold; all zeros gives the bias alone.
  for (int nth : {2, 3, 8, 1000000}) {
    SparseConvCase c;
    c.every_nth_nonzero = nth;
    c.width = 34;
    c.cin = 40;
    c.cout = 24;
    check(c);
  }
}

// Ops beside the kernel's reach: dense weights, stride 2, a 3x3 window.
TEST(SparseConvSweep, NeighboursXnnpackRuns) {
  SparseConvCase dense;
  dense.every_nth_nonzero = 1;
  check(dense);
  SparseConvCase strided;
  strided.stride = 2;
  strided.height = 4;
  check(strided);
  SparseConvCase window;
  window.kernel = 3;
  window.height = 4;
  check(window);
}

}  // namespace
}  // namespace osprey
