// Reference STRIDED_SLICE, following TFLite: strided_slice.cc expands the
// ellipsis and new-axis masks into an "effective" input of up to 5 dimensions,
// and strided_slice_logic.h (StridedSliceStartForAxis / EndForAxis) clamps
// begin and end per axis. Elements are copied as bytes, so any type works.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"
#include "kernels/ref/layout_helpers.h"

namespace osprey::ref {

namespace {

constexpr int kMaxDims = 5;  // TFLite's limit, including added axes

// The values of constant int32 vector input `i`.
std::vector<int32_t> constant_vector(const KernelContext& ctx, int i, std::string_view what) {
  const Tensor& t = ctx.input(i);
  OSPREY_CHECK(t.is_constant, "dynamic shapes are not supported: input {} is not constant", i);
  OSPREY_CHECK(t.type == DType::kInt32, "{} must be int32, not {}", what, dtype_name(t.type));
  OSPREY_CHECK(t.rank() == 1, "{} has shape {}, expected a vector", what, shape_str(t.shape));
  const int64_t n = limits::checked_elements(t.shape, what);
  OSPREY_CHECK(n == 0 || t.data != nullptr, "{} has no data", what);
  return std::vector<int32_t>(t.data_as<int32_t>(), t.data_as<int32_t>() + n);
}

bool bit(int mask, int i) {
  return (mask >> i) & 1;
}

// The op's options, or their defaults when the model gave none.
StridedSliceOptions options_of(const KernelContext& ctx) {
  if (std::holds_alternative<std::monostate>(ctx.op().options)) return {};
  return ctx.options<StridedSliceOptions>();
}

// One axis of the effective input.
struct Axis {
  int64_t size = 1;
  int64_t begin = 0, end = 0, stride = 1;
  bool begin_mask = false, end_mask = false, shrink = false;
  int input_dim = -1;  // the input dimension it walks; -1 for an added axis
};

class StridedSliceKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 4, "expected 4 inputs, got {}", ctx.num_inputs());
    OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    OSPREY_CHECK(out.type == in.type, "output type {} differs from input type {}", dtype_name(out.type),
                 dtype_name(in.type));
    elem_ = dtype_size(in.type);
    OSPREY_CHECK(elem_ > 0, "{} tensors are not supported", dtype_name(in.type));
    limits::checked_elements(in.shape, "input");
    OSPREY_CHECK(in.rank() <= kMaxDims, "input has rank {}, at most {} is supported", in.rank(), kMaxDims);

    const std::vector<int32_t> begin = constant_vector(ctx, 1, "begin");
    const std::vector<int32_t> end = constant_vector(ctx, 2, "end");
    const std::vector<int32_t> strides = constant_vector(ctx, 3, "strides");
    OSPREY_CHECK(end.size() == begin.size() && strides.size() == begin.size(),
                 "begin, end and strides have {}, {} and {} entries", begin.size(), end.size(),
                 strides.size());
    OSPREY_CHECK(begin.size() <= static_cast<size_t>(kMaxDims),
                 "begin has {} entries, at most {} are supported", begin.size(), kMaxDims);

    const StridedSliceOptions options = options_of(ctx);
    const std::vector<Axis> axes = effective_axes(options, in.shape, begin, end, strides);
    setup(axes, in.shape, options.offset);

    Shape shape;
    for (size_t i = 0; i < axes.size(); ++i) {
      if (!axes[i].shrink) shape.push_back(static_cast<int32_t>(copy_.counts[i]));
    }
    out.shape = shape;
    // The output is written in order; every count is at most an input dimension.
    copy_.out_steps = layout::strides_of(Shape(copy_.counts.begin(), copy_.counts.end()));
  }

  void eval(KernelContext& ctx) override { copy_.run(ctx.input(0).data, ctx.output(0).data); }

 private:
  // TFLite's BuildStridedSliceParams: the ellipsis stands for as many full
  // dimensions as the spec leaves out, a new axis adds a dimension of size 1,
  // and dimensions past the spec are taken whole.
  static std::vector<Axis> effective_axes(const StridedSliceOptions& o, const Shape& shape,
                                          const std::vector<int32_t>& begin, const std::vector<int32_t>& end,
                                          const std::vector<int32_t>& strides) {
    const int count = static_cast<int>(begin.size());
    const int valid = (1 << count) - 1;  // mask bits past the spec mean nothing
    const int ellipsis_mask = o.ellipsis_mask & valid;
    const int new_axis_mask = o.new_axis_mask & valid;
    OSPREY_CHECK(std::popcount(static_cast<unsigned>(ellipsis_mask)) <= 1,
                 "ellipsis_mask {} has more than one bit", o.ellipsis_mask);
    const int input_dims = static_cast<int>(shape.size());

    // A new-axis bit on the ellipsis entry has no effect.
    const int num_add_axis = std::popcount(static_cast<unsigned>(new_axis_mask & ~ellipsis_mask));
    const int dims = input_dims + num_add_axis;
    OSPREY_CHECK(dims <= kMaxDims, "the slice has {} dimensions with added axes, at most {} are supported",
                 dims, kMaxDims);
    OSPREY_CHECK(count <= dims, "begin has {} entries for {} dimensions", count, dims);

    // Mark which effective dimensions the ellipsis covers and which are new.
    int effective_ellipsis = 0, effective_new_axis = 0;
    int ellipsis_start = dims, expanded = 0;
    for (int i = 0; i < dims;) {
      if (bit(ellipsis_mask, i)) {
        ellipsis_start = i;
        const int ellipsis_end = std::max(i + 1, std::min(i + 1 + num_add_axis + input_dims - count, dims));
        expanded = ellipsis_end - ellipsis_start - 1;
        for (; i < ellipsis_end; ++i) effective_ellipsis |= 1 << i;
        continue;
      }
      if (bit(new_axis_mask, i - expanded)) effective_new_axis |= 1 << i;
      ++i;
    }

    std::vector<Axis> axes(static_cast<size_t>(dims));
    int added_ellipsis = 0, added_axes = 0;
    for (int i = 0; i < dims; ++i) {
      Axis& a = axes[static_cast<size_t>(i)];
      if (bit(effective_ellipsis, i)) {
        added_ellipsis = std::max(0, i - ellipsis_start);
        a.begin_mask = a.end_mask = true;
        a.input_dim = i - added_axes;
      } else if (bit(effective_new_axis, i)) {
        a.begin = 0;
        a.end = 1;
        ++added_axes;
      } else if (i >= count + expanded) {
        a.begin_mask = a.end_mask = true;
        a.input_dim = i - added_axes;
      } else {
        const int k = i - added_ellipsis;  // the spec entry of this dimension
        a.begin = begin[static_cast<size_t>(k)];
        a.end = end[static_cast<size_t>(k)];
        a.stride = strides[static_cast<size_t>(k)];
        a.begin_mask = bit(o.begin_mask, k);
        a.end_mask = bit(o.end_mask, k);
        a.shrink = bit(o.shrink_axis_mask, k);
        a.input_dim = i - added_axes;
      }
      if (a.input_dim >= 0) a.size = shape[static_cast<size_t>(a.input_dim)];
    }
    return axes;
  }

  // Clamps each axis as StridedSliceStartForAxis / EndForAxis do and fixes the
  // element count, step and first input offset of every axis.
  void setup(const std::vector<Axis>& axes, const Shape& shape, bool offset) {
    std::vector<int64_t> input_strides(shape.size(), 1);
    for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) {
      input_strides[static_cast<size_t>(d)] =
          input_strides[static_cast<size_t>(d) + 1] * shape[static_cast<size_t>(d) + 1];
    }
    copy_.elem = elem_;
    copy_.counts.clear();
    copy_.in_steps.clear();
    copy_.in_base = 0;
    copy_.out_base = 0;
    for (size_t i = 0; i < axes.size(); ++i) {
      const Axis& a = axes[i];
      const int64_t size = a.size, stride = a.stride;
      OSPREY_CHECK(stride != 0, "stride of dimension {} is zero", i);

      int64_t start = a.begin;
      if (start < 0) start += size;
      start = stride > 0 ? std::clamp<int64_t>(start, 0, size) : std::clamp<int64_t>(start, -1, size - 1);
      if (a.begin_mask) start = stride > 0 ? 0 : size - 1;

      int64_t count = 0;
      if (a.shrink) {
        // TFLite reads one element at `start` but produces nothing for an index
        // past the end or a negative stride; TensorFlow rejects both.
        OSPREY_CHECK(stride > 0, "dimension {} is shrunk with a negative stride", i);
        OSPREY_CHECK(start < size, "index {} is out of range for dimension {} of size {}", a.begin, i, size);
        count = 1;
      } else {
        // With `offset`, end counts from begin (TFLite adds the clamped begin).
        // TFLite sizes such outputs from the raw end value but reads this
        // clamped range; both agree whenever the slice lies inside the input.
        int64_t stop = offset ? a.end + start : a.end;
        if (stop < 0) stop += size;
        stop = stride > 0 ? std::clamp<int64_t>(stop, 0, size) : std::clamp<int64_t>(stop, -1, size - 1);
        if (a.end_mask) stop = stride > 0 ? size : -1;
        // ceil((stop - start) / stride) without floats, which lose precision on large dimensions.
        if (stride > 0 && stop > start) count = (stop - start + stride - 1) / stride;
        if (stride < 0 && start > stop) count = (start - stop - stride - 1) / -stride;
      }
      copy_.counts.push_back(count);
      const int64_t input_stride = a.input_dim >= 0 ? input_strides[static_cast<size_t>(a.input_dim)] : 0;
      // A step is only taken between two elements, which keeps it in range.
      copy_.in_steps.push_back(count > 1 ? stride * input_stride : 0);
      // An empty axis may leave start outside the input; nothing is read then.
      if (count > 0) copy_.in_base += start * input_stride;
    }
  }

  size_t elem_ = 0;
  // Along each effective axis: elements taken (counts), input offset between
  // them (in_steps), and the input offset of the first element (in_base).
  layout::StridedCopy copy_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory strided_slice_kernel = make_kernel<StridedSliceKernel>;

}  // namespace osprey::ref
