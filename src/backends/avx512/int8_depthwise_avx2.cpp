// int8/uint8 depthwise 3x3/5x5 convolutions on AVX2 (int8_avx2.h): 8 channels
// per vector, one int32 lane per channel holding x - x_zp against the 16-bit
// w - w_zp with zeros above, so one vpmaddwd lane is one product; 8 output
// pixels per tile share every input column they read.
#include <pthreadpool.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/intrinsics.h"
#include "core/error.h"

namespace osprey {

namespace {

constexpr int kTile = 8;  // output pixels per tile

struct Weights {
  Int8Avx2DepthwiseShape s;
  int blocks = 0;               // ceil(channels / 8)
  std::vector<int32_t> packed;  // [blocks][kernel * kernel][8]: w - w_zp, zero-extended from 16 bits
  Int8Requant rq;
};

Weights pack(const Int8Avx2DepthwiseShape& s, const uint8_t* filter, Int8Requant rq) {
  constexpr int kLanes = 8;
  Weights w;
  w.s = s;
  w.blocks = (s.channels + kLanes - 1) / kLanes;
  const int taps = s.kernel * s.kernel;
  w.packed.assign(static_cast<size_t>(w.blocks) * taps * kLanes, 0);
  for (int t = 0; t < taps; ++t) {
    for (int ch = 0; ch < s.channels; ++ch) {
      const uint8_t byte = filter[static_cast<size_t>(t) * s.channels + ch];
      const int32_t value = rq.is_signed ? static_cast<int8_t>(byte) : byte - rq.weight_zero_point;
      w.packed[(static_cast<size_t>(ch / kLanes) * taps + t) * kLanes + ch % kLanes] =
          static_cast<int32_t>(static_cast<uint16_t>(static_cast<int16_t>(value)));
    }
  }
  w.rq = std::move(rq);
  return w;
}

struct Job {
  const Weights* w;
  const uint8_t* input;
  uint8_t* output;
};

}  // namespace
}  // namespace osprey

// The vector code runs only at Int8Level::kAvx2 or above.
#include "backends/avx512/avx2_target_begin.h"
#include "backends/avx512/int8_avx2_arith.h"

namespace osprey {
namespace {

using int8_avx2::kLanes;

// Calls f(std::integral_constant<int, I>) for I = 0 .. N-1, unrolled at compile
// time so that accumulator arrays indexed by I stay in registers.
template <int N, typename F>
inline void unrolled(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, I>{}), ...);
  }
  (std::make_integer_sequence<int, N>{});
}

// One output row (image n, row oy) of one block of 8 channels; kTail: the
// block has fewer than 8 channels.
template <int K, int S, bool kSigned, bool kTail>
void depthwise_row(const Job& job, int block, int row) {
  const Weights& p = *job.w;
  const Int8Avx2DepthwiseShape& s = p.s;
  const Int8Requant& rq = p.rq;
  const int n = row / s.oh, oy = row % s.oh;
  const size_t c = static_cast<size_t>(s.channels);
  const size_t c0 = static_cast<size_t>(block) * kLanes;
  const int lanes = kTail ? s.channels - static_cast<int>(c0) : kLanes;
  const int32_t* wb = p.packed.data() + static_cast<size_t>(block) * K * K * kLanes;
  const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rq.bias.data() + c0));
  const __m256i zero_point = _mm256_set1_epi32(rq.input_zero_point);
  const int8_avx2::Requantizer requantize(rq);
  const int iy0 = oy * S - s.pad_top;
  const uint8_t* image = job.input + static_cast<size_t>(n) * s.h * s.w * c + c0;
  uint8_t* out = job.output + (static_cast<size_t>(n) * s.oh + oy) * s.ow * c + c0;
  constexpr int kCols = (kTile - 1) * S + K;  // input columns a tile reads

  for (int ox = 0; ox < s.ow; ox += kTile) {
    const int ix0 = ox * S - s.pad_left;
    __m256i acc[kTile];
    unrolled<kTile>([&](auto t) { acc[t] = bias; });
    for (int ky = 0; ky < K; ++ky) {
      const int iy = iy0 + ky;
      if (iy < 0 || iy >= s.h) continue;  // padding: x - x_zp = 0
      const uint8_t* r = image + static_cast<size_t>(iy) * s.w * c;
      __m256i wk[K];
      unrolled<K>([&](auto kx) {
        wk[kx] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + (ky * K + kx) * kLanes));
      });
      unrolled<kCols>([&](auto j) {
        const int ix = ix0 + j;
        if (static_cast<unsigned>(ix) >= static_cast<unsigned>(s.w)) return;  // padding
        const __m256i v =
            _mm256_sub_epi32(int8_avx2::widen<kSigned>(r + static_cast<size_t>(ix) * c, lanes), zero_point);
        unrolled<kTile>([&](auto t) {
          constexpr int kx = decltype(j)::value - decltype(t)::value * S;
          if constexpr (kx >= 0 && kx < K) acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(v, wk[kx]));
        });
      });
    }
    const int tile = std::min(kTile, s.ow - ox);
    unrolled<kTile>([&](auto t) {
      if (t < tile)
        int8_avx2::store_bytes(out + static_cast<size_t>(ox + t) * c, lanes, requantize(acc[t], c0));
    });
  }
}

template <int K, int S, bool kSigned>
void depthwise_rows(const Job& job, int block, int row) {
  if ((block + 1) * kLanes > job.w->s.channels) {
    depthwise_row<K, S, kSigned, true>(job, block, row);
  } else {
    depthwise_row<K, S, kSigned, false>(job, block, row);
  }
}

template <bool kSigned>
void (*row_function(int kernel, int stride))(const Job&, int, int) {
  if (kernel == 3) return stride == 1 ? depthwise_rows<3, 1, kSigned> : depthwise_rows<3, 2, kSigned>;
  return stride == 1 ? depthwise_rows<5, 1, kSigned> : depthwise_rows<5, 2, kSigned>;
}

}  // namespace
}  // namespace osprey

#include "backends/avx512/avx2_target_end.h"

namespace osprey {
namespace {

struct Task {
  const Job* job;
  void (*row)(const Job&, int, int);
};

void run_task(void* context, size_t row, size_t block) {
  const Task& task = *static_cast<const Task*>(context);
  task.row(*task.job, static_cast<int>(block), static_cast<int>(row));
}

class Int8DepthwiseAvx2Kernel final : public Kernel {
 public:
  Int8DepthwiseAvx2Kernel(Weights w, std::shared_ptr<pthreadpool> pool)
      : w_(std::move(w)),
        row_(w_.rq.is_signed ? row_function<true>(w_.s.kernel, w_.s.stride)
                             : row_function<false>(w_.s.kernel, w_.s.stride)),
        pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    const Int8Avx2DepthwiseShape& s = w_.s;
    check_built_shapes(ctx, "int8 depthwise convolution", Shape({s.n, s.h, s.w, s.channels}),
                       Shape({s.n, s.oh, s.ow, s.channels}));
  }

  void eval(KernelContext& ctx) override {
    const Job job{&w_, ctx.input(0).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>()};
    Task task{&job, row_};
    // Rows outermost, as in the float depthwise kernel.
    pthreadpool_parallelize_2d(pool_.get(), run_task, &task,
                               static_cast<size_t>(w_.s.n) * static_cast<size_t>(w_.s.oh),
                               static_cast<size_t>(w_.blocks), 0);
  }

 private:
  Weights w_;
  void (*row_)(const Job&, int, int);
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_depthwise_conv_avx2(const Int8Avx2DepthwiseShape& shape,
                                                      const uint8_t* filter, Int8Requant rq,
                                                      std::shared_ptr<pthreadpool> pool) {
  OSPREY_CHECK((shape.kernel == 3 || shape.kernel == 5) && (shape.stride == 1 || shape.stride == 2),
               "no int8 depthwise kernel for {}x{} stride {}", shape.kernel, shape.kernel, shape.stride);
  return std::make_unique<Int8DepthwiseAvx2Kernel>(pack(shape, filter, std::move(rq)), std::move(pool));
}

}  // namespace osprey
