// Reference binary elementwise kernels: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM and PRELU, all with
// NumPy broadcasting of their two inputs (up to rank 6), following TFLite's reference_ops.
// The family's other ops live beside this file: elementwise_activation.cpp (activations and
// softmax), quantize.cpp (QUANTIZE, DEQUANTIZE) and densify.cpp (DENSIFY).
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <variant>

#include "kernels/kernel.h"
#include "kernels/ref/activation.h"

namespace osprey::ref {

// Registered from the family's other files.

namespace {

void check_io_count(const KernelContext& ctx, int inputs, int outputs) {
  OSPREY_CHECK(ctx.num_inputs() == inputs, "expected {} inputs, got {}", inputs, ctx.num_inputs());
  OSPREY_CHECK(ctx.num_outputs() == outputs, "expected {} outputs, got {}", outputs, ctx.num_outputs());
  for (int i = 0; i < inputs; ++i) OSPREY_CHECK(ctx.has_input(i), "input {} is missing", i);
}

void check_type(const Tensor& t, DType expected, const char* role, int index) {
  OSPREY_CHECK(t.type == expected, "{} {} has type {}, expected {}", role, index, dtype_name(t.type),
               dtype_name(expected));
}

// Raw integer values compare and combine like real values only when all tensors share one scale
// and zero point, which is what TFLite's converter guarantees for MAXIMUM/MINIMUM.
void check_same_quantization(const KernelContext& ctx) {
  const Quantization& out = ctx.output(0).quant;
  for (int i = 0; i < 2; ++i) {
    const Quantization& in = ctx.input(i).quant;
    OSPREY_CHECK(in.scale == out.scale && in.zero_point == out.zero_point,
                 "input {} and the output have different quantization", i);
  }
}

// A missing options table means no fused activation, as in TFLite.
Activation fused_activation(const KernelContext& ctx) {
  if (std::holds_alternative<std::monostate>(ctx.op().options)) return Activation::kNone;
  return ctx.options<ElementwiseOptions>().activation;
}

// How two input shapes broadcast to the output: every shape is padded on the left to rank 6, and
// an input's stride is 0 along the dimensions it repeats.
constexpr int kMaxBroadcastRank = 6;

struct Broadcast {
  Shape out_shape;
  bool same_shape = false;  // no repetition: walk all three tensors in step
  std::array<int64_t, kMaxBroadcastRank> dims{};
  std::array<int64_t, kMaxBroadcastRank> stride_a{};
  std::array<int64_t, kMaxBroadcastRank> stride_b{};
};

// Strides of `shape` padded to rank 6, with 0 where the dimension is 1 but the output's is not.
std::array<int64_t, kMaxBroadcastRank> broadcast_strides(const Shape& shape,
                                                         const std::array<int64_t, kMaxBroadcastRank>& dims) {
  std::array<int64_t, kMaxBroadcastRank> strides{};
  const int pad = kMaxBroadcastRank - static_cast<int>(shape.size());
  int64_t stride = 1;
  for (int d = kMaxBroadcastRank - 1; d >= 0; --d) {
    const int64_t size = d < pad ? 1 : shape[d - pad];
    strides[d] = (size == 1 && dims[d] != 1) ? 0 : stride;
    stride *= size;
  }
  return strides;
}

Broadcast make_broadcast(const Shape& a, const Shape& b) {
  const Shape* shapes[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    for (int32_t d : *shapes[i]) OSPREY_CHECK(d >= 0, "input {} has shape {}", i, shape_str(*shapes[i]));
  }
  Broadcast bc;
  if (a == b) {  // any rank: the tensors are walked flat
    bc.same_shape = true;
    bc.out_shape = a;
    return bc;
  }
  for (int i = 0; i < 2; ++i) {
    OSPREY_CHECK(shapes[i]->size() <= kMaxBroadcastRank,
                 "input {} has rank {}, broadcasting supports at most {}", i, shapes[i]->size(),
                 kMaxBroadcastRank);
  }
  const size_t rank = std::max(a.size(), b.size());
  bc.out_shape.assign(rank, 1);
  // NumPy's rule, from the last dimension: sizes must match, or one of them must be 1.
  for (size_t k = 0; k < rank; ++k) {
    const int32_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    const int32_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    OSPREY_CHECK(da == db || da == 1 || db == 1, "input shapes {} and {} cannot be broadcast together",
                 shape_str(a), shape_str(b));
    bc.out_shape[rank - 1 - k] = da == 1 ? db : da;
  }
  bc.dims.fill(1);
  for (size_t k = 0; k < rank; ++k) bc.dims[kMaxBroadcastRank - rank + k] = bc.out_shape[k];
  bc.stride_a = broadcast_strides(a, bc.dims);
  bc.stride_b = broadcast_strides(b, bc.dims);
  return bc;
}

// out[i] = f(a[..], b[..]) over the broadcast output, in row-major order.
template <typename T, typename F>
void broadcast_apply(const Broadcast& bc, const T* a, const T* b, T* out, F f) {
  if (bc.same_shape) {
    const int64_t n = num_elements(bc.out_shape);
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  const auto& d = bc.dims;
  const auto& sa = bc.stride_a;
  const auto& sb = bc.stride_b;
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < d[0]; ++i0) {
    for (int64_t i1 = 0; i1 < d[1]; ++i1) {
      for (int64_t i2 = 0; i2 < d[2]; ++i2) {
        for (int64_t i3 = 0; i3 < d[3]; ++i3) {
          for (int64_t i4 = 0; i4 < d[4]; ++i4) {
            const int64_t ai = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3] + i4 * sa[4];
            const int64_t bi = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3] + i4 * sb[4];
            for (int64_t i5 = 0; i5 < d[5]; ++i5) out[o++] = f(a[ai + i5 * sa[5]], b[bi + i5 * sb[5]]);
          }
        }
      }
    }
  }
}

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum };

// TFLite's MaximumOp/MinimumOp: with a NaN the second operand wins unless the comparison holds,
// so max(NaN, 1) = 1 but max(1, NaN) = NaN.
template <typename T>
T maximum(T a, T b) {
  return a > b ? a : b;
}
template <typename T>
T minimum(T a, T b) {
  return a < b ? a : b;
}

// int32 arithmetic wraps on overflow (as TFLite's does in practice) instead of being undefined.
int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t wrap_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

template <BinaryOp kOp>
class BinaryKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 1);
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& out = ctx.output(0);
    type_ = a.type;
    OSPREY_CHECK(supported(type_), "input 0 has type {}, expected {}", dtype_name(type_), supported_names());
    check_type(b, type_, "input", 1);
    check_type(out, type_, "output", 0);
    if constexpr (kOp == BinaryOp::kMaximum || kOp == BinaryOp::kMinimum) {
      if (type_ != DType::kFloat32 && type_ != DType::kInt32) check_same_quantization(ctx);
    } else {
      const Activation act = fused_activation(ctx);
      if (type_ == DType::kFloat32) float_range_ = activation_range(act);
      if (type_ == DType::kInt32) int_range_ = activation_range<int32_t>(act);
    }
    broadcast_ = make_broadcast(a.shape, b.shape);
    out.shape = broadcast_.out_shape;
  }

  void eval(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& out = ctx.output(0);
    switch (type_) {
      case DType::kFloat32: eval_float(a, b, out); break;
      case DType::kInt32: eval_int32(a, b, out); break;
      case DType::kInt8: eval_compare<int8_t>(a, b, out); break;
      case DType::kUInt8: eval_compare<uint8_t>(a, b, out); break;
      case DType::kInt16: eval_compare<int16_t>(a, b, out); break;
      default: break;  // rejected in prepare
    }
  }

 private:
  static bool supported(DType t) {
    switch (kOp) {
      case BinaryOp::kAdd:
      case BinaryOp::kSub:
      case BinaryOp::kMul: return t == DType::kFloat32 || t == DType::kInt32;
      case BinaryOp::kDiv: return t == DType::kFloat32;
      case BinaryOp::kMaximum:
      case BinaryOp::kMinimum:
        return t == DType::kFloat32 || t == DType::kInt32 || t == DType::kInt8 || t == DType::kUInt8 ||
               t == DType::kInt16;
    }
    return false;
  }
  static const char* supported_names() {
    switch (kOp) {
      case BinaryOp::kAdd:
      case BinaryOp::kSub:
      case BinaryOp::kMul: return "float32 or int32";
      case BinaryOp::kDiv: return "float32";
      case BinaryOp::kMaximum:
      case BinaryOp::kMinimum: return "float32, int32, int8, uint8 or int16";
    }
    return "";
  }

  void eval_float(const Tensor& a, const Tensor& b, Tensor& out) const {
    const FloatRange r = float_range_;
    auto run = [&](auto f) {
      broadcast_apply(broadcast_, a.data_as<float>(), b.data_as<float>(), out.data_as<float>(), f);
    };
    switch (kOp) {
      case BinaryOp::kAdd: run([r](float x, float y) { return r.clamp(x + y); }); break;
      case BinaryOp::kSub: run([r](float x, float y) { return r.clamp(x - y); }); break;
      case BinaryOp::kMul: run([r](float x, float y) { return r.clamp(x * y); }); break;
      case BinaryOp::kDiv: run([r](float x, float y) { return r.clamp(x / y); }); break;
      case BinaryOp::kMaximum: run(maximum<float>); break;
      case BinaryOp::kMinimum: run(minimum<float>); break;
    }
  }

  void eval_int32(const Tensor& a, const Tensor& b, Tensor& out) const {
    const Int32Range r = int_range_;
    auto run = [&](auto f) {
      broadcast_apply(broadcast_, a.data_as<int32_t>(), b.data_as<int32_t>(), out.data_as<int32_t>(), f);
    };
    switch (kOp) {
      case BinaryOp::kAdd: run([r](int32_t x, int32_t y) { return r.clamp(wrap_add(x, y)); }); break;
      case BinaryOp::kSub: run([r](int32_t x, int32_t y) { return r.clamp(wrap_sub(x, y)); }); break;
      case BinaryOp::kMul: run([r](int32_t x, int32_t y) { return r.clamp(wrap_mul(x, y)); }); break;
      case BinaryOp::kMaximum: run(maximum<int32_t>); break;
      case BinaryOp::kMinimum: run(minimum<int32_t>); break;
      case BinaryOp::kDiv: break;  // rejected in prepare
    }
  }

  // Quantized MAXIMUM/MINIMUM compare the stored integers (prepare checked the scales match).
  template <typename T>
  void eval_compare(const Tensor& a, const Tensor& b, Tensor& out) const {
    if constexpr (kOp == BinaryOp::kMaximum) {
      broadcast_apply(broadcast_, a.data_as<T>(), b.data_as<T>(), out.data_as<T>(), maximum<T>);
    } else if constexpr (kOp == BinaryOp::kMinimum) {
      broadcast_apply(broadcast_, a.data_as<T>(), b.data_as<T>(), out.data_as<T>(), minimum<T>);
    }
  }

  DType type_ = DType::kFloat32;
  FloatRange float_range_;
  Int32Range int_range_;
  Broadcast broadcast_;
};

// PRELU: out = x >= 0 ? x : x * alpha, with alpha broadcast against x (TFLite's output shape is
// the broadcast of both, so an alpha larger than x is allowed too).
class PreluKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 1);
    check_type(ctx.input(0), DType::kFloat32, "input", 0);
    check_type(ctx.input(1), DType::kFloat32, "input", 1);
    check_type(ctx.output(0), DType::kFloat32, "output", 0);
    broadcast_ = make_broadcast(ctx.input(0).shape, ctx.input(1).shape);
    ctx.output(0).shape = broadcast_.out_shape;
  }

  void eval(KernelContext& ctx) override {
    broadcast_apply(broadcast_, ctx.input(0).data_as<float>(), ctx.input(1).data_as<float>(),
                    ctx.output(0).data_as<float>(),
                    [](float x, float alpha) { return x >= 0.0f ? x : x * alpha; });
  }

 private:
  Broadcast broadcast_;
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory add_kernel = make_kernel<BinaryKernel<BinaryOp::kAdd>>;
extern const KernelFactory sub_kernel = make_kernel<BinaryKernel<BinaryOp::kSub>>;
extern const KernelFactory mul_kernel = make_kernel<BinaryKernel<BinaryOp::kMul>>;
extern const KernelFactory div_kernel = make_kernel<BinaryKernel<BinaryOp::kDiv>>;
extern const KernelFactory maximum_kernel = make_kernel<BinaryKernel<BinaryOp::kMaximum>>;
extern const KernelFactory minimum_kernel = make_kernel<BinaryKernel<BinaryOp::kMinimum>>;
extern const KernelFactory prelu_kernel = make_kernel<PreluKernel>;

}  // namespace osprey::ref
