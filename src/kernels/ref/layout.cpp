// Reference layout (data movement) kernels, following TFLite's reference ops:
// RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, SPLIT, PAD, PADV2, TRANSPOSE,
// DEPTH_TO_SPACE and GATHER. STRIDED_SLICE, the resizes and the reductions are
// in slice.cpp, resize.cpp and reduce.cpp.
//
// These kernels only move elements, so they copy bytes and serve every element
// type with a fixed size. Inputs that give a shape (new shape, axes, paddings,
// perm) must be constant: prepare fixes the output shape once.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/ref/activation.h"

namespace osprey::ref {

namespace {

// Element counts stay far below this, so byte counts and offsets fit in int64.
constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 16;
// Ranks the odometer loops (transpose, pad) handle; TFLite stops at 6 and 5.
constexpr int kMaxRank = 8;

// The op's options, or their defaults when the model gave none.
template <typename T>
T options_or_default(const KernelContext& ctx) {
  if (std::holds_alternative<std::monostate>(ctx.op().options)) return T{};
  return ctx.options<T>();
}

void expect_io(const KernelContext& ctx, int min_inputs, int max_inputs, int outputs) {
  if (min_inputs == max_inputs) {
    OSPREY_CHECK(ctx.num_inputs() == min_inputs, "expected {} inputs, got {}", min_inputs, ctx.num_inputs());
  } else {
    OSPREY_CHECK(ctx.num_inputs() >= min_inputs && ctx.num_inputs() <= max_inputs,
                 "expected {} to {} inputs, got {}", min_inputs, max_inputs, ctx.num_inputs());
  }
  OSPREY_CHECK(ctx.num_outputs() == outputs, "expected {} outputs, got {}", outputs, ctx.num_outputs());
}

// Number of elements of `shape`; rejects negative dimensions and huge totals.
int64_t checked_count(const Shape& shape, std::string_view what) {
  int64_t n = 1;
  for (int32_t d : shape) {
    OSPREY_CHECK(d >= 0, "{} shape {} has a negative dimension", what, shape_str(shape));
    OSPREY_CHECK(d == 0 || n <= kMaxElements / d, "{} shape {} is too large", what, shape_str(shape));
    n *= d;
  }
  return n;
}

// An output shape from 64-bit dimensions, each of which must fit the int32 Shape.
Shape make_shape(const std::vector<int64_t>& dims) {
  Shape shape;
  for (int64_t d : dims) {
    OSPREY_CHECK(d >= 0 && d <= std::numeric_limits<int32_t>::max(), "output dimension {} is out of range",
                 d);
    shape.push_back(static_cast<int32_t>(d));
  }
  checked_count(shape, "output");
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

// The values of constant integer input `i` (int32, or int64 when allowed).
std::vector<int64_t> constant_ints(const KernelContext& ctx, int i, std::string_view what, bool allow_int64) {
  const Tensor& t = ctx.input(i);
  OSPREY_CHECK(t.is_constant, "dynamic shapes are not supported: input {} is not constant", i);
  OSPREY_CHECK(t.type == DType::kInt32 || (allow_int64 && t.type == DType::kInt64), "{} must be {}, not {}",
               what, allow_int64 ? "int32 or int64" : "int32", dtype_name(t.type));
  const int64_t n = checked_count(t.shape, what);
  OSPREY_CHECK(n == 0 || t.data != nullptr, "{} has no data", what);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = t.type == DType::kInt32 ? t.data_as<int32_t>()[k] : t.data_as<int64_t>()[k];
  }
  return values;
}

// An axis in [-rank, rank) made non-negative.
int resolve_axis(int64_t axis, int rank, std::string_view what) {
  OSPREY_CHECK(axis >= -rank && axis < rank, "{} {} is out of range for rank {}", what, axis, rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

int64_t product(const Shape& shape, int begin, int end) {
  int64_t n = 1;
  for (int d = begin; d < end; ++d) n *= shape[static_cast<size_t>(d)];
  return n;
}

// Element strides of a row-major shape.
std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) {
    strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1] * shape[static_cast<size_t>(d) + 1];
  }
  return strides;
}

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

// The output may alias the input when the planner lets a reshape share it.
void copy_bytes(uint8_t* out, const uint8_t* in, size_t bytes) {
  if (out != in && bytes > 0) std::memcpy(out, in, bytes);
}

// Zero point of a per-tensor quantized tensor (0 without quantization).
int64_t zero_point_of(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}
float scale_of(const Tensor& t) {
  return t.quant.scale.empty() ? 0.0f : t.quant.scale[0];
}

// ---------------------------------------------------------------- RESHAPE

class ReshapeKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 1, 2, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    const int64_t count = checked_count(in.shape, "input");
    int64_t nonzero_in = 1;
    for (int32_t d : in.shape) {
      OSPREY_CHECK(d == 0 || nonzero_in <= kMaxElements / d, "input shape {} is too large",
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
      OSPREY_CHECK(d == 0 || nonzero_out <= kMaxElements / d, "new shape is too large");
      if (d != 0) nonzero_out *= d;
      out_count *= d;
    }
    if (stretch >= 0) {
      const int64_t d = (count == 0 && out_count != 0) ? 0 : nonzero_in / nonzero_out;
      dims[static_cast<size_t>(stretch)] = d;
      out_count *= d;
    }
    out.shape = make_shape(dims);
    OSPREY_CHECK(out_count == count, "new shape {} has {} elements, input {} has {}", shape_str(out.shape),
                 out_count, shape_str(in.shape), count);
    bytes_ = static_cast<size_t>(count) * element_size(in);
  }

  void eval(KernelContext& ctx) override { copy_bytes(ctx.output(0).data, ctx.input(0).data, bytes_); }

 private:
  // Like TFLite: input 1 gives the shape when it is an int32 vector, otherwise
  // the options do (where a legacy shape of [0] means a scalar).
  static std::vector<int64_t> requested_shape(const KernelContext& ctx) {
    if (ctx.has_input(1)) {
      const Tensor& shape = ctx.input(1);
      if (shape.rank() == 1 && shape.type == DType::kInt32) return constant_ints(ctx, 1, "shape", false);
    }
    const auto options = options_or_default<ReshapeOptions>(ctx);
    if (options.new_shape.size() == 1 && options.new_shape[0] == 0) return {};
    return {options.new_shape.begin(), options.new_shape.end()};
  }

  size_t bytes_ = 0;
};

// ---------------------------------------------------------------- SQUEEZE

class SqueezeKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 1, 1, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    const int64_t count = checked_count(in.shape, "input");
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
    out.shape = shape;
    bytes_ = static_cast<size_t>(count) * element_size(in);
  }

  void eval(KernelContext& ctx) override { copy_bytes(ctx.output(0).data, ctx.input(0).data, bytes_); }

 private:
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------- EXPAND_DIMS

class ExpandDimsKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 2, 2, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    const int64_t count = checked_count(in.shape, "input");
    const std::vector<int64_t> axis = constant_ints(ctx, 1, "axis", true);
    OSPREY_CHECK(axis.size() == 1, "axis has {} values, expected 1", axis.size());
    // A new axis may go anywhere in [0, rank], so negative ones count from rank + 1.
    const int at = resolve_axis(axis[0], in.rank() + 1, "axis");
    Shape shape = in.shape;
    shape.insert(shape.begin() + at, 1);
    out.shape = shape;
    bytes_ = static_cast<size_t>(count) * element_size(in);
  }

  void eval(KernelContext& ctx) override { copy_bytes(ctx.output(0).data, ctx.input(0).data, bytes_); }

 private:
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------- CONCATENATION

class ConcatenationKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
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
      checked_count(t.shape, "input");
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

  void eval(KernelContext& ctx) override {
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

 private:
  // uint8 inputs of another scale or zero point are requantized, as in TFLite's
  // ConcatenationWithScaling.
  struct Rescale {
    bool needed = false;
    float scale = 0.0f;
    float bias = 0.0f;
  };

  // TFLite rejects fused activations here; osprey applies them to float data.
  void prepare_activation(Activation activation, DType type) {
    has_activation_ = activation != Activation::kNone;
    if (!has_activation_) return;
    OSPREY_CHECK(type == DType::kFloat32, "fused activation on {} data is not supported", dtype_name(type));
    range_ = activation_range(activation);
  }

  void prepare_quantization(const KernelContext& ctx, const Tensor& out) {
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

  void requantize(const Rescale& r, const uint8_t* in, uint8_t* out, int64_t count) const {
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

  size_t elem_ = 0;
  int64_t outer_ = 0;
  std::vector<int64_t> chunks_;  // elements each input adds per outer index
  bool has_activation_ = false;
  FloatRange range_;
  std::vector<Rescale> rescale_;
  int32_t out_zero_point_ = 0;
};

// ---------------------------------------------------------------- SPLIT

class SplitKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2, "expected 2 inputs, got {}", ctx.num_inputs());
    const int splits = options_or_default<SplitOptions>(ctx).num_splits;
    OSPREY_CHECK(splits >= 1, "num_splits is {}", splits);
    OSPREY_CHECK(ctx.num_outputs() == splits, "num_splits is {} but the op has {} outputs", splits,
                 ctx.num_outputs());
    const std::vector<int64_t> axis_values = constant_ints(ctx, 0, "axis", false);
    OSPREY_CHECK(axis_values.size() == 1, "axis has {} values, expected 1", axis_values.size());
    const Tensor& in = ctx.input(1);
    checked_count(in.shape, "input");
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

  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(1).data;
    const size_t bytes = static_cast<size_t>(chunk_) * elem_;
    for (int64_t k = 0; k < outer_; ++k) {
      for (int i = 0; i < ctx.num_outputs(); ++i) {
        if (bytes > 0) std::memcpy(ctx.output(i).data + static_cast<size_t>(k) * bytes, in, bytes);
        in += bytes;
      }
    }
  }

 private:
  size_t elem_ = 0;
  int64_t outer_ = 0;
  int64_t chunk_ = 0;  // elements of one output per outer index
};

// ---------------------------------------------------------------- PAD, PADV2

class PadKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 2, 3, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    checked_count(in.shape, "input");
    elem_ = element_size(in);
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
      OSPREY_CHECK(before >= 0 && after >= 0, "padding ({}, {}) of dimension {} is negative", before, after,
                   d);
      OSPREY_CHECK(
          before <= std::numeric_limits<int32_t>::max() && after <= std::numeric_limits<int32_t>::max(),
          "padding ({}, {}) of dimension {} is too large", before, after, d);
      dims[static_cast<size_t>(d)] = in_shape[static_cast<size_t>(d)] + before + after;
    }
    out.shape = make_shape(dims);
    // Input element i lands at output index i + before, per dimension.
    counts_.assign(in_shape.begin(), in_shape.end());
    in_steps_ = strides_of(in_shape);
    out_steps_ = strides_of(out.shape);
    out_base_ = 0;
    for (int d = 0; d < rank; ++d) {
      out_base_ += paddings[static_cast<size_t>(2 * d)] * out_steps_[static_cast<size_t>(d)];
    }
    prepare_pad_value(ctx, in, out);
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in_tensor = ctx.input(0);
    Tensor& out_tensor = ctx.output(0);
    const uint8_t* pad = pad_value_.data();
    if (has_value_input_) pad = ctx.input(2).data;
    uint8_t* out = out_tensor.data;
    const int64_t out_count = out_tensor.num_elements();
    for (int64_t j = 0; j < out_count; ++j) std::memcpy(out + static_cast<size_t>(j) * elem_, pad, elem_);
    const uint8_t* in = in_tensor.data;
    const size_t elem = elem_;
    for_each_offset(counts_, in_steps_, out_steps_, out_base_, [&](int64_t a, int64_t b) {
      std::memcpy(out + static_cast<size_t>(b) * elem, in + static_cast<size_t>(a) * elem, elem);
    });
  }

 private:
  // PAD fills with zero, or with the output's zero point for quantized integer
  // types; PADV2 with its input 2, which must then share the output's
  // quantization (TFLite's rules).
  void prepare_pad_value(const KernelContext& ctx, const Tensor& in, const Tensor& out) {
    pad_value_.assign(elem_, 0);
    has_value_input_ = ctx.has_input(2);
    const bool quantized = in.type == DType::kUInt8 || in.type == DType::kInt8 || in.type == DType::kInt16;
    if (has_value_input_) {
      const Tensor& value = ctx.input(2);
      OSPREY_CHECK(value.type == in.type, "pad value is {}, input is {}", dtype_name(value.type),
                   dtype_name(in.type));
      OSPREY_CHECK(checked_count(value.shape, "pad value") == 1,
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
  void store_zero_point(int64_t zp) {
    OSPREY_CHECK(zp >= std::numeric_limits<T>::min() && zp <= std::numeric_limits<T>::max(),
                 "output zero point {} is out of range", zp);
    const T value = static_cast<T>(zp);
    std::memcpy(pad_value_.data(), &value, sizeof(T));
  }

  size_t elem_ = 0;
  std::vector<int64_t> counts_, in_steps_, out_steps_;
  int64_t out_base_ = 0;  // output offset of the first input element
  std::vector<uint8_t> pad_value_;
  bool has_value_input_ = false;
};

// ---------------------------------------------------------------- TRANSPOSE

class TransposeKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 2, 2, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    checked_count(in.shape, "input");
    elem_ = element_size(in);
    const int rank = in.rank();
    OSPREY_CHECK(rank <= 6, "rank {} is above the supported 6", rank);
    const Tensor& perm_tensor = ctx.input(1);
    const std::vector<int64_t> perm = constant_ints(ctx, 1, "perm", true);
    OSPREY_CHECK(perm_tensor.rank() == 1, "perm has shape {}, expected a vector",
                 shape_str(perm_tensor.shape));
    OSPREY_CHECK(static_cast<int>(perm.size()) == rank, "perm has {} entries, expected {}", perm.size(),
                 rank);
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t p : perm) {
      OSPREY_CHECK(p >= 0 && p < rank, "perm entry {} is out of range for rank {}", p, rank);
      OSPREY_CHECK(!seen[static_cast<size_t>(p)], "perm repeats {}", p);
      seen[static_cast<size_t>(p)] = true;
    }
    // Output dimension d walks input dimension perm[d].
    const std::vector<int64_t> in_strides = strides_of(in.shape);
    Shape shape;
    in_steps_.clear();
    for (int64_t p : perm) {
      shape.push_back(in.dim(static_cast<int>(p)));
      in_steps_.push_back(in_strides[static_cast<size_t>(p)]);
    }
    out.shape = shape;
    counts_.assign(shape.begin(), shape.end());
    out_steps_ = strides_of(shape);
  }

  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(0).data;
    uint8_t* out = ctx.output(0).data;
    const size_t elem = elem_;
    for_each_offset(counts_, out_steps_, in_steps_, 0, [&](int64_t o, int64_t i) {
      std::memcpy(out + static_cast<size_t>(o) * elem, in + static_cast<size_t>(i) * elem, elem);
    });
  }

 private:
  size_t elem_ = 0;
  std::vector<int64_t> counts_, out_steps_, in_steps_;
};

// ---------------------------------------------------------------- DEPTH_TO_SPACE

class DepthToSpaceKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 1, 1, 1);
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    checked_count(in.shape, "input");
    elem_ = element_size(in);
    OSPREY_CHECK(in.rank() == 4, "input has rank {}, expected 4", in.rank());
    block_ = options_or_default<DepthToSpaceOptions>(ctx).block_size;
    OSPREY_CHECK(block_ >= 1 && block_ <= 1 << 15, "block_size {} is out of range", block_);
    const int64_t cells = int64_t{block_} * block_;
    OSPREY_CHECK(in.dim(3) % cells == 0, "depth {} is not a multiple of block_size^2 = {}", in.dim(3), cells);
    out.shape =
        make_shape({in.dim(0), int64_t{in.dim(1)} * block_, int64_t{in.dim(2)} * block_, in.dim(3) / cells});
    in_shape_ = in.shape;
    out_shape_ = out.shape;
  }

  // output[b, h*bs + dh, w*bs + dw, c] = input[b, h, w, (dh*bs + dw)*depth_out + c]:
  // each output pixel is one contiguous run of depth_out input channels.
  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(0).data;
    uint8_t* out = ctx.output(0).data;
    const int64_t in_h = in_shape_[1], in_w = in_shape_[2], in_c = in_shape_[3];
    const int64_t out_h = out_shape_[1], out_w = out_shape_[2], out_c = out_shape_[3];
    const size_t run = static_cast<size_t>(out_c) * elem_;
    for (int64_t b = 0; b < out_shape_[0]; ++b) {
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t iy = oy / block_, ix = ox / block_;
          const int64_t ic = ((oy % block_) * block_ + ox % block_) * out_c;
          const int64_t src = ((b * in_h + iy) * in_w + ix) * in_c + ic;
          const int64_t dst = ((b * out_h + oy) * out_w + ox) * out_c;
          if (run > 0)
            std::memcpy(out + static_cast<size_t>(dst) * elem_, in + static_cast<size_t>(src) * elem_, run);
        }
      }
    }
  }

 private:
  size_t elem_ = 0;
  int block_ = 1;
  Shape in_shape_, out_shape_;
};

// ---------------------------------------------------------------- GATHER

class GatherKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    expect_io(ctx, 2, 2, 1);
    const Tensor& in = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    Tensor& out = ctx.output(0);
    check_same_type(out, in);
    checked_count(in.shape, "input");
    const int64_t index_count = checked_count(indices.shape, "indices");
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
  void eval(KernelContext& ctx) override {
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
            std::memcpy(
                dst, in + static_cast<size_t>(((b * outer_ + o) * axis_size_ + index) * inner_) * elem_, run);
          }
        }
      }
    }
  }

 private:
  int64_t read_index(const uint8_t* data, int64_t k) const {
    switch (index_type_) {
      case DType::kInt16: return reinterpret_cast<const int16_t*>(data)[k];
      case DType::kInt32: return reinterpret_cast<const int32_t*>(data)[k];
      default: return reinterpret_cast<const int64_t*>(data)[k];
    }
  }

  size_t elem_ = 0;
  DType index_type_ = DType::kInt32;
  int64_t batches_ = 0, outer_ = 0, axis_size_ = 0, inner_ = 0, coords_ = 0;
};

}  // namespace

// Factories the op registry (src/ops) names.
std::unique_ptr<Kernel> reshape_kernel() {
  return std::make_unique<ReshapeKernel>();
}
std::unique_ptr<Kernel> squeeze_kernel() {
  return std::make_unique<SqueezeKernel>();
}
std::unique_ptr<Kernel> expand_dims_kernel() {
  return std::make_unique<ExpandDimsKernel>();
}
std::unique_ptr<Kernel> concatenation_kernel() {
  return std::make_unique<ConcatenationKernel>();
}
std::unique_ptr<Kernel> split_kernel() {
  return std::make_unique<SplitKernel>();
}
std::unique_ptr<Kernel> pad_kernel() {
  return std::make_unique<PadKernel>();
}
std::unique_ptr<Kernel> transpose_kernel() {
  return std::make_unique<TransposeKernel>();
}
std::unique_ptr<Kernel> depth_to_space_kernel() {
  return std::make_unique<DepthToSpaceKernel>();
}
std::unique_ptr<Kernel> gather_kernel() {
  return std::make_unique<GatherKernel>();
}

}  // namespace osprey::ref
