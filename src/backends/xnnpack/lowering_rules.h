// What the lowering's op families (conv_lowering.cpp, elementwise_lowering.cpp,
// layout_lowering.cpp) share: the TypeRule that says what a float32 or an
// int8/uint8 op accepts, the convolution/pooling window, and the families'
// entry points, which lower() (lowering.h) picks by op code.
#pragma once

#include <xnnpack.h>

#include <string>

#include "backends/op_checks.h"
#include "backends/xnnpack/quantized_checks.h"
#include "backends/xnnpack/subgraph_builder.h"
#include "graph/graph.h"

namespace osprey::xnnpack::lowering {

using backend_checks::Range;
using backend_checks::Window;
using Builder = SubgraphBuilder;
using Reason = std::string;

// A float32 tensor XNNPACK can hold: dense, known positive dims, rank <= 6
// (rank `rank` when given).
inline bool is_f32(const Tensor& t, int rank = -1) {
  return backend_checks::is_dense_f32(t, rank) && t.rank() <= XNN_MAX_TENSOR_DIMS;
}
// A value computed at run time (not a constant), rank >= 1.
inline bool is_f32_activation(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && !t.is_constant && t.rank() >= 1;
}
inline bool is_f32_static(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && t.is_constant && t.data != nullptr;
}

// Whether the quantized input and output of an op must only share their type
// or also their scale and zero point (ops that move values without rescaling).
enum class Params { kOneType, kSame };

// The one place the element type enters an op's lowering: float32 tensors,
// or int8/uint8 ones of one type with parameters XNNPACK accepts
// (quantized_checks.h). Everything else about an op is lowered alike.
class TypeRule {
 public:
  explicit TypeRule(bool quantized) : quantized_(quantized) {}
  bool quantized() const { return quantized_; }

  // A run-time value (rank `rank` when given); `type` is the op's int8/uint8 type.
  bool activation(const Tensor& t, DType type, int rank = -1) const {
    return quantized_ ? quantized::is_activation(t, type, rank) : is_f32_activation(t, rank);
  }
  // A constant with data.
  bool constant(const Tensor& t, DType type) const {
    return quantized_ ? quantized::is_static(t, type) : is_f32_static(t);
  }
  // An input that is either of the two.
  bool operand(const Tensor& t, DType type) const {
    return t.is_constant ? constant(t, type) : activation(t, type);
  }
  // Quantized tensors with one scale and zero point (always true for float).
  bool same_quantization(const Tensor& a, const Tensor& b) const {
    return !quantized_ || quantized::same_params(a, b);
  }

  // Whether input and output are activations of the op's type (rank `rank`
  // when given), quantized alike as `params` says.
  Reason activations(const Tensor& input, const Tensor& output, int rank = -1,
                     Params params = Params::kOneType) const {
    const DType type = input.type;
    if (activation(input, type, rank) && activation(output, type, rank) &&
        (params == Params::kOneType || same_quantization(input, output))) {
      return "";
    }
    Reason r = std::string("input/output not ") + (quantized_ ? "int8/uint8" : "float32") +
               (rank == 4 ? " 4D" : "") + " activations";
    if (quantized_) r += params == Params::kSame ? " of one quantization" : " of one type";
    return r;
  }

  // The float clamp XNNPACK is given for fused activation `a` on `output`:
  // for quantized ops, bounds it quantizes back to the reference kernel's.
  Reason fused_range(Activation a, const Tensor& output, Range& r) const {
    if (quantized_) return quantized::activation_bounds(a, output, r);
    return backend_checks::activation_range(a, r) ? "" : "unsupported fused activation";
  }

  // The name of a node definition in errors.
  std::string label(const char* what) const { return quantized_ ? std::string("quantized ") + what : what; }

 private:
  bool quantized_;
};

inline Reason need_io(const Op& op, size_t min_inputs, size_t max_inputs, size_t outputs) {
  return backend_checks::io_mismatch(op, min_inputs, max_inputs, outputs);
}

// A convolution's window over height and width: filter size, strides,
// dilations and padding, as CONV_2D, DEPTHWISE_CONV_2D and the poolings give them.
struct Window2D {
  int64_t filter_h = 1, filter_w = 1;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kSame;
  Window y, x;  // computed by place_window
};

// Places the window over `input` and checks that `output` is the
// [N, out_h, out_w, channels] it gives.
inline Reason place_window(const Tensor& input, const Tensor& output, int64_t channels, Window2D& w,
                           const char* output_mismatch) {
  using backend_checks::window;
  if (!window(input.dim(1), w.filter_h, w.stride_h, w.dilation_h, w.padding, w.y) ||
      !window(input.dim(2), w.filter_w, w.stride_w, w.dilation_w, w.padding, w.x)) {
    return "invalid window";
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(w.y.out), static_cast<int32_t>(w.x.out),
                            static_cast<int32_t>(channels)}) {
    return output_mismatch;
  }
  return "";
}

// The op families, each as lower() (lowering.h) for an op of `rule`'s type;
// declared through the function type so each file's list is one line.
using LoweringFn = Reason(const TypeRule& rule, const Graph& g, const Op& op, Builder* b);
using Lowering = LoweringFn*;

LoweringFn lower_conv, lower_depthwise, lower_transpose_conv, lower_mediapipe_deconv,
    lower_fully_connected;                                       // conv_lowering.cpp
LoweringFn lower_binary, lower_clamp, lower_unary, lower_prelu;  // elementwise_lowering.cpp (clamp: RELU*)
LoweringFn lower_pool, lower_mean, lower_pad, lower_reshape, lower_resize_bilinear,
    lower_depth_to_space;  // layout_lowering.cpp

}  // namespace osprey::xnnpack::lowering
