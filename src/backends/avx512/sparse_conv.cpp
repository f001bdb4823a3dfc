#include "backends/avx512/sparse_conv.h"

#include "backends/avx512/intrinsics.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backends/avx512/pixel_tiles.h"
#include "core/error.h"

namespace osprey {

namespace {

constexpr int kTile = 32;    // pixels per tile: two AVX-512 vectors, four AVX2 ones
constexpr int kChunk = 128;  // input channels transposed at a time: 16 KiB, stays in L1

#define OSPREY_AVX512 __attribute__((target("avx512f")))

// The weights' nonzeros, by chunk of kChunk input channels, then by output channel.
struct Csr {
  int cin = 0, cout = 0, chunks = 0;
  std::vector<int32_t> row_start;  // chunks * cout + 1: nonzeros of (chunk q, oc) start at [q * cout + oc]
  std::vector<int32_t> offset;     // per nonzero: (input channel - chunk start) * kTile, floats into the tile
  std::vector<float> value;        // per nonzero
  std::vector<float> bias;         // cout
  float min = 0, max = 0;
  SparseConvLevel level = SparseConvLevel::kAvx512;  // the form that runs the tiles
};

// Scratch of one thread: the input tile [kChunk][kTile] and output tile [cout][kTile].
float* scratch(size_t floats) {
  thread_local std::vector<float, std::allocator<float>> buffer;
  if (buffer.size() < floats + 16) buffer.assign(floats + 16, 0.0f);
  auto p = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<float*>((p + 63) / 64 * 64);
}

// Transposes a 16x16 block: row i of src (16 floats, stride src_stride; rows
// from src_rows on and columns outside src_cols read as zero) becomes column
// i of dst (stride dst_stride; only the first dst_rows rows and the columns in
// dst_cols are written).
OSPREY_AVX512 inline void transpose16(const float* src, size_t src_stride, int src_rows, __mmask16 src_cols,
                                      float* dst, size_t dst_stride, int dst_rows, __mmask16 dst_cols) {
  __m512 r[16];
  for (int i = 0; i < 16; ++i) {
    r[i] = i < src_rows ? _mm512_maskz_loadu_ps(src_cols, src + static_cast<size_t>(i) * src_stride)
                        : _mm512_setzero_ps();
  }
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
  // r[k] now holds column k of the block.
  for (int k = 0; k < dst_rows; ++k)
    _mm512_mask_storeu_ps(dst + static_cast<size_t>(k) * dst_stride, dst_cols, r[k]);
}

__mmask16 first_lanes(int n) {
  return n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

// dst[c * kTile + t] = src[t * stride + c] for c < channels, t < count; zero for
// the other pixels of the tile's first (count <= 16) or both halves.
OSPREY_AVX512 void transpose_in(const float* src, size_t stride, int channels, int count, float* dst) {
  for (int c = 0; c < channels; c += 16) {
    const int cols = std::min(16, channels - c);
    for (int t = 0; t < (count > 16 ? kTile : 16); t += 16) {
      transpose16(src + static_cast<size_t>(t) * stride + c, stride, std::max(0, std::min(16, count - t)),
                  first_lanes(cols), dst + static_cast<size_t>(c) * kTile + t, kTile, cols, 0xffff);
    }
  }
}

// dst[t * stride + c] = src[c * kTile + t] for c < channels, t < count.
OSPREY_AVX512 void transpose_out(const float* src, int channels, size_t stride, int count, float* dst) {
  for (int c = 0; c < channels; c += 16) {
    const int rows = std::min(16, channels - c);
    for (int t = 0; t < count; t += 16) {
      transpose16(src + static_cast<size_t>(c) * kTile + t, kTile, rows, 0xffff,
                  dst + static_cast<size_t>(t) * stride + c, stride, std::min(16, count - t),
                  first_lanes(rows));
    }
  }
}

// out_tile[oc][0 .. 16 * kVectors) += the nonzeros of chunk q times in_tile,
// for oc in [oc0, oc1); the first chunk starts from the bias, the last one
// clamps. kChains independent accumulator sets hide the FMA latency.
template <int kVectors>
OSPREY_AVX512 inline void multiply(const Csr& w, int q, int oc0, int oc1, const float* in_tile,
                                   float* out_tile) {
  constexpr int kChains = 4 / kVectors;
  const bool first = q == 0, last = q == w.chunks - 1;
  const __m512 lo = _mm512_set1_ps(last ? w.min : -std::numeric_limits<float>::infinity());
  const __m512 hi = _mm512_set1_ps(last ? w.max : std::numeric_limits<float>::infinity());
  const int32_t* offset = w.offset.data();
  const float* value = w.value.data();
  const int32_t* row_start = w.row_start.data() + static_cast<size_t>(q) * w.cout;
  for (int oc = oc0; oc < oc1; ++oc) {
    float* o = out_tile + static_cast<size_t>(oc) * kTile;
    __m512 acc[kChains][kVectors];
    for (int v = 0; v < kVectors; ++v) {
      acc[0][v] = first ? _mm512_set1_ps(w.bias[static_cast<size_t>(oc)]) : _mm512_load_ps(o + 16 * v);
      for (int c = 1; c < kChains; ++c) acc[c][v] = _mm512_setzero_ps();
    }
    int k = row_start[oc];
    const int end = row_start[oc + 1];
    for (; k + kChains <= end; k += kChains) {
      for (int c = 0; c < kChains; ++c) {
        const float* x = in_tile + offset[k + c];
        const __m512 u = _mm512_set1_ps(value[k + c]);
        for (int v = 0; v < kVectors; ++v)
          acc[c][v] = _mm512_fmadd_ps(u, _mm512_load_ps(x + 16 * v), acc[c][v]);
      }
    }
    for (; k < end; ++k) {
      const float* x = in_tile + offset[k];
      const __m512 u = _mm512_set1_ps(value[k]);
      for (int v = 0; v < kVectors; ++v)
        acc[0][v] = _mm512_fmadd_ps(u, _mm512_load_ps(x + 16 * v), acc[0][v]);
    }
    for (int v = 0; v < kVectors; ++v) {
      __m512 sum = acc[0][v];
      for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c][v]);
      _mm512_store_ps(o + 16 * v, _mm512_min_ps(_mm512_max_ps(sum, lo), hi));
    }
  }
}

// One tile of `count` (<= kTile) pixels starting at pixel `p0`, output
// channels [oc0, oc1).
OSPREY_AVX512 void run_tile(const Csr& w, const float* input, float* output, size_t p0, int count, int oc0,
                            int oc1) {
  float* in_tile = scratch(static_cast<size_t>(kChunk + w.cout) * kTile);
  float* out_tile = in_tile + static_cast<size_t>(kChunk) * kTile;
  const float* pixels = input + p0 * static_cast<size_t>(w.cin);
  for (int q = 0; q < w.chunks; ++q) {
    const int c0 = q * kChunk;
    transpose_in(pixels + c0, static_cast<size_t>(w.cin), std::min(kChunk, w.cin - c0), count, in_tile);
    if (count > 16) {
      multiply<2>(w, q, oc0, oc1, in_tile, out_tile);
    } else {
      multiply<1>(w, q, oc0, oc1, in_tile, out_tile);
    }
  }
  transpose_out(out_tile + static_cast<size_t>(oc0) * kTile, oc1 - oc0, static_cast<size_t>(w.cout), count,
                output + p0 * static_cast<size_t>(w.cout) + oc0);
}

}  // namespace
}  // namespace osprey

// The AVX2 form: the same tiles, 8 pixels a vector.
#include "backends/avx512/avx2_target_begin.h"

namespace osprey {
namespace {

// Lanes [0, n) of a maskload/maskstore mask.
inline __m256i first_lanes8(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// r[i] (8 floats, row i) becomes column i: afterwards r[k] holds element k of every row.
inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  __m256 s[8];
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

// dst[c * kTile + t] = src[t * stride + c] for c < channels, t < count; zero
// for the tile's other pixels below `width` (a multiple of 8).
void transpose_in_avx2(const float* src, size_t stride, int channels, int count, int width, float* dst) {
  for (int c = 0; c < channels; c += 8) {
    const int cols = std::min(8, channels - c);
    const __m256i col_mask = first_lanes8(cols);
    for (int t = 0; t < width; t += 8) {
      const int rows = std::max(0, std::min(8, count - t));
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        r[i] = i < rows ? _mm256_maskload_ps(src + static_cast<size_t>(t + i) * stride + c, col_mask)
                        : _mm256_setzero_ps();
      }
      transpose8(r);
      for (int k = 0; k < cols; ++k) _mm256_store_ps(dst + static_cast<size_t>(c + k) * kTile + t, r[k]);
    }
  }
}

// dst[t * stride + c] = src[c * kTile + t] for c < channels, t < count.
void transpose_out_avx2(const float* src, int channels, size_t stride, int count, float* dst) {
  for (int c = 0; c < channels; c += 8) {
    const int rows = std::min(8, channels - c);
    const __m256i row_mask = first_lanes8(rows);
    for (int t = 0; t < count; t += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = i < rows ? _mm256_load_ps(src + static_cast<size_t>(c + i) * kTile + t) : _mm256_setzero_ps();
      transpose8(r);
      const int pixels = std::min(8, count - t);
      for (int k = 0; k < pixels; ++k)
        _mm256_maskstore_ps(dst + static_cast<size_t>(t + k) * stride + c, row_mask, r[k]);
    }
  }
}

// multiply() with kVectors vectors of 8 pixels; chains enough for FMA's
// latency on two pipes (8 accumulators or more).
template <int kVectors>
inline void multiply_avx2(const Csr& w, int q, int oc0, int oc1, const float* in_tile, float* out_tile) {
  constexpr int kChains = kVectors == 1 ? 8 : kVectors == 2 ? 4 : 2;
  const bool first = q == 0, last = q == w.chunks - 1;
  const __m256 lo = _mm256_set1_ps(last ? w.min : -std::numeric_limits<float>::infinity());
  const __m256 hi = _mm256_set1_ps(last ? w.max : std::numeric_limits<float>::infinity());
  const int32_t* offset = w.offset.data();
  const float* value = w.value.data();
  const int32_t* row_start = w.row_start.data() + static_cast<size_t>(q) * w.cout;
  for (int oc = oc0; oc < oc1; ++oc) {
    float* o = out_tile + static_cast<size_t>(oc) * kTile;
    __m256 acc[kChains][kVectors];
    for (int v = 0; v < kVectors; ++v) {
      acc[0][v] = first ? _mm256_set1_ps(w.bias[static_cast<size_t>(oc)]) : _mm256_load_ps(o + 8 * v);
      for (int c = 1; c < kChains; ++c) acc[c][v] = _mm256_setzero_ps();
    }
    int k = row_start[oc];
    const int end = row_start[oc + 1];
    for (; k + kChains <= end; k += kChains) {
      for (int c = 0; c < kChains; ++c) {
        const float* x = in_tile + offset[k + c];
        const __m256 u = _mm256_set1_ps(value[k + c]);
        for (int v = 0; v < kVectors; ++v)
          acc[c][v] = _mm256_fmadd_ps(u, _mm256_load_ps(x + 8 * v), acc[c][v]);
      }
    }
    for (; k < end; ++k) {
      const float* x = in_tile + offset[k];
      const __m256 u = _mm256_set1_ps(value[k]);
      for (int v = 0; v < kVectors; ++v) acc[0][v] = _mm256_fmadd_ps(u, _mm256_load_ps(x + 8 * v), acc[0][v]);
    }
    for (int v = 0; v < kVectors; ++v) {
      __m256 sum = acc[0][v];
      for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c][v]);
      _mm256_store_ps(o + 8 * v, _mm256_min_ps(_mm256_max_ps(sum, lo), hi));
    }
  }
}

// run_tile() on AVX2: as many vectors as the tile's pixels need.
void run_tile_avx2(const Csr& w, const float* input, float* output, size_t p0, int count, int oc0, int oc1) {
  float* in_tile = scratch(static_cast<size_t>(kChunk + w.cout) * kTile);
  float* out_tile = in_tile + static_cast<size_t>(kChunk) * kTile;
  const float* pixels = input + p0 * static_cast<size_t>(w.cin);
  const int vectors = (count + 7) / 8;
  for (int q = 0; q < w.chunks; ++q) {
    const int c0 = q * kChunk;
    transpose_in_avx2(pixels + c0, static_cast<size_t>(w.cin), std::min(kChunk, w.cin - c0), count,
                      8 * vectors, in_tile);
    switch (vectors) {
      case 1: multiply_avx2<1>(w, q, oc0, oc1, in_tile, out_tile); break;
      case 2: multiply_avx2<2>(w, q, oc0, oc1, in_tile, out_tile); break;
      case 3: multiply_avx2<3>(w, q, oc0, oc1, in_tile, out_tile); break;
      default: multiply_avx2<4>(w, q, oc0, oc1, in_tile, out_tile); break;
    }
  }
  transpose_out_avx2(out_tile + static_cast<size_t>(oc0) * kTile, oc1 - oc0, static_cast<size_t>(w.cout),
                     count, output + p0 * static_cast<size_t>(w.cout) + oc0);
}

}  // namespace
}  // namespace osprey

#include "backends/avx512/avx2_target_end.h"

namespace osprey {
namespace {

class SparseConvKernel final : public Kernel {
 public:
  SparseConvKernel(Csr w, std::shared_ptr<pthreadpool> pool) : w_(std::move(w)), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1,
                 "sparse convolution takes one input and output");
    const Tensor& in = ctx.input(0);
    const Tensor& out = ctx.output(0);
    OSPREY_CHECK(in.rank() >= 1 && in.shape.back() == w_.cin && out.shape.back() == w_.cout &&
                     in.num_elements() / w_.cin == out.num_elements() / w_.cout,
                 "sparse convolution shapes {} -> {} do not match {}x{} weights", shape_str(in.shape),
                 shape_str(out.shape), w_.cout, w_.cin);
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const size_t pixels = static_cast<size_t>(in.num_elements() / w_.cin);
    if (pixels == 0) return;
    const int threads = static_cast<int>(pthreadpool_get_threads_count(pool_.get()));
    const float* input = in.data_as<float>();
    float* output = ctx.output(0).data_as<float>();
    run_pixel_tiles(pool_.get(), plan_pixel_tiles(in.shape, pixels, kTile, w_.cout, threads),
                    [&](size_t p0, int count, int oc0, int oc1) {
                      if (w_.level == SparseConvLevel::kAvx512) {
                        run_tile(w_, input, output, p0, count, oc0, oc1);
                      } else {
                        run_tile_avx2(w_, input, output, p0, count, oc0, oc1);
                      }
                    });
  }

 private:
  Csr w_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

SparseConvLevel sparse_conv_level() {
  __builtin_cpu_init();
  SparseConvLevel level = __builtin_cpu_supports("avx512f") ? SparseConvLevel::kAvx512
                          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                              ? SparseConvLevel::kAvx2
                              : SparseConvLevel::kNone;
  if (const char* cap = std::getenv("OSPREY_SPARSE_CONV")) {
    const std::string v = cap;
    const SparseConvLevel most = v == "none"   ? SparseConvLevel::kNone
                                 : v == "avx2" ? SparseConvLevel::kAvx2
                                               : SparseConvLevel::kAvx512;
    level = std::min(level, most);
  }
  return level;
}

bool sparse_conv_supported() {
  return sparse_conv_level() != SparseConvLevel::kNone;
}

double zero_fraction(const float* values, size_t count) {
  if (count == 0) return 0.0;
  size_t zeros = 0;
  for (size_t i = 0; i < count; ++i) zeros += values[i] == 0.0f;
  return static_cast<double>(zeros) / static_cast<double>(count);
}

std::unique_ptr<Kernel> make_sparse_conv(const float* weights, const float* bias, int cout, int cin,
                                         float min, float max, std::shared_ptr<pthreadpool> pool) {
  Csr w;
  w.level = sparse_conv_level();
  OSPREY_CHECK(w.level != SparseConvLevel::kNone, "the sparse convolution needs AVX2 and FMA");
  w.cin = cin;
  w.cout = cout;
  w.min = min;
  w.max = max;
  w.chunks = std::max(1, (cin + kChunk - 1) / kChunk);
  w.row_start.reserve(static_cast<size_t>(w.chunks) * cout + 1);
  w.row_start.push_back(0);
  for (int q = 0; q < w.chunks; ++q) {
    const int c0 = q * kChunk, c1 = std::min(cin, c0 + kChunk);
    for (int oc = 0; oc < cout; ++oc) {
      for (int ic = c0; ic < c1; ++ic) {
        const float v = weights[static_cast<size_t>(oc) * static_cast<size_t>(cin) + static_cast<size_t>(ic)];
        if (v == 0.0f) continue;
        w.offset.push_back((ic - c0) * kTile);
        w.value.push_back(v);
      }
      w.row_start.push_back(static_cast<int32_t>(w.value.size()));
    }
  }
  w.bias.assign(static_cast<size_t>(cout), 0.0f);
  if (bias) std::copy(bias, bias + cout, w.bias.begin());
  return std::make_unique<SparseConvKernel>(std::move(w), std::move(pool));
}

}  // namespace osprey
