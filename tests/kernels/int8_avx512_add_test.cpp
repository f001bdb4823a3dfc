// Generated sweeps around osprey's int8 AVX-512 ADD (backends/avx512/int8_add.cpp):
// two run-time operands of one shape, sizes below, at and above the vector
// (16 lanes) and the task, int8 and uint8, zero points at the ends of each
// type's range, scale ratios across XNNPACK's range with shifts from 10 to
// 30, every fused clamp, 1 and 2 threads, on each CPU level this machine
// has. Every output must equal the integer reference kernel's bit for bit;
// what the kernel does not take (broadcasting, scale ratios outside
// XNNPACK's range, the other arithmetics, the AVX2 level) must stay with the
// reference kernels.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>
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

struct AddCase {
  Shape a{1, 6, 7, 16};
  Shape b{1, 6, 7, 16};
  Activation activation = Activation::kNone;
  bool is_signed = true;
  int32_t a_zp = 3, b_zp = -20, out_zp = -5;
  float a_scale = 0.05f, b_scale = 0.03f, out_scale = 0.06f;
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  int threads = 1;
};

std::string describe(const AddCase& c) {
  return fmt::format("ADD {} + {} act {} {} zp {} {} {} scales {} {} {} arith {} threads {}", shape_str(c.a),
                     shape_str(c.b), static_cast<int>(c.activation), c.is_signed ? "int8" : "uint8", c.a_zp,
                     c.b_zp, c.out_zp, c.a_scale, c.b_scale, c.out_scale,
                     quant::arithmetic_name(c.arithmetic), c.threads);
}

// The case, and its uint8 form (zero points moved up by 128).
std::vector<AddCase> both_types(AddCase c) {
  std::vector<AddCase> all{c};
  c.is_signed = false;
  for (int32_t* zp : {&c.a_zp, &c.b_zp, &c.out_zp}) *zp += 128;
  all.push_back(c);
  return all;
}

template <typename T>
void run_add(const AddCase& c, Int8Level level, bool taken) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.a) * 31 + num_elements(c.b) + c.a_zp));
  OpTester t({kOspreyAvx512});
  t.add_input<T>(c.a, random_q<T>(rng, num_elements(c.a)), false, per_tensor(c.a_scale, c.a_zp));
  t.add_input<T>(c.b, random_q<T>(rng, num_elements(c.b)), false, per_tensor(c.b_scale, c.b_zp));
  t.add_output(dtype_of<T>(), {}, per_tensor(c.out_scale, c.out_zp));
  ElementwiseOptions o;
  o.activation = c.activation;
  t.set_op(OpCode::kAdd, o);
  t.set_threads({c.threads});
  ArithmeticScope arithmetic_scope(c.arithmetic);
  const bool level_takes = level == Int8Level::kVnni || level == Int8Level::kAvx512;
  run_exact_at(t, level, taken && level_takes && c.arithmetic == Arithmetic::kLiteRT);
}

void check(const AddCase& c, bool taken = true) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_add<decltype(type)>(c, level, taken); });
}

TEST(Int8Avx512Add, SizesAroundTheVectorAndTheTask) {
  for (int32_t n : {1, 15, 16, 17, 100, 16383, 16384, 16385, 3 * 16384 + 40}) {
    AddCase c;
    c.a = c.b = Shape{1, n};
    c.threads = n > 16384 ? 2 : 1;
    for (const AddCase& f : both_types(c)) check(f);
  }
}

TEST(Int8Avx512Add, ZeroPointsScalesActivations) {
  // Input/output ratios across XNNPACK's [2^-10, 2^8): shifts from 30 down to 13.
  const float scales[][3] = {{0.05f, 0.03f, 0.06f},
                             {0.5f, 0.25f, 0.01f},
                             {0.001f, 0.0011f, 1.0f},
                             {1.0f, 0.004f, 0.0042f},
                             {0.02f, 0.02f, 0.02f}};
  const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                    Activation::kReluN1To1};
  int i = 0;
  for (bool is_signed : {true, false}) {
    const int32_t lo = is_signed ? -128 : 0;
    for (auto [a_zp, b_zp, out_zp] :
         {std::tuple{lo, lo + 255, lo + 128}, {lo + 255, lo, lo}, {lo + 128, lo + 1, lo + 255}}) {
      for (const auto& s : scales) {
        AddCase c;
        c.is_signed = is_signed;
        c.a_zp = a_zp;
        c.b_zp = b_zp;
        c.out_zp = out_zp;
        c.a_scale = s[0];
        c.b_scale = s[1];
        c.out_scale = s[2];
        c.activation = activations[i % 4];
        c.a = c.b = Shape{1, 5, 7, 16 + i % 3 * 40};
        check(c);
        ++i;
      }
    }
  }
}

TEST(Int8Avx512Add, WhatItLeavesStaysWithTheReference) {
  AddCase broadcast;
  broadcast.b = {1, 1, 1, 16};
  check(broadcast, false);
  AddCase small_ratio;  // input/output ratio below 2^-10
  small_ratio.a_scale = 0.00001f;
  check(small_ratio, false);
  for (Arithmetic a : kAllArithmetic) {
    AddCase other;
    other.arithmetic = a;
    check(other);  // taken under LiteRT's arithmetic only (run_add)
  }
}

}  // namespace
}  // namespace osprey
