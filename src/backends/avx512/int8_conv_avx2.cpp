// int8/uint8 dense convolutions (CONV_2D without groups) on AVX2 (int8_avx2.h).
// Per tap, the input channels are taken in pairs: one int32 of the widened
// input holds (x0 - x_zp, x1 - x_zp) as 16-bit halves, one int32 lane of the
// packed weights (w0 - w_zp, w1 - w_zp) for its output channel, and vpmaddwd
// adds both products into that lane. A tile keeps 6 output pixels x 16
// output channels (or 12 x 8 for the last 8 channels) of int32 sums in 12 of
// the 16 vector registers.
#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/intrinsics.h"
#include "core/error.h"

namespace osprey {

namespace {

constexpr int kBlock = 16;              // output channels a tile computes: two vectors
constexpr int64_t kPixelsPerTask = 60;  // a multiple of every tile's pixel count

// Two 16-bit values as the halves of one int32 (low first).
int32_t pair(int32_t low, int32_t high) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(low)) |
                              static_cast<uint32_t>(static_cast<uint16_t>(high)) << 16);
}

struct Weights {
  Int8Avx2ConvShape s;
  int pairs = 0;   // ceil(cin / 2): the int32s a pixel's channels widen to
  int blocks = 0;  // ceil(cout / 16)
  // [blocks][kh * kw][pairs][16 output channels]: pairs of w - w_zp.
  std::vector<int32_t> packed;
  Int8Requant rq;
};

Weights pack(const Int8Avx2ConvShape& s, const uint8_t* filter, Int8Requant rq) {
  Weights w;
  w.s = s;
  w.pairs = (s.cin + 1) / 2;
  w.blocks = (s.cout + kBlock - 1) / kBlock;
  const int taps = s.kh * s.kw;
  w.packed.assign(static_cast<size_t>(w.blocks) * taps * w.pairs * kBlock, 0);
  auto value = [&](int oc, int tap, int ic) -> int32_t {
    if (ic >= s.cin) return 0;  // the missing half of an odd channel count
    const uint8_t byte = filter[(static_cast<size_t>(oc) * taps + tap) * s.cin + ic];
    return rq.is_signed ? static_cast<int8_t>(byte) : byte - rq.weight_zero_point;
  };
  for (int oc = 0; oc < s.cout; ++oc) {
    for (int t = 0; t < taps; ++t) {
      for (int q = 0; q < w.pairs; ++q) {
        const size_t at =
            ((static_cast<size_t>(oc / kBlock) * taps + t) * w.pairs + q) * kBlock + oc % kBlock;
        w.packed[at] = pair(value(oc, t, 2 * q), value(oc, t, 2 * q + 1));
      }
    }
  }
  w.rq = std::move(rq);
  return w;
}

struct Pixel {
  const int32_t* image;  // the pixel's widened image in the batch
  int iy0, ix0;          // its window's top-left input coordinates (may be in the padding)
};

struct Job {
  const Weights* w;
  const int32_t* input;  // widened: [n][h][w][pairs]
  const int32_t* zeros;  // `pairs` zeros: what a tap in the padding reads
  uint8_t* output;
  int64_t pixels;
};

}  // namespace
}  // namespace osprey

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey {
namespace {

using int8_avx2::kLanes;

// Widens rows [first, last) (flattened n, y) of the input to pairs of x - x_zp.
template <bool kSigned>
void widen_rows(const Weights& w, const uint8_t* input, int32_t* out, int64_t first, int64_t last) {
  const Int8Avx2ConvShape& s = w.s;
  const int32_t zp = w.rq.input_zero_point;
  const int64_t pixels = (last - first) * s.w;
  const uint8_t* src = input + first * s.w * s.cin;
  int32_t* dst = out + first * s.w * w.pairs;
  if (s.cin % 2 == 0) {
    // The pairs are the bytes in order: 16 at a time.
    const int64_t n = pixels * s.cin;
    const __m256i offset = _mm256_set1_epi16(static_cast<int16_t>(zp));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
      const __m256i words = kSigned ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i / 2), _mm256_sub_epi16(words, offset));
    }
    for (; i < n; i += 2) {
      auto x = [&](int64_t k) { return (kSigned ? static_cast<int8_t>(src[k]) : int32_t{src[k]}) - zp; };
      dst[i / 2] = pair(x(i), x(i + 1));
    }
    return;
  }
  for (int64_t p = 0; p < pixels; ++p) {
    const uint8_t* px = src + p * s.cin;
    for (int q = 0; q < w.pairs; ++q) {
      auto x = [&](int ic) -> int32_t {
        if (ic >= s.cin) return 0;
        return (kSigned ? static_cast<int8_t>(px[ic]) : int32_t{px[ic]}) - zp;
      };
      dst[p * w.pairs + q] = pair(x(2 * q), x(2 * q + 1));
    }
  }
}

// `count` (1..P) output pixels `px`, written from `out` on (cout apart),
// output channels [16 * block, + 8 * V).
template <int P, int V>
void conv_tile(const Job& job, const int8_avx2::Requantizer& requantize, const Pixel* px, int count,
               uint8_t* out, int block) {
  const Weights& w = *job.w;
  const Int8Avx2ConvShape& s = w.s;
  const size_t c0 = static_cast<size_t>(block) * kBlock;
  __m256i acc[P][V];
  for (int v = 0; v < V; ++v) {
    const __m256i bias = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(w.rq.bias.data() + c0 + static_cast<size_t>(v) * kLanes));
    for (int i = 0; i < P; ++i) acc[i][v] = bias;
  }
  const size_t tap_values = static_cast<size_t>(w.pairs) * kBlock;
  const int32_t* wt = w.packed.data() + static_cast<size_t>(block) * s.kh * s.kw * tap_values;
  for (int ky = 0; ky < s.kh; ++ky) {
    for (int kx = 0; kx < s.kw; ++kx, wt += tap_values) {
      const int32_t* src[P];
      for (int i = 0; i < P; ++i) {
        const int iy = px[i].iy0 + ky * s.dilation_h, ix = px[i].ix0 + kx * s.dilation_w;
        const bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
        src[i] = inside ? px[i].image + (static_cast<size_t>(iy) * s.w + ix) * w.pairs : job.zeros;
      }
      const int32_t* wq = wt;
      for (int q = 0; q < w.pairs; ++q, wq += kBlock) {
        __m256i b[V];
        for (int v = 0; v < V; ++v)
          b[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq + v * kLanes));
        for (int i = 0; i < P; ++i) {
          const __m256i x = _mm256_set1_epi32(src[i][q]);
          for (int v = 0; v < V; ++v) acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(x, b[v]));
        }
      }
    }
  }
  for (int i = 0; i < count; ++i) {
    for (int v = 0; v < V; ++v) {
      const size_t c = c0 + static_cast<size_t>(v) * kLanes;
      int8_avx2::store_bytes(out + static_cast<size_t>(i) * s.cout + static_cast<size_t>(v) * kLanes,
                             s.cout - static_cast<int>(c), requantize(acc[i][v], c));
    }
  }
}

// Output pixels a tile of V vectors computes: its sums, one vector of weights
// and the broadcast input fill 14 or 15 of the 16 vector registers.
template <int V>
constexpr int tile_pixels() {
  return V == 1 ? 12 : 6;
}

template <int V>
void conv_range(const Job& job, int64_t first, int64_t last, int block) {
  constexpr int P = tile_pixels<V>();
  const Int8Avx2ConvShape& s = job.w->s;
  const size_t image = static_cast<size_t>(s.h) * s.w * job.w->pairs;
  const int8_avx2::Requantizer requantize(job.w->rq);
  int64_t rest = first;
  int ox = static_cast<int>(rest % s.ow);
  rest /= s.ow;
  int oy = static_cast<int>(rest % s.oh);
  int n = static_cast<int>(rest / s.oh);
  for (int64_t p = first; p < last;) {
    const int count = static_cast<int>(std::min<int64_t>(P, last - p));
    Pixel px[P];
    for (int i = 0; i < P; ++i) {
      if (i >= count) {
        px[i] = px[count - 1];  // computed again, not stored
        continue;
      }
      px[i] = {job.input + static_cast<size_t>(n) * image, oy * s.stride_h - s.pad_top,
               ox * s.stride_w - s.pad_left};
      if (++ox == s.ow) {
        ox = 0;
        if (++oy == s.oh) oy = 0, ++n;
      }
    }
    uint8_t* out = job.output + static_cast<size_t>(p) * s.cout + static_cast<size_t>(block) * kBlock;
    conv_tile<P, V>(job, requantize, px, count, out, block);
    p += count;
  }
}

void conv_task(void* context, size_t chunk, size_t block) {
  const Job& job = *static_cast<const Job*>(context);
  const int64_t first = static_cast<int64_t>(chunk) * kPixelsPerTask;
  const int64_t last = std::min(job.pixels, first + kPixelsPerTask);
  const int b = static_cast<int>(block);
  if (job.w->s.cout - b * kBlock > kLanes) {
    conv_range<2>(job, first, last, b);
  } else {
    conv_range<1>(job, first, last, b);
  }
}

struct WidenJob {
  const Weights* w;
  const uint8_t* input;
  int32_t* output;
};

void widen_task(void* context, size_t row) {
  const WidenJob& job = *static_cast<const WidenJob*>(context);
  const int64_t r = static_cast<int64_t>(row);
  if (job.w->rq.is_signed) {
    widen_rows<true>(*job.w, job.input, job.output, r, r + 1);
  } else {
    widen_rows<false>(*job.w, job.input, job.output, r, r + 1);
  }
}

}  // namespace
}  // namespace osprey

#include "backends/avx512/avx2_target_end.h"

namespace osprey {
namespace {

class Int8ConvAvx2Kernel final : public Kernel {
 public:
  Int8ConvAvx2Kernel(Weights w, std::shared_ptr<pthreadpool> pool)
      : w_(std::move(w)), pool_(std::move(pool)) {
    const Int8Avx2ConvShape& s = w_.s;
    widened_.resize(static_cast<size_t>(s.n) * s.h * s.w * w_.pairs);
    zeros_.assign(static_cast<size_t>(w_.pairs), 0);
  }

  void prepare(KernelContext& ctx) override {
    const Int8Avx2ConvShape& s = w_.s;
    check_built_shapes(ctx, "int8 convolution", Shape({s.n, s.h, s.w, s.cin}),
                       Shape({s.n, s.oh, s.ow, s.cout}));
  }

  void eval(KernelContext& ctx) override {
    const Int8Avx2ConvShape& s = w_.s;
    WidenJob widen{&w_, ctx.input(0).data_as<uint8_t>(), widened_.data()};
    pthreadpool_parallelize_1d(pool_.get(), widen_task, &widen, static_cast<size_t>(s.n) * s.h, 0);
    Job job{&w_, widened_.data(), zeros_.data(), ctx.output(0).data_as<uint8_t>(),
            int64_t{s.n} * s.oh * s.ow};
    const size_t chunks = static_cast<size_t>((job.pixels + kPixelsPerTask - 1) / kPixelsPerTask);
    pthreadpool_parallelize_2d(pool_.get(), conv_task, &job, chunks, static_cast<size_t>(w_.blocks), 0);
  }

 private:
  Weights w_;
  std::vector<int32_t> widened_;  // the input as pairs of x - x_zp, rewritten by each eval
  std::vector<int32_t> zeros_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_conv_avx2(const Int8Avx2ConvShape& shape, const uint8_t* filter,
                                            Int8Requant rq, std::shared_ptr<pthreadpool> pool) {
  return std::make_unique<Int8ConvAvx2Kernel>(pack(shape, filter, std::move(rq)), std::move(pool));
}

}  // namespace osprey
