// PAD and PADV2 (declared in layout_kernels.h).
#include <cstring>
#include <limits>
#include <vector>

#include "core/limits.h"
#include "kernels/ref/layout_helpers.h"
#include "kernels/ref/layout_kernels.h"

namespace osprey::ref::layout {

void PadKernel::prepare(KernelContext& ctx) {
  elem_ = check_copy_io(ctx, 2, 3);
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int rank = in.rank();
  OSPREY_CHECK(rank <= kMaxRank, "rank {} is above the supported {}", rank, kMaxRank);

  const Tensor& paddings_tensor = ctx.input(1);
  const std::vector<int64_t> paddings = constant_ints(ctx, 1, "paddings", true);
  OSPREY_CHECK(paddings_tensor.rank() == 2 && paddings_tensor.dim(0) == rank && paddings_tensor.dim(1) == 2,
               "paddings has shape {}, expected [{}, 2]", shape_str(paddings_tensor.shape), rank);
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  const Shape& in_shape = in.shape;
  for (int d = 0; d < rank; ++d) {
    const int64_t before = paddings[static_cast<size_t>(2 * d)];
    const int64_t after = paddings[static_cast<size_t>(2 * d + 1)];
    OSPREY_CHECK(before >= 0 && after >= 0, "padding ({}, {}) of dimension {} is negative", before, after, d);
    OSPREY_CHECK(
        before <= std::numeric_limits<int32_t>::max() && after <= std::numeric_limits<int32_t>::max(),
        "padding ({}, {}) of dimension {} is too large", before, after, d);
    dims[static_cast<size_t>(d)] = in_shape[static_cast<size_t>(d)] + before + after;
  }
  out.shape = make_shape(dims);
  // Input element i lands at output index i + before, per dimension.
  copy_.elem = elem_;
  copy_.counts.assign(in_shape.begin(), in_shape.end());
  copy_.in_steps = strides_of(in_shape);
  copy_.out_steps = strides_of(out.shape);
  copy_.out_base = 0;
  for (int d = 0; d < rank; ++d) {
    copy_.out_base += paddings[static_cast<size_t>(2 * d)] * copy_.out_steps[static_cast<size_t>(d)];
  }
  prepare_pad_value(ctx, in, out);
}

void PadKernel::eval(KernelContext& ctx) {
  const Tensor& in_tensor = ctx.input(0);
  Tensor& out_tensor = ctx.output(0);
  const uint8_t* pad = pad_value_.data();
  if (has_value_input_) pad = ctx.input(2).data;
  uint8_t* out = out_tensor.data;
  const int64_t out_count = out_tensor.num_elements();
  for (int64_t j = 0; j < out_count; ++j) std::memcpy(out + static_cast<size_t>(j) * elem_, pad, elem_);
  copy_.run(in_tensor.data, out);
}

// PAD fills with zero, or with the output's zero point for quantized integer
// types; PADV2 with its input 2, which must then share the output's
// quantization (TFLite's rules).
void PadKernel::prepare_pad_value(const KernelContext& ctx, const Tensor& in, const Tensor& out) {
  pad_value_.assign(elem_, 0);
  has_value_input_ = ctx.has_input(2);
  const bool quantized = in.type == DType::kUInt8 || in.type == DType::kInt8 || in.type == DType::kInt16;
  if (has_value_input_) {
    const Tensor& value = ctx.input(2);
    OSPREY_CHECK(value.type == in.type, "pad value is {}, input is {}", dtype_name(value.type),
                 dtype_name(in.type));
    OSPREY_CHECK(limits::checked_elements(value.shape, "pad value") == 1,
                 "pad value has shape {}, expected one element", shape_str(value.shape));
    OSPREY_CHECK(!value.is_constant || value.data != nullptr, "pad value has no data");
    if (quantized) {
      OSPREY_CHECK(zero_point_of(value) == zero_point_of(out) && scale_of(value) == scale_of(out),
                   "pad value is quantized differently from the output");
    }
    return;
  }
  if (!quantized) return;
  const int64_t zp = zero_point_of(out);
  switch (in.type) {
    case DType::kUInt8: store_zero_point<uint8_t>(zp); break;
    case DType::kInt8: store_zero_point<int8_t>(zp); break;
    default: store_zero_point<int16_t>(zp); break;
  }
}

template <typename T>
void PadKernel::store_zero_point(int64_t zp) {
  OSPREY_CHECK(zp >= std::numeric_limits<T>::min() && zp <= std::numeric_limits<T>::max(),
               "output zero point {} is out of range", zp);
  const T value = static_cast<T>(zp);
  std::memcpy(pad_value_.data(), &value, sizeof(T));
}

}  // namespace osprey::ref::layout
