// int8/uint8 1x1 convolutions whose weights are mostly zero pairs, on AVX2
// (int8_avx2.h): MediaPipe's sparse models, quantized, keep their 50-75% zero
// weights, and without VNNI the dense kernel's vpmaddwd is slower than the
// float path's FMAs, which skip them (sparse_conv.h). Here the pixels are in
// the lanes, as in the float kernel: a tile of 32 pixels is widened to pairs
// of x - x_zp and transposed, 8x8 int32 at a time, to [pair][pixel]; each
// output channel then takes one vpmaddwd per vector for each of its pairs of
// input channels with a nonzero weight (w - w_zp), broadcast, and skips the
// others; the sums are requantized with the channel's parameters in every
// lane and transposed back to pixel order as bytes.
#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/intrinsics.h"
#include "backends/avx512/pixel_tiles.h"
#include "core/error.h"

namespace osprey {

namespace {

constexpr int kTile = 32;    // pixels a tile: four vectors of 8
constexpr int kChunk = 128;  // pairs of input channels transposed at a time: 16 KiB, stays in L1

// The value w - w_zp (int8: w) of weight byte `byte`.
int32_t weight_value(const Int8Requant& rq, uint8_t byte) {
  return rq.is_signed ? static_cast<int8_t>(byte) : byte - rq.weight_zero_point;
}

// Two 16-bit values as the halves of one int32 (low first).
int32_t pair(int32_t low, int32_t high) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(low)) |
                              static_cast<uint32_t>(static_cast<uint16_t>(high)) << 16);
}

// The nonzero pairs of weights, by chunk of kChunk pairs, then by output channel.
struct Csr {
  int cin = 0, pairs = 0, cout = 0, chunks = 0;
  std::vector<int32_t> row_start;  // chunks * cout + 1: pairs of (chunk q, oc) start at [q * cout + oc]
  std::vector<int32_t> offset;     // per nonzero pair: (pair - chunk start) * kTile, int32s into the tile
  std::vector<int32_t> value;      // per nonzero pair: (w0 - w_zp, w1 - w_zp) as 16-bit halves
  Int8Requant rq;
};

Csr pack(int cout, int cin, const uint8_t* filter, Int8Requant rq) {
  Csr w;
  w.cin = cin;
  w.cout = cout;
  w.pairs = (cin + 1) / 2;
  w.chunks = (w.pairs + kChunk - 1) / kChunk;
  w.row_start.reserve(static_cast<size_t>(w.chunks) * cout + 1);
  for (int q = 0; q < w.chunks; ++q) {
    for (int oc = 0; oc < cout; ++oc) {
      w.row_start.push_back(static_cast<int32_t>(w.value.size()));
      const uint8_t* row = filter + static_cast<size_t>(oc) * cin;
      for (int p = q * kChunk; p < std::min(w.pairs, (q + 1) * kChunk); ++p) {
        const int32_t low = weight_value(rq, row[2 * p]);
        const int32_t high = 2 * p + 1 < cin ? weight_value(rq, row[2 * p + 1]) : 0;
        if (low == 0 && high == 0) continue;
        w.offset.push_back((p - q * kChunk) * kTile);
        w.value.push_back(pair(low, high));
      }
    }
  }
  w.row_start.push_back(static_cast<int32_t>(w.value.size()));
  w.rq = std::move(rq);
  return w;
}

// Scratch of one thread: the input tile [kChunk][kTile] and the sums [cout][kTile], int32.
int32_t* scratch(size_t values) {
  thread_local std::vector<int32_t> buffer;
  if (buffer.size() < values + 8) buffer.assign(values + 8, 0);
  auto p = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<int32_t*>((p + 31) / 32 * 32);
}

}  // namespace
}  // namespace osprey

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey {
namespace {

// r[i] (8 int32, row i) becomes column i: afterwards r[k] holds element k of every row.
inline void transpose8(__m256i r[8]) {
  __m256i t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m256i s[8];
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
    s[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
    s[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
    s[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2x128_si256(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2x128_si256(s[i], s[i + 4], 0x31);
  }
}

// Pairs [p0, p0 + 8) of one pixel's channels, x - x_zp as 16-bit halves; the
// channels past cin (and every channel of a pixel past the tile's) read as
// the zero point, so as 0.
template <bool kSigned>
inline __m256i widen_pairs(const uint8_t* pixel, int channels_left, __m128i zero_point_bytes,
                           __m256i zero_point) {
  __m128i bytes;
  if (channels_left >= 16) {
    bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pixel));
  } else {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), zero_point_bytes);
    if (channels_left > 0) std::memcpy(tmp, pixel, static_cast<size_t>(channels_left));
    bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
  }
  const __m256i words = kSigned ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
  return _mm256_sub_epi16(words, zero_point);
}

// tile[(p - p0) * kTile + t] = pair p of pixel t for the chunk's pairs [p0,
// p0 + kChunk) (fewer at the end) and t < 8 * vectors; pixels from `count` on read 0.
template <bool kSigned>
void widen_tile(const Csr& w, const uint8_t* pixels, int count, int vectors, int p0, int32_t* tile) {
  const int pairs = std::min(kChunk, w.pairs - p0);
  const uint8_t zp = static_cast<uint8_t>(w.rq.input_zero_point);
  const __m128i zp_bytes = _mm_set1_epi8(static_cast<char>(zp));
  const __m256i zp_words = _mm256_set1_epi16(static_cast<int16_t>(w.rq.input_zero_point));
  for (int p = 0; p < pairs; p += 8) {
    const int c = 2 * (p0 + p);
    for (int t = 0; t < 8 * vectors; t += 8) {
      __m256i r[8];
      for (int i = 0; i < 8; ++i) {
        const bool inside = t + i < count;
        const uint8_t* pixel = inside ? pixels + static_cast<size_t>(t + i) * w.cin + c : pixels;
        r[i] = widen_pairs<kSigned>(pixel, inside ? w.cin - c : 0, zp_bytes, zp_words);
      }
      transpose8(r);
      for (int k = 0; k < std::min(8, pairs - p); ++k)
        _mm256_store_si256(reinterpret_cast<__m256i*>(tile + static_cast<size_t>(p + k) * kTile + t), r[k]);
    }
  }
}

// sums[oc][0 .. 8 * V) += the nonzero pairs of chunk q times the tile, for
// oc in [oc0, oc1); the first chunk starts from the bias, the last one
// requantizes (to the output values, as int32).
template <int V>
void multiply(const Csr& w, const int8_avx2::Requantizer& requantize, int q, int oc0, int oc1,
              const int32_t* tile, int32_t* sums) {
  const bool first = q == 0, last = q == w.chunks - 1;
  const int32_t* row_start = w.row_start.data() + static_cast<size_t>(q) * w.cout;
  for (int oc = oc0; oc < oc1; ++oc) {
    __m256i* out = reinterpret_cast<__m256i*>(sums + static_cast<size_t>(oc) * kTile);
    __m256i acc[V];
    for (int v = 0; v < V; ++v)
      acc[v] = first ? _mm256_set1_epi32(w.rq.bias[static_cast<size_t>(oc)]) : _mm256_load_si256(out + v);
    for (int k = row_start[oc]; k < row_start[oc + 1]; ++k) {
      const __m256i* x = reinterpret_cast<const __m256i*>(tile + w.offset[static_cast<size_t>(k)]);
      const __m256i u = _mm256_set1_epi32(w.value[static_cast<size_t>(k)]);
      for (int v = 0; v < V; ++v)
        acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(u, _mm256_load_si256(x + v)));
    }
    for (int v = 0; v < V; ++v)
      _mm256_store_si256(out + v, last ? requantize.channel(acc[v], static_cast<size_t>(oc)) : acc[v]);
  }
}

// out[t * cout + c] = the low byte of sums[c * kTile + t] for c in [oc0, oc1), t < count.
void store_tile(const Csr& w, const int32_t* sums, int oc0, int oc1, int count, uint8_t* out) {
  for (int c = oc0; c < oc1; c += 8) {
    const int rows = std::min(8, oc1 - c);
    for (int t = 0; t < count; t += 8) {
      __m256i r[8];
      for (int i = 0; i < 8; ++i) {
        r[i] = i < rows ? _mm256_load_si256(
                              reinterpret_cast<const __m256i*>(sums + static_cast<size_t>(c + i) * kTile + t))
                        : _mm256_setzero_si256();
      }
      transpose8(r);
      for (int k = 0; k < std::min(8, count - t); ++k)
        int8_avx2::store_bytes(out + static_cast<size_t>(t + k) * w.cout + c, rows, r[k]);
    }
  }
}

// One tile of `count` (<= kTile) pixels starting at pixel `p0`, output channels [oc0, oc1).
template <bool kSigned>
void run_tile(const Csr& w, const uint8_t* input, uint8_t* output, size_t p0, int count, int oc0, int oc1) {
  int32_t* tile = scratch(static_cast<size_t>(kChunk + w.cout) * kTile);
  int32_t* sums = tile + static_cast<size_t>(kChunk) * kTile;
  const int8_avx2::Requantizer requantize(w.rq);
  const uint8_t* pixels = input + p0 * static_cast<size_t>(w.cin);
  const int vectors = (count + 7) / 8;
  for (int q = 0; q < w.chunks; ++q) {
    widen_tile<kSigned>(w, pixels, count, vectors, q * kChunk, tile);
    switch (vectors) {
      case 1: multiply<1>(w, requantize, q, oc0, oc1, tile, sums); break;
      case 2: multiply<2>(w, requantize, q, oc0, oc1, tile, sums); break;
      case 3: multiply<3>(w, requantize, q, oc0, oc1, tile, sums); break;
      default: multiply<4>(w, requantize, q, oc0, oc1, tile, sums); break;
    }
  }
  store_tile(w, sums, oc0, oc1, count, output + p0 * static_cast<size_t>(w.cout));
}

}  // namespace
}  // namespace osprey

#include "backends/avx512/avx2_target_end.h"

namespace osprey {
namespace {

class Int8SparseConvAvx2Kernel final : public Kernel {
 public:
  Int8SparseConvAvx2Kernel(const Int8Avx2ConvShape& s, Csr w, std::shared_ptr<pthreadpool> pool)
      : s_(s), w_(std::move(w)), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 sparse convolution", Shape({s_.n, s_.h, s_.w, s_.cin}),
                       Shape({s_.n, s_.oh, s_.ow, s_.cout}));
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const size_t pixels = static_cast<size_t>(s_.n) * s_.h * s_.w;
    if (pixels == 0) return;
    const int threads = static_cast<int>(pthreadpool_get_threads_count(pool_.get()));
    const uint8_t* input = in.data_as<uint8_t>();
    uint8_t* output = ctx.output(0).data_as<uint8_t>();
    run_pixel_tiles(pool_.get(), plan_pixel_tiles(in.shape, pixels, kTile, w_.cout, threads),
                    [&](size_t p0, int count, int oc0, int oc1) {
                      if (w_.rq.is_signed) {
                        run_tile<true>(w_, input, output, p0, count, oc0, oc1);
                      } else {
                        run_tile<false>(w_, input, output, p0, count, oc0, oc1);
                      }
                    });
  }

 private:
  Int8Avx2ConvShape s_;
  Csr w_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

double int8_zero_pair_fraction(const uint8_t* filter, int cout, int cin, const Int8Requant& rq) {
  const int pairs = (cin + 1) / 2;
  if (cout <= 0 || pairs == 0) return 0.0;
  int64_t zeros = 0;
  for (int oc = 0; oc < cout; ++oc) {
    const uint8_t* row = filter + static_cast<size_t>(oc) * cin;
    for (int p = 0; p < pairs; ++p) {
      const bool high_zero = 2 * p + 1 >= cin || weight_value(rq, row[2 * p + 1]) == 0;
      zeros += weight_value(rq, row[2 * p]) == 0 && high_zero;
    }
  }
  return static_cast<double>(zeros) / (static_cast<double>(cout) * pairs);
}

bool int8_sparse_conv_avx2_takes(const uint8_t* filter, int cout, int cin, const Int8Requant& rq) {
  // Measured at the avx2 level on a Zen 5 (MediaPipe's sparse detectors,
  // quantized; 45-65% zero pairs): 16 -> 64 and 24 -> 144 channels ran
  // 1.24-1.37x faster than on the dense kernel, 32 into 8-128 1.08-1.70x,
  // wider layers 1.3-2.0x; 8 -> 32 and 24 -> 16 0.83-0.85x, 24 -> 48 1.01x.
  const bool enough_work = cin >= 32 || (cin >= 16 && cout >= 64);
  return enough_work && int8_zero_pair_fraction(filter, cout, cin, rq) >= kInt8SparseMinZeroPairs;
}

std::unique_ptr<Kernel> make_int8_sparse_conv_avx2(const Int8Avx2ConvShape& shape, const uint8_t* filter,
                                                   Int8Requant rq, std::shared_ptr<pthreadpool> pool) {
  OSPREY_CHECK(shape.kh == 1 && shape.kw == 1 && shape.stride_h == 1 && shape.stride_w == 1 &&
                   shape.pad_top == 0 && shape.pad_left == 0 && shape.oh == shape.h && shape.ow == shape.w,
               "int8 sparse convolution takes 1x1 windows at stride 1 without padding");
  return std::make_unique<Int8SparseConvAvx2Kernel>(shape, pack(shape.cout, shape.cin, filter, std::move(rq)),
                                                    std::move(pool));
}

}  // namespace osprey
