// int8/uint8 MEAN and MUL on AVX2 (int8_mean_mul.h): int8_mean_mul.cpp's
// arithmetic, 16 byte lanes a sum vector and 8 int32 lanes a product vector.
#include <algorithm>

#include "backends/avx512/int8_mean_mul.h"
#include "backends/avx512/intrinsics.h"

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey::int8_avx2 {

namespace {

// Pixels summed in int16 lanes before they widen to int32: 128 * 255 < 2^15.
constexpr int64_t kInt16Pixels = 128;

// mean_sums for 16 lanes.
template <bool kSigned>
void sum_16_lanes(const uint8_t* in, int64_t stride, int64_t count, int32_t* sums) {
  __m256i low = _mm256_setzero_si256(), high = _mm256_setzero_si256();
  for (int64_t first = 0; first < count; first += kInt16Pixels) {
    const int64_t last = std::min(count, first + kInt16Pixels);
    __m256i acc = _mm256_setzero_si256();
    for (int64_t k = first; k < last; ++k) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k * stride));
      acc = _mm256_add_epi16(acc, kSigned ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes));
    }
    low = _mm256_add_epi32(low, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc)));
    high = _mm256_add_epi32(high, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc, 1)));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums), low);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + 8), high);
}

template <bool kSigned>
void sum_lanes(const uint8_t* in, int64_t stride, int64_t count, int n, int32_t* sums) {
  int j = 0;
  for (; j + 16 <= n; j += 16) sum_16_lanes<kSigned>(in + j, stride, count, sums + j);
  // The last n % 16 lanes one byte at a time: no byte-masked loads in AVX2.
  for (; j < n; ++j) {
    int32_t total = 0;
    for (int64_t k = 0; k < count; ++k) {
      const uint8_t byte = in[k * stride + j];
      total += kSigned ? int32_t{static_cast<int8_t>(byte)} : int32_t{byte};
    }
    sums[j] = total;
  }
  std::fill(sums + n, sums + 64, 0);
}

enum class MulMode { kFp32, kDoubleRounding, kSingleRounding };

// int8_mean_mul.cpp's MulRequantizer on 8 lanes.
template <MulMode kMode>
struct MulRequantizer {
  __m256i zero_point, lo, hi, multiplier, left, right;  // lo, hi: the output range less the zero point
  __m256 scale, lo_f, hi_f;

  explicit MulRequantizer(const Int8MulParams& p)
      : zero_point(_mm256_set1_epi32(p.out_zero_point)),
        lo(_mm256_set1_epi32(p.range.min - p.out_zero_point)),
        hi(_mm256_set1_epi32(p.range.max - p.out_zero_point)),
        multiplier(_mm256_set1_epi32(p.rq.multiplier.multiplier)),
        left(_mm256_set1_epi32(std::max(p.rq.multiplier.shift, 0))),
        right(_mm256_set1_epi32(kMode == MulMode::kSingleRounding ? 31 - p.rq.multiplier.shift
                                                                  : std::max(-p.rq.multiplier.shift, 0))),
        scale(_mm256_set1_ps(p.rq.fp32_scale)),
        lo_f(_mm256_set1_ps(static_cast<float>(p.range.min - p.out_zero_point))),
        hi_f(_mm256_set1_ps(static_cast<float>(p.range.max - p.out_zero_point))) {}

  __m256i operator()(__m256i product) const {
    if constexpr (kMode == MulMode::kFp32) {
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(product), scale);
      v = _mm256_min_ps(_mm256_max_ps(v, lo_f), hi_f);
      return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point);  // rounds half to even, as lrint does
    } else {
      __m256i v;
      if constexpr (kMode == MulMode::kSingleRounding) {
        v = single_rounding(product, multiplier, right);
      } else {
        // The left shift wraps like the reference's unsigned multiply.
        v = rounding_divide(doubling_high_mul(_mm256_sllv_epi32(product, left), multiplier), right);
      }
      return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), zero_point);  // as on AVX-512
    }
  }
};

// `n` elements of a * b, both contiguous; `wide` (b widened, offset
// included) in place of `b` when not null. 32 a step (one 32-byte store),
// then 8 a step.
template <bool kSigned, MulMode kMode>
void mul_span(const MulRequantizer<kMode>& requantize, __m256i a_offset, __m256i b_offset, const uint8_t* a,
              const uint8_t* b, const int32_t* wide, uint8_t* out, int64_t n) {
  // Dword d of the packed bytes comes from dword (d % 2) * 4 + d / 2 (packs work within 128-bit lanes).
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    __m256i v[4];
    for (int q = 0; q < 4; ++q) {
      const int64_t k = i + q * kLanes;
      const __m256i x = _mm256_add_epi32(widen<kSigned>(a + k, kLanes), a_offset);
      const __m256i y = wide ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wide + k))
                             : _mm256_add_epi32(widen<kSigned>(b + k, kLanes), b_offset);
      v[q] = requantize(_mm256_mullo_epi32(x, y));
    }
    // Every value is already clamped to the type's range, so the saturating packs keep it.
    const __m256i low = _mm256_packs_epi32(v[0], v[1]), high = _mm256_packs_epi32(v[2], v[3]);
    const __m256i bytes = kSigned ? _mm256_packs_epi16(low, high) : _mm256_packus_epi16(low, high);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(bytes, order));
  }
  for (; i < n; i += kLanes) {
    const int lanes = static_cast<int>(std::min<int64_t>(kLanes, n - i));
    const __m256i x = _mm256_add_epi32(widen<kSigned>(a + i, lanes), a_offset);
    // A widened period holds whole vectors past any span's end (its length is a multiple of 64).
    const __m256i y = wide ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wide + i))
                           : _mm256_add_epi32(widen<kSigned>(b + i, lanes), b_offset);
    store_bytes(out + i, lanes, requantize(_mm256_mullo_epi32(x, y)));
  }
}

template <bool kSigned, MulMode kMode>
void mul_range(const Int8MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
               int64_t first, int64_t last) {
  const MulRequantizer<kMode> requantize(p);
  const __m256i a_offset = _mm256_set1_epi32(p.a_offset), b_offset = _mm256_set1_epi32(p.b_offset);
  if (!p.broadcast) {
    mul_span<kSigned>(requantize, a_offset, b_offset, a + first, b + first, nullptr, out + first,
                      last - first);
  } else if (p.period) {
    for (int64_t i = first; i < last; i += p.period) {
      mul_span<kSigned>(requantize, a_offset, b_offset, a + i, nullptr, wide, out + i,
                        std::min(p.period, last - i));
    }
  } else {
    for (int64_t row = first; row < last; row += p.channels) {
      mul_span<kSigned>(requantize, a_offset, b_offset, a + row, b, nullptr, out + row, p.channels);
    }
  }
}

template <bool kSigned>
void mul_range(const Int8MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
               int64_t first, int64_t last) {
  if (p.rq.fp32) {
    mul_range<kSigned, MulMode::kFp32>(p, a, b, wide, out, first, last);
  } else if (p.mode == quant::Arithmetic::kTfliteSingle) {
    mul_range<kSigned, MulMode::kSingleRounding>(p, a, b, wide, out, first, last);
  } else {
    mul_range<kSigned, MulMode::kDoubleRounding>(p, a, b, wide, out, first, last);
  }
}

}  // namespace

void mean_sums(const uint8_t* in, int64_t stride, int64_t count, int n, bool is_signed, int32_t* sums) {
  if (is_signed) {
    sum_lanes<true>(in, stride, count, n, sums);
  } else {
    sum_lanes<false>(in, stride, count, n, sums);
  }
}

void mul(const Int8MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
         int64_t first, int64_t last) {
  if (p.is_signed) {
    mul_range<true>(p, a, b, wide, out, first, last);
  } else {
    mul_range<false>(p, a, b, wide, out, first, last);
  }
}

}  // namespace osprey::int8_avx2

#include "backends/avx512/avx2_target_end.h"
