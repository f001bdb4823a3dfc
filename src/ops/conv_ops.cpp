// Convolutions, fully connected and pooling.
#include <algorithm>

#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/conv.cpp
extern const KernelFactory conv2d_kernel, depthwise_conv2d_kernel, transpose_conv_kernel,
    transpose_conv_bias_kernel, fully_connected_kernel, average_pool_kernel, max_pool_kernel;
extern const KernelFactory batch_matmul_kernel;  // src/kernels/ref/batch_matmul.cpp
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/conv.cpp, pool.cpp
extern const KernelFactory conv2d_kernel, depthwise_conv2d_kernel, transpose_conv_kernel,
    fully_connected_kernel, average_pool_kernel, max_pool_kernel;
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

// The fields every windowed op's options table has (dilations where it has them).
template <typename Options, typename Table>
void read_window(Options& o, const Table& p) {
  o.padding = padding(p.padding());
  o.stride_w = p.stride_w();
  o.stride_h = p.stride_h();
  o.activation = activation(p.fused_activation_function());
  if constexpr (requires { p.dilation_w_factor(); }) {
    o.dilation_w = p.dilation_w_factor();
    o.dilation_h = p.dilation_h_factor();
  }
}

OpOptions parse_conv(const RawOptions& raw) {
  Conv2DOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_Conv2DOptions() : nullptr) read_window(o, *p);
  return o;
}

WrittenOptions write_conv(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<Conv2DOptions>(op);
  return {tfl::BuiltinOptions::Conv2DOptions,
          tfl::CreateConv2DOptions(b, padding(o.padding), o.stride_w, o.stride_h, activation(o.activation),
                                   o.dilation_w, o.dilation_h)
              .Union()};
}

OpOptions parse_depthwise(const RawOptions& raw) {
  DepthwiseConv2DOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_DepthwiseConv2DOptions() : nullptr) {
    read_window(o, *p);
    o.depth_multiplier = p->depth_multiplier();
  }
  return o;
}

WrittenOptions write_depthwise(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<DepthwiseConv2DOptions>(op);
  return {tfl::BuiltinOptions::DepthwiseConv2DOptions,
          tfl::CreateDepthwiseConv2DOptions(b, padding(o.padding), o.stride_w, o.stride_h, o.depth_multiplier,
                                            activation(o.activation), o.dilation_w, o.dilation_h)
              .Union()};
}

OpOptions parse_transpose_conv(const RawOptions& raw) {
  TransposeConvOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_TransposeConvOptions() : nullptr)
    read_window(o, *p);
  return o;
}

WrittenOptions write_transpose_conv(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<TransposeConvOptions>(op);
  return {
      tfl::BuiltinOptions::TransposeConvOptions,
      tfl::CreateTransposeConvOptions(b, padding(o.padding), o.stride_w, o.stride_h, activation(o.activation))
          .Union()};
}

// MediaPipe's params struct: int32 padding (1 SAME, 2 VALID), stride_w, stride_h;
// newer versions append fields, which are ignored.
OpOptions parse_transpose_conv_bias(const RawOptions& raw) {
  OSPREY_CHECK(raw.custom.size() >= 12,
               "custom options have {} bytes, expected at least 12 (padding, strides)", raw.custom.size());
  int32_t v[3];
  for (size_t i = 0; i < 3; ++i) {  // little-endian, whatever the host
    const uint8_t* p = raw.custom.data() + 4 * i;
    v[i] = static_cast<int32_t>(uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                                uint32_t{p[3]} << 24);
  }
  OSPREY_CHECK(v[0] == 1 || v[0] == 2, "custom option padding {} is neither SAME (1) nor VALID (2)", v[0]);
  return TransposeConvOptions{v[0] == 1 ? Padding::kSame : Padding::kValid, v[1], v[2], Activation::kNone};
}

OpOptions parse_pool(const RawOptions& raw) {
  Pool2DOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_Pool2DOptions() : nullptr) {
    read_window(o, *p);
    o.filter_w = p->filter_width();
    o.filter_h = p->filter_height();
  }
  return o;
}

WrittenOptions write_pool(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<Pool2DOptions>(op);
  return {tfl::BuiltinOptions::Pool2DOptions,
          tfl::CreatePool2DOptions(b, padding(o.padding), o.stride_w, o.stride_h, o.filter_w, o.filter_h,
                                   activation(o.activation))
              .Union()};
}

OpOptions parse_fully_connected(const RawOptions& raw) {
  FullyConnectedOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_FullyConnectedOptions() : nullptr) {
    OSPREY_CHECK(p->weights_format() == tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
                 "shuffled weights format is not supported");
    o.activation = activation(p->fused_activation_function());
    o.keep_num_dims = p->keep_num_dims();
  }
  return o;
}

OpOptions parse_batch_matmul(const RawOptions& raw) {
  BatchMatMulOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_BatchMatMulOptions() : nullptr) {
    o.adj_x = p->adj_x();
    o.adj_y = p->adj_y();
  }
  return o;
}

WrittenOptions write_batch_matmul(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<BatchMatMulOptions>(op);
  return {tfl::BuiltinOptions::BatchMatMulOptions,
          tfl::CreateBatchMatMulOptions(b, o.adj_x, o.adj_y).Union()};
}

// Two activations multiplied: M x K x N per batch.
int64_t macs_batch_matmul(const Graph& g, const Op& op) {
  const Tensor& a = tensor(g, op.inputs[0]);
  const Tensor& out = tensor(g, op.outputs[0]);
  if (a.rank() < 2) return 0;
  const bool adj_x =
      std::get_if<BatchMatMulOptions>(&op.options) && std::get<BatchMatMulOptions>(op.options).adj_x;
  return out.num_elements() * a.dim(a.rank() - (adj_x ? 2 : 1));
}

WrittenOptions write_fully_connected(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<FullyConnectedOptions>(op);
  return {tfl::BuiltinOptions::FullyConnectedOptions,
          tfl::CreateFullyConnectedOptions(b, activation(o.activation),
                                           tfl::FullyConnectedOptionsWeightsFormat::DEFAULT, o.keep_num_dims)
              .Union()};
}

// MACs: output elements times the filter taps that feed each.
int64_t macs_conv(const Graph& g, const Op& op) {
  if (!has_input(op, 1)) return 0;
  const Tensor& w = tensor(g, op.inputs[1]);  // [Cout, KH, KW, Cin/groups]
  if (w.rank() != 4) return 0;
  return tensor(g, op.outputs[0]).num_elements() * w.dim(1) * w.dim(2) * w.dim(3);
}
int64_t macs_depthwise(const Graph& g, const Op& op) {
  if (!has_input(op, 1)) return 0;
  const Tensor& w = tensor(g, op.inputs[1]);  // [1, KH, KW, C]
  if (w.rank() != 4) return 0;
  return tensor(g, op.outputs[0]).num_elements() * w.dim(1) * w.dim(2);
}
int64_t macs_fully_connected(const Graph& g, const Op& op) {
  if (!has_input(op, 1)) return 0;
  const Tensor& w = tensor(g, op.inputs[1]);  // [N, K]
  if (w.rank() != 2) return 0;
  return tensor(g, op.outputs[0]).num_elements() * w.dim(1);
}
// Transposed convs scatter each input element over a Cout x KH x KW window.
int64_t transpose_macs(const Graph& g, int input, int weights) {
  const Tensor& w = tensor(g, weights);  // [Cout, KH, KW, Cin]
  if (w.rank() != 4) return 0;
  return tensor(g, input).num_elements() * w.dim(0) * w.dim(1) * w.dim(2);
}
int64_t macs_transpose_conv(const Graph& g, const Op& op) {
  return has_input(op, 2) ? transpose_macs(g, op.inputs[2], op.inputs[1]) : 0;
}
int64_t macs_transpose_conv_bias(const Graph& g, const Op& op) {
  return has_input(op, 1) ? transpose_macs(g, op.inputs[0], op.inputs[1]) : 0;
}

int version_conv(const Graph& g, const Op& op) {
  return is_int8(g, op) ? 3 : 1;
}
int version_fully_connected(const Graph& g, const Op& op) {
  if (!is_int8(g, op)) return 1;
  const auto* o = std::get_if<FullyConnectedOptions>(&op.options);
  return o && o->keep_num_dims ? 5 : 4;
}
int version_transpose_conv(const Graph& g, const Op& op) {
  int v = is_int8(g, op) ? 2 : 1;
  if (op.inputs.size() > 3 && op.inputs[3] >= 0) v = 3;
  const auto* o = std::get_if<TransposeConvOptions>(&op.options);
  if (o && o->activation != Activation::kNone) v = 4;
  return v;
}

QuantRule conv_like(std::vector<InputRole> roles, int weight_axis) {
  QuantRule q = own_params(std::move(roles));
  q.weight_axis = weight_axis;
  return q;
}

// Pools read their window, clipped to the input, once per output element:
// overlapping windows (a stride below the window) read more than the input,
// and a window as large as the input reads all of it for each output.
int64_t macs_pool(const Graph& g, const Op& op) {
  const auto* o = std::get_if<Pool2DOptions>(&op.options);
  if (!o || !has_input(op, 0)) return 0;
  const Tensor& input = tensor(g, op.inputs[0]);
  if (input.rank() != 4) return 0;
  const int64_t rows = std::clamp<int64_t>(o->filter_h, 1, std::max(input.dim(1), 1));
  const int64_t columns = std::clamp<int64_t>(o->filter_w, 1, std::max(input.dim(2), 1));
  const int64_t outputs = std::max<int64_t>(tensor(g, op.outputs[0]).num_elements(), 0);
  // No overflow: saturate at int64's end for a hostile model's sizes.
  const long double reads = static_cast<long double>(outputs) * rows * columns;
  return reads < 0x1p62L ? static_cast<int64_t>(reads) : int64_t{1} << 62;
}

// Pools keep their input's parameters.
OpDef pool_op(OpCode code, std::string_view name, KernelFactory float_kernel, KernelFactory integer_kernel) {
  return builtin_op(code, name, {parse_pool, write_pool}, {float_kernel, integer_kernel}, same_params(),
                    macs_pool, version_2_for_int8);
}

}  // namespace

// Built on first use: the table holds vectors, so it is not constant-initialised.
std::span<const OpDef> conv_ops() {
  using enum OpCode;
  namespace q = ref::quantized;
  static const OpDef defs[] = {
      builtin_op(kConv2D, "CONV_2D", {parse_conv, write_conv}, {ref::conv2d_kernel, q::conv2d_kernel},
                 conv_like({R::kData, R::kWeights, R::kBias}, 0), macs_conv, version_conv),
      builtin_op(kDepthwiseConv2D, "DEPTHWISE_CONV_2D", {parse_depthwise, write_depthwise},
                 {ref::depthwise_conv2d_kernel, q::depthwise_conv2d_kernel},
                 conv_like({R::kData, R::kWeights, R::kBias}, 3), macs_depthwise, version_conv),
      builtin_op(kTransposeConv, "TRANSPOSE_CONV", {parse_transpose_conv, write_transpose_conv},
                 {ref::transpose_conv_kernel, q::transpose_conv_kernel},
                 conv_like({R::kInt, R::kWeights, R::kData, R::kBias}, 0), macs_transpose_conv,
                 version_transpose_conv),
      // The quantizer rewrites it as TRANSPOSE_CONV; the writer keeps its custom bytes.
      {.code = static_cast<int32_t>(kCustom),
       .custom_name = "Convolution2DTransposeBias",
       .name = "Convolution2DTransposeBias",
       .parse = parse_transpose_conv_bias,
       .float_kernel = ref::transpose_conv_bias_kernel,
       .macs = macs_transpose_conv_bias},
      builtin_op(kFullyConnected, "FULLY_CONNECTED", {parse_fully_connected, write_fully_connected},
                 {ref::fully_connected_kernel, q::fully_connected_kernel},
                 conv_like({R::kData, R::kWeights, R::kBias}, -1), macs_fully_connected,
                 version_fully_connected),
      // Float only: the quantizer keeps it float.
      builtin_op(kBatchMatMul, "BATCH_MATMUL", {parse_batch_matmul, write_batch_matmul},
                 {ref::batch_matmul_kernel}, {}, macs_batch_matmul),
      pool_op(kAveragePool2D, "AVERAGE_POOL_2D", ref::average_pool_kernel, q::average_pool_kernel),
      pool_op(kMaxPool2D, "MAX_POOL_2D", ref::max_pool_kernel, q::max_pool_kernel),
  };
  return defs;
}

}  // namespace osprey::ops
