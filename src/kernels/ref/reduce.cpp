// Reference reductions over constant axes: MEAN and SUM (float32) and
// REDUCE_MAX (float32, int32, and uint8/int8 sharing the input's quantization).
// Like TFLite's reference_ops::ReduceGeneric / Mean, the input is walked in
// memory order and each element is folded into its output element, so float
// sums add in the same order; MEAN divides the float sum by the element count.
#include <algorithm>
#include <array>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"

namespace osprey::ref {

namespace {

constexpr int kMaxRank = 8;

enum class Reduction { kMean, kSum, kMax };

template <Reduction R>
class ReduceKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2, "expected 2 inputs, got {}", ctx.num_inputs());
    OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    type_ = in.type;
    check_types(in, out);
    limits::checked_elements(in.shape, "input");
    const int rank = in.rank();
    OSPREY_CHECK(rank <= kMaxRank, "input has rank {}, at most {} is supported", rank, kMaxRank);

    // Axes may be negative and repeat (TFLite's ResolveAxis).
    const std::vector<bool> reduced = resolve_axes(ctx, rank);
    bool keep_dims = false;
    if (!std::holds_alternative<std::monostate>(ctx.op().options)) {
      keep_dims = ctx.options<ReducerOptions>().keep_dims;
    }
    Shape shape;
    reduced_count_ = 1;
    for (int d = 0; d < rank; ++d) {
      if (reduced[static_cast<size_t>(d)]) {
        reduced_count_ *= in.dim(d);
        if (keep_dims) shape.push_back(1);
      } else {
        shape.push_back(in.dim(d));
      }
    }
    out.shape = shape;

    // The output offset of each input element: reduced dimensions do not move it.
    counts_.assign(in.shape.begin(), in.shape.end());
    out_steps_.assign(static_cast<size_t>(rank), 0);
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (reduced[static_cast<size_t>(d)]) continue;
      out_steps_[static_cast<size_t>(d)] = stride;
      stride *= in.dim(d);
    }
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    switch (type_) {
      case DType::kFloat32: reduce(in.data_as<float>(), out.data_as<float>(), out.num_elements()); break;
      case DType::kInt32: reduce(in.data_as<int32_t>(), out.data_as<int32_t>(), out.num_elements()); break;
      case DType::kUInt8: reduce(in.data_as<uint8_t>(), out.data_as<uint8_t>(), out.num_elements()); break;
      default: reduce(in.data_as<int8_t>(), out.data_as<int8_t>(), out.num_elements()); break;
    }
  }

 private:
  void check_types(const Tensor& in, const Tensor& out) const {
    OSPREY_CHECK(out.type == in.type, "output type {} differs from input type {}", dtype_name(out.type),
                 dtype_name(in.type));
    if constexpr (R == Reduction::kMax) {
      OSPREY_CHECK(in.type == DType::kFloat32 || in.type == DType::kInt32 || in.type == DType::kUInt8 ||
                       in.type == DType::kInt8,
                   "{} input is not supported", dtype_name(in.type));
      // The maximum of quantized values is only the quantized maximum when the
      // output shares the input's scale and zero point.
      if (in.type == DType::kUInt8 || in.type == DType::kInt8) {
        OSPREY_CHECK(in.quant.scale == out.quant.scale && in.quant.zero_point == out.quant.zero_point,
                     "output is quantized differently from the input");
      }
    } else {
      OSPREY_CHECK(in.type == DType::kFloat32, "{} input is not supported", dtype_name(in.type));
    }
  }

  static std::vector<bool> resolve_axes(const KernelContext& ctx, int rank) {
    const Tensor& axes = ctx.input(1);
    OSPREY_CHECK(axes.is_constant, "dynamic shapes are not supported: input 1 is not constant");
    OSPREY_CHECK(axes.type == DType::kInt32 || axes.type == DType::kInt64,
                 "axes must be int32 or int64, not {}", dtype_name(axes.type));
    OSPREY_CHECK(axes.rank() <= 1, "axes has shape {}, expected a vector", shape_str(axes.shape));
    const int64_t n = limits::checked_elements(axes.shape, "axes");
    OSPREY_CHECK(n == 0 || axes.data != nullptr, "axes has no data");
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t axis =
          axes.type == DType::kInt32 ? axes.data_as<int32_t>()[k] : axes.data_as<int64_t>()[k];
      OSPREY_CHECK(axis >= -rank && axis < rank, "axis {} is out of range for rank {}", axis, rank);
      reduced[static_cast<size_t>(axis < 0 ? axis + rank : axis)] = true;
    }
    return reduced;
  }

  template <typename T>
  void reduce(const T* in, T* out, int64_t out_count) const {
    const T init = R == Reduction::kMax ? std::numeric_limits<T>::lowest() : T{0};
    std::fill(out, out + out_count, init);
    const int rank = static_cast<int>(counts_.size());
    int64_t total = 1;
    for (int64_t c : counts_) total *= c;
    // An odometer over the input in memory order.
    std::array<int64_t, kMaxRank> index{};
    int64_t o = 0;
    for (int64_t n = 0; n < total; ++n) {
      if constexpr (R == Reduction::kMax) {
        if (in[n] > out[o]) out[o] = in[n];  // TFLite's order: NaN inputs are skipped
      } else {
        out[o] += in[n];
      }
      for (int d = rank - 1; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        o += out_steps_[u];
        if (++index[u] < counts_[u]) break;
        o -= out_steps_[u] * counts_[u];
        index[u] = 0;
      }
    }
    // Like TFLite, an empty reduction leaves the mean at 0.
    if constexpr (R == Reduction::kMean) {
      if constexpr (std::is_floating_point_v<T>) {
        if (reduced_count_ > 0) {
          for (int64_t k = 0; k < out_count; ++k) out[k] = out[k] / static_cast<float>(reduced_count_);
        }
      }
    }
  }

  DType type_ = DType::kFloat32;
  int64_t reduced_count_ = 1;  // input elements per output element
  std::vector<int64_t> counts_, out_steps_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory mean_kernel = make_kernel<ReduceKernel<Reduction::kMean>>;
extern const KernelFactory sum_kernel = make_kernel<ReduceKernel<Reduction::kSum>>;
extern const KernelFactory reduce_max_kernel = make_kernel<ReduceKernel<Reduction::kMax>>;

}  // namespace osprey::ref
