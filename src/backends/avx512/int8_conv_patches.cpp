#include "backends/avx512/int8_conv_patches.h"

#include <algorithm>
#include <cstring>

#include "backends/avx512/intrinsics.h"

namespace osprey {

namespace {

constexpr int kGroup = 16;         // patches a vector copy makes
constexpr int kMaxWindowRows = 8;  // window rows the vector copy holds spans of

// Patch `ox` of output row (n, oy), byte by byte window row by window row.
void patch_scalar(const Int8PatchPlan& p, const uint8_t* image, uint8_t zero_point, uint8_t flip, int oy,
                  int ox, uint8_t* to) {
  uint8_t* const start = to;
  const Int8ConvGeometry& g = p.g;
  const size_t cin = static_cast<size_t>(p.cin), run = static_cast<size_t>(p.kw) * cin;
  const int ix0 = ox * g.stride_w - g.pad_left;
  const bool columns_inside = ix0 >= 0 && ix0 + (p.kw - 1) * g.dilation_w < g.w;
  for (int ky = 0; ky < p.kh; ++ky, to += run) {
    const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
    if (iy < 0 || iy >= g.h) {
      std::memset(to, zero_point, run);
      continue;
    }
    const uint8_t* row = image + static_cast<size_t>(iy) * g.w * cin;
    if (columns_inside && g.dilation_w == 1) {
      std::memcpy(to, row + static_cast<size_t>(ix0) * cin, run);
      continue;
    }
    for (int kx = 0; kx < p.kw; ++kx) {
      const int ix = ix0 + kx * g.dilation_w;
      if (ix < 0 || ix >= g.w) {
        std::memset(to + kx * cin, zero_point, cin);
      } else {
        std::memcpy(to + kx * cin, row + static_cast<size_t>(ix) * cin, cin);
      }
    }
  }
  if (flip) {
    for (uint8_t* b = start; b < to; ++b) *b ^= flip;
  }
}

#define OSPREY_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi"
#include "backends/avx512/avx512_target_begin.h"

// 16 patches from each window row's span (rows[ky], or null: the row lies
// in the padding), as the plan's tables say: per 64 output bytes, one
// two-table byte permutation a window row, zero outside its mask.
void patch_group_vbmi(const Int8PatchPlan& p, const uint8_t* const* rows, uint8_t zero_point, uint8_t flip,
                      uint8_t* to) {
  const __m512i flips = _mm512_set1_epi8(static_cast<char>(flip));
  __m512i lo[kMaxWindowRows], hi[kMaxWindowRows];
  for (int ky = 0; ky < p.kh; ++ky) {
    if (rows[ky]) {
      lo[ky] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(first_byte_lanes(p.span), rows[ky]), flips);
      hi[ky] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(first_byte_lanes(p.span - 64), rows[ky] + 64), flips);
    } else {
      lo[ky] = hi[ky] = _mm512_set1_epi8(static_cast<char>(zero_point ^ flip));
    }
  }
  const int vectors = kGroup * p.depth / 64;
  for (int j = 0; j < vectors; ++j) {
    __m512i v = _mm512_setzero_si512();
    for (int ky = 0; ky < p.kh; ++ky) {
      const size_t t = static_cast<size_t>(j) * p.kh + ky;
      if (!p.mask[t]) continue;
      const __m512i index = _mm512_loadu_si512(p.index[t].data());
      v = _mm512_or_si512(v, _mm512_maskz_permutex2var_epi8(p.mask[t], lo[ky], index, hi[ky]));
    }
    _mm512_storeu_si512(to + 64 * static_cast<size_t>(j), v);
  }
}

#include "backends/avx512/avx512_target_end.h"

}  // namespace

Int8PatchPlan int8_patch_plan(const Int8ConvGeometry& g, int kh, int kw, int cin) {
  Int8PatchPlan p;
  p.g = g;
  p.kh = kh;
  p.kw = kw;
  p.cin = cin;
  p.depth = (kh * kw * cin + 3) / 4 * 4;
  p.span = ((kGroup - 1) * g.stride_w + (kw - 1) * g.dilation_w + 1) * cin;
  p.vector = p.span <= 128 && kh <= kMaxWindowRows;
  if (!p.vector) return p;
  const int vectors = kGroup * p.depth / 64, window = kh * kw * cin;
  p.index.assign(static_cast<size_t>(vectors) * kh, {});
  p.mask.assign(static_cast<size_t>(vectors) * kh, 0);
  for (int b = 0; b < kGroup * p.depth; ++b) {
    const int patch = b / p.depth, at = b % p.depth;
    if (at >= window) continue;  // stays 0
    const int ky = at / (kw * cin), kx = at % (kw * cin) / cin, c = at % cin;
    const size_t t = static_cast<size_t>(b / 64) * kh + ky;
    p.index[t][static_cast<size_t>(b % 64)] =
        static_cast<uint8_t>((patch * g.stride_w + kx * g.dilation_w) * cin + c);
    p.mask[t] |= uint64_t{1} << (b % 64);
  }
  return p;
}

void int8_patch_row(const Int8PatchPlan& p, const uint8_t* input, uint8_t zero_point, uint8_t flip,
                    size_t row, uint8_t* patches) {
  const Int8ConvGeometry& g = p.g;
  const int n = static_cast<int>(row / g.oh), oy = static_cast<int>(row % g.oh);
  const uint8_t* image = input + static_cast<size_t>(n) * g.h * g.w * p.cin;
  uint8_t* to = patches + row * g.ow * p.depth;
  int ox = 0;
  if (p.vector) {
    const uint8_t* rows[kMaxWindowRows];
    for (int ky = 0; ky < p.kh; ++ky) {
      const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      rows[ky] = iy >= 0 && iy < g.h ? image + static_cast<size_t>(iy) * g.w * p.cin : nullptr;
    }
    const uint8_t* first[kMaxWindowRows];
    // Where some windows of a group overhang the row: each window row's span
    // with the zero point outside the row (the same bytes the windows read).
    uint8_t bordered[kMaxWindowRows][128];
    const int row_bytes = g.w * p.cin;
    for (; ox + kGroup <= g.ow; ox += kGroup) {
      const int ix0 = ox * g.stride_w - g.pad_left;
      const int last = (ox + kGroup - 1) * g.stride_w - g.pad_left + (p.kw - 1) * g.dilation_w;
      const bool overhangs = ix0 < 0 || last >= g.w;
      for (int ky = 0; ky < p.kh; ++ky) {
        if (!rows[ky] || !overhangs) {
          first[ky] = rows[ky] ? rows[ky] + static_cast<ptrdiff_t>(ix0) * p.cin : nullptr;
          continue;
        }
        const int begin = ix0 * p.cin;  // the span's first byte in the row (may be < 0)
        const int from = std::max(begin, 0), to_byte = std::min(begin + p.span, row_bytes);
        std::memset(bordered[ky], zero_point, sizeof(bordered[ky]));
        if (to_byte > from)
          std::memcpy(bordered[ky] + (from - begin), rows[ky] + from, static_cast<size_t>(to_byte - from));
        first[ky] = bordered[ky];
      }
      patch_group_vbmi(p, first, zero_point, flip, to + static_cast<size_t>(ox) * p.depth);
    }
  }
  for (; ox < g.ow; ++ox)
    patch_scalar(p, image, zero_point, flip, oy, ox, to + static_cast<size_t>(ox) * p.depth);
}

}  // namespace osprey
