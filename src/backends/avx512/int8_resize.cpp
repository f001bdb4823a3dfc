// osprey's int8/uint8 RESIZE_BILINEAR (int8_kernels.h) at the AVX-512
// levels: XNNPACK's ibilinear arithmetic (the reference's with LiteRT's
// arithmetic, kernels/ref/quantized/resize.cpp), 32 channels a step, on the
// same taps (bilinear_taps.h). XNNPACK's own int8 kernel runs it at ~3 bytes
// per ns on this machine; this one keeps the sums in int32 lanes.
#include <pthreadpool.h>

#include <algorithm>
#include <vector>

#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"
#include "kernels/ref/quantized/bilinear_taps.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey {

namespace {

using namespace backend_checks;
using quant::BilinearTap;

// Output pixels of 8 or 16 channels four or two at a time (32 bytes, what
// resize_row fills 8 or 16 of): each group's input pixels lie within 64
// bytes of one load, from which a qword permutation takes every pixel's
// left and right neighbours.
struct ColumnGroup {
  int64_t base = 0;                // the first input pixel of the 64 bytes
  uint64_t load = 0;               // the bytes of those inside the row
  uint32_t store = 0;              // the group's output bytes
  int64_t lo[8] = {}, hi[8] = {};  // output qword q: input qword lo[q] / hi[q] of the load
  int32_t weights[16] = {};  // per dword, its pixel's (w << 16) | (2048 - w); one pixel a 128-bit lane or two
};

struct ResizeParams {
  int n = 0, ih = 0, iw = 0, c = 0, oh = 0, ow = 0;
  bool is_signed = true;
  std::vector<BilinearTap> rows, cols;
  std::vector<ColumnGroup> groups;  // empty: one output pixel at a time
};

// The 32-byte column groups of an output row of `c` (8 or 16) channels, if
// every group's taps lie within 64 bytes (upscaling, or downscaling by less
// than about 2); else none.
std::vector<ColumnGroup> column_groups(const std::vector<BilinearTap>& cols, int iw, int c) {
  if (c != 8 && c != 16) return {};
  const int per_group = 32 / c, qwords = c / 8;
  std::vector<ColumnGroup> groups;
  for (size_t x0 = 0; x0 < cols.size(); x0 += static_cast<size_t>(per_group)) {
    ColumnGroup g;
    g.base = cols[x0].lo;
    const int pixels = static_cast<int>(std::min(cols.size() - x0, static_cast<size_t>(per_group)));
    for (int i = 0; i < per_group; ++i) {
      const BilinearTap& tx =
          cols[x0 + static_cast<size_t>(std::min(i, pixels - 1))];  // a tail repeats its last
      const int64_t lo = tx.lo - g.base, hi = tx.hi - g.base;
      if (lo < 0 || hi < 0 || (std::max(lo, hi) + 1) * c > 64) return {};
      for (int q = 0; q < qwords; ++q) {
        g.lo[i * qwords + q] = lo * qwords + q;
        g.hi[i * qwords + q] = hi * qwords + q;
      }
      const int32_t weight =
          static_cast<int32_t>((static_cast<uint32_t>(tx.weight) << 16) | (2048 - tx.weight));
      for (int d = 0; d < 16; ++d)
        if (d / 4 * 8 / c == i)
          g.weights[d] = weight;  // dword d is in 128-bit lane d / 4: channels 8 (d / 4)..
    }
    const int64_t inside = std::min<int64_t>(64, (iw - g.base) * c);
    g.load = inside >= 64 ? ~uint64_t{0} : (uint64_t{1} << inside) - 1;
    g.store = pixels * c >= 32 ? ~uint32_t{0} : (uint32_t{1} << (pixels * c)) - 1;
    groups.push_back(g);
  }
  return groups;
}

// Output row `row` (batch * oh + y): its two input rows, where it goes,
// and the lower row's share.
struct RowTaps {
  const uint8_t *top, *bottom;
  uint8_t* out;
  int32_t weight;
};

RowTaps row_taps(const ResizeParams& p, const uint8_t* input, uint8_t* output, int64_t row) {
  const int64_t b = row / p.oh;
  const BilinearTap& ty = p.rows[static_cast<size_t>(row % p.oh)];
  const int64_t row_bytes = int64_t{p.iw} * p.c;
  return {input + (b * p.ih + ty.lo) * row_bytes, input + (b * p.ih + ty.hi) * row_bytes,
          output + row * p.ow * p.c, ty.weight};
}

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

// 32 channels' bytes at p as int16 words, lanes past `lanes` 0.
template <bool kSigned>
__m512i load_words(const uint8_t* p, __mmask32 lanes) {
  const __m256i bytes = _mm256_maskz_loadu_epi8(lanes, p);
  return kSigned ? _mm512_cvtepi8_epi16(bytes) : _mm512_cvtepu8_epi16(bytes);
}

// lo * 2048 + (hi - lo) * w for 32 channels of words, as lo * (2048 - w) +
// hi * w: one vpmaddwd per 16 (`weights`: 2048 - w in each dword's low word,
// w in its high one; both fit, and the sum is the same integer). The
// unpacks leave channels 0-3, 8-11, 16-19, 24-27 in `first` and 4-7,
// 12-15, .. in `second`, which packssdw puts back in order.
inline void interpolate(__m512i lo, __m512i hi, __m512i weights, __m512i& first, __m512i& second) {
  first = _mm512_madd_epi16(_mm512_unpacklo_epi16(lo, hi), weights);
  second = _mm512_madd_epi16(_mm512_unpackhi_epi16(lo, hi), weights);
}

// (top * 2048 + (bottom - top) * ay + 2^21) >> 22, in int32 as the reference.
inline __m512i vertical(__m512i top, __m512i bottom, __m512i ay) {
  const __m512i acc =
      _mm512_add_epi32(_mm512_slli_epi32(top, 11), _mm512_mullo_epi32(_mm512_sub_epi32(bottom, top), ay));
  return _mm512_srai_epi32(_mm512_add_epi32(acc, _mm512_set1_epi32(1 << 21)), 22);
}

// One output row (RowTaps): per pixel, per 32 channels,
//   top = tl * 2048 + (tr - tl) * ax,  bottom = bl * 2048 + (br - bl) * ax,
//   out = (top * 2048 + (bottom - top) * ay + 2^21) >> 22   (all in int32, as the reference).
// The horizontal steps in vpmaddwd took the 7x7x1152 -> 14x14 layer of
// pose_detection from 0.053 to 0.035 ms on Zen 4 (a vpmulld per 16 channels before).
template <bool kSigned>
void resize_row(const ResizeParams& p, const RowTaps& r) {
  const int64_t pixel_stride = p.c;
  const uint8_t *top_row = r.top, *bottom_row = r.bottom;
  uint8_t* out = r.out;
  const __m512i ay = _mm512_set1_epi32(r.weight);
  for (const BilinearTap& tx : p.cols) {
    const __m512i weights = _mm512_set1_epi32(
        static_cast<int32_t>((static_cast<uint32_t>(tx.weight) << 16) | (2048 - tx.weight)));
    const int64_t lo = tx.lo * pixel_stride, hi = tx.hi * pixel_stride;
    for (int c = 0; c < p.c; c += 32) {
      const __mmask32 lanes = p.c - c >= 32 ? ~__mmask32{0} : (__mmask32{1} << (p.c - c)) - 1;
      __m512i top[2], bottom[2];
      interpolate(load_words<kSigned>(top_row + lo + c, lanes), load_words<kSigned>(top_row + hi + c, lanes),
                  weights, top[0], top[1]);
      interpolate(load_words<kSigned>(bottom_row + lo + c, lanes),
                  load_words<kSigned>(bottom_row + hi + c, lanes), weights, bottom[0], bottom[1]);
      // Between the four source values, so packing and truncating are exact.
      const __m512i words =
          _mm512_packs_epi32(vertical(top[0], bottom[0], ay), vertical(top[1], bottom[1], ay));
      _mm256_mask_storeu_epi8(out + c, lanes, _mm512_cvtepi16_epi8(words));
    }
    out += pixel_stride;
  }
}

// The 32 bytes of `bytes` whose qwords `qwords` names, as int16 words.
template <bool kSigned>
__m512i picked_words(__m512i bytes, __m512i qwords) {
  const __m256i picked = _mm512_castsi512_si256(_mm512_permutexvar_epi64(qwords, bytes));
  return kSigned ? _mm512_cvtepi8_epi16(picked) : _mm512_cvtepu8_epi16(picked);
}

// resize_row for 8 or 16 channels over p.groups: the same arithmetic, four
// or two pixels in the lanes one pixel of 8 used (pose_landmark's 128x128 ->
// 256x256 of 8 channels: 1.5 bytes a ns before).
template <bool kSigned>
void resize_row_grouped(const ResizeParams& p, const RowTaps& r) {
  uint8_t* out = r.out;
  const __m512i ay = _mm512_set1_epi32(r.weight);
  for (const ColumnGroup& g : p.groups) {
    const __m512i top = _mm512_maskz_loadu_epi8(g.load, r.top + g.base * p.c);
    const __m512i bottom = _mm512_maskz_loadu_epi8(g.load, r.bottom + g.base * p.c);
    const __m512i lo = _mm512_loadu_si512(g.lo), hi = _mm512_loadu_si512(g.hi);
    const __m512i weights = _mm512_loadu_si512(g.weights);
    __m512i t[2], u[2];
    interpolate(picked_words<kSigned>(top, lo), picked_words<kSigned>(top, hi), weights, t[0], t[1]);
    interpolate(picked_words<kSigned>(bottom, lo), picked_words<kSigned>(bottom, hi), weights, u[0], u[1]);
    const __m512i packed = _mm512_packs_epi32(vertical(t[0], u[0], ay), vertical(t[1], u[1], ay));
    _mm256_mask_storeu_epi8(out, g.store, _mm512_cvtepi16_epi8(packed));
    out += 32;
  }
}

#include "backends/avx512/avx512_target_end.h"

struct Task {
  const ResizeParams* p;
  const uint8_t* input;
  uint8_t* output;
};

void run_row(void* context, size_t row) {
  const Task& t = *static_cast<const Task*>(context);
  const RowTaps r = row_taps(*t.p, t.input, t.output, static_cast<int64_t>(row));
  if (!t.p->groups.empty()) {
    if (t.p->is_signed) {
      resize_row_grouped<true>(*t.p, r);
    } else {
      resize_row_grouped<false>(*t.p, r);
    }
  } else if (t.p->is_signed) {
    resize_row<true>(*t.p, r);
  } else {
    resize_row<false>(*t.p, r);
  }
}

class Int8ResizeBilinearKernel final : public Kernel {
 public:
  Int8ResizeBilinearKernel(ResizeParams p, std::shared_ptr<pthreadpool> pool)
      : p_(std::move(p)), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 RESIZE_BILINEAR", {p_.n, p_.ih, p_.iw, p_.c}, {p_.n, p_.oh, p_.ow, p_.c});
  }

  void eval(KernelContext& ctx) override {
    Task task{&p_, ctx.input(0).data, ctx.output(0).data};
    pthreadpool_parallelize_1d(pool_.get(), run_row, &task, static_cast<size_t>(p_.n) * p_.oh, 0);
  }

 private:
  ResizeParams p_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_resize_bilinear(const Graph& graph, const Op& op, Int8Level level,
                                                  std::shared_ptr<pthreadpool> pool) {
  // The TFLite arithmetics round otherwise (the reference's float-registered kernel).
  if (level < Int8Level::kAvx512 || op.index < 0 ||
      op.code != static_cast<int32_t>(OpCode::kResizeBilinear) || *io_mismatch(op, 2, 2, 1) ||
      quant::arithmetic() != quant::Arithmetic::kLiteRT) {
    return nullptr;
  }
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  ByteParams pi, po;
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type ||
      !byte_params(input, pi) || !byte_params(output, po) || pi.scale != po.scale ||
      pi.zero_point != po.zero_point || output.dim(0) != input.dim(0) || output.dim(3) != input.dim(3)) {
    return nullptr;
  }
  // Claim only what the reference kernel runs (its checks of size and
  // options), probed on one image of one channel.
  const Shape probe_in_shape{1, input.dim(1), input.dim(2), 1},
      probe_out_shape{1, output.dim(1), output.dim(2), 1};
  std::vector<uint8_t> probe_in(static_cast<size_t>(num_elements(probe_in_shape)));
  std::vector<uint8_t> probe_out(static_cast<size_t>(num_elements(probe_out_shape)));
  const Tensor& size = in(graph, op, 1);
  if (!size.is_constant || !size.data ||
      !run_reference(op, {probe_tensor(input, probe_in_shape, probe_in.data()), size},
                     probe_tensor(output, probe_out_shape, probe_out.data()))) {
    return nullptr;
  }
  ResizeParams p;
  p.n = input.dim(0);
  p.ih = input.dim(1);
  p.iw = input.dim(2);
  p.c = input.dim(3);
  p.oh = output.dim(1);
  p.ow = output.dim(2);
  p.is_signed = input.type == DType::kInt8;
  bool align = false, half = false;
  if (std::holds_alternative<ResizeOptions>(op.options)) {
    align = std::get<ResizeOptions>(op.options).align_corners;
    half = std::get<ResizeOptions>(op.options).half_pixel_centers;
  }
  p.rows = quant::bilinear_taps(p.ih, p.oh, align, half);
  p.cols = quant::bilinear_taps(p.iw, p.ow, align, half);
  p.groups = column_groups(p.cols, p.iw, p.c);
  return std::make_unique<Int8ResizeBilinearKernel>(std::move(p), std::move(pool));
}

}  // namespace osprey
