// Shared pieces of the integer reference kernels: reading a tensor's affine
// parameters, the fused-activation clamp range, checks and broadcasting.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/op_resolver.h"
#include "kernels/ref/quantized/fixed_point.h"

namespace osprey::ref::quantized {

using quant::QuantizedMultiplier;
using quant::QuantizedRange;

inline bool is_int8_or_uint8(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8;
}

inline int32_t type_min(DType t) {
  return t == DType::kInt8 ? -128 : t == DType::kUInt8 ? 0 : -32768;
}
inline int32_t type_max(DType t) {
  return t == DType::kInt8 ? 127 : t == DType::kUInt8 ? 255 : 32767;
}

// Per-tensor parameters of an int8/uint8 activation tensor.
struct TensorParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Checks type (int8 or uint8, matching `type` when given) and per-tensor
// quantization with an in-range zero point.
TensorParams activation_params(const Tensor& t, std::string_view role, DType type);
// Ops whose output keeps its input's parameters (pools, resize): checks both
// tensors as activation_params does and that they share scale and zero point.
void check_shared_params(const Tensor& input, const Tensor& output, DType type);

// Checks that input `i` exists, is not sparse, has positive dims.
void check_shape(const Tensor& t, std::string_view role, int rank = -1);

// TFLite's CalculateActivationRangeQuantized.
QuantizedRange activation_range(Activation a, const Tensor& output);

// Weights' per-channel (or per-tensor, repeated) scales for `channels` output
// channels along `axis`; checks zero points are 0 for int8 weights.
std::vector<float> weight_scales(const Tensor& w, int channels, int axis, std::string_view role);

// int32 bias of `channels` elements (or nullptr when absent).
const int32_t* bias_data(const KernelContext& ctx, int index, int channels);

// Element-index mapping for broadcasting binary ops (up to rank 6, numpy rules).
class Broadcast {
 public:
  // Throws when the shapes cannot be broadcast; out_shape gets the result.
  void prepare(const Shape& a, const Shape& b, Shape& out_shape);
  int64_t size() const { return size_; }
  // Calls f(out_index, a_index, b_index) for every output element in order.
  template <typename F>
  void for_each(F&& f) const {
    if (same_) {
      for (int64_t i = 0; i < size_; ++i) f(i, i, i);
      return;
    }
    std::array<int64_t, kMaxRank> idx{};
    int64_t ia = 0, ib = 0;
    for (int64_t o = 0; o < size_; ++o) {
      f(o, ia, ib);
      for (int d = kMaxRank - 1; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        ia += sa_[u];
        ib += sb_[u];
        if (++idx[u] < dims_[u]) break;
        ia -= sa_[u] * dims_[u];
        ib -= sb_[u] * dims_[u];
        idx[u] = 0;
      }
    }
  }

 private:
  static constexpr int kMaxRank = 6;
  std::array<int64_t, kMaxRank> dims_{}, sa_{}, sb_{};
  int64_t size_ = 0;
  bool same_ = false;
};

// Calls f(T{}) with T the storage type of int8 or uint8 data, so a kernel's
// eval names its typed loop once.
template <typename F>
void with_storage_type(DType type, F&& f) {
  if (type == DType::kInt8) {
    f(int8_t{});
  } else {
    f(uint8_t{});
  }
}

template <typename T>
inline T saturate_cast(int32_t v) {
  return static_cast<T>(
      std::min<int32_t>(std::max<int32_t>(v, std::numeric_limits<T>::min()), std::numeric_limits<T>::max()));
}

}  // namespace osprey::ref::quantized
