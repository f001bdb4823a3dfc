// The lowering of the convolution family: CONV_2D, DEPTHWISE_CONV_2D,
// TRANSPOSE_CONV (and MediaPipe's Convolution2DTransposeBias) and
// FULLY_CONNECTED, float32 or int8/uint8. Only the weights and bias differ by
// type: float32 constants, or quantized ones XNNPACK requantizes in float
// exactly as the reference kernels do ("Integer models on XNNPACK" in
// docs/architecture.md).
#include <xnnpack.h>

#include <cmath>
#include <vector>

#include "backends/xnnpack/lowering_rules.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"
#include "kernels/geometry.h"

namespace osprey::xnnpack::lowering {

namespace {

using namespace backend_checks;
using quantized::Affine;

// ---------------------------------------------------------------- weights, bias

// The weights and bias of a convolution-family op with `channels` output
// channels along `axis` of the weights: float32 constants, or int8 (zero
// point 0, one scale or one per channel) / uint8 (one scale and zero point)
// weights with an int32 bias.
struct ConvWeights {
  const Tensor* tensor = nullptr;
  size_t weights_at = 1, bias_at = 2;
  bool quantized = false;
  std::vector<float> scales;  // quantized: one per output channel
  bool per_channel = false;
  float input_scale = 1.0f;
};

Reason check_quantized_weights(const Tensor& w, DType type, int64_t channels, int axis, ConvWeights& cw) {
  if (w.type != type || !w.is_constant || w.data == nullptr || w.sparsity || !dims_positive(w.shape))
    return "weights are not a dense constant of the input's type";
  const size_t n = w.quant.scale.size();
  if (n != 1 && n != static_cast<size_t>(channels))
    return "weights have neither one scale nor one per channel";
  if (w.quant.zero_point.size() > n) return "weights have more zero points than scales";
  cw.per_channel = n > 1;
  if (cw.per_channel && (type != DType::kInt8 || w.quant.axis != axis))
    return "weights quantized per channel along another axis";
  for (int64_t zp : w.quant.zero_point) {
    if (type == DType::kInt8 ? zp != 0 : (zp < 0 || zp > 255)) return "weights' zero point";
  }
  for (float s : w.quant.scale) {
    if (!std::isnormal(s) || s <= 0) return "weights' scale is not a normal positive number";
  }
  cw.scales.assign(static_cast<size_t>(channels), w.quant.scale[0]);
  if (cw.per_channel) cw.scales.assign(w.quant.scale.begin(), w.quant.scale.end());
  return "";
}

// XNNPACK's requantization scale per channel, in float as it computes it
// (and as the reference kernels do): in_scale * w_scale / out_scale, which
// it takes in [2^-32, 256); the bias' scale in_scale * w_scale must be normal.
Reason check_requantization(const Affine& in, const ConvWeights& w, const Affine& out) {
  for (float ws : w.scales) {
    const float bias_scale = in.scale * ws;
    const float scale = bias_scale / out.scale;
    if (!std::isnormal(bias_scale) || scale < 0x1.0p-32f || scale >= 256.0f)
      return "requantization scale outside XNNPACK's [2^-32, 256)";
  }
  return "";
}

Reason check_bias(const TypeRule& rule, const Graph& g, const Op& op, size_t i, int64_t channels) {
  if (!has(op, i)) return "";
  const Tensor& bias = in(g, op, i);
  if (rule.quantized()) {
    if (bias.type != DType::kInt32 || !bias.is_constant || bias.data == nullptr || bias.sparsity)
      return "bias is not an int32 constant";
  } else if (!is_f32_static(bias)) {
    return "bias is not a float32 constant";
  }
  if (bias.num_elements() != channels) return "bias size differs from the output channels";
  return "";
}

// Checks the weights (of the shape the op has already checked) and the bias.
// `per_channel_ok`: whether XNNPACK has this op with qcint8 weights.
Reason check_weights(const TypeRule& rule, const Graph& g, const Op& op, const Tensor& input,
                     const Tensor& output, int64_t channels, int axis, bool per_channel_ok, ConvWeights& w) {
  w.tensor = &in(g, op, w.weights_at);
  w.quantized = rule.quantized();
  if (!w.quantized) {
    if (!is_f32_static(*w.tensor)) return "weights are not a float32 constant";
  } else {
    if (Reason r = check_quantized_weights(*w.tensor, input.type, channels, axis, w); !r.empty()) return r;
    if (w.per_channel && !per_channel_ok)
      return "per-channel weights (no qcint8 node for this op in this XNNPACK)";
    w.input_scale = quantized::affine(input).scale;
    if (Reason r = check_requantization(quantized::affine(input), w, quantized::affine(output)); !r.empty())
      return r;
  }
  return check_bias(rule, g, op, w.bias_at, channels);
}

// The XNNPACK values of the weights (fp32, or qint8 / quint8 / qcint8 along
// `channel_dim`) and the bias (fp32, qint32 / qcint32, or none).
uint32_t define_weights(Builder* b, const Op& op, const ConvWeights& w, size_t channel_dim) {
  if (!w.quantized) return b->weights(op.inputs[w.weights_at]);
  const Tensor& t = *w.tensor;
  const std::vector<size_t> dims = dims_of(t.shape);
  if (w.per_channel) return b->channelwise_static(xnn_datatype_qcint8, t.data, dims, channel_dim, w.scales);
  const auto type = t.type == DType::kInt8 ? xnn_datatype_qint8 : xnn_datatype_quint8;
  return b->quantized_static(type, t.data, dims, static_cast<int32_t>(quantized::zero_point_of(t)),
                             w.scales[0]);
}

uint32_t define_bias(const Graph& g, const Op& op, Builder* b, const ConvWeights& w) {
  if (!w.quantized) return b->optional_bias(op, w.bias_at);
  if (!has(op, w.bias_at)) return XNN_INVALID_VALUE_ID;
  const Tensor& bias = in(g, op, w.bias_at);
  const std::vector<size_t> dims{static_cast<size_t>(bias.num_elements())};
  if (w.per_channel) {
    std::vector<float> scales;
    for (float ws : w.scales) scales.push_back(w.input_scale * ws);
    return b->channelwise_static(xnn_datatype_qcint32, bias.data, dims, 0, std::move(scales));
  }
  return b->quantized_static(xnn_datatype_qint32, bias.data, dims, 0, w.input_scale * w.scales[0]);
}

// ---------------------------------------------------------------- convolutions

// What CONV_2D and DEPTHWISE_CONV_2D share: (input, filter[, bias]) -> output,
// 4D activations, a 4D constant filter (CONV_2D [Cout, KH, KW, Cin/groups],
// per-channel along 0; DEPTHWISE_CONV_2D [1, KH, KW, Cout], per-channel along
// 3) and a fused activation.
struct ConvOperands {
  const Tensor* input = nullptr;
  const Tensor* output = nullptr;
  ConvWeights weights;
  Range range;
  Window2D window;
};

template <typename Options>
Reason conv_operands(const TypeRule& rule, const Graph& g, const Op& op, bool depthwise, ConvOperands& c) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  c.input = &in(g, op, 0);
  c.output = &out(g, op);
  if (Reason r = rule.activations(*c.input, *c.output, 4); !r.empty()) return r;
  const Tensor& filter = in(g, op, 1);
  if (filter.rank() != 4 || (depthwise && filter.dim(0) != 1)) return "unexpected filter shape";
  const int64_t cout = depthwise ? filter.dim(3) : filter.dim(0);
  if (Reason r = check_weights(rule, g, op, *c.input, *c.output, cout, depthwise ? 3 : 0, true, c.weights);
      !r.empty()) {
    return r;
  }
  const auto opt = options_of<Options>(op);
  if (Reason r = rule.fused_range(opt.activation, *c.output, c.range); !r.empty()) return r;
  c.window = {filter.dim(1),
              filter.dim(2),
              opt.stride_h,
              opt.stride_w,
              opt.dilation_h,
              opt.dilation_w,
              opt.padding,
              {},
              {}};
  return place_window(*c.input, *c.output, cout, c.window, "output shape differs from the convolution's");
}

// What xnn_define_convolution_2d and xnn_define_depthwise_convolution_2d take
// first: padding (the window's plus that of a PAD folded into the input), filter
// size, strides and dilations; and the input value.
struct XnnConvWindow {
  uint32_t top, right, bottom, left, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w;
  uint32_t input_id;
};

XnnConvWindow xnn_conv_window(Builder* b, const Op& op, const Window2D& w) {
  const auto [input_id, pad] = b->conv_input(op.inputs[0]);
  return {w.y.before + pad.top,
          w.x.after + pad.right,
          w.y.after + pad.bottom,
          w.x.before + pad.left,
          static_cast<uint32_t>(w.filter_h),
          static_cast<uint32_t>(w.filter_w),
          static_cast<uint32_t>(w.stride_h),
          static_cast<uint32_t>(w.stride_w),
          static_cast<uint32_t>(w.dilation_h),
          static_cast<uint32_t>(w.dilation_w),
          input_id};
}

// TRANSPOSE_CONV (output_shape, weights [Cout, KH, KW, Cin], input[, bias]) and
// MediaPipe's Convolution2DTransposeBias (input, weights, bias; options in
// custom bytes, float only).
Reason lower_deconv(const TypeRule& rule, const Graph& g, const Op& op, Builder* b, bool mediapipe) {
  size_t input_at = 2;
  ConvWeights w;
  w.bias_at = 3;
  if (mediapipe) {
    if (Reason r = need_io(op, 3, 3, 1); !r.empty()) return r;
    input_at = 0;
    w.bias_at = 2;
  } else if (Reason r = need_io(op, 3, 4, 1); !r.empty()) {
    return r;
  }
  const auto opt = options_of<TransposeConvOptions>(op);  // the loader parsed MediaPipe's custom bytes
  const Tensor& input = in(g, op, input_at);
  const Tensor& weights = in(g, op, w.weights_at);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, 4); !r.empty()) return r;
  if (weights.rank() != 4) return "weights are not 4D";
  const int64_t cin = input.dim(3), cout = weights.dim(0);
  if (weights.dim(3) != cin) return "weights' input channels differ from the input's";
  if (mediapipe && !has(op, w.bias_at)) return "bias is missing";
  if (Reason r = check_weights(rule, g, op, input, output, cout, 0, false, w); !r.empty()) return r;
  Range range;
  if (Reason r = rule.fused_range(opt.activation, output, range); !r.empty()) return r;
  if (output.dim(0) != input.dim(0) || output.dim(3) != cout) return "output shape differs";
  // libXNNPACK's deconvolution setup crashes when the output is narrower
  // than one stride (e.g. one input column, stride 3, SAME, filter 3).
  if (output.dim(1) < opt.stride_h || output.dim(2) < opt.stride_w) return "output smaller than one stride";
  const auto y =
      geometry::try_deconv_axis(input.dim(1), weights.dim(1), opt.stride_h, output.dim(1), opt.padding);
  const auto x =
      geometry::try_deconv_axis(input.dim(2), weights.dim(2), opt.stride_w, output.dim(2), opt.padding);
  if (!y || !x) return "output size XNNPACK's deconvolution cannot give";
  if (!b) return "";
  check_xnn(xnn_define_deconvolution_2d(
                b->subgraph(), y->pad_before, x->pad_after, y->pad_after, x->pad_before, y->adjustment,
                x->adjustment, static_cast<uint32_t>(weights.dim(1)), static_cast<uint32_t>(weights.dim(2)),
                static_cast<uint32_t>(opt.stride_h), static_cast<uint32_t>(opt.stride_w), 1, 1, 1,
                static_cast<size_t>(cin), static_cast<size_t>(cout), range.min, range.max,
                b->value(op.inputs[input_at]), define_weights(b, op, w, 0), define_bias(g, op, b, w),
                b->value(op.outputs[0]), 0),
            rule.label("deconvolution definition"));
  return "";
}

}  // namespace

Reason lower_conv(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<Conv2DOptions>(rule, g, op, false, c); !r.empty()) return r;
  const Tensor& filter = *c.weights.tensor;
  const int64_t cin = c.input->dim(3), group_cin = filter.dim(3), cout = filter.dim(0);
  if (cin % group_cin != 0) return "input channels not a multiple of the filter's";
  const int64_t groups = cin / group_cin;
  if (cout % groups != 0) return "output channels not a multiple of the groups";
  if (!b) return "";
  const XnnConvWindow w = xnn_conv_window(b, op, c.window);
  check_xnn(xnn_define_convolution_2d(b->subgraph(), w.top, w.right, w.bottom, w.left, w.filter_h, w.filter_w,
                                      w.stride_h, w.stride_w, w.dilation_h, w.dilation_w,
                                      static_cast<uint32_t>(groups), static_cast<size_t>(group_cin),
                                      static_cast<size_t>(cout / groups), c.range.min, c.range.max,
                                      w.input_id, define_weights(b, op, c.weights, 0),
                                      define_bias(g, op, b, c.weights), b->value(op.outputs[0]), 0),
            rule.label("convolution definition"));
  return "";
}

Reason lower_depthwise(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<DepthwiseConv2DOptions>(rule, g, op, true, c); !r.empty()) return r;
  const int64_t cin = c.input->dim(3), cout = c.weights.tensor->dim(3);
  if (cout % cin != 0) return "filter channels not a multiple of the input's";
  if (!b) return "";
  const XnnConvWindow w = xnn_conv_window(b, op, c.window);
  check_xnn(xnn_define_depthwise_convolution_2d(b->subgraph(), w.top, w.right, w.bottom, w.left, w.filter_h,
                                                w.filter_w, w.stride_h, w.stride_w, w.dilation_h,
                                                w.dilation_w, static_cast<uint32_t>(cout / cin),
                                                static_cast<size_t>(cin), c.range.min, c.range.max,
                                                w.input_id, define_weights(b, op, c.weights, 3),
                                                define_bias(g, op, b, c.weights), b->value(op.outputs[0]), 0),
            rule.label("depthwise convolution definition"));
  return "";
}

Reason lower_transpose_conv(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  return lower_deconv(rule, g, op, b, false);
}

Reason lower_mediapipe_deconv(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  return lower_deconv(rule, g, op, b, true);
}

// FULLY_CONNECTED (input, weights [units, depth][, bias]); quantized with
// per-tensor weights only: this XNNPACK has no qcint8 fully connected.
Reason lower_fully_connected(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output); !r.empty()) return r;
  const Tensor& weights = in(g, op, 1);
  if (weights.rank() != 2) return "weights are not 2D";
  const int64_t units = weights.dim(0), depth = weights.dim(1);
  ConvWeights w;
  if (Reason r = check_weights(rule, g, op, input, output, units, 0, false, w); !r.empty()) return r;
  const auto opt = options_of<FullyConnectedOptions>(op);
  Range range;
  if (Reason r = rule.fused_range(opt.activation, output, range); !r.empty()) return r;
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
                                       define_weights(b, op, w, 0), define_bias(g, op, b, w),
                                       b->value(op.outputs[0]), flags),
            rule.label("fully connected definition"));
  return "";
}

}  // namespace osprey::xnnpack::lowering
