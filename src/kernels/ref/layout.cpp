// Reference RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION and SPLIT, and the
// registration of every layout kernel (see layout_kernels.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"
#include "kernels/ref/activation.h"
#include "kernels/ref/layout_helpers.h"
#include "kernels/ref/layout_kernels.h"

namespace osprey::ref {

namespace layout {

// ---------------------------------------------------------------- RESHAPE, SQUEEZE, EXPAND_DIMS

namespace {

// Like TFLite: input 1 gives the shape when it is an int32 vector, otherwise
// the options do (where a legacy shape of [0] means a scalar).
std::vector<int64_t> requested_shape(const KernelContext& ctx) {
  if (ctx.has_input(1)) {
    const Tensor& shape = ctx.input(1);
    if (shape.rank() == 1 && shape.type == DType::kInt32) return constant_ints(ctx, 1, "shape", false);
  }
  const auto options = options_or_default<ReshapeOptions>(ctx);
  if (options.new_shape.size() == 1 && options.new_shape[0] == 0) return {};
  return {options.new_shape.begin(), options.new_shape.end()};
}

}  // namespace

Shape reshape_output_shape(const KernelContext& ctx, int64_t count) {
  const Tensor& in = ctx.input(0);
  int64_t nonzero_in = 1;
  for (int32_t d : in.shape) {
    OSPREY_CHECK(d == 0 || nonzero_in <= limits::kMaxTensorElements / d, "input shape {} is too large",
                 shape_str(in.shape));
    if (d != 0) nonzero_in *= d;
  }

  // TFLite's ResolveOutputShape: one -1 takes what the others leave; zero
  // dimensions are allowed, and then the -1 is computed from non-zero ones.
  std::vector<int64_t> dims = requested_shape(ctx);
  int stretch = -1;
  int64_t nonzero_out = 1, out_count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = dims[i];
    if (d == -1) {
      OSPREY_CHECK(stretch == -1, "new shape has more than one -1");
      stretch = static_cast<int>(i);
      continue;
    }
    OSPREY_CHECK(d >= 0 && d <= std::numeric_limits<int32_t>::max(), "new shape has dimension {}", d);
    OSPREY_CHECK(d == 0 || nonzero_out <= limits::kMaxTensorElements / d, "new shape is too large");
    if (d != 0) nonzero_out *= d;
    out_count *= d;
  }
  if (stretch >= 0) {
    const int64_t d = (count == 0 && out_count != 0) ? 0 : nonzero_in / nonzero_out;
    dims[static_cast<size_t>(stretch)] = d;
    out_count *= d;
  }
  Shape shape = make_shape(dims);
  OSPREY_CHECK(out_count == count, "new shape {} has {} elements, input {} has {}", shape_str(shape),
               out_count, shape_str(in.shape), count);
  return shape;
}

Shape squeeze_output_shape(const KernelContext& ctx, int64_t /*count*/) {
  const Tensor& in = ctx.input(0);
  const SqueezeOptions options = options_or_default<SqueezeOptions>(ctx);
  const std::vector<int32_t>& dims = options.squeeze_dims;
  std::vector<bool> squeeze(in.shape.size(), false);
  if (dims.empty()) {
    for (int d = 0; d < in.rank(); ++d) squeeze[static_cast<size_t>(d)] = in.dim(d) == 1;
  } else {
    for (int32_t d : dims) {
      const int axis = resolve_axis(d, in.rank(), "squeeze dimension");
      OSPREY_CHECK(in.dim(axis) == 1, "cannot squeeze dimension {} of size {}", axis, in.dim(axis));
      squeeze[static_cast<size_t>(axis)] = true;
    }
  }
  Shape shape;
  for (int d = 0; d < in.rank(); ++d) {
    if (!squeeze[static_cast<size_t>(d)]) shape.push_back(in.dim(d));
  }
  return shape;
}

Shape expand_dims_output_shape(const KernelContext& ctx, int64_t /*count*/) {
  const Tensor& in = ctx.input(0);
  const std::vector<int64_t> axis = constant_ints(ctx, 1, "axis", true);
  OSPREY_CHECK(axis.size() == 1, "axis has {} values, expected 1", axis.size());
  // A new axis may go anywhere in [0, rank], so negative ones count from rank + 1.
  const int at = resolve_axis(axis[0], in.rank() + 1, "axis");
  Shape shape = in.shape;
  shape.insert(shape.begin() + at, 1);
  return shape;
}

// ---------------------------------------------------------------- CONCATENATION

void ConcatenationKernel::prepare(KernelContext& ctx) {
  OSPREY_CHECK(ctx.num_inputs() >= 1, "expected at least 1 input");
  OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
  const auto options = options_or_default<ConcatenationOptions>(ctx);
  const Tensor& first = ctx.input(0);
  Tensor& out = ctx.output(0);
  check_same_type(out, first);
  elem_ = element_size(first);
  const int rank = first.rank();
  // Scalars concatenate into a vector along axis 0.
  const int axis = rank == 0 && options.axis == 0 ? 0 : resolve_axis(options.axis, rank, "axis");

  std::vector<int64_t> dims(first.shape.begin(), first.shape.end());
  if (rank == 0) dims = {0};
  dims[static_cast<size_t>(axis)] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    OSPREY_CHECK(t.type == first.type, "input {} is {}, input 0 is {}", i, dtype_name(t.type),
                 dtype_name(first.type));
    OSPREY_CHECK(t.rank() == rank, "input {} has rank {}, input 0 has rank {}", i, t.rank(), rank);
    limits::checked_elements(t.shape, "input");
    for (int d = 0; d < rank; ++d) {
      OSPREY_CHECK(d == axis || t.dim(d) == first.dim(d), "input {} has shape {}, input 0 has shape {}", i,
                   shape_str(t.shape), shape_str(first.shape));
    }
    dims[static_cast<size_t>(axis)] += rank == 0 ? 1 : t.dim(axis);
  }
  out.shape = make_shape(dims);
  outer_ = product(out.shape, 0, axis);
  const int64_t inner = product(out.shape, axis + 1, static_cast<int>(out.shape.size()));
  chunks_.clear();
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    chunks_.push_back((rank == 0 ? 1 : t.dim(axis)) * inner);
  }

  prepare_activation(options.activation, first.type);
  prepare_quantization(ctx, out);
}

void ConcatenationKernel::eval(KernelContext& ctx) {
  const int n = ctx.num_inputs();
  uint8_t* out = ctx.output(0).data;
  for (int64_t k = 0; k < outer_; ++k) {
    for (int i = 0; i < n; ++i) {
      const size_t u = static_cast<size_t>(i);
      const int64_t chunk = chunks_[u];
      const uint8_t* in = ctx.input(i).data + static_cast<size_t>(k * chunk) * elem_;
      if (rescale_.empty() || !rescale_[u].needed) {
        if (chunk > 0) std::memcpy(out, in, static_cast<size_t>(chunk) * elem_);
      } else {
        requantize(rescale_[u], in, out, chunk);
      }
      out += static_cast<size_t>(chunk) * elem_;
    }
  }
  if (has_activation_) {
    float* values = ctx.output(0).data_as<float>();
    const int64_t count = ctx.output(0).num_elements();
    for (int64_t j = 0; j < count; ++j) values[j] = range_.clamp(values[j]);
  }
}

// TFLite rejects fused activations here; osprey applies them to float data.
void ConcatenationKernel::prepare_activation(Activation activation, DType type) {
  has_activation_ = activation != Activation::kNone;
  if (!has_activation_) return;
  OSPREY_CHECK(type == DType::kFloat32, "fused activation on {} data is not supported", dtype_name(type));
  range_ = activation_range(activation);
}

void ConcatenationKernel::prepare_quantization(const KernelContext& ctx, const Tensor& out) {
  rescale_.clear();
  if (out.type == DType::kInt8) {
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = ctx.input(i);
      OSPREY_CHECK(scale_of(t) == scale_of(out) && zero_point_of(t) == zero_point_of(out),
                   "int8 input {} is quantized differently from the output", i);
    }
  } else if (out.type == DType::kInt16) {
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      OSPREY_CHECK(zero_point_of(ctx.input(i)) == 0, "int16 input {} has a non-zero zero point", i);
    }
    OSPREY_CHECK(zero_point_of(out) == 0, "int16 output has a non-zero zero point");
  } else if (out.type == DType::kUInt8) {
    const int64_t out_zero_point = zero_point_of(out);
    OSPREY_CHECK(out_zero_point >= 0 && out_zero_point <= 255, "uint8 output zero point {} is out of range",
                 out_zero_point);
    out_zero_point_ = static_cast<int32_t>(out_zero_point);
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = ctx.input(i);
      Rescale r;
      r.needed = zero_point_of(t) != zero_point_of(out) || scale_of(t) != scale_of(out);
      if (r.needed) {
        OSPREY_CHECK(scale_of(out) > 0.0f, "uint8 output needs a positive scale to requantize input {}", i);
        OSPREY_CHECK(zero_point_of(t) >= 0 && zero_point_of(t) <= 255,
                     "uint8 input {} zero point {} is out of range", i, zero_point_of(t));
        const float inverse_out_scale = 1.0f / scale_of(out);
        r.scale = scale_of(t) * inverse_out_scale;
        r.bias = static_cast<float>(-static_cast<int32_t>(zero_point_of(t))) * r.scale;
      }
      rescale_.push_back(r);
    }
  }
}

void ConcatenationKernel::requantize(const Rescale& r, const uint8_t* in, uint8_t* out, int64_t count) const {
  for (int64_t j = 0; j < count; ++j) {
    float rounded = std::round(in[j] * r.scale + r.bias);
    // Keeps the conversion defined for absurd scales (and NaN); the clamp
    // to [0, 255] below makes this invisible otherwise.
    if (!(rounded > -1e9f)) rounded = -1e9f;
    if (rounded > 1e9f) rounded = 1e9f;
    const int32_t value = static_cast<int32_t>(rounded) + out_zero_point_;
    out[j] = static_cast<uint8_t>(std::clamp<int32_t>(value, 0, 255));
  }
}

// ---------------------------------------------------------------- SPLIT

void SplitKernel::prepare(KernelContext& ctx) {
  OSPREY_CHECK(ctx.num_inputs() == 2, "expected 2 inputs, got {}", ctx.num_inputs());
  const int splits = options_or_default<SplitOptions>(ctx).num_splits;
  OSPREY_CHECK(splits >= 1, "num_splits is {}", splits);
  OSPREY_CHECK(ctx.num_outputs() == splits, "num_splits is {} but the op has {} outputs", splits,
               ctx.num_outputs());
  const std::vector<int64_t> axis_values = constant_ints(ctx, 0, "axis", false);
  OSPREY_CHECK(axis_values.size() == 1, "axis has {} values, expected 1", axis_values.size());
  const Tensor& in = ctx.input(1);
  limits::checked_elements(in.shape, "input");
  elem_ = element_size(in);
  const int axis = resolve_axis(axis_values[0], in.rank(), "axis");
  OSPREY_CHECK(in.dim(axis) % splits == 0, "dimension {} of size {} does not split evenly into {}", axis,
               in.dim(axis), splits);
  Shape shape = in.shape;
  shape[static_cast<size_t>(axis)] /= splits;
  for (int i = 0; i < splits; ++i) {
    Tensor& out = ctx.output(i);
    check_same_type(out, in);
    out.shape = shape;
  }
  outer_ = product(in.shape, 0, axis);
  chunk_ = product(shape, axis, in.rank());
}

void SplitKernel::eval(KernelContext& ctx) {
  const uint8_t* in = ctx.input(1).data;
  const size_t bytes = static_cast<size_t>(chunk_) * elem_;
  for (int64_t k = 0; k < outer_; ++k) {
    for (int i = 0; i < ctx.num_outputs(); ++i) {
      if (bytes > 0) std::memcpy(ctx.output(i).data + static_cast<size_t>(k) * bytes, in, bytes);
      in += bytes;
    }
  }
}

}  // namespace layout

// Factories the op registry (src/ops) names.
using namespace layout;

extern const KernelFactory reshape_kernel = make_kernel<ReshapeKernel>;
extern const KernelFactory squeeze_kernel = make_kernel<SqueezeKernel>;
extern const KernelFactory expand_dims_kernel = make_kernel<ExpandDimsKernel>;
extern const KernelFactory concatenation_kernel = make_kernel<ConcatenationKernel>;
extern const KernelFactory split_kernel = make_kernel<SplitKernel>;
extern const KernelFactory pad_kernel = make_kernel<PadKernel>;
extern const KernelFactory transpose_kernel = make_kernel<TransposeKernel>;
extern const KernelFactory depth_to_space_kernel = make_kernel<DepthToSpaceKernel>;
extern const KernelFactory gather_kernel = make_kernel<GatherKernel>;

}  // namespace osprey::ref
