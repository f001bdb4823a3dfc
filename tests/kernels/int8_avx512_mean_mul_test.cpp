// Generated sweeps around osprey's int8 AVX-512 MEAN and MUL
// (backends/avx512/int8_mean_mul.cpp): channels below, at and above 16 and
// 64, spatial sizes from 1x1 to 72x128, int8 and uint8, zero points at the
// ends of each type's range, scales whose multiplier shifts left and right
// (and, for MUL, inside and outside the range LiteRT gives XNNPACK), keep_dims
// or not, MUL same-shape and by a channel vector in either operand order with
// fused RELU/RELU6, every arithmetic of the reference, on each CPU level this
// machine has. Every output must equal the integer reference kernel's bit for
// bit.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/int8_binary_case.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::kOspreyAvx512;
using testing::OpTester;

bool claimed_at(Int8Level level) {
  return level != Int8Level::kNone;
}

// ---------------------------------------------------------------- MEAN

struct MeanCase {
  Shape input{1, 6, 7, 16};
  std::vector<int32_t> axes{1, 2};
  bool keep_dims = true;
  bool is_signed = true;
  int32_t in_zp = 3, out_zp = -5;
  float in_scale = 0.05f, out_scale = 0.04f;
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  int threads = 1;
};

std::string describe(const MeanCase& c) {
  return fmt::format("MEAN {} axes {} keep {} {} zp {} {} scales {} {} arith {} threads {}",
                     shape_str(c.input), fmt::join(c.axes, ","), c.keep_dims, c.is_signed ? "int8" : "uint8",
                     c.in_zp, c.out_zp, c.in_scale, c.out_scale, quant::arithmetic_name(c.arithmetic),
                     c.threads);
}

template <typename T>
void run_mean(const MeanCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.input) * 17 + c.in_zp * 5 + c.out_zp));
  OpTester t({kOspreyAvx512});
  t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false, per_tensor(c.in_scale, c.in_zp));
  t.add_input<int32_t>({static_cast<int32_t>(c.axes.size())}, c.axes, true);
  t.add_output(dtype_of<T>(), {}, per_tensor(c.out_scale, c.out_zp));
  ReducerOptions o;
  o.keep_dims = c.keep_dims;
  t.set_op(OpCode::kMean, o);
  t.set_threads({c.threads});
  ArithmeticScope arithmetic_scope(c.arithmetic);
  run_exact_at(t, level, claimed_at(level));
}

void check(const MeanCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_mean<decltype(type)>(c, level); });
}

std::vector<int32_t*> zero_points(MeanCase& c) {
  return {&c.in_zp, &c.out_zp};
}

TEST(Int8Avx512Mean, ChannelsAndSpatialSizes) {
  for (int channels : {1, 3, 15, 16, 17, 32, 48, 63, 64, 65, 96, 130}) {
    for (auto [h, w] : {std::pair{1, 1}, {3, 5}, {7, 9}, {12, 11}}) {
      for (bool keep_dims : {true, false}) {
        MeanCase c;
        c.input = {channels == 3 ? 2 : 1, h, w, channels};
        c.keep_dims = keep_dims;
        for (const MeanCase& f : both_types(c)) check(f);
      }
    }
  }
}

TEST(Int8Avx512Mean, LargeImages) {
  for (const Shape& input : {Shape{1, 72, 128, 16}, Shape{1, 36, 64, 72}, Shape{2, 72, 128, 3}}) {
    MeanCase c;
    c.input = input;
    c.threads = input[3] == 72 ? 2 : 1;
    for (const MeanCase& f : both_types(c)) check(f);
  }
}

TEST(Int8Avx512Mean, AxesOrderAndOtherReductions) {
  // Negative and repeated axes name H and W too; other reductions stay with the reference.
  for (const std::vector<int32_t>& axes :
       std::vector<std::vector<int32_t>>{{2, 1}, {-3, -2, 1}, {1}, {1, 2, 3}}) {
    MeanCase c;
    c.axes = axes;
    c.input = {1, 5, 6, 20};
    const bool taken = axes.size() != 1 && axes != std::vector<int32_t>{1, 2, 3};
    for (bool is_signed : {true, false}) {
      c.is_signed = is_signed;
      on_every_level(is_signed, [&](Int8Level level, auto type) {
        using T = decltype(type);
        SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
        std::mt19937 rng(7);
        OpTester t({kOspreyAvx512});
        t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false, per_tensor(0.05f, 3));
        t.add_input<int32_t>({static_cast<int32_t>(axes.size())}, axes, true);
        t.add_output(dtype_of<T>(), {}, per_tensor(0.04f, 7));
        ReducerOptions o;
        o.keep_dims = true;
        t.set_op(OpCode::kMean, o);
        run_exact_at(t, level, taken && claimed_at(level));
      });
    }
  }
}

TEST(Int8Avx512Mean, ZeroPointsScalesArithmetic) {
  // in/out scale ratios: multiplier shifted left (1.25, 40) and right (0.02).
  const std::pair<float, float> scales[] = {{0.05f, 0.04f}, {0.4f, 0.01f}, {0.001f, 0.05f}};
  int i = 0;
  for (Arithmetic a : kAllArithmetic) {
    for (bool is_signed : {true, false}) {
      const int32_t lo = is_signed ? -128 : 0;
      for (auto [in_zp, out_zp] : {std::pair{lo, lo + 255}, {lo + 255, lo}, {lo + 128, lo + 3}}) {
        for (auto [in_scale, out_scale] : scales) {
          MeanCase c;
          c.is_signed = is_signed;
          c.in_zp = in_zp;
          c.out_zp = out_zp;
          c.in_scale = in_scale;
          c.out_scale = out_scale;
          c.arithmetic = a;
          c.keep_dims = i % 3 != 0;
          c.input = {1, 9 + i % 4, 16, 24 + i % 3 * 40};
          check(c);
          ++i;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- MUL

// MUL's case: by default a per-channel vector for b.
BinaryCase mul_case() {
  BinaryCase c;
  c.code = OpCode::kMul;
  c.b = {1, 1, 1, 16};
  c.b_scale = 0.01f;
  c.out_scale = 0.004f;
  return c;
}

void check_mul(const BinaryCase& c, bool taken = true) {
  check_binary(c, [&](Int8Level level) { return taken && claimed_at(level); });
}

BinaryCase swapped(BinaryCase c) {
  std::swap(c.a, c.b);
  std::swap(c.a_zp, c.b_zp);
  std::swap(c.a_scale, c.b_scale);
  return c;
}

TEST(Int8Avx512Mul, ChannelVectorBothOrdersAndSameShape) {
  for (int channels : {1, 3, 15, 16, 17, 32, 48, 63, 64, 65, 96, 130}) {
    for (auto [h, w] : {std::pair{1, 1}, {3, 5}, {7, 9}}) {
      BinaryCase c = mul_case();
      c.a = {1, h, w, channels};
      for (const Shape& b : {Shape{1, 1, 1, channels}, Shape{channels}, Shape{1, h, w, channels}}) {
        c.b = b;
        for (const BinaryCase& f : both_types(c)) {
          check_mul(f);
          if (b != f.a) check_mul(swapped(f));
        }
      }
    }
  }
}

TEST(Int8Avx512Mul, LargeImages) {
  for (const Shape& a : {Shape{1, 72, 128, 16}, Shape{1, 36, 64, 72}, Shape{1, 18, 32, 96}}) {
    BinaryCase c = mul_case();
    c.a = a;
    c.b = {1, 1, 1, a[3]};
    c.threads = a[3] == 72 ? 2 : 1;
    for (const BinaryCase& f : both_types(c)) check_mul(f);
    c.b = a;
    check_mul(c);
  }
}

TEST(Int8Avx512Mul, OtherBroadcastsStayWithTheReference) {
  BinaryCase c = mul_case();
  c.a = {1, 4, 5, 16};
  for (const Shape& b : {Shape{1, 4, 1, 16}, Shape{1, 1, 5, 1}, Shape{1}}) {
    c.b = b;
    check_mul(c, false);
  }
}

TEST(Int8Avx512Mul, ZeroPointsScalesActivationsArithmetic) {
  // (sa * sb) / so: in LiteRT's fp32 range with shifts left and right, and
  // above and below it (TFLite's fixed point under every arithmetic).
  const float scales[][3] = {{0.05f, 0.01f, 0.004f},
                             {0.5f, 0.25f, 0.01f},
                             {0.02f, 0.004f, 0.5f},
                             {0.5f, 0.5f, 0.0005f},
                             {0.001f, 0.002f, 0.9f}};
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6};
  int i = 0;
  for (Arithmetic a : kAllArithmetic) {
    for (bool is_signed : {true, false}) {
      const int32_t lo = is_signed ? -128 : 0;
      for (auto [a_zp, b_zp, out_zp] :
           {std::tuple{lo, lo + 255, lo + 128}, {lo + 255, lo, lo}, {lo + 128, lo + 1, lo + 255}}) {
        for (const auto& s : scales) {
          BinaryCase c = mul_case();
          c.is_signed = is_signed;
          c.a_zp = a_zp;
          c.b_zp = b_zp;
          c.out_zp = out_zp;
          c.a_scale = s[0];
          c.b_scale = s[1];
          c.out_scale = s[2];
          c.arithmetic = a;
          c.activation = activations[i % 3];
          c.a = {1, 5, 7, 16 + i % 3 * 40};
          c.b = i % 2 ? Shape{1, 1, 1, c.a[3]} : c.a;
          check_mul(i % 4 == 1 ? swapped(c) : c);
          ++i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace osprey
