// osprey's int8/uint8 TRANSPOSE_CONV (int8_kernels.h), bit-exact to the
// integer reference kernel (kernels/ref/quantized/conv.cpp) in each of its
// arithmetics.
//
// An output row is the sum, over the kernel rows ky that reach it, of input
// row iy times kernel row ky: for each input pixel a GEMM row
// [Cin] x [Cin x KW*Cout], its KW*Cout sums added (col2im) to the row's int32
// accumulators from (ix * stride - pad) * Cout on. The sums run on vpmaddwd
// over int16 pairs of (x - x_zp) and (w - w_zp), so no zero-point term is
// left to fold and no 16-bit sum can saturate (|product| <= 255^2); int32
// wraps as the reference's accumulator does when it is narrowed.
//
// The sums of a row are computed flat, 16 lanes at a time: lane f is column
// f % (KW*Cout) of pixel f / (KW*Cout), so a kernel with few columns (the
// segmentation heads' 2x2 into one channel) still fills every lane. Each lane
// reads its pixel's pair of channels from a planar copy of the input row
// ([pair][pixel], made once per input row and band of output rows) through a
// permute whose pattern repeats every lcm(KW*Cout, 16) lanes; the weights are
// packed for that pattern. When stride == KW the windows of neighbouring
// pixels touch without overlapping, and the flat sums are the accumulator row
// itself, shifted by the padding.
//
// The VNNI level runs this file's AVX-512 code (the sums are 16-bit
// products); the AVX2 level the same plan (int8_transpose_conv.h) 8 lanes at
// a time (int8_transpose_conv_avx2.cpp).
#include <pthreadpool.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "backends/avx512/int8_avx512_arith.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/int8_requant.h"
#include "backends/avx512/int8_transpose_conv.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"
#include "core/error.h"
#include "kernels/geometry.h"

namespace osprey {

namespace {

using namespace backend_checks;

constexpr int kLanes = 16;
// Output rows are split into at most this many bands, each with its own
// scratch (the pool has no thread index to pick one by).
constexpr int64_t kMaxBands = 16;
// What the kernel may hold: scratch for all bands, and packed weights.
constexpr int64_t kMaxScratchBytes = int64_t{64} << 20;
constexpr int64_t kMaxWeightBytes = int64_t{16} << 20;

int64_t round_up(int64_t v, int64_t m) {
  return (v + m - 1) / m * m;
}

using Plan = Int8TransposeConvPlan;

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

#include "backends/avx512/int8_requant_avx512.inc"

__mmask16 first_lanes(int64_t n) {
  return n >= kLanes ? __mmask16(0xffff) : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1);
}

// Columns c of the 16x16 int32 matrix whose rows are r[0..15], in r.
[[gnu::always_inline]] inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + m], 128-bit lane L: rows 4i..4i+3 of column 4L + m.
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512i low01 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44);
    const __m512i high01 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44);
    const __m512i low23 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xEE);
    const __m512i high23 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xEE);
    r[m] = _mm512_shuffle_i32x4(low01, high01, 0x88);
    r[4 + m] = _mm512_shuffle_i32x4(low01, high01, 0xDD);
    r[8 + m] = _mm512_shuffle_i32x4(low23, high23, 0x88);
    r[12 + m] = _mm512_shuffle_i32x4(low23, high23, 0xDD);
  }
}

// One input row as int16 pairs (x - x_zp) of channels 2k, 2k + 1, pair-major:
// planar[k * planar_pixels + ix]; zero past the channels and the pixels. With
// at most 8 pairs a vector holds two pixels, 16 apart, so that one transpose
// serves 32 pixels.
template <bool kSigned>
void planarize(const Plan& p, const uint8_t* row, int32_t* planar) {
  const int cin = p.g.in.c, width = p.g.in.w;
  const __m512i zp = _mm512_set1_epi16(static_cast<int16_t>(p.input_zero_point));
  auto widen = [&](__m256i b, __mmask32 bytes) {
    return _mm512_maskz_sub_epi16(bytes, kSigned ? _mm512_cvtepi8_epi16(b) : _mm512_cvtepu8_epi16(b), zp);
  };
  __m512i r[kLanes];
  if (p.pairs <= kLanes / 2) {
    const __mmask16 bytes = static_cast<__mmask16>((1u << cin) - 1);
    // A pixel past the row is zero, not -x_zp.
    auto mask = [&](int64_t x) { return x < width ? bytes : __mmask16(0); };
    auto load = [&](int64_t x) { return _mm_maskz_loadu_epi8(mask(x), row + (x < width ? x : 0) * cin); };
    for (int64_t x0 = 0; x0 < p.planar_pixels; x0 += 2 * kLanes) {
      for (int i = 0; i < kLanes; ++i) {
        const int64_t a = x0 + i, b = a + kLanes;
        const __m256i two = _mm256_inserti128_si256(_mm256_castsi128_si256(load(a)), load(b), 1);
        r[i] = widen(two, mask(a) | static_cast<__mmask32>(mask(b)) << 16);
      }
      transpose16(r);
      for (int k = 0; k < p.pairs; ++k) {
        _mm512_storeu_si512(planar + k * p.planar_pixels + x0, r[k]);
        _mm512_storeu_si512(planar + k * p.planar_pixels + x0 + kLanes, r[kLanes / 2 + k]);
      }
    }
    return;
  }
  for (int64_t x0 = 0; x0 < p.planar_pixels; x0 += kLanes) {
    for (int group = 0; group * kLanes < p.pairs; ++group) {
      const int first = 2 * kLanes * group;
      const int count = std::min(2 * kLanes, cin - first);
      const __mmask32 bytes = count >= 32 ? __mmask32(0xffffffff) : (__mmask32(1) << count) - 1;
      for (int i = 0; i < kLanes; ++i) {
        const int64_t x = x0 + i;
        r[i] = x < width ? widen(_mm256_maskz_loadu_epi8(bytes, row + x * cin + first), bytes)
                         : _mm512_setzero_si512();
      }
      transpose16(r);
      const int pairs = std::min(kLanes, p.pairs - kLanes * group);
      for (int k = 0; k < pairs; ++k)
        _mm512_storeu_si512(planar + (kLanes * group + k) * p.planar_pixels + x0, r[k]);
    }
  }
}

// Adds input row `planar` times kernel row ky into the accumulator row `acc`
// (output pixel 0 at acc[0]); `sums` is scratch for the flat sums.
void add_kernel_row(const Plan& p, const int32_t* planar, int ky, int32_t* acc, int32_t* sums) {
  const int64_t flat = int64_t{p.g.in.w} * p.columns;
  const int32_t* weights = p.weights.data() + static_cast<size_t>(ky * p.phases * p.pairs * kLanes);
  const int64_t shift = int64_t{p.g.pad_w} * p.g.out.c;
  for (int64_t f = 0, phase = 0; f < flat; f += kLanes, phase = phase + 1 == p.phases ? 0 : phase + 1) {
    const __m512i lanes = _mm512_loadu_si512(p.pixel.data() + phase * kLanes);
    const int32_t* in = planar + f / p.columns;
    const int32_t* w = weights + phase * p.pairs * kLanes;
    __m512i s = _mm512_setzero_si512();
    for (int k = 0; k < p.pairs; ++k) {
      const __m512i x = _mm512_permutexvar_epi32(lanes, _mm512_loadu_si512(in + k * p.planar_pixels));
      s = _mm512_add_epi32(s, _mm512_madd_epi16(x, _mm512_loadu_si512(w + k * kLanes)));
    }
    if (p.adjacent) {
      // Lanes past the row's pixels read zeros; the margins take what falls outside the output.
      int32_t* a = acc + f - shift;
      _mm512_storeu_si512(a, _mm512_add_epi32(_mm512_loadu_si512(a), s));
    } else {
      _mm512_storeu_si512(sums + f, s);
    }
  }
  if (p.adjacent) return;
  const int64_t step = int64_t{p.g.stride_w} * p.g.out.c;
  for (int64_t ix = 0; ix < p.g.in.w; ++ix) {
    int32_t* a = acc + ix * step - shift;
    const int32_t* s = sums + ix * p.columns;
    for (int64_t j = 0; j < p.columns; j += kLanes) {
      const __mmask16 m = first_lanes(p.columns - j);
      const __m512i sum =
          _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, a + j), _mm512_maskz_loadu_epi32(m, s + j));
      _mm512_mask_storeu_epi32(a + j, m, sum);
    }
  }
}

// Output rows [first, last) (flattened n, oy) with one band's scratch; `held`
// names the input row (n * H + iy) each planar slot holds.
template <bool kSigned>
void output_rows(const Plan& p, const uint8_t* input, uint8_t* output, int32_t* scratch, int64_t* held,
                 int64_t first, int64_t last) {
  const geometry::TransposeConvGeometry& g = p.g;
  int32_t* const acc = scratch + p.slots * p.planar_ints + p.sums_ints + p.acc_left;
  int32_t* const sums = scratch + p.slots * p.planar_ints;
  const int64_t row_ints = int64_t{g.out.w} * g.out.c;
  std::fill(held, held + p.slots, -1);
  for (int64_t row = first; row < last; ++row) {
    const int b = static_cast<int>(row / g.out.h), oy = static_cast<int>(row % g.out.h);
    for (int64_t o = 0; o < row_ints; o += kLanes)
      _mm512_storeu_si512(acc + o, _mm512_loadu_si512(p.bias.data() + o % p.period));
    for (int ky = (oy + g.pad_h) % g.stride_h; ky < g.weights.h; ky += g.stride_h) {
      const int iy = (oy + g.pad_h - ky) / g.stride_h;  // exact: oy + pad_h - ky is a multiple
      if (iy < 0) break;                                // and falls as ky rises
      if (iy >= g.in.h) continue;
      const int64_t source = int64_t{b} * g.in.h + iy;
      const int64_t slot = source % p.slots;
      int32_t* planar = scratch + slot * p.planar_ints;
      if (held[slot] != source) {
        planarize<kSigned>(p, input + source * g.in.w * g.in.c, planar);
        held[slot] = source;
      }
      add_kernel_row(p, planar, ky, acc, sums);
    }
    uint8_t* out = output + row * row_ints;
    for (int64_t o = 0; o < row_ints; o += kLanes) {
      const __m512i v = requantize(_mm512_loadu_si512(acc + o), p.rq, static_cast<size_t>(o % p.period));
      _mm_mask_storeu_epi8(out + o, first_lanes(row_ints - o), _mm512_cvtepi32_epi8(v));
    }
  }
}

#include "backends/avx512/avx512_target_end.h"

struct Task {
  const Plan* p;
  bool avx2;  // the CPU runs Int8Level::kAvx2, not AVX-512
  const uint8_t* input;
  uint8_t* output;
  int32_t* scratch;
  int64_t* held;
};

void run_band(void* context, size_t band) {
  const Task& t = *static_cast<const Task*>(context);
  const Plan& p = *t.p;
  const int64_t first = static_cast<int64_t>(band) * p.rows_per_band;
  const int64_t last = std::min(first + p.rows_per_band, int64_t{p.g.out.n} * p.g.out.h);
  int32_t* scratch = t.scratch + static_cast<int64_t>(band) * p.band_ints;
  int64_t* held = t.held + static_cast<int64_t>(band) * p.slots;
  if (t.avx2) {
    int8_transpose_conv_rows_avx2(p, t.input, t.output, scratch, held, first, last);
  } else {
    int8_transpose_conv_rows_avx512(p, t.input, t.output, scratch, held, first, last);
  }
}

class Int8TransposeConvKernel final : public Kernel {
 public:
  Int8TransposeConvKernel(Plan p, bool avx2, std::shared_ptr<pthreadpool> pool)
      : p_(std::move(p)),
        avx2_(avx2),
        scratch_(static_cast<size_t>(p_.bands * p_.band_ints), 0),
        held_(static_cast<size_t>(p_.bands * p_.slots), -1),
        pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 transposed convolution", p_.g.in.shape(), p_.g.out.shape());
  }

  void eval(KernelContext& ctx) override {
    Task task{&p_, avx2_, ctx.input(0).data, ctx.output(0).data, scratch_.data(), held_.data()};
    pthreadpool_parallelize_1d(pool_.get(), run_band, &task, static_cast<size_t>(p_.bands), 0);
  }

 private:
  Plan p_;
  bool avx2_;
  std::vector<int32_t> scratch_;
  std::vector<int64_t> held_;
  std::shared_ptr<pthreadpool> pool_;
};

// The reference kernel's geometry (transpose_conv_operands), or false where it would refuse the op.
bool transpose_geometry(const Graph& graph, const Op& op, geometry::TransposeConvGeometry& g) {
  const Tensor& output_shape = in(graph, op, 0);
  const Tensor& weights = in(graph, op, 1);
  const Tensor& input = in(graph, op, 2);
  if (output_shape.type != DType::kInt32 || output_shape.shape != Shape{4} || !output_shape.is_constant ||
      output_shape.data == nullptr || weights.rank() != 4 || !dims_positive(weights.shape)) {
    return false;
  }
  const int32_t* s = output_shape.data_as<int32_t>();
  const Shape out_shape(s, s + 4);
  if (!dims_positive(out_shape) || out_shape != out(graph, op).shape) return false;
  const auto* opt = std::get_if<TransposeConvOptions>(&op.options);
  if (!opt) return false;
  const auto x = geometry::Dims4::of(input.shape), w = geometry::Dims4::of(weights.shape),
             y = geometry::Dims4::of(out_shape);
  if (y.n != x.n || y.c != w.n) return false;
  try {
    g = geometry::transpose_conv_geometry(x, w, y, opt->stride_h, opt->stride_w, opt->padding);
  } catch (const Error&) {
    return false;
  }
  return true;
}

// The per-channel array `values` laid along a period of lanes (lane % channels).
template <typename T>
std::vector<T> along_lanes(const std::vector<T>& values, int channels, int64_t period) {
  std::vector<T> lanes(static_cast<size_t>(period));
  for (int64_t l = 0; l < period; ++l)
    lanes[static_cast<size_t>(l)] = values[static_cast<size_t>(l % channels)];
  return lanes;
}

}  // namespace

void int8_transpose_conv_rows_avx512(const Plan& p, const uint8_t* input, uint8_t* output, int32_t* scratch,
                                     int64_t* held, int64_t first, int64_t last) {
  if (p.is_signed) {
    output_rows<true>(p, input, output, scratch, held, first, last);
  } else {
    output_rows<false>(p, input, output, scratch, held, first, last);
  }
}

std::unique_ptr<Kernel> make_int8_transpose_conv(const Graph& graph, const Op& op, Int8Level level,
                                                 std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone || op.index < 0 || op.code != static_cast<int32_t>(OpCode::kTransposeConv) ||
      *io_mismatch(op, 3, 4, 1)) {
    return nullptr;
  }
  const Tensor& input = in(graph, op, 2);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type) return nullptr;
  Plan p;
  if (!transpose_geometry(graph, op, p.g)) return nullptr;
  const geometry::TransposeConvGeometry& g = p.g;
  // The requantization as for a convolution whose inputs are (input, weights, bias).
  Op conv = op;
  conv.inputs = {op.inputs[2], op.inputs[1]};
  if (has(op, 3)) conv.inputs.push_back(op.inputs[3]);
  Int8Requant rq;
  const Activation activation = std::get<TransposeConvOptions>(op.options).activation;
  if (!int8_requant_params(graph, conv, g.out.c, 0, activation, rq)) return nullptr;

  const int cout = g.out.c, cin = g.in.c;
  p.is_signed = rq.is_signed;
  p.input_zero_point = rq.input_zero_point;
  p.pairs = (cin + 1) / 2;
  p.columns = int64_t{g.weights.w} * cout;
  p.period = std::lcm(p.columns, int64_t{kLanes});
  p.phases = p.period / kLanes;
  const int64_t weight_ints = int64_t{g.weights.h} * p.phases * p.pairs * kLanes;
  if (weight_ints * 4 > kMaxWeightBytes || int64_t{g.in.w} * p.columns > (int64_t{1} << 30)) return nullptr;
  p.rq = rq;
  p.rq.scale = along_lanes(rq.scale, cout, p.period);
  p.rq.multiplier = along_lanes(rq.multiplier, cout, p.period);
  p.rq.left_shift = along_lanes(rq.left_shift, cout, p.period);
  p.rq.right_shift = along_lanes(rq.right_shift, cout, p.period);
  p.bias = along_lanes(rq.bias, cout, p.period);

  p.pixel.resize(static_cast<size_t>(p.phases * kLanes));
  p.weights.assign(static_cast<size_t>(weight_ints), 0);
  const Tensor& weights = in(graph, op, 1);
  const uint8_t* w = weights.data_as<uint8_t>();
  auto weight = [&](int oc, int ky, int kx, int ic) -> int32_t {
    if (ic >= cin) return 0;
    const uint8_t byte = w[g.weights.offset(oc, ky, kx, ic)];
    return (rq.is_signed ? int32_t{static_cast<int8_t>(byte)} : int32_t{byte}) - rq.weight_zero_point;
  };
  for (int64_t phase = 0; phase < p.phases; ++phase) {
    for (int l = 0; l < kLanes; ++l) {
      const int64_t f = phase * kLanes + l;
      p.pixel[static_cast<size_t>(f)] = static_cast<int32_t>(f / p.columns - phase * kLanes / p.columns);
      const int j = static_cast<int>(f % p.columns), kx = j / cout, oc = j % cout;
      for (int ky = 0; ky < g.weights.h; ++ky) {
        for (int k = 0; k < p.pairs; ++k) {
          const uint32_t low = static_cast<uint16_t>(weight(oc, ky, kx, 2 * k));
          const uint32_t high = static_cast<uint16_t>(weight(oc, ky, kx, 2 * k + 1));
          p.weights[static_cast<size_t>(((ky * p.phases + phase) * p.pairs + k) * kLanes + l)] =
              static_cast<int32_t>(low | high << 16);
        }
      }
    }
  }

  p.planar_pixels = round_up(int64_t{g.in.w} + kLanes, 2 * kLanes);
  p.planar_ints = p.pairs * p.planar_pixels;
  p.slots = (g.weights.h + g.stride_h - 1) / g.stride_h;
  p.adjacent = g.stride_w == g.weights.w;
  const int64_t flat = round_up(int64_t{g.in.w} * p.columns, kLanes);
  p.sums_ints = p.adjacent ? 0 : flat;
  // The accumulator row reaches from the left padding to past the last window and the last vector.
  p.acc_left = round_up(int64_t{g.pad_w} * cout, kLanes);
  const int64_t right = std::max({round_up(int64_t{g.out.w} * cout, kLanes), flat - int64_t{g.pad_w} * cout,
                                  (int64_t{g.in.w - 1} * g.stride_w - g.pad_w) * cout + p.columns});
  p.acc_ints = p.acc_left + right + kLanes;
  p.band_ints = p.slots * p.planar_ints + p.sums_ints + p.acc_ints;
  const int64_t rows = int64_t{g.out.n} * g.out.h;
  const int64_t bands = std::min({rows, kMaxBands, kMaxScratchBytes / (4 * p.band_ints)});
  if (bands < 1) return nullptr;
  p.rows_per_band = (rows + bands - 1) / bands;
  p.bands = (rows + p.rows_per_band - 1) / p.rows_per_band;
  return std::make_unique<Int8TransposeConvKernel>(std::move(p), level == Int8Level::kAvx2, std::move(pool));
}

}  // namespace osprey
