#include "backends/avx512/depthwise_conv.h"

#include "backends/avx512/intrinsics.h"

#include <pthreadpool.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "core/error.h"

namespace osprey {

namespace {

constexpr int kLanes = 16;  // channels per vector
constexpr int kTileX = 8;   // output pixels per tile

struct Geometry {
  int n = 0, h = 0, w = 0, c = 0, oh = 0, ow = 0;
};

struct Params {
  DepthwiseShape shape;
  int blocks = 0;             // channel blocks of kLanes
  std::vector<float> packed;  // per block: K*K weight vectors, then the bias vector
};

struct Task;
using RowFn = void (*)(const Task&, int row);

struct Task {
  const Params* p;
  Geometry g;
  const float* input;
  float* output;
  RowFn row;
};

// Everything from here to avx512_target_end.h is compiled for AVX-512 and only called
// after depthwise_conv_supported() said the CPU has it.
#define OSPREY_AVX512_TARGET "avx512f"
#include "backends/avx512/avx512_target_begin.h"

// One tile: kTileX output pixels of one channel block. `rows[ky]` is the
// block's input row under kernel row ky, null outside the image. Interior
// tiles (kEdge false) read only columns inside the row and write every pixel,
// so they skip the per-column checks. Plain loops, fully unrolled: kx is a
// constant in each FMA and acc[] stays in registers (lambdas taking acc by
// reference made GCC keep it on the stack: 1.4x slower).
template <int K, int S, bool kEdge>
__attribute__((always_inline)) inline void run_tile(const float* const* rows, const float* wb, float* out,
                                                    size_t c, int ix0, int w, int count, __mmask16 lanes,
                                                    __m512 lo, __m512 hi) {
  constexpr int kCols = (kTileX - 1) * S + K;  // input columns a tile reads
  __m512 acc[kTileX];
  const __m512 bias = _mm512_loadu_ps(wb + K * K * kLanes);
#pragma GCC unroll 16
  for (int t = 0; t < kTileX; ++t) acc[t] = bias;
#pragma GCC unroll 8
  for (int ky = 0; ky < K; ++ky) {
    const float* r = rows[ky];
    if (r == nullptr) continue;
    // Each input column is loaded once and used by every output pixel whose
    // window covers it; columns outside the image (padding) read as zero.
    __m512 wk[K];
#pragma GCC unroll 16
    for (int kx = 0; kx < K; ++kx) wk[kx] = _mm512_loadu_ps(wb + (ky * K + kx) * kLanes);
#pragma GCC unroll 64
    for (int j = 0; j < kCols; ++j) {
      const int ix = ix0 + j;
      __m512 v;
      if constexpr (kEdge) {
        const bool inside = static_cast<unsigned>(ix) < static_cast<unsigned>(w);
        v = _mm512_maskz_loadu_ps(inside ? lanes : __mmask16(0),
                                  r + static_cast<size_t>(inside ? ix : 0) * c);
      } else {
        v = _mm512_maskz_loadu_ps(lanes, r + static_cast<size_t>(ix) * c);
      }
#pragma GCC unroll 16
      for (int t = 0; t < kTileX; ++t) {
        const int kx = j - t * S;
        if (kx >= 0 && kx < K) acc[t] = _mm512_fmadd_ps(v, wk[kx], acc[t]);
      }
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTileX; ++t) {
    if (!kEdge || t < count) {
      _mm512_mask_storeu_ps(out + static_cast<size_t>(t) * c, lanes,
                            _mm512_min_ps(_mm512_max_ps(acc[t], lo), hi));
    }
  }
}

// One output row (image n, row oy), every channel block. Blocks are the
// inner loop so that a tile reads each input pixel's channels as one
// contiguous run, not one cache line per pixel and block.
template <int K, int S>
void run_row(const Task& task, int row) {
  const Params& p = *task.p;
  const Geometry& g = task.g;
  const int n = row / g.oh, oy = row % g.oh;
  const size_t c = static_cast<size_t>(g.c);
  const int tail = g.c % kLanes;
  const __m512 lo = _mm512_set1_ps(p.shape.min), hi = _mm512_set1_ps(p.shape.max);
  const float* image = task.input + static_cast<size_t>(n) * g.h * g.w * c;
  float* out_row = task.output + (static_cast<size_t>(n) * g.oh + oy) * g.ow * c;
  const float* rows[K];
  for (int ky = 0; ky < K; ++ky) {
    const int iy = oy * S - static_cast<int>(p.shape.pad_top) + ky;
    rows[ky] = iy >= 0 && iy < g.h ? image + static_cast<size_t>(iy) * g.w * c : nullptr;
  }
  constexpr int kCols = (kTileX - 1) * S + K;

  for (int ox = 0; ox < g.ow; ox += kTileX) {
    const int ix0 = ox * S - static_cast<int>(p.shape.pad_left);
    const int count = std::min(kTileX, g.ow - ox);
    const bool edge = ix0 < 0 || ix0 + kCols > g.w || count < kTileX;
    for (int block = 0; block < p.blocks; ++block) {
      const __mmask16 lanes =
          block == p.blocks - 1 && tail ? static_cast<__mmask16>((1u << tail) - 1) : 0xffff;
      const float* wb = p.packed.data() + static_cast<size_t>(block) * (K * K + 1) * kLanes;
      const size_t offset = static_cast<size_t>(block) * kLanes;
      const float* in[K];
      for (int ky = 0; ky < K; ++ky) in[ky] = rows[ky] ? rows[ky] + offset : nullptr;
      float* out = out_row + static_cast<size_t>(ox) * c + offset;
      if (edge) {
        run_tile<K, S, true>(in, wb, out, c, ix0, g.w, count, lanes, lo, hi);
      } else {
        run_tile<K, S, false>(in, wb, out, c, ix0, g.w, count, lanes, lo, hi);
      }
    }
  }
}

#include "backends/avx512/avx512_target_end.h"

void run_task(void* context, size_t row) {
  const Task& task = *static_cast<const Task*>(context);
  task.row(task, static_cast<int>(row));
}

RowFn row_function(int kernel, int stride) {
  if (kernel == 3 && stride == 1) return run_row<3, 1>;
  if (kernel == 3 && stride == 2) return run_row<3, 2>;
  if (kernel == 5 && stride == 1) return run_row<5, 1>;
  if (kernel == 5 && stride == 2) return run_row<5, 2>;
  return nullptr;
}

class DepthwiseConvKernel final : public Kernel {
 public:
  DepthwiseConvKernel(Params p, std::shared_ptr<pthreadpool> pool)
      : p_(std::move(p)), pool_(std::move(pool)), row_(row_function(p_.shape.kernel, p_.shape.stride)) {}

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1,
                 "depthwise convolution takes one input and output");
    const Tensor& in = ctx.input(0);
    const Tensor& out = ctx.output(0);
    OSPREY_CHECK(in.rank() == 4 && out.rank() == 4 && in.dim(3) == p_.shape.channels &&
                     out.dim(3) == p_.shape.channels && in.dim(0) == out.dim(0),
                 "depthwise convolution shapes {} -> {} do not match {} channels", shape_str(in.shape),
                 shape_str(out.shape), p_.shape.channels);
    g_ = {in.dim(0), in.dim(1), in.dim(2), in.dim(3), out.dim(1), out.dim(2)};
  }

  void eval(KernelContext& ctx) override {
    Task task{&p_, g_, ctx.input(0).data_as<float>(), ctx.output(0).data_as<float>(), row_};
    // One item per output row (all its channel blocks): each thread's share
    // is a contiguous run of rows, as XNNPACK splits the operations around
    // it, so a thread mostly reads what it wrote itself rather than lines
    // of the other core's cache.
    pthreadpool_parallelize_1d(pool_.get(), run_task, &task,
                               static_cast<size_t>(g_.n) * static_cast<size_t>(g_.oh), 0);
  }

 private:
  Params p_;
  std::shared_ptr<pthreadpool> pool_;
  RowFn row_;
  Geometry g_;
};

}  // namespace

bool depthwise_conv_supported(int kernel, int stride) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && row_function(kernel, stride) != nullptr;
}

std::unique_ptr<Kernel> make_depthwise_conv(const DepthwiseShape& shape, const float* filter,
                                            const float* bias, std::shared_ptr<pthreadpool> pool) {
  OSPREY_CHECK(depthwise_conv_supported(shape.kernel, shape.stride),
               "no depthwise kernel for {}x{} stride {}", shape.kernel, shape.kernel, shape.stride);
  Params p;
  p.shape = shape;
  const int k2 = shape.kernel * shape.kernel;
  p.blocks = (shape.channels + kLanes - 1) / kLanes;
  p.packed.assign(static_cast<size_t>(p.blocks) * (k2 + 1) * kLanes, 0.0f);
  for (int ch = 0; ch < shape.channels; ++ch) {
    float* block = p.packed.data() + static_cast<size_t>(ch / kLanes) * (k2 + 1) * kLanes;
    for (int tap = 0; tap < k2; ++tap) {
      block[tap * kLanes + ch % kLanes] = filter[static_cast<size_t>(tap) * shape.channels + ch];
    }
    block[k2 * kLanes + ch % kLanes] = bias ? bias[ch] : 0.0f;
  }
  return std::make_unique<DepthwiseConvKernel>(std::move(p), std::move(pool));
}

}  // namespace osprey
