// osprey's int8/uint8 RESIZE_BILINEAR (int8_kernels.h) at the AVX-512
// levels: XNNPACK's ibilinear arithmetic (the reference's with LiteRT's
// arithmetic, kernels/ref/quantized/resize.cpp), 16 channels a vector, on the
// same taps (bilinear_taps.h). XNNPACK's own int8 kernel runs it at ~3 bytes
// per ns on this machine; this one keeps every step in int32 lanes.
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

struct ResizeParams {
  int n = 0, ih = 0, iw = 0, c = 0, oh = 0, ow = 0;
  bool is_signed = true;
  std::vector<BilinearTap> rows, cols;
};

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

template <bool kSigned>
__m512i load_lanes(const uint8_t* p, __mmask16 lanes) {
  const __m128i bytes = _mm_maskz_loadu_epi8(lanes, p);
  return kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
}

// Output row `row` (batch * oh + y): per pixel, per 16 channels,
//   top = tl * 2048 + (tr - tl) * ax,  bottom = bl * 2048 + (br - bl) * ax,
//   out = (top * 2048 + (bottom - top) * ay + 2^21) >> 22   (all in int32, as the reference).
template <bool kSigned>
void resize_row(const ResizeParams& p, const uint8_t* input, uint8_t* output, int64_t row) {
  const int b = static_cast<int>(row / p.oh);
  const BilinearTap& ty = p.rows[static_cast<size_t>(row % p.oh)];
  const int64_t pixel_stride = p.c;
  const uint8_t* top_row = input + (int64_t{b} * p.ih + ty.lo) * p.iw * pixel_stride;
  const uint8_t* bottom_row = input + (int64_t{b} * p.ih + ty.hi) * p.iw * pixel_stride;
  uint8_t* out = output + row * p.ow * pixel_stride;
  const __m512i ay = _mm512_set1_epi32(ty.weight);
  const __m512i round = _mm512_set1_epi32(1 << 21);
  for (const BilinearTap& tx : p.cols) {
    const __m512i ax = _mm512_set1_epi32(tx.weight);
    const int64_t lo = tx.lo * pixel_stride, hi = tx.hi * pixel_stride;
    for (int c = 0; c < p.c; c += 16) {
      const __mmask16 lanes = static_cast<__mmask16>(p.c - c >= 16 ? 0xFFFF : (1u << (p.c - c)) - 1);
      const __m512i tl = load_lanes<kSigned>(top_row + lo + c, lanes);
      const __m512i tr = load_lanes<kSigned>(top_row + hi + c, lanes);
      const __m512i bl = load_lanes<kSigned>(bottom_row + lo + c, lanes);
      const __m512i br = load_lanes<kSigned>(bottom_row + hi + c, lanes);
      const __m512i top =
          _mm512_add_epi32(_mm512_slli_epi32(tl, 11), _mm512_mullo_epi32(_mm512_sub_epi32(tr, tl), ax));
      const __m512i bottom =
          _mm512_add_epi32(_mm512_slli_epi32(bl, 11), _mm512_mullo_epi32(_mm512_sub_epi32(br, bl), ax));
      const __m512i acc =
          _mm512_add_epi32(_mm512_slli_epi32(top, 11), _mm512_mullo_epi32(_mm512_sub_epi32(bottom, top), ay));
      // Between the four source values, so the truncating store is exact.
      _mm512_mask_cvtepi32_storeu_epi8(out + c, lanes, _mm512_srai_epi32(_mm512_add_epi32(acc, round), 22));
    }
    out += pixel_stride;
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
  if (t.p->is_signed) {
    resize_row<true>(*t.p, t.input, t.output, static_cast<int64_t>(row));
  } else {
    resize_row<false>(*t.p, t.input, t.output, static_cast<int64_t>(row));
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
  return std::make_unique<Int8ResizeBilinearKernel>(std::move(p), std::move(pool));
}

}  // namespace osprey
