// int8/uint8 AVERAGE_POOL_2D on AVX2 (int8_avx2.h): int8_pool.cpp's
// arithmetic, 8 channels per vector.
#include <algorithm>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/intrinsics.h"

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey::int8_avx2 {

namespace {

// The reference's (total +- count/2) / count in integers, truncated; exact
// in float for the windows int8_pool.cpp claims (it says why).
__m256i divide_rounding_away(__m256i total, int64_t count) {
  const __m256i half = _mm256_set1_epi32(static_cast<int32_t>(count / 2));
  const __m256i positive = _mm256_cmpgt_epi32(total, _mm256_setzero_si256());
  const __m256i nudged =
      _mm256_blendv_epi8(_mm256_sub_epi32(total, half), _mm256_add_epi32(total, half), positive);
  const __m256 q = _mm256_div_ps(_mm256_cvtepi32_ps(nudged), _mm256_set1_ps(static_cast<float>(count)));
  return _mm256_cvttps_epi32(q);
}

template <bool kSigned>
void pool_pixels(const geometry::PoolGeometry& g, int32_t qmin, int32_t qmax, const uint8_t* input,
                 uint8_t* output, int64_t first, int64_t last) {
  const __m256i lo = _mm256_set1_epi32(qmin), hi = _mm256_set1_epi32(qmax);
  for (int64_t pixel = first; pixel < last; ++pixel) {
    const int ox = static_cast<int>(pixel % g.out.w);
    const int oy = static_cast<int>(pixel / g.out.w % g.out.h);
    const int b = static_cast<int>(pixel / (int64_t{g.out.w} * g.out.h));
    const auto [y0, y1, x0, x1] = g.window(oy, ox);
    const int64_t count = int64_t{y1 - y0} * (x1 - x0);
    uint8_t* out = output + pixel * g.out.c;
    for (int c = 0; c < g.in.c; c += kLanes) {
      const int n = std::min(kLanes, g.in.c - c);
      __m256i total = _mm256_setzero_si256();
      for (int y = y0; y < y1; ++y) {
        const uint8_t* row = input + g.in.offset(b, y, 0, c);
        for (int x = x0; x < x1; ++x)
          total = _mm256_add_epi32(total, widen<kSigned>(row + int64_t{x} * g.in.c, n));
      }
      store_bytes(out + c, n, _mm256_min_epi32(_mm256_max_epi32(divide_rounding_away(total, count), lo), hi));
    }
  }
}

}  // namespace

void average_pool(const geometry::PoolGeometry& g, bool is_signed, int32_t qmin, int32_t qmax,
                  const uint8_t* input, uint8_t* output, int64_t first, int64_t last) {
  if (is_signed) {
    pool_pixels<true>(g, qmin, qmax, input, output, first, last);
  } else {
    pool_pixels<false>(g, qmin, qmax, input, output, first, last);
  }
}

}  // namespace osprey::int8_avx2

#include "backends/avx512/avx2_target_end.h"
