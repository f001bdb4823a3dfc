// GATHER (declared in layout_kernels.h).
#include <cstring>
#include <limits>
#include <vector>

#include "core/limits.h"
#include "kernels/ref/layout_helpers.h"
#include "kernels/ref/layout_kernels.h"

namespace osprey::ref::layout {

void GatherKernel::prepare(KernelContext& ctx) {
  expect_io(ctx, 2, 2, 1);
  const Tensor& in = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  Tensor& out = ctx.output(0);
  check_same_type(out, in);
  limits::checked_elements(in.shape, "input");
  const int64_t index_count = limits::checked_elements(indices.shape, "indices");
  elem_ = element_size(in);
  index_type_ = indices.type;
  OSPREY_CHECK(index_type_ == DType::kInt32 || index_type_ == DType::kInt64 || index_type_ == DType::kInt16,
               "indices must be int16, int32 or int64, not {}", dtype_name(index_type_));
  const auto options = options_or_default<GatherOptions>(ctx);
  OSPREY_CHECK(in.rank() >= 1, "input must have at least one dimension");
  const int axis = resolve_axis(options.axis, in.rank(), "axis");
  int batch_dims = options.batch_dims;
  if (batch_dims < 0) batch_dims += indices.rank();
  OSPREY_CHECK(batch_dims >= 0 && batch_dims <= indices.rank(),
               "batch_dims {} is out of range for indices of rank {}", options.batch_dims, indices.rank());
  OSPREY_CHECK(batch_dims <= axis, "batch_dims {} is greater than axis {}", batch_dims, axis);
  for (int d = 0; d < batch_dims; ++d) {
    OSPREY_CHECK(in.dim(d) == indices.dim(d), "input {} and indices {} differ in batch dimension {}",
                 shape_str(in.shape), shape_str(indices.shape), d);
  }

  // output = input[:axis] + indices[batch_dims:] + input[axis+1:]
  std::vector<int64_t> dims(in.shape.begin(), in.shape.begin() + axis);
  dims.insert(dims.end(), indices.shape.begin() + batch_dims, indices.shape.end());
  dims.insert(dims.end(), in.shape.begin() + axis + 1, in.shape.end());
  out.shape = make_shape(dims);

  batches_ = product(in.shape, 0, batch_dims);
  outer_ = product(in.shape, batch_dims, axis);
  axis_size_ = in.dim(axis);
  inner_ = product(in.shape, axis + 1, in.rank());
  coords_ = product(indices.shape, batch_dims, indices.rank());

  // Constant indices are checked here; others are checked as eval reads them.
  if (indices.is_constant) {
    OSPREY_CHECK(index_count == 0 || indices.data != nullptr, "indices have no data");
    for (int64_t k = 0; k < index_count; ++k) {
      const int64_t index = read_index(indices.data, k);
      OSPREY_CHECK(index >= 0 && index < axis_size_, "index {} is out of range for dimension {} of size {}",
                   index, axis, axis_size_);
    }
  }
}

// An index that is out of range (possible only for computed indices) yields
// zeros rather than an error: eval cannot fail.
void GatherKernel::eval(KernelContext& ctx) {
  const uint8_t* in = ctx.input(0).data;
  const uint8_t* indices = ctx.input(1).data;
  uint8_t* out = ctx.output(0).data;
  const size_t run = static_cast<size_t>(inner_) * elem_;
  for (int64_t b = 0; b < batches_; ++b) {
    for (int64_t o = 0; o < outer_; ++o) {
      for (int64_t c = 0; c < coords_; ++c) {
        const int64_t index = read_index(indices, b * coords_ + c);
        uint8_t* dst = out + static_cast<size_t>(((b * outer_ + o) * coords_ + c) * inner_) * elem_;
        if (run == 0) continue;
        if (index < 0 || index >= axis_size_) {
          std::memset(dst, 0, run);
        } else {
          std::memcpy(dst, in + static_cast<size_t>(((b * outer_ + o) * axis_size_ + index) * inner_) * elem_,
                      run);
        }
      }
    }
  }
}

int64_t GatherKernel::read_index(const uint8_t* data, int64_t k) const {
  switch (index_type_) {
    case DType::kInt16: return reinterpret_cast<const int16_t*>(data)[k];
    case DType::kInt32: return reinterpret_cast<const int32_t*>(data)[k];
    default: return reinterpret_cast<const int64_t*>(data)[k];
  }
}

}  // namespace osprey::ref::layout
