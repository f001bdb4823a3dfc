// int8/uint8 TRANSPOSE_CONV on AVX2 (int8_avx2.h): int8_transpose_conv.cpp's
// plan and arithmetic, each 16-lane chunk of flat sums as two 8-lane halves.
#include <algorithm>
#include <cstring>

#include "backends/avx512/int8_transpose_conv.h"
#include "backends/avx512/intrinsics.h"

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey {

namespace {

using int8_avx2::kLanes;
constexpr int kChunk = 16;  // lanes of the plan's chunks (int8_transpose_conv.h)

__m256i load8(const int32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
void store8(int32_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// Columns of the 8x8 int32 matrix whose rows are r[0..7], in r.
inline void transpose8(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + m], 128-bit lane L: rows 4i..4i+3 of column 4L + m.
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    r[m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
    r[4 + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
  }
}

// int8_transpose_conv.cpp's planarize, 8 pixels and 8 pairs at a time.
template <bool kSigned>
void planarize(const Int8TransposeConvPlan& p, const uint8_t* row, int32_t* planar) {
  const int cin = p.g.in.c, width = p.g.in.w;
  const __m256i zp = _mm256_set1_epi16(static_cast<int16_t>(p.input_zero_point));
  for (int group = 0; group * kLanes < p.pairs; ++group) {
    const int first = 2 * kLanes * group;
    const int count = std::min(2 * kLanes, cin - first);
    const int pairs = std::min(kLanes, p.pairs - kLanes * group);
    for (int64_t x0 = 0; x0 < p.planar_pixels; x0 += kLanes) {
      __m256i r[kLanes];
      for (int i = 0; i < kLanes; ++i) {
        const int64_t x = x0 + i;
        if (x >= width) {
          r[i] = _mm256_setzero_si256();
          continue;
        }
        const uint8_t* at = row + x * cin + first;
        __m128i b;
        if (count == 2 * kLanes) {
          b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        } else {
          alignas(16) uint8_t bytes[16] = {};
          std::memcpy(bytes, at, static_cast<size_t>(count));
          b = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
        }
        const __m256i wide = kSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
        r[i] = _mm256_sub_epi16(wide, zp);  // past the channels: weights 0
      }
      transpose8(r);
      for (int k = 0; k < pairs; ++k) store8(planar + (kLanes * group + k) * p.planar_pixels + x0, r[k]);
    }
  }
}

// The first n (<= 8) int32 lanes, as a maskload/maskstore mask.
__m256i first_lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(std::min<int64_t>(n, kLanes))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// int8_transpose_conv.cpp's add_kernel_row: a half reads 8 dwords from its
// first lane's pixel on, permuted to its lanes' pixels (at most 7 further).
void add_kernel_row(const Int8TransposeConvPlan& p, const int32_t* planar, int ky, int32_t* acc,
                    int32_t* sums) {
  const int64_t flat = int64_t{p.g.in.w} * p.columns;
  const int32_t* weights = p.weights.data() + static_cast<size_t>(ky * p.phases * p.pairs * kChunk);
  const int64_t shift = int64_t{p.g.pad_w} * p.g.out.c;
  for (int64_t f = 0, phase = 0; f < flat; f += kChunk, phase = phase + 1 == p.phases ? 0 : phase + 1) {
    const int32_t* w = weights + phase * p.pairs * kChunk;
    for (int half = 0; half < 2; ++half) {
      const int32_t* pixel = p.pixel.data() + phase * kChunk + half * kLanes;
      const __m256i lanes = _mm256_sub_epi32(load8(pixel), _mm256_set1_epi32(pixel[0]));
      const int32_t* in = planar + f / p.columns + pixel[0];
      __m256i s = _mm256_setzero_si256();
      for (int k = 0; k < p.pairs; ++k) {
        const __m256i x = _mm256_permutevar8x32_epi32(load8(in + k * p.planar_pixels), lanes);
        s = _mm256_add_epi32(s, _mm256_madd_epi16(x, load8(w + k * kChunk + half * kLanes)));
      }
      const int64_t at = f + half * kLanes;
      if (p.adjacent) {
        store8(acc + at - shift, _mm256_add_epi32(load8(acc + at - shift), s));
      } else {
        store8(sums + at, s);
      }
    }
  }
  if (p.adjacent) return;
  const int64_t step = int64_t{p.g.stride_w} * p.g.out.c;
  for (int64_t ix = 0; ix < p.g.in.w; ++ix) {
    int32_t* a = acc + ix * step - shift;
    const int32_t* s = sums + ix * p.columns;
    for (int64_t j = 0; j < p.columns; j += kLanes) {
      const __m256i m = first_lanes(p.columns - j);
      const __m256i sum = _mm256_add_epi32(_mm256_maskload_epi32(a + j, m), _mm256_maskload_epi32(s + j, m));
      _mm256_maskstore_epi32(a + j, m, sum);
    }
  }
}

template <bool kSigned>
void output_rows(const Int8TransposeConvPlan& p, const uint8_t* input, uint8_t* output, int32_t* scratch,
                 int64_t* held, int64_t first, int64_t last) {
  const geometry::TransposeConvGeometry& g = p.g;
  int32_t* const acc = scratch + p.slots * p.planar_ints + p.sums_ints + p.acc_left;
  int32_t* const sums = scratch + p.slots * p.planar_ints;
  const int64_t row_ints = int64_t{g.out.w} * g.out.c;
  const int8_avx2::Requantizer requantize(p.rq);
  std::fill(held, held + p.slots, -1);
  for (int64_t row = first; row < last; ++row) {
    const int b = static_cast<int>(row / g.out.h), oy = static_cast<int>(row % g.out.h);
    for (int64_t o = 0; o < row_ints; o += kLanes) store8(acc + o, load8(p.bias.data() + o % p.period));
    for (int ky = (oy + g.pad_h) % g.stride_h; ky < g.weights.h; ky += g.stride_h) {
      const int iy = (oy + g.pad_h - ky) / g.stride_h;
      if (iy < 0) break;
      if (iy >= g.in.h) continue;
      const int64_t source = int64_t{b} * g.in.h + iy;
      const int64_t slot = source % p.slots;
      int32_t* planar = scratch + slot * p.planar_ints;
      if (held[slot] != source) {
        planarize<kSigned>(p, input + source * g.in.w * g.in.c, planar);
        held[slot] = source;
      }
      add_kernel_row(p, planar, ky, acc, sums);
    }
    uint8_t* out = output + row * row_ints;
    for (int64_t o = 0; o < row_ints; o += kLanes) {
      const int n = static_cast<int>(std::min<int64_t>(kLanes, row_ints - o));
      int8_avx2::store_bytes(out + o, n, requantize(load8(acc + o), static_cast<size_t>(o % p.period)));
    }
  }
}

}  // namespace

void int8_transpose_conv_rows_avx2(const Int8TransposeConvPlan& p, const uint8_t* input, uint8_t* output,
                                   int32_t* scratch, int64_t* held, int64_t first, int64_t last) {
  if (p.is_signed) {
    output_rows<true>(p, input, output, scratch, held, first, last);
  } else {
    output_rows<false>(p, input, output, scratch, held, first, last);
  }
}

}  // namespace osprey

#include "backends/avx512/avx2_target_end.h"
