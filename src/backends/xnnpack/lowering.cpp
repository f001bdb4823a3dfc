#include "backends/xnnpack/lowering.h"

#include <xnnpack.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "backends/op_checks.h"
#include "backends/xnnpack/quantized_lowering.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey::xnnpack {

namespace {

using namespace backend_checks;

// A float32 tensor XNNPACK can hold: dense, known positive dims, rank <= 6
// (rank `rank` when given).
bool is_f32(const Tensor& t, int rank = -1) {
  return is_dense_f32(t, rank) && t.rank() <= XNN_MAX_TENSOR_DIMS;
}
// A value computed at run time (not a constant), rank >= 1.
bool is_activation(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && !t.is_constant && t.rank() >= 1;
}
bool is_static(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && t.is_constant && t.data != nullptr;
}

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

using Builder = SubgraphBuilder;
using Reason = std::string;

Reason need_io(const Op& op, size_t min_inputs, size_t max_inputs, size_t outputs) {
  return io_mismatch(op, min_inputs, max_inputs, outputs);
}

Reason check_bias(const Graph& g, const Op& op, size_t i, int64_t channels) {
  if (!has(op, i)) return "";
  const Tensor& bias = in(g, op, i);
  if (!is_static(bias)) return "bias is not a float32 constant";
  if (bias.num_elements() != channels) return "bias size differs from the output channels";
  return "";
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
Reason place_window(const Tensor& input, const Tensor& output, int64_t channels, Window2D& w,
                    const char* output_mismatch) {
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

// What CONV_2D and DEPTHWISE_CONV_2D share: (input, filter[, bias]) -> output,
// float32 4D activations, a 4D constant filter [*, KH, KW, *] and a fused activation.
struct ConvOperands {
  const Tensor* input = nullptr;
  const Tensor* filter = nullptr;
  const Tensor* output = nullptr;
  Range range;
  Window2D window;
};

template <typename Options>
Reason conv_operands(const Graph& g, const Op& op, bool depthwise, ConvOperands& c) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  c.input = &in(g, op, 0);
  c.filter = &in(g, op, 1);
  c.output = &out(g, op);
  if (!is_activation(*c.input, 4) || !is_activation(*c.output, 4))
    return "input/output not float32 4D activations";
  if (depthwise) {
    if (!is_static(*c.filter, 4) || c.filter->dim(0) != 1)
      return "filter is not a float32 [1,KH,KW,C] constant";
  } else if (!is_static(*c.filter, 4)) {
    return "filter is not a float32 4D constant";
  }
  const auto opt = options_of<Options>(op);
  if (!activation_range(opt.activation, c.range)) return "unsupported fused activation";
  c.window = {c.filter->dim(1),
              c.filter->dim(2),
              opt.stride_h,
              opt.stride_w,
              opt.dilation_h,
              opt.dilation_w,
              opt.padding,
              {},
              {}};
  return "";
}

// The checks after the channel counts: bias, window and output shape.
Reason check_conv_output(const Graph& g, const Op& op, int64_t cout, ConvOperands& c) {
  if (Reason r = check_bias(g, op, 2, cout); !r.empty()) return r;
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

Reason lower_conv(const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<Conv2DOptions>(g, op, false, c); !r.empty()) return r;
  const int64_t cin = c.input->dim(3), group_cin = c.filter->dim(3), cout = c.filter->dim(0);
  if (cin % group_cin != 0) return "input channels not a multiple of the filter's";
  const int64_t groups = cin / group_cin;
  if (cout % groups != 0) return "output channels not a multiple of the groups";
  if (Reason r = check_conv_output(g, op, cout, c); !r.empty()) return r;
  if (!b) return "";
  const XnnConvWindow w = xnn_conv_window(b, op, c.window);
  check_xnn(xnn_define_convolution_2d(
                b->subgraph(), w.top, w.right, w.bottom, w.left, w.filter_h, w.filter_w, w.stride_h,
                w.stride_w, w.dilation_h, w.dilation_w, static_cast<uint32_t>(groups),
                static_cast<size_t>(group_cin), static_cast<size_t>(cout / groups), c.range.min, c.range.max,
                w.input_id, b->weights(op.inputs[1]), b->optional_bias(op, 2), b->value(op.outputs[0]), 0),
            "convolution definition");
  return "";
}

Reason lower_depthwise(const Graph& g, const Op& op, Builder* b) {
  ConvOperands c;
  if (Reason r = conv_operands<DepthwiseConv2DOptions>(g, op, true, c); !r.empty()) return r;
  const int64_t cin = c.input->dim(3), cout = c.filter->dim(3);
  if (cout % cin != 0) return "filter channels not a multiple of the input's";
  if (Reason r = check_conv_output(g, op, cout, c); !r.empty()) return r;
  if (!b) return "";
  const XnnConvWindow w = xnn_conv_window(b, op, c.window);
  check_xnn(xnn_define_depthwise_convolution_2d(
                b->subgraph(), w.top, w.right, w.bottom, w.left, w.filter_h, w.filter_w, w.stride_h,
                w.stride_w, w.dilation_h, w.dilation_w, static_cast<uint32_t>(cout / cin),
                static_cast<size_t>(cin), c.range.min, c.range.max, w.input_id, b->weights(op.inputs[1]),
                b->optional_bias(op, 2), b->value(op.outputs[0]), 0),
            "depthwise convolution definition");
  return "";
}

// TRANSPOSE_CONV (output_shape, weights, input[, bias]) and MediaPipe's
// Convolution2DTransposeBias (input, weights, bias; options in custom bytes).
Reason lower_deconv(const Graph& g, const Op& op, Builder* b, bool mediapipe) {
  size_t input_at = 2, weights_at = 1, bias_at = 3;
  TransposeConvOptions opt;
  if (mediapipe) {
    if (Reason r = need_io(op, 3, 3, 1); !r.empty()) return r;
    input_at = 0;
    bias_at = 2;
    opt = options_of<TransposeConvOptions>(op);  // the loader parsed the custom bytes (src/ops)
  } else {
    if (Reason r = need_io(op, 3, 4, 1); !r.empty()) return r;
    opt = options_of<TransposeConvOptions>(op);
  }
  const Tensor& input = in(g, op, input_at);
  const Tensor& weights = in(g, op, weights_at);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
  if (!is_static(weights, 4)) return "weights are not a float32 4D constant";
  Range range;
  if (!activation_range(opt.activation, range)) return "unsupported fused activation";
  const int64_t cin = input.dim(3), cout = weights.dim(0);
  if (weights.dim(3) != cin) return "weights' input channels differ from the input's";
  if (mediapipe && !has(op, bias_at)) return "bias is missing";
  if (Reason r = check_bias(g, op, bias_at, cout); !r.empty()) return r;
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
                b->value(op.inputs[input_at]), b->weights(op.inputs[weights_at]),
                b->optional_bias(op, bias_at), b->value(op.outputs[0]), 0),
            "deconvolution definition");
  return "";
}

Reason lower_fully_connected(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& weights = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input) || !is_activation(output)) return "input/output not float32 activations";
  if (!is_static(weights, 2)) return "weights are not a float32 2D constant";
  const auto opt = options_of<FullyConnectedOptions>(op);
  Range range;
  if (!activation_range(opt.activation, range)) return "unsupported fused activation";
  const int64_t units = weights.dim(0), depth = weights.dim(1);
  if (input.num_elements() % depth != 0) return "input size not a multiple of the weights' depth";
  if (Reason r = check_bias(g, op, 2, units); !r.empty()) return r;
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
                                       b->weights(op.inputs[1]), b->optional_bias(op, 2),
                                       b->value(op.outputs[0]), flags),
            "fully connected definition");
  return "";
}

Reason lower_binary(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& a = in(g, op, 0);
  const Tensor& c = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_f32(a) || !is_f32(c) || !is_activation(output)) return "inputs/output not float32";
  if (a.is_constant && c.is_constant) return "both inputs constant";
  if ((a.is_constant && !is_static(a)) || (c.is_constant && !is_static(c))) return "constant without data";
  if ((!a.is_constant && a.rank() == 0) || (!c.is_constant && c.rank() == 0)) return "scalar activation";
  bool ok = false;
  if (broadcast_shape(a.shape, c.shape, ok) != output.shape || !ok)
    return "output shape is not the broadcast shape";
  Range range;
  const auto code = static_cast<OpCode>(op.code);
  if (code != OpCode::kMaximum && code != OpCode::kMinimum &&
      !activation_range(options_of<ElementwiseOptions>(op).activation, range)) {
    return "unsupported fused activation";
  }
  if (!b) return "";
  const uint32_t x = b->value(op.inputs[0]), y = b->value(op.inputs[1]), o = b->value(op.outputs[0]);
  xnn_status s = xnn_status_success;
  switch (code) {
    case OpCode::kAdd: s = xnn_define_add2(b->subgraph(), range.min, range.max, x, y, o, 0); break;
    case OpCode::kSub: s = xnn_define_subtract(b->subgraph(), range.min, range.max, x, y, o, 0); break;
    case OpCode::kMul: s = xnn_define_multiply2(b->subgraph(), range.min, range.max, x, y, o, 0); break;
    case OpCode::kDiv: s = xnn_define_divide(b->subgraph(), range.min, range.max, x, y, o, 0); break;
    case OpCode::kMaximum: s = xnn_define_maximum2(b->subgraph(), x, y, o, 0); break;
    case OpCode::kMinimum: s = xnn_define_minimum2(b->subgraph(), x, y, o, 0); break;
    default: fail("not a binary op");
  }
  check_xnn(s, "binary op definition");
  return "";
}

Reason lower_pool(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
  const auto opt = options_of<Pool2DOptions>(op);
  Range range;
  if (!activation_range(opt.activation, range)) return "unsupported fused activation";
  if (opt.filter_h == 1 && opt.filter_w == 1) {
    // A 1x1 window is a copy (XNNPACK refuses it as a pooling): a clamp.
    if (opt.stride_h != 1 || opt.stride_w != 1 || output.shape != input.shape) return "strided 1x1 pooling";
    if (!b) return "";
    check_xnn(xnn_define_clamp(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                               b->value(op.outputs[0]), 0),
              "clamp definition");
    return "";
  }
  if (opt.stride_h > opt.filter_h || opt.stride_w > opt.filter_w) return "stride larger than the window";
  Window2D w{opt.filter_h, opt.filter_w, opt.stride_h, opt.stride_w, 1, 1, opt.padding, {}, {}};
  if (Reason r = place_window(input, output, input.dim(3), w, "output shape differs from the pooling's");
      !r.empty()) {
    return r;
  }
  if (!b) return "";
  const Window &y = w.y, &x = w.x;
  const uint32_t i = b->value(op.inputs[0]), o = b->value(op.outputs[0]);
  const auto fh = static_cast<uint32_t>(opt.filter_h), fw = static_cast<uint32_t>(opt.filter_w);
  const auto sh = static_cast<uint32_t>(opt.stride_h), sw = static_cast<uint32_t>(opt.stride_w);
  if (static_cast<OpCode>(op.code) == OpCode::kMaxPool2D) {
    check_xnn(xnn_define_max_pooling_2d(b->subgraph(), y.before, x.after, y.after, x.before, fh, fw, sh, sw,
                                        1, 1, range.min, range.max, i, o, 0),
              "max pooling definition");
  } else {
    check_xnn(xnn_define_average_pooling_2d(b->subgraph(), y.before, x.after, y.after, x.before, fh, fw, sh,
                                            sw, range.min, range.max, i, o, 0),
              "average pooling definition");
  }
  return "";
}

// MEAN over H and W of a 4D tensor: a global average pooling.
Reason lower_mean(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output)) return "input/output not float32 activations";
  std::vector<int64_t> axes;
  if (!constant_ints(in(g, op, 1), axes)) return "axes are not constant";
  std::set<int64_t> axis_set;
  for (int64_t a : axes) axis_set.insert(a < 0 ? a + 4 : a);
  if (axis_set != std::set<int64_t>{1, 2}) return "only a mean over height and width";
  const bool keep_dims = options_of<ReducerOptions>(op).keep_dims;
  const Shape pooled{input.dim(0), 1, 1, input.dim(3)};
  if (output.shape != (keep_dims ? pooled : Shape{input.dim(0), input.dim(3)})) return "output shape differs";
  if (!b) return "";
  const uint32_t i = b->value(op.inputs[0]);
  if (keep_dims) {
    check_xnn(xnn_define_global_average_pooling_2d(b->subgraph(), -kInf, kInf, i, b->value(op.outputs[0]), 0),
              "global average pooling definition");
    return "";
  }
  const uint32_t pooled_id = b->internal(dims_of(pooled));
  check_xnn(xnn_define_global_average_pooling_2d(b->subgraph(), -kInf, kInf, i, pooled_id, 0),
            "global average pooling definition");
  const std::vector<size_t> dims = dims_of(output.shape);
  check_xnn(xnn_define_static_reshape(b->subgraph(), dims.size(), dims.data(), pooled_id,
                                      b->value(op.outputs[0]), 0),
            "reshape definition");
  return "";
}

// With `spatial`, also says whether the PAD only pads height and width with
// zeros (and how much).
Reason lower_pad(const Graph& g, const Op& op, Builder* b, SpatialPad* spatial = nullptr) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input) || !is_activation(output)) return "input/output not float32 activations";
  std::vector<int64_t> pads;
  const Tensor& paddings = in(g, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{input.rank(), 2})
    return "paddings not constant";
  float value = 0.0f;
  if (has(op, 2)) {
    const Tensor& v = in(g, op, 2);
    if (!is_static(v) || v.num_elements() != 1) return "pad value is not a float32 constant scalar";
    value = v.data_as<float>()[0];
  }
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
    if (value != 0.0f || input.rank() != 4 || pre[0] || post[0] || pre[3] || post[3])
      return "not a spatial zero pad";
    *spatial = {op.inputs[0], static_cast<uint32_t>(pre[1]), static_cast<uint32_t>(post[1]),
                static_cast<uint32_t>(pre[2]), static_cast<uint32_t>(post[2])};
  }
  if (!b) return "";
  SpatialPad fold;
  if (lower_pad(g, op, nullptr, &fold).empty() && b->fold_pad(op.outputs[0], fold)) return "";
  check_xnn(xnn_define_static_constant_pad(b->subgraph(), pre.data(), post.data(), value,
                                           b->value(op.inputs[0]), b->value(op.outputs[0]), 0),
            "pad definition");
  return "";
}

// RESHAPE, SQUEEZE, EXPAND_DIMS: the output shape is known after prepare.
Reason lower_reshape(const Graph& g, const Op& op, Builder* b) {
  if (op.inputs.empty() || op.inputs[0] < 0 || op.outputs.size() != 1) return "unexpected inputs/outputs";
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input) || !is_activation(output)) return "input/output not float32 activations";
  if (input.num_elements() != output.num_elements()) return "element counts differ";
  if (!b) return "";
  const std::vector<size_t> dims = dims_of(output.shape);
  check_xnn(xnn_define_static_reshape(b->subgraph(), dims.size(), dims.data(), b->value(op.inputs[0]),
                                      b->value(op.outputs[0]), 0),
            "reshape definition");
  return "";
}

Reason lower_resize_bilinear(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
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
            "resize bilinear definition");
  return "";
}

Reason lower_depth_to_space(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
  const int block = options_of<DepthToSpaceOptions>(op).block_size;
  if (block < 2 || input.dim(3) % (block * block) != 0) return "unsupported block size";
  if (output.shape !=
      Shape{input.dim(0), input.dim(1) * block, input.dim(2) * block, input.dim(3) / (block * block)}) {
    return "output shape differs";
  }
  if (!b) return "";
  check_xnn(xnn_define_depth_to_space(b->subgraph(), b->value(op.inputs[0]), b->value(op.outputs[0]),
                                      static_cast<uint32_t>(block), 0),
            "depth to space definition");
  return "";
}

Reason lower_unary(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input) || !is_activation(output) || input.shape != output.shape) {
    return "input/output not float32 activations of one shape";
  }
  const auto code = static_cast<OpCode>(op.code);
  if (code == OpCode::kSoftmax && options_of<SoftmaxOptions>(op).beta != 1.0f) return "softmax beta is not 1";
  if (!b) return "";
  xnn_subgraph_t sg = b->subgraph();
  const uint32_t i = b->value(op.inputs[0]), o = b->value(op.outputs[0]);
  xnn_status s = xnn_status_success;
  switch (code) {
    case OpCode::kRelu: s = xnn_define_clamp(sg, 0.0f, kInf, i, o, 0); break;
    case OpCode::kRelu6: s = xnn_define_clamp(sg, 0.0f, 6.0f, i, o, 0); break;
    case OpCode::kReluN1To1: s = xnn_define_clamp(sg, -1.0f, 1.0f, i, o, 0); break;
    case OpCode::kHardSwish: s = xnn_define_hardswish(sg, i, o, 0); break;
    case OpCode::kLogistic: s = xnn_define_sigmoid(sg, i, o, 0); break;
    case OpCode::kSoftmax: s = xnn_define_softmax(sg, i, o, 0); break;
    case OpCode::kLeakyRelu:
      s = xnn_define_leaky_relu(sg, options_of<LeakyReluOptions>(op).alpha, i, o, 0);
      break;
    default: fail("not a unary op");
  }
  check_xnn(s, "unary op definition");
  return "";
}

// PRELU with one slope per channel (or one for all) over a 4D input.
Reason lower_prelu(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& alpha = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4) || output.shape != input.shape) {
    return "input/output not float32 4D activations of one shape";
  }
  if (!is_static(alpha)) return "slope is not a float32 constant";
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

}  // namespace

std::string lower(const Graph& g, const Op& op, SubgraphBuilder* b) {
  if (is_quantized_op(g, op)) return lower_quantized(g, op, b);
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
    if (op.custom_code == "Convolution2DTransposeBias") return lower_deconv(g, op, b, true);
    return "custom op";
  }

  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D: return lower_conv(g, op, b);
    case OpCode::kDepthwiseConv2D: return lower_depthwise(g, op, b);
    case OpCode::kTransposeConv: return lower_deconv(g, op, b, false);
    case OpCode::kFullyConnected: return lower_fully_connected(g, op, b);
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul:
    case OpCode::kDiv:
    case OpCode::kMaximum:
    case OpCode::kMinimum: return lower_binary(g, op, b);
    case OpCode::kAveragePool2D:
    case OpCode::kMaxPool2D: return lower_pool(g, op, b);
    case OpCode::kMean: return lower_mean(g, op, b);
    case OpCode::kPad:
    case OpCode::kPadV2: return lower_pad(g, op, b);
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims: return lower_reshape(g, op, b);
    case OpCode::kResizeBilinear: return lower_resize_bilinear(g, op, b);
    case OpCode::kDepthToSpace: return lower_depth_to_space(g, op, b);
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1:
    case OpCode::kHardSwish:
    case OpCode::kLogistic:
    case OpCode::kSoftmax:
    case OpCode::kLeakyRelu: return lower_unary(g, op, b);
    case OpCode::kPrelu: return lower_prelu(g, op, b);
    default: return "no XNNPACK operator";
  }
}

}  // namespace osprey::xnnpack
