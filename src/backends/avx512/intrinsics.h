// AVX-512 intrinsics for osprey's own kernels, included once per kernel file.
#pragma once

// GCC 12's AVX-512 intrinsics start some results from _mm512_undefined_ps(),
// which -W(maybe-)uninitialized flags inside their own header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

// The first n (may be <= 0 or >= 64) of a 512-bit vector's 64 byte lanes:
// what a masked load or store of n bytes takes.
inline __mmask64 first_byte_lanes(int64_t n) {
  return n >= 64 ? ~__mmask64{0} : n <= 0 ? 0 : (__mmask64{1} << n) - 1;
}
