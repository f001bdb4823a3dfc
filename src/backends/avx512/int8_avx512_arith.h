// gemmlowp's and TFLite's fixed-point requantization steps
// (kernels/ref/quantized/fixed_point.h) on 16 int32 lanes of AVX-512, with
// a shift per lane or one for all, and the packing of results to bytes. Self-contained: it opens its own
// AVX-512 region (F/BW/VL/DQ, whatever OSPREY_AVX512_TARGET the includer has set), so include it at file
// scope; code built for more features inlines it.
#pragma once

#include <cstdint>

#include "backends/avx512/intrinsics.h"

// The functions run only where the level (int8_cpu.h) says the CPU has AVX-512.
#pragma push_macro("OSPREY_AVX512_TARGET")
#undef OSPREY_AVX512_TARGET
#include "backends/avx512/avx512_target_begin.h"

// Internal to each file: files built for different features include it.
namespace osprey::int8_avx512 {
namespace {

// gemmlowp's SaturatingRoundingDoublingHighMul for 16 lanes; `b` is a
// multiplier >= 0, so the one saturating case (both INT32_MIN) cannot occur.
inline __m512i rounding_doubling_high_mul(__m512i a, __m512i b) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i nudge_pos = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i nudge_neg = _mm512_set1_epi64(1 - (int64_t{1} << 30));
  const __m512i to_zero = _mm512_set1_epi64((int64_t{1} << 31) - 1);
  auto half = [&](__m512i x, __m512i y) {
    const __m512i ab = _mm512_mul_epi32(x, y);
    const __mmask8 neg = _mm512_cmplt_epi64_mask(ab, zero);
    __m512i t = _mm512_add_epi64(ab, _mm512_mask_blend_epi64(neg, nudge_pos, nudge_neg));
    // Division by 2^31 truncating toward zero, as the reference's int64 division does.
    t = _mm512_mask_add_epi64(t, _mm512_cmplt_epi64_mask(t, zero), t, to_zero);
    return _mm512_srai_epi64(t, 31);
  };
  const __m512i even = half(a, b);
  const __m512i odd = half(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// gemmlowp's RoundingDivideByPOT with a shift in [0, 31] per lane.
inline __m512i rounding_divide_by_pot(__m512i x, __m512i exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, exponent), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __mmask16 neg = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
  const __m512i threshold =
      _mm512_mask_add_epi32(_mm512_srai_epi32(mask, 1), neg, _mm512_srai_epi32(mask, 1), one);
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  return _mm512_mask_add_epi32(_mm512_srav_epi32(x, exponent), up, _mm512_srav_epi32(x, exponent), one);
}

// The single-rounding build: (x * m + 2^(total - 1)) >> total, total = 31 - shift in [1, 62].
inline __m512i multiply_single_rounding(__m512i x, __m512i m, __m512i total) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i low = _mm512_set1_epi64(0xFFFFFFFF);
  auto half = [&](__m512i a, __m512i b, __m512i shift) {
    const __m512i round = _mm512_sllv_epi64(one, _mm512_sub_epi64(shift, one));
    return _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, b), round), shift);
  };
  const __m512i even = half(x, m, _mm512_and_si512(total, low));
  const __m512i odd = half(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32), _mm512_srli_epi64(total, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// The same two with one shift for every lane.

// gemmlowp's RoundingDivideByPOT, exponent in [0, 31].
inline __m512i rounding_divide_by_pot(__m512i x, int exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_set1_epi32(static_cast<int32_t>((int64_t{1} << exponent) - 1));
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __mmask16 neg = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
  const __m512i half_mask = _mm512_srai_epi32(mask, 1);
  const __m512i threshold = _mm512_mask_add_epi32(half_mask, neg, half_mask, one);
  const __m512i shifted = _mm512_sra_epi32(x, _mm_cvtsi32_si128(exponent));
  return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);
}

// The single-rounding build, as above.
inline __m512i multiply_single_rounding(__m512i x, __m512i multiplier, int total) {
  // The low dword of each qword is what vpmuldq reads.
  const __m512i m = multiplier;
  const __m512i round = _mm512_set1_epi64(int64_t{1} << (total - 1));
  const __m128i count = _mm_cvtsi32_si128(total);
  auto half = [&](__m512i a) {
    return _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, m), round), count);
  };
  const __m512i even = half(x);
  const __m512i odd = half(_mm512_srli_epi64(x, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// Four vectors of 16 rounded int32 results (their zero point not yet
// added) as 64 bytes in order: packed to 16 bits with saturation, the zero
// point `zp16` added with saturation, packed to bytes, clamped to [lo8,
// hi8] (unless `clamps` is false: a clamp to the whole type's range). The same bytes as clamping each int32
// to the clamp less the zero point and adding it: saturation keeps the order and the clamp lies inside the
// byte range. 4 shuffles and 4 byte-wide steps where four vpmovdb to memory, slow on Zen 4, took longer
// (int8_add.cpp, int8_microkernels.inc).
inline __m512i pack_to_bytes(__m512i a, __m512i b, __m512i c, __m512i d, __m512i zp16, __m512i lo8,
                             __m512i hi8, bool is_signed, bool clamps = true) {
  const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a, b), zp16);
  const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(c, d), zp16);
  // 128-bit lane l holds elements 4l.. of each vector in turn: to element order.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  if (is_signed) {
    const __m512i bytes = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(ab, cd));
    return clamps ? _mm512_min_epi8(_mm512_max_epi8(bytes, lo8), hi8) : bytes;
  }
  const __m512i bytes = _mm512_permutexvar_epi32(order, _mm512_packus_epi16(ab, cd));
  return clamps ? _mm512_min_epu8(_mm512_max_epu8(bytes, lo8), hi8) : bytes;
}

// Whether pack_to_bytes must clamp to [lo, hi] (bytes of the output type):
// the packs saturate to the whole type's range by themselves.
inline bool clamps_bytes(int32_t lo, int32_t hi, bool is_signed) {
  return is_signed ? lo > -128 || hi < 127 : lo > 0 || hi < 255;
}

}  // namespace
}  // namespace osprey::int8_avx512

#include "backends/avx512/avx512_target_end.h"
#pragma pop_macro("OSPREY_AVX512_TARGET")
