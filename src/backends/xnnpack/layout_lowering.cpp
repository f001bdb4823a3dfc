// The lowering of pooling and layout ops: MAX_POOL_2D, PAD/PADV2, reshapes and
// RESIZE_BILINEAR (float32 or int8/uint8, quantized with equal input and
// output parameters: they move values without rescaling), and the float32-only
// AVERAGE_POOL_2D, MEAN and DEPTH_TO_SPACE.
#include <xnnpack.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "backends/xnnpack/lowering_rules.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey::xnnpack::lowering {

using namespace backend_checks;

Reason lower_pool(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, 4, Params::kSame); !r.empty()) return r;
  const auto opt = options_of<Pool2DOptions>(op);
  Range range;
  if (Reason r = rule.fused_range(opt.activation, output, range); !r.empty()) return r;
  if (opt.filter_h == 1 && opt.filter_w == 1) {
    // A 1x1 window is a copy (XNNPACK refuses it as a pooling): a clamp.
    if (opt.stride_h != 1 || opt.stride_w != 1 || output.shape != input.shape) return "strided 1x1 pooling";
    if (!b) return "";
    check_xnn(xnn_define_clamp(b->subgraph(), range.min, range.max, b->value(op.inputs[0]),
                               b->value(op.outputs[0]), 0),
              rule.label("clamp definition"));
    return "";
  }
  if (opt.stride_h > opt.filter_h || opt.stride_w > opt.filter_w) return "stride larger than the window";
  // XNNPACK reads a padding value for every tap outside the input, so they
  // cost as much as taps inside; the reference kernel clips the window to
  // the input. Found by fuzzing: a 1x12 input under a 3 x 262,147 window
  // took 7.4 s on XNNPACK, 1.5 ms on the reference kernel.
  if (opt.filter_h > input.dim(1) || opt.filter_w > input.dim(2)) return "window larger than the input";
  // XNNPACK keeps a pointer per window tap and output pixel: a window far
  // beyond the input (legal with SAME padding, found by fuzzing: 36 GB for a
  // 6x12 input) would ask it for gigabytes. The reference kernel clips it.
  constexpr int64_t kMaxWindowTaps = int64_t{1} << 24;
  if (int64_t{output.dim(1)} * output.dim(2) * opt.filter_h * opt.filter_w > kMaxWindowTaps)
    return "window too large (output pixels x window taps above 2^24)";
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
              rule.label("max pooling definition"));
  } else {
    check_xnn(xnn_define_average_pooling_2d(b->subgraph(), y.before, x.after, y.after, x.before, fh, fw, sh,
                                            sw, range.min, range.max, i, o, 0),
              rule.label("average pooling definition"));
  }
  return "";
}

// MEAN over H and W of a 4D tensor: a global average pooling (float32 only).
Reason lower_mean(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!rule.activation(input, input.type, 4) || !rule.activation(output, input.type))
    return "input/output not float32 activations";
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

namespace {

// The value a PAD pads with, as the float XNNPACK takes, and whether it is
// the type's zero (a padding a following convolution can take over).
struct PadValue {
  float value = 0.0f;
  bool zero = true;
};

// Float32: 0 or PADV2's constant scalar. Quantized: the output's zero point
// or PADV2's raw value of the output's quantization, which XNNPACK quantizes
// back with lrintf - checked to come back exactly.
Reason pad_value(const TypeRule& rule, const Graph& g, const Op& op, const Tensor& input,
                 const Tensor& output, PadValue& pv) {
  if (!rule.quantized()) {
    if (has(op, 2)) {
      const Tensor& v = in(g, op, 2);
      if (!is_f32_static(v) || v.num_elements() != 1) return "pad value is not a float32 constant scalar";
      pv.value = v.data_as<float>()[0];
    }
    pv.zero = pv.value == 0.0f;
    return "";
  }
  const quantized::Affine p = quantized::affine(output);
  int32_t raw = p.zero_point;
  if (has(op, 2)) {
    const Tensor& v = in(g, op, 2);
    if (!quantized::is_static(v, input.type) || v.num_elements() != 1 || !quantized::same_params(v, output))
      return "pad value is not a constant scalar of the output's quantization";
    raw = input.type == DType::kInt8 ? int32_t{v.data_as<int8_t>()[0]} : int32_t{v.data_as<uint8_t>()[0]};
  }
  pv.value = static_cast<float>(raw - p.zero_point) * p.scale;
  pv.zero = raw == p.zero_point;
  if (!quantized::quantizes_back(pv.value, raw, output)) return "pad value XNNPACK cannot express";
  return "";
}

// With `spatial`, also says whether the PAD only pads height and width with
// the type's zero (and how much).
Reason lower_pad_checked(const TypeRule& rule, const Graph& g, const Op& op, Builder* b,
                         SpatialPad* spatial) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, -1, Params::kSame); !r.empty()) return r;
  std::vector<int64_t> pads;
  const Tensor& paddings = in(g, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{input.rank(), 2})
    return "paddings not constant";
  PadValue pv;
  if (Reason r = pad_value(rule, g, op, input, output, pv); !r.empty()) return r;
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
    if (!pv.zero || input.rank() != 4 || pre[0] || post[0] || pre[3] || post[3])
      return "not a spatial zero pad";
    *spatial = {op.inputs[0], static_cast<uint32_t>(pre[1]), static_cast<uint32_t>(post[1]),
                static_cast<uint32_t>(pre[2]), static_cast<uint32_t>(post[2])};
  }
  if (!b) return "";
  SpatialPad fold;
  if (lower_pad_checked(rule, g, op, nullptr, &fold).empty() && b->fold_pad(op.outputs[0], fold)) return "";
  check_xnn(xnn_define_static_constant_pad(b->subgraph(), pre.data(), post.data(), pv.value,
                                           b->value(op.inputs[0]), b->value(op.outputs[0]), 0),
            rule.label("pad definition"));
  return "";
}

}  // namespace

Reason lower_pad(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  return lower_pad_checked(rule, g, op, b, nullptr);
}

// RESHAPE, SQUEEZE, EXPAND_DIMS: the output shape is known after prepare.
Reason lower_reshape(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (op.inputs.empty() || op.inputs[0] < 0 || op.outputs.size() != 1) return "unexpected inputs/outputs";
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, -1, Params::kSame); !r.empty()) return r;
  if (input.num_elements() != output.num_elements()) return "element counts differ";
  if (!b) return "";
  const std::vector<size_t> dims = dims_of(output.shape);
  check_xnn(xnn_define_static_reshape(b->subgraph(), dims.size(), dims.data(), b->value(op.inputs[0]),
                                      b->value(op.outputs[0]), 0),
            rule.label("reshape definition"));
  return "";
}

// Quantized, XNNPACK's 11-bit bilinear weights are what the reference kernel
// computes with the LiteRT arithmetic (kernels/ref/quantized/resize.cpp).
Reason lower_resize_bilinear(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 2, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, 4, Params::kSame); !r.empty()) return r;
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
            rule.label("resize bilinear definition"));
  return "";
}

// DEPTH_TO_SPACE (float32 only).
Reason lower_depth_to_space(const TypeRule& rule, const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 1, 1, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (Reason r = rule.activations(input, output, 4); !r.empty()) return r;
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

}  // namespace osprey::xnnpack::lowering
