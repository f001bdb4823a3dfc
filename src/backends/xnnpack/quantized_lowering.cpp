#include "backends/xnnpack/quantized_lowering.h"

#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "backends/op_checks.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"
#include "kernels/ref/quantized/common.h"

// What Debian's XNNPACK (0.0~git20220216) takes in a quantized subgraph, and
// what stays on osprey's integer reference kernels:
//   lowered   CONV_2D, DEPTHWISE_CONV_2D (int8 per-tensor or per-channel,
//             uint8), FULLY_CONNECTED (per-tensor weights), ADD, SUB, MUL,
//             MAX_POOL_2D, PAD/PADV2, RESHAPE/SQUEEZE/EXPAND_DIMS,
//             RESIZE_BILINEAR, RELU/RELU6/RELU_N1_TO_1 (as clamps)
//   no quantized subgraph node in that version: AVERAGE_POOL_2D,
//             CONCATENATION, HARD_SWISH, LEAKY_RELU, TANH, SOFTMAX, PRELU,
//             per-channel FULLY_CONNECTED
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

namespace {

using namespace backend_checks;
using Builder = SubgraphBuilder;
using Reason = std::string;
using ref::quantized::QuantizedRange;

bool is_int8_or_uint8(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8;
}

int32_t type_min(DType t) {
  return t == DType::kInt8 ? -128 : 0;
}
int32_t type_max(DType t) {
  return t == DType::kInt8 ? 127 : 255;
}

struct Affine {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

int64_t zero_point_of(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}

// A dense int8/uint8 tensor of `type` with known positive dims (rank `rank`
// when given) and per-tensor parameters XNNPACK accepts: a normal positive
// scale, a zero point in the type's range.
bool is_quantized(const Tensor& t, DType type, int rank = -1) {
  if (t.type != type || !is_int8_or_uint8(type) || t.sparsity || !dims_positive(t.shape)) return false;
  if ((rank >= 0 && t.rank() != rank) || t.rank() > XNN_MAX_TENSOR_DIMS) return false;
  if (t.quant.scale.size() != 1 || t.quant.zero_point.size() > 1) return false;
  const float scale = t.quant.scale[0];
  const int64_t zp = zero_point_of(t);
  return std::isnormal(scale) && scale > 0 && zp >= type_min(type) && zp <= type_max(type);
}
bool is_activation(const Tensor& t, DType type, int rank = -1) {
  return is_quantized(t, type, rank) && !t.is_constant && t.rank() >= 1;
}
bool is_static(const Tensor& t, DType type) {
  return is_quantized(t, type) && t.is_constant && t.data != nullptr;
}

Affine affine(const Tensor& t) {
  return {t.quant.scale[0], static_cast<int32_t>(zero_point_of(t))};
}
bool same_params(const Tensor& a, const Tensor& b) {
  return a.type == b.type && a.quant.scale[0] == b.quant.scale[0] && zero_point_of(a) == zero_point_of(b);
}

// XNNPACK takes clamp bounds as floats and quantizes them back with
// lrintf(bound / scale + zero_point): the bound of quantized value q is then
// (q - zero_point) * scale, checked to round-trip exactly.
bool bound_of(int32_t q, const Tensor& output, float& bound) {
  const Affine p = affine(output);
  const DType type = output.type;
  if (q <= type_min(type)) {
    bound = -kInf;
    return true;
  }
  if (q >= type_max(type)) {
    bound = kInf;
    return true;
  }
  bound = static_cast<float>(q - p.zero_point) * p.scale;
  const float back = std::fmin(
      std::fmax(bound / p.scale + static_cast<float>(p.zero_point), static_cast<float>(type_min(type))),
      static_cast<float>(type_max(type)));
  return std::lrintf(back) == q;
}

// The float range XNNPACK needs to clamp to exactly `q` on `output`.
Reason bounds_of(const QuantizedRange& q, const Tensor& output, Range& r) {
  if (q.min >= q.max) return "empty output range";
  if (!bound_of(q.min, output, r.min) || !bound_of(q.max, output, r.max))
    return "output bounds XNNPACK cannot express";
  return "";
}

// The fused activation's clamp, as the reference kernels compute it.
Reason activation_bounds(Activation a, const Tensor& output, Range& r) {
  Range unused;
  if (!activation_range(a, unused)) return "unsupported fused activation";
  return bounds_of(ref::quantized::activation_range(a, output), output, r);
}

Reason need_io(const Op& op, size_t min_inputs, size_t max_inputs, size_t outputs) {
  return io_mismatch(op, min_inputs, max_inputs, outputs);
}

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

// ---------------------------------------------------------------- elementwise

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

// ADD, SUB, MUL. XNNPACK takes ADD/SUB when both input/output scale ratios
// are in [2^-10, 2^8) and MUL when (sa * sb) / so is in [2^-16, 2^8) - the
// same ranges in which the reference kernels use its arithmetic.
Reason lower_binary(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& x = in(g, op, 0);
  const Tensor& y = in(g, op, 1);
  const Tensor& output = out(g, op);
  const DType type = output.type;
  const auto operand = [&](const Tensor& t) {
    return t.is_constant ? is_static(t, type) : is_activation(t, type);
  };
  if (!operand(x) || !operand(y) || !is_activation(output, type))
    return "inputs/output not int8/uint8 tensors of one type";
  if (x.is_constant && y.is_constant) return "both inputs constant";
  bool ok = false;
  if (broadcast_shape(x.shape, y.shape, ok) != output.shape || !ok)
    return "output shape is not the broadcast shape";
  const Affine px = affine(x), py = affine(y), po = affine(output);
  const auto code = static_cast<OpCode>(op.code);
  if (code == OpCode::kMul) {
    const float ratio = px.scale * py.scale / po.scale;
    if (ratio < 0x1.0p-16f || ratio >= 0x1.0p+8f) return "product/output scale ratio outside XNNPACK's range";
  } else {
    for (float ratio : {px.scale / po.scale, py.scale / po.scale}) {
      if (ratio < 0x1.0p-10f || ratio >= 0x1.0p+8f) return "input/output scale ratio outside XNNPACK's range";
    }
  }
  Range range;
  if (Reason r = activation_bounds(options_of<ElementwiseOptions>(op).activation, output, range); !r.empty())
    return r;
  if (!b) return "";
  const uint32_t i0 = b->value(op.inputs[0]), i1 = b->value(op.inputs[1]), o = b->value(op.outputs[0]);
  xnn_status s = xnn_status_success;
  switch (code) {
    case OpCode::kAdd: s = xnn_define_add2(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kSub: s = xnn_define_subtract(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    case OpCode::kMul: s = xnn_define_multiply2(b->subgraph(), range.min, range.max, i0, i1, o, 0); break;
    default: fail("not a quantized binary op");
  }
  check_xnn(s, "quantized binary op definition");
  return "";
}

// RELU, RELU6, RELU_N1_TO_1 between tensors of one quantization: a clamp
// (the reference kernels' rescale by in/out = 1 is the identity).
Reason lower_clamp(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, input.type) || !is_activation(output, input.type) ||
      input.shape != output.shape || !same_params(input, output)) {
    return "input/output not int8/uint8 activations of one shape and quantization";
  }
  Activation a = Activation::kRelu;
  if (op.code == static_cast<int32_t>(OpCode::kRelu6)) a = Activation::kRelu6;
  if (op.code == static_cast<int32_t>(OpCode::kReluN1To1)) a = Activation::kReluN1To1;
  Range range;
  if (Reason r = activation_bounds(a, output, range); !r.empty()) return r;
  if (!b) return "";
  check_xnn(xnn_define_clamp(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                             b->value(op.outputs[0]), 0),
            "quantized clamp definition");
  return "";
}

// ---------------------------------------------------------------- pooling, layout

Reason lower_max_pool(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, input.type, 4) || !is_activation(output, input.type, 4) ||
      !same_params(input, output)) {
    return "input/output not int8/uint8 4D activations of one quantization";
  }
  const auto opt = options_of<Pool2DOptions>(op);
  Range range;
  if (Reason r = activation_bounds(opt.activation, output, range); !r.empty()) return r;
  if (opt.filter_h == 1 && opt.filter_w == 1) {
    // A 1x1 window is a copy (XNNPACK refuses it as a pooling): a clamp.
    if (opt.stride_h != 1 || opt.stride_w != 1 || output.shape != input.shape) return "strided 1x1 pooling";
    if (!b) return "";
    check_xnn(xnn_define_clamp(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                               b->value(op.outputs[0]), 0),
              "quantized clamp definition");
    return "";
  }
  if (opt.stride_h > opt.filter_h || opt.stride_w > opt.filter_w) return "stride larger than the window";
  Window y, x;
  if (!window(input.dim(1), opt.filter_h, opt.stride_h, 1, opt.padding, y) ||
      !window(input.dim(2), opt.filter_w, opt.stride_w, 1, opt.padding, x)) {
    return "invalid window";
  }
  if (output.shape !=
      Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out), input.dim(3)})
    return "output shape differs from the pooling's";
  if (!b) return "";
  check_xnn(
      xnn_define_max_pooling_2d(b->subgraph(), y.before, x.after, y.after, x.before,
                                static_cast<uint32_t>(opt.filter_h), static_cast<uint32_t>(opt.filter_w),
                                static_cast<uint32_t>(opt.stride_h), static_cast<uint32_t>(opt.stride_w), 1,
                                1, range.min, range.max, b->value(op.inputs[0]), b->value(op.outputs[0]), 0),
      "quantized max pooling definition");
  return "";
}

// PAD pads with the output's zero point, PADV2 with its value input's raw
// value; XNNPACK takes the value as a float it quantizes back with lrintf.
// With `spatial`, also says whether it only pads height and width with the
// zero point (a padding a following convolution can take over).
Reason lower_pad(const Graph& g, const Op& op, Builder* b, SpatialPad* spatial = nullptr) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, input.type) || !is_activation(output, input.type) || !same_params(input, output))
    return "input/output not int8/uint8 activations of one quantization";
  std::vector<int64_t> pads;
  const Tensor& paddings = in(g, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{input.rank(), 2})
    return "paddings not constant";
  const Affine p = affine(output);
  int32_t raw = p.zero_point;
  if (has(op, 2)) {
    const Tensor& v = in(g, op, 2);
    if (!is_static(v, input.type) || v.num_elements() != 1 || !same_params(v, output))
      return "pad value is not a constant scalar of the output's quantization";
    raw = input.type == DType::kInt8 ? int32_t{v.data_as<int8_t>()[0]} : int32_t{v.data_as<uint8_t>()[0]};
  }
  const float value = static_cast<float>(raw - p.zero_point) * p.scale;
  const float back = std::fmin(
      std::fmax(value / p.scale + static_cast<float>(p.zero_point), static_cast<float>(type_min(input.type))),
      static_cast<float>(type_max(input.type)));
  if (std::lrintf(back) != raw) return "pad value XNNPACK cannot express";
  std::vector<size_t> pre, post;
  Shape expected;
  for (int d = 0; d < input.rank(); ++d) {
    const int64_t before = pads[static_cast<size_t>(2 * d)], after = pads[static_cast<size_t>(2 * d + 1)];
    if (before < 0 || after < 0) return "negative padding";
    pre.push_back(static_cast<size_t>(before));
    post.push_back(static_cast<size_t>(after));
    expected.push_back(static_cast<int32_t>(input.dim(d) + before + after));
  }
  if (expected != output.shape) return "output shape differs";
  if (spatial) {
    *spatial = {};
    if (raw != p.zero_point || input.rank() != 4 || pre[0] || post[0] || pre[3] || post[3])
      return "not a spatial zero pad";
    *spatial = {op.inputs[0], static_cast<uint32_t>(pre[1]), static_cast<uint32_t>(post[1]),
                static_cast<uint32_t>(pre[2]), static_cast<uint32_t>(post[2])};
  }
  if (!b) return "";
  SpatialPad fold;
  if (lower_pad(g, op, nullptr, &fold).empty() && b->fold_pad(op.outputs[0], fold)) return "";
  check_xnn(xnn_define_static_constant_pad(b->subgraph(), pre.data(), post.data(), value,
                                           b->value(op.inputs[0]), b->value(op.outputs[0]), 0),
            "quantized pad definition");
  return "";
}

Reason lower_reshape(const Graph& g, const Op& op, Builder* b) {
  if (op.inputs.empty() || op.inputs[0] < 0 || op.outputs.size() != 1) return "unexpected inputs/outputs";
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, input.type) || !is_activation(output, input.type) || !same_params(input, output))
    return "input/output not int8/uint8 activations of one quantization";
  if (input.num_elements() != output.num_elements()) return "element counts differ";
  if (!b) return "";
  const std::vector<size_t> dims = dims_of(output.shape);
  check_xnn(xnn_define_static_reshape(b->subgraph(), dims.size(), dims.data(), b->value(op.inputs[0]),
                                      b->value(op.outputs[0]), 0),
            "quantized reshape definition");
  return "";
}

// XNNPACK's 11-bit bilinear weights are what the reference kernel computes
// with the LiteRT arithmetic (kernels/ref/quantized/resize.cpp).
Reason lower_resize_bilinear(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, input.type, 4) || !is_activation(output, input.type, 4) ||
      !same_params(input, output)) {
    return "input/output not int8/uint8 4D activations of one quantization";
  }
  if (output.dim(0) != input.dim(0) || output.dim(3) != input.dim(3)) return "output shape differs";
  const auto opt = options_of<ResizeOptions>(op);
  if (opt.align_corners && opt.half_pixel_centers) return "align_corners with half_pixel_centers";
  const uint32_t flags = opt.align_corners        ? XNN_FLAG_ALIGN_CORNERS
                         : opt.half_pixel_centers ? 0u
                                                  : static_cast<uint32_t>(XNN_FLAG_TENSORFLOW_LEGACY_MODE);
  if (!b) return "";
  check_xnn(xnn_define_static_resize_bilinear_2d(b->subgraph(), static_cast<size_t>(output.dim(1)),
                                                 static_cast<size_t>(output.dim(2)), b->value(op.inputs[0]),
                                                 b->value(op.outputs[0]), flags),
            "quantized resize bilinear definition");
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
