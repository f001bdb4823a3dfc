// The lowering of elementwise ops: the binary ops (float32 ADD, SUB, MUL,
// DIV, MAXIMUM, MINIMUM; int8/uint8 ADD, SUB, MUL), the clamps RELU, RELU6 and
// RELU_N1_TO_1 (both types), and the float32-only unary ops and PRELU.
#include <xnnpack.h>

#include <algorithm>
#include <vector>

#include "backends/xnnpack/lowering_rules.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey::xnnpack::lowering {

using namespace backend_checks;

namespace {

Shape broadcast_shape(const Shape& a, const Shape& b, bool& ok) {
  const size_t rank = std::max(a.size(), b.size());
  Shape result(rank, 1);
  ok = true;
  for (size_t i = 0; i < rank; ++i) {
    const int32_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int32_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) ok = false;
    result[i] = std::max(da, db);
  }
  return result;
}

// XNNPACK takes quantized ADD/SUB when both input/output scale ratios are in
// [2^-10, 2^8) and MUL when (sa * sb) / so is in [2^-16, 2^8) - the same
// ranges in which the reference kernels use its arithmetic.
Reason check_scale_ratios(OpCode code, const Tensor& x, const Tensor& y, const Tensor& output) {
  const quantized::Affine px = quantized::affine(x), py = quantized::affine(y),
                          po = quantized::affine(output);
  if (code == OpCode::kMul) {
    const float ratio = px.scale * py.scale / po.scale;
    if (ratio < 0x1.0p-16f || ratio >= 0x1.0p+8f) return "product/output scale ratio outside XNNPACK's range";
  } else {
    for (float ratio : {px.scale / po.scale, py.scale / po.scale}) {
      if (ratio < 0x1.0p-10f || ratio >= 0x1.0p+8f) return "input/output scale ratio outside XNNPACK's range";
    }
  }
  return "";
}

}  // namespace

Reason lower_binary(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& x = in(g, op, 0);
  const Tensor& y = in(g, op, 1);
  const Tensor& output = out(g, op);
  const DType type = output.type;
  if (!rule.operand(x, type) || !rule.operand(y, type) || !rule.activation(output, type)) {
    return rule.quantized() ? "inputs/output not int8/uint8 tensors of one type"
                            : "inputs/output not float32 activations or constants with data";
  }
  if (x.is_constant && y.is_constant) return "both inputs constant";
  bool ok = false;
  if (broadcast_shape(x.shape, y.shape, ok) != output.shape || !ok)
    return "output shape is not the broadcast shape";
  const auto code = static_cast<OpCode>(op.code);
  if (rule.quantized()) {
    if (Reason r = check_scale_ratios(code, x, y, output); !r.empty()) return r;
  }
  Range range;
  if (code != OpCode::kMaximum && code != OpCode::kMinimum) {
    if (Reason r = rule.fused_range(options_of<ElementwiseOptions>(op).activation, output, range); !r.empty())
      return r;
  }
  if (!b) return "";
  const uint32_t i0 = b->value(op.inputs[0]), i1 = b->value(op.inputs[1]), o = b->value(op.outputs[0]);
  xnn_status s = xnn_status_success;
  switch (code) {
    case OpCode::kAdd: s = xnn_define_add2(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kSub: s = xnn_define_subtract(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kMul: s = xnn_define_multiply2(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kDiv: s = xnn_define_divide(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kMaximum: s = xnn_define_maximum2(b->subgraph(), i0, i1, o, 0); break;
    case OpCode::kMinimum: s = xnn_define_minimum2(b->subgraph(), i0, i1, o, 0); break;
    default: fail("not a binary op");
  }
  check_xnn(s, rule.label("binary op definition"));
  return "";
}

// RELU, RELU6, RELU_N1_TO_1: a clamp; quantized between tensors of one
// quantization (the reference kernels' rescale by in/out = 1 is the identity).
Reason lower_clamp(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, -1, Params::kSame); !r.empty()) return r;
  if (input.shape != output.shape) return "input and output shapes differ";
  Activation a = Activation::kRelu;
  if (op.code == static_cast<int32_t>(OpCode::kRelu6)) a = Activation::kRelu6;
  if (op.code == static_cast<int32_t>(OpCode::kReluN1To1)) a = Activation::kReluN1To1;
  Range range;
  if (Reason r = rule.fused_range(a, output, range); !r.empty()) return r;
  if (!b) return "";
  check_xnn(xnn_define_clamp(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                             b->value(op.outputs[0]), 0),
            rule.label("clamp definition"));
  return "";
}

// HARD_SWISH, LOGISTIC, SOFTMAX, LEAKY_RELU (float32 only).
Reason lower_unary(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output); !r.empty()) return r;
  if (input.shape != output.shape) return "input and output shapes differ";
  const auto code = static_cast<OpCode>(op.code);
  if (code == OpCode::kSoftmax && options_of<SoftmaxOptions>(op).beta != 1.0f) return "softmax beta is not 1";
  if (!b) return "";
  xnn_subgraph_t sg = b->subgraph();
  const uint32_t i = b->value(op.inputs[0]), o = b->value(op.outputs[0]);
  xnn_status s = xnn_status_success;
  switch (code) {
    case OpCode::kHardSwish: s = xnn_define_hardswish(sg, i, o, 0); break;
    case OpCode::kLogistic: {
      // This XNNPACK's sigmoid returns NaN for inputs above about 1e27. It is
      // already exactly 0 or 1 beyond +-88, so a clamp at +-1e4 first changes
      // no other result.
      const uint32_t clamped = b->internal(dims_of(input.shape));
      s = xnn_define_clamp(sg, -1e4f, 1e4f, i, clamped, 0);
      if (s == xnn_status_success) s = xnn_define_sigmoid(sg, clamped, o, 0);
      break;
    }
    case OpCode::kSoftmax: s = xnn_define_softmax(sg, i, o, 0); break;
    case OpCode::kLeakyRelu:
      s = xnn_define_leaky_relu(sg, options_of<LeakyReluOptions>(op).alpha, i, o, 0);
      break;
    default: fail("not a unary op");
  }
  check_xnn(s, rule.label("unary op definition"));
  return "";
}

// PRELU with one slope per channel (or one for all) over a 4D input (float32 only).
Reason lower_prelu(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& alpha = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, 4); !r.empty()) return r;
  if (output.shape != input.shape) return "input and output shapes differ";
  if (!rule.constant(alpha, input.type)) return "slope is not a constant of the input's type";
  const int64_t channels = input.dim(3);
  const bool per_channel =
      alpha.num_elements() == channels && alpha.rank() >= 1 && alpha.shape.back() == channels;
  if (!per_channel && alpha.num_elements() != 1) return "slope varies over more than the channels";
  if (!b) return "";
  uint32_t slope = XNN_INVALID_VALUE_ID;
  if (per_channel) {
    slope = b->static_value(alpha.data, {static_cast<size_t>(channels)});
  } else {
    slope = b->owned_static(std::vector<float>(static_cast<size_t>(channels), alpha.data_as<float>()[0]));
  }
  check_xnn(xnn_define_prelu(b->subgraph(), b->value(op.inputs[0]), slope, b->value(op.outputs[0]), 0),
            "prelu definition");
  return "";
}

}  // namespace osprey::xnnpack::lowering
