// The reference layout (data movement) kernels, following TFLite's reference
// ops. Their prepare/eval live by family: layout.cpp (RESHAPE, SQUEEZE,
// EXPAND_DIMS, CONCATENATION, SPLIT), pad.cpp (PAD, PADV2), transpose.cpp
// (TRANSPOSE, DEPTH_TO_SPACE) and gather.cpp (GATHER); layout.cpp registers
// them all. STRIDED_SLICE, the resizes and the reductions are in slice.cpp,
// resize.cpp and reduce.cpp.
//
// These kernels only move elements, so they copy bytes and serve every element
// type with a fixed size. Inputs that give a shape (new shape, axes, paddings,
// perm) must be constant: prepare fixes the output shape once.
#pragma once

#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"
#include "kernels/ref/activation.h"
#include "kernels/ref/layout_helpers.h"

namespace osprey::ref::layout {

// The output shape of RESHAPE, SQUEEZE or EXPAND_DIMS for an input of `count`
// elements (defined in layout.cpp).
Shape reshape_output_shape(const KernelContext& ctx, int64_t count);
Shape squeeze_output_shape(const KernelContext& ctx, int64_t count);
Shape expand_dims_output_shape(const KernelContext& ctx, int64_t count);

// An op whose output is its input's bytes under another shape; `kOutputShape`
// is all that tells RESHAPE, SQUEEZE and EXPAND_DIMS apart.
template <int kMinInputs, int kMaxInputs, Shape (*kOutputShape)(const KernelContext&, int64_t)>
class ReshapedCopyKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, kMinInputs, kMaxInputs, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    const int64_t count = limits::checked_elements(in.shape, "input");
    out.shape = kOutputShape(ctx, count);
    bytes_ = static_cast<size_t>(count) * element_size(in);
  }

  void eval(KernelContext& ctx) override { copy_bytes(ctx.output(0).data, ctx.input(0).data, bytes_); }

 private:
  size_t bytes_ = 0;
};

using ReshapeKernel = ReshapedCopyKernel<1, 2, reshape_output_shape>;
using SqueezeKernel = ReshapedCopyKernel<1, 1, squeeze_output_shape>;
using ExpandDimsKernel = ReshapedCopyKernel<2, 2, expand_dims_output_shape>;

class ConcatenationKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  // uint8 inputs of another scale or zero point are requantized, as in TFLite's
  // ConcatenationWithScaling.
  struct Rescale {
    bool needed = false;
    float scale = 0.0f;
    float bias = 0.0f;
  };

  void prepare_activation(Activation activation, DType type);
  void prepare_quantization(const KernelContext& ctx, const Tensor& out);
  void requantize(const Rescale& r, const uint8_t* in, uint8_t* out, int64_t count) const;

  size_t elem_ = 0;
  int64_t outer_ = 0;
  std::vector<int64_t> chunks_;  // elements each input adds per outer index
  bool has_activation_ = false;
  FloatRange range_;
  std::vector<Rescale> rescale_;
  int32_t out_zero_point_ = 0;
};

class SplitKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  size_t elem_ = 0;
  int64_t outer_ = 0;
  int64_t chunk_ = 0;  // elements of one output per outer index
};

// PAD and PADV2.
class PadKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  void prepare_pad_value(const KernelContext& ctx, const Tensor& in, const Tensor& out);
  template <typename T>
  void store_zero_point(int64_t zp);

  size_t elem_ = 0;
  StridedCopy copy_;  // the input into the padded output
  std::vector<uint8_t> pad_value_;
  bool has_value_input_ = false;
};

class TransposeKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  StridedCopy copy_;
};

class DepthToSpaceKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  size_t elem_ = 0;
  int block_ = 1;
  Shape in_shape_, out_shape_;
};

class GatherKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override;
  void eval(KernelContext& ctx) override;

 private:
  int64_t read_index(const uint8_t* data, int64_t k) const;

  size_t elem_ = 0;
  DType index_type_ = DType::kInt32;
  int64_t batches_ = 0, outer_ = 0, axis_size_ = 0, inner_ = 0, coords_ = 0;
};

}  // namespace osprey::ref::layout
