// osprey's int8/uint8 AVERAGE_POOL_2D (int8_kernels.h): the reference
// kernel's sum of raw values over the clipped window, 16 channels per vector,
// and its division rounded half away from zero.
#include <pthreadpool.h>

#include <algorithm>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/intrinsics.h"
#include "kernels/geometry.h"

namespace osprey {

namespace {

// Windows up to this many values: the division in float below is exact for
// them (see divide_rounding_away).
constexpr int64_t kMaxWindow = 16384;
// Output pixels one task computes.
constexpr int64_t kPixelsPerTask = 16;

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

// The reference's (total +- count/2) / count in integers, truncated: the sum
// and count are exact in float (|total| <= 255 * count < 2^24), so is the
// quotient when it is a whole number, and otherwise it lies at least
// 1/count > 2^-14 from one while float's error at |q| <= 256 is 2^-16; so
// truncating the float quotient gives the integer one.
__m512i divide_rounding_away(__m512i total, int64_t count) {
  const __m512i half = _mm512_set1_epi32(static_cast<int32_t>(count / 2));
  const __mmask16 positive = _mm512_cmpgt_epi32_mask(total, _mm512_setzero_si512());
  const __m512i nudged = _mm512_mask_add_epi32(_mm512_sub_epi32(total, half), positive, total, half);
  const __m512 q = _mm512_div_ps(_mm512_cvtepi32_ps(nudged), _mm512_set1_ps(static_cast<float>(count)));
  return _mm512_cvttps_epi32(q);
}

template <bool kSigned>
void pool_pixels(const BytePool& p, const uint8_t* input, uint8_t* output, int64_t first, int64_t last) {
  const geometry::PoolGeometry& g = p.g;
  const __m512i qmin = _mm512_set1_epi32(p.qmin), qmax = _mm512_set1_epi32(p.qmax);
  for (int64_t pixel = first; pixel < last; ++pixel) {
    const int ox = static_cast<int>(pixel % g.out.w);
    const int oy = static_cast<int>(pixel / g.out.w % g.out.h);
    const int b = static_cast<int>(pixel / (int64_t{g.out.w} * g.out.h));
    const auto [y0, y1, x0, x1] = g.window(oy, ox);
    const int64_t count = int64_t{y1 - y0} * (x1 - x0);
    uint8_t* out = output + pixel * g.out.c;
    for (int c = 0; c < g.in.c; c += 16) {
      const int n = std::min(16, g.in.c - c);
      const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
      __m512i total = _mm512_setzero_si512();
      for (int y = y0; y < y1; ++y) {
        const uint8_t* row = input + g.in.offset(b, y, 0, c);
        for (int x = x0; x < x1; ++x) {
          const __m128i bytes = _mm_maskz_loadu_epi8(lanes, row + int64_t{x} * g.in.c);
          total =
              _mm512_add_epi32(total, kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes));
        }
      }
      const __m512i mean = _mm512_min_epi32(_mm512_max_epi32(divide_rounding_away(total, count), qmin), qmax);
      _mm512_mask_cvtepi32_storeu_epi8(out + c, lanes, mean);
    }
  }
}

#include "backends/avx512/avx512_target_end.h"

struct Task {
  const BytePool* p;
  bool avx2;  // the CPU runs Int8Level::kAvx2 (int8_avx2.h), not AVX-512
  const uint8_t* input;
  uint8_t* output;
  int64_t pixels;
};

void run_task(void* context, size_t chunk) {
  const Task& t = *static_cast<const Task*>(context);
  const int64_t first = static_cast<int64_t>(chunk) * kPixelsPerTask;
  const int64_t last = std::min(t.pixels, first + kPixelsPerTask);
  if (t.avx2) {
    int8_avx2::average_pool(t.p->g, t.p->is_signed, t.p->qmin, t.p->qmax, t.input, t.output, first, last);
  } else if (t.p->is_signed) {
    pool_pixels<true>(*t.p, t.input, t.output, first, last);
  } else {
    pool_pixels<false>(*t.p, t.input, t.output, first, last);
  }
}

class Int8AveragePoolKernel final : public Kernel {
 public:
  Int8AveragePoolKernel(BytePool p, bool avx2, std::shared_ptr<pthreadpool> pool)
      : p_(p), avx2_(avx2), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 pooling", p_.g.in.shape(), p_.g.out.shape());
  }

  void eval(KernelContext& ctx) override {
    Task task{&p_, avx2_, ctx.input(0).data, ctx.output(0).data, p_.g.out.pixels()};
    const size_t chunks = static_cast<size_t>((task.pixels + kPixelsPerTask - 1) / kPixelsPerTask);
    pthreadpool_parallelize_1d(pool_.get(), run_task, &task, chunks, 0);
  }

 private:
  BytePool p_;
  bool avx2_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_average_pool(const Graph& graph, const Op& op, Int8Level level,
                                               std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone) return nullptr;
  const std::optional<BytePool> p = byte_pool(graph, op, OpCode::kAveragePool2D);
  if (!p || int64_t{p->g.filter_h} * p->g.filter_w > kMaxWindow) return nullptr;
  return std::make_unique<Int8AveragePoolKernel>(*p, level == Int8Level::kAvx2, std::move(pool));
}

}  // namespace osprey
