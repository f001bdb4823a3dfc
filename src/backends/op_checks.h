// Facts about an op's tensors and options that every backend checks before it
// claims the op: float32 activations and constants, fused activations as
// clamps, TFLite's window arithmetic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <variant>
#include <vector>

#include "graph/graph.h"
#include "kernels/geometry.h"

namespace osprey::backend_checks {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

inline const Tensor& tensor_at(const Graph& g, int t) {
  return g.tensors[static_cast<size_t>(t)];
}
inline bool has(const Op& op, size_t i) {
  return i < op.inputs.size() && op.inputs[i] >= 0;
}
inline const Tensor& in(const Graph& g, const Op& op, size_t i) {
  return tensor_at(g, op.inputs[i]);
}
inline const Tensor& out(const Graph& g, const Op& op, size_t i = 0) {
  return tensor_at(g, op.outputs[i]);
}

// The op's options, or their defaults when the model gave none.
template <typename T>
T options_of(const Op& op) {
  if (const T* p = std::get_if<T>(&op.options)) return *p;
  return T{};
}

inline bool dims_positive(const Shape& shape) {
  return std::all_of(shape.begin(), shape.end(), [](int32_t d) { return d > 0; });
}

// A dense float32 tensor with known positive dims (rank `rank` when given).
inline bool is_dense_f32(const Tensor& t, int rank = -1) {
  if (t.type != DType::kFloat32 || t.sparsity || !dims_positive(t.shape)) return false;
  return rank < 0 || t.rank() == rank;
}

// An int8/uint8 value computed at run time, rank 4 with positive dims.
inline bool is_int8_activation(const Tensor& t) {
  return (t.type == DType::kInt8 || t.type == DType::kUInt8) && !t.is_constant && !t.sparsity &&
         t.rank() == 4 && dims_positive(t.shape);
}

// "" when the op has between min and max inputs, `outputs` outputs and its
// first `min_inputs` inputs present; else what is wrong.
inline const char* io_mismatch(const Op& op, size_t min_inputs, size_t max_inputs, size_t outputs) {
  if (op.inputs.size() < min_inputs || op.inputs.size() > max_inputs) return "unexpected number of inputs";
  if (op.outputs.size() != outputs) return "unexpected number of outputs";
  for (size_t i = 0; i < min_inputs; ++i) {
    if (op.inputs[i] < 0) return "a required input is missing";
  }
  return "";
}

// Values of a constant int32/int64 tensor; false when it is anything else.
inline bool constant_ints(const Tensor& t, std::vector<int64_t>& values) {
  if (!t.is_constant || t.data == nullptr || t.sparsity) return false;
  values.clear();
  const int64_t n = t.num_elements();
  if (t.type == DType::kInt32) {
    for (int64_t i = 0; i < n; ++i) values.push_back(t.data_as<int32_t>()[i]);
  } else if (t.type == DType::kInt64) {
    for (int64_t i = 0; i < n; ++i) values.push_back(t.data_as<int64_t>()[i]);
  } else {
    return false;
  }
  return true;
}

struct Range {
  float min = -kInf, max = kInf;
};

// The clamp a fused activation means; false for TANH and SIGN_BIT.
inline bool activation_range(Activation a, Range& r) {
  switch (a) {
    case Activation::kNone: r = {-kInf, kInf}; return true;
    case Activation::kRelu: r = {0.0f, kInf}; return true;
    case Activation::kReluN1To1: r = {-1.0f, 1.0f}; return true;
    case Activation::kRelu6: r = {0.0f, 6.0f}; return true;
    default: return false;
  }
}

// The clamp a RELU, RELU6 or RELU_N1_TO_1 op is; false for other ops.
inline bool clamp_op_range(const Op& op, Range& r) {
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kRelu: r = {0.0f, kInf}; return true;
    case OpCode::kRelu6: r = {0.0f, 6.0f}; return true;
    case OpCode::kReluN1To1: r = {-1.0f, 1.0f}; return true;
    default: return false;
  }
}

// Zero padding of height and width (a PAD folded into a convolution).
struct SpatialPad {
  int source = -1;  // the tensor before padding
  uint32_t top = 0, bottom = 0, left = 0, right = 0;
};

// TFLite's output size and padding along one axis of a windowed op (kernels/geometry.h),
// in the types XNNPACK takes.
struct Window {
  int64_t out = 0;
  uint32_t before = 0, after = 0;
};

inline bool window(int64_t size, int64_t filter, int64_t stride, int64_t dilation, Padding padding,
                   Window& w) {
  const auto axis = geometry::try_window_axis(size, filter, stride, dilation, padding);
  if (!axis) return false;
  w = {axis->out, static_cast<uint32_t>(axis->pad_before), static_cast<uint32_t>(axis->pad_after)};
  return true;
}

// The last step (position in `ops`) reading each tensor; model outputs count
// as read after the last step, tensors nobody reads stay -1. A backend may
// fold an op into its producer only when nothing else reads between them.
inline std::vector<int> last_reads(const Graph& graph, const std::vector<const Op*>& ops) {
  const int n = static_cast<int>(ops.size());
  std::vector<int> last_read(graph.tensors.size(), -1);
  for (int s = 0; s < n; ++s) {
    for (int t : ops[static_cast<size_t>(s)]->inputs) {
      if (t >= 0) last_read[static_cast<size_t>(t)] = s;
    }
  }
  for (int t : graph.outputs) last_read[static_cast<size_t>(t)] = n;
  return last_read;
}

}  // namespace osprey::backend_checks
