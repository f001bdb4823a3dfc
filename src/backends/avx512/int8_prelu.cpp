// osprey's int8/uint8 PRELU (int8_kernels.h): each branch as a line per
// alpha value (int8_prelu_lines.h), else the reference's fixed-point steps,
// 16 lanes at a time.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/int8_avx512_arith.h"
#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/int8_prelu_lines.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey {

namespace {

using namespace backend_checks;
using namespace int8_avx512;

// PRELUs with up to this many alpha values are fitted with lines from the
// reference's outputs for each (256 bytes each); larger ones keep fixed point.
constexpr int64_t kMaxPreluLineAlphas = 4096;

// What one PRELU needs: its lines, repeated over `period` elements (a
// multiple of alpha's size, which the input's flat index modulo alpha's size
// selects); or else the reference kernel's multipliers and offsets, and
// alpha - zero point repeated over the period.
struct PreluParams {
  bool is_signed = true;
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;
  int32_t in_offset = 0, out_offset = 0;
  quant::QuantizedMultiplier pos, neg;
  std::vector<int32_t> alpha;       // period elements, without lines
  std::optional<PreluLines> lines;  // k_neg and b_neg over the period
};

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

template <bool kSigned>
void prelu_range(const PreluParams& p, const uint8_t* in, uint8_t* out, int64_t first, int64_t last) {
  const bool single = p.mode == quant::Arithmetic::kTfliteSingle;
  // Per branch: the multiplier, and the shifts each build applies around it.
  const __m512i m_pos = _mm512_set1_epi32(p.pos.multiplier), m_neg = _mm512_set1_epi32(p.neg.multiplier);
  const __m512i left_pos = _mm512_set1_epi32(std::max(p.pos.shift, 0));
  const __m512i left_neg = _mm512_set1_epi32(std::max(p.neg.shift, 0));
  const __m512i right_pos = _mm512_set1_epi32(single ? 31 - p.pos.shift : std::max(-p.pos.shift, 0));
  const __m512i right_neg = _mm512_set1_epi32(single ? 31 - p.neg.shift : std::max(-p.neg.shift, 0));
  const __m512i in_offset = _mm512_set1_epi32(p.in_offset), out_offset = _mm512_set1_epi32(p.out_offset);
  const __m512i zero = _mm512_setzero_si512();
  // The type's range less the zero point: the clamp comes before the zero
  // point, which a hostile scale's saturated product would overflow.
  const __m512i lo = _mm512_set1_epi32((kSigned ? -128 : 0) - p.out_offset);
  const __m512i hi = _mm512_set1_epi32((kSigned ? 127 : 255) - p.out_offset);
  const int64_t period = static_cast<int64_t>(p.alpha.size());
  int64_t phase = first % period;
  for (int64_t i = first; i < last;) {
    const int64_t n = std::min({int64_t{16}, last - i, period - phase});
    const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
    const __m128i bytes = _mm_maskz_loadu_epi8(lanes, in + i);
    const __m512i raw = kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
    const __m512i x = _mm512_add_epi32(raw, in_offset);
    const __mmask16 neg = _mm512_cmplt_epi32_mask(x, zero);
    const __m512i alpha = _mm512_maskz_loadu_epi32(lanes, p.alpha.data() + phase);
    const __m512i product = _mm512_mask_mullo_epi32(x, neg, x, alpha);
    const __m512i m = _mm512_mask_blend_epi32(neg, m_pos, m_neg);
    const __m512i right = _mm512_mask_blend_epi32(neg, right_pos, right_neg);
    __m512i v;
    if (single) {
      v = multiply_single_rounding(product, m, right);
    } else {
      // The left shift wraps like the reference's unsigned multiply.
      const __m512i shifted = _mm512_sllv_epi32(product, _mm512_mask_blend_epi32(neg, left_pos, left_neg));
      v = rounding_divide_by_pot(rounding_doubling_high_mul(shifted, m), right);
    }
    v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), out_offset);
    if constexpr (kSigned) {
      _mm512_mask_cvtsepi32_storeu_epi8(out + i, lanes, v);
    } else {
      _mm512_mask_cvtusepi32_storeu_epi8(out + i, lanes, v);
    }
    i += n;
    phase += n;
    if (phase == period) phase = 0;
  }
}

// One PRELU line step over 16 lanes of input x (int32), lanes past `lanes` ignored.
struct LineStep {
  explicit LineStep(const PreluLines& lines)
      : l(lines),
        k_pos(_mm512_set1_epi32(lines.k_pos)),
        b_pos(_mm512_set1_epi32(lines.b_pos)),
        zero_point(_mm512_set1_epi32(lines.zero_point)),
        shift(_mm_cvtsi32_si128(lines.shift)) {}

  __m512i operator()(__m512i x, __mmask16 lanes, int64_t phase) const {
    const __mmask16 neg = _mm512_mask_cmplt_epi32_mask(lanes, x, zero_point);
    const __m512i k = _mm512_mask_loadu_epi32(k_pos, neg, l.k_neg.data() + phase);
    const __m512i b = _mm512_mask_loadu_epi32(b_pos, neg, l.b_neg.data() + phase);
    return _mm512_sra_epi32(_mm512_add_epi32(_mm512_mullo_epi32(x, k), b), shift);
  }

  const PreluLines& l;
  __m512i k_pos, b_pos, zero_point;
  __m128i shift;
};

template <bool kSigned>
__m512i widen_bytes(__m128i bytes) {
  return kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
}

// The line form: a multiply, an add and a shift per lane, each lane's line
// picked by its branch; 64 lanes a step where the period allows, packed to
// one store (masked narrowing stores are slow on AMD's cores).
template <bool kSigned>
void prelu_lines_range(const PreluLines& l, const uint8_t* in, uint8_t* out, int64_t first, int64_t last) {
  const LineStep line(l);
  const int64_t period = static_cast<int64_t>(l.k_neg.size());
  // Where packing leaves each 4-byte group: back in order.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  int64_t phase = first % period;
  for (int64_t i = first; i < last;) {
    if (last - i >= 64 && period - phase >= 64) {
      __m512i v[4];
      for (int q = 0; q < 4; ++q) {
        v[q] = line(widen_bytes<kSigned>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 16 * q))),
                    0xFFFF, phase + 16 * q);
      }
      const __m512i words01 = _mm512_packs_epi32(v[0], v[1]), words23 = _mm512_packs_epi32(v[2], v[3]);
      const __m512i bytes =
          kSigned ? _mm512_packs_epi16(words01, words23) : _mm512_packus_epi16(words01, words23);
      _mm512_storeu_si512(out + i, _mm512_permutexvar_epi32(order, bytes));
      i += 64;
      phase += 64;
    } else {
      const int64_t n = std::min({int64_t{16}, last - i, period - phase});
      const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
      const __m512i v = line(widen_bytes<kSigned>(_mm_maskz_loadu_epi8(lanes, in + i)), lanes, phase);
      if constexpr (kSigned) {
        _mm512_mask_cvtsepi32_storeu_epi8(out + i, lanes, v);
      } else {
        _mm512_mask_cvtusepi32_storeu_epi8(out + i, lanes, _mm512_max_epi32(v, _mm512_setzero_si512()));
      }
      i += n;
      phase += n;
    }
    if (phase == period) phase = 0;
  }
}

#include "backends/avx512/avx512_target_end.h"

class Int8PreluKernel final : public ByteMapKernel {
 public:
  // avx2: the CPU runs Int8Level::kAvx2 (int8_avx2.h), not AVX-512.
  Int8PreluKernel(PreluParams p, Shape shape, bool avx2, std::shared_ptr<pthreadpool> pool)
      : ByteMapKernel("int8 PRELU", std::move(shape), std::move(pool)), p_(std::move(p)), avx2_(avx2) {}

 protected:
  void range(const uint8_t* in, uint8_t* out, int64_t first, int64_t last) const override {
    if (avx2_) {
      avx2_range(in, out, first, last);
    } else if (p_.lines) {
      if (p_.is_signed) {
        prelu_lines_range<true>(*p_.lines, in, out, first, last);
      } else {
        prelu_lines_range<false>(*p_.lines, in, out, first, last);
      }
    } else if (p_.is_signed) {
      prelu_range<true>(p_, in, out, first, last);
    } else {
      prelu_range<false>(p_, in, out, first, last);
    }
  }

 private:
  void avx2_range(const uint8_t* in, uint8_t* out, int64_t first, int64_t last) const {
    if (p_.lines) {
      int8_avx2::prelu_lines(*p_.lines, p_.is_signed, in, out, first, last);
    } else {
      const int8_avx2::PreluFixed fixed{
          p_.is_signed, p_.mode, p_.in_offset,    p_.out_offset,
          p_.pos,       p_.neg,  p_.alpha.data(), static_cast<int64_t>(p_.alpha.size())};
      int8_avx2::prelu_fixed(fixed, in, out, first, last);
    }
  }

  PreluParams p_;
  bool avx2_;
};

// Alpha's size when it repeats along the input's flat index: alpha's shape,
// without its leading ones, is the input shape's tail; 0 otherwise.
int64_t alpha_period(const Shape& input, const Shape& alpha) {
  size_t lead = 0;
  while (lead < alpha.size() && alpha[lead] == 1) ++lead;
  const size_t tail = alpha.size() - lead;
  if (tail > input.size()) return 0;
  int64_t size = 1;
  for (size_t d = 0; d < tail; ++d) {
    if (alpha[lead + d] != input[input.size() - tail + d]) return 0;
    size *= alpha[lead + d];
  }
  return size;
}

}  // namespace

std::unique_ptr<Kernel> make_int8_prelu(const Graph& graph, const Op& op, Int8Level level,
                                        std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone || op.index < 0 || op.code != static_cast<int32_t>(OpCode::kPrelu) ||
      *io_mismatch(op, 2, 2, 1)) {
    return nullptr;
  }
  const Tensor& input = in(graph, op, 0);
  const Tensor& alpha = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  ByteParams pi, pa, po;
  if (!is_byte_activation(input) || output.type != input.type || alpha.type != input.type ||
      output.shape != input.shape || !alpha.is_constant || !alpha.data || alpha.rank() > 6 ||
      !byte_params(input, pi) || !byte_params(alpha, pa) || !byte_params(output, po)) {
    return nullptr;
  }
  const int64_t size = alpha_period(input.shape, alpha.shape);
  if (size <= 0) return nullptr;
  PreluParams p;
  p.is_signed = input.type == DType::kInt8;
  p.mode = quant::arithmetic();
  p.in_offset = -pi.zero_point;
  p.out_offset = po.zero_point;
  // In float first, as the reference kernel computes them.
  p.pos = quant::quantize_multiplier(static_cast<double>(pi.scale / po.scale));
  p.neg = quant::quantize_multiplier(static_cast<double>(pi.scale * pa.scale / po.scale));
  // A period of at least a few vectors, and of whole 64-byte steps where
  // that stays small, so that small alphas do not cut every vector short.
  int64_t repeats = size % 64 == 0 ? 1 : 64 / std::gcd(size, int64_t{64});
  if (size * repeats > 4096) repeats = 1;
  repeats *= std::max<int64_t>(1, 256 / (size * repeats));
  const size_t period = static_cast<size_t>(size * repeats);
  if (size <= kMaxPreluLineAlphas) {
    // What the reference kernel makes of every input byte against every alpha element.
    const auto n = static_cast<size_t>(size);
    std::vector<uint8_t> probe_in(256 * n), probe_out(256 * n);
    for (size_t b = 0; b < 256; ++b) std::fill_n(probe_in.begin() + static_cast<std::ptrdiff_t>(b * n), n, b);
    std::vector<uint8_t> alpha_bytes(alpha.data, alpha.data + n);
    if (!run_reference(op,
                       {probe_tensor(input, {256, static_cast<int32_t>(size)}, probe_in.data()),
                        probe_tensor(alpha, {static_cast<int32_t>(size)}, alpha_bytes.data(), true)},
                       probe_tensor(output, {256, static_cast<int32_t>(size)}, probe_out.data()))) {
      return nullptr;
    }
    std::vector<uint8_t> table(256 * n);
    for (size_t b = 0; b < 256; ++b) {
      for (size_t j = 0; j < n; ++j) table[j * 256 + b] = probe_out[b * n + j];
    }
    // Each branch's real factor, from the multipliers the reference uses.
    auto factor = [](const quant::QuantizedMultiplier& m) {
      return std::ldexp(static_cast<double>(m.multiplier), m.shift - 31);
    };
    std::vector<double> slope_neg(n);
    for (size_t j = 0; j < n; ++j) {
      const int32_t a = p.is_signed ? static_cast<int8_t>(alpha.data[j]) : int32_t{alpha.data[j]};
      slope_neg[j] = (a - pa.zero_point) * factor(p.neg);
    }
    p.lines = fit_prelu_lines(table, p.is_signed, pi.zero_point, factor(p.pos), slope_neg);
  }
  if (p.lines) {
    std::vector<int32_t> k(period), b(period);
    const auto n = static_cast<size_t>(size);
    for (size_t j = 0; j < period; ++j) {
      k[j] = p.lines->k_neg[j % n];
      b[j] = p.lines->b_neg[j % n];
    }
    p.lines->k_neg = std::move(k);
    p.lines->b_neg = std::move(b);
  } else {
    p.alpha.resize(period);
    for (size_t j = 0; j < period; ++j) {
      const uint8_t byte = alpha.data[j % static_cast<size_t>(size)];
      p.alpha[j] = (p.is_signed ? static_cast<int8_t>(byte) : int32_t{byte}) - pa.zero_point;
    }
  }
  return std::make_unique<Int8PreluKernel>(std::move(p), input.shape, level == Int8Level::kAvx2,
                                           std::move(pool));
}

}  // namespace osprey
