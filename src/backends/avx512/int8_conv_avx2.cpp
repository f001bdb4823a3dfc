// int8/uint8 dense convolutions (CONV_2D without groups) on AVX2 (int8_avx2.h).
// Per tap, the input channels are taken in pairs: one int32 of the widened
// input holds (x0 - x_zp, x1 - x_zp) as 16-bit halves, one int32 lane of the
// packed weights (w0 - w_zp, w1 - w_zp) for its output channel, and vpmaddwd
// adds both products into that lane. A tile keeps 6 output pixels x 16
// output channels (or 12 x 8 for the last 8 channels) of int32 sums in 12 of
// the 16 vector registers.
//
// A first layer over few channels (RGB) would take 2 pairs a tap, most of
// a tap's time spent finding its pixels; there a tap is a whole window row
// instead (row taps): kw * cin bytes in a row, ceil(kw * cin / 2) pairs,
// read from a copy of the input padded with the zero point, each row widened
// to pairs from its first byte and, when windows can start at an odd byte
// (stride_w * cin odd), from its second too.
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

// Whether a tap is a whole window row: few input channels, windows wider
// than a pixel, no dilation along the row.
bool row_taps(const Int8Avx2ConvShape& s) {
  return s.cin <= 8 && s.kw > 1 && s.dilation_w == 1;
}

struct Weights {
  Int8Avx2ConvShape s;
  bool row_taps = false;
  int taps = 0;       // kh * kw, or kh for row taps
  int tap_bytes = 0;  // cin, or kw * cin for row taps
  int pairs = 0;      // ceil(tap_bytes / 2): the int32s a tap reads
  int blocks = 0;     // ceil(cout / 16)
  // [blocks][taps][pairs][16 output channels]: pairs of w - w_zp.
  std::vector<int32_t> packed;
  Int8Requant rq;
};

Weights pack(const Int8Avx2ConvShape& s, const uint8_t* filter, Int8Requant rq) {
  Weights w;
  w.s = s;
  w.row_taps = row_taps(s);
  w.taps = w.row_taps ? s.kh : s.kh * s.kw;
  w.tap_bytes = w.row_taps ? s.kw * s.cin : s.cin;
  w.pairs = (w.tap_bytes + 1) / 2;
  w.blocks = (s.cout + kBlock - 1) / kBlock;
  w.packed.assign(static_cast<size_t>(w.blocks) * w.taps * w.pairs * kBlock, 0);
  // The filter [cout, kh, kw, cin] is [cout, taps, tap_bytes] either way.
  auto value = [&](int oc, int tap, int b) -> int32_t {
    if (b >= w.tap_bytes) return 0;  // the missing half of an odd count
    const uint8_t byte = filter[(static_cast<size_t>(oc) * w.taps + tap) * w.tap_bytes + b];
    return rq.is_signed ? static_cast<int8_t>(byte) : byte - rq.weight_zero_point;
  };
  for (int oc = 0; oc < s.cout; ++oc) {
    for (int t = 0; t < w.taps; ++t) {
      for (int q = 0; q < w.pairs; ++q) {
        const size_t at =
            ((static_cast<size_t>(oc / kBlock) * w.taps + t) * w.pairs + q) * kBlock + oc % kBlock;
        w.packed[at] = pair(value(oc, t, 2 * q), value(oc, t, 2 * q + 1));
      }
    }
  }
  w.rq = std::move(rq);
  return w;
}

// For row taps, the padded input the tiles read: rows of `width` pixels
// (every window inside), each widened to `row_pairs` pairs from byte 0 and,
// with `streams` 2, from byte 1.
struct RowTapInput {
  int height = 0, width = 0;  // padded
  int streams = 1;
  int row_pairs = 0;       // pairs a widened row holds: its bytes' and a tap's more
  size_t stream_size = 0;  // int32s of one stream: n * height * row_pairs
};

RowTapInput row_tap_input(const Weights& w) {
  const Int8Avx2ConvShape& s = w.s;
  RowTapInput r;
  r.height = std::max(s.pad_top + s.h, (s.oh - 1) * s.stride_h + (s.kh - 1) * s.dilation_h + 1);
  r.width = std::max(s.pad_left + s.w, (s.ow - 1) * s.stride_w + s.kw);
  r.streams = s.stride_w * s.cin % 2 == 1 ? 2 : 1;
  r.row_pairs = (r.width * s.cin + 1) / 2 + w.pairs;
  r.stream_size = static_cast<size_t>(s.n) * r.height * r.row_pairs;
  return r;
}

struct Pixel {
  const int32_t* image;  // the pixel's widened image in the batch
  int iy0, ix0;          // its window's top-left input coordinates (may be in the padding)
};

struct Job {
  const Weights* w;
  const int32_t* input;  // widened: [n][h][w][pairs], or for row taps RowTapInput's streams
  const int32_t* zeros;  // `pairs` zeros: what a tap in the padding reads
  RowTapInput rows;      // row taps only
  uint8_t* output;
  int64_t pixels;

  // The pairs tap `tap` of pixel `px` reads.
  const int32_t* source(const Pixel& px, int tap) const {
    const Int8Avx2ConvShape& s = w->s;
    if (w->row_taps) {
      // Padded coordinates: the window starts inside the copy.
      const size_t row = static_cast<size_t>(px.iy0 + s.pad_top + tap * s.dilation_h);
      const int byte = (px.ix0 + s.pad_left) * s.cin;
      return px.image + static_cast<size_t>(byte % 2) * rows.stream_size + row * rows.row_pairs + byte / 2;
    }
    const int iy = px.iy0 + tap / s.kw * s.dilation_h, ix = px.ix0 + tap % s.kw * s.dilation_w;
    const bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
    return inside ? px.image + (static_cast<size_t>(iy) * s.w + ix) * w->pairs : zeros;
  }
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

// Row `row` (flattened n, padded y) of the row-tap input: the input row
// under it inside the zero point, widened to pairs of x - x_zp from byte 0
// (and byte 1).
template <bool kSigned>
void widen_padded_row(const Weights& w, const RowTapInput& r, const uint8_t* input, int32_t* out,
                      int64_t row) {
  const Int8Avx2ConvShape& s = w.s;
  const int32_t zp = w.rq.input_zero_point;
  const int64_t n = row / r.height;
  const int y = static_cast<int>(row % r.height) - s.pad_top;
  thread_local std::vector<uint8_t> bytes;
  bytes.assign(2 * static_cast<size_t>(r.row_pairs) + 2, static_cast<uint8_t>(zp));
  if (y >= 0 && y < s.h) {
    std::memcpy(bytes.data() + static_cast<size_t>(s.pad_left) * s.cin,
                input + (static_cast<size_t>(n) * s.h + y) * s.w * s.cin, static_cast<size_t>(s.w) * s.cin);
  }
  const __m256i offset = _mm256_set1_epi16(static_cast<int16_t>(zp));
  for (int stream = 0; stream < r.streams; ++stream) {
    const uint8_t* src = bytes.data() + stream;
    int32_t* dst = out + static_cast<size_t>(stream) * r.stream_size + static_cast<size_t>(row) * r.row_pairs;
    int j = 0;
    for (; j + 8 <= r.row_pairs; j += 8) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * j));
      const __m256i words = kSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j), _mm256_sub_epi16(words, offset));
    }
    auto x = [&](int k) { return (kSigned ? static_cast<int8_t>(src[k]) : int32_t{src[k]}) - zp; };
    for (; j < r.row_pairs; ++j) dst[j] = pair(x(2 * j), x(2 * j + 1));
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
  const int32_t* wt = w.packed.data() + static_cast<size_t>(block) * w.taps * tap_values;
  for (int tap = 0; tap < w.taps; ++tap, wt += tap_values) {
    const int32_t* src[P];
    for (int i = 0; i < P; ++i) src[i] = job.source(px[i], tap);
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
  const size_t image = job.w->row_taps ? static_cast<size_t>(job.rows.height) * job.rows.row_pairs
                                       : static_cast<size_t>(s.h) * s.w * job.w->pairs;
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
  const RowTapInput* rows;  // row taps only
  const uint8_t* input;
  int32_t* output;
};

void widen_task(void* context, size_t row) {
  const WidenJob& job = *static_cast<const WidenJob*>(context);
  const int64_t r = static_cast<int64_t>(row);
  const bool is_signed = job.w->rq.is_signed;
  if (job.w->row_taps) {
    if (is_signed) {
      widen_padded_row<true>(*job.w, *job.rows, job.input, job.output, r);
    } else {
      widen_padded_row<false>(*job.w, *job.rows, job.input, job.output, r);
    }
  } else if (is_signed) {
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
    if (w_.row_taps) {
      rows_ = row_tap_input(w_);
      widened_.resize(static_cast<size_t>(rows_.streams) * rows_.stream_size);
    } else {
      widened_.resize(static_cast<size_t>(s.n) * s.h * s.w * w_.pairs);
    }
    zeros_.assign(static_cast<size_t>(w_.pairs), 0);
  }

  void prepare(KernelContext& ctx) override {
    const Int8Avx2ConvShape& s = w_.s;
    check_built_shapes(ctx, "int8 convolution", Shape({s.n, s.h, s.w, s.cin}),
                       Shape({s.n, s.oh, s.ow, s.cout}));
  }

  void eval(KernelContext& ctx) override {
    const Int8Avx2ConvShape& s = w_.s;
    WidenJob widen{&w_, &rows_, ctx.input(0).data_as<uint8_t>(), widened_.data()};
    const size_t rows = static_cast<size_t>(s.n) * (w_.row_taps ? rows_.height : s.h);
    pthreadpool_parallelize_1d(pool_.get(), widen_task, &widen, rows, 0);
    Job job{&w_,
            widened_.data(),
            zeros_.data(),
            rows_,
            ctx.output(0).data_as<uint8_t>(),
            int64_t{s.n} * s.oh * s.ow};
    const size_t chunks = static_cast<size_t>((job.pixels + kPixelsPerTask - 1) / kPixelsPerTask);
    pthreadpool_parallelize_2d(pool_.get(), conv_task, &job, chunks, static_cast<size_t>(w_.blocks), 0);
  }

 private:
  Weights w_;
  RowTapInput rows_;              // row taps only
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
