// Generated sweeps around osprey's int8 AVX-512 ADD (backends/avx512/int8_add.cpp):
// two run-time operands of one shape, sizes below, at and above the vector
// (16 lanes), the packed step (64) and the task, int8 and uint8, zero points at the ends of each
// type's range, scale ratios across XNNPACK's range with shifts from 10 to
// 30, every fused clamp, 1 and 2 threads, on each CPU level this machine
// has. Every output must equal the integer reference kernel's bit for bit;
// what the kernel does not take (broadcasting, scale ratios outside
// XNNPACK's range, the other arithmetics, the AVX2 level) must stay with the
// reference kernels.
#include <gtest/gtest.h>

#include <tuple>

#include "kernels/int8_binary_case.h"

namespace osprey {
namespace {

using quant_test::Arithmetic;
using quant_test::kAllArithmetic;

// Taken at the AVX-512 levels, under LiteRT's arithmetic.
void check(const BinaryCase& c, bool taken = true) {
  check_binary(c, [&](Int8Level level) {
    return taken && level >= Int8Level::kAvx512 && c.arithmetic == Arithmetic::kLiteRT;
  });
}

TEST(Int8Avx512Add, SizesAroundTheVectorAndTheTask) {
  for (int32_t n : {1, 15, 16, 17, 63, 64, 65, 100, 128, 16383, 16384, 16385, 3 * 16384 + 40}) {
    BinaryCase c;
    c.a = c.b = Shape{1, n};
    c.threads = n > 16384 ? 2 : 1;
    for (const BinaryCase& f : both_types(c)) check(f);
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
        BinaryCase c;
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
  BinaryCase broadcast;
  broadcast.b = {1, 1, 1, 16};
  check(broadcast, false);
  BinaryCase small_ratio;  // input/output ratio below 2^-10
  small_ratio.a_scale = 0.00001f;
  check(small_ratio, false);
  for (Arithmetic a : kAllArithmetic) {
    BinaryCase other;
    other.arithmetic = a;
    check(other);  // taken under LiteRT's arithmetic only (check)
  }
}

}  // namespace
}  // namespace osprey
