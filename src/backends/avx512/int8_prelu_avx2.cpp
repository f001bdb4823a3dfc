// int8/uint8 PRELU on AVX2 (int8_avx2.h): the line form, and the
// reference's fixed-point steps, 8 lanes at a time.
#include <algorithm>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/intrinsics.h"

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey::int8_avx2 {

namespace {

// Lane i is set where i < n.
__m256i first_lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The reference's fixed-point PRELU (int8_prelu.cpp's prelu_range) on 8 lanes.
template <bool kSigned>
void fixed_range(const PreluFixed& p, const uint8_t* in, uint8_t* out, int64_t first, int64_t last) {
  const bool single = p.mode == quant::Arithmetic::kTfliteSingle;
  // Per branch: the multiplier, and the shifts each build applies around it.
  const __m256i m_pos = _mm256_set1_epi32(p.pos.multiplier), m_neg = _mm256_set1_epi32(p.neg.multiplier);
  const __m256i left_pos = _mm256_set1_epi32(std::max(p.pos.shift, 0));
  const __m256i left_neg = _mm256_set1_epi32(std::max(p.neg.shift, 0));
  const __m256i right_pos = _mm256_set1_epi32(single ? 31 - p.pos.shift : std::max(-p.pos.shift, 0));
  const __m256i right_neg = _mm256_set1_epi32(single ? 31 - p.neg.shift : std::max(-p.neg.shift, 0));
  const __m256i in_offset = _mm256_set1_epi32(p.in_offset), out_offset = _mm256_set1_epi32(p.out_offset);
  // The type's range less the zero point: the clamp comes before the zero
  // point, which a hostile scale's saturated product would overflow.
  const __m256i lo = _mm256_set1_epi32((kSigned ? -128 : 0) - p.out_offset);
  const __m256i hi = _mm256_set1_epi32((kSigned ? 127 : 255) - p.out_offset);
  int64_t phase = first % p.period;
  for (int64_t i = first; i < last;) {
    const int n = static_cast<int>(std::min({int64_t{kLanes}, last - i, p.period - phase}));
    const __m256i x = _mm256_add_epi32(widen<kSigned>(in + i, n), in_offset);
    const __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
    const __m256i alpha = _mm256_maskload_epi32(p.alpha + phase, first_lanes(n));
    const __m256i product = _mm256_blendv_epi8(x, _mm256_mullo_epi32(x, alpha), neg);
    const __m256i m = _mm256_blendv_epi8(m_pos, m_neg, neg);
    const __m256i right = _mm256_blendv_epi8(right_pos, right_neg, neg);
    __m256i v;
    if (single) {
      v = single_rounding(product, m, right);
    } else {
      // The left shift wraps like the reference's unsigned multiply.
      const __m256i shifted = _mm256_sllv_epi32(product, _mm256_blendv_epi8(left_pos, left_neg, neg));
      v = rounding_divide(doubling_high_mul(shifted, m), right);
    }
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), out_offset);
    store_bytes(out + i, n, v);
    i += n;
    phase += n;
    if (phase == p.period) phase = 0;
  }
}

template <bool kSigned>
void lines_range(const PreluLines& l, const uint8_t* in, uint8_t* out, int64_t first, int64_t last) {
  const __m256i k_pos = _mm256_set1_epi32(l.k_pos), b_pos = _mm256_set1_epi32(l.b_pos);
  const __m256i zero_point = _mm256_set1_epi32(l.zero_point);
  const __m128i shift = _mm_cvtsi32_si128(l.shift);
  const __m256i lo = _mm256_set1_epi32(kSigned ? -128 : 0), hi = _mm256_set1_epi32(kSigned ? 127 : 255);
  const int64_t period = static_cast<int64_t>(l.k_neg.size());
  // The clamped outputs of x (8 lanes) whose alpha elements start at `phase`.
  auto line = [&](__m256i x, int64_t phase, __m256i lanes) {
    const __m256i neg = _mm256_cmpgt_epi32(zero_point, x);
    const __m256i k = _mm256_blendv_epi8(k_pos, _mm256_maskload_epi32(l.k_neg.data() + phase, lanes), neg);
    const __m256i b = _mm256_blendv_epi8(b_pos, _mm256_maskload_epi32(l.b_neg.data() + phase, lanes), neg);
    const __m256i v = _mm256_sra_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, k), b), shift);
    return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
  };
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t phase = first % period;
  for (int64_t i = first; i < last;) {
    if (i + 16 <= last && phase + 16 <= period) {
      // 16 bytes at once: two vectors packed to bytes in order.
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      const __m256i x0 = kSigned ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
      const __m128i upper = _mm_srli_si128(bytes, 8);
      const __m256i x1 = kSigned ? _mm256_cvtepi8_epi32(upper) : _mm256_cvtepu8_epi32(upper);
      const __m256i words =
          _mm256_permute4x64_epi64(_mm256_packs_epi32(line(x0, phase, all), line(x1, phase + 8, all)), 0xD8);
      const __m128i w0 = _mm256_castsi256_si128(words), w1 = _mm256_extracti128_si256(words, 1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       kSigned ? _mm_packs_epi16(w0, w1) : _mm_packus_epi16(w0, w1));
      i += 16;
      phase += 16;
    } else {
      const int n = static_cast<int>(std::min({int64_t{kLanes}, last - i, period - phase}));
      store_bytes(out + i, n, line(widen<kSigned>(in + i, n), phase, first_lanes(n)));
      i += n;
      phase += n;
    }
    if (phase == period) phase = 0;
  }
}

}  // namespace

void prelu_lines(const PreluLines& lines, bool is_signed, const uint8_t* in, uint8_t* out, int64_t first,
                 int64_t last) {
  if (is_signed) {
    lines_range<true>(lines, in, out, first, last);
  } else {
    lines_range<false>(lines, in, out, first, last);
  }
}

void prelu_fixed(const PreluFixed& p, const uint8_t* in, uint8_t* out, int64_t first, int64_t last) {
  if (p.is_signed) {
    fixed_range<true>(p, in, out, first, last);
  } else {
    fixed_range<false>(p, in, out, first, last);
  }
}

}  // namespace osprey::int8_avx2

#include "backends/avx512/avx2_target_end.h"
