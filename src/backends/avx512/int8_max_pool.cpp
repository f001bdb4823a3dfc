// osprey's int8/uint8 MAX_POOL_2D (int8_kernels.h): the greatest byte of
// each window compared as bytes, 64 channels a vector, then the fused
// activation's clamp; input and output share their parameters, so that is
// the reference's result exactly. XNNPACK's int8 max pool walks an
// indirection buffer pixel by pixel (14 us on face_landmark's 96x96x16
// layer on Zen 4); the common 2x2 window at stride 2 over 16 or 32
// channels takes whole rows here instead.
#include <pthreadpool.h>

#include <algorithm>

#include "backends/avx512/int8_avx512_arith.h"
#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/intrinsics.h"
#include "kernels/geometry.h"

namespace osprey {

namespace {

// Output bytes one task computes at least (whole output rows): fewer, and
// a split costs more than it saves.
constexpr int64_t kBytesPerTask = 16384;

struct MaxPoolParams : BytePool {
  bool clamps = false;    // the activation's range is narrower than the type's
  bool rows_2x2 = false;  // 2x2 windows at stride 2, all inside, 16 or 32 channels
};

#include "backends/avx512/avx512_target_begin.h"

template <bool kSigned>
inline __m512i max_bytes(__m512i a, __m512i b) {
  return kSigned ? _mm512_max_epi8(a, b) : _mm512_max_epu8(a, b);
}

// The activation's clamp of 64 bytes, when p.clamps.
template <bool kSigned>
struct ByteClamp {
  explicit ByteClamp(const MaxPoolParams& p)
      : on(p.clamps),
        lo(_mm512_set1_epi8(static_cast<char>(p.qmin))),
        hi(_mm512_set1_epi8(static_cast<char>(p.qmax))) {}
  __m512i operator()(__m512i v) const {
    if (!on) return v;
    return kSigned ? _mm512_min_epi8(_mm512_max_epi8(v, lo), hi)
                   : _mm512_min_epu8(_mm512_max_epu8(v, lo), hi);
  }
  bool on;
  __m512i lo, hi;
};

// Output rows [first, last) (image and row flattened), any window: per
// output pixel, per 64 channels, the maximum over the window clipped to the
// input (never empty: make_int8_max_pool checks).
template <bool kSigned>
void pool_windows(const MaxPoolParams& p, const uint8_t* input, uint8_t* output, int64_t first,
                  int64_t last) {
  const geometry::PoolGeometry& g = p.g;
  const ByteClamp<kSigned> clamp(p);
  const __m512i lowest = _mm512_set1_epi8(static_cast<char>(kSigned ? 0x80 : 0));
  const size_t c = static_cast<size_t>(g.in.c);
  for (int64_t row = first; row < last; ++row) {
    const int b = static_cast<int>(row / g.out.h), oy = static_cast<int>(row % g.out.h);
    uint8_t* out = output + static_cast<size_t>(row) * g.out.w * c;
    for (int ox = 0; ox < g.out.w; ++ox, out += c) {
      const auto [y0, y1, x0, x1] = g.window(oy, ox);
      for (size_t c0 = 0; c0 < c; c0 += 64) {
        const __mmask64 lanes = first_byte_lanes(static_cast<int64_t>(c - c0));
        const uint8_t* at = input + g.in.offset(b, y0, x0, static_cast<int>(c0));
        __m512i m = lowest;
        for (int y = y0; y < y1; ++y, at += static_cast<size_t>(g.in.w) * c) {
          for (int x = 0; x < x1 - x0; ++x)
            m = max_bytes<kSigned>(m, _mm512_maskz_loadu_epi8(lanes, at + x * c));
        }
        _mm512_mask_storeu_epi8(out + c0, lanes, clamp(m));
      }
    }
  }
}

// The same for 2x2 windows at stride 2 inside the input over C = 16 or 32
// channels: the two input rows' greater byte, then of each output pixel's
// two columns, 64 output bytes (4 or 2 pixels) from 128 of each row: one
// 128-bit lane shuffle picks the even pixels of the pair of vectors, one the
// odd ones.
template <bool kSigned, int C>
void pool_rows_2x2(const MaxPoolParams& p, const uint8_t* input, uint8_t* output, int64_t first,
                   int64_t last) {
  static_assert(C == 16 || C == 32);
  constexpr int kEven = C == 16 ? _MM_SHUFFLE(2, 0, 2, 0) : _MM_SHUFFLE(1, 0, 1, 0);
  constexpr int kOdd = C == 16 ? _MM_SHUFFLE(3, 1, 3, 1) : _MM_SHUFFLE(3, 2, 3, 2);
  const geometry::PoolGeometry& g = p.g;
  const ByteClamp<kSigned> clamp(p);
  const int64_t row_out = int64_t{g.out.w} * C;  // output bytes a row
  for (int64_t row = first; row < last; ++row) {
    const int b = static_cast<int>(row / g.out.h), oy = static_cast<int>(row % g.out.h);
    const uint8_t* top = input + g.in.offset(b, 2 * oy, 0, 0);
    const uint8_t* bottom = top + static_cast<size_t>(g.in.w) * C;
    uint8_t* out = output + row * row_out;
    for (int64_t j = 0; j < row_out; j += 64) {
      const int64_t n = std::min<int64_t>(64, row_out - j);  // output bytes of this step
      const __mmask64 low = first_byte_lanes(2 * n), high = first_byte_lanes(2 * n - 64);
      const __m512i v0 = max_bytes<kSigned>(_mm512_maskz_loadu_epi8(low, top + 2 * j),
                                            _mm512_maskz_loadu_epi8(low, bottom + 2 * j));
      const __m512i v1 = max_bytes<kSigned>(_mm512_maskz_loadu_epi8(high, top + 2 * j + 64),
                                            _mm512_maskz_loadu_epi8(high, bottom + 2 * j + 64));
      const __m512i m =
          max_bytes<kSigned>(_mm512_shuffle_i64x2(v0, v1, kEven), _mm512_shuffle_i64x2(v0, v1, kOdd));
      _mm512_mask_storeu_epi8(out + j, first_byte_lanes(n), clamp(m));
    }
  }
}

template <bool kSigned>
void pool_rows(const MaxPoolParams& p, const uint8_t* input, uint8_t* output, int64_t first, int64_t last) {
  if (!p.rows_2x2) {
    pool_windows<kSigned>(p, input, output, first, last);
  } else if (p.g.in.c == 16) {
    pool_rows_2x2<kSigned, 16>(p, input, output, first, last);
  } else {
    pool_rows_2x2<kSigned, 32>(p, input, output, first, last);
  }
}

#include "backends/avx512/avx512_target_end.h"

struct Task {
  const MaxPoolParams* p;
  const uint8_t* input;
  uint8_t* output;
  int64_t rows, rows_per_task;
};

void run_task(void* context, size_t chunk) {
  const Task& t = *static_cast<const Task*>(context);
  const int64_t first = static_cast<int64_t>(chunk) * t.rows_per_task;
  const int64_t last = std::min(t.rows, first + t.rows_per_task);
  if (t.p->is_signed) {
    pool_rows<true>(*t.p, t.input, t.output, first, last);
  } else {
    pool_rows<false>(*t.p, t.input, t.output, first, last);
  }
}

class Int8MaxPoolKernel final : public Kernel {
 public:
  Int8MaxPoolKernel(MaxPoolParams p, std::shared_ptr<pthreadpool> pool) : p_(p), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 max pooling", p_.g.in.shape(), p_.g.out.shape());
  }

  void eval(KernelContext& ctx) override {
    const int64_t rows = int64_t{p_.g.out.n} * p_.g.out.h;
    const int64_t row_bytes = int64_t{p_.g.out.w} * p_.g.out.c;
    Task task{&p_, ctx.input(0).data, ctx.output(0).data, rows,
              std::max<int64_t>(1, kBytesPerTask / row_bytes)};
    const size_t chunks = static_cast<size_t>((rows + task.rows_per_task - 1) / task.rows_per_task);
    pthreadpool_parallelize_1d(pool_.get(), run_task, &task, chunks, 0);
  }

 private:
  MaxPoolParams p_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_max_pool(const Graph& graph, const Op& op, Int8Level level,
                                           std::shared_ptr<pthreadpool> pool) {
  if (level < Int8Level::kAvx512) return nullptr;
  const std::optional<BytePool> claim = byte_pool(graph, op, OpCode::kMaxPool2D);
  if (!claim) return nullptr;
  MaxPoolParams p;
  static_cast<BytePool&>(p) = *claim;
  p.clamps = int8_avx512::clamps_bytes(p.qmin, p.qmax, p.is_signed);
  const geometry::PoolGeometry& g = p.g;
  p.rows_2x2 = g.filter_h == 2 && g.filter_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 &&
               g.pad_w == 0 && 2 * g.out.h <= g.in.h && 2 * g.out.w <= g.in.w &&
               (g.in.c == 16 || g.in.c == 32);
  return std::make_unique<Int8MaxPoolKernel>(p, std::move(pool));
}

}  // namespace osprey
