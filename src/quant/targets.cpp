#include "quant/targets.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/json_text.h"

namespace osprey::quant {

namespace {

bool op_is(const Op& op, OpCode c) {
  return op.code == static_cast<int32_t>(c);
}

// The vendors' op lists, by TFLite op name (op_code_name): many of these ops
// have no kernel in osprey, and a name list reads as the vendor writes it.
using OpNames = std::set<std::string, std::less<>>;

// ARTPEC-8: Axis's list of accelerated TFLite ops.
const OpNames& artpec8_ops() {
  static const OpNames ops = {"FULLY_CONNECTED",
                              "CONV_2D",
                              "DEPTHWISE_CONV_2D",
                              "TRANSPOSE_CONV",
                              "MAX_POOL_2D",
                              "AVERAGE_POOL_2D",
                              "CONCATENATION",
                              "RESHAPE",
                              "EXPAND_DIMS",
                              "SQUEEZE",
                              "SLICE",
                              "STRIDED_SLICE",
                              "GATHER",
                              "GATHER_ND",
                              "ONE_HOT",
                              "SPLIT",
                              "TRANSPOSE",
                              "RESIZE_NEAREST_NEIGHBOR",
                              "RESIZE_BILINEAR",
                              "CAST",
                              "ADD",
                              "ADD_N",
                              "MUL",
                              "DIV",
                              "FLOOR_DIV",
                              "POW",
                              "SQUARE",
                              "SIN",
                              "TANH",
                              "ABS",
                              "NEG",
                              "SQRT",
                              "FLOOR",
                              "MINIMUM",
                              "MAXIMUM",
                              "LESS",
                              "GREATER",
                              "GREATER_EQUAL",
                              "LESS_EQUAL",
                              "EQUAL",
                              "NOT_EQUAL",
                              "LOGICAL_NOT",
                              "LOGICAL_AND",
                              "LOGICAL_OR",
                              "RELU",
                              "RELU6",
                              "SOFTMAX",
                              "GELU",
                              "ELU",
                              "HARD_SWISH",
                              "REDUCE_MIN",
                              "REDUCE_MAX",
                              "REDUCE_ANY",
                              "REDUCE_PROD",
                              "ARG_MIN",
                              "ARG_MAX"};
  return ops;
}

// ARTPEC-9: the ARTPEC-8 list plus the ops Axis's ARTPEC-9 tips give constraints for.
const OpNames& artpec9_ops() {
  static const OpNames ops = [] {
    OpNames s = artpec8_ops();
    s.insert({"LOGISTIC", "PAD", "MEAN"});
    return s;
  }();
  return ops;
}

// ARTPEC-7 (Edge TPU): Coral's list of ops the Edge TPU compiler maps.
const OpNames& artpec7_ops() {
  static const OpNames ops = {"ADD",
                              "AVERAGE_POOL_2D",
                              "CONCATENATION",
                              "CONV_2D",
                              "DEPTHWISE_CONV_2D",
                              "EXPAND_DIMS",
                              "FULLY_CONNECTED",
                              "HARD_SWISH",
                              "L2_NORMALIZATION",
                              "LOGISTIC",
                              "MAXIMUM",
                              "MAX_POOL_2D",
                              "MEAN",
                              "MINIMUM",
                              "MUL",
                              "PACK",
                              "PAD",
                              "PRELU",
                              "QUANTIZE",
                              "REDUCE_MAX",
                              "REDUCE_MIN",
                              "RELU",
                              "RELU6",
                              "RELU_N1_TO_1",
                              "RESHAPE",
                              "RESIZE_BILINEAR",
                              "RESIZE_NEAREST_NEIGHBOR",
                              "RSQRT",
                              "SLICE",
                              "SOFTMAX",
                              "SPACE_TO_DEPTH",
                              "SPLIT",
                              "SQUEEZE",
                              "STRIDED_SLICE",
                              "SUB",
                              "SUM",
                              "SQUARED_DIFFERENCE",
                              "TANH",
                              "TRANSPOSE",
                              "TRANSPOSE_CONV"};
  return ops;
}

std::string tensor_label(const Graph& g, int t) {
  const Tensor& x = g.tensors[static_cast<size_t>(t)];
  return fmt::format("'{}'", x.name.empty() ? fmt::format("#{}", t) : x.name);
}

Activation fused_activation(const Op& op) {
  if (const auto* o = std::get_if<Conv2DOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<DepthwiseConv2DOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<Pool2DOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<ConcatenationOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<ElementwiseOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<FullyConnectedOptions>(&op.options)) return o->activation;
  if (const auto* o = std::get_if<TransposeConvOptions>(&op.options)) return o->activation;
  return Activation::kNone;
}

int constant_int(const Graph& g, int t, int k) {
  const Tensor& x = g.tensors[static_cast<size_t>(t)];
  if (!x.is_constant || x.data == nullptr || k >= x.num_elements()) return 0;
  return x.type == DType::kInt64 ? static_cast<int>(x.data_as<int64_t>()[k]) : x.data_as<int32_t>()[k];
}

class Checker {
 public:
  Checker(const Graph& g, Target t) : g_(g), target_(t) {}

  TargetReport run() {
    report_.target = target_;
    model_checks();
    bool cut = false;  // Edge TPU: everything after the first CPU op stays on the CPU
    for (const Op& op : g_.ops) {
      OpPlacement p;
      p.index = op.index;
      p.op = op.name();
      check_op(op, p);
      if (target_ == Target::kArtpec7 && cut && p.reasons.empty()) {
        p.reasons.push_back(
            "follows an op that runs on the CPU: the Edge TPU compiler maps only the part of the "
            "graph before the first unsupported op");
      }
      p.accelerated = p.reasons.empty();
      if (!p.accelerated) cut = true;
      report_.accelerated += p.accelerated ? 1 : 0;
      report_.ops.push_back(std::move(p));
    }
    return std::move(report_);
  }

 private:
  const Tensor& t(int i) const { return g_.tensors[static_cast<size_t>(i)]; }

  void model_checks() {
    for (const Op& op : g_.ops) {
      const bool io_conversion = (op_is(op, OpCode::kQuantize) && t(op.inputs[0]).type == DType::kFloat32) ||
                                 (op_is(op, OpCode::kDequantize) && t(op.outputs[0]).type == DType::kFloat32);
      bool has_float = false;
      for (int x : op.inputs) has_float = has_float || (x >= 0 && t(x).type == DType::kFloat32);
      for (int x : op.outputs) has_float = has_float || t(x).type == DType::kFloat32;
      if (has_float && !io_conversion) {
        report_.full_integer = false;
        report_.float_ops.push_back(fmt::format("#{} {}", op.index, op.name()));
      }
      if (op_is(op, OpCode::kCustom)) report_.full_integer = false;
      for (int x : op.inputs) {
        if (x >= 0 && t(x).is_constant && t(x).quant.per_channel() && t(x).type != DType::kInt32) {
          const std::string s = fmt::format("{} ({} scales, axis {})", tensor_label(g_, x),
                                            t(x).quant.scale.size(), t(x).quant.axis);
          if (std::find(report_.per_channel_tensors.begin(), report_.per_channel_tensors.end(), s) ==
              report_.per_channel_tensors.end())
            report_.per_channel_tensors.push_back(s);
        }
      }
    }
    refusal_check();
    for (int x : g_.inputs) {
      if (t(x).type == DType::kFloat32) report_.full_integer = false;
    }
    for (int x : g_.outputs) {
      if (t(x).type == DType::kFloat32) report_.full_integer = false;
    }
    if (target_ == Target::kCv25) {
      for (int x : g_.inputs) {
        const Tensor& in = t(x);
        if (in.rank() == 4 && (in.dim(1) % 32 != 0 || in.dim(2) % 32 != 0)) {
          report_.model_issues.push_back(
              fmt::format("input {} is {}x{}: CV25 needs input sizes that are multiples of 32",
                          tensor_label(g_, x), in.dim(2), in.dim(1)));
        }
      }
    }
  }

  // The DLPUs load only integer models: the first op computing in float makes
  // the device refuse the model. Custom ops (never accelerated, e.g. SSD's
  // post-processing with float outputs) and the float<->integer conversions
  // at the model's edges run on the CPU, as the vendors' integer models do.
  void refusal_check() {
    if (target_ != Target::kArtpec7 && target_ != Target::kArtpec8 && target_ != Target::kArtpec9) return;
    auto is_float = [&](int x) {
      return x >= 0 && (t(x).type == DType::kFloat32 || t(x).type == DType::kFloat16);
    };
    for (const Op& op : g_.ops) {
      if (op_is(op, OpCode::kCustom) || op.inputs.empty() || op.outputs.empty()) continue;
      if ((op_is(op, OpCode::kQuantize) && is_float(op.inputs[0]) && !is_float(op.outputs[0])) ||
          (op_is(op, OpCode::kDequantize) && !is_float(op.inputs[0]) && is_float(op.outputs[0])))
        continue;
      const char* side = "input";
      int found = -1;
      for (int x : op.inputs) {
        if (found < 0 && is_float(x)) found = x;
      }
      for (int x : op.outputs) {
        if (found < 0 && is_float(x)) found = x, side = "output";
      }
      if (found < 0) continue;
      report_.load_refusal = fmt::format(
          "op #{} {} has {} {} {}: {} runs only full-integer models (int8 weights and activations{}); "
          "quantize it with `osprey quantize MODEL --target {}`",
          op.index, op.name(), dtype_name(t(found).type), side, tensor_label(g_, found),
          target_title(target_), target_ == Target::kArtpec8 ? ", weights per tensor" : "",
          target_name(target_));
      return;
    }
  }

  // Reasons common to the int8 DLPUs.
  void integer_checks(const Op& op, OpPlacement& p) {
    std::vector<std::string> floats;
    for (int x : op.inputs) {
      if (x >= 0 && (t(x).type == DType::kFloat32 || t(x).type == DType::kFloat16))
        floats.push_back(fmt::format("{} ({})", tensor_label(g_, x), dtype_name(t(x).type)));
    }
    for (int x : op.outputs) {
      if (t(x).type == DType::kFloat32) floats.push_back(fmt::format("{} (float32)", tensor_label(g_, x)));
    }
    if (!floats.empty()) {
      std::string list;
      for (size_t i = 0; i < floats.size() && i < 3; ++i) list += (list.empty() ? "" : ", ") + floats[i];
      if (floats.size() > 3) list += fmt::format(" and {} more", floats.size() - 3);
      p.reasons.push_back("float tensors " + list + ": the accelerator runs int8 only");
    }
    for (int x : op.inputs) {
      if (x >= 0 && t(x).type == DType::kInt16) {
        p.reasons.push_back(fmt::format("int16 tensor {} (the DLPU runs int8 only)", tensor_label(g_, x)));
      }
    }
  }

  void check_op(const Op& op, OpPlacement& p) {
    if (target_ == Target::kCpu) return;
    if (op_is(op, OpCode::kCustom)) {
      p.reasons.push_back(
          fmt::format("custom op {}: custom ops never run on an accelerator", op.custom_code));
      return;
    }
    if (target_ == Target::kCv25) {
      p.hints.push_back("compiled and quantized by Ambarella's toolchain; check its op list");
      return;
    }
    integer_checks(op, p);
    const OpNames& supported = target_ == Target::kArtpec7   ? artpec7_ops()
                               : target_ == Target::kArtpec8 ? artpec8_ops()
                                                             : artpec9_ops();
    const bool integer_requantize = op_is(op, OpCode::kQuantize) && t(op.inputs[0]).type != DType::kFloat32 &&
                                    t(op.outputs[0]).type != DType::kFloat32;
    if (!supported.count(op_code_name(op.code)) && !integer_requantize) {
      p.reasons.push_back(
          fmt::format("{} is not in {}'s list of accelerated ops", op.name(), target_title(target_)));
    } else if (integer_requantize && target_ != Target::kArtpec7) {
      p.hints.push_back("uint8<->int8 requantization at the model edge (Axis's uint8 input/output recipe)");
    }
    switch (target_) {
      case Target::kArtpec7: artpec7_rules(op, p); break;
      case Target::kArtpec8: artpec8_rules(op, p); break;
      case Target::kArtpec9: artpec9_rules(op, p); break;
      default: break;
    }
  }

  void artpec7_rules(const Op& op, OpPlacement& p) {
    const bool pool_or_concat = op_is(op, OpCode::kMaxPool2D) || op_is(op, OpCode::kAveragePool2D) ||
                                op_is(op, OpCode::kConcatenation);
    if (pool_or_concat && fused_activation(op) != Activation::kNone) {
      p.reasons.push_back("fused activation on pooling/concatenation is not supported by the Edge TPU");
    }
    for (int x : op.outputs) {
      const Tensor& o = t(x);
      int big = 0;
      for (int d = 0; d + 3 < o.rank(); ++d) big += o.dim(d) > 1 ? 1 : 0;
      if (big)
        p.reasons.push_back(
            fmt::format("output {} has shape {}: only the 3 innermost dimensions may exceed 1",
                        tensor_label(g_, x), shape_str(o.shape)));
    }
    if ((op_is(op, OpCode::kPad) || op_is(op, OpCode::kPadV2)) && op.inputs.size() > 1) {
      const Tensor& in = t(op.inputs[0]);
      for (int d = 0; d < in.rank(); ++d) {
        if (d == 1 || d == 2) continue;
        if (constant_int(g_, op.inputs[1], 2 * d) || constant_int(g_, op.inputs[1], 2 * d + 1)) {
          p.reasons.push_back(fmt::format("pads dimension {}: the Edge TPU pads only along x and y", d));
          break;
        }
      }
    }
    if (op_is(op, OpCode::kMean) && op.inputs.size() > 1) {
      const Tensor& axes = t(op.inputs[1]);
      for (int64_t k = 0; k < axes.num_elements(); ++k) {
        const int a = constant_int(g_, op.inputs[1], static_cast<int>(k));
        const int r = t(op.inputs[0]).rank();
        const int axis = a < 0 ? a + r : a;
        if (axis != 1 && axis != 2) {
          p.reasons.push_back(
              fmt::format("MEAN over axis {}: the Edge TPU reduces only along x and y", axis));
          break;
        }
      }
    }
  }

  void conv_hints_a8(const Op& op, OpPlacement& p) {
    const Tensor& w = t(op.inputs[1]);
    if (w.rank() != 4) return;
    const int kh = w.dim(1), kw = w.dim(2);
    const int out_channels = op_is(op, OpCode::kDepthwiseConv2D) ? w.dim(3) : w.dim(0);
    if (!(kh == 3 && kw == 3) && !(kh == 1 && kw == 1)) {
      p.hints.push_back(fmt::format("{}x{} kernel: ARTPEC-8 is built for 3x3", kh, kw));
    }
    if (out_channels % 6 != 0) {
      p.hints.push_back(
          fmt::format("{} output channels: multiples of 6 fill ARTPEC-8's filter blocks", out_channels));
    }
    if (op_is(op, OpCode::kDepthwiseConv2D))
      p.hints.push_back("depthwise: regular convolutions run better on ARTPEC-8");
    int sh = 1, sw = 1;
    if (const auto* o = std::get_if<Conv2DOptions>(&op.options)) sh = o->stride_h, sw = o->stride_w;
    if (const auto* o = std::get_if<DepthwiseConv2DOptions>(&op.options)) sh = o->stride_h, sw = o->stride_w;
    if (sh > 2 || sw > 2) p.hints.push_back(fmt::format("stride {}x{}: stride 1 and 2 are native", sh, sw));
  }

  void artpec8_rules(const Op& op, OpPlacement& p) {
    for (int x : op.inputs) {
      if (x >= 0 && t(x).is_constant && t(x).quant.per_channel() && t(x).type != DType::kInt32) {
        p.reasons.push_back(
            fmt::format("per-channel quantized {} ({} scales): ARTPEC-8 needs per-tensor "
                        "quantization (per-channel runs much slower and less accurately)",
                        tensor_label(g_, x), t(x).quant.scale.size()));
      }
    }
    if (op_is(op, OpCode::kConv2D) || op_is(op, OpCode::kDepthwiseConv2D)) conv_hints_a8(op, p);
  }

  void artpec9_rules(const Op& op, OpPlacement& p) {
    for (int x : op.outputs) {
      const Tensor& o = t(x);
      if (o.rank() > 4)
        p.reasons.push_back(fmt::format("output {} has {} dims (at most 4)", tensor_label(g_, x), o.rank()));
      if (o.rank() == 4 && o.dim(0) != 1) p.reasons.push_back(fmt::format("batch {} (must be 1)", o.dim(0)));
    }
    const bool conv = op_is(op, OpCode::kConv2D) || op_is(op, OpCode::kDepthwiseConv2D) ||
                      op_is(op, OpCode::kTransposeConv);
    if (conv) {
      const Tensor& w = t(op.inputs[1]);
      if (w.rank() == 4) {
        const int kh = w.dim(1), kw = w.dim(2);
        int sh = 1, sw = 1;
        if (const auto* o = std::get_if<Conv2DOptions>(&op.options)) sh = o->stride_h, sw = o->stride_w;
        if (const auto* o = std::get_if<DepthwiseConv2DOptions>(&op.options))
          sh = o->stride_h, sw = o->stride_w;
        if (const auto* o = std::get_if<TransposeConvOptions>(&op.options))
          sh = o->stride_h, sw = o->stride_w;
        static const std::set<int> sizes = {1, 2, 3, 5, 7, 9};
        if (!sizes.count(kh) || !sizes.count(kw)) {
          p.reasons.push_back(fmt::format("{}x{} kernel: ARTPEC-9 supports 1, 2, 3, 5, 7 and 9", kh, kw));
        }
        if (op_is(op, OpCode::kTransposeConv)) {
          if (sh != 2 || sw != 2)
            p.reasons.push_back(fmt::format("TRANSPOSE_CONV stride {}x{}: only 2", sh, sw));
        } else if (sh > 2 || sw > 2) {
          p.reasons.push_back(fmt::format("stride {}x{}: only 1 or 2", sh, sw));
        } else if ((kh > 7 || kw > 7) && (sh != 1 || sw != 1)) {
          p.reasons.push_back(
              fmt::format("{}x{} kernel with stride {}x{}: kernels above 7 need stride 1", kh, kw, sh, sw));
        }
        if (const auto* o = std::get_if<DepthwiseConv2DOptions>(&op.options)) {
          const Tensor& in = t(op.inputs[0]);
          if (in.rank() == 4 && w.dim(3) != in.dim(3)) {
            p.reasons.push_back(
                fmt::format("depth multiplier {}: ARTPEC-9 supports 1 only", w.dim(3) / in.dim(3)));
          }
          (void)o;
        }
        const Tensor& in = t(op_is(op, OpCode::kTransposeConv) ? op.inputs[2] : op.inputs[0]);
        const int out_c = op_is(op, OpCode::kDepthwiseConv2D) ? w.dim(3) : w.dim(0);
        if (in.rank() == 4 && out_c > 0) {
          const int64_t ratio = int64_t{in.dim(3)} * in.dim(2) / out_c;
          if (ratio >= 65536) {
            p.reasons.push_back(
                fmt::format("input channels x width / output channels = {} (must be below 65536)", ratio));
          }
        }
        if (out_c % 16 != 0)
          p.hints.push_back(fmt::format("{} filters: multiples of 16 perform best", out_c));
      }
    }
    if (op_is(op, OpCode::kConcatenation) || op_is(op, OpCode::kSplit)) {
      const Tensor& o = t(op.outputs[0]);
      int axis = 0;
      if (const auto* co = std::get_if<ConcatenationOptions>(&op.options)) axis = co->axis;
      if (op_is(op, OpCode::kSplit)) axis = constant_int(g_, op.inputs[0], 0);
      const int r = o.rank();
      if (axis < 0) axis += r;
      if (axis == r - 1) {
        const std::vector<int>& parts = op_is(op, OpCode::kConcatenation) ? op.inputs : op.outputs;
        for (int x : parts) {
          if (x < 0 || t(x).type == DType::kInt32) continue;
          if (t(x).rank() > 0 && t(x).dim(r - 1) % 16 != 0) {
            p.reasons.push_back(
                fmt::format("{} on channels with {} having {} channels (must be a multiple of 16)", op.name(),
                            tensor_label(g_, x), t(x).dim(r - 1)));
            break;
          }
        }
      }
    }
    if (op_is(op, OpCode::kMaxPool2D)) {
      if (const auto* o = std::get_if<Pool2DOptions>(&op.options)) {
        const bool ok2 = o->filter_h == 2 && o->filter_w == 2 && o->stride_h == 2 && o->stride_w == 2;
        const bool ok3 = o->filter_h == 3 && o->filter_w == 3 && o->stride_h == 2 && o->stride_w == 2 &&
                         t(op.inputs[0]).rank() == 4 && t(op.inputs[0]).dim(2) <= 417;
        if (!ok2 && !ok3) {
          p.reasons.push_back(
              fmt::format("MAX_POOL_2D {}x{} stride {}x{}: only 2x2 and 3x3 (width <= 417) with "
                          "stride 2",
                          o->filter_h, o->filter_w, o->stride_h, o->stride_w));
        }
      }
    }
    if (op_is(op, OpCode::kMean)) {
      const Tensor& in = t(op.inputs[0]);
      const Tensor& out = t(op.outputs[0]);
      const bool spatial = in.rank() == 4 &&
                           ((in.dim(1) == 7 && in.dim(2) == 7) || (in.dim(1) == 8 && in.dim(2) == 8)) &&
                           out.num_elements() == in.dim(0) * in.dim(3);
      if (!spatial) p.reasons.push_back("MEAN: only over x and y of a 7x7 or 8x8 input to 1x1");
    }
    if (op_is(op, OpCode::kResizeBilinear) || op_is(op, OpCode::kResizeNearestNeighbor)) {
      const Tensor& in = t(op.inputs[0]);
      const Tensor& out = t(op.outputs[0]);
      if (in.rank() == 4 && out.rank() == 4) {
        for (int d : {1, 2}) {
          const int n = in.dim(d), m = out.dim(d);
          if (m != 2 * n && m != 2 * n - 1) {
            p.reasons.push_back(fmt::format("resize {} -> {} along {}: the output must be 2n or 2n-1", n, m,
                                            d == 1 ? "height" : "width"));
            break;
          }
        }
      }
    }
    if (op_is(op, OpCode::kLogistic) || op_is(op, OpCode::kTanh)) {
      const Tensor& out = t(op.outputs[0]);
      const float want = op_is(op, OpCode::kLogistic) ? 1.0f / 256 : 1.0f / 128;
      if (!out.quant.empty() && std::abs(out.quant.scale[0] - want) > want * 1e-5f) {
        p.reasons.push_back(
            fmt::format("{} output scale {} (must be {})", op.name(), out.quant.scale[0], want));
      }
    }
    if ((op_is(op, OpCode::kPad) || op_is(op, OpCode::kPadV2)) && op.inputs.size() > 1) {
      const Tensor& in = t(op.inputs[0]);
      for (int d = 0; d < in.rank(); ++d) {
        const int before = constant_int(g_, op.inputs[1], 2 * d),
                  after = constant_int(g_, op.inputs[1], 2 * d + 1);
        if ((d != 1 && d != 2) && (before || after)) {
          p.reasons.push_back(fmt::format("PAD along dimension {}: only height and width", d));
          break;
        }
        if (before > 7 || after > 7) {
          p.reasons.push_back(
              fmt::format("PAD of {} / {} on dimension {}: at most 7 per side", before, after, d));
          break;
        }
      }
      if (p.reasons.empty())
        p.hints.push_back("explicit padding: fold it into the convolution (SAME) if possible");
    }
    if (fused_activation(op) == Activation::kRelu)
      p.hints.push_back("ReLU6 is preferred over ReLU on ARTPEC-9");
  }

  const Graph& g_;
  Target target_;
  TargetReport report_;
};

}  // namespace

Target parse_target(const std::string& name) {
  if (name == "cpu") return Target::kCpu;
  if (name == "artpec7" || name == "artpec-7") return Target::kArtpec7;
  if (name == "artpec8" || name == "artpec-8") return Target::kArtpec8;
  if (name == "artpec9" || name == "artpec-9") return Target::kArtpec9;
  if (name == "cv25") return Target::kCv25;
  fail("unknown target '{}' (use cpu, artpec7, artpec8, artpec9 or cv25)", name);
}

const char* target_name(Target t) {
  switch (t) {
    case Target::kCpu: return "cpu";
    case Target::kArtpec7: return "artpec7";
    case Target::kArtpec8: return "artpec8";
    case Target::kArtpec9: return "artpec9";
    case Target::kCv25: return "cv25";
  }
  return "?";
}

const char* target_title(Target t) {
  switch (t) {
    case Target::kCpu: return "CPU";
    case Target::kArtpec7: return "ARTPEC-7";
    case Target::kArtpec8: return "ARTPEC-8";
    case Target::kArtpec9: return "ARTPEC-9";
    case Target::kCv25: return "CV25";
  }
  return "?";
}

const char* target_device(Target t) {
  switch (t) {
    case Target::kCpu: return "cpu-tflite";
    case Target::kArtpec7: return "google-edge-tpu-tflite";
    case Target::kArtpec8: return "axis-a8-dlpu-tflite";
    case Target::kArtpec9: return "a9-dlpu-tflite";
    case Target::kCv25: return "ambarella-cvflow";
  }
  return "?";
}

TargetReport check_target(const Graph& graph, Target target) {
  return Checker(graph, target).run();
}

Graph without_folded_ops(const Graph& prepared) {
  Graph live;
  live.tensors = prepared.tensors;
  live.inputs = prepared.inputs;
  live.outputs = prepared.outputs;
  for (const Op& op : prepared.ops) {
    bool folded = true;
    for (int t : op.outputs) folded = folded && prepared.tensors[static_cast<size_t>(t)].is_constant;
    if (!folded) live.ops.push_back(op);
  }
  return live;
}

std::string format_target_report(const TargetReport& r, const std::string& model) {
  const char* where = r.target == Target::kCpu ? "CPU" : r.target == Target::kArtpec7 ? "TPU" : "DLPU";
  std::string s = fmt::format("model: {}\ntarget: {} (larod device {})\n\n", model, target_title(r.target),
                              target_device(r.target));
  s += fmt::format("  {:>4}  {:<26} {:<5} {}\n", "op", "kind", "runs", "reason / hint");
  for (const OpPlacement& p : r.ops) {
    const char* runs = p.accelerated ? where : "CPU";
    std::string detail;
    for (const std::string& x : p.reasons) detail += (detail.empty() ? "" : "; ") + x;
    for (const std::string& x : p.hints) detail += (detail.empty() ? "" : "; ") + ("hint: " + x);
    s += fmt::format("  {:>4}  {:<26} {:<5} {}\n", p.index, p.op, runs, detail);
  }
  s += "\n";
  if (r.target == Target::kCv25) {
    s += "note: CV25 takes RGB planar input (larod 'rgb-planar'); osprey models are NHWC interleaved\n";
  }
  if (!r.per_channel_tensors.empty()) {
    s += fmt::format("per-channel quantized tensors ({}):", r.per_channel_tensors.size());
    for (const std::string& x : r.per_channel_tensors) s += "\n  " + x;
    s += "\n";
  }
  if (!r.float_ops.empty()) {
    s += fmt::format("float ops ({}):", r.float_ops.size());
    for (size_t i = 0; i < r.float_ops.size(); ++i) s += (i % 8 == 0 ? "\n  " : ", ") + r.float_ops[i];
    s += "\n";
  }
  for (const std::string& x : r.model_issues) s += "model: " + x + "\n";
  s += fmt::format("full integer: {}\n", r.full_integer ? "yes" : "no");
  if (r.target == Target::kArtpec7 || r.target == Target::kArtpec8 || r.target == Target::kArtpec9) {
    s += r.load_refusal.empty()
             ? fmt::format("larod: {} loads it\n", target_device(r.target))
             : fmt::format("larod: {} refuses to load it: {}\n", target_device(r.target), r.load_refusal);
  }
  const int n = static_cast<int>(r.ops.size());
  if (r.target == Target::kCpu) {
    s += fmt::format("result: all {} ops run on the CPU\n", n);
  } else if (r.all_accelerated()) {
    s += fmt::format("result: all {} ops run on the {} {}\n", n, target_title(r.target), where);
  } else {
    s += fmt::format("result: {} of {} ops run on the {} {}; {} fall back to the CPU\n", r.accelerated, n,
                     target_title(r.target), where, n - r.accelerated);
  }
  return s;
}

std::string target_report_json(const TargetReport& r, const std::string& model) {
  nlohmann::json j;
  j["model"] = model;
  j["target"] = target_name(r.target);
  j["device"] = target_device(r.target);
  j["full_integer"] = r.full_integer;
  j["all_accelerated"] = r.all_accelerated();
  j["accelerated_ops"] = r.accelerated;
  j["num_ops"] = r.ops.size();
  j["per_channel_tensors"] = r.per_channel_tensors;
  j["float_ops"] = r.float_ops;
  j["model_issues"] = r.model_issues;
  j["load_refusal"] = r.load_refusal;
  j["ops"] = nlohmann::json::array();
  for (const OpPlacement& p : r.ops) {
    j["ops"].push_back({{"index", p.index},
                        {"op", p.op},
                        {"accelerated", p.accelerated},
                        {"reasons", p.reasons},
                        {"hints", p.hints}});
  }
  return json_text(j, 2);
}

}  // namespace osprey::quant
