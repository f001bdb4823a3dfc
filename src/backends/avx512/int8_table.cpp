// osprey's int8/uint8 one-input ops of one byte in and one byte out
// (int8_kernels.h) as a 256-entry table that the reference kernel itself
// fills at partition time.
#include <array>
#include <vector>

#include "backends/avx512/int8_byte_ops.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"

namespace osprey {

namespace {

using namespace backend_checks;

// The ops whose output byte depends on the input byte alone (per-tensor
// parameters), so that a 256-entry table is the op.
bool is_byte_function(const Graph& graph, const Op& op) {
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kLogistic:
    case OpCode::kTanh:
    case OpCode::kHardSwish:
    case OpCode::kLeakyRelu:
    case OpCode::kQuantize: return true;
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1: {
      // XNNPACK takes these when they only clamp; leave them to it there.
      ByteParams pi, po;
      return !byte_params(in(graph, op, 0), pi) || !byte_params(out(graph, op), po) || pi.scale != po.scale ||
             pi.zero_point != po.zero_point;
    }
    default: return false;
  }
}

// Fills `table` (indexed by the raw input byte) with what the reference
// kernel of the one-input `op` makes of each of the 256 input bytes.
bool table_from_reference(const Graph& graph, const Op& op, std::array<uint8_t, 256>& table) {
  std::array<uint8_t, 256> input{};
  for (size_t b = 0; b < input.size(); ++b) input[b] = static_cast<uint8_t>(b);
  return run_reference(op, {probe_tensor(in(graph, op, 0), {256}, input.data())},
                       probe_tensor(out(graph, op), {256}, table.data()));
}

#define OSPREY_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi"
#include "backends/avx512/avx512_target_begin.h"

void lookup_range_vbmi(const std::array<uint8_t, 256>& table, const uint8_t* in, uint8_t* out, int64_t first,
                       int64_t last) {
  const __m512i t0 = _mm512_loadu_si512(table.data());
  const __m512i t1 = _mm512_loadu_si512(table.data() + 64);
  const __m512i t2 = _mm512_loadu_si512(table.data() + 128);
  const __m512i t3 = _mm512_loadu_si512(table.data() + 192);
  for (int64_t i = first; i < last; i += 64) {
    const int64_t n = std::min<int64_t>(64, last - i);
    const __mmask64 lanes = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(lanes, in + i);
    // Bits 0-6 pick a byte of a 128-byte half, bit 7 the half.
    const __m512i low = _mm512_permutex2var_epi8(t0, x, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, x, t3);
    _mm512_mask_storeu_epi8(out + i, lanes, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high));
  }
}

#include "backends/avx512/avx512_target_end.h"

class Int8TableKernel final : public ByteMapKernel {
 public:
  Int8TableKernel(const std::array<uint8_t, 256>& table, Shape shape, bool vbmi,
                  std::shared_ptr<pthreadpool> pool)
      : ByteMapKernel("int8 table", std::move(shape), std::move(pool)), table_(table), vbmi_(vbmi) {}

 protected:
  void range(const uint8_t* in, uint8_t* out, int64_t first, int64_t last) const override {
    if (vbmi_) {
      lookup_range_vbmi(table_, in, out, first, last);
    } else {
      for (int64_t i = first; i < last; ++i) out[i] = table_[in[i]];
    }
  }

 private:
  std::array<uint8_t, 256> table_;
  bool vbmi_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_table(const Graph& graph, const Op& op, Int8Level level,
                                        std::shared_ptr<pthreadpool> pool) {
  if (level == Int8Level::kNone || op.index < 0 || *io_mismatch(op, 1, 1, 1) || !is_byte_function(graph, op))
    return nullptr;
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  ByteParams pi, po;
  if (!is_byte_activation(input) || !is_byte_activation(output) || output.shape != input.shape ||
      !byte_params(input, pi) || !byte_params(output, po)) {
    return nullptr;
  }
  std::array<uint8_t, 256> table{};
  if (!table_from_reference(graph, op, table)) return nullptr;
  // vpermi2b (AVX-512 VBMI) at the vnni-vbmi level; the others look bytes
  // up one at a time.
  const bool vbmi = level == Int8Level::kVnniVbmi;
  return std::make_unique<Int8TableKernel>(table, input.shape, vbmi, std::move(pool));
}

}  // namespace osprey
