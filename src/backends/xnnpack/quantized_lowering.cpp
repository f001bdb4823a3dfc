#include "backends/xnnpack/quantized_lowering.h"

#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/op_checks.h"
#include "backends/xnnpack/quantized_checks.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"
#include "kernels/geometry.h"
#include "kernels/ref/quantized/common.h"

// What Debian's XNNPACK (0.0~git20220216) takes in a quantized subgraph, and
// what stays on osprey's integer reference kernels (elementwise, pooling and
// layout ops are in quantized_layout_lowering.cpp):
//   lowered   CONV_2D, DEPTHWISE_CONV_2D (int8 per-tensor or per-channel,
//             uint8), FULLY_CONNECTED and TRANSPOSE_CONV (per-tensor
//             weights), ADD, SUB, MUL,
//             MAX_POOL_2D, PAD/PADV2, RESHAPE/SQUEEZE/EXPAND_DIMS,
//             RESIZE_BILINEAR, RELU/RELU6/RELU_N1_TO_1 (as clamps)
//   no quantized subgraph node in that version: AVERAGE_POOL_2D,
//             CONCATENATION, HARD_SWISH, LEAKY_RELU, TANH, SOFTMAX, PRELU,
//             per-channel FULLY_CONNECTED and TRANSPOSE_CONV
//   arithmetic differs from LiteRT's (which runs TFLite's own kernels there):
//             LOGISTIC (XNNPACK builds its table with lrintf and another
//             formula), MEAN (XNNPACK's global average pooling requantizes in
//             float, TFLite's integer MEAN in fixed point), QUANTIZE (XNNPACK
//             multiplies by 1/scale and rounds half to even, TFLite divides
//             and rounds half away from zero)
// Conv-family ops and MUL requantize "fp32" (float(acc) * scale, rounded
// half to even), ADD/SUB with 21-bit multipliers, exactly as
// kernels/ref/quantized does with the LiteRT arithmetic; the checks below
// mirror XNNPACK's own parameter limits (it refuses, not approximates,
// outside them), and where the reference kernels would switch to TFLite's
// fixed-point arithmetic (ADD/SUB/MUL scale ratios out of XNNPACK's range),
// the op is not claimed.

namespace osprey::xnnpack {

using namespace quantized;

namespace {

using namespace backend_checks;

// ---------------------------------------------------------------- convolutions

// The weights of a convolution-family op with `channels` output channels
// along `axis`: int8 (zero point 0, one scale or one per channel) or uint8
// (one scale and zero point).
struct QuantizedWeights {
  const Tensor* tensor = nullptr;
  std::vector<float> scales;  // one per output channel
  bool per_channel = false;
};

Reason check_weights(const Tensor& w, DType type, int64_t channels, int axis, QuantizedWeights& qw) {
  if (w.type != type || !w.is_constant || w.data == nullptr || w.sparsity || !dims_positive(w.shape))
    return "weights are not a dense constant of the input's type";
  const size_t n = w.quant.scale.size();
  if (n != 1 && n != static_cast<size_t>(channels))
    return "weights have neither one scale nor one per channel";
  if (w.quant.zero_point.size() > n) return "weights have more zero points than scales";
  qw.tensor = &w;
  qw.per_channel = n > 1;
  if (qw.per_channel && (type != DType::kInt8 || w.quant.axis != axis))
    return "weights quantized per channel along another axis";
  for (int64_t zp : w.quant.zero_point) {
    if (type == DType::kInt8 ? zp != 0 : (zp < 0 || zp > 255)) return "weights' zero point";
  }
  for (float s : w.quant.scale) {
    if (!std::isnormal(s) || s <= 0) return "weights' scale is not a normal positive number";
  }
  qw.scales.assign(static_cast<size_t>(channels), w.quant.scale[0]);
  if (qw.per_channel) qw.scales.assign(w.quant.scale.begin(), w.quant.scale.end());
  return "";
}

// XNNPACK's requantization scale per channel, in float as it computes it
// (and as the reference kernels do): in_scale * w_scale / out_scale, which
// it takes in [2^-32, 256); the bias' scale in_scale * w_scale must be normal.
Reason check_requantization(const Affine& in, const QuantizedWeights& w, const Affine& out) {
  for (float ws : w.scales) {
    const float bias_scale = in.scale * ws;
    const float scale = bias_scale / out.scale;
    if (!std::isnormal(bias_scale) || scale < 0x1.0p-32f || scale >= 256.0f)
      return "requantization scale outside XNNPACK's [2^-32, 256)";
  }
  return "";
}

Reason check_bias(const Graph& g, const Op& op, size_t i, int64_t channels) {
  if (!has(op, i)) return "";
  const Tensor& bias = in(g, op, i);
  if (bias.type != DType::kInt32 || !bias.is_constant || bias.data == nullptr || bias.sparsity)
    return "bias is not an int32 constant";
  if (bias.num_elements() != channels) return "bias size differs from the output channels";
  return "";
}

// The XNNPACK values of the weights (qint8 / quint8 / qcint8 along
// `channel_dim`) and the bias (qint32 / qcint32, or none).
uint32_t define_weights(Builder* b, const QuantizedWeights& w, size_t channel_dim) {
  const Tensor& t = *w.tensor;
  const std::vector<size_t> dims = dims_of(t.shape);
  if (w.per_channel) return b->channelwise_static(xnn_datatype_qcint8, t.data, dims, channel_dim, w.scales);
  const auto type = t.type == DType::kInt8 ? xnn_datatype_qint8 : xnn_datatype_quint8;
  return b->quantized_static(type, t.data, dims, static_cast<int32_t>(zero_point_of(t)), w.scales[0]);
}

uint32_t define_bias(const Graph& g, const Op& op, size_t i, Builder* b, const Affine& input,
                     const QuantizedWeights& w) {
  if (!has(op, i)) return XNN_INVALID_VALUE_ID;
  const Tensor& bias = in(g, op, i);
  const std::vector<size_t> dims{static_cast<size_t>(bias.num_elements())};
  if (w.per_channel) {
    std::vector<float> scales;
    for (float ws : w.scales) scales.push_back(input.scale * ws);
    return b->channelwise_static(xnn_datatype_qcint32, bias.data, dims, 0, std::move(scales));
  }
  return b->quantized_static(xnn_datatype_qint32, bias.data, dims, 0, input.scale * w.scales[0]);
}

struct ConvOperands {
  const Tensor* input = nullptr;
  const Tensor* output = nullptr;
  QuantizedWeights weights;
  Range range;
  Window y, x;
  int64_t filter_h = 1, filter_w = 1;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
};

// CONV_2D (weights [Cout, KH, KW, Cin/groups], per-channel along 0) and
// DEPTHWISE_CONV_2D (weights [1, KH, KW, Cout], per-channel along 3).
template <typename Options>
Reason conv_operands(const Graph& g, const Op& op, bool depthwise, ConvOperands& c) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  c.input = &in(g, op, 0);
  c.output = &out(g, op);
  const DType type = c.input->type;
  if (!is_activation(*c.input, type, 4) || !is_activation(*c.output, type, 4))
    return "input/output not int8/uint8 4D activations of one type";
  const Tensor& filter = in(g, op, 1);
  if (filter.rank() != 4 || (depthwise && filter.dim(0) != 1)) return "unexpected filter shape";
  const int64_t cout = depthwise ? filter.dim(3) : filter.dim(0);
  if (Reason r = check_weights(filter, type, cout, depthwise ? 3 : 0, c.weights); !r.empty()) return r;
  if (Reason r = check_requantization(affine(*c.input), c.weights, affine(*c.output)); !r.empty()) return r;
  if (Reason r = check_bias(g, op, 2, cout); !r.empty()) return r;
  const auto opt = options_of<Options>(op);
  if (Reason r = activation_bounds(opt.activation, *c.output, c.range); !r.empty()) return r;
  c.filter_h = filter.dim(1);
  c.filter_w = filter.dim(2);
  c.stride_h = opt.stride_h;
  c.stride_w = opt.stride_w;
  c.dilation_h = opt.dilation_h;
  c.dilation_w = opt.dilation_w;
  if (!window(c.input->dim(1), c.filter_h, c.stride_h, c.dilation_h, opt.padding, c.y) ||
      !window(c.input->dim(2), c.filter_w, c.stride_w, c.dilation_w, opt.padding, c.x)) {
    return "invalid window";
  }
  if (c.output->shape != Shape{c.input->dim(0), static_cast<int32_t>(c.y.out), static_cast<int32_t>(c.x.out),
                               static_cast<int32_t>(cout)}) {
    return "output shape differs from the convolution's";
  }
  return "";
}

Reason lower_conv(const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<Conv2DOptions>(g, op, false, c); !r.empty()) return r;
  const Tensor& filter = *c.weights.tensor;
  const int64_t cin = c.input->dim(3), group_cin = filter.dim(3), cout = filter.dim(0);
  if (cin % group_cin != 0) return "input channels not a multiple of the filter's";
  const int64_t groups = cin / group_cin;
  if (cout % groups != 0) return "output channels not a multiple of the groups";
  if (!b) return "";
  const auto [input_id, pad] = b->conv_input(op.inputs[0]);
  check_xnn(
      xnn_define_convolution_2d(
          b->subgraph(), c.y.before + pad.top, c.x.after + pad.right, c.y.after + pad.bottom,
          c.x.before + pad.left, static_cast<uint32_t>(c.filter_h), static_cast<uint32_t>(c.filter_w),
          static_cast<uint32_t>(c.stride_h), static_cast<uint32_t>(c.stride_w),
          static_cast<uint32_t>(c.dilation_h), static_cast<uint32_t>(c.dilation_w),
          static_cast<uint32_t>(groups), static_cast<size_t>(group_cin), static_cast<size_t>(cout / groups),
          c.range.min, c.range.max, input_id, define_weights(b, c.weights, 0),
          define_bias(g, op, 2, b, affine(*c.input), c.weights), b->value(op.outputs[0]), 0),
      "quantized convolution definition");
  return "";
}

Reason lower_depthwise(const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<DepthwiseConv2DOptions>(g, op, true, c); !r.empty()) return r;
  const int64_t cin = c.input->dim(3), cout = c.weights.tensor->dim(3);
  if (cout % cin != 0) return "filter channels not a multiple of the input's";
  if (!b) return "";
  const auto [input_id, pad] = b->conv_input(op.inputs[0]);
  check_xnn(xnn_define_depthwise_convolution_2d(
                b->subgraph(), c.y.before + pad.top, c.x.after + pad.right, c.y.after + pad.bottom,
                c.x.before + pad.left, static_cast<uint32_t>(c.filter_h), static_cast<uint32_t>(c.filter_w),
                static_cast<uint32_t>(c.stride_h), static_cast<uint32_t>(c.stride_w),
                static_cast<uint32_t>(c.dilation_h), static_cast<uint32_t>(c.dilation_w),
                static_cast<uint32_t>(cout / cin), static_cast<size_t>(cin), c.range.min, c.range.max,
                input_id, define_weights(b, c.weights, 3),
                define_bias(g, op, 2, b, affine(*c.input), c.weights), b->value(op.outputs[0]), 0),
            "quantized depthwise convolution definition");
  return "";
}

Reason lower_fully_connected(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  const DType type = input.type;
  if (!is_activation(input, type) || !is_activation(output, type))
    return "input/output not int8/uint8 activations of one type";
  const Tensor& weights = in(g, op, 1);
  if (weights.rank() != 2) return "weights are not 2D";
  const int64_t units = weights.dim(0), depth = weights.dim(1);
  QuantizedWeights w;
  if (Reason r = check_weights(weights, type, units, 0, w); !r.empty()) return r;
  // That XNNPACK's subgraph has no qcint8 fully connected.
  if (w.per_channel) return "per-channel weights (no qcint8 fully connected in this XNNPACK)";
  if (Reason r = check_requantization(affine(input), w, affine(output)); !r.empty()) return r;
  if (Reason r = check_bias(g, op, 2, units); !r.empty()) return r;
  const auto opt = options_of<FullyConnectedOptions>(op);
  Range range;
  if (Reason r = activation_bounds(opt.activation, output, range); !r.empty()) return r;
  if (input.num_elements() % depth != 0) return "input size not a multiple of the weights' depth";
  uint32_t flags = 0;
  if (opt.keep_num_dims) {
    Shape expected = input.shape;
    expected.back() = static_cast<int32_t>(units);
    if (input.shape.back() != depth || output.shape != expected) return "output shape differs";
  } else {
    if (output.shape !=
        Shape{static_cast<int32_t>(input.num_elements() / depth), static_cast<int32_t>(units)}) {
      return "output shape differs";
    }
    flags = XNN_FLAG_TENSORFLOW_RESHAPE_2D;
  }
  if (!b) return "";
  check_xnn(xnn_define_fully_connected(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                                       define_weights(b, w, 0), define_bias(g, op, 2, b, affine(input), w),
                                       b->value(op.outputs[0]), flags),
            "quantized fully connected definition");
  return "";
}

// TRANSPOSE_CONV (output_shape, weights [Cout, KH, KW, Cin], input[, bias])
// with per-tensor weights: this XNNPACK has no qcint8 deconvolution.
Reason lower_transpose_conv(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 3, 4, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 2);
  const Tensor& weights = in(g, op, 1);
  const Tensor& output = out(g, op);
  const DType type = input.type;
  if (!is_activation(input, type, 4) || !is_activation(output, type, 4))
    return "input/output not int8/uint8 4D activations of one type";
  if (weights.rank() != 4) return "weights are not 4D";
  const int64_t cin = input.dim(3), cout = weights.dim(0);
  if (weights.dim(3) != cin) return "weights' input channels differ from the input's";
  QuantizedWeights w;
  if (Reason r = check_weights(weights, type, cout, 0, w); !r.empty()) return r;
  if (w.per_channel) return "per-channel weights (no qcint8 deconvolution in this XNNPACK)";
  if (Reason r = check_requantization(affine(input), w, affine(output)); !r.empty()) return r;
  if (Reason r = check_bias(g, op, 3, cout); !r.empty()) return r;
  const auto opt = options_of<TransposeConvOptions>(op);
  Range range;
  if (Reason r = activation_bounds(opt.activation, output, range); !r.empty()) return r;
  if (output.dim(0) != input.dim(0) || output.dim(3) != cout) return "output shape differs";
  // As for float: XNNPACK's deconvolution setup crashes on outputs narrower than one stride.
  if (output.dim(1) < opt.stride_h || output.dim(2) < opt.stride_w) return "output smaller than one stride";
  const auto y =
      geometry::try_deconv_axis(input.dim(1), weights.dim(1), opt.stride_h, output.dim(1), opt.padding);
  const auto x =
      geometry::try_deconv_axis(input.dim(2), weights.dim(2), opt.stride_w, output.dim(2), opt.padding);
  if (!y || !x) return "output size XNNPACK's deconvolution cannot give";
  if (!b) return "";
  check_xnn(
      xnn_define_deconvolution_2d(
          b->subgraph(), y->pad_before, x->pad_after, y->pad_after, x->pad_before, y->adjustment,
          x->adjustment, static_cast<uint32_t>(weights.dim(1)), static_cast<uint32_t>(weights.dim(2)),
          static_cast<uint32_t>(opt.stride_h), static_cast<uint32_t>(opt.stride_w), 1, 1, 1,
          static_cast<size_t>(cin), static_cast<size_t>(cout), range.min, range.max, b->value(op.inputs[2]),
          define_weights(b, w, 0), define_bias(g, op, 3, b, affine(input), w), b->value(op.outputs[0]), 0),
      "quantized deconvolution definition");
  return "";
}

}  // namespace

bool is_quantized_op(const Graph& g, const Op& op) {
  const auto quantized = [&](int t) { return t >= 0 && is_int8_or_uint8(tensor_at(g, t).type); };
  return std::any_of(op.inputs.begin(), op.inputs.end(), quantized) ||
         std::any_of(op.outputs.begin(), op.outputs.end(), quantized);
}

std::string lower_quantized(const Graph& g, const Op& op, SubgraphBuilder* b) {
  // With TFLite's fixed-point arithmetic selected (OSPREY_QUANT_ARITHMETIC),
  // the reference kernels no longer compute what XNNPACK does.
  if (quant::arithmetic() != quant::Arithmetic::kLiteRT) return "integer arithmetic is not LiteRT's";
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) return "custom op";
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D: return lower_conv(g, op, b);
    case OpCode::kDepthwiseConv2D: return lower_depthwise(g, op, b);
    case OpCode::kFullyConnected: return lower_fully_connected(g, op, b);
    case OpCode::kTransposeConv: return lower_transpose_conv(g, op, b);
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul: return lower_binary(g, op, b);
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1: return lower_clamp(g, op, b);
    case OpCode::kMaxPool2D: return lower_max_pool(g, op, b);
    case OpCode::kPad:
    case OpCode::kPadV2: return lower_pad(g, op, b);
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims: return lower_reshape(g, op, b);
    case OpCode::kResizeBilinear: return lower_resize_bilinear(g, op, b);
    default: return "no XNNPACK operator for this quantized op, or another arithmetic";
  }
}

}  // namespace osprey::xnnpack