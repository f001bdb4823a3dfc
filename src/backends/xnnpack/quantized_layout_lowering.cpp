// The quantized lowering (quantized_lowering.h) of elementwise, pooling and
// layout ops: ADD/SUB/MUL, the clamps, MAX_POOL_2D, PAD/PADV2, reshapes and
// RESIZE_BILINEAR.
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/xnnpack/quantized_checks.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey::xnnpack::quantized {

using namespace backend_checks;

namespace {

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

}  // namespace

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

namespace {

// PAD pads with the output's zero point, PADV2 with its value input's raw
// value; XNNPACK takes the value as a float it quantizes back with lrintf.
// With `spatial`, also says whether it only pads height and width with the
// zero point (a padding a following convolution can take over).
Reason lower_pad_checked(const Graph& g, const Op& op, Builder* b, SpatialPad* spatial) {
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
  if (lower_pad_checked(g, op, nullptr, &fold).empty() && b->fold_pad(op.outputs[0], fold)) return "";
  check_xnn(xnn_define_static_constant_pad(b->subgraph(), pre.data(), post.data(), value,
                                           b->value(op.inputs[0]), b->value(op.outputs[0]), 0),
            "quantized pad definition");
  return "";
}

}  // namespace

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

Reason lower_pad(const Graph& g, const Op& op, Builder* b) {
  return lower_pad_checked(g, op, b, nullptr);
}

}  // namespace osprey::xnnpack::quantized
