// Integer pooling and MEAN, after TFLite's reference kernels:
//   MAX_POOL_2D      max of the clipped window; input and output share parameters
//   AVERAGE_POOL_2D  sum of the raw values over the clipped window divided by the
//                    count, rounded half away from zero; parameters shared too
//   MEAN             over H and W of a 4-D tensor (keep_dims): reference_integer_ops::Mean
//                    (sum of q - zp_in, MultiplyByQuantizedMultiplier(in_scale/out_scale),
//                    divide by the count rounding half away from zero, + zp_out);
//                    any other axes: reference_ops::QuantizedMeanOrSum (float rescale)
//   SUM              over any axes, as LiteRT (XNNPACK) computes it (mean.h)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/geometry.h"
#include "kernels/ref/quantized/common.h"
#include "kernels/ref/quantized/mean.h"
#include "kernels/ref/window_loops.h"

namespace osprey::ref::quantized {
namespace {

// Pooling policies for pool2d_loops (window_loops.h); the clamp is the fused activation's.
template <typename T>
struct IntegerMax {
  using Acc = int32_t;
  QuantizedRange range;
  static int32_t start() { return std::numeric_limits<T>::lowest(); }
  static void add(int32_t& result, T value) { result = std::max<int32_t>(result, value); }
  T finish(int32_t result, int64_t) const { return static_cast<T>(range.clamp(result)); }
};

// Sums in int64 (TFLite's int32 would overflow on a hostile window of 2^24 values),
// which gives the same result wherever int32 does not overflow.
template <typename T>
struct IntegerAverage {
  using Acc = int64_t;
  QuantizedRange range;
  static int64_t start() { return 0; }
  static void add(int64_t& total, T value) { total += value; }
  T finish(int64_t total, int64_t count) const {
    // Rounds half away from zero.
    const int64_t mean = total > 0 ? (total + count / 2) / count : (total - count / 2) / count;
    return static_cast<T>(range.clamp(static_cast<int32_t>(mean)));
  }
};

enum class PoolKind { kAverage, kMax };

template <PoolKind kKind>
class Pool2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1, "expected 1 input and 1 output");
    const auto& opt = ctx.options<Pool2DOptions>();
    const Tensor& input = ctx.input(0);
    Tensor& output = ctx.output(0);
    check_shape(input, "input", 4);
    type_ = input.type;
    check_shared_params(input, output, type_);
    g_ = geometry::pool_geometry(input.shape, opt);
    output.shape = g_.out.shape();
    range_ = activation_range(opt.activation, output);
  }

  void eval(KernelContext& ctx) override {
    with_storage_type(type_, [&](auto tag) { run<decltype(tag)>(ctx); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx) const {
    using Policy = std::conditional_t<kKind == PoolKind::kMax, IntegerMax<T>, IntegerAverage<T>>;
    pool2d_loops(g_, ctx.input(0).data_as<T>(), ctx.output(0).data_as<T>(), Policy{range_});
  }

  DType type_ = DType::kInt8;
  geometry::PoolGeometry g_;
  QuantizedRange range_;
};

// ---------------------------------------------------------------- MEAN, SUM

template <bool kSum>
class Reduce final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "expected 2 inputs and 1 output");
    const Tensor& input = ctx.input(0);
    Tensor& output = ctx.output(0);
    check_shape(input, "input");
    type_ = input.type;
    in_ = activation_params(input, "input", type_);
    out_ = activation_params(output, "output", type_);
    const int rank = input.rank();
    OSPREY_CHECK(rank >= 1 && rank <= 6, "input rank {} is not supported", rank);
    const Tensor& axes = ctx.input(1);
    OSPREY_CHECK(axes.is_constant && axes.data != nullptr && axes.type == DType::kInt32,
                 "axes must be a constant int32 tensor");
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int64_t k = 0; k < axes.num_elements(); ++k) {
      int a = axes.data_as<int32_t>()[k];
      OSPREY_CHECK(a >= -rank && a < rank, "axis {} is out of range for rank {}", a, rank);
      reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
    }
    const bool keep_dims =
        std::holds_alternative<ReducerOptions>(ctx.op().options) && ctx.options<ReducerOptions>().keep_dims;
    Shape shape;
    count_ = 1;
    for (int d = 0; d < rank; ++d) {
      if (reduced[static_cast<size_t>(d)]) {
        count_ *= input.dim(d);
        if (keep_dims) shape.push_back(1);
      } else {
        shape.push_back(input.dim(d));
      }
    }
    output.shape = shape;
    const bool spatial = rank == 4 && keep_dims && reduced[1] && reduced[2] && !reduced[0] && !reduced[3];
    OSPREY_CHECK(count_ <= std::numeric_limits<int32_t>::max(),
                 "reduces {} values into each output; at most {}", count_,
                 std::numeric_limits<int32_t>::max());
    finish_ = MeanFinish(spatial, in_, out_, static_cast<int32_t>(count_), type_, kSum);
    // Output offset of each input element (reduced dimensions do not move it).
    dims_.assign(input.shape.begin(), input.shape.end());
    steps_.assign(static_cast<size_t>(rank), 0);
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (reduced[static_cast<size_t>(d)]) continue;
      steps_[static_cast<size_t>(d)] = stride;
      stride *= input.dim(d);
    }
    ctx.reserve_tables(static_cast<size_t>(stride) * sizeof(sums_[0]), "sums");
    sums_.assign(static_cast<size_t>(stride), 0);
  }

  void eval(KernelContext& ctx) override {
    with_storage_type(type_, [&](auto tag) {
      using T = decltype(tag);
      run(ctx.input(0).data_as<T>(), ctx.output(0).data_as<T>());
    });
  }

 private:
  template <typename T>
  void run(const T* input, T* output) {
    std::fill(sums_.begin(), sums_.end(), 0);
    int64_t total = 1;
    for (int64_t d : dims_) total *= d;
    std::array<int64_t, 6> idx{};
    int64_t o = 0;
    const int rank = static_cast<int>(dims_.size());
    const int32_t subtract = finish_.subtracted();
    for (int64_t n = 0; n < total; ++n) {
      sums_[static_cast<size_t>(o)] += int64_t{input[n]} - subtract;
      for (int d = rank - 1; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        o += steps_[u];
        if (++idx[u] < dims_[u]) break;
        o -= steps_[u] * dims_[u];
        idx[u] = 0;
      }
    }
    for (size_t k = 0; k < sums_.size(); ++k) output[k] = static_cast<T>(finish_.value(sums_[k]));
  }

  DType type_ = DType::kInt8;
  TensorParams in_, out_;
  int64_t count_ = 1;
  MeanFinish finish_;
  std::vector<int64_t> dims_, steps_;
  std::vector<int64_t> sums_;  // no overflow, whatever a hostile model's sizes
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory max_pool_kernel = make_kernel<Pool2D<PoolKind::kMax>>;
extern const KernelFactory average_pool_kernel = make_kernel<Pool2D<PoolKind::kAverage>>;
extern const KernelFactory mean_kernel = make_kernel<Reduce<false>>;
extern const KernelFactory sum_kernel = make_kernel<Reduce<true>>;

}  // namespace osprey::ref::quantized
