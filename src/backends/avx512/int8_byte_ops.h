// What osprey-avx512's int8/uint8 kernels of one byte per element share:
// the per-tensor parameters the reference kernels accept (of binary ops and
// pools), a kernel that maps a byte tensor in tasks, and running the
// reference kernel of an op on probe bytes at partition time (to fill a
// table, or to check a faster form).
#pragma once

#include <pthreadpool.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backends/avx512/parallel_ranges.h"
#include "graph/graph.h"
#include "kernels/geometry.h"
#include "kernels/kernel.h"
#include "kernels/ref/quantized/common.h"

namespace osprey {

// Elements one task of a kernel handles: big enough to hide the task's cost.
inline constexpr int64_t kElementsPerTask = 16384;

struct ByteParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Per-tensor int8/uint8 parameters the reference kernels accept
// (ref::quantized::activation_params); false otherwise.
bool byte_params(const Tensor& t, ByteParams& p);

// A byte tensor computed at run time with known positive dims.
bool is_byte_activation(const Tensor& t);

// What the reference kernel of a binary op (ADD, MUL) reads of two run-time
// byte operands and a byte output, all of one type: their per-tensor
// parameters and the fused activation's range.
struct BinaryByteParams {
  ref::quantized::TensorParams a, b, out;
  ref::quantized::QuantizedRange range;
};

// Those of `op` (two inputs, one output), with the reference kernel's checks;
// nullopt where they fail or a tensor is not such a byte tensor.
std::optional<BinaryByteParams> binary_byte_params(const Graph& graph, const Op& op);

// What the reference kernel of an int8/uint8 pool (AVERAGE_POOL_2D or
// MAX_POOL_2D, `code`) reads of `op`, one run-time byte tensor in and one of
// its type and parameters out: the geometry and the fused activation's
// range. nullopt where its checks fail, `op` is another op, or a window lies
// wholly in the padding (no value to average; the max's start value).
struct BytePool {
  geometry::PoolGeometry g;
  bool is_signed = true;
  int32_t qmin = 0, qmax = 0;  // the fused activation's clamp
};
std::optional<BytePool> byte_pool(const Graph& graph, const Op& op, OpCode code);

// A kernel of one byte tensor in and one of the same shape out, whose
// elements map independently: range() maps [first, last), in tasks on `pool`.
class ByteMapKernel : public Kernel {
 public:
  ByteMapKernel(const char* name, Shape shape, std::shared_ptr<pthreadpool> pool)
      : name_(name), shape_(std::move(shape)), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override { check_built_shapes(ctx, name_, shape_, shape_); }

  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(0).data;
    uint8_t* out = ctx.output(0).data;
    parallel_ranges(pool_.get(), num_elements(shape_), split_rows(shape_), kElementsPerTask,
                    [&](int64_t first, int64_t last) { range(in, out, first, last); });
  }

 protected:
  virtual void range(const uint8_t* in, uint8_t* out, int64_t first, int64_t last) const = 0;

 private:
  const char* name_;
  Shape shape_;
  std::shared_ptr<pthreadpool> pool_;
};

// Runs the reference kernel of `op` on `inputs` (probe tensors with their
// bytes) into `output` (a probe tensor of the expected shape, with storage);
// false when the kernel refuses the op (it then reports why when it runs it)
// or infers another shape.
bool run_reference(const Op& op, std::vector<Tensor> inputs, Tensor output);

// A probe tensor with `t`'s type and parameters, of `shape`, over `bytes`.
Tensor probe_tensor(const Tensor& t, Shape shape, uint8_t* bytes, bool constant = false);

}  // namespace osprey
