// Conv, ConvTranspose, BatchNormalization and the pools: NHWC ops with
// weights transposed at import (OIHW → OHWI, depthwise → 1HWO) and
// BatchNormalization folded into the convolution before it.
#include <cfloat>
#include <cmath>

#include "core/error.h"
#include "onnx/convert.h"

namespace osprey::onnx {

namespace {

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  int64_t out_h = 0, out_w = 0;
};

int64_t positive(int64_t v, const char* what) {
  OSPREY_CHECK(v >= 1 && v <= (1 << 20), "{} {} is out of range", what, v);
  return v;
}

// The window of a Conv or pool over the NCHW input `in`.
Window window(const Node& node, const Dims& in, int64_t kh, int64_t kw, bool ceil_mode_allowed) {
  Window w;
  const auto kernel = attr_ints(node, "kernel_shape", {kh, kw});
  OSPREY_CHECK(kernel.size() == 2, "only 2-D windows are supported (kernel_shape has {} values)",
               kernel.size());
  w.kh = positive(kernel[0], "kernel height");
  w.kw = positive(kernel[1], "kernel width");
  const auto strides = attr_ints(node, "strides", {1, 1});
  const auto dilations = attr_ints(node, "dilations", {1, 1});
  OSPREY_CHECK(strides.size() == 2 && dilations.size() == 2, "strides and dilations need 2 values");
  w.sh = positive(strides[0], "stride");
  w.sw = positive(strides[1], "stride");
  w.dh = positive(dilations[0], "dilation");
  w.dw = positive(dilations[1], "dilation");
  const int64_t eff_h = (w.kh - 1) * w.dh + 1, eff_w = (w.kw - 1) * w.dw + 1;
  const std::string auto_pad = attr_string(node, "auto_pad", "NOTSET");
  const int64_t ih = in[2], iw = in[3];
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t th = std::max<int64_t>(((ih + w.sh - 1) / w.sh - 1) * w.sh + eff_h - ih, 0);
    const int64_t tw = std::max<int64_t>(((iw + w.sw - 1) / w.sw - 1) * w.sw + eff_w - iw, 0);
    const bool upper = auto_pad == "SAME_UPPER";
    w.top = upper ? th / 2 : th - th / 2;
    w.bottom = th - w.top;
    w.left = upper ? tw / 2 : tw - tw / 2;
    w.right = tw - w.left;
  } else if (auto_pad == "NOTSET") {
    const auto pads = attr_ints(node, "pads", {0, 0, 0, 0});
    OSPREY_CHECK(pads.size() == 4, "pads needs 4 values for a 2-D window, has {}", pads.size());
    for (int64_t p : pads) OSPREY_CHECK(p >= 0 && p <= (1 << 20), "pad {} is out of range", p);
    w.top = pads[0];
    w.left = pads[1];
    w.bottom = pads[2];
    w.right = pads[3];
  } else {
    OSPREY_CHECK(auto_pad == "VALID", "auto_pad '{}' is not supported", auto_pad);
  }
  const int64_t span_h = ih + w.top + w.bottom - eff_h, span_w = iw + w.left + w.right - eff_w;
  OSPREY_CHECK(span_h >= 0 && span_w >= 0, "the window ({}x{}) is larger than the padded input ({}x{})",
               eff_h, eff_w, ih + w.top + w.bottom, iw + w.left + w.right);
  w.out_h = span_h / w.sh + 1;
  w.out_w = span_w / w.sw + 1;
  if (attr_int(node, "ceil_mode", 0) != 0) {
    OSPREY_CHECK(ceil_mode_allowed, "ceil_mode is not supported here");
    OSPREY_CHECK(span_h % w.sh == 0 && span_w % w.sw == 0,
                 "ceil_mode=1 changes the output size here, which TFLite pools cannot express");
  }
  return w;
}

// SAME when the explicit pads are TFLite's SAME pads, VALID when there are
// none; otherwise a PAD (PADV2 with `pad_value`) op is put before the op.
Padding choose_padding(Builder& b, int& input, const Window& w, const Dims& in,
                       std::optional<float> pad_value, bool allow_same, const std::string& name) {
  if (w.top == 0 && w.left == 0 && w.bottom == 0 && w.right == 0) return Padding::kValid;
  const int64_t eff_h = (w.kh - 1) * w.dh + 1, eff_w = (w.kw - 1) * w.dw + 1;
  const int64_t th = std::max<int64_t>(((in[2] + w.sh - 1) / w.sh - 1) * w.sh + eff_h - in[2], 0);
  const int64_t tw = std::max<int64_t>(((in[3] + w.sw - 1) / w.sw - 1) * w.sw + eff_w - in[3], 0);
  if (allow_same && w.top == th / 2 && w.bottom == th - th / 2 && w.left == tw / 2 &&
      w.right == tw - tw / 2) {
    return Padding::kSame;
  }
  OSPREY_CHECK(pad_value.has_value(), "pads {} {} {} {} are not TFLite's SAME padding here", w.top, w.left,
               w.bottom, w.right);
  const std::vector<int32_t> pads = {0,
                                     0,
                                     static_cast<int32_t>(w.top),
                                     static_cast<int32_t>(w.bottom),
                                     static_cast<int32_t>(w.left),
                                     static_cast<int32_t>(w.right),
                                     0,
                                     0};
  const int pad_tensor = b.int32_tensor(name + "/pads", pads, Dims{4, 2});
  const Dims padded = {in[0], in[2] + w.top + w.bottom, in[3] + w.left + w.right, in[1]};
  const int out = b.add_tensor(name + "/padded", padded);
  if (*pad_value == 0.0f) {
    b.add_op(OpCode::kPad, {input, pad_tensor}, {out});
  } else {
    const int value = b.float_tensor(name + "/pad_value", {}, {*pad_value});
    b.add_op(OpCode::kPadV2, {input, pad_tensor, value}, {out});
  }
  input = out;
  return Padding::kValid;
}

// A constant operand of `node` other than `output`, when it is one value for every channel.
const Constant* scalar_operand(Builder& b, const Node& node, const std::string& output) {
  if (node.input_size() != 2) return nullptr;
  const std::string other = node.input(0) == output ? node.input(1) : node.input(0);
  if (other == output || !b.has(other) || !b.is_constant(other)) return nullptr;
  const Constant& c = b.constant(other);
  return c.is_float && c.size() == 1 && c.dims.size() <= 4 ? &c : nullptr;
}

// Folds the sole Mul / Add / Sub-by-a-scalar consumers of `output` (PP-LCNet's
// learnable affine blocks) into per-channel scale and shift.
void fold_affine(Builder& b, std::string& output, std::vector<float>& scale, std::vector<float>& shift) {
  while (const Node* next = b.sole_consumer(output)) {
    const Constant* c = scalar_operand(b, *next, output);
    const std::string& op = next->op_type();
    if (!c || !(op == "Mul" || op == "Add" || (op == "Sub" && next->input(0) == output))) return;
    const float v = c->f[0];
    for (size_t i = 0; i < scale.size(); ++i) {
      if (op == "Mul") {
        scale[i] *= v;
        shift[i] *= v;
      } else {
        shift[i] += op == "Add" ? v : -v;
      }
    }
    b.skip(next);
    output = next->output(0);
  }
}

// Folds a sole BatchNormalization consumer of `output` into per-channel scale and shift.
void fold_batch_norm(Builder& b, std::string& output, std::vector<float>& scale, std::vector<float>& shift) {
  const Node* bn = b.sole_consumer(output);
  if (!bn || bn->op_type() != "BatchNormalization" || bn->input_size() != 5 || bn->output_size() != 1) return;
  for (int i = 1; i < 5; ++i) {
    if (!b.is_constant(bn->input(i))) return;
  }
  const size_t channels = scale.size();
  const Constant &gamma = b.constant(bn->input(1)), &beta = b.constant(bn->input(2)),
                 &mean = b.constant(bn->input(3)), &var = b.constant(bn->input(4));
  for (const Constant* c : {&gamma, &beta, &mean, &var}) {
    if (!c->is_float || c->f.size() != channels) return;
  }
  const float eps = attr_float(*bn, "epsilon", 1e-5f);
  for (size_t c = 0; c < channels; ++c) {
    const float s = gamma.f[c] / std::sqrt(var.f[c] + eps);
    scale[c] *= s;
    shift[c] = (shift[c] - mean.f[c]) * s + beta.f[c];
  }
  b.skip(bn);
  output = bn->output(0);
}

void convert_conv(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() == 4, "only 2-D convolutions (4-D input) are supported, input has rank {}",
               in.size());
  const Constant& weights = b.constant(node.input(1));
  OSPREY_CHECK(weights.is_float && weights.dims.size() == 4, "weights must be a 4-D float constant");
  const int64_t out_c = weights.dims[0], in_per_group = weights.dims[1], kh = weights.dims[2],
                kw = weights.dims[3];
  const int64_t group = attr_int(node, "group", 1);
  OSPREY_CHECK(group >= 1 && in[1] == in_per_group * group && out_c % group == 0,
               "weights {}x{} do not fit {} input channels in {} groups", out_c, in_per_group, in[1], group);
  const Window w = window(node, in, kh, kw, false);

  std::vector<float> scale(static_cast<size_t>(out_c), 1.0f), shift(static_cast<size_t>(out_c), 0.0f);
  if (!Builder::input(node, 2).empty()) {
    const Constant& bias = b.constant(node.input(2));
    OSPREY_CHECK(bias.is_float && bias.size() == out_c, "bias must have {} float values", out_c);
    shift = bias.f;
  }
  std::string output = node.output(0);
  fold_batch_norm(b, output, scale, shift);
  fold_affine(b, output, scale, shift);
  const Activation act = fuse_activation(b, output);

  int input = b.nhwc_tensor(x);
  const Padding padding = choose_padding(b, input, w, in, 0.0f, true, output);
  const bool depthwise = group > 1 && group == in[1];
  std::vector<float> filter(weights.f.size());
  const auto src = [&](int64_t o, int64_t i, int64_t y, int64_t xx) {
    return weights.f[static_cast<size_t>(((o * in_per_group + i) * kh + y) * kw + xx)] *
           scale[static_cast<size_t>(o)];
  };
  Dims filter_dims;
  if (depthwise) {  // [1, KH, KW, Cout]
    filter_dims = {1, kh, kw, out_c};
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t xx = 0; xx < kw; ++xx)
          filter[static_cast<size_t>((y * kw + xx) * out_c + o)] = src(o, 0, y, xx);
  } else {  // OHWI
    filter_dims = {out_c, kh, kw, in_per_group};
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t xx = 0; xx < kw; ++xx)
          for (int64_t i = 0; i < in_per_group; ++i)
            filter[static_cast<size_t>(((o * kh + y) * kw + xx) * in_per_group + i)] = src(o, i, y, xx);
  }
  const int filter_tensor = b.float_tensor(output + "/filter", filter_dims, filter);
  const int bias_tensor = b.float_tensor(output + "/bias", {out_c}, shift);
  const Dims out_nhwc = {in[0], w.out_h, w.out_w, out_c};
  const int out = b.add_tensor(output, out_nhwc);
  if (depthwise) {
    DepthwiseConv2DOptions o{padding,
                             static_cast<int>(w.sw),
                             static_cast<int>(w.sh),
                             static_cast<int>(w.dw),
                             static_cast<int>(w.dh),
                             static_cast<int>(out_c / in[1]),
                             act};
    b.add_op(OpCode::kDepthwiseConv2D, {input, filter_tensor, bias_tensor}, {out}, o);
  } else {
    Conv2DOptions o{padding,
                    static_cast<int>(w.sw),
                    static_cast<int>(w.sh),
                    static_cast<int>(w.dw),
                    static_cast<int>(w.dh),
                    act};
    b.add_op(OpCode::kConv2D, {input, filter_tensor, bias_tensor}, {out}, o);
  }
  b.set_tensor(output, {in[0], out_c, w.out_h, w.out_w}, out, true);
}

void convert_conv_transpose(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() == 4, "only 2-D ConvTranspose (4-D input) is supported, input has rank {}",
               in.size());
  const Constant& weights = b.constant(node.input(1));
  OSPREY_CHECK(weights.is_float && weights.dims.size() == 4 && weights.dims[0] == in[1],
               "weights must be a 4-D float constant [Cin, Cout, KH, KW]");
  OSPREY_CHECK(attr_int(node, "group", 1) == 1, "grouped ConvTranspose is not supported");
  OSPREY_CHECK(!find_attribute(node, "output_shape"),
               "ConvTranspose output_shape is not supported; give pads");
  OSPREY_CHECK(attr_string(node, "auto_pad", "NOTSET") == "NOTSET",
               "ConvTranspose auto_pad is not supported");
  const auto dilations = attr_ints(node, "dilations", {1, 1});
  OSPREY_CHECK(dilations == std::vector<int64_t>({1, 1}), "dilated ConvTranspose is not supported");
  const int64_t in_c = weights.dims[0], out_c = weights.dims[1], kh = weights.dims[2], kw = weights.dims[3];
  const auto strides = attr_ints(node, "strides", {1, 1});
  const auto pads = attr_ints(node, "pads", {0, 0, 0, 0});
  const auto extra = attr_ints(node, "output_padding", {0, 0});
  OSPREY_CHECK(strides.size() == 2 && pads.size() == 4 && extra.size() == 2,
               "strides/pads/output_padding sizes");
  const int64_t sh = positive(strides[0], "stride"), sw = positive(strides[1], "stride");
  for (int64_t p : pads) OSPREY_CHECK(p >= 0 && p < (1 << 20), "pad {} is out of range", p);
  // TFLite's VALID transposed convolution makes the full output; ONNX pads crop it.
  const int64_t full_h = sh * (in[2] - 1) + kh, full_w = sw * (in[3] - 1) + kw;
  const int64_t out_h = full_h + extra[0] - pads[0] - pads[2], out_w = full_w + extra[1] - pads[1] - pads[3];
  OSPREY_CHECK(out_h > 0 && out_w > 0 && pads[0] + out_h <= full_h && pads[1] + out_w <= full_w,
               "this output_padding/pads combination is not supported");

  std::vector<float> filter(weights.f.size());  // [Cin, Cout, KH, KW] -> [Cout, KH, KW, Cin]
  for (int64_t i = 0; i < in_c; ++i)
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t xx = 0; xx < kw; ++xx)
          filter[static_cast<size_t>(((o * kh + y) * kw + xx) * in_c + i)] =
              weights.f[static_cast<size_t>(((i * out_c + o) * kh + y) * kw + xx)];
  std::vector<float> bias(static_cast<size_t>(out_c), 0.0f);
  if (!Builder::input(node, 2).empty()) {
    const Constant& c = b.constant(node.input(2));
    OSPREY_CHECK(c.is_float && c.size() == out_c, "bias must have {} float values", out_c);
    bias = c.f;
  }
  std::string output = node.output(0);
  const bool crop = out_h != full_h || out_w != full_w;
  const Activation act = crop ? Activation::kNone : fuse_activation(b, output);
  const int input = b.nhwc_tensor(x);
  const int shape =
      b.int32_tensor(output + "/output_shape", {static_cast<int32_t>(in[0]), static_cast<int32_t>(full_h),
                                                static_cast<int32_t>(full_w), static_cast<int32_t>(out_c)});
  const int filter_tensor = b.float_tensor(output + "/filter", {out_c, kh, kw, in_c}, filter);
  const int bias_tensor = b.float_tensor(output + "/bias", {out_c}, bias);
  int out = b.add_tensor(crop ? output + "/full" : output, {in[0], full_h, full_w, out_c});
  b.add_op(OpCode::kTransposeConv, {shape, filter_tensor, input, bias_tensor}, {out},
           TransposeConvOptions{Padding::kValid, static_cast<int>(sw), static_cast<int>(sh), act});
  if (crop) {
    const int begin = b.int32_tensor(output + "/begin",
                                     {0, static_cast<int32_t>(pads[0]), static_cast<int32_t>(pads[1]), 0});
    const int end =
        b.int32_tensor(output + "/end", {static_cast<int32_t>(in[0]), static_cast<int32_t>(pads[0] + out_h),
                                         static_cast<int32_t>(pads[1] + out_w), static_cast<int32_t>(out_c)});
    const int step = b.int32_tensor(output + "/strides", {1, 1, 1, 1});
    const int cropped = b.add_tensor(output, {in[0], out_h, out_w, out_c});
    b.add_op(OpCode::kStridedSlice, {out, begin, end, step}, {cropped}, StridedSliceOptions{});
    out = cropped;
  }
  b.set_tensor(output, {in[0], out_c, out_h, out_w}, out, true);
}

// A BatchNormalization not folded into a convolution: MUL and ADD per channel.
void convert_batch_norm(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() >= 2, "input has rank {}, BatchNormalization needs channels", in.size());
  const int64_t channels = in[1];
  std::vector<const Constant*> p;
  for (int i = 1; i < 5; ++i) {
    p.push_back(&b.constant(node.input(i)));
    OSPREY_CHECK(p.back()->is_float && p.back()->size() == channels, "parameter {} must have {} values", i,
                 channels);
  }
  OSPREY_CHECK(node.output_size() == 1, "training-mode BatchNormalization is not supported");
  const float eps = attr_float(node, "epsilon", 1e-5f);
  std::vector<float> scale, shift;
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    const float s = p[0]->f[c] / std::sqrt(p[3]->f[c] + eps);
    scale.push_back(s);
    shift.push_back(p[1]->f[c] - p[2]->f[c] * s);
  }
  const bool nhwc = in.size() == 4;
  Dims param_dims(in.size(), 1);
  param_dims[nhwc ? 3 : 1] = channels;
  if (nhwc) param_dims = {1, 1, 1, channels};
  const int input = b.tensor_in(x, nhwc);
  const Dims tensor_dims = nhwc ? permute(in, kToNhwc) : in;
  const int scaled = b.add_tensor(node.output(0) + "/scaled", tensor_dims);
  b.add_op(OpCode::kMul, {input, b.float_tensor(node.output(0) + "/scale", param_dims, scale)}, {scaled},
           ElementwiseOptions{});
  const int out = b.add_tensor(node.output(0), tensor_dims);
  b.add_op(OpCode::kAdd, {scaled, b.float_tensor(node.output(0) + "/shift", param_dims, shift)}, {out},
           ElementwiseOptions{});
  b.set_tensor(node.output(0), in, out, nhwc);
}

template <bool kMax>
void convert_pool(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() == 4, "only 2-D pooling (4-D input) is supported, input has rank {}", in.size());
  OSPREY_CHECK(node.output_size() == 1, "MaxPool indices output is not supported");
  const Window w = window(node, in, 1, 1, true);
  OSPREY_CHECK(w.dh == 1 && w.dw == 1, "dilated pooling is not supported");
  const bool include_pad = attr_int(node, "count_include_pad", 0) != 0;
  int input = b.nhwc_tensor(x);
  std::optional<float> pad_value;
  if (kMax) pad_value = -FLT_MAX;
  if (!kMax && include_pad) pad_value = 0.0f;
  const Padding padding = choose_padding(b, input, w, in, pad_value, kMax || !include_pad, node.output(0));
  const int out = b.add_tensor(node.output(0), {in[0], w.out_h, w.out_w, in[1]});
  Pool2DOptions o{padding,
                  static_cast<int>(w.sw),
                  static_cast<int>(w.sh),
                  static_cast<int>(w.kw),
                  static_cast<int>(w.kh),
                  Activation::kNone};
  b.add_op(kMax ? OpCode::kMaxPool2D : OpCode::kAveragePool2D, {input}, {out}, o);
  b.set_tensor(node.output(0), {in[0], in[1], w.out_h, w.out_w}, out, true);
}

template <bool kMax>
void convert_global_pool(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() == 4, "only 4-D input is supported, input has rank {}", in.size());
  const int input = b.nhwc_tensor(x);
  const int axes = b.int32_tensor(node.output(0) + "/axes", {1, 2});
  const int out = b.add_tensor(node.output(0), {in[0], 1, 1, in[1]});
  b.add_op(kMax ? OpCode::kReduceMax : OpCode::kMean, {input, axes}, {out}, ReducerOptions{true});
  b.set_tensor(node.output(0), {in[0], in[1], 1, 1}, out, true);
}

}  // namespace

void add_conv_converters(ConverterTable& t) {
  t["Conv"] = convert_conv;
  t["ConvTranspose"] = convert_conv_transpose;
  t["BatchNormalization"] = convert_batch_norm;
  t["MaxPool"] = convert_pool<true>;
  t["AveragePool"] = convert_pool<false>;
  t["GlobalAveragePool"] = convert_global_pool<false>;
  t["GlobalMaxPool"] = convert_global_pool<true>;
}

}  // namespace osprey::onnx
