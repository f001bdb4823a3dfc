#include "backends/xnnpack/lowering.h"

#include <algorithm>

#include "backends/xnnpack/lowering_rules.h"
#include "kernels/ref/quantized/fixed_point.h"

// What Debian's XNNPACK (0.0~git20220216) takes, by op and element type
// (docs/architecture.md, "Integer models on XNNPACK", says why):
//   float32   the whole table below
//   int8/uint8 CONV_2D, DEPTHWISE_CONV_2D (int8 per-tensor or per-channel,
//             uint8), FULLY_CONNECTED and TRANSPOSE_CONV (per-tensor
//             weights), ADD, SUB, MUL, MAX_POOL_2D, PAD/PADV2,
//             RESHAPE/SQUEEZE/EXPAND_DIMS, RESIZE_BILINEAR,
//             RELU/RELU6/RELU_N1_TO_1 (as clamps)
//   int8/uint8 ops left on osprey's integer reference kernels: no quantized
//             subgraph node in that version (AVERAGE_POOL_2D, CONCATENATION,
//             HARD_SWISH, LEAKY_RELU, TANH, SOFTMAX, PRELU, per-channel
//             FULLY_CONNECTED and TRANSPOSE_CONV), or arithmetic that differs
//             from LiteRT's (LOGISTIC's table, MEAN's float requantization,
//             QUANTIZE's rounding).
// Quantized conv-family ops and MUL requantize "fp32" (float(acc) * scale,
// rounded half to even), ADD/SUB with 21-bit multipliers, exactly as
// kernels/ref/quantized does with the LiteRT arithmetic; the quantized checks
// mirror XNNPACK's own parameter limits (it refuses, not approximates,
// outside them), and where the reference kernels would switch to TFLite's
// fixed-point arithmetic the op is not claimed.

namespace osprey::xnnpack {

namespace {

using namespace lowering;

// A builtin op's lowering, and whether it also lowers int8/uint8 ops.
struct Entry {
  Lowering lower = nullptr;
  bool integer = false;
};

Entry entry_for(OpCode code) {
  switch (code) {
    case OpCode::kConv2D: return {lower_conv, true};
    case OpCode::kDepthwiseConv2D: return {lower_depthwise, true};
    case OpCode::kTransposeConv: return {lower_transpose_conv, true};
    case OpCode::kFullyConnected: return {lower_fully_connected, true};
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul: return {lower_binary, true};
    case OpCode::kDiv:
    case OpCode::kMaximum:
    case OpCode::kMinimum: return {lower_binary, false};
    case OpCode::kMaxPool2D: return {lower_pool, true};
    case OpCode::kAveragePool2D: return {lower_pool, false};
    case OpCode::kMean: return {lower_mean, false};
    case OpCode::kPad:
    case OpCode::kPadV2: return {lower_pad, true};
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims: return {lower_reshape, true};
    case OpCode::kResizeBilinear: return {lower_resize_bilinear, true};
    case OpCode::kDepthToSpace: return {lower_depth_to_space, false};
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1: return {lower_clamp, true};
    case OpCode::kHardSwish:
    case OpCode::kLogistic:
    case OpCode::kSoftmax:
    case OpCode::kLeakyRelu: return {lower_unary, false};
    case OpCode::kPrelu: return {lower_prelu, false};
    default: return {};
  }
}

// Whether `op` reads or writes int8/uint8 tensors.
bool is_quantized_op(const Graph& g, const Op& op) {
  const auto integer = [&](int t) {
    return t >= 0 && quantized::is_int8_or_uint8(backend_checks::tensor_at(g, t).type);
  };
  return std::any_of(op.inputs.begin(), op.inputs.end(), integer) ||
         std::any_of(op.outputs.begin(), op.outputs.end(), integer);
}

}  // namespace

std::string lower(const Graph& g, const Op& op, SubgraphBuilder* b) {
  const TypeRule rule(is_quantized_op(g, op));
  // With TFLite's fixed-point arithmetic selected (OSPREY_QUANT_ARITHMETIC),
  // the reference kernels no longer compute what XNNPACK does.
  if (rule.quantized() && quant::arithmetic() != quant::Arithmetic::kLiteRT)
    return "integer arithmetic is not LiteRT's";
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
    if (!rule.quantized() && op.custom_code == "Convolution2DTransposeBias")
      return lower_mediapipe_deconv(rule, g, op, b);
    return "custom op";
  }
  const Entry e = entry_for(static_cast<OpCode>(op.code));
  if (rule.quantized() && !e.integer)
    return "no XNNPACK operator for this quantized op, or another arithmetic";
  if (!e.lower) return "no XNNPACK operator";
  return e.lower(rule, g, op, b);
}

}  // namespace osprey::xnnpack
