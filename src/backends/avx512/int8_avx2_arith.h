// The requantization arithmetic of int8_requant.h (kernels/ref/quantized/
// fixed_point.h) for 8 int32 lanes with AVX2, which has no 64-bit arithmetic
// shifts and no mask registers. Include it inside an avx2_target_begin.h region.
#pragma once

#include <cstdint>
#include <cstring>

#include "backends/avx512/int8_requant.h"
#include "backends/avx512/intrinsics.h"

namespace osprey::int8_avx2 {

inline constexpr int kLanes = 8;  // int32 lanes per vector

// x >> s per 64-bit lane, arithmetic: the logical shift of x or of ~x.
inline __m256i sra64(__m256i x, __m256i s) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
}

// The 64-bit products of the even and the odd int32 lanes of x and m.
inline void products(__m256i x, __m256i m, __m256i& even, __m256i& odd) {
  even = _mm256_mul_epi32(x, m);
  odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32));
}
// The low halves of the 64-bit lanes of even and odd, back in int32 lane order.
inline __m256i interleave(__m256i even, __m256i odd) {
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// multiply_single_rounding: (x * m + 2^(s - 1)) >> s, s = 31 - shift in [1, 62], in 64 bits.
inline __m256i single_rounding(__m256i x, __m256i m, __m256i s) {
  __m256i even, odd;
  products(x, m, even, odd);
  const __m256i one = _mm256_set1_epi64x(1);
  const __m256i s_even = _mm256_and_si256(s, _mm256_set1_epi64x(0xffffffff));
  const __m256i s_odd = _mm256_srli_epi64(s, 32);
  even = sra64(_mm256_add_epi64(even, _mm256_sllv_epi64(one, _mm256_sub_epi64(s_even, one))), s_even);
  odd = sra64(_mm256_add_epi64(odd, _mm256_sllv_epi64(one, _mm256_sub_epi64(s_odd, one))), s_odd);
  return interleave(even, odd);
}

// saturating_rounding_doubling_high_mul for m >= 0 (a multiplier never is INT32_MIN):
// (x * m + (x * m >= 0 ? 2^30 : 1 - 2^30)) / 2^31, the division truncating.
// Of the quotient only bits 0-31 are kept, bits 31-62 of the dividend: a
// logical shift gives them as well as an arithmetic one.
inline __m256i doubling_high_mul(__m256i x, __m256i m) {
  __m256i even, odd;
  products(x, m, even, odd);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i up = _mm256_set1_epi64x(int64_t{1} << 30), down = _mm256_set1_epi64x(1 - (int64_t{1} << 30));
  const __m256i toward_zero = _mm256_set1_epi64x((int64_t{1} << 31) - 1);
  auto high = [&](__m256i ab) {
    __m256i t = _mm256_add_epi64(ab, _mm256_blendv_epi8(up, down, _mm256_cmpgt_epi64(zero, ab)));
    t = _mm256_add_epi64(t, _mm256_and_si256(_mm256_cmpgt_epi64(zero, t), toward_zero));
    return _mm256_srli_epi64(t, 31);
  };
  return interleave(high(even), high(odd));
}

// rounding_divide_by_pot: x / 2^e rounded to nearest, ties away from zero; e in [0, 31].
inline __m256i rounding_divide(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  // (mask >> 1) + (x < 0): subtracting the all-ones compare adds one.
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(remainder, threshold));
}

// The output values of int32 sums in the arithmetic of Requant::finish
// (kernels/ref/quantized/conv.cpp), with the per-tensor values broadcast
// once, where a kernel starts its tiles.
class Requantizer {
 public:
  explicit Requantizer(const Int8Requant& rq)
      : rq_(rq),
        zp_(_mm256_set1_epi32(rq.output_zero_point)),
        qmin_(_mm256_set1_epi32(rq.qmin)),
        qmax_(_mm256_set1_epi32(rq.qmax)),
        low_(_mm256_set1_ps(static_cast<float>(rq.qmin - rq.output_zero_point))),
        high_(_mm256_set1_ps(static_cast<float>(rq.qmax - rq.output_zero_point))) {}

  // The 8 output values of the sums of channels [c, c + 8).
  __m256i operator()(__m256i acc, size_t c) const {
    return apply(acc, [c](const auto* values) { return load(values + c); });
  }
  // The 8 output values of 8 sums of channel c (pixels in the lanes).
  __m256i channel(__m256i acc, size_t c) const {
    return apply(acc, [c](const auto* values) { return broadcast(values[c]); });
  }

 private:
  static __m256i load(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static __m256i broadcast(int32_t v) { return _mm256_set1_epi32(v); }
  static __m256 broadcast(float v) { return _mm256_set1_ps(v); }

  // `lanes(array)`: the per-channel values of `array` for the 8 lanes.
  template <typename Lanes>
  __m256i apply(__m256i acc, const Lanes& lanes) const {
    if (rq_.mode == quant::Arithmetic::kLiteRT) {
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), lanes(rq_.scale.data()));
      v = _mm256_min_ps(_mm256_max_ps(v, low_), high_);
      return _mm256_add_epi32(_mm256_cvtps_epi32(v), zp_);  // rounds half to even, as lrint
    }
    const __m256i m = lanes(rq_.multiplier.data());
    const __m256i right = lanes(rq_.right_shift.data());
    __m256i v;
    if (rq_.mode == quant::Arithmetic::kTfliteSingle) {
      v = single_rounding(acc, m, right);
    } else {
      // The left shift wraps, as the reference's unsigned multiply does.
      v = rounding_divide(doubling_high_mul(_mm256_sllv_epi32(acc, lanes(rq_.left_shift.data())), m), right);
    }
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, zp_), qmin_), qmax_);
  }

  const Int8Requant& rq_;
  __m256i zp_, qmin_, qmax_;
  __m256 low_, high_;
};

// The low bytes of the 8 int32 lanes, in the low 8 bytes.
inline __m128i low_bytes(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

// Stores the low bytes of the first n (1..8) lanes of v.
inline void store_bytes(uint8_t* out, int n, __m256i v) {
  const __m128i bytes = low_bytes(v);
  if (n >= kLanes) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  } else {
    uint8_t tmp[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(out, tmp, static_cast<size_t>(n));
  }
}

// The first n (1..8) bytes at p, zero above.
inline __m128i load_bytes(const uint8_t* p, int n) {
  if (n >= kLanes) return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v |= uint64_t{p[k]} << (8 * k);
  return _mm_cvtsi64_si128(static_cast<int64_t>(v));
}

// n (1..8) bytes at p as int32 lanes, sign- (int8) or zero-extended (uint8).
template <bool kSigned>
inline __m256i widen(const uint8_t* p, int n) {
  const __m128i bytes = load_bytes(p, n);
  return kSigned ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
}

}  // namespace osprey::int8_avx2
