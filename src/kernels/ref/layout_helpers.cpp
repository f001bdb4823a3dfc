// Shape, type and constant-input checks of the layout kernels (see layout_helpers.h).
#include "kernels/ref/layout_helpers.h"
#include "core/limits.h"

namespace osprey::ref::layout {

void expect_io(const KernelContext& ctx, int min_inputs, int max_inputs, int outputs) {
  if (min_inputs == max_inputs) {
    OSPREY_CHECK(ctx.num_inputs() == min_inputs, "expected {} inputs, got {}", min_inputs, ctx.num_inputs());
  } else {
    OSPREY_CHECK(ctx.num_inputs() >= min_inputs && ctx.num_inputs() <= max_inputs,
                 "expected {} to {} inputs, got {}", min_inputs, max_inputs, ctx.num_inputs());
  }
  OSPREY_CHECK(ctx.num_outputs() == outputs, "expected {} outputs, got {}", outputs, ctx.num_outputs());
}

Shape make_shape(const std::vector<int64_t>& dims) {
  Shape shape;
  for (int64_t d : dims) {
    OSPREY_CHECK(d >= 0 && d <= std::numeric_limits<int32_t>::max(), "output dimension {} is out of range",
                 d);
    shape.push_back(static_cast<int32_t>(d));
  }
  limits::checked_elements(shape, "output");
  return shape;
}

size_t element_size(const Tensor& t) {
  const size_t size = dtype_size(t.type);
  OSPREY_CHECK(size > 0, "{} tensors are not supported", dtype_name(t.type));
  return size;
}

void check_same_type(const Tensor& out, const Tensor& in) {
  OSPREY_CHECK(out.type == in.type, "output type {} differs from input type {}", dtype_name(out.type),
               dtype_name(in.type));
}

size_t check_copy_io(const KernelContext& ctx, int min_inputs, int max_inputs) {
  expect_io(ctx, min_inputs, max_inputs, 1);
  const Tensor& in = ctx.input(0);
  check_same_type(ctx.output(0), in);
  limits::checked_elements(in.shape, "input");
  return element_size(in);
}

std::vector<int64_t> constant_ints(const KernelContext& ctx, int i, std::string_view what, bool allow_int64) {
  const Tensor& t = ctx.input(i);
  OSPREY_CHECK(t.is_constant, "dynamic shapes are not supported: input {} is not constant", i);
  OSPREY_CHECK(t.type == DType::kInt32 || (allow_int64 && t.type == DType::kInt64), "{} must be {}, not {}",
               what, allow_int64 ? "int32 or int64" : "int32", dtype_name(t.type));
  const int64_t n = limits::checked_elements(t.shape, what);
  OSPREY_CHECK(n == 0 || t.data != nullptr, "{} has no data", what);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = t.type == DType::kInt32 ? t.data_as<int32_t>()[k] : t.data_as<int64_t>()[k];
  }
  return values;
}

int resolve_axis(int64_t axis, int rank, std::string_view what) {
  OSPREY_CHECK(axis >= -rank && axis < rank, "{} {} is out of range for rank {}", what, axis, rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

int64_t product(const Shape& shape, int begin, int end) {
  int64_t n = 1;
  for (int d = begin; d < end; ++d) n *= shape[static_cast<size_t>(d)];
  return n;
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) {
    strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1] * shape[static_cast<size_t>(d) + 1];
  }
  return strides;
}

int64_t zero_point_of(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}
float scale_of(const Tensor& t) {
  return t.quant.scale.empty() ? 0.0f : t.quant.scale[0];
}

}  // namespace osprey::ref::layout
