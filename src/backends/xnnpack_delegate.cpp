#include "backends/xnnpack_delegate.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <variant>

#include <sys/mman.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/depthwise_conv.h"
#include "backends/sparse_conv.h"
#include "core/error.h"

namespace osprey {

namespace {

constexpr int32_t kPadV2 = 60;  // BuiltinOperator_PADV2 (not in OpCode)
constexpr float kInf = std::numeric_limits<float>::infinity();

const char* status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "not initialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown error";
}

void check_xnn(xnn_status status, std::string_view what) {
  if (status != xnn_status_success) fail("XNNPACK {} failed: {}", what, status_name(status));
}

void initialize_xnnpack() {
  static const xnn_status status = xnn_initialize(nullptr);
  check_xnn(status, "initialisation");
}

// ---------------------------------------------------------------------------
// Reading the graph.

const Tensor& tensor_at(const Graph& g, int t) {
  return g.tensors[static_cast<size_t>(t)];
}
bool has(const Op& op, size_t i) {
  return i < op.inputs.size() && op.inputs[i] >= 0;
}
const Tensor& in(const Graph& g, const Op& op, size_t i) {
  return tensor_at(g, op.inputs[i]);
}
const Tensor& out(const Graph& g, const Op& op, size_t i = 0) {
  return tensor_at(g, op.outputs[i]);
}

// The op's options, or their defaults when the model gave none.
template <typename T>
T options_of(const Op& op) {
  if (const T* p = std::get_if<T>(&op.options)) return *p;
  return T{};
}

bool dims_positive(const Shape& shape) {
  return std::all_of(shape.begin(), shape.end(), [](int32_t d) { return d > 0; });
}

// A float32 tensor XNNPACK can hold: dense, known positive dims, rank <= 6
// (rank `rank` when given).
bool is_f32(const Tensor& t, int rank = -1) {
  if (t.type != DType::kFloat32 || t.sparsity || !dims_positive(t.shape)) return false;
  if (t.rank() > XNN_MAX_TENSOR_DIMS) return false;
  return rank < 0 || t.rank() == rank;
}
// A value computed at run time (not a constant), rank >= 1.
bool is_activation(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && !t.is_constant && t.rank() >= 1;
}
bool is_static(const Tensor& t, int rank = -1) {
  return is_f32(t, rank) && t.is_constant && t.data != nullptr;
}

std::vector<size_t> dims_of(const Shape& shape) {
  std::vector<size_t> dims(shape.begin(), shape.end());
  if (dims.empty()) dims.push_back(1);  // scalars as [1]
  return dims;
}

// Values of a constant int32/int64 tensor; false when it is anything else.
bool constant_ints(const Tensor& t, std::vector<int64_t>& values) {
  if (!t.is_constant || t.data == nullptr || t.sparsity) return false;
  values.clear();
  const int64_t n = t.num_elements();
  if (t.type == DType::kInt32) {
    for (int64_t i = 0; i < n; ++i) values.push_back(t.data_as<int32_t>()[i]);
  } else if (t.type == DType::kInt64) {
    for (int64_t i = 0; i < n; ++i) values.push_back(t.data_as<int64_t>()[i]);
  } else {
    return false;
  }
  return true;
}

struct Range {
  float min = -kInf, max = kInf;
};

// The clamp a fused activation means; false for TANH and SIGN_BIT.
bool activation_range(Activation a, Range& r) {
  switch (a) {
    case Activation::kNone: r = {-kInf, kInf}; return true;
    case Activation::kRelu: r = {0.0f, kInf}; return true;
    case Activation::kReluN1To1: r = {-1.0f, 1.0f}; return true;
    case Activation::kRelu6: r = {0.0f, 6.0f}; return true;
    default: return false;
  }
}

// TFLite's output size and padding along one axis of a windowed op.
struct Window {
  int64_t out = 0;
  uint32_t before = 0, after = 0;
};

bool window(int64_t size, int64_t filter, int64_t stride, int64_t dilation, Padding padding, Window& w) {
  if (size <= 0 || filter <= 0 || stride <= 0 || dilation <= 0) return false;
  const int64_t effective = (filter - 1) * dilation + 1;
  if (padding == Padding::kSame) {
    w.out = (size + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((w.out - 1) * stride + effective - size, 0);
    w.before = static_cast<uint32_t>(total / 2);
    w.after = static_cast<uint32_t>(total - total / 2);
  } else {
    if (size < effective) return false;
    w.out = (size - effective + stride) / stride;
    w.before = w.after = 0;
  }
  return true;
}

// Padding and adjustment XNNPACK's deconvolution needs to give `out` rows from
// `size` with TFLite's transpose-convolution padding (which only fixes the
// padding before; whatever lies past `out` is cropped).
struct DeconvAxis {
  uint32_t before = 0, after = 0, adjustment = 0;
};

bool deconv_axis(int64_t size, int64_t filter, int64_t stride, int64_t out, Padding padding, DeconvAxis& a) {
  if (size <= 0 || filter <= 0 || stride <= 0 || out <= 0) return false;
  const int64_t forward =
      padding == Padding::kSame ? (out + stride - 1) / stride : (out + stride - filter) / stride;
  const int64_t total = std::max<int64_t>((forward - 1) * stride + filter - out, 0);
  const int64_t before = total / 2;
  const int64_t full = (size - 1) * stride + filter - before;  // rows from `before` on
  if (full >= out) {
    a = {static_cast<uint32_t>(before), static_cast<uint32_t>(full - out), 0};
    return true;
  }
  if (out - full >= stride) return false;  // XNNPACK's adjustment must stay below the stride
  a = {static_cast<uint32_t>(before), 0, static_cast<uint32_t>(out - full)};
  return true;
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

// ---------------------------------------------------------------------------
// Building one run's subgraph.

// Zero padding of height and width (a PAD folded into a convolution).
struct SpatialPad {
  int source = -1;  // the tensor before padding
  uint32_t top = 0, bottom = 0, left = 0, right = 0;
};

class Builder {
 public:
  Builder(const Graph& graph, xnn_subgraph_t subgraph, const std::map<int, uint32_t>& externals,
          const std::set<int>& external_outputs, std::set<int> foldable_pads,
          std::vector<std::vector<float>>& owned)
      : graph_(graph),
        sg_(subgraph),
        externals_(externals),
        external_outputs_(external_outputs),
        foldable_pads_(std::move(foldable_pads)),
        owned_(owned) {}

  xnn_subgraph_t subgraph() const { return sg_; }

  // A zero PAD of height and width whose only reader is the convolution after
  // it in this runtime becomes that convolution's padding: no node, no copy.
  bool fold_pad(int padded, const SpatialPad& pad) {
    if (!foldable_pads_.count(padded)) return false;
    folded_pads_[padded] = pad;
    return true;
  }
  // The convolution input's value and the padding a folded PAD adds to it.
  std::pair<uint32_t, SpatialPad> conv_input(int t) {
    auto folded = folded_pads_.find(t);
    if (folded == folded_pads_.end()) return {value(t), SpatialPad{}};
    return {value(folded->second.source), folded->second};
  }

  // The value of tensor `t`, declared with the tensor's shape on first use:
  // external (a run boundary), static (a constant) or internal.
  uint32_t value(int t) {
    auto found = values_.find(t);
    if (found != values_.end()) return found->second;
    const Tensor& tensor = tensor_at(graph_, t);
    const std::vector<size_t> dims = dims_of(tensor.shape);
    uint32_t id = XNN_INVALID_VALUE_ID;
    if (tensor.is_constant) {
      // XNNPACK reads static operands of elementwise ops while running, up to
      // XNN_EXTRA_BYTES past their end: the runtime gets its own padded copy.
      std::vector<float> copy(static_cast<size_t>(tensor.num_elements()) + XNN_EXTRA_BYTES / sizeof(float));
      std::memcpy(copy.data(), tensor.data, tensor.num_bytes());
      owned_.push_back(std::move(copy));
      id = define(dims, owned_.back().data(), XNN_INVALID_VALUE_ID, 0);
    } else if (auto ext = externals_.find(t); ext != externals_.end()) {
      const uint32_t flags =
          external_outputs_.count(t) ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : XNN_VALUE_FLAG_EXTERNAL_INPUT;
      id = define(dims, nullptr, ext->second, flags);
    } else {
      id = define(dims, nullptr, XNN_INVALID_VALUE_ID, 0);
    }
    values_[t] = id;
    return id;
  }

  // Filters and the like, which XNNPACK packs when the runtime is created.
  uint32_t weights(int t) {
    const Tensor& tensor = tensor_at(graph_, t);
    return static_value(tensor.data, dims_of(tensor.shape));
  }
  // A static value over `data` (which outlives the runtime) with the given dims.
  uint32_t static_value(const void* data, std::vector<size_t> dims) {
    return define(dims, data, XNN_INVALID_VALUE_ID, 0);
  }
  // A static value over a copy the run keeps.
  uint32_t owned_static(std::vector<float> data) {
    const size_t n = data.size();
    owned_.push_back(std::move(data));
    return static_value(owned_.back().data(), {n});
  }
  uint32_t internal(std::vector<size_t> dims) { return define(dims, nullptr, XNN_INVALID_VALUE_ID, 0); }
  // The bias value, or XNN_INVALID_VALUE_ID when the op has none.
  uint32_t optional_bias(const Op& op, size_t i) {
    if (!has(op, i)) return XNN_INVALID_VALUE_ID;
    const Tensor& bias = in(graph_, op, i);
    return static_value(bias.data, {static_cast<size_t>(bias.num_elements())});
  }

 private:
  uint32_t define(const std::vector<size_t>& dims, const void* data, uint32_t external_id, uint32_t flags) {
    uint32_t id = XNN_INVALID_VALUE_ID;
    check_xnn(xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(), data, external_id,
                                      flags, &id),
              "tensor definition");
    return id;
  }

  const Graph& graph_;
  xnn_subgraph_t sg_;
  const std::map<int, uint32_t>& externals_;
  const std::set<int>& external_outputs_;
  std::set<int> foldable_pads_;
  std::map<int, SpatialPad> folded_pads_;
  std::vector<std::vector<float>>& owned_;
  std::map<int, uint32_t> values_;
};

// Each lower_* checks that XNNPACK computes exactly what the op means and, when
// `b` is given, adds the op's nodes to the subgraph. It returns the reason the
// op cannot be delegated, or "" - so deciding and building never disagree.
using Reason = std::string;

Reason need_io(const Op& op, size_t min_inputs, size_t max_inputs, size_t outputs) {
  if (op.inputs.size() < min_inputs || op.inputs.size() > max_inputs) return "unexpected number of inputs";
  if (op.outputs.size() != outputs) return "unexpected number of outputs";
  for (size_t i = 0; i < min_inputs; ++i) {
    if (op.inputs[i] < 0) return "a required input is missing";
  }
  return "";
}

Reason check_bias(const Graph& g, const Op& op, size_t i, int64_t channels) {
  if (!has(op, i)) return "";
  const Tensor& bias = in(g, op, i);
  if (!is_static(bias)) return "bias is not a float32 constant";
  if (bias.num_elements() != channels) return "bias size differs from the output channels";
  return "";
}

Reason lower_conv(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
  if (!is_static(filter, 4)) return "filter is not a float32 4D constant";
  const auto opt = options_of<Conv2DOptions>(op);
  Range range;
  if (!activation_range(opt.activation, range)) return "unsupported fused activation";
  const int64_t cin = input.dim(3), group_cin = filter.dim(3), cout = filter.dim(0);
  if (cin % group_cin != 0) return "input channels not a multiple of the filter's";
  const int64_t groups = cin / group_cin;
  if (cout % groups != 0) return "output channels not a multiple of the groups";
  if (Reason r = check_bias(g, op, 2, cout); !r.empty()) return r;
  Window y, x;
  if (!window(input.dim(1), filter.dim(1), opt.stride_h, opt.dilation_h, opt.padding, y) ||
      !window(input.dim(2), filter.dim(2), opt.stride_w, opt.dilation_w, opt.padding, x)) {
    return "invalid window";
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out),
                            static_cast<int32_t>(cout)}) {
    return "output shape differs from the convolution's";
  }
  if (!b) return "";
  const auto [input_id, pad] = b->conv_input(op.inputs[0]);
  check_xnn(xnn_define_convolution_2d(
                b->subgraph(), y.before + pad.top, x.after + pad.right, y.after + pad.bottom,
                x.before + pad.left, static_cast<uint32_t>(filter.dim(1)),
                static_cast<uint32_t>(filter.dim(2)), static_cast<uint32_t>(opt.stride_h),
                static_cast<uint32_t>(opt.stride_w), static_cast<uint32_t>(opt.dilation_h),
                static_cast<uint32_t>(opt.dilation_w), static_cast<uint32_t>(groups),
                static_cast<size_t>(group_cin), static_cast<size_t>(cout / groups), range.min, range.max,
                input_id, b->weights(op.inputs[1]), b->optional_bias(op, 2), b->value(op.outputs[0]), 0),
            "convolution definition");
  return "";
}

Reason lower_depthwise(const Graph& g, const Op& op, Builder* b) {
  if (Reason r = need_io(op, 2, 3, 1); !r.empty()) return r;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return "input/output not float32 4D activations";
  if (!is_static(filter, 4) || filter.dim(0) != 1) return "filter is not a float32 [1,KH,KW,C] constant";
  const auto opt = options_of<DepthwiseConv2DOptions>(op);
  Range range;
  if (!activation_range(opt.activation, range)) return "unsupported fused activation";
  const int64_t cin = input.dim(3), cout = filter.dim(3);
  if (cout % cin != 0) return "filter channels not a multiple of the input's";
  if (Reason r = check_bias(g, op, 2, cout); !r.empty()) return r;
  Window y, x;
  if (!window(input.dim(1), filter.dim(1), opt.stride_h, opt.dilation_h, opt.padding, y) ||
      !window(input.dim(2), filter.dim(2), opt.stride_w, opt.dilation_w, opt.padding, x)) {
    return "invalid window";
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out),
                            static_cast<int32_t>(cout)}) {
    return "output shape differs from the convolution's";
  }
  if (!b) return "";
  const auto [input_id, pad] = b->conv_input(op.inputs[0]);
  check_xnn(
      xnn_define_depthwise_convolution_2d(
          b->subgraph(), y.before + pad.top, x.after + pad.right, y.after + pad.bottom, x.before + pad.left,
          static_cast<uint32_t>(filter.dim(1)), static_cast<uint32_t>(filter.dim(2)),
          static_cast<uint32_t>(opt.stride_h), static_cast<uint32_t>(opt.stride_w),
          static_cast<uint32_t>(opt.dilation_h), static_cast<uint32_t>(opt.dilation_w),
          static_cast<uint32_t>(cout / cin), static_cast<size_t>(cin), range.min, range.max, input_id,
          b->weights(op.inputs[1]), b->optional_bias(op, 2), b->value(op.outputs[0]), 0),
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
    if (op.custom_options.size() < 12) return "custom options too short";
    int32_t raw[3];
    std::memcpy(raw, op.custom_options.data(), sizeof(raw));  // little-endian, like every target
    if (raw[0] != 1 && raw[0] != 2) return "unknown padding";
    opt.padding = raw[0] == 1 ? Padding::kSame : Padding::kValid;
    opt.stride_w = raw[1];
    opt.stride_h = raw[2];
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
  DeconvAxis y, x;
  if (!deconv_axis(input.dim(1), weights.dim(1), opt.stride_h, output.dim(1), opt.padding, y) ||
      !deconv_axis(input.dim(2), weights.dim(2), opt.stride_w, output.dim(2), opt.padding, x)) {
    return "output size XNNPACK's deconvolution cannot give";
  }
  if (!b) return "";
  check_xnn(xnn_define_deconvolution_2d(
                b->subgraph(), y.before, x.after, y.after, x.before, y.adjustment, x.adjustment,
                static_cast<uint32_t>(weights.dim(1)), static_cast<uint32_t>(weights.dim(2)),
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
  Window y, x;
  if (!window(input.dim(1), opt.filter_h, opt.stride_h, 1, opt.padding, y) ||
      !window(input.dim(2), opt.filter_w, opt.stride_w, 1, opt.padding, x)) {
    return "invalid window";
  }
  if (output.shape !=
      Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out), input.dim(3)}) {
    return "output shape differs from the pooling's";
  }
  if (!b) return "";
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

Reason lower(const Graph& g, const Op& op, Builder* b) {
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
    if (op.custom_code == "Convolution2DTransposeBias") return lower_deconv(g, op, b, true);
    return "custom op";
  }
  if (op.code == kPadV2) return lower_pad(g, op, b);
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
    case OpCode::kPad: return lower_pad(g, op, b);
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

bool is_layout_only(const Op& op) {
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims: return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------
// Partitioning.

// Inputs of a delegated op that XNNPACK copies into its packed weights when
// the runtime is created and never reads again.
bool packed_input(const Op& op, size_t i) {
  if (op.code == static_cast<int32_t>(OpCode::kCustom))
    return i == 1 || i == 2;  // Convolution2DTransposeBias
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D:
    case OpCode::kDepthwiseConv2D:
    case OpCode::kFullyConnected: return i == 1 || i == 2;
    case OpCode::kTransposeConv: return i == 1 || i == 3;
    case OpCode::kPrelu: return i == 1;
    default: return false;
  }
}

// Whether XNNPACK's subgraph optimiser folds `a` into `b` (or `b` into `a`)
// when both are in one runtime: a zero PAD of H/W into the convolution after
// it, a clamp into the op before it.
bool fused_by_xnnpack(const Op& a, const Op& b) {
  if (a.outputs.empty() || b.inputs.empty() || b.inputs[0] != a.outputs[0]) return false;
  if (a.code == static_cast<int32_t>(OpCode::kPad)) {
    return b.code == static_cast<int32_t>(OpCode::kConv2D) ||
           b.code == static_cast<int32_t>(OpCode::kDepthwiseConv2D);
  }
  switch (static_cast<OpCode>(b.code)) {
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1: return true;
    default: return false;
  }
}

// The DepthwiseShape of a (delegable) DEPTHWISE_CONV_2D osprey's own kernel
// runs (3x3 or 5x5, stride 1 or 2, multiplier 1, no dilation), reading from a
// tensor padded by `pad` first; false for the others.
bool own_depthwise(const Graph& g, const Op& op, const SpatialPad& pad, DepthwiseShape& shape) {
  if (op.code != static_cast<int32_t>(OpCode::kDepthwiseConv2D)) return false;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const auto opt = options_of<DepthwiseConv2DOptions>(op);
  const int k = filter.dim(1);
  if (filter.dim(2) != k || filter.dim(3) != input.dim(3) || opt.stride_h != opt.stride_w) return false;
  if (opt.dilation_h != 1 || opt.dilation_w != 1 || !depthwise_conv_supported(k, opt.stride_h)) return false;
  Window y, x;
  Range range;
  if (!window(input.dim(1), k, opt.stride_h, 1, opt.padding, y) ||
      !window(input.dim(2), k, opt.stride_w, 1, opt.padding, x) || !activation_range(opt.activation, range)) {
    return false;
  }
  shape = {k, opt.stride_h, input.dim(3), y.before + pad.top, x.before + pad.left, range.min, range.max};
  return true;
}

// Whether a (delegable) CONV_2D is a 1x1, stride-1, ungrouped convolution
// whose weights are at least `min_zeros` zeros: osprey's sparse kernel is
// faster there than XNNPACK's dense GEMM.
bool use_sparse_conv(const Graph& g, const Op& op, double min_zeros) {
  if (op.code != static_cast<int32_t>(OpCode::kConv2D) || !sparse_conv_supported()) return false;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const auto opt = options_of<Conv2DOptions>(op);
  if (filter.dim(1) != 1 || filter.dim(2) != 1 || opt.stride_h != 1 || opt.stride_w != 1) return false;
  if (filter.dim(3) != input.dim(3) || filter.dim(0) > 4096 || filter.dim(3) > 4096) return false;
  return zero_fraction(filter.data_as<float>(), static_cast<size_t>(filter.num_elements())) >= min_zeros;
}

// "XNNPACK(CONV_2D #12)", "XNNPACK(PAD #11 + CONV_2D #12)", "XNNPACK(40 ops)".
std::string run_name(const std::vector<const Op*>& ops, int first, int last) {
  if (last - first + 1 > 2) return fmt::format("XNNPACK({} ops)", last - first + 1);
  std::string name = "XNNPACK(";
  for (int s = first; s <= last; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    name += fmt::format("{}{} #{}", s > first ? " + " : "", op.name(), op.index);
  }
  return name + ")";
}

size_t stored_bytes(const Tensor& t) {
  return t.sparsity ? t.sparsity->value_bytes : t.num_bytes();
}

// Gives the pages of a dead constant back to the system. Its bytes (file
// mapping or folded buffer) are never read again; `data` becomes null so a
// reader that should not exist fails loudly instead of reading zeros.
void release_pages(Tensor& t) {
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(t.data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + stored_bytes(t)) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  t.data = nullptr;
}

// ---------------------------------------------------------------------------
// The kernel standing for one run.

struct RuntimeDeleter {
  void operator()(xnn_runtime* r) const { xnn_delete_runtime(r); }
};

class XnnpackRunKernel final : public Kernel {
 public:
  XnnpackRunKernel(std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime, std::shared_ptr<pthreadpool> pool,
                   std::vector<std::vector<float>> owned, size_t num_inputs, size_t num_outputs)
      : runtime_(std::move(runtime)),
        pool_(std::move(pool)),
        owned_(std::move(owned)),
        num_inputs_(num_inputs),
        externals_(num_inputs + num_outputs),
        sources_(num_inputs + num_outputs, nullptr),
        staging_(num_inputs) {
    for (size_t i = 0; i < externals_.size(); ++i) externals_[i] = {static_cast<uint32_t>(i), nullptr};
  }

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(static_cast<size_t>(ctx.num_inputs()) == num_inputs_ &&
                     static_cast<size_t>(ctx.num_inputs() + ctx.num_outputs()) == externals_.size(),
                 "XNNPACK run has {} boundary tensors, the op {}", externals_.size(),
                 ctx.num_inputs() + ctx.num_outputs());
  }

  void eval(KernelContext& ctx) override {
    // Arena pointers are fixed once memory is planned: bind them on the first
    // run, and again only if one moved.
    bool changed = !bound_;
    for (size_t i = 0; i < externals_.size(); ++i) {
      Tensor& t =
          i < num_inputs_ ? ctx.input(static_cast<int>(i)) : ctx.output(static_cast<int>(i - num_inputs_));
      if (sources_[i] == t.data) continue;
      sources_[i] = t.data;
      externals_[i].data = t.data;
      changed = true;
      if (i < num_inputs_) {
        // XNNPACK may read XNN_EXTRA_BYTES past an input. Where that would
        // leave mapped memory (an input ending the arena on a page boundary),
        // the input is staged in a padded copy instead.
        staging_[i].clear();
        if (!readable_past(t.data, t.num_bytes())) {
          staging_[i].resize(t.num_bytes() + XNN_EXTRA_BYTES);
          externals_[i].data = staging_[i].data();
        }
      }
    }
    for (size_t i = 0; i < num_inputs_; ++i) {
      if (!staging_[i].empty())
        std::memcpy(staging_[i].data(), sources_[i], staging_[i].size() - XNN_EXTRA_BYTES);
    }
    if (changed) {
      check_xnn(xnn_setup_runtime(runtime_.get(), externals_.size(), externals_.data()), "runtime setup");
      bound_ = true;
    }
    check_xnn(xnn_invoke_runtime(runtime_.get()), "inference");
  }

 private:
  // Whether the XNN_EXTRA_BYTES after [data, data + size) are mapped.
  static bool readable_past(const uint8_t* data, size_t size) {
    static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto last_used = reinterpret_cast<uintptr_t>(data) + size - 1;
    const uintptr_t last_read = last_used + XNN_EXTRA_BYTES;
    if (size == 0 || last_read / page == last_used / page) return true;
    unsigned char resident = 0;
    return mincore(reinterpret_cast<void*>(last_read / page * page), 1, &resident) == 0;
  }

  std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime_;
  std::shared_ptr<pthreadpool> pool_;      // kept alive for the runtime
  std::vector<std::vector<float>> owned_;  // static data made for the runtime
  size_t num_inputs_ = 0;
  std::vector<xnn_external_value> externals_;  // inputs then outputs, ids 0..n-1
  std::vector<void*> sources_;                 // the tensors' data when bound
  std::vector<std::vector<uint8_t>> staging_;  // padded copies of inputs, where needed
  bool bound_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------

XnnpackDelegate::XnnpackDelegate(const XnnpackOptions& options) {
  OSPREY_CHECK(options.threads >= 0, "--threads {} must not be negative", options.threads);
  initialize_xnnpack();
  threads_ = resolve_threads(options.threads);
  sparse_ = options.sparse_inference;
  release_weights_ = options.release_weights;
  pack_chunk_bytes_ = options.pack_chunk_bytes;
  max_ops_per_runtime_ = options.max_ops_per_runtime;
  sparse_min_zeros_ = options.sparse_min_zeros;
  own_depthwise_ = options.own_depthwise;
  if (threads_ > 1) {
    pthreadpool* pool = pthreadpool_create(static_cast<size_t>(threads_));
    if (!pool) fail("cannot create a pool of {} threads", threads_);
    pool_ = std::shared_ptr<pthreadpool>(pool, [](pthreadpool* p) { pthreadpool_destroy(p); });
  }
}

XnnpackDelegate::~XnnpackDelegate() = default;

std::string XnnpackDelegate::unsupported_reason(const Graph& graph, const Op& op) {
  return lower(graph, op, nullptr);
}

std::vector<DelegatedRun> XnnpackDelegate::partition(Graph& graph, const std::vector<const Op*>& ops) {
  const int n = static_cast<int>(ops.size());
  // Who runs each step: the reference kernels, XNNPACK, or osprey's own
  // sparse 1x1 convolution or depthwise convolution.
  enum class Kind { kReference, kXnnpack, kSparse, kDepthwise };
  std::vector<Kind> kind(ops.size(), Kind::kReference);
  std::vector<bool> supported(ops.size());
  for (int s = 0; s < n; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    DepthwiseShape unused;
    supported[static_cast<size_t>(s)] = lower(graph, op, nullptr).empty();
    if (!supported[static_cast<size_t>(s)]) continue;
    if (sparse_min_zeros_ > 0 && use_sparse_conv(graph, op, sparse_min_zeros_)) {
      kind[static_cast<size_t>(s)] = Kind::kSparse;
    } else if (own_depthwise_ && own_depthwise(graph, op, SpatialPad{}, unused)) {
      kind[static_cast<size_t>(s)] = Kind::kDepthwise;
    } else {
      kind[static_cast<size_t>(s)] = Kind::kXnnpack;
    }
  }

  // Last step reading each tensor (n for model outputs).
  std::vector<int> last_read(graph.tensors.size(), -1);
  for (int s = 0; s < n; ++s) {
    for (int t : ops[static_cast<size_t>(s)]->inputs) {
      if (t >= 0) last_read[static_cast<size_t>(t)] = s;
    }
  }
  for (int t : graph.outputs) last_read[static_cast<size_t>(t)] = n;

  // Zero PADs of height and width that only the depthwise convolution after
  // them reads become part of its padding.
  std::vector<SpatialPad> folded(ops.size());
  for (int s = 0; s + 1 < n; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    const Op& next = *ops[static_cast<size_t>(s + 1)];
    SpatialPad pad;
    DepthwiseShape unused;
    if (kind[static_cast<size_t>(s)] != Kind::kXnnpack ||
        kind[static_cast<size_t>(s + 1)] != Kind::kDepthwise ||
        (op.code != static_cast<int32_t>(OpCode::kPad) && op.code != kPadV2) ||
        !lower_pad(graph, op, nullptr, &pad).empty() || pad.source < 0 || next.inputs[0] != op.outputs[0] ||
        last_read[static_cast<size_t>(op.outputs[0])] != s + 1 || !own_depthwise(graph, next, pad, unused)) {
      continue;
    }
    kind[static_cast<size_t>(s)] = Kind::kDepthwise;  // runs with the convolution
    folded[static_cast<size_t>(s + 1)] = pad;
  }

  // Which constants stay needed after loading: those the reference kernels
  // read while running. XNNPACK packs or copies the ones it needs, so they
  // can go once the last runtime reading them is built (`packed_by`).
  std::vector<bool> keep(graph.tensors.size(), false);
  std::vector<int> packed_by(graph.tensors.size(), -1);
  for (int t : graph.outputs) keep[static_cast<size_t>(t)] = true;
  for (int s = 0; s < n; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const int t = op.inputs[i];
      if (t < 0 || !graph.tensors[static_cast<size_t>(t)].is_constant) continue;
      if (!supported[static_cast<size_t>(s)]) {
        keep[static_cast<size_t>(t)] = true;
      } else {
        packed_by[static_cast<size_t>(t)] = s;  // read while building its runtime
      }
    }
  }
  std::vector<std::pair<uintptr_t, uintptr_t>> kept_ranges;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const Tensor& tensor = graph.tensors[t];
    if (!tensor.is_constant || !tensor.data || !keep[t]) continue;
    const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
    kept_ranges.emplace_back(begin, begin + stored_bytes(tensor));
  }
  // Releases every unkept constant no step after `step` packs.
  auto release_done = [&](int step) {
    if (!release_weights_) return;
    for (size_t t = 0; t < graph.tensors.size(); ++t) {
      Tensor& tensor = graph.tensors[t];
      if (!tensor.is_constant || !tensor.data || keep[t] || packed_by[t] > step) continue;
      const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
      const uintptr_t end = begin + stored_bytes(tensor);
      // Constants may share bytes (deduplicated buffers): spare those still needed.
      const bool shared = std::any_of(kept_ranges.begin(), kept_ranges.end(),
                                      [&](const auto& r) { return r.first < end && begin < r.second; });
      if (!shared) release_pages(tensor);
    }
  };
  // Constants only load-time folding read (fp16 or sparse weights) are dead already.
  release_done(-1);

  std::vector<DelegatedRun> runs;
  for (int first = 0; first < n;) {
    if (kind[static_cast<size_t>(first)] == Kind::kReference) {
      ++first;
      continue;
    }
    // A RELU, RELU6 or RELU_N1_TO_1 that alone reads what step `last` writes
    // becomes part of its clamp: the run grows by one step.
    auto absorb_clamp = [&](int& last, Range& range, std::string& name) {
      if (last + 1 >= n || kind[static_cast<size_t>(last + 1)] != Kind::kXnnpack) return;
      const Op& op = *ops[static_cast<size_t>(last)];
      const Op& next = *ops[static_cast<size_t>(last + 1)];
      Range clamp;
      switch (static_cast<OpCode>(next.code)) {
        case OpCode::kRelu: clamp = {0.0f, kInf}; break;
        case OpCode::kRelu6: clamp = {0.0f, 6.0f}; break;
        case OpCode::kReluN1To1: clamp = {-1.0f, 1.0f}; break;
        default: return;
      }
      if (next.inputs[0] != op.outputs[0] || last_read[static_cast<size_t>(op.outputs[0])] != last + 1)
        return;
      range = {std::max(range.min, clamp.min), std::min(range.max, clamp.max)};
      name += fmt::format(" + {} #{}", next.name(), next.index);
      ++last;
    };
    if (kind[static_cast<size_t>(first)] == Kind::kDepthwise) {
      // A depthwise convolution, or a PAD and the depthwise convolution it feeds.
      const bool with_pad =
          ops[static_cast<size_t>(first)]->code != static_cast<int32_t>(OpCode::kDepthwiseConv2D);
      const int last = with_pad ? first + 1 : first;
      const Op& op = *ops[static_cast<size_t>(last)];
      const SpatialPad& pad = folded[static_cast<size_t>(last)];
      DepthwiseShape shape;
      own_depthwise(graph, op, pad, shape);
      const float* bias =
          has(op, 2) ? graph.tensors[static_cast<size_t>(op.inputs[2])].data_as<float>() : nullptr;
      std::string name = with_pad ? fmt::format("{} #{} + {} #{}", ops[static_cast<size_t>(first)]->name(),
                                                ops[static_cast<size_t>(first)]->index, op.name(), op.index)
                                  : fmt::format("{} #{}", op.name(), op.index);
      int end = last;
      Range range{shape.min, shape.max};
      absorb_clamp(end, range, name);
      shape.min = range.min;
      shape.max = range.max;
      DelegatedRun run;
      run.first_step = first;
      run.last_step = end;
      run.inputs = {with_pad ? pad.source : op.inputs[0]};
      run.outputs = {ops[static_cast<size_t>(end)]->outputs[0]};
      run.name = "OSPREY(" + name + ")";
      run.kernel = make_depthwise_conv(
          shape, graph.tensors[static_cast<size_t>(op.inputs[1])].data_as<float>(), bias, pool_);
      runs.push_back(std::move(run));
      release_done(end);
      first = end + 1;
      continue;
    }
    if (kind[static_cast<size_t>(first)] == Kind::kSparse) {
      const Op& op = *ops[static_cast<size_t>(first)];
      const Tensor& filter = graph.tensors[static_cast<size_t>(op.inputs[1])];
      const float* bias =
          has(op, 2) ? graph.tensors[static_cast<size_t>(op.inputs[2])].data_as<float>() : nullptr;
      Range range;
      activation_range(options_of<Conv2DOptions>(op).activation, range);
      std::string name = fmt::format("{} #{}", op.name(), op.index);
      int end = first;
      absorb_clamp(end, range, name);
      DelegatedRun run;
      run.first_step = first;
      run.last_step = end;
      run.inputs = {op.inputs[0]};
      run.outputs = {ops[static_cast<size_t>(end)]->outputs[0]};
      run.name = "OSPREY-SPARSE(" + name + ")";
      run.kernel = make_sparse_conv(filter.data_as<float>(), bias, filter.dim(0), filter.dim(3), range.min,
                                    range.max, pool_);
      runs.push_back(std::move(run));
      release_done(end);
      first = end + 1;
      continue;
    }
    // Where the runtime ends: at the end of the run; before max_ops_per_runtime_
    // ops (except where XNNPACK fuses the next op into this one); once the
    // weights it packs pass pack_chunk_bytes_, so the unpacked copies can go
    // before the next runtime packs its own.
    int last = first;
    size_t packed = 0;
    for (;; ++last) {
      const Op& op = *ops[static_cast<size_t>(last)];
      for (size_t i = 0; i < op.inputs.size(); ++i) {
        if (op.inputs[i] >= 0 && packed_input(op, i)) {
          packed += graph.tensors[static_cast<size_t>(op.inputs[i])].num_bytes();
        }
      }
      if (last + 1 >= n || kind[static_cast<size_t>(last + 1)] != Kind::kXnnpack) break;
      if (pack_chunk_bytes_ > 0 && packed >= pack_chunk_bytes_) break;
      if (max_ops_per_runtime_ > 0 && last - first + 1 >= max_ops_per_runtime_ &&
          !fused_by_xnnpack(op, *ops[static_cast<size_t>(last + 1)])) {
        break;
      }
    }
    const int begin = first;
    first = last + 1;

    // Boundary tensors: read from before the run, or read after it.
    std::set<int> produced, seen_inputs;
    DelegatedRun run;
    run.first_step = begin;
    run.last_step = last;
    bool computes = false;
    for (int s = begin; s <= last; ++s) {
      const Op& op = *ops[static_cast<size_t>(s)];
      computes = computes || !is_layout_only(op);
      for (int t : op.inputs) {
        if (t < 0 || graph.tensors[static_cast<size_t>(t)].is_constant || produced.count(t)) continue;
        if (seen_inputs.insert(t).second) run.inputs.push_back(t);
      }
      for (int t : op.outputs) {
        produced.insert(t);
        if (last_read[static_cast<size_t>(t)] > last) run.outputs.push_back(t);
      }
    }
    // A run of reshapes alone is no faster on XNNPACK; a run whose results
    // nobody reads has nothing to hand back.
    if (!computes || run.outputs.empty()) {
      for (int s = begin; s <= last; ++s) {
        const Op& op = *ops[static_cast<size_t>(s)];
        for (int t : op.inputs) {
          if (t >= 0) keep[static_cast<size_t>(t)] = true;
        }
      }
      continue;
    }

    std::map<int, uint32_t> externals;
    std::set<int> external_outputs(run.outputs.begin(), run.outputs.end());
    for (int t : run.inputs) externals.emplace(t, static_cast<uint32_t>(externals.size()));
    for (int t : run.outputs) externals.emplace(t, static_cast<uint32_t>(externals.size()));

    xnn_subgraph_t sg = nullptr;
    check_xnn(xnn_create_subgraph(static_cast<uint32_t>(externals.size()), 0, &sg), "subgraph creation");
    std::unique_ptr<xnn_subgraph, xnn_status (*)(xnn_subgraph_t)> subgraph(sg, xnn_delete_subgraph);
    // PADs whose output only the next op, a convolution, reads.
    std::set<int> foldable_pads;
    for (int s = begin; s < last; ++s) {
      const Op& op = *ops[static_cast<size_t>(s)];
      const Op& next = *ops[static_cast<size_t>(s + 1)];
      if (op.code != static_cast<int32_t>(OpCode::kPad) || op.outputs.size() != 1) continue;
      const int t = op.outputs[0];
      if ((next.code == static_cast<int32_t>(OpCode::kConv2D) ||
           next.code == static_cast<int32_t>(OpCode::kDepthwiseConv2D)) &&
          !next.inputs.empty() && next.inputs[0] == t && last_read[static_cast<size_t>(t)] == s + 1 &&
          std::count(next.inputs.begin(), next.inputs.end(), t) == 1) {
        foldable_pads.insert(t);
      }
    }
    std::vector<std::vector<float>> owned;
    Builder builder(graph, sg, externals, external_outputs, std::move(foldable_pads), owned);
    for (int s = begin; s <= last; ++s) {
      const Op& op = *ops[static_cast<size_t>(s)];
      try {
        const Reason r = lower(graph, op, &builder);
        if (!r.empty()) fail("{}", r);
      } catch (const Error& e) {
        fail("op #{} {}: {}", op.index, op.name(), e.what());
      }
    }
    xnn_runtime_t rt = nullptr;
    const uint32_t flags = sparse_ ? XNN_FLAG_HINT_SPARSE_INFERENCE : 0;
    check_xnn(xnn_create_runtime_v2(sg, pool_.get(), flags, &rt), "runtime creation");
    std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime(rt);
    subgraph.reset();
    release_done(last);

    run.name = run_name(ops, begin, last);
    run.kernel = std::make_unique<XnnpackRunKernel>(std::move(runtime), pool_, std::move(owned),
                                                    run.inputs.size(), run.outputs.size());
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace osprey
