// What int8_mean_mul.cpp (MEAN and MUL at the AVX-512 levels) shares with its
// AVX2 level, int8_mean_mul_avx2.cpp.
#pragma once

#include <cstdint>

#include "kernels/ref/quantized/elementwise.h"

namespace osprey {

// One claimed MUL: `a` the full-size operand, `b` the other (the op's inputs
// swapped when its input 1 is the full-size one: the arithmetic is symmetric).
struct Int8MulParams {
  bool is_signed = true;
  bool avx2 = false;       // runs at Int8Level::kAvx2 (int8_mean_mul_avx2.cpp)
  bool broadcast = false;  // `b` is one vector of `channels` values, else `a`'s shape
  int64_t elements = 0;    // of the output (and of `a`)
  int channels = 0;
  // Broadcasts: lcm(channels, 64), when small, else 0: the kernel widens `b`
  // repeated over that many values once per run (b - zero point, int32), so
  // that any range from a pixel's start reads as whole vectors.
  int64_t period = 0;
  int32_t a_offset = 0, b_offset = 0, out_zero_point = 0;  // -zp_a, -zp_b, zp_out
  quant::QuantizedRange range;                             // the fused activation's clamp
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;
  ref::quantized::MulRequant rq;
};

namespace int8_avx2 {

// MEAN: the sums over k in [0, count) of the first n (1..64) bytes at
// in + k * stride, int8 or uint8, into sums[0, n) (sums[n, 64) become 0).
void mean_sums(const uint8_t* in, int64_t stride, int64_t count, int n, bool is_signed, int32_t* sums);

// MUL: output elements [first, last), whole pixels when `b` broadcasts;
// `wide` holds the widened period when p.period is not 0.
void mul(const Int8MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
         int64_t first, int64_t last);

}  // namespace int8_avx2

}  // namespace osprey
