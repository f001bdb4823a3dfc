// Generated sweeps around osprey's int8 AVX-512 AVERAGE_POOL_2D and
// MAX_POOL_2D (backends/avx512/int8_pool.cpp, int8_max_pool.cpp): channels
// below, at and above the vector (16 lanes; 64 bytes), windows from 1x1 to
// whole-image (global) pools, strides, both paddings, int8 and uint8, zero
// points at the ends of each type's range and every fused activation, on
// each CPU level this machine has. Every output must equal the integer
// reference kernel's bit for bit.
#include <fmt/format.h>
#include <gtest/gtest.h>

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

struct PoolCase {
  bool max = false;  // MAX_POOL_2D, else AVERAGE_POOL_2D
  Shape input{1, 6, 7, 16};
  int filter = 2, stride = 2;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool is_signed = true;
  int32_t zp = 3;
  float scale = 0.05f;
  int threads = 1;
};

std::string describe(const PoolCase& c) {
  return fmt::format("{} {} k{} s{} {} act {} {} zp {} threads {}", c.max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D",
                     shape_str(c.input), c.filter, c.stride, c.padding == Padding::kSame ? "SAME" : "VALID", static_cast<int>(c.activation),
                     c.is_signed ? "int8" : "uint8", c.zp, c.threads);
}

template <typename T>
void run_at(const PoolCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.input) * 13 + c.filter * 7 + c.stride));
  OpTester t({kOspreyAvx512});
  t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false, per_tensor(c.scale, c.zp));
  t.add_output(dtype_of<T>(), {}, per_tensor(c.scale, c.zp));
  Pool2DOptions o;
  o.padding = c.padding;
  o.stride_h = o.stride_w = c.stride;
  o.filter_h = o.filter_w = c.filter;
  o.activation = c.activation;
  t.set_op(c.max ? OpCode::kMaxPool2D : OpCode::kAveragePool2D, o);
  t.set_threads({c.threads});
  // MAX_POOL_2D stays with XNNPACK at the avx2 level.
  run_exact_at(t, level, c.max ? level >= Int8Level::kAvx512 : level != Int8Level::kNone);
}

// Runs `c` on every level, as an average and as a max pool.
void check(PoolCase c) {
  for (bool max : {false, true}) {
    c.max = max;
    on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_at<decltype(type)>(c, level); });
  }
}

std::vector<PoolCase> both_types(PoolCase c) {
  std::vector<PoolCase> all{c};
  c.is_signed = false;
  c.zp += 128;
  all.push_back(c);
  return all;
}

TEST(Int8Avx512Pool, ChannelsWindowsStridesPadding) {
  for (int channels : {1, 3, 15, 16, 17, 33, 64, 65}) {
    for (auto [filter, stride] : {std::pair{1, 1}, {2, 2}, {3, 1}, {3, 2}, {5, 3}}) {
      for (Padding padding : {Padding::kSame, Padding::kValid}) {
        PoolCase c;
        c.input = {channels == 3 ? 2 : 1, 6, 7, channels};
        c.filter = filter;
        c.stride = stride;
        c.padding = padding;
        for (const PoolCase& f : both_types(c)) check(f);
      }
    }
  }
}

// Global pools (a squeeze-and-excitation block's), the largest windows.
TEST(Int8Avx512Pool, GlobalWindows) {
  for (const Shape& input : {Shape{1, 16, 16, 24}, Shape{1, 64, 64, 17}, Shape{1, 128, 128, 3}}) {
    PoolCase c;
    c.input = input;
    c.filter = input[1];
    c.stride = input[1];
    c.padding = Padding::kValid;
    for (const PoolCase& f : both_types(c)) check(f);
  }
}

TEST(Int8Avx512Pool, ZeroPointsAndActivations) {
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                    Activation::kReluN1To1};
  int i = 0;
  for (bool is_signed : {true, false}) {
    for (int32_t zp : is_signed ? std::vector<int32_t>{-128, 127, 0} : std::vector<int32_t>{0, 255, 128}) {
      for (Activation a : activations) {
        PoolCase c;
        c.is_signed = is_signed;
        c.zp = zp;
        c.activation = a;
        c.scale = i % 2 ? 0.05f : 0.01f;
        c.filter = 3;
        c.stride = 1 + i % 2;
        check(c);
        ++i;
      }
    }
  }
}

TEST(Int8Avx512Pool, TwoThreads) {
  PoolCase c;
  c.input = {1, 30, 31, 40};
  c.filter = 3;
  c.stride = 1;
  c.threads = 2;
  for (const PoolCase& f : both_types(c)) check(f);
}

// MAX_POOL_2D's 2x2 windows at stride 2 over 16 or 32 channels, two rows at
// a time (int8_max_pool.cpp): output rows of 1 to 17 pixels around its steps
// of 64 bytes (4 or 2 pixels), odd input sides a VALID pool leaves a row or
// column of, batches, both threads, clamping activations.
TEST(Int8Avx512Pool, MaxTwoByTwoRows) {
  int i = 0;
  for (int channels : {16, 32}) {
    for (int out_w : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17}) {
      PoolCase c;
      c.max = true;
      c.padding = i % 2 ? Padding::kValid : Padding::kSame;
      const int odd = c.padding == Padding::kValid ? i / 2 % 2 : 0;
      c.input = {1 + i % 3 / 2, 2 * (1 + i % 4) + odd, 2 * out_w + odd, channels};
      c.activation = i % 4 == 3 ? Activation::kRelu6 : i % 4 == 1 ? Activation::kReluN1To1 : Activation::kNone;
      c.scale = 0.02f;
      c.threads = 1 + i % 2;
      for (PoolCase f : both_types(c)) {
        on_every_level(f.is_signed, [&](Int8Level level, auto type) { run_at<decltype(type)>(f, level); });
      }
      ++i;
    }
  }
}

}  // namespace
}  // namespace osprey
