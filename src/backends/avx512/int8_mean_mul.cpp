// osprey's int8/uint8 MEAN over height and width and MUL, same-shape or by a
// per-channel vector (int8_kernels.h): a squeeze-and-excitation block's
// global average and its scale. Exact int32 sums and products in vectors; MEAN
// ends in the reference's own scalar step (ref/quantized/mean.h), MUL repeats
// the reference's requantization 16 lanes at a time in each arithmetic. The
// AVX2 level's loops are in int8_mean_mul_avx2.cpp; the kernels are here.
#include <pthreadpool.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

#include "backends/avx512/int8_avx512_arith.h"
#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/int8_mean_mul.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"
#include "core/error.h"
#include "kernels/ref/quantized/common.h"
#include "kernels/ref/quantized/elementwise.h"
#include "kernels/ref/quantized/mean.h"

namespace osprey {

namespace {

using namespace backend_checks;
using namespace int8_avx512;
namespace rqz = ref::quantized;

// Sums of up to this many values stay exact in int32 (255 * 2^23 < 2^31).
constexpr int64_t kMaxMeanCount = int64_t{1} << 23;
// Pixels summed in int16 lanes before they widen to int32: 128 * 255 < 2^15.
constexpr int64_t kInt16Pixels = 128;
// Elements one MUL task computes.
constexpr int64_t kMulElementsPerTask = 16384;
// The longest repeat of a widened channel vector (16 KiB).
constexpr int64_t kMaxPeriod = 4096;
// Sums per channel block (int8_avx2::mean_sums too).
constexpr int kMeanBlock = 64;

struct MeanParams {
  int batch = 1, pixels = 1, channels = 1;  // input [batch, H, W, channels], pixels = H * W
  bool is_signed = true;
  bool avx2 = false;  // runs at Int8Level::kAvx2 (int8_mean_mul_avx2.cpp)
  rqz::MeanFinish finish;
};

using MulParams = Int8MulParams;

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

// ---------------------------------------------------------------- MEAN

template <bool kSigned>
__m512i widen_half(__m256i bytes) {
  return kSigned ? _mm512_cvtepi8_epi16(bytes) : _mm512_cvtepu8_epi16(bytes);
}

// int8_avx2::mean_sums (int8_mean_mul.h) on 64 byte lanes.
template <bool kSigned>
void sum_byte_lanes(const uint8_t* in, int64_t stride, int64_t count, int n, int32_t* sums) {
  const __mmask64 lanes = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
  for (int64_t first = 0; first < count; first += kInt16Pixels) {
    const int64_t last = std::min(count, first + kInt16Pixels);
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (int64_t k = first; k < last; ++k) {
      const __m512i bytes = _mm512_maskz_loadu_epi8(lanes, in + k * stride);
      lo = _mm512_add_epi16(lo, widen_half<kSigned>(_mm512_castsi512_si256(bytes)));
      hi = _mm512_add_epi16(hi, widen_half<kSigned>(_mm512_extracti64x4_epi64(bytes, 1)));
    }
    acc[0] = _mm512_add_epi32(acc[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(lo)));
    acc[1] = _mm512_add_epi32(acc[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(lo, 1)));
    acc[2] = _mm512_add_epi32(acc[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(hi)));
    acc[3] = _mm512_add_epi32(acc[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(hi, 1)));
  }
  for (int q = 0; q < 4; ++q) _mm512_storeu_si512(sums + 16 * q, acc[q]);
}

void mean_sums_avx512(const uint8_t* in, int64_t stride, int64_t count, int n, bool is_signed,
                      int32_t* sums) {
  if (is_signed) {
    sum_byte_lanes<true>(in, stride, count, n, sums);
  } else {
    sum_byte_lanes<false>(in, stride, count, n, sums);
  }
}

// ---------------------------------------------------------------- MUL

enum class MulMode { kFp32, kDoubleRounding, kSingleRounding };

// MUL's requantization (ref::quantized::mul_value) of 16 products, clamped;
// the constants live in registers (read from MulParams once per range: byte
// stores may alias it, so the compiler would reload it every vector).
template <MulMode kMode>
struct MulRequantizer {
  __m512i zero_point, lo, hi, multiplier;  // lo, hi: the output range less the zero point
  __m512 scale, lo_f, hi_f;
  int left = 0, right = 0;

  explicit MulRequantizer(const MulParams& p)
      : zero_point(_mm512_set1_epi32(p.out_zero_point)),
        lo(_mm512_set1_epi32(p.range.min - p.out_zero_point)),
        hi(_mm512_set1_epi32(p.range.max - p.out_zero_point)),
        multiplier(_mm512_set1_epi32(p.rq.multiplier.multiplier)),
        scale(_mm512_set1_ps(p.rq.fp32_scale)),
        lo_f(_mm512_set1_ps(static_cast<float>(p.range.min - p.out_zero_point))),
        hi_f(_mm512_set1_ps(static_cast<float>(p.range.max - p.out_zero_point))),
        left(std::max(p.rq.multiplier.shift, 0)),
        right(kMode == MulMode::kSingleRounding ? 31 - p.rq.multiplier.shift
                                                : std::max(-p.rq.multiplier.shift, 0)) {}

  __m512i operator()(__m512i product) const {
    if constexpr (kMode == MulMode::kFp32) {
      // XNNPACK's fp32 step: the product is exact in float (|product| <= 255^2).
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(product), scale);
      v = _mm512_min_ps(_mm512_max_ps(v, lo_f), hi_f);
      return _mm512_add_epi32(_mm512_cvtps_epi32(v), zero_point);  // rounds half to even, as lrint does
    } else {
      __m512i v;
      if constexpr (kMode == MulMode::kSingleRounding) {
        v = multiply_single_rounding(product, multiplier, right);
      } else {
        // The left shift wraps like the reference's unsigned multiply.
        const __m512i shifted = _mm512_sll_epi32(product, _mm_cvtsi32_si128(left));
        v = rounding_divide_by_pot(rounding_doubling_high_mul(shifted, multiplier), right);
      }
      // Clamped before the zero point is added, which a hostile scale's
      // saturated product would overflow (the reference saturates the sum).
      return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), zero_point);
    }
  }
};

template <bool kSigned>
__m512i widen_offset(__m128i bytes, __m512i offset) {
  return _mm512_add_epi32(kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes), offset);
}

// An operand of MUL read as bytes, its zero point subtracted as it is read ...
template <bool kSigned>
struct ByteOperand {
  const uint8_t* bytes;
  __m512i offset;
  __m512i load(int64_t i) const {
    return widen_offset<kSigned>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i)), offset);
  }
  __m512i load(int64_t i, __mmask16 lanes) const {
    return widen_offset<kSigned>(_mm_maskz_loadu_epi8(lanes, bytes + i), offset);
  }
};

// ... or a channel vector already widened, once per range (the offset included).
struct WideOperand {
  const int32_t* values;
  __m512i load(int64_t i) const { return _mm512_loadu_si512(values + i); }
  __m512i load(int64_t i, __mmask16 lanes) const { return _mm512_maskz_loadu_epi32(lanes, values + i); }
};

// `n` elements of a * b where both run contiguously: 64 a step (one store of
// 64 bytes; a masked byte store per 16 is slow), then 16 a step, masked.
template <bool kSigned, MulMode kMode, typename Operand>
void mul_span(const MulRequantizer<kMode>& requantize, const ByteOperand<kSigned>& a, const Operand& b,
              uint8_t* out, int64_t n) {
  // Dword d of the packed bytes comes from dword 4 * (d % 4) + d / 4 (packs work within 128-bit lanes).
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i v[4];
    for (int q = 0; q < 4; ++q) v[q] = requantize(_mm512_mullo_epi32(a.load(i + 16 * q), b.load(i + 16 * q)));
    // Every value is already clamped to the type's range, so the saturating packs keep it.
    const __m512i low = _mm512_packs_epi32(v[0], v[1]), high = _mm512_packs_epi32(v[2], v[3]);
    const __m512i bytes = kSigned ? _mm512_packs_epi16(low, high) : _mm512_packus_epi16(low, high);
    _mm512_storeu_si512(out + i, _mm512_permutexvar_epi32(order, bytes));
  }
  for (; i < n; i += 16) {
    const __mmask16 lanes = static_cast<__mmask16>((1u << std::min<int64_t>(16, n - i)) - 1);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, lanes,
                                     requantize(_mm512_mullo_epi32(a.load(i, lanes), b.load(i, lanes))));
  }
}

// Output elements [first, last) (whole pixels when `b` broadcasts); `wide`
// holds b's period (MulParams) widened, when it has one.
template <bool kSigned, MulMode kMode>
void mul_range(const MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
               int64_t first, int64_t last) {
  const MulRequantizer<kMode> requantize(p);
  const __m512i a_offset = _mm512_set1_epi32(p.a_offset), b_offset = _mm512_set1_epi32(p.b_offset);
  if (!p.broadcast) {
    mul_span(requantize, ByteOperand<kSigned>{a + first, a_offset}, ByteOperand<kSigned>{b + first, b_offset},
             out + first, last - first);
  } else if (p.period) {
    for (int64_t i = first; i < last; i += p.period) {
      mul_span(requantize, ByteOperand<kSigned>{a + i, a_offset}, WideOperand{wide}, out + i,
               std::min(p.period, last - i));
    }
  } else {
    for (int64_t row = first; row < last; row += p.channels) {
      mul_span(requantize, ByteOperand<kSigned>{a + row, a_offset}, ByteOperand<kSigned>{b, b_offset},
               out + row, p.channels);
    }
  }
}

template <bool kSigned>
void mul_range(const MulParams& p, const uint8_t* a, const uint8_t* b, const int32_t* wide, uint8_t* out,
               int64_t first, int64_t last) {
  if (p.rq.fp32) {
    mul_range<kSigned, MulMode::kFp32>(p, a, b, wide, out, first, last);
  } else if (p.mode == quant::Arithmetic::kTfliteSingle) {
    mul_range<kSigned, MulMode::kSingleRounding>(p, a, b, wide, out, first, last);
  } else {
    mul_range<kSigned, MulMode::kDoubleRounding>(p, a, b, wide, out, first, last);
  }
}

#include "backends/avx512/avx512_target_end.h"

// ---------------------------------------------------------------- kernels

// The output of 64 channels from `c0` (fewer at the end) of batch `b`.
void mean_block(const MeanParams& p, const uint8_t* input, uint8_t* output, int b, int c0) {
  const auto sum = p.avx2 ? int8_avx2::mean_sums : mean_sums_avx512;
  std::array<int32_t, kMeanBlock> sums;
  const uint8_t* in = input + int64_t{b} * p.pixels * p.channels;
  const int n = std::min(kMeanBlock, p.channels - c0);
  if (kMeanBlock % p.channels == 0) {
    // Channels that divide a block: the batch's bytes read as one stream,
    // lane j holding channel j % channels, folded at the end.
    const int64_t bytes = int64_t{p.pixels} * p.channels;
    const int64_t full = bytes / kMeanBlock;
    sum(in, kMeanBlock, full, kMeanBlock, p.is_signed, sums.data());
    std::array<int32_t, kMeanBlock> tail{};
    const int64_t rest = bytes - full * kMeanBlock;
    if (rest) sum(in + full * kMeanBlock, 0, 1, static_cast<int>(rest), p.is_signed, tail.data());
    for (size_t j = 0; j < kMeanBlock; ++j) {
      const size_t c = j % static_cast<size_t>(p.channels);
      sums[c] = (j == c ? sums[c] : sums[c] + sums[j]) + tail[j];
    }
  } else {
    sum(in + c0, p.channels, p.pixels, n, p.is_signed, sums.data());
  }
  // The reference sums q - zp (or q); the same int32 as sum(q) - count * zp, no sum being able to overflow.
  const int32_t subtracted = p.pixels * p.finish.subtracted();
  uint8_t* out = output + int64_t{b} * p.channels + c0;
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<uint8_t>(p.finish.value(sums[static_cast<size_t>(j)] - subtracted));
  }
}

class Int8MeanKernel final : public Kernel {
 public:
  Int8MeanKernel(MeanParams p, Shape in_shape, Shape out_shape, std::shared_ptr<pthreadpool> pool)
      : p_(std::move(p)),
        in_shape_(std::move(in_shape)),
        out_shape_(std::move(out_shape)),
        pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override { check_built_shapes(ctx, "int8 mean", in_shape_, out_shape_); }

  void eval(KernelContext& ctx) override {
    struct Task {
      const MeanParams* p;
      const uint8_t* input;
      uint8_t* output;
      int blocks;  // channel blocks of 64 per batch
    } task{&p_, ctx.input(0).data, ctx.output(0).data, (p_.channels + 63) / 64};
    pthreadpool_parallelize_1d(
        pool_.get(),
        [](void* context, size_t i) {
          const Task& t = *static_cast<const Task*>(context);
          const int b = static_cast<int>(i) / t.blocks, c0 = static_cast<int>(i) % t.blocks * 64;
          mean_block(*t.p, t.input, t.output, b, c0);
        },
        &task, static_cast<size_t>(p_.batch * task.blocks), 0);
  }

 private:
  MeanParams p_;
  Shape in_shape_, out_shape_;
  std::shared_ptr<pthreadpool> pool_;
};

class Int8MulKernel final : public Kernel {
 public:
  // `swapped`: the op's input 1 is the full-size operand, input 0 the vector.
  Int8MulKernel(MulParams p, bool swapped, Shape a_shape, Shape b_shape, std::shared_ptr<pthreadpool> pool)
      : p_(std::move(p)),
        swapped_(swapped),
        a_shape_(std::move(a_shape)),
        b_shape_(std::move(b_shape)),
        wide_(static_cast<size_t>(p_.period)),
        pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "int8 mul: expected 2 inputs and 1 output");
    const Shape& first = swapped_ ? b_shape_ : a_shape_;
    const Shape& second = swapped_ ? a_shape_ : b_shape_;
    OSPREY_CHECK(
        ctx.input(0).shape == first && ctx.input(1).shape == second && ctx.output(0).shape == a_shape_,
        "int8 mul: shapes changed after the kernel was built");
  }

  void eval(KernelContext& ctx) override {
    struct Task {
      const MulParams* p;
      const uint8_t *a, *b;
      const int32_t* wide;
      uint8_t* out;
      int64_t per_task;
    } task{&p_,
           ctx.input(swapped_ ? 1 : 0).data,
           ctx.input(swapped_ ? 0 : 1).data,
           wide_.data(),
           ctx.output(0).data,
           0};
    for (size_t j = 0; j < wide_.size(); ++j) {
      const uint8_t byte = task.b[j % static_cast<size_t>(p_.channels)];
      wide_[j] = (p_.is_signed ? int32_t{static_cast<int8_t>(byte)} : int32_t{byte}) + p_.b_offset;
    }
    // Whole pixels a task when `b` broadcasts, so each starts at channel 0.
    const int64_t unit = p_.broadcast ? p_.channels : 16;
    task.per_task = std::max<int64_t>(1, kMulElementsPerTask / unit) * unit;
    pthreadpool_parallelize_1d(
        pool_.get(),
        [](void* context, size_t i) {
          const Task& t = *static_cast<const Task*>(context);
          const int64_t first = static_cast<int64_t>(i) * t.per_task;
          const int64_t last = std::min(t.p->elements, first + t.per_task);
          if (t.p->avx2) {
            int8_avx2::mul(*t.p, t.a, t.b, t.wide, t.out, first, last);
          } else if (t.p->is_signed) {
            mul_range<true>(*t.p, t.a, t.b, t.wide, t.out, first, last);
          } else {
            mul_range<false>(*t.p, t.a, t.b, t.wide, t.out, first, last);
          }
        },
        &task, static_cast<size_t>((p_.elements + task.per_task - 1) / task.per_task), 0);
  }

 private:
  MulParams p_;
  bool swapped_;
  Shape a_shape_, b_shape_;    // the full-size operand's and the other's
  std::vector<int32_t> wide_;  // MulParams::period values, filled each run
  std::shared_ptr<pthreadpool> pool_;
};

// Whether `v` holds one value per channel of `full` (its last dim), every other dim 1.
bool is_channel_vector(const Tensor& v, const Tensor& full) {
  if (v.rank() > full.rank() || v.shape.back() != full.shape.back()) return false;
  return v.num_elements() == v.shape.back();
}

}  // namespace

std::unique_ptr<Kernel> make_int8_mean(const Graph& graph, const Op& op, Int8Level level,
                                       std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone || op.index < 0 || op.code != static_cast<int32_t>(OpCode::kMean) ||
      *io_mismatch(op, 2, 2, 1)) {
    return nullptr;
  }
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  std::vector<int64_t> axes;
  if (!is_int8_activation(input) || output.type != input.type || !constant_ints(in(graph, op, 1), axes) ||
      in(graph, op, 1).type != DType::kInt32) {
    return nullptr;
  }
  // The reduced axes must be H and W (the reference also takes negative and repeated ones).
  std::array<bool, 4> reduced{};
  for (int64_t a : axes) {
    if (a < -4 || a > 3) return nullptr;
    reduced[static_cast<size_t>(a < 0 ? a + 4 : a)] = true;
  }
  if (reduced[0] || !reduced[1] || !reduced[2] || reduced[3]) return nullptr;
  const bool keep_dims = options_of<ReducerOptions>(op).keep_dims;
  const Shape expected =
      keep_dims ? Shape{input.dim(0), 1, 1, input.dim(3)} : Shape{input.dim(0), input.dim(3)};
  const int64_t pixels = int64_t{input.dim(1)} * input.dim(2);
  if (output.shape != expected || pixels > kMaxMeanCount) return nullptr;
  MeanParams p;
  try {
    // The reference kernel's checks and parameters, so that both agree on every value.
    const rqz::TensorParams pi = rqz::activation_params(input, "input", input.type);
    const rqz::TensorParams po = rqz::activation_params(output, "output", input.type);
    // keep_dims false makes the reference take its float path (mean.h).
    p.finish = rqz::MeanFinish(keep_dims, pi, po, static_cast<int32_t>(pixels), input.type);
  } catch (const Error&) {
    return nullptr;
  }
  p.batch = input.dim(0);
  p.pixels = static_cast<int>(pixels);
  p.channels = input.dim(3);
  p.is_signed = input.type == DType::kInt8;
  p.avx2 = level == Int8Level::kAvx2;
  return std::make_unique<Int8MeanKernel>(std::move(p), input.shape, output.shape, std::move(pool));
}

std::unique_ptr<Kernel> make_int8_mul(const Graph& graph, const Op& op, Int8Level level,
                                      std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone || op.index < 0 || op.code != static_cast<int32_t>(OpCode::kMul) ||
      *io_mismatch(op, 2, 2, 1)) {
    return nullptr;
  }
  const std::optional<BinaryByteParams> q = binary_byte_params(graph, op);
  if (!q) return nullptr;
  const Tensor& a = in(graph, op, 0);
  const Tensor& b = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  // The full-size operand and the other: the same shape, or one value per channel.
  const bool swapped = b.shape == output.shape && a.shape != output.shape;
  const Tensor& full = swapped ? b : a;
  const Tensor& other = swapped ? a : b;
  if (full.shape != output.shape || (other.shape != full.shape && !is_channel_vector(other, full)))
    return nullptr;
  MulParams p;
  p.range = q->range;
  p.mode = quant::arithmetic();
  try {
    p.rq = rqz::mul_requant(q->a, q->b, q->out, p.mode);
  } catch (const Error&) {
    return nullptr;
  }
  p.a_offset = -(swapped ? q->b : q->a).zero_point;
  p.b_offset = -(swapped ? q->a : q->b).zero_point;
  p.out_zero_point = q->out.zero_point;
  p.is_signed = a.type == DType::kInt8;
  p.avx2 = level == Int8Level::kAvx2;
  p.broadcast = other.shape != full.shape;
  p.elements = full.num_elements();
  p.channels = full.shape.back();
  const int64_t period = std::lcm(int64_t{p.channels}, int64_t{64});
  p.period = p.broadcast && period <= kMaxPeriod ? period : 0;
  return std::make_unique<Int8MulKernel>(std::move(p), swapped, full.shape, other.shape, std::move(pool));
}

}  // namespace osprey
