// Helpers shared by the layout (data movement) kernels: layout.cpp, pad.cpp,
// transpose.cpp, gather.cpp, and slice.cpp's walk over its input. They check
// shapes and constant inputs and copy bytes, so they serve every element type
// with a fixed size.
#pragma once

#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"

namespace osprey::ref::layout {

// Ranks the odometer loops (transpose, pad, strided slice) handle; TFLite stops at 6 and 5.
constexpr int kMaxRank = 8;

// The op's options, or their defaults when the model gave none.
template <typename T>
T options_or_default(const KernelContext& ctx) {
  if (std::holds_alternative<std::monostate>(ctx.op().options)) return T{};
  return ctx.options<T>();
}

void expect_io(const KernelContext& ctx, int min_inputs, int max_inputs, int outputs);

// An output shape from 64-bit dimensions, each of which must fit the int32 Shape.
Shape make_shape(const std::vector<int64_t>& dims);

size_t element_size(const Tensor& t);

void check_same_type(const Tensor& out, const Tensor& in);

// What a kernel that copies input 0's elements to its one output checks
// first: the input and output counts, the output's type, the input's shape.
// Returns the element size in bytes.
size_t check_copy_io(const KernelContext& ctx, int min_inputs, int max_inputs);

// The values of constant integer input `i` (int32, or int64 when allowed).
std::vector<int64_t> constant_ints(const KernelContext& ctx, int i, std::string_view what, bool allow_int64);

// An axis in [-rank, rank) made non-negative.
int resolve_axis(int64_t axis, int rank, std::string_view what);

int64_t product(const Shape& shape, int begin, int end);

// Element strides of a row-major shape.
std::vector<int64_t> strides_of(const Shape& shape);

// Visits a `counts`-shaped grid (rank <= kMaxRank) in row-major order and calls
// f(a, b) with the element offsets it maps to in two tensors: a = sum index[d] *
// step_a[d], b = base_b + sum index[d] * step_b[d]. Needs no allocation.
template <typename F>
void for_each_offset(const std::vector<int64_t>& counts, const std::vector<int64_t>& step_a,
                     const std::vector<int64_t>& step_b, int64_t base_b, F&& f) {
  const int rank = static_cast<int>(counts.size());
  int64_t total = 1;
  for (int64_t c : counts) total *= c;
  std::array<int64_t, kMaxRank> index{};
  int64_t a = 0, b = base_b;
  for (int64_t n = 0; n < total; ++n) {
    f(a, b);
    for (int d = rank - 1; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      a += step_a[u];
      b += step_b[u];
      if (++index[u] < counts[u]) break;
      a -= step_a[u] * counts[u];
      b -= step_b[u] * counts[u];
      index[u] = 0;
    }
  }
}

// Copies the elements of a `counts`-shaped grid (rank <= kMaxRank) between two
// strided layouts: grid index i moves element in_base + sum i[d] * in_steps[d]
// of the input to out_base + sum i[d] * out_steps[d] of the output. PAD,
// TRANSPOSE and STRIDED_SLICE differ only in these numbers.
struct StridedCopy {
  size_t elem = 0;  // bytes per element
  std::vector<int64_t> counts, in_steps, out_steps;
  int64_t in_base = 0, out_base = 0;

  void run(const uint8_t* in, uint8_t* out) const {
    for_each_offset(counts, in_steps, out_steps, out_base, [&](int64_t a, int64_t b) {
      std::memcpy(out + static_cast<size_t>(b) * elem, in + static_cast<size_t>(in_base + a) * elem, elem);
    });
  }
};

// The output may alias the input when the planner lets a reshape share it.
inline void copy_bytes(uint8_t* out, const uint8_t* in, size_t bytes) {
  if (out != in && bytes > 0) std::memcpy(out, in, bytes);
}

// Zero point and scale of a per-tensor quantized tensor (0 without quantization).
int64_t zero_point_of(const Tensor& t);
float scale_of(const Tensor& t);

}  // namespace osprey::ref::layout
